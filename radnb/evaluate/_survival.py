"""Survival analysis by Rad-score group (public through :mod:`radnb.evaluate`).

A thin layer over lifelines: Kaplan-Meier curves with the log-rank test and
numbers at risk, and Cox proportional-hazards models with the C-index.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from radnb._utils.errors import user_stacklevel
from radnb._utils.i18n import tr
from radnb._utils.intervals import ci_cell, ci_column, resolve_confidence
from radnb._utils.validation import check_binary, check_columns

__all__ = ["kaplan_meier", "plot_kaplan_meier", "cox_model", "KaplanMeierResult", "CoxResult"]


@dataclass
class KaplanMeierResult:
    """Result of :func:`kaplan_meier`; every field is a tidy DataFrame."""

    survival: pd.DataFrame
    at_risk: pd.DataFrame
    logrank: pd.DataFrame

    def __repr__(self):
        return "KaplanMeierResult (log-rank)\n" + self.logrank.to_string(index=False)


@dataclass
class CoxResult:
    """Result of :func:`cox_model`: ``summary`` (one row per covariate) and ``c_index``."""

    summary: pd.DataFrame
    c_index: float
    model: object
    n: int = 0
    n_events: int = 0

    def __repr__(self):
        return (f"CoxResult (C-index {self.c_index:.3f}; {self.n} patients, {self.n_events} "
                f"events, {len(self.summary)} covariates)\n"
                + self.summary.round(3).to_string(index=False))


def _check_survival(time, event, group=None):
    t = np.asarray(time, dtype=float)
    e = check_binary("event", event)
    if t.ndim != 1 or t.size != e.size:
        raise ValueError(f"time and event must be one-dimensional of equal length; got "
                         f"{t.shape} and {e.shape}.")
    if np.isnan(t).any() or (t < 0).any():
        raise ValueError("time must be non-negative without missing values; drop those cases.")
    if group is None:
        return t, e, None
    g = np.asarray(group)
    if g.shape != t.shape:
        raise ValueError(f"group must have one label per case ({t.size}); got shape {g.shape}.")
    if np.issubdtype(g.dtype, np.floating) and len(np.unique(g)) > 10:
        raise ValueError("group looks continuous; split the score into groups first, e.g. "
                         "np.where(score > np.median(score), 'high', 'low').")
    return t, e, g


def _groups(t, group):
    """Group labels; ``None`` means one group of everybody, labelled ``"all"``."""
    return np.full(t.size, "all", dtype=object) if group is None else group


def kaplan_meier(time, event, group=None, *, times=None, alpha=None, confidence=0.95):
    """Kaplan-Meier survival by group, with the log-rank test and numbers at risk.

    Parameters
    ----------
    time : array-like of float
        Follow-up time (e.g. months) to event or censoring.
    event : array-like of 0/1
        1 = event observed, 0 = censored.
    group : array-like, optional
        Group label per patient, e.g. ``"high"`` / ``"low"`` Rad-score.
        Default: one curve of all patients (group ``"all"``, no log-rank test).
    times : array-like, optional
        Times at which to count patients at risk (default: 6 evenly spaced).
    alpha : float, optional
        Deprecated: use ``confidence`` (= 1 - alpha).
    confidence : float, default 0.95
        Level of the pointwise band.

    Returns
    -------
    KaplanMeierResult
        ``survival``: ``group``, ``time``, ``survival``, ``ci_low``, ``ci_high``
        (step function, exponential Greenwood CI as in lifelines);
        ``at_risk``: ``group``, ``time``, ``at_risk``;
        ``logrank``: ``test_statistic``, ``df``, ``p-val`` (multivariate
        log-rank test when there are more than two groups; ``NaN`` with one
        group).

    References
    ----------
    Kaplan EL, Meier P. J Am Stat Assoc 1958;53:457-481. Mantel N. Cancer
    Chemother Rep 1966;50:163-170 (log-rank). Davidson-Pilon C. lifelines.
    J Open Source Softw 2019;4:1317.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> g = np.repeat(["high", "low"], 50)
    >>> t = rng.exponential(np.where(g == "high", 10, 30))
    >>> km = kaplan_meier(t, np.ones(100, int), g)
    >>> bool(km.logrank["p-val"].iloc[0] < 0.05)
    True
    """
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import multivariate_logrank_test

    alpha = 1 - resolve_confidence(confidence, alpha, func="kaplan_meier")
    t, e, g = _check_survival(time, event, group)
    g = _groups(t, g)
    labels = sorted(pd.unique(g), key=str)
    if times is None:
        times = np.linspace(0, np.max(t), 6)
    times = np.asarray(times, dtype=float)
    surv, risk = [], []
    for lab in labels:
        m = g == lab
        kmf = KaplanMeierFitter(alpha=alpha).fit(t[m], e[m], label=str(lab))
        ci = kmf.confidence_interval_survival_function_
        surv.append(pd.DataFrame({
            "group": lab, "time": kmf.survival_function_.index.to_numpy(),
            "survival": kmf.survival_function_.iloc[:, 0].to_numpy(),
            "ci_low": ci.iloc[:, 0].to_numpy(), "ci_high": ci.iloc[:, 1].to_numpy()}))
        risk.append(pd.DataFrame({"group": lab, "time": times,
                                  "at_risk": [(t[m] >= x).sum() for x in times]}))
    if len(labels) > 1:
        lr = multivariate_logrank_test(t, g, e)
        stat, pval = lr.test_statistic, lr.p_value
    else:
        stat, pval = np.nan, np.nan
    logrank = pd.DataFrame({"test_statistic": [stat],
                            "df": [len(labels) - 1], "p-val": [pval]})
    return KaplanMeierResult(pd.concat(surv, ignore_index=True),
                             pd.concat(risk, ignore_index=True), logrank)


def plot_kaplan_meier(time, event, group=None, *, ax=None, time_unit="months", at_risk=True):
    """Kaplan-Meier curves with confidence bands, log-rank p and numbers at risk.

    The log-rank p-value is printed as journals do ("p < 0.001", else three
    decimals); the exact value is in :func:`kaplan_meier`'s ``logrank``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_kaplan_meier(df["time"], df["event"], df["risk_group"])  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt
    from lifelines import KaplanMeierFitter
    from lifelines.plotting import add_at_risk_counts

    from radnb._utils.formatting import format_p

    t, e, g = _check_survival(time, event, group)
    g = _groups(t, g)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4.5))
    fitters = []
    for lab in sorted(pd.unique(g), key=str):
        m = g == lab
        kmf = KaplanMeierFitter().fit(t[m], e[m], label=f"{lab} (n={m.sum()})")
        kmf.plot_survival_function(ax=ax, ci_show=True)
        fitters.append(kmf)
    p = kaplan_meier(t, e, g).logrank["p-val"].iloc[0]
    if len(fitters) > 1:
        ax.text(0.98, 0.95, format_p(p, prefix=tr("log-rank p")), transform=ax.transAxes,
                ha="right", va="top")
    ax.set_xlabel(tr("Time ({unit})").format(unit=time_unit))
    ax.set_ylabel(tr("Survival probability (proportion)"))
    ax.set_ylim(0, 1.05)
    if at_risk:
        add_at_risk_counts(*fitters, ax=ax, rows_to_show=["At risk"])
    return ax


