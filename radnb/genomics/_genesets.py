"""Gene-set level analyses: GMT files, module scores and preranked GSEA.

ssGSEA, GSVA and preranked GSEA run through ``gseapy`` (offline, on a local
GMT file or a ``{name: [genes]}`` dict); the mean z-score module score is
computed here.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from radnb._utils.validation import check_columns, check_option, check_range
from radnb.genomics._associate import correlation_matrix, match_tables

__all__ = ["read_gmt", "load_gene_sets", "module_scores", "gsea_prerank", "rank_genes", "DEMO_GMT"]

#: The demo cohort's planted modules (see ``radnb/genomics/data/README.md``).
DEMO_GMT = Path(__file__).with_name("data") / "radnb_demo.gmt"
_SCORE_METHODS = ("zscore", "ssgsea", "gsva")


def read_gmt(path):
    """Read a GMT file (name, description, genes; tab-separated) into ``{name: [genes]}``.

    Examples
    --------
    >>> sets = read_gmt(DEMO_GMT)
    >>> sets["RADNB_DEMO_HETEROGENEITY_MODULE"][:3]
    ['GENE03', 'GENE07', 'GENE11']
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"gene-set file {path} does not exist; pass the path of a .gmt "
                                "file (e.g. an MSigDB download) or a {name: [genes]} dict.")
    sets = {}
    for k, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        parts = [p.strip() for p in line.rstrip("\n").split("\t")]
        if not line.strip():
            continue
        if len(parts) < 3 or not parts[0]:
            raise ValueError(f"{path.name} line {k} is not GMT (name<TAB>description<TAB>genes).")
        sets[parts[0]] = [g for g in parts[2:] if g]
    return sets


def load_gene_sets(gene_sets="demo"):
    """Return gene sets as ``{name: [genes]}`` from ``"demo"``, a GMT path or a dict.

    ``"demo"`` is the demo cohort's planted modules shipped with radnb. For real
    expression data, :func:`radnb.genomics.fetch_hallmark_gene_sets` gives the
    MSigDB Hallmark sets (read from the data home, or downloaded once).

    Examples
    --------
    >>> sorted(load_gene_sets("demo"))[0]
    'RADNB_DEMO_DECOY_MODULE'
    """
    if isinstance(gene_sets, dict):
        return {str(k): list(v) for k, v in gene_sets.items()}
    if isinstance(gene_sets, str) and gene_sets == "demo":
        return read_gmt(DEMO_GMT)
    return read_gmt(gene_sets)


def _gene_matrix(genes):
    """Genes table (case_id + genes) -> numeric DataFrame indexed by case_id."""
    check_columns(genes, ["case_id"], what="genes")
    _, _, G, _, cols = match_tables(genes[["case_id"]].assign(_one=1.0), genes,
                                    feature_cols=["_one"])
    import pandas as pd

    return pd.DataFrame(G, index=genes["case_id"].to_numpy(), columns=cols)


def module_scores(genes, gene_sets="demo", method="zscore", *, min_size=3):
    """Score every patient on every gene set (a metagene per set).

    Parameters
    ----------
    genes : pandas.DataFrame
        ``case_id`` + one column per gene.
    gene_sets : "demo", path or dict
        See :func:`load_gene_sets`.
    method : {"zscore", "ssgsea", "gsva"}, default "zscore"
        ``"zscore"``: mean over the set's genes of each gene's z-score across
        patients (Lee E et al., PLoS Comput Biol 2008). ``"ssgsea"``: single-sample
        GSEA (Barbie DA et al., Nature 2009) and ``"gsva"`` (Hänzelmann S et al.,
        BMC Bioinformatics 2013), both computed by ``gseapy`` (ssGSEA: its
        normalised enrichment score; GSVA: the GSVA score).
    min_size : int, default 3
        Sets with fewer genes present in the table are left out (listed in
        ``attrs["skipped"]``).

    Returns
    -------
    pandas.DataFrame
        ``case_id`` + one column per scored set.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> g = pd.DataFrame({"case_id": list("abcd"), "A": [1., 2, 3, 4], "B": [2., 4, 6, 8]})
    >>> module_scores(g, {"AB": ["A", "B"]}, min_size=2)["AB"].round(3).tolist()
    [-1.162, -0.387, 0.387, 1.162]
    """
    import pandas as pd

    method = check_option("method", method, _SCORE_METHODS)
    check_range("min_size", min_size, 1)
    X = _gene_matrix(genes)
    sets = load_gene_sets(gene_sets)
    present = {k: [g for g in v if g in X.columns] for k, v in sets.items()}
    keep = {k: v for k, v in present.items() if len(v) >= min_size}
    skipped = sorted(set(sets) - set(keep))
    if not keep:
        raise ValueError(f"no gene set has {min_size} or more of its genes in the table "
                         f"(columns e.g. {list(X.columns[:3])}); check the gene names.")
    if method == "zscore":
        Z = (X - X.mean()) / X.std(ddof=1).replace(0, np.nan)
        out = pd.DataFrame({k: Z[v].mean(axis=1) for k, v in keep.items()})
    else:
        import gseapy

        runner = gseapy.ssgsea if method == "ssgsea" else gseapy.gsva
        kw = dict(sample_norm_method="rank", no_plot=True) if method == "ssgsea" else {}
        res = runner(data=X.T, gene_sets=keep, outdir=None, min_size=min_size,
                     max_size=100000, threads=1, verbose=False, **kw)
        long = res.res2d
        value = "NES" if "NES" in long.columns else "ES"  # gseapy's GSVA gives ES only
        out = long.pivot(index="Name", columns="Term", values=value).astype(float)
        out = out.reindex(index=X.index.astype(str), columns=list(keep))
        out.index = X.index
    out = out.rename_axis(None, axis=1).rename_axis("case_id").reset_index()
    out.attrs.update(method=method, skipped=skipped)
    return out


