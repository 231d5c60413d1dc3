"""Agreement of two measurements: Lin's CCC and Bland-Altman statistics.

Public through :mod:`radnb.reproducibility`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from radnb._utils.errors import user_stacklevel
from radnb._utils.i18n import tr
from radnb._utils.intervals import ci_cell, ci_column
from radnb._utils.validation import check_range

__all__ = ["ccc", "bland_altman", "plot_bland_altman"]


def _paired(x, y, func="ccc", warn=True):
    import warnings

    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape:
        raise ValueError(
            f"x and y must hold the same number of paired measurements; got {x.size} and {y.size}."
        )
    keep = ~(np.isnan(x) | np.isnan(y))
    if warn and not keep.all():
        warnings.warn(
            tr("{func}: left out {n} of {total} pairs with a missing value (x: {nx}, y: {ny}); "
               "column n counts the pairs used.").format(
                func=func, n=int((~keep).sum()), total=keep.size, nx=int(np.isnan(x).sum()),
                ny=int(np.isnan(y).sum())), UserWarning, stacklevel=user_stacklevel())
    x, y = x[keep], y[keep]
    if x.size < 3:
        raise ValueError(f"need at least 3 complete pairs; got {x.size}.")
    return x, y, int((~keep).sum())


def ccc(x, y, *, confidence=0.95):
    """Lin's concordance correlation coefficient with a z-transform CI.

    ``CCC = 2 s_xy / (s_x^2 + s_y^2 + (mean_x - mean_y)^2)`` with variances
    divided by ``n`` (Lin 1989). It is Pearson's ``r`` (precision) times the
    bias correction ``C_b`` (accuracy: how close the best-fit line is to the
    45-degree line). The interval uses Fisher's z with Lin's (1989, corrected
    2000) standard error, as R's ``epiR::epi.ccc`` and ``DescTools::CCC``.
    Pairs with a missing value are left out, with a warning counting them.

    Parameters
    ----------
    x, y : array-like
        Paired measurements (e.g. reader 1 and reader 2 for the same cases).
    confidence : float, default 0.95

    Returns
    -------
    pandas.DataFrame
        One row (index ``"CCC"``): ``n``, ``CCC``, ``CI95%`` (``[low, high]``,
        named after ``confidence``),
        ``ci_low``, ``ci_high``, ``r`` (Pearson), ``C_b``.

    References
    ----------
    Lin, L. I. (1989). A concordance correlation coefficient to evaluate
    reproducibility. Biometrics 45, 255-268; (2000) A note on the concordance
    correlation coefficient. Biometrics 56, 324-325.

    Examples
    --------
    >>> res = ccc([1, 2, 3, 4, 5], [2, 3, 4, 5, 6])
    >>> float(res.loc["CCC", "CCC"])
    0.8
    """
    from scipy import stats

    check_range("confidence", confidence, 0, 1, inclusive=False)
    x, y, _ = _paired(x, y, "ccc")
    n = x.size
    mx, my = x.mean(), y.mean()
    sx2, sy2 = x.var(), y.var()                        # divisor n, as Lin (1989)
    sxy = ((x - mx) * (y - my)).mean()
    rc = 2 * sxy / (sx2 + sy2 + (mx - my) ** 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = sxy / np.sqrt(sx2 * sy2)
        u = (mx - my) / (sx2 * sy2) ** 0.25
        var_rc = ((1 - r ** 2) * rc ** 2 * (1 - rc ** 2) / r ** 2
                  + 2 * rc ** 3 * (1 - rc) * u ** 2 / r
                  - 0.5 * rc ** 4 * u ** 4 / r ** 2) / (n - 2)
        se_z = np.sqrt(var_rc) / (1 - rc ** 2)
        z = np.arctanh(rc)
        q = stats.norm.ppf(0.5 + confidence / 2)
        low, high = np.tanh(z - q * se_z), np.tanh(z + q * se_z)
    return pd.DataFrame({
        "n": [n], "CCC": [rc], ci_column(confidence): [ci_cell(low, high)], "ci_low": [low],
        "ci_high": [high], "r": [r], "C_b": [rc / r],
    }, index=["CCC"])


def bland_altman(x, y, *, loa=1.96, confidence=0.95):
    """Bland-Altman agreement statistics: bias, SD, limits of agreement and their CIs.

    Differences are ``x - y``. The limits of agreement are
    ``bias -/+ loa * SD``; their confidence intervals use the standard error
    ``SD * sqrt(1/n + loa^2 / (2 (n - 1)))`` and Student's t with ``n - 1``
    degrees of freedom (Bland & Altman 1999, section 2.2; the 1986 paper's
    ``sqrt(3 SD^2 / n)`` is its approximation for ``loa = 2``).

    Parameters
    ----------
    x, y : array-like
        Paired measurements; pairs with a missing value are left out.
    loa : float, default 1.96
        Multiplier of the SD (2 in the 1986 paper).
    confidence : float, default 0.95

    Returns
    -------
    pandas.DataFrame
        One row (index ``"bland_altman"``): ``n``, ``bias``, ``sd``,
        ``loa_low``, ``loa_high``, ``bias_ci_low``, ``bias_ci_high``,
        ``loa_low_ci_low``, ``loa_low_ci_high``, ``loa_high_ci_low``,
        ``loa_high_ci_high``, ``p-val`` (one-sample t test of bias = 0).

    References
    ----------
    Bland, J. M. & Altman, D. G. (1986). Statistical methods for assessing
    agreement between two methods of clinical measurement. Lancet i, 307-310.
    Bland, J. M. & Altman, D. G. (1999). Measuring agreement in method
    comparison studies. Stat Methods Med Res 8, 135-160.

    Examples
    --------
    >>> res = bland_altman([10, 12, 14, 16], [11, 12, 13, 17])
    >>> float(res.loc["bland_altman", "bias"])
    -0.25
    """
    from scipy import stats

    check_range("loa", loa, 0, None, inclusive=False)
    check_range("confidence", confidence, 0, 1, inclusive=False)
    x, y, _ = _paired(x, y, "bland_altman")
    d = x - y
    n = d.size
    bias, sd = d.mean(), d.std(ddof=1)
    t = stats.t.ppf(0.5 + confidence / 2, n - 1)
    se_bias = sd / np.sqrt(n)
    se_loa = sd * np.sqrt(1 / n + loa ** 2 / (2 * (n - 1)))
    lo, hi = bias - loa * sd, bias + loa * sd
    with np.errstate(invalid="ignore", divide="ignore"):
        pval = 2 * stats.t.sf(abs(bias / se_bias), n - 1)
    return pd.DataFrame({
        "n": [n], "bias": [bias], "sd": [sd], "loa_low": [lo], "loa_high": [hi],
        "bias_ci_low": [bias - t * se_bias], "bias_ci_high": [bias + t * se_bias],
        "loa_low_ci_low": [lo - t * se_loa], "loa_low_ci_high": [lo + t * se_loa],
        "loa_high_ci_low": [hi - t * se_loa], "loa_high_ci_high": [hi + t * se_loa],
        "p-val": [pval],
    }, index=["bland_altman"])


def plot_bland_altman(x, y, *, loa=1.96, labels=None, units="", ax=None):
    """Bland-Altman plot: difference ``x - y`` against the mean of each pair.

    Draws the bias and the limits of agreement (dashed) with their confidence
    intervals as shaded bands, each labelled with its value.

    Parameters
    ----------
    x, y : array-like
    loa : float, default 1.96
    labels : (str, str), optional
        Names of the two measurements for the axis labels, e.g.
        ``("scan 1", "scan 2")``; default: the names of ``x`` and ``y`` when
        both are named pandas Series, else ``("x", "y")``.
    units : str, optional
        Unit shown in the axis labels (e.g. ``"HU"``, ``"mm³"``).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_bland_altman([10, 12, 14, 16], [11, 12, 13, 17], units="mL")
    >>> ax.get_xlabel()
    'Mean of the two measurements (mL)'
    >>> ax = plot_bland_altman([10, 12, 14, 16], [11, 12, 13, 17], labels=("reader 1", "reader 2"))
    >>> ax.get_ylabel()
    'Difference reader 1 - reader 2'
    """
    import matplotlib.pyplot as plt

    from radnb._utils.formatting import format_number

    name_x, name_y = _labels(x, y, labels)
    if not isinstance(units, str):
        raise TypeError(f"units must be a string such as 'HU'; got {units!r}.")
    stats_ = bland_altman(x, y, loa=loa).iloc[0]
    xa, ya, _ = _paired(x, y, warn=False)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    ax.scatter((xa + ya) / 2, xa - ya, s=14, alpha=0.7, color="C0")
    u = f" {units}" if units else ""
    for key, style, text in (("bias", "-", tr("bias: {value}{units}")),
                             ("loa_low", "--", tr("-{k:g} SD: {value}{units}")),
                             ("loa_high", "--", tr("+{k:g} SD: {value}{units}"))):
        ax.axhline(stats_[key], color="C3", linestyle=style, linewidth=1)
        ax.axhspan(stats_[f"{key}_ci_low"], stats_[f"{key}_ci_high"], color="C3", alpha=0.1)
        ax.annotate(text.format(k=loa, value=format_number(stats_[key]), units=u),
                    xy=(1, stats_[key]),
                    xycoords=("axes fraction", "data"), ha="right", va="bottom", fontsize=8,
                    color="C3")
    u = f" ({units})" if units else ""
    ax.set_xlabel(tr("Mean of the two measurements{units}").format(units=u))
    ax.set_ylabel(tr("Difference {x} - {y}{units}").format(x=name_x, y=name_y, units=u))
    ax.set_title(tr("Bland-Altman: bias {bias}, LoA ±{k:g} SD").format(
        bias=format_number(stats_["bias"]), k=loa))
    return ax


def _labels(x, y, labels):
    if labels is None:
        names = [getattr(v, "name", None) if isinstance(v, pd.Series) else None for v in (x, y)]
        if all(n is not None for n in names) and names[0] != names[1]:
            return str(names[0]), str(names[1])
        return "x", "y"
    if isinstance(labels, str) or len(labels) != 2:
        raise ValueError(f"labels must be two names (name_x, name_y); got {labels!r}.")
    return str(labels[0]), str(labels[1])
