"""Every image feature against every gene: a vectorised correlation screen with FDR.

Spearman's rho is Pearson's correlation of the ranks, so the whole screen is one
matrix product of column-standardised rank matrices (features x patients times
patients x genes), done in chunks of genes to bound memory. p-values come from
the t distribution with n - 2 degrees of freedom, as :func:`scipy.stats.spearmanr`
and :func:`scipy.stats.pearsonr` give them; q-values are Benjamini-Hochberg's.
"""
from __future__ import annotations

import numpy as np

from radnb._utils.features import ID_COLUMNS, feature_columns
from radnb._utils.validation import check_columns, check_option, check_range

__all__ = ["associate", "permutation_null", "bh_qvalues", "match_tables", "correlation_matrix"]

_METHODS = ("spearman", "pearson")
_CHUNK = 2000


def bh_qvalues(p):
    """Benjamini-Hochberg adjusted p-values (q-values) of any array of p-values.

    Equal to ``statsmodels.stats.multitest.multipletests(p, method="fdr_bh")[1]``
    for a flat array; the shape of ``p`` is kept. NaN p-values stay NaN and do
    not count as tests.

    Examples
    --------
    >>> bh_qvalues([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    p = np.asarray(p, dtype=float)
    flat = p.ravel()
    ok = np.flatnonzero(~np.isnan(flat))
    q = np.full(flat.shape, np.nan)
    if ok.size:
        order = ok[np.argsort(flat[ok], kind="stable")]
        q[order] = _bh_sorted(flat[order])
    return q.reshape(p.shape)


def _numeric_columns(df, columns, what):
    import pandas as pd

    if columns is None:
        columns = feature_columns(df) or [
            c for c, t in df.dtypes.items()
            if c not in ID_COLUMNS and pd.api.types.is_numeric_dtype(t)
            and not pd.api.types.is_bool_dtype(t)
        ]
    columns = list(columns)
    check_columns(df, columns, what=what)
    if not columns:
        raise ValueError(f"{what} has no numeric columns besides case_id; pass columns=[...] "
                         "or check that the table holds feature / expression values.")
    dtypes = df.dtypes
    bad = [c for c in columns if not pd.api.types.is_numeric_dtype(dtypes[c])]
    if bad:
        raise TypeError(f"{what} columns must be numeric; {bad[:5]} are not. Drop them or "
                        "pass columns=[...] with the numeric ones.")
    return columns


def match_tables(features, genes, *, feature_cols=None, gene_cols=None):
    """Match two tables on ``case_id`` and return ``(case_ids, F, G, feature_cols, gene_cols)``.

    ``F`` and ``G`` are float arrays (patients x columns) in the same patient
    order. Raises a clear error for a missing ``case_id``, duplicated cases,
    fewer than 4 shared patients or missing values.
    """
    for name, df in (("features", features), ("genes", genes)):
        check_columns(df, ["case_id"], what=name)
        dup = df["case_id"][df["case_id"].duplicated()].unique()
        if len(dup):
            raise ValueError(
                f"{name} has several rows for case_id {list(dup[:3])}; keep one row per patient "
                "(e.g. reader 1, time point 1: df[(df.reader == 1) & (df.timepoint == 1)]).")
    feature_cols = _numeric_columns(features, feature_cols, "features")
    gene_cols = _numeric_columns(genes, gene_cols, "genes")
    ids = features["case_id"][features["case_id"].isin(set(genes["case_id"]))].to_numpy()
    if len(ids) < 4:
        raise ValueError(f"features and genes share {len(ids)} case_id values; at least 4 are "
                         "needed. Check that both tables use the same patient identifiers.")
    import pandas as pd

    F = features[feature_cols].to_numpy(dtype=float)[
        pd.Index(features["case_id"]).get_indexer(ids)]
    G = genes[gene_cols].to_numpy(dtype=float)[pd.Index(genes["case_id"]).get_indexer(ids)]
    for name, arr, cols in (("features", F, feature_cols), ("genes", G, gene_cols)):
        miss = np.isnan(arr).any(axis=0)
        if miss.any():
            raise ValueError(
                f"{name} has missing values in {int(miss.sum())} columns (e.g. "
                f"{[c for c, m in zip(cols, miss) if m][:3]}); drop or impute them first.")
    return ids, F, G, feature_cols, gene_cols


def _standardise(X, method):
    """Columns centred and scaled to unit norm (ranks first for Spearman); constant -> NaN."""
    if method == "spearman":
        from scipy.stats import rankdata

        X = rankdata(X, axis=0)
    X = X - X.mean(axis=0)
    norm = np.sqrt((X * X).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return X / np.where(norm > 0, norm, np.nan)


def _pvalues(r, n):
    """Two-sided p-values of correlations ``r`` from n patients (t test, n - 2 df)."""
    from scipy.special import stdtr

    df = n - 2
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.abs(r) * np.sqrt(df / ((1.0 - r) * (1.0 + r)))
    p = 2.0 * stdtr(df, -t)
    return np.where(np.abs(r) >= 1.0, 0.0, p)  # as scipy: a perfect correlation has p = 0


def correlation_matrix(F, G, method="spearman", *, chunk=_CHUNK):
    """Correlations and p-values of every column of ``F`` with every column of ``G``.

    ``F`` (n x a) and ``G`` (n x b) are arrays with patients in rows. Returns
    ``(r, p)``, both a x b; genes are processed ``chunk`` columns at a time.
    """
    n = F.shape[0]
    Zf = _standardise(np.asarray(F, dtype=float), method)
    r = np.empty((Zf.shape[1], G.shape[1]))
    p = np.empty_like(r)
    for start in range(0, G.shape[1], chunk):
        Zg = _standardise(np.asarray(G[:, start:start + chunk], dtype=float), method)
        block = np.clip(Zf.T @ Zg, -1.0, 1.0)
        r[:, start:start + chunk] = block
        p[:, start:start + chunk] = _pvalues(block, n)
    return r, p


def associate(features, genes, method="spearman", fdr=0.05, *, feature_cols=None,
              gene_cols=None, chunk=_CHUNK):
    """Correlate every image feature with every gene, with Benjamini-Hochberg q-values.

    Both tables are keyed by a ``case_id`` column and matched on it (patients in
    only one table are left out). The screen is vectorised: ranks, then one
    matrix product per chunk of genes, so 1,000 features x 20,000 genes x 200
    patients take a few seconds (``benchmarks/genomics.py``).

    Parameters
    ----------
    features : pandas.DataFrame
        One row per patient: ``case_id`` and feature columns (pyradiomics
        columns are found automatically; otherwise every numeric
        non-identifier column, or ``feature_cols``).
    genes : pandas.DataFrame
        One row per patient: ``case_id`` and one column per gene (expression).
    method : {"spearman", "pearson"}, default "spearman"
    fdr : float, default 0.05
        False discovery rate: ``significant`` is ``q < fdr``.
    feature_cols, gene_cols : list of str, optional
    chunk : int, default 2000
        Genes correlated at once (memory: about 16 x features x chunk bytes).

    Returns
    -------
    pandas.DataFrame
        One row per (feature, gene) pair, strongest first: ``feature``,
        ``gene`` (categoricals), ``rho``, ``p``, ``q``, ``significant``;
        ``attrs`` holds ``n_patients``, ``method``, ``fdr`` and ``n_tests``.

    References
    ----------
    Benjamini Y, Hochberg Y. Controlling the false discovery rate. J R Stat Soc B
    1995;57:289-300.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> f = pd.DataFrame({"case_id": range(30), "texture": rng.normal(size=30)})
    >>> g = pd.DataFrame({"case_id": range(30), "GENE1": f.texture + rng.normal(size=30) / 3})
    >>> res = associate(f, g)
    >>> bool(res.loc[0, "significant"]), bool(res.loc[0, "rho"] > 0.8)
    (True, True)
    """
    import pandas as pd

    method = check_option("method", method, _METHODS)
    check_range("fdr", fdr, 0, 1, inclusive=False)
    check_range("chunk", chunk, 1)
    ids, F, G, fcols, gcols = match_tables(features, genes, feature_cols=feature_cols,
                                           gene_cols=gene_cols)
    r = _correlations(F, G, method, int(chunk))
    nf, ng = r.shape
    flat = r.ravel()
    # p is a decreasing function of |rho| (n fixed): one sort by |rho| orders the
    # p-values for Benjamini-Hochberg and the output alike (constant columns last).
    order = np.argsort(np.where(np.isnan(flat), -1.0, -np.abs(flat)))
    rho = flat[order]
    del r, flat
    n_tests = int(np.isfinite(rho).sum())
    p = np.full(rho.shape, np.nan)
    p[:n_tests] = _pvalues_sorted(rho[:n_tests], len(ids))
    q = np.full(p.shape, np.nan)
    q[:n_tests] = _bh_sorted(p[:n_tests])
    out = pd.DataFrame({
        "feature": pd.Categorical.from_codes((order // ng).astype(np.int32), categories=fcols),
        "gene": pd.Categorical.from_codes((order % ng).astype(np.int32), categories=gcols),
        "rho": rho,
        "p": p,
        "q": q,
        "significant": q < fdr,
    }, copy=False)  # no copy of 20 million rows into one block
    out.attrs.update(n_patients=len(ids), method=method, fdr=float(fdr),
                     n_tests=n_tests)
    return out


def _correlations(F, G, method, chunk):
    """Correlation matrix (features x genes), genes standardised ``chunk`` at a time."""
    Zf = _standardise(np.asarray(F, dtype=float), method).T.copy()
    r = np.empty((Zf.shape[0], G.shape[1]))
    for start in range(0, G.shape[1], chunk):
        Zg = _standardise(np.asarray(G[:, start:start + chunk], dtype=float), method)
        np.clip(Zf @ Zg, -1.0, 1.0, out=r[:, start:start + chunk])
    return r


def _pvalues_sorted(rho, n):
    """:func:`_pvalues` of correlations sorted by decreasing ``|rho|``.

    Equal ``|rho|`` (to 1e-13; rank correlations of n patients take few distinct
    values) share one evaluation of the t distribution.
    """
    a = np.abs(rho)
    new = np.empty(a.size, dtype=bool)
    new[:1] = True
    np.greater(a[:-1] - a[1:], 1e-13, out=new[1:])
    starts = np.flatnonzero(new)
    return np.repeat(_pvalues(a[starts], n), np.diff(np.append(starts, a.size)))


def _bh_sorted(p):
    """Benjamini-Hochberg q-values of p-values already sorted ascending."""
    m = p.size
    q = p * (m / np.arange(1, m + 1))
    q[::-1] = np.minimum.accumulate(q[::-1])
    return np.minimum(q, 1.0, out=q)


def permutation_null(features, genes, method="spearman", fdr=0.05, *, n_perm=20, alpha=0.05,
                     seed=0, feature_cols=None, gene_cols=None):
    """How many "discoveries" the screen makes when there is nothing to find.

    Shuffles the patients of the gene table against the feature table (which
    breaks every true link but keeps the correlations among features and among
    genes) and reruns the whole feature-by-gene screen ``n_perm`` times.

    Parameters
    ----------
    features, genes, method, fdr, feature_cols, gene_cols
        As in :func:`associate`.
    n_perm : int, default 20
    alpha : float, default 0.05
        Threshold of the uncorrected count (``p < alpha``).
    seed : int, default 0

    Returns
    -------
    pandas.DataFrame
        One row for the observed data (``permutation`` = 0, ``shuffled`` =
        False), then one per permutation: ``n_tests``, ``raw_hits`` (p < alpha,
        no correction), ``fdr_hits`` (q < fdr) and ``max_abs_rho``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> f = pd.DataFrame(rng.normal(size=(40, 20))).add_prefix("f").assign(case_id=range(40))
    >>> g = pd.DataFrame(rng.normal(size=(40, 50))).add_prefix("g").assign(case_id=range(40))
    >>> null = permutation_null(f, g, n_perm=5)
    >>> bool(null.loc[1:, "raw_hits"].mean() > 10 * null.loc[1:, "fdr_hits"].mean())
    True
    """
    import pandas as pd

    method = check_option("method", method, _METHODS)
    check_range("fdr", fdr, 0, 1, inclusive=False)
    check_range("alpha", alpha, 0, 1, inclusive=False)
    check_range("n_perm", n_perm, 1)
    _, F, G, _, _ = match_tables(features, genes, feature_cols=feature_cols, gene_cols=gene_cols)
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(int(n_perm) + 1):
        Gk = G if k == 0 else G[rng.permutation(len(G))]
        r, p = correlation_matrix(F, Gk, method)
        rows.append({
            "permutation": k, "shuffled": k > 0, "n_tests": int(np.isfinite(p).sum()),
            "raw_hits": int((p < alpha).sum()), "fdr_hits": int((bh_qvalues(p) < fdr).sum()),
            "max_abs_rho": float(np.nanmax(np.abs(r))),
        })
    out = pd.DataFrame(rows)
    out.attrs.update(alpha=float(alpha), fdr=float(fdr), method=method)
    return out
