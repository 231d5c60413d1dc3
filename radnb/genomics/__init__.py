"""Radiogenomics: link image features to genes, pathways and the immune microenvironment.

* :func:`associate` / :func:`plot_association` - every feature against every
  gene (vectorised Spearman or Pearson) with Benjamini-Hochberg q-values, and a
  readable clustered heatmap of the strongest pairs; :func:`bh_qvalues` for any
  array of p-values.
* :func:`permutation_null` / :func:`plot_permutation_null` - rerun the whole
  screen on shuffled patients: discoveries by chance with and without FDR.
* :func:`module_scores` (mean z-score, ssGSEA, GSVA), :func:`gsea_prerank`
  (genes ranked by :func:`rank_genes`, their correlation with a feature or
  Rad-score),
  :func:`read_gmt`, :func:`load_gene_sets` - the gene-set level; the demo
  cohort's planted modules ship as ``DEMO_GMT``; :func:`fetch_hallmark_gene_sets`
  reads (or downloads once) the MSigDB Hallmark collection for real data.
* :func:`subtype_model` / :func:`plot_confusion` - a multi-class molecular or
  immune subtype from imaging (macro AUC with CIs, confusion matrix);
  :func:`radscore_regression` / :func:`plot_regression_calibration` - a
  Rad-score of a continuous score (R^2, calibration). Binary labels such as a
  mutation use :func:`radnb.stats.radscore_model`.
"""
from radnb.genomics._associate import associate, permutation_null, bh_qvalues
from radnb.genomics._genesets import (
    DEMO_GMT,
    gsea_prerank,
    load_gene_sets,
    module_scores,
    rank_genes,
    read_gmt,
)
from radnb.genomics._msigdb import HALLMARK_VERSION, fetch_hallmark_gene_sets
from radnb.genomics._predict import GenomicsModelResult, radscore_regression, subtype_model
from radnb.genomics._plots import (
    plot_association,
    plot_confusion,
    plot_permutation_null,
    plot_regression_calibration,
)

__all__ = [
    "fetch_hallmark_gene_sets",
    "HALLMARK_VERSION",
    "associate",
    "plot_association",
    "permutation_null",
    "plot_permutation_null",
    "bh_qvalues",
    "read_gmt",
    "load_gene_sets",
    "module_scores",
    "gsea_prerank",
    "rank_genes",
    "DEMO_GMT",
    "subtype_model",
    "radscore_regression",
    "GenomicsModelResult",
    "plot_confusion",
    "plot_regression_calibration",
]
