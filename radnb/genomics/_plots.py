"""Figures of the radiogenomics step: association heatmap, permutation null, model checks."""
from __future__ import annotations

import numpy as np

from radnb._utils.features import split_feature_name
from radnb._utils.i18n import tr
from radnb._utils.validation import check_columns, check_range

__all__ = ["plot_association", "plot_permutation_null", "plot_confusion",
           "plot_regression_calibration"]


def _feature_class(name):
    try:
        return split_feature_name(name)[1]
    except ValueError:
        return tr("other")


def plot_association(result, top_features=20, top_genes=30, *, fdr=None, cluster=True,
                     figsize=None):
    """Clustered heatmap of the strongest feature-gene correlations from :func:`associate`.

    Only the ``top_features`` features and ``top_genes`` genes with the smallest
    p-values are drawn, so the map stays readable; a ``*`` marks pairs with
    ``q < fdr``, and a colour bar on the left gives each feature's class
    (firstorder, glcm, shape, ...).

    Parameters
    ----------
    result : pandas.DataFrame
        Output of :func:`associate` (all pairs).
    top_features, top_genes : int
    fdr : float, optional
        Significance level of the marks (default: the one used by ``associate``).
    cluster : bool, default True
        Reorder rows and columns by hierarchical clustering of the correlations.
    figsize : tuple, optional

    Returns
    -------
    seaborn.matrix.ClusterGrid

    Examples
    --------
    >>> grid = plot_association(associate(features, genes))  # doctest: +SKIP
    """
    import pandas as pd
    import seaborn as sns
    from matplotlib.patches import Patch

    check_columns(result, ["feature", "gene", "rho", "q"], what="result")
    check_range("top_features", top_features, 2)
    check_range("top_genes", top_genes, 2)
    fdr = result.attrs.get("fdr", 0.05) if fdr is None else fdr
    best = result.sort_values("p", kind="stable")
    feats = list(dict.fromkeys(best["feature"].astype(str)))[: int(top_features)]
    gns = list(dict.fromkeys(best["gene"].astype(str)))[: int(top_genes)]
    sub = result[result["feature"].astype(str).isin(feats) & result["gene"].astype(str).isin(gns)]
    rho = sub.pivot_table(index="feature", columns="gene", values="rho", observed=True)
    q = sub.pivot_table(index="feature", columns="gene", values="q", observed=True)
    rho = rho.reindex(index=feats, columns=gns)
    q = q.reindex(index=feats, columns=gns)
    marks = np.where(q.to_numpy() < fdr, "*", "")
    classes = pd.Series([_feature_class(f) for f in feats], index=feats)
    palette = dict(zip(sorted(classes.unique()), sns.color_palette("tab10", classes.nunique())))
    colours = classes.map(palette).rename("class")
    size = figsize or (max(6, 0.3 * len(gns) + 4), max(5, 0.3 * len(feats) + 3))
    lim = float(np.nanmax(np.abs(rho.to_numpy()))) or 1.0
    rho_label = tr("{method} rho").format(method=result.attrs.get("method", "")).strip()
    grid = sns.clustermap(
        rho.fillna(0), row_cluster=cluster and len(feats) > 2, col_cluster=cluster and len(gns) > 2,
        cmap="RdBu_r", vmin=-lim, vmax=lim, row_colors=colours, annot=marks, fmt="",
        annot_kws={"fontsize": 8}, figsize=size, cbar_kws={"label": rho_label},
        xticklabels=True, yticklabels=[f.replace("original_", "") for f in feats],
    )
    grid.ax_heatmap.set_xlabel(tr("gene"))
    grid.ax_heatmap.set_ylabel(tr("feature"))
    grid.figure.legend(handles=[Patch(color=c, label=k) for k, c in palette.items()],
                       title=tr("feature class (left colour bar)"), loc="upper center",
                       bbox_to_anchor=(0.5, 0.0), ncol=min(len(palette), 8), fontsize=8,
                       frameon=False)
    n_sig = int(result["significant"].sum()) if "significant" in result else 0
    grid.figure.suptitle(tr("Top {n_features} features x {n_genes} genes; * q < {fdr:g} "
                            "({n_significant} significant pairs of {n_pairs})").format(
        n_features=len(feats), n_genes=len(gns), fdr=fdr, n_significant=n_sig,
        n_pairs=len(result)), y=1.02)
    return grid


