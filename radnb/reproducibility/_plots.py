"""Figures of feature reproducibility (public through :mod:`radnb.reproducibility`)."""
from __future__ import annotations

from radnb._utils.i18n import tr
from radnb.reproducibility._icc_filter import filter_family, robust_summary
from radnb._utils.validation import check_columns

__all__ = ["plot_icc", "plot_robust_fraction"]

_CLASS_ORDER = ("shape", "shape2D", "firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm")


def _order(values, preferred=_CLASS_ORDER):
    present = list(dict.fromkeys(values))
    return [c for c in preferred if c in present] + sorted(c for c in present if c not in preferred)


def plot_icc(icc_table, *, threshold=0.75, ax=None):
    """ICC of every feature by feature class (x) and image filter (colour).

    One dot per feature, grouped by class and filter, with a bar at the group
    median and a line over its interquartile range; the dashed line marks
    ``threshold``.

    Parameters
    ----------
    icc_table : pandas.DataFrame
        Output of :func:`feature_icc`.
    threshold : float or None, default 0.75
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"image_type": ["original", "wavelet-LLH"],
    ...                   "feature_class": ["glcm", "glcm"], "ICC": [0.9, 0.5]})
    >>> plot_icc(t).get_ylabel()
    'ICC (unitless, 1 = perfect agreement)'
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    check_columns(icc_table, ["image_type", "feature_class", "ICC"], what="icc_table")
    data = icc_table.assign(filter=icc_table["image_type"].map(filter_family))
    order = _order(data["feature_class"])
    hue_order = _order(data["filter"], ("original", "log", "wavelet"))
    if ax is None:
        _, ax = plt.subplots(figsize=(max(6, 1.1 * len(order) * max(1, len(hue_order)) ** 0.5), 4))
    sns.stripplot(data=data, x="feature_class", y="ICC", hue="filter", order=order,
                  hue_order=hue_order, dodge=True, size=2.5, alpha=0.45, jitter=0.25, ax=ax)
    # median and interquartile range of each class x filter group
    sns.pointplot(data=data, x="feature_class", y="ICC", hue="filter", order=order,
                  hue_order=hue_order, dodge=0.8 - 0.8 / max(len(hue_order), 1),
                  estimator="median", errorbar=("pi", 50), linestyle="none", marker="_",
                  markersize=14, markeredgewidth=2.5, legend=False, ax=ax,
                  palette=["0.15"] * len(hue_order))
    if threshold is not None:
        ax.axhline(threshold, color="C3", linestyle="--", linewidth=1)
    ax.set_xlabel(tr("Feature class"))
    ax.set_ylabel(tr("ICC (unitless, 1 = perfect agreement)"))
    lo = min(0.0, float(data["ICC"].min())) if data["ICC"].notna().any() else 0.0
    ax.set_ylim(max(lo, -1.0) - 0.05, 1.05)
    if ax.get_legend() is not None:
        ax.legend(title=tr("Filter"), fontsize=8, title_fontsize=8, loc="lower left")
    return ax


def plot_robust_fraction(icc_table, threshold=0.75, *, ci="lower", ax=None):
    """Bar chart of the share of robust features per class and filter.

    Parameters
    ----------
    icc_table : pandas.DataFrame
        Output of :func:`feature_icc`.
    threshold : float, default 0.75
    ci : {"lower", "point"}, default "lower"
        Compare the lower confidence limit or the ICC itself with ``threshold``.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"feature": ["a", "b"], "image_type": ["original", "original"],
    ...                   "feature_class": ["glcm", "glcm"], "ICC": [0.9, 0.5], "ci_low": [0.8, 0.3]})
    >>> plot_robust_fraction(t).get_ylabel()
    'Robust features (%)'
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    summary = robust_summary(icc_table, threshold, ci=ci)
    summary["percent"] = 100 * summary["fraction_robust"]
    order = _order(summary["feature_class"])
    hue_order = _order(summary["filter"], ("original", "log", "wavelet"))
    if ax is None:
        _, ax = plt.subplots(figsize=(max(6, 1.1 * len(order)), 4))
    sns.barplot(data=summary, x="feature_class", y="percent", hue="filter", order=order,
                hue_order=hue_order, ax=ax)
    ax.set_ylim(0, 105)
    ax.set_xlabel(tr("Feature class"))
    ax.set_ylabel(tr("Robust features (%)"))
    title = (tr("Robust = lower 95% CI of ICC ≥ {threshold:g}") if ci == "lower"
             else tr("Robust = ICC ≥ {threshold:g}"))
    ax.set_title(title.format(threshold=threshold))
    if ax.get_legend() is not None:
        ax.legend(title=tr("Filter"), fontsize=8, title_fontsize=8)
    return ax
