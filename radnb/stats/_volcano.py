"""Volcano plot behind :func:`radnb.stats.plot_volcano`.

The legend sits outside the axes (right), so it never hides points; the
``n_labels`` strongest features get small labels that are pushed apart
vertically, placed towards the centre of the plot and clipped to the axes.
"""
from __future__ import annotations

import numpy as np

from radnb._utils.i18n import tr

_FONT = 7  # label font size in points


def volcano(table, *, ax=None, alpha=0.05, n_labels=5):
    import matplotlib.pyplot as plt

    from radnb._utils.validation import check_columns

    check_columns(table, ["p-val", "p-fdr", "effsize"], what="univariate table")
    if isinstance(n_labels, bool) or not isinstance(n_labels, (int, np.integer)) or n_labels < 0:
        raise ValueError(f"n_labels must be a whole number >= 0; got {n_labels!r}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 4.5), layout="constrained")
    t = table.dropna(subset=["p-val"])
    logp = -np.log10(t["p-val"].clip(lower=1e-300))
    sig = t["p-fdr"] < alpha
    ax.scatter(t.loc[~sig, "effsize"], logp[~sig], s=14, color="0.6",
               label=tr("not significant"))
    ax.scatter(t.loc[sig, "effsize"], logp[sig], s=18, color="C3",
               label=tr("FDR < {alpha:g} ({n})").format(alpha=alpha, n=int(sig.sum())))
    ax.axhline(-np.log10(alpha), ls="--", color="0.3", lw=1,
               label=tr("p < {alpha:g} uncorrected ({n})").format(
                   alpha=alpha, n=int((t["p-val"] < alpha).sum())))
    kind = t["effsize_type"].iloc[0] if "effsize_type" in t and len(t) else tr("effect size")
    ax.set_xlabel(tr("effect size ({kind}; > 0 = higher in outcome 1)").format(kind=kind))
    ax.set_ylabel(tr("-log10(p-value)"))
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1), borderaxespad=0)
    top = logp.sort_values(ascending=False).index[:int(n_labels)]
    if len(top):
        _label(ax, t.loc[top, "effsize"].to_numpy(float), logp[top].to_numpy(float), top)
    return ax


def _label(ax, x, y, names):
    """Annotate points (x, y) with names, inside the axes and without overlaps."""
    lo, hi = ax.get_ylim()
    n = len(names)
    ax.set_ylim(lo, hi + (hi - lo) * (0.05 + 0.02 * n))  # head room for the top labels
    x0, x1 = ax.get_xlim()
    pad = (x1 - x0) * 0.05
    ax.set_xlim(x0 - pad, x1 + pad)
    lo, hi = ax.get_ylim()
    height_in = ax.get_position().height * ax.figure.get_figheight()
    step = (hi - lo) * (_FONT * 1.5 / 72) / max(height_in, 0.5)  # one text line in data units
    centre = (x0 + x1) / 2
    text_y = []
    for yi in y:  # y is sorted from the strongest down: fill downwards without overlap
        pos = min(yi, hi - step, text_y[-1] - step if text_y else np.inf)
        text_y.append(pos)
    gap = (x1 - x0 + 2 * pad) * 0.015
    for xi, yi, ty, name in zip(x, y, text_y, names):
        right = xi > centre  # write towards the centre so long names stay inside
        ax.annotate(
            str(name), (xi, yi), xytext=(xi - gap if right else xi + gap, ty), textcoords="data",
            fontsize=_FONT,
            ha="right" if right else "left", va="center", clip_on=True,
            annotation_clip=True,
            arrowprops={"arrowstyle": "-", "color": "0.5", "lw": 0.5, "shrinkA": 0, "shrinkB": 2},
        )
