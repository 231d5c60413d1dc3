"""Diagnostic accuracy: ROC AUC with CIs, DeLong's test, thresholds and metrics.

Public names are re-exported by :mod:`radnb.evaluate`, which documents the step.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from radnb._utils.errors import user_stacklevel
from radnb._utils.i18n import tr
import radnb._utils.roc as roc_core
import radnb.evaluate._roc as _roc
from radnb._utils.intervals import ci_cell, ci_column, resolve_confidence
from radnb._utils.validation import check_binary, check_option



def _check_scores(y_true, *scores):
    y = check_binary("y_true", y_true)
    if y.min() == y.max():
        raise ValueError("y_true has only one class; an AUC needs both events (1) and "
                         "non-events (0).")
    out = []
    for s in scores:
        s = np.asarray(s, dtype=float)
        if s.shape != y.shape:
            raise ValueError(f"scores must have one value per case ({y.size}); got {s.shape}.")
        if np.isnan(s).any():
            raise ValueError("scores contain missing values; drop those cases first.")
        out.append(s)
    return y, out


def roc_auc_ci(y_true, y_score, method="delong", alpha=None, n_boot=2000, seed=0, *,
               confidence=0.95):
    """Area under the ROC curve with a confidence interval.

    Higher scores are taken to mean "more likely positive" (no automatic
    direction flip: an AUC below 0.5 means the score runs the other way).

    Parameters
    ----------
    y_true : array-like of 0/1
    y_score : array-like of float
    method : {"delong", "bootstrap"}
        DeLong variance with a normal interval (as R's pROC), or the percentile
        interval of a stratified bootstrap.
    alpha : float, optional
        Deprecated: use ``confidence`` (= 1 - alpha).
    n_boot, seed : int
        Bootstrap replicates and random seed (``method="bootstrap"`` only).
    confidence : float, default 0.95
        Level of the interval.

    Returns
    -------
    pandas.DataFrame
        One row: ``AUC``, ``SE`` (DeLong; the bootstrap SD for
        ``method="bootstrap"``), ``ci_low``, ``ci_high``, ``CI95%`` (``[low,
        high]``, named after the level), ``method``, ``n_pos``, ``n_neg``.

    Warns
    -----
    UserWarning
        With fewer than 2 positive or 2 negative cases no interval can be
        estimated: ``SE`` and the interval are ``NaN`` (the AUC is kept).

    References
    ----------
    DeLong ER, DeLong DM, Clarke-Pearson DL. Comparing the areas under two or
    more correlated ROC curves. Biometrics 1988;44:837-845.
    Sun X, Xu W. Fast implementation of DeLong's algorithm. IEEE Signal Process
    Lett 2014;21:1389-1393. Robin X et al. pROC. BMC Bioinformatics 2011;12:77.

    Examples
    --------
    >>> roc_auc_ci([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.2, 0.9])["AUC"].round(3).item()
    0.889
    """
    from scipy.stats import norm

    check_option("method", method, ("delong", "bootstrap"))
    confidence = resolve_confidence(confidence, alpha, func="roc_auc_ci")
    alpha = 1 - confidence
    y, (s,) = _check_scores(y_true, y_score)
    pos, neg = _roc.split_scores(y, s)
    m, n = pos.shape[1], neg.shape[1]
    if min(m, n) < 2:
        warnings.warn(
            tr("roc_auc_ci: {m} positive and {n} negative case(s); a confidence interval needs at "
               "least 2 of each, so SE and CI are NaN. Collect more cases before reporting an AUC."
               ).format(m=m, n=n),
            UserWarning, stacklevel=user_stacklevel())
        auc, se, low, high = float(roc_core.auc(pos, neg)[0]), np.nan, np.nan, np.nan
    elif method == "delong":
        aucs, cov = roc_core.delong(pos, neg)
        auc, se = float(aucs[0]), float(np.sqrt(cov[0, 0]))
        z = norm.ppf(1 - alpha / 2)
        low, high = max(0.0, auc - z * se), min(1.0, auc + z * se)
    else:  # no DeLong variance: the bootstrap gives both SE and interval
        auc = float(roc_core.auc(pos, neg)[0])
        boot = _roc.bootstrap_auc(pos, neg, n_boot, seed)[:, 0]
        low, high = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
        se = float(boot.std(ddof=1))
    from radnb._utils.provenance import record  # what radnb.Study reports (no-op outside one)
    record("evaluate.roc_auc_ci", AUC=float(auc), ci_low=float(low), ci_high=float(high),
           level=confidence, method=method, n_boot=n_boot if method == "bootstrap" else None,
           n_pos=int(m), n_neg=int(n))
    return pd.DataFrame({"AUC": [auc], "SE": [se], "ci_low": [low], "ci_high": [high],
                         ci_column(confidence): [ci_cell(low, high)], "method": [method],
                         "n_pos": [m], "n_neg": [n]})


def delong_test(y_true, score_a, score_b, alpha=None, *, confidence=0.95):
    """Paired DeLong test of two AUCs measured on the same cases.

    Parameters
    ----------
    y_true : array-like of 0/1
    score_a, score_b : array-like of float
    alpha : float, optional
        Deprecated: use ``confidence`` (= 1 - alpha).
    confidence : float, default 0.95
        Level of the interval of the difference.

    Returns
    -------
    pandas.DataFrame
        One row: ``AUC_a``, ``AUC_b``, ``diff`` (a - b), ``SE``, ``ci_low``,
        ``ci_high``, ``CI95%`` (of the difference; named after the level),
        ``z``, ``p-val`` (two-sided). Two scores that rank every case alike
        (the same score, or one a monotone transform of the other) have a
        difference of 0 with no variance: ``z`` = 0 and ``p-val`` = 1, as in
        pROC's DeLong test.

    References
    ----------
    DeLong ER, DeLong DM, Clarke-Pearson DL. Biometrics 1988;44:837-845.
    Sun X, Xu W. IEEE Signal Process Lett 2014;21:1389-1393.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 50)
    >>> res = delong_test(y, y + rng.normal(0, 1, 100), y + rng.normal(0, 3, 100))
    >>> res.columns.tolist()
    ['AUC_a', 'AUC_b', 'diff', 'SE', 'ci_low', 'ci_high', 'CI95%', 'z', 'p-val']
    """
    from scipy.stats import norm

    confidence = resolve_confidence(confidence, alpha, func="delong_test")
    alpha = 1 - confidence
    y, (a, b) = _check_scores(y_true, score_a, score_b)
    pos, neg = _roc.split_scores(y, a, b)
    auc, cov = roc_core.delong(pos, neg)
    diff = auc[0] - auc[1]
    se = float(np.sqrt(max(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1], 0.0)))
    if se > 0:
        z = diff / se
    elif diff == 0:  # both scores rank every case alike: z = 0, p = 1, as pROC's DeLong test
        z = 0.0
    else:
        z = np.nan
    p_value = float(2 * norm.sf(abs(z))) if np.isfinite(z) else np.nan
    q = norm.ppf(1 - alpha / 2)
    low, high = diff - q * se, diff + q * se
    from radnb._utils.provenance import record  # what radnb.Study reports (no-op outside one)
    record("evaluate.delong_test", AUC_a=float(auc[0]), AUC_b=float(auc[1]), diff=float(diff),
           p=p_value if np.isfinite(p_value) else None, n=int(y.size))
    return pd.DataFrame({"AUC_a": [auc[0]], "AUC_b": [auc[1]], "diff": [diff], "SE": [se],
                         "ci_low": [low], "ci_high": [high],
                         ci_column(confidence): [ci_cell(low, high)], "z": [z],
                         "p-val": [p_value]})


def optimal_threshold(y_true, y_score):
    """Threshold maximising Youden's J = sensitivity + specificity - 1.

    Choose a threshold on training data and report metrics at it on test data;
    choosing it on the test data is optimistic.

    Returns
    -------
    pandas.DataFrame
        One row: ``threshold`` (positive when score >= threshold),
        ``sensitivity``, ``specificity``, ``youden_J``.

    References
    ----------
    Youden WJ. Index for rating diagnostic tests. Cancer 1950;3:32-35.

    Examples
    --------
    >>> optimal_threshold([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])["threshold"].item()
    0.8
    """
    y, (s,) = _check_scores(y_true, y_score)
    fpr, tpr, thr = _roc.roc_points(y, s)
    j = tpr - fpr
    i = int(np.argmax(j[1:]) + 1)  # skip the "nobody positive" point (threshold inf)
    return pd.DataFrame({"threshold": [thr[i]], "sensitivity": [tpr[i]],
                         "specificity": [1 - fpr[i]], "youden_J": [j[i]]})


def diagnostic_metrics(y_true, y_score, threshold, *, method="wilson", alpha=None,
                       confidence=0.95):
    """Sensitivity, specificity, PPV, NPV and accuracy at a threshold, with CIs.

    A case is test-positive when ``y_score >= threshold``. PPV and NPV depend on
    the prevalence of this sample; they do not transfer to a population with a
    different prevalence.

    Parameters
    ----------
    method : {"wilson", "clopper-pearson"}
        Wilson score interval (recommended by Brown, Cai & DasGupta 2001) or the
        exact Clopper-Pearson interval (conservative).
    alpha : float, optional
        Deprecated: use ``confidence`` (= 1 - alpha).
    confidence : float, default 0.95

    Returns
    -------
    pandas.DataFrame
        One row per metric: ``metric``, ``estimate``, ``ci_low``, ``ci_high``,
        ``CI95%`` (named after the level), ``count``, ``n`` (the estimate is
        ``count / n``), ``threshold``.

    References
    ----------
    Wilson EB. J Am Stat Assoc 1927;22:209-212. Clopper CJ, Pearson ES.
    Biometrika 1934;26:404-413. Brown LD, Cai TT, DasGupta A. Stat Sci
    2001;16:101-133.

    Examples
    --------
    >>> dm = diagnostic_metrics([0, 0, 1, 1, 1], [0.1, 0.6, 0.7, 0.8, 0.2], 0.5)
    >>> dm.set_index("metric")["estimate"]["sensitivity"].round(3).item()
    0.667
    """
    check_option("method", method, ("wilson", "clopper-pearson"))
    alpha = 1 - resolve_confidence(confidence, alpha, func="diagnostic_metrics")
    y, (s,) = _check_scores(y_true, y_score)
    pos = s >= threshold
    tp, fp = int((pos & (y == 1)).sum()), int((pos & (y == 0)).sum())
    fn, tn = int((~pos & (y == 1)).sum()), int((~pos & (y == 0)).sum())
    counts = {"sensitivity": (tp, tp + fn), "specificity": (tn, tn + fp),
              "PPV": (tp, tp + fp), "NPV": (tn, tn + fn), "accuracy": (tp + tn, y.size)}
    ci = _roc.wilson_ci if method == "wilson" else _roc.clopper_pearson_ci
    k = np.array([c for c, _ in counts.values()])
    n = np.array([m for _, m in counts.values()])
    low, high = ci(k, n, alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        est = k / n
    return pd.DataFrame({"metric": list(counts), "estimate": est, "ci_low": low,
                         "ci_high": high,
                         ci_column(1 - alpha): [ci_cell(a, b) for a, b in zip(low, high)],
                         "count": k, "n": n, "threshold": threshold})


def plot_roc(y_true, y_score, *, label=None, ax=None, ci=True, n_boot=500, seed=0,
             show_threshold=True):
    """ROC curve with a bootstrap 95% band and the AUC (DeLong CI) in the legend.

    Parameters
    ----------
    y_score : array-like or dict of name -> array-like
        One score, or several (drawn on the same axes).
    ci : bool, default True
        Shade the pointwise 95% band of sensitivity (stratified bootstrap).
    show_threshold : bool, default True
        Mark the Youden-optimal point.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_roc(y_test, {"Rad-score": p_test})  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    scores = y_score if isinstance(y_score, dict) else {label or tr("model"): y_score}
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1)
    grid = np.linspace(0, 1, 101)
    for name, s in scores.items():
        y, (s,) = _check_scores(y_true, s)
        fpr, tpr, _ = _roc.roc_points(y, s)
        r = roc_auc_ci(y, s).iloc[0]
        (line,) = ax.plot(fpr, tpr, lw=2, label=tr("{name}: AUC {auc:.2f} ({low:.2f}-{high:.2f})")
                          .format(name=name, auc=r.AUC, low=r.ci_low, high=r.ci_high))
        if ci:
            pos, neg = _roc.split_scores(y, s)
            lo, hi = _roc.bootstrap_roc_band(pos[0], neg[0], grid, n_boot, seed, 0.05)
            ax.fill_between(grid, lo, hi, color=line.get_color(), alpha=0.2, lw=0)
        if show_threshold:
            o = optimal_threshold(y, s).iloc[0]
            ax.plot(1 - o.specificity, o.sensitivity, "o", color=line.get_color(), ms=6)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel(tr("1 - specificity (false-positive rate)"))
    ax.set_ylabel(tr("Sensitivity (true-positive rate)"))
    ax.legend(fontsize="small", loc="lower right")
    return ax
