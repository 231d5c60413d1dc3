"""Calibration and decision-curve analysis (public through :mod:`radnb.evaluate`)."""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from radnb._utils.errors import user_stacklevel
from radnb._utils.i18n import tr
from radnb.evaluate._roc import wilson_ci
from radnb._utils.intervals import ci_cell, ci_column, resolve_confidence
from radnb._utils.validation import check_binary, check_option, check_range

__all__ = ["calibration", "plot_calibration", "decision_curve", "plot_decision_curve",
           "CalibrationResult"]


@dataclass
class CalibrationResult:
    """Result of :func:`calibration`: a binned ``curve`` and a ``summary`` table."""

    curve: pd.DataFrame
    summary: pd.DataFrame

    def __repr__(self):
        return ("CalibrationResult\n" + self.summary.round(3).to_string(index=False))


def calibration(y_true, prob, n_bins=10, *, alpha=None, confidence=0.95, sample="development"):
    """Calibration of predicted probabilities: curve, Brier, intercept, slope, Hosmer-Lemeshow.

    Parameters
    ----------
    y_true : array-like of 0/1
        Observed outcome (1 = event).
    prob : array-like of float in [0, 1]
        Predicted probability of the event. Risks of exactly 0 or 1 (a
        saturated model) are clipped to ``[1e-8, 1 - 1e-8]`` with a warning.
    n_bins : int, default 10
        Number of groups of equal size by predicted risk (deciles by default),
        used for the curve and for Hosmer-Lemeshow.
    alpha : float, optional
        Deprecated: use ``confidence`` (= 1 - alpha).
    confidence : float, default 0.95
        Level of the intervals.
    sample : {"development", "external"}, default "development"
        Where the predictions were evaluated. Hosmer-Lemeshow has ``g - 2``
        degrees of freedom on the sample the model was fitted on
        (``"development"``) and ``g`` on a new sample (``"external"``, e.g.
        another site), since then no parameter was estimated on it
        (Hosmer & Lemeshow 2013, section 5.2.2).

    Returns
    -------
    CalibrationResult
        ``curve``: one row per group with ``bin``, ``n``, ``predicted`` (mean
        predicted risk), ``observed`` (event rate), ``ci_low``, ``ci_high``
        (Wilson interval of the observed rate).
        ``summary``: rows ``Brier``, ``intercept`` (calibration-in-the-large,
        ideal 0), ``slope`` (ideal 1), ``Hosmer-Lemeshow`` with columns
        ``statistic``, ``SE``, ``ci_low``, ``ci_high``, ``CI95%`` (named after
        the level), ``p-val`` (for intercept against 0, slope against 1,
        Hosmer-Lemeshow chi-square), ``df`` and ``note`` (why a value is
        missing, or that risks were clipped).

    Warns
    -----
    UserWarning
        When risks were clipped, or when the outcome is perfectly separated by
        the predicted risk (no finite maximum-likelihood slope exists): the
        slope (and, if needed, the intercept) is then ``NaN``; the other
        measures are still computed.

    Notes
    -----
    The intercept is that of the logistic model ``logit P(y) = a + logit(p)``
    (the prediction as offset); the slope is ``b`` in ``logit P(y) = a + b *
    logit(p)`` (Cox 1958; Van Calster et al. 2016), both fitted by
    Newton-Raphson with step-halving (the same maximum-likelihood estimates as
    a binomial GLM). Wald intervals. A slope below 1 means predictions are too
    extreme (overfitting). Hosmer-Lemeshow: ``sum over groups and both outcomes
    of (O - E)^2 / E`` (Hosmer & Lemeshow 1980); with few events per group it
    is unreliable and, like every test, says little in small samples - look at
    the curve.

    References
    ----------
    Cox DR. Two further applications of a model for binary regression.
    Biometrika 1958;45:562-565.
    Van Calster B et al. A calibration hierarchy for risk models was defined.
    J Clin Epidemiol 2016;74:167-176.
    Hosmer DW, Lemeshow S. Goodness of fit tests for the multiple logistic
    regression model. Commun Stat 1980;9:1043-1069.
    Hosmer DW, Lemeshow S, Sturdivant RX. Applied Logistic Regression, 3rd ed.
    Wiley 2013 (section 5.2.2, external validation).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0.05, 0.95, 500)
    >>> y = rng.binomial(1, p)
    >>> res = calibration(y, p)
    >>> res.summary["measure"].tolist()
    ['Brier', 'intercept', 'slope', 'Hosmer-Lemeshow']
    """
    from scipy.stats import chi2, norm

    confidence = resolve_confidence(confidence, alpha, func="calibration")
    alpha = 1 - confidence
    check_option("sample", sample, ("development", "external"))
    y = check_binary("y_true", y_true)
    p = np.asarray(prob, dtype=float)
    if p.shape != y.shape:
        raise ValueError(f"prob must have one value per case ({y.size}); got shape {p.shape}.")
    if np.isnan(p).any() or p.min() < 0 or p.max() > 1:
        raise ValueError("prob must hold probabilities in [0, 1] without missing values; got "
                         f"values from {np.nanmin(p):.3g} to {np.nanmax(p):.3g}"
                         f"{' and NaN' if np.isnan(p).any() else ''}. Pass predict_proba(...)[:, 1], "
                         "not a score, and drop cases without a prediction.")
    check_range("n_bins", n_bins, 2, None)
    notes = {"intercept": "", "slope": ""}
    saturated = (p < _EPS) | (p > 1 - _EPS)
    if saturated.any():
        msg = tr("{k} of {n} risks were 0 or 1 (saturated) and were clipped to [{eps}, 1 - {eps}] "
                 "for the logistic recalibration").format(k=int(saturated.sum()), n=p.size,
                                                          eps=f"{_EPS:g}")
        warnings.warn(tr("calibration: {message}.").format(message=msg), UserWarning, stacklevel=user_stacklevel())
        notes = {k: msg for k in notes}
        p = np.clip(p, _EPS, 1 - _EPS)
    z = norm.ppf(1 - alpha / 2)
    lp = np.log(p / (1 - p))
    ones = np.ones_like(lp)
    a, se_a, why_a = _fit_or_nan(y, ones[:, None], lp, 0)
    b, se_b, why_b = _fit_or_nan(y, np.column_stack([ones, lp]), None, 1)
    for key, why in (("intercept", why_a), ("slope", why_b)):
        if why:
            warnings.warn(tr("calibration: {message}; the {measure} is NaN.").format(
                message=why, measure=key), UserWarning, stacklevel=user_stacklevel())
            notes[key] = "; ".join(filter(None, [notes[key], why]))
    bins = _risk_groups(p, n_bins)
    g = pd.DataFrame({"bin": bins, "y": y, "p": p}).groupby("bin")
    curve = pd.DataFrame({"n": g.size(), "predicted": g["p"].mean(), "events": g["y"].sum()})
    curve["observed"] = curve["events"] / curve["n"]
    curve["ci_low"], curve["ci_high"] = wilson_ci(curve["events"], curve["n"], alpha)
    curve = curve.reset_index()
    expected = g["p"].sum().to_numpy()
    obs, n_g = curve["events"].to_numpy(), curve["n"].to_numpy()
    hl = np.sum((obs - expected) ** 2 / expected
                + ((n_g - obs) - (n_g - expected)) ** 2 / (n_g - expected))
    df = len(curve) - (2 if sample == "development" else 0)
    low = [np.nan, a - z * se_a, b - z * se_b, np.nan]
    high = [np.nan, a + z * se_a, b + z * se_b, np.nan]
    with np.errstate(divide="ignore", invalid="ignore"):
        p_a, p_b = 2 * norm.sf(abs(a / se_a)), 2 * norm.sf(abs((b - 1) / se_b))
    summary = pd.DataFrame({
        "measure": ["Brier", "intercept", "slope", "Hosmer-Lemeshow"],
        "statistic": [np.mean((p - y) ** 2), a, b, hl],
        "SE": [np.nan, se_a, se_b, np.nan],
        "ci_low": low, "ci_high": high,
        ci_column(confidence): [ci_cell(lo, hi) for lo, hi in zip(low, high)],
        "p-val": [np.nan, p_a, p_b, chi2.sf(hl, df) if df > 0 else np.nan],
        "df": [np.nan, np.nan, np.nan, df],
        "note": ["", notes["intercept"], notes["slope"], ""],
    })
    from radnb._utils.provenance import record  # what radnb.Study reports (no-op outside one)
    record("evaluate.calibration", n_bins=n_bins, n=int(y.size), brier=float(np.mean((p - y) ** 2)),
           intercept=float(a), slope=float(b), hosmer_lemeshow=float(hl), sample=sample,
           hl_df=int(df), hl_p=float(chi2.sf(hl, df)) if df > 0 else None)
    return CalibrationResult(curve=curve[["bin", "n", "predicted", "observed", "ci_low",
                                          "ci_high"]], summary=summary)