def plot_permutation_null(null, *, ax=None):
    """Discoveries in the real data against shuffled data, with and without FDR control.

    Parameters
    ----------
    null : pandas.DataFrame
        Output of :func:`permutation_null`.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    check_columns(null, ["shuffled", "raw_hits", "fdr_hits"], what="null")
    ax = ax or plt.subplots(figsize=(6, 4))[1]
    shuffled = null[null["shuffled"]]
    observed = null[~null["shuffled"]].iloc[0]
    alpha, fdr = null.attrs.get("alpha", 0.05), null.attrs.get("fdr", 0.05)
    labels = [tr("p < {alpha:g}\n(no correction)").format(alpha=alpha),
              tr("q < {fdr:g}\n(Benjamini-Hochberg)").format(fdr=fdr)]
    for k, col in enumerate(["raw_hits", "fdr_hits"]):
        jitter = np.linspace(-0.15, 0.15, len(shuffled))
        ax.scatter(k + jitter, shuffled[col], color="grey", s=14, alpha=0.7,
                   label=tr("shuffled patients") if k == 0 else None)
        ax.scatter([k], [observed[col]], color="crimson", s=60, marker="D",
                   label=tr("real data") if k == 0 else None)
    ax.set_xticks([0, 1], labels)
    ax.set_ylabel(tr("feature-gene pairs called significant"))
    ax.set_title(tr("{n} tests: discoveries by chance").format(n=int(observed["n_tests"])))
    ax.legend(frameon=False)
    return ax


def plot_confusion(result, *, ax=None, normalize=False):
    """Heatmap of a :func:`subtype_model` confusion matrix (observed rows, predicted columns)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    cm = result.confusion
    if cm is None:
        raise ValueError(tr("result has no confusion matrix; pass a subtype_model result."))
    data = cm.div(cm.sum(axis=1), axis=0) if normalize else cm
    ax = ax or plt.subplots(figsize=(4.5, 4))[1]
    sns.heatmap(data, annot=True, fmt=".2f" if normalize else "d", cmap="Blues", cbar=False, ax=ax)
    ax.set_xlabel(tr("predicted (out-of-fold)"))
    ax.set_ylabel(tr("observed"))
    return ax


def plot_regression_calibration(result, *, ax=None, n_bins=5):
    """Observed against out-of-fold predicted values of a :func:`radscore_regression`.

    Points per patient, the means of ``n_bins`` prediction quantile groups, the
    identity line (perfect calibration) and the fitted calibration line.
    """
    import matplotlib.pyplot as plt
    import pandas as pd

    oof = result.oof
    ax = ax or plt.subplots(figsize=(5, 5))[1]
    ax.scatter(oof["predicted"], oof["observed"], s=12, alpha=0.5, color="grey", label=tr("patients"))
    groups = pd.qcut(oof["predicted"], n_bins, labels=False, duplicates="drop")
    means = oof.groupby(groups)[["predicted", "observed"]].mean()
    ax.plot(means["predicted"], means["observed"], "o-", color="crimson",
            label=tr("mean of {n} groups").format(n=len(means)))
    lo = float(min(oof["predicted"].min(), oof["observed"].min()))
    hi = float(max(oof["predicted"].max(), oof["observed"].max()))
    ax.plot([lo, hi], [lo, hi], "k--", lw=1, label=tr("perfect calibration"))
    m = result.metrics.set_index("metric")["value"]
    xs = np.array([lo, hi])
    ax.plot(xs, m["calibration intercept"] + m["calibration slope"] * xs, color="tab:blue",
            label=tr("fit: slope {slope:.2f}").format(slope=m["calibration slope"]))
    ax.set_xlabel(tr("predicted (out-of-fold)"))
    ax.set_ylabel(tr("observed"))
    ax.set_title(tr("R² (out-of-fold) = {r2:.2f}").format(r2=m["R2 (out-of-fold)"]))
    ax.legend(frameon=False, fontsize=8)
    return ax
