"""Site-effect diagnostics (public through :mod:`radnb.harmonize`)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from radnb._utils.features import feature_columns
from radnb._utils.i18n import tr

__all__ = ["site_effect", "plot_site_pca"]


def site_effect(features, batch):
    """Kruskal-Wallis test of each feature across sites (is there a site effect?).

    Parameters
    ----------
    features : pandas.DataFrame
        Feature table (pyradiomics feature columns are used, else all numeric columns).
    batch : array-like or str
        Site per row, or the name of the site column in ``features``.

    Returns
    -------
    pandas.DataFrame
        One row per feature: ``feature``, ``H`` (Kruskal-Wallis statistic),
        ``p-val`` and ``p-adj`` (Benjamini-Hochberg false discovery rate).
        Run it before and after harmonisation and compare.

    References
    ----------
    Kruskal WH, Wallis WA. J Am Stat Assoc 1952;47:583-621.
    Benjamini Y, Hochberg Y. J R Stat Soc B 1995;57:289-300.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"site": np.repeat(["A", "B"], 30), "f": rng.normal(size=60)})
    >>> site_effect(df, "site").columns.tolist()
    ['feature', 'H', 'p-val', 'p-adj']
    """
    from scipy.stats import kruskal
    from statsmodels.stats.multitest import multipletests

    features = _as_frame(features)
    if isinstance(batch, str) and batch in features.columns:
        batch = features[batch]
    site = pd.Series(_as_1d("batch", batch, len(features)), index=features.index)
    cols = _numeric_features(features, exclude={getattr(batch, "name", None)})
    rows = []
    for c in cols:
        groups = [g.dropna().to_numpy() for _, g in features[c].groupby(site)]
        groups = [g for g in groups if len(g)]
        if len(groups) < 2 or np.ptp(np.concatenate(groups)) == 0:
            rows.append((c, np.nan, np.nan))
            continue
        h, p = kruskal(*groups)
        rows.append((c, h, p))
    out = pd.DataFrame(rows, columns=["feature", "H", "p-val"])
    ok = out["p-val"].notna()
    out["p-adj"] = np.nan
    if ok.any():
        out.loc[ok, "p-adj"] = multipletests(out.loc[ok, "p-val"], method="fdr_bh")[1]
    return out


def plot_site_pca(features, batch, *, ax=None, clip=5.0):
    """Scatter of the first two principal components, coloured by site.

    Features are scaled robustly - centred on the median and divided by the
    interquartile range / 1.349 (the SD for normal data) - and clipped at
    ``clip`` of those units, so one outlying patient cannot take over a
    component and flatten the others into a dot. Site clusters that separate
    mean a site effect.

    Parameters
    ----------
    features : pandas.DataFrame
    batch : str or array-like
        Site column name or one site per row.
    ax : matplotlib Axes, optional
    clip : float or None, default 5
        Robust z-scores beyond +/- ``clip`` are set to it (``None``: no clipping).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_site_pca(table, "site")  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt
    from sklearn.decomposition import PCA

    features = _as_frame(features)
    if isinstance(batch, str) and batch in features.columns:
        batch = features[batch]
    site = np.asarray(_as_1d("batch", batch, len(features)))
    cols = _numeric_features(features, exclude={getattr(batch, "name", None)})
    X = robust_z(features[cols].to_numpy(float), clip)
    pca = PCA(n_components=2).fit(X)
    pcs = pca.transform(X)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    for s in sorted(set(site), key=str):
        m = site == s
        ax.scatter(pcs[m, 0], pcs[m, 1], label=str(s), s=18, alpha=0.8)
    ev = pca.explained_variance_ratio_
    axis_label = tr("PC{k} ({share:.0%} of variance, robust z units)")
    ax.set_xlabel(axis_label.format(k=1, share=ev[0]))
    ax.set_ylabel(axis_label.format(k=2, share=ev[1]))
    ax.legend(title=tr("site"), fontsize="small")
    return ax


def robust_z(X, clip=5.0):
    """Median / (IQR / 1.349) scaling per column, clipped at +/- ``clip``; NaN -> 0.

    Columns without spread in the middle half fall back to the SD; constant
    columns are dropped.
    """
    X = np.asarray(X, dtype=float)
    med = np.nanmedian(X, axis=0)
    q1, q3 = np.nanpercentile(X, [25, 75], axis=0)
    scale = (q3 - q1) / 1.349
    sd = np.nanstd(X, axis=0)
    scale = np.where(scale > 0, scale, sd)
    keep = scale > 0
    Z = (X[:, keep] - med[keep]) / scale[keep]
    if clip is not None:
        Z = np.clip(Z, -clip, clip)
    return np.nan_to_num(Z)


def _numeric_features(df, exclude=()):
    cols = feature_columns(df) or [
        c for c in df.columns if c not in exclude and pd.api.types.is_numeric_dtype(df[c])
        and not pd.api.types.is_bool_dtype(df[c])
    ]
    if not cols:
        raise ValueError("no numeric feature columns found; pass a table of feature values.")
    return cols


def _as_frame(X):
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame of features, got {type(X).__name__}.")
    return X


def _as_1d(name, values, n):
    arr = np.asarray(values)
    if arr.ndim != 1 or len(arr) != n:
        raise ValueError(f"{name} must have one value per row ({n}); got shape {arr.shape}.")
    return arr