_EPS = 1e-8


def _risk_groups(p, n_bins):
    """Groups of (nearly) equal size by predicted risk; tied risks stay together."""
    edges = np.unique(np.quantile(p, np.linspace(0, 1, n_bins + 1)))
    return np.clip(np.searchsorted(edges, p, side="right") - 1, 0, len(edges) - 2) + 1


def _fit_or_nan(y, X, offset, j):
    """Coefficient ``j`` and its SE, or ``(nan, nan, reason)`` when no finite MLE exists."""
    if y.min() == y.max():
        return np.nan, np.nan, tr("the outcome has one class only, so there is no finite estimate")
    if X.shape[1] == 2:
        x = X[:, 1]
        if np.ptp(x) == 0:
            return np.nan, np.nan, tr("all predicted risks are equal, so no slope can be estimated")
        lo0, hi0, lo1, hi1 = x[y == 0].min(), x[y == 0].max(), x[y == 1].min(), x[y == 1].max()
        if hi0 <= lo1 or hi1 <= lo0:
            return np.nan, np.nan, tr("the predicted risks separate events from non-events "
                                      "perfectly (separation), so the slope has no finite "
                                      "maximum-likelihood estimate")
    beta, cov, converged = _logistic(y, X, offset)
    if not converged or not np.isfinite(cov[j, j]):
        return np.nan, np.nan, tr("the logistic recalibration did not converge")
    return float(beta[j]), float(np.sqrt(cov[j, j])), ""