def cox_model(df, duration, event, covariates, *, alpha=None, penalizer=0.0, confidence=0.95):
    """Cox proportional-hazards model: hazard ratios with CIs and the C-index.

    Parameters
    ----------
    df : pandas.DataFrame
    duration, event : str
        Column names of follow-up time and event indicator (1 = event).
    covariates : sequence of str
        Columns entered in the model. Text or categorical columns are one-hot
        encoded (first level sorted = reference, dropped), with a warning
        naming the new columns.
    alpha : float, optional
        Deprecated: use ``confidence`` (= 1 - alpha).
    penalizer : float, default 0
        Ridge penalty (lifelines), useful with few events.
    confidence : float, default 0.95

    Returns
    -------
    CoxResult
        ``summary``: ``covariate``, ``coef``, ``SE``, ``HR``, ``ci_low``, ``ci_high``,
        ``CI95%`` (for the HR; named after the level), ``z``, ``p-val``; ``c_index``: Harrell's concordance of
        the fitted model on these data (apparent, optimistic: validate it on
        other data); ``model``: the lifelines ``CoxPHFitter``.

    References
    ----------
    Cox DR. Regression models and life-tables. J R Stat Soc B 1972;34:187-220.
    Harrell FE et al. Evaluating the yield of medical tests. JAMA 1982;247:2543-2546.

    Examples
    --------
    >>> res = cox_model(df, "time", "event", ["rad_score", "age"])  # doctest: +SKIP
    >>> res.summary[["covariate", "HR", "ci_low", "ci_high", "p-val"]]  # doctest: +SKIP
    """
    from lifelines import CoxPHFitter
    from scipy.stats import norm

    alpha = 1 - resolve_confidence(confidence, alpha, func="cox_model")
    covariates = list(covariates)
    check_columns(df, [duration, event, *covariates], what="cox_model data")
    data = df[[duration, event, *covariates]]
    text = [c for c in covariates if not pd.api.types.is_numeric_dtype(data[c])
            or isinstance(data[c].dtype, pd.CategoricalDtype)]
    if text and not data[text].isna().any().any():
        import warnings

        dummies = pd.get_dummies(data[text].astype("category"), prefix=text, drop_first=True,
                                 dtype=float)
        refs = {c: sorted(data[c].astype(str).unique())[0] if not isinstance(
            data[c].dtype, pd.CategoricalDtype) else data[c].cat.categories[0] for c in text}
        warnings.warn(
            f"cox_model: one-hot encoded the non-numeric covariate(s) {text} into "
            f"{list(dummies.columns)} (reference level: "
            + ", ".join(f"{c}={r}" for c, r in refs.items()) + ").", UserWarning, stacklevel=user_stacklevel())
        data = pd.concat([data.drop(columns=text), dummies], axis=1)
    if data.isna().any().any():
        bad = data.columns[data.isna().any()].tolist()
        raise ValueError(f"columns {bad} have missing values; impute or drop those cases first.")
    _check_survival(data[duration], data[event])
    cph = CoxPHFitter(alpha=alpha, penalizer=penalizer).fit(data, duration, event)
    s = cph.summary
    zq = norm.ppf(1 - alpha / 2)
    coef, se = s["coef"].to_numpy(), s["se(coef)"].to_numpy()
    low, high = np.exp(coef - zq * se), np.exp(coef + zq * se)
    summary = pd.DataFrame({
        "covariate": s.index.to_numpy(), "coef": coef, "SE": se, "HR": np.exp(coef),
        "ci_low": low, "ci_high": high,
        ci_column(1 - alpha): [ci_cell(lo, hi) for lo, hi in zip(low, high)],
        "z": s["z"].to_numpy(), "p-val": s["p"].to_numpy()})
    return CoxResult(summary=summary, c_index=float(cph.concordance_index_), model=cph,
                     n=int(len(data)), n_events=int(data[event].sum()))
