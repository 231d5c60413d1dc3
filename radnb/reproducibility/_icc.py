"""Vectorised intraclass correlation: two-way ANOVA mean squares and the six
Shrout & Fleiss (1979) forms with McGraw & Wong (1996) confidence intervals.

Everything works on an array ``Y`` of shape ``(m, n, k)``: ``m`` variables
(features), ``n`` targets (cases), ``k`` raters (readers, time points,
perturbations). A target missing a rating for a variable is left out of that
variable only (``NaN`` in ``Y``), so every variable keeps its own ``n``.
The public wrappers live in :mod:`radnb.reproducibility`.
"""
from __future__ import annotations

import numpy as np

__all__ = ["ICC_TYPES", "ICC_DESCRIPTIONS", "ICC_ALIASES", "icc_arrays", "resolve_icc_type"]

ICC_TYPES = ("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k")
ICC_DESCRIPTIONS = {
    "ICC1": "Single raters absolute",
    "ICC2": "Single random raters",
    "ICC3": "Single fixed raters",
    "ICC1k": "Average raters absolute",
    "ICC2k": "Average random raters",
    "ICC3k": "Average fixed raters",
}
# Shrout & Fleiss names, McGraw & Wong names (as pingouin >= 0.6 prints them)
# and the short names of pingouin <= 0.5 all map onto one label.
ICC_ALIASES = {
    **{t: t for t in ICC_TYPES},
    "ICC(1,1)": "ICC1", "ICC(2,1)": "ICC2", "ICC(3,1)": "ICC3",
    "ICC(1,k)": "ICC1k", "ICC(2,k)": "ICC2k", "ICC(3,k)": "ICC3k",
    "ICC(A,1)": "ICC2", "ICC(C,1)": "ICC3", "ICC(A,k)": "ICC2k", "ICC(C,k)": "ICC3k",
}


def resolve_icc_type(icc_type: str) -> str:
    """Map ``'ICC(2,1)'``, ``'ICC(A,1)'`` or ``'ICC2'`` onto radnb's label ``'ICC2'``."""
    from radnb._utils.validation import check_option

    key = icc_type if icc_type in ICC_ALIASES else str(icc_type).replace(" ", "")
    if key not in ICC_ALIASES:
        check_option("icc_type", icc_type, ICC_ALIASES)
    return ICC_ALIASES[key]


