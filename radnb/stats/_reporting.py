"""Reporting helpers: a sentence for a p-value, and Harrell's bootstrap optimism correction."""
from __future__ import annotations

import numpy as np
import pandas as pd

from radnb._utils.formatting import format_p
from radnb._utils.i18n import tidy_sentence, tr
from radnb._utils.validation import check_range
from radnb.stats._phrases import known_phrase

__all__ = ["interpret_p", "bootstrap_optimism"]


@tidy_sentence
def interpret_p(p, what, *, alpha=0.05, label="p"):
    """One sentence that reads a p-value the way a reviewer expects.

    A small p-value is evidence against "no difference / no association"; a
    large one is *absence of evidence*, never evidence that there is no
    relation (Altman & Bland, BMJ 1995;311:485). The sentence is built from
    the value, so the prose cannot contradict the output.

    Parameters
    ----------
    p : float
        The p-value, between 0 and 1.
    what : str
        What the test looks for, phrased to follow "evidence that", e.g.
        ``"age differs between benign and malignant lesions"``.
    alpha : float, default 0.05
        The significance level stated in the Methods.
    label : str, default "p"
        The name printed before the value. ``"q"`` is for false-discovery-rate
        adjusted values (Benjamini-Hochberg q-values): the sentence then reads
        the value at a false discovery rate of ``alpha`` (Benjamini & Hochberg,
        J R Stat Soc B 1995;57:289-300). Any other text (``"log-rank p"``,
        ``"Bonferroni p"``) only changes the name.

    Returns
    -------
    str

    Examples
    --------
    >>> interpret_p(0.16, "the two AUCs differ")
    'p = 0.160: no evidence at the 5% level that the two AUCs differ; this does not show that there is no difference or no relation (the study may be too small to see it).'
    >>> interpret_p(0.0004, "age differs between the groups")
    'p < 0.001: evidence at the 5% level that age differs between the groups; the p-value says nothing about how large or clinically important the effect is.'
    >>> interpret_p(0.02, "Idm differs between the groups", label="q")
    'q = 0.020: evidence at a false discovery rate of 5% that Idm differs between the groups; the q-value says nothing about how large or clinically important the effect is.'
    """
    p = float(p)
    if not np.isfinite(p):
        raise ValueError(tr("p must be a number between 0 and 1; got {value!r}. Was the test "
                            "computed?").format(value=p))
    check_range("p", p, 0, 1)
    check_range("alpha", alpha, 0, 1, inclusive=False)
    if not isinstance(what, str) or not what.strip():
        raise ValueError(tr("what must describe the tested question, e.g. "
                            "'age differs between benign and malignant lesions'."))
    what = known_phrase(what)  # a phrase of the tutorials reads in the current language
    if not isinstance(label, str) or not label.strip():
        raise ValueError(tr("label must be the name printed before the value, such as 'p' or 'q'; "
                            "got {value!r}.").format(value=label))
    level = f"{100 * alpha:g}%"
    shown = format_p(p, prefix=label.strip())
    if label.strip() == "q":  # a q-value is read at a false discovery rate, not a significance level
        if p < alpha:
            return tr("{p}: evidence at a false discovery rate of {level} that {what}; the q-value "
                      "says nothing about how large or clinically important the effect is.").format(
                p=shown, level=level, what=what)
        return tr("{p}: no evidence at a false discovery rate of {level} that {what}; this does not "
                  "show that there is no difference or no relation (the study may be too small to "
                  "see it).").format(p=shown, level=level, what=what)
    if p < alpha:
        return tr("{p}: evidence at the {level} level that {what}; the p-value says "
                  "nothing about how large or clinically important the effect is.").format(
            p=shown, level=level, what=what)
    return tr("{p}: no evidence at the {level} level that {what}; this does not show "
              "that there is no difference or no relation (the study may be too small to see it).").format(
        p=shown, level=level, what=what)