def _loglik(y, eta):
    return float(np.sum(y * eta - np.logaddexp(0, eta)))


def _logistic(y, X, offset=None, tol=1e-10, max_iter=100):
    """Maximum-likelihood logistic regression by Newton-Raphson with step-halving.

    Returns ``(coef, covariance, converged)``. A step that lowers the
    log-likelihood is halved until it does not (as R's ``glm.fit`` does for a
    diverging deviance), so saturated linear predictors cannot make it diverge.
    """
    offset = np.zeros(len(y)) if offset is None else offset
    beta = np.zeros(X.shape[1])
    ll = _loglik(y, offset)
    converged = False
    for _ in range(max_iter):
        eta = offset + X @ beta
        mu = np.exp(-np.logaddexp(0, -eta))
        info = X.T @ (X * (mu * (1 - mu))[:, None])
        try:
            step = np.linalg.solve(info, X.T @ (y - mu))
        except np.linalg.LinAlgError:
            break
        t = 1.0
        while True:
            new = beta + t * step
            ll_new = _loglik(y, offset + X @ new)
            if ll_new >= ll - 1e-12 * (1 + abs(ll)) or t < 1e-10:
                break
            t /= 2
        beta, done = new, np.max(np.abs(t * step)) < tol or abs(ll_new - ll) < tol * 1e-3
        ll = ll_new
        if done:
            converged = True
            break
    mu = np.exp(-np.logaddexp(0, -(offset + X @ beta)))
    info = X.T @ (X * (mu * (1 - mu))[:, None])
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        cov, converged = np.full_like(info, np.nan), False
    return beta, cov, converged