def _mean_squares(Y):
    """Two-way ANOVA (targets x raters, one rating per cell) mean squares.

    Returns ``n`` (complete targets per variable), ``k``, and the mean squares
    between targets (``msr``), between raters (``msc``), residual (``mse``) and
    within targets (``msw``), each of shape ``(m,)``.
    """
    m, n_all, k = Y.shape
    complete = ~np.isnan(Y).any(axis=2)                        # (m, n)
    n = complete.sum(axis=1).astype(float)                     # (m,)
    Z = np.where(complete[..., None], Y, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        grand = Z.sum(axis=(1, 2)) / (n * k)                   # (m,)
        # centre on the grand mean first: features such as Energy reach 1e10
        D = np.where(complete[..., None], Z - grand[:, None, None], 0.0)
        row = D.mean(axis=2)                                   # target means (m, n)
        col = D.sum(axis=1) / n[:, None]                       # rater means (m, k)
        ss_rows = k * (row ** 2).sum(axis=1)
        ss_cols = n * (col ** 2).sum(axis=1)
        # residuals summed directly (not SS_total - SS_rows - SS_cols): no cancellation
        # when raters agree perfectly, e.g. firstorder Maximum on the same image
        resid = np.where(complete[..., None], D - row[..., None] - col[:, None, :], 0.0)
        ss_err = (resid ** 2).sum(axis=(1, 2))
        msr = ss_rows / (n - 1)
        msc = ss_cols / (k - 1)
        mse = ss_err / ((n - 1) * (k - 1))
        msw = (ss_cols + ss_err) / (n * (k - 1))
    return n, k, msr, msc, mse, msw


def icc_arrays(Y, *, confidence: float = 0.95) -> dict:
    """All six ICC forms for every variable of ``Y`` (shape ``(m, n, k)``).

    Returns a dict ``{label: {"ICC", "F", "df1", "df2", "pval", "low", "high"}}``
    of arrays of shape ``(m,)`` plus ``"n"`` and ``"k"``. Formulas: Shrout &
    Fleiss (1979) for the ICCs, McGraw & Wong (1996, Table 7) for the intervals
    (the Satterthwaite-type interval for ICC2 / ICC2k), as in R's ``psych::ICC``.
    """
    from scipy import stats

    Y = np.asarray(Y, dtype=float)
    n, k, msr, msc, mse, msw = _mean_squares(Y)
    a = 1.0 - confidence
    df1 = n - 1
    df_w = n * (k - 1)
    df_e = (n - 1) * (k - 1)
    out = {"n": n, "k": k}
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        icc1 = (msr - msw) / (msr + (k - 1) * msw)
        icc2 = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
        icc3 = (msr - mse) / (msr + (k - 1) * mse)
        icc1k = (msr - msw) / msr
        icc2k = (msr - mse) / (msr + (msc - mse) / n)
        icc3k = (msr - mse) / msr

        f1 = msr / msw
        f3 = msr / mse
        p1 = stats.f.sf(f1, df1, df_w)
        p3 = stats.f.sf(f3, df1, df_e)

        # one-way and consistency forms: exact F-based limits
        f1l = f1 / stats.f.ppf(1 - a / 2, df1, df_w)
        f1u = f1 * stats.f.ppf(1 - a / 2, df_w, df1)
        f3l = f3 / stats.f.ppf(1 - a / 2, df1, df_e)
        f3u = f3 * stats.f.ppf(1 - a / 2, df_e, df1)
        l1, u1 = _from_f(f1l, k), _from_f(f1u, k)
        l3, u3 = _from_f(f3l, k), _from_f(f3u, k)

        # absolute agreement, random raters: approximate (Satterthwaite) df
        fj = msc / mse
        vn = df_e * (k * icc2 * fj + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
        vd = df1 * k ** 2 * icc2 ** 2 * fj ** 2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
        # mse -> 0 (raters differ by a constant only): v tends to k - 1
        v = np.where(np.isposinf(fj), k - 1.0, vn / vd)
        f2u = stats.f.ppf(1 - a / 2, df1, v)
        f2l = stats.f.ppf(1 - a / 2, v, df1)
        base = k * msc + (k * n - k - n) * mse
        l2 = n * (msr - f2u * mse) / (f2u * base + n * msr)
        u2 = n * (f2l * msr - mse) / (base + n * f2l * msr)
        perfect = (mse == 0) & (msc == 0) & (msr > 0)         # identical ratings
        l2, u2 = np.where(perfect, 1.0, l2), np.where(perfect, 1.0, u2)
        l2k = l2 * k / (1 + l2 * (k - 1))
        u2k = u2 * k / (1 + u2 * (k - 1))

    one = dict(F=f1, df1=df1, df2=df_w, pval=p1)
    two = dict(F=f3, df1=df1, df2=df_e, pval=p3)
    out["ICC1"] = dict(ICC=icc1, low=l1, high=u1, **one)
    out["ICC2"] = dict(ICC=icc2, low=l2, high=u2, **two)
    out["ICC3"] = dict(ICC=icc3, low=l3, high=u3, **two)
    out["ICC1k"] = dict(ICC=icc1k, low=1 - 1 / f1l, high=1 - 1 / f1u, **one)
    out["ICC2k"] = dict(ICC=icc2k, low=l2k, high=u2k, **two)
    out["ICC3k"] = dict(ICC=icc3k, low=1 - 1 / f3l, high=1 - 1 / f3u, **two)
    return out


def _from_f(f, k):
    """``(F - 1) / (F + k - 1)``, which tends to 1 for F -> inf (perfect agreement)."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isposinf(f), 1.0, (f - 1) / (f + k - 1))