def _calibration_slope(y, p):
    """Slope of the logistic recalibration ``logit P(y=1) = a + b * logit(p)``."""
    import statsmodels.api as sm

    p = np.clip(p, 1e-12, 1 - 1e-12)
    lp = np.log(p / (1 - p))
    return float(sm.GLM(y, sm.add_constant(lp), family=sm.families.Binomial()).fit().params[1])


def _metrics(y, p):
    from sklearn.metrics import roc_auc_score

    return {"AUC": roc_auc_score(y, p), "calibration_slope": _calibration_slope(y, p),
            "Brier": float(np.mean((p - y) ** 2))}


def bootstrap_optimism(estimator, X, y, *, n_boot=200, seed=0):
    """Optimism-corrected AUC, calibration slope and Brier score (Harrell's bootstrap).

    The model is fitted on all patients (the *apparent* performance is
    measured on the same patients). Then, ``n_boot`` times: draw a bootstrap
    sample of patients with replacement, refit the whole ``estimator`` on it,
    and measure it on the bootstrap sample and on the original patients; the
    difference is the *optimism* of that refit. The corrected value is the
    apparent value minus the mean optimism. Every step of model building that
    learns from data must be inside ``estimator`` (a scikit-learn pipeline).

    Parameters
    ----------
    estimator : scikit-learn classifier
        Unfitted; cloned for every refit. Needs ``predict_proba``.
    X : pandas.DataFrame or array-like, shape (n, p)
    y : array-like of 0/1, shape (n,)
    n_boot : int, default 200
        Harrell recommends 100-200 (Steyerberg 2019, ch. 5).
    seed : int, default 0

    Returns
    -------
    pandas.DataFrame
        Rows ``AUC``, ``calibration_slope``, ``Brier``; columns ``apparent``,
        ``optimism`` (mean over the replicates), ``corrected``. ``attrs["n_boot"]``
        counts the replicates used (a resample with one class only is skipped).

    References
    ----------
    Harrell FE, Lee KL, Mark DB. Multivariable prognostic models. Stat Med
    1996;15:361-87. Steyerberg EW. Clinical Prediction Models, 2nd ed.
    Springer 2019, chapter 5.3.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(80, 3)); y = (X[:, 0] + rng.normal(size=80) > 0).astype(int)
    >>> tab = bootstrap_optimism(LogisticRegression(), X, y, n_boot=50)
    >>> bool(tab.loc["AUC", "corrected"] < tab.loc["AUC", "apparent"])
    True
    """
    from sklearn.base import clone

    from radnb._utils.validation import check_binary

    y = check_binary("y", np.asarray(y))
    X = X if isinstance(X, pd.DataFrame) else np.asarray(X, dtype=float)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}; pass one outcome per row of X.")
    if int(n_boot) < 1:
        raise ValueError(f"n_boot must be a positive whole number (100-200 is usual); got {n_boot!r}.")
    take = (lambda idx: X.iloc[idx]) if isinstance(X, pd.DataFrame) else (lambda idx: X[idx])
    apparent = _metrics(y, clone(estimator).fit(X, y).predict_proba(X)[:, 1])
    rng = np.random.default_rng(seed)
    optimism = []
    n = len(y)
    for _ in range(int(n_boot)):
        idx = rng.integers(0, n, n)
        if y[idx].min() == y[idx].max():
            continue
        fit = clone(estimator).fit(take(idx), y[idx])
        boot = _metrics(y[idx], fit.predict_proba(take(idx))[:, 1])
        test = _metrics(y, fit.predict_proba(X)[:, 1])
        optimism.append({k: boot[k] - test[k] for k in boot})
    if not optimism:
        raise ValueError("every bootstrap sample held one outcome class only; y needs both classes.")
    opt = pd.DataFrame(optimism).mean()
    out = pd.DataFrame({"apparent": pd.Series(apparent), "optimism": opt})
    out["corrected"] = out["apparent"] - out["optimism"]
    out.attrs["n_boot"] = len(optimism)
    return out
