"""Feature reproducibility: ICC, concordance, Bland-Altman and robust-feature filters.

A radiomics feature is only useful if it gives (nearly) the same value when
the same tumour is scanned again (test-retest), outlined by another reader
(inter-reader) or outlined slightly differently (mask perturbation). This
module measures that agreement and keeps the features that pass:

* :func:`icc` - the six Shrout & Fleiss (1979) ICCs of one variable, with the
  columns of ``pingouin.intraclass_corr``;
* :func:`feature_icc` - one ICC per feature of a whole feature table, vectorised;
* :func:`ccc` and :func:`bland_altman` - agreement of two measurements;
* :func:`perturbation_study` - features over perturbed masks (Zwanenburg 2019);
* :class:`ICCFilter` - a scikit-learn transformer keeping robust features;
* :func:`robust_summary`, :func:`plot_icc`, :func:`plot_robust_fraction`,
  :func:`plot_bland_altman` - tables and figures for a paper.
"""

from radnb.reproducibility._feature_icc import icc, feature_icc
from radnb.reproducibility._agreement import ccc, bland_altman, plot_bland_altman
from radnb.reproducibility._perturbation import perturbation_study, PerturbationResult
from radnb.reproducibility._icc_filter import ICCFilter, robust_summary
from radnb.reproducibility._plots import plot_icc, plot_robust_fraction

__all__ = [
    "icc",
    "feature_icc",
    "ccc",
    "bland_altman",
    "perturbation_study",
    "PerturbationResult",
    "ICCFilter",
    "robust_summary",
    "plot_icc",
    "plot_robust_fraction",
    "plot_bland_altman",
]