def plot_calibration(y_true, prob, n_bins=10, *, ax=None, label=None):
    """Calibration plot: observed event rate (with 95% CI) against predicted risk.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_calibration(y, p)  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    res = calibration(y_true, prob, n_bins)
    c = res.curve
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label=tr("perfect calibration"))
    s = res.summary.set_index("measure")["statistic"]
    text = (tr("{label}: slope {slope:.2f}, intercept {intercept:.2f}") if label
            else tr("slope {slope:.2f}, intercept {intercept:.2f}")).format(
        label=label, slope=s["slope"], intercept=s["intercept"])
    ax.errorbar(c["predicted"], c["observed"],
                yerr=np.clip([c["observed"] - c["ci_low"], c["ci_high"] - c["observed"]], 0, None),
                fmt="o-", capsize=3, label=text)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel(tr("Predicted risk (probability)"))
    ax.set_ylabel(tr("Observed event rate (proportion)"))
    ax.legend(fontsize="small", loc="upper left")
    return ax


def decision_curve(y_true, probs, thresholds=None, *, harm=0.0):
    """Net benefit of deciding by predicted risk, against treat-all and treat-none.

    A patient is treated (test-positive) when risk >= threshold ``pt`` (at
    ``pt = 0``: when risk > 0).
    ``net benefit = TP/n - FP/n * pt / (1 - pt) - harm`` (Vickers & Elkin 2006);
    treat-all is ``prevalence - (1 - prevalence) * pt / (1 - pt)``, treat-none 0.
    Conventions follow the R package dcurves.

    Parameters
    ----------
    y_true : array-like of 0/1
    probs : array-like, dict of name -> array-like, or DataFrame
        Predicted risks of one or more models.
    thresholds : array-like, default ``np.arange(0, 1, 0.01)``
        Threshold probabilities, each in [0, 1).
        Cases whose risk is missing (``NaN``) in any model are left out of all
        curves, with a warning; risks outside [0, 1] are an error.
    harm : float or dict of name -> float, default 0
        Harm of the test itself, in net-benefit units, subtracted for the models.

    Returns
    -------
    pandas.DataFrame
        Tidy: ``model`` (including ``"Treat All"``, ``"Treat None"``),
        ``threshold``, ``n``, ``pos_rate``, ``test_pos_rate``, ``tp_rate``,
        ``fp_rate``, ``harm``, ``net_benefit``, ``net_intervention_avoided``
        (per 1 patient; ``NaN`` at threshold 0).

    References
    ----------
    Vickers AJ, Elkin EB. Decision curve analysis: a novel method for evaluating
    prediction models. Med Decis Making 2006;26:565-574.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 0, 1, 1, 0, 1])
    >>> p = np.array([0.1, 0.3, 0.7, 0.8, 0.2, 0.4])
    >>> dc = decision_curve(y, {"model": p}, thresholds=[0.1, 0.5])
    >>> dc["model"].unique().tolist()
    ['Treat All', 'Treat None', 'model']
    """
    y = check_binary("y_true", y_true)
    if isinstance(probs, pd.DataFrame):
        probs = {c: probs[c].to_numpy() for c in probs.columns}
    elif not isinstance(probs, dict):
        probs = {"model": probs}
    probs = {k: np.asarray(v, dtype=float) for k, v in probs.items()}
    for name, p in probs.items():
        if p.shape != y.shape:
            raise ValueError(f"probs[{name!r}] must have one value per case ({y.size}); "
                             f"got shape {p.shape}.")
        if np.nanmin(p, initial=0.0) < 0 or np.nanmax(p, initial=1.0) > 1:
            raise ValueError(
                f"probs[{name!r}] must be risks in [0, 1]; got values from {np.nanmin(p):.3g} to "
                f"{np.nanmax(p):.3g}. Pass predicted probabilities (predict_proba(...)[:, 1]), "
                "not scores or log-odds.")
    missing = np.logical_or.reduce([np.isnan(p) for p in probs.values()]) if probs else \
        np.zeros(y.size, bool)
    if missing.any():
        warnings.warn(
            tr("decision_curve: left out {n} of {total} cases without a predicted "
               "risk from every model (NaN); column n counts the cases used.").format(
                n=int(missing.sum()), total=y.size), UserWarning,
            stacklevel=user_stacklevel())
        y = y[~missing]
        probs = {k: v[~missing] for k, v in probs.items()}
    pt = np.arange(0, 1, 0.01) if thresholds is None else np.asarray(thresholds, dtype=float)
    if pt.size == 0 or pt.min() < 0 or pt.max() >= 1:
        raise ValueError("thresholds must lie in [0, 1); e.g. np.arange(0, 0.5, 0.01).")
    n = y.size
    prev = y.mean()
    odds = pt / (1 - pt)
    rows = [pd.DataFrame({"model": "Treat All", "threshold": pt, "test_pos_rate": 1.0,
                          "tp_rate": prev, "fp_rate": 1 - prev, "harm": 0.0}),
            pd.DataFrame({"model": "Treat None", "threshold": pt, "test_pos_rate": 0.0,
                          "tp_rate": 0.0, "fp_rate": 0.0, "harm": 0.0})]
    for name, p in probs.items():
        # a threshold of 0 is taken as the smallest positive risk, so that a risk of
        # exactly 0 never leads to treatment (as R dcurves does)
        pos = p[None, :] >= np.where(pt > 0, pt, np.finfo(float).tiny)[:, None]
        h = harm.get(name, 0.0) if isinstance(harm, dict) else harm
        rows.append(pd.DataFrame({
            "model": name, "threshold": pt, "test_pos_rate": pos.mean(axis=1),
            "tp_rate": (pos & (y == 1)).sum(axis=1) / n,
            "fp_rate": (pos & (y == 0)).sum(axis=1) / n, "harm": float(h)}))
    out = pd.concat(rows, ignore_index=True)
    out.insert(2, "n", n)
    out.insert(3, "pos_rate", prev)
    o = np.tile(odds, len(out) // pt.size)
    out["net_benefit"] = out["tp_rate"] - out["fp_rate"] * o - out["harm"]
    nb_all = np.tile(out.loc[out["model"] == "Treat All", "net_benefit"].to_numpy(),
                     len(out) // pt.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        nia = np.where(o > 0, (out["net_benefit"] - nb_all) / o, np.nan)
    out["net_intervention_avoided"] = nia
    from radnb._utils.provenance import record  # what radnb.Study reports (no-op outside one)
    best = out[out["model"].isin(["Treat All", "Treat None"])].groupby("threshold")["net_benefit"].max()
    useful = {str(m): [float(t) for t, nb in zip(g["threshold"], g["net_benefit"])
                       if nb > best[t] + 1e-12] for m, g in out.groupby("model") if m in probs}
    record("evaluate.decision_curve", thresholds=[float(pt.min()), float(pt.max())], n=int(n),
           models=[str(m) for m in probs], harm=harm if isinstance(harm, (int, float)) else "per model",
           benefit_range={m: [min(v), max(v)] if v else None for m, v in useful.items()},
           # thresholds inside that range where the model did NOT beat both (the range may have gaps)
           benefit_gaps={m: int(((pt >= min(v)) & (pt <= max(v))).sum()) - len(v) if v else 0
                         for m, v in useful.items()})
    return out


def plot_decision_curve(y_true, probs, thresholds=None, *, harm=0.0, ax=None):
    """Plot net benefit against threshold probability for models, treat-all, treat-none.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_decision_curve(y, {"Rad-score": p}, np.arange(0, 0.6, 0.01))  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    dc = decision_curve(y_true, probs, thresholds, harm=harm)
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4))
    styles = {"Treat All": dict(color="grey", lw=1), "Treat None": dict(color="black", lw=1, ls=":")}
    shown = {"Treat All": tr("Treat All"), "Treat None": tr("Treat None")}  # table keys stay
    for name, d in dc.groupby("model", sort=False):
        ax.plot(d["threshold"], d["net_benefit"], label=shown.get(name, name),
                **styles.get(name, {"lw": 2}))
    top = dc["pos_rate"].iloc[0]
    ax.set_ylim(-0.05 * max(top, 0.2), top * 1.1 + 0.01)
    ax.set_xlabel(tr("Threshold probability (risk at which you would treat)"))
    ax.set_ylabel(tr("Net benefit (true positives per patient)"))
    ax.legend(fontsize="small")
    return ax