def gsea_prerank(features, genes, score, gene_sets="demo", *, method="spearman", n_perm=1000,
                 min_size=3, max_size=500, seed=0):
    """Preranked GSEA of the genes ranked by their correlation with one feature or score.

    Every gene is correlated with ``score`` (a feature column, or e.g. the
    Rad-score added as a column) across the patients of both tables; the genes
    ranked by that correlation go to ``gseapy.prerank`` (Subramanian A et al.,
    PNAS 2005), which tests whether a set's genes gather at the top or bottom.

    Parameters
    ----------
    features : pandas.DataFrame
        ``case_id`` + the ``score`` column.
    genes : pandas.DataFrame
        ``case_id`` + one column per gene.
    score : str
        Column of ``features`` to rank the genes by.
    gene_sets : "demo", path or dict
    method : {"spearman", "pearson"}, default "spearman"
    n_perm : int, default 1000
        Gene-set permutations of gseapy's p-values.
    min_size, max_size : int
        Sets with fewer / more genes in the ranking are left out.
    seed : int, default 0

    Returns
    -------
    pandas.DataFrame
        One row per set, by NES: ``term``, ``ES``, ``NES``, ``p`` (nominal),
        ``q`` (gseapy's FDR), ``n_genes`` (in the ranking), ``lead_genes``.
        The ranking itself is :func:`rank_genes`.

    Examples
    --------
    >>> res = gsea_prerank(features, genes, "original_glcm_SumEntropy")  # doctest: +SKIP
    """
    import gseapy
    import pandas as pd

    check_range("n_perm", n_perm, 1)
    ranking = rank_genes(features, genes, score, method=method)
    sets = load_gene_sets(gene_sets)
    res = gseapy.prerank(rnk=ranking, gene_sets=sets, permutation_num=int(n_perm),
                         min_size=min_size, max_size=max_size, seed=seed, outdir=None,
                         threads=1, no_plot=True, verbose=False).res2d
    n_genes = {k: sum(g in ranking.index for g in v) for k, v in sets.items()}
    out = pd.DataFrame({
        "term": res["Term"].astype(str), "ES": res["ES"].astype(float),
        "NES": res["NES"].astype(float), "p": res["NOM p-val"].astype(float),
        "q": res["FDR q-val"].astype(float),
        "n_genes": res["Term"].map(n_genes).astype(int),
        "lead_genes": res["Lead_genes"].astype(str),
    }).sort_values("NES", ascending=False, ignore_index=True)
    return out


def rank_genes(features, genes, score, *, method="spearman"):
    """Genes ranked by their correlation with one column of ``features`` (strongest positive first).

    Returns
    -------
    pandas.Series
        Correlation per gene (index = gene), sorted descending; genes with no
        variance are left out.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"case_id": list("abcd"), "x": [1, 2, 3, 4]})
    >>> g = pd.DataFrame({"case_id": list("abcd"), "UP": [1, 2, 3, 5], "DOWN": [4, 3, 2, 1]})
    >>> rank_genes(f, g, "x").to_dict()
    {'UP': 1.0, 'DOWN': -1.0}
    """
    import pandas as pd

    check_columns(features, [score], what="features")
    check_option("method", method, ("spearman", "pearson"))
    _, F, G, _, gcols = match_tables(features, genes, feature_cols=[score])
    r, _ = correlation_matrix(F, G, method)
    return pd.Series(r[0], index=gcols, name=score).dropna().sort_values(ascending=False)
