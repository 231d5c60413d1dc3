"""Statistics for a radiomics study: Table 1, univariate screening, selection, Rad-score.

* :func:`missingness` - missing values per feature and per patient, with a plot;
  :class:`MissingValueFilter` drops mostly-empty features and imputes the rest
  inside every cross-validation fold.
* :func:`table_one` - clinical characteristics by group (wraps ``tableone``).
* :func:`univariate` / :func:`plot_volcano` - one test per feature with FDR.
* :class:`CorrelationFilter`, :class:`LassoSelector` - scikit-learn
  transformers, so selection is refitted inside every cross-validation fold.
* :func:`radscore_model` - LASSO Rad-score in nested cross-validation.
* :func:`fit_logistic`, :class:`Nomogram`, :func:`plot_nomogram` - combined
  clinical + Rad-score model drawn as a nomogram.
* :func:`interpret_p` - one sentence reading a p-value (never "no relation");
  :func:`bootstrap_optimism` - Harrell's optimism-corrected AUC, calibration
  slope and Brier score.
* :func:`describe_screen`, :func:`compare_values`, :func:`describe_auc`,
  :func:`describe_interval` - sentences written from the numbers (a screen with
  FDR, a comparison, an AUC's direction, an interval against a reference), so
  prose cannot contradict the output.
* :func:`leakage_demo` - why selection must happen inside cross-validation.
* :func:`sample_size` - minimum sample size of a prediction model (Riley et al.
  BMJ 2020), per criterion.
"""

from radnb.stats._core import (
    table_one,
    univariate,
    plot_volcano,
    plot_correlation,
    radscore_model,
    leakage_demo,
    plot_nomogram,
)
from radnb.stats._tableone import TableOneResult
from radnb.stats._selection import CorrelationFilter, LassoSelector
from radnb.stats._radscore_result import RadscoreResult
from radnb.stats._missing import missingness, MissingnessResult, MissingValueFilter
from radnb.stats._nomogram import fit_logistic, Nomogram
from radnb.stats._sample_size import sample_size
from radnb.stats._reporting import interpret_p, bootstrap_optimism
from radnb.stats._sentences import describe_screen, compare_values, describe_auc, describe_interval

__all__ = [
    "missingness",
    "MissingnessResult",
    "MissingValueFilter",
    "table_one",
    "TableOneResult",
    "univariate",
    "plot_volcano",
    "CorrelationFilter",
    "plot_correlation",
    "LassoSelector",
    "radscore_model",
    "RadscoreResult",
    "leakage_demo",
    "fit_logistic",
    "Nomogram",
    "plot_nomogram",
    "sample_size",
    "interpret_p",
    "bootstrap_optimism",
    "describe_screen",
    "compare_values",
    "describe_auc",
    "describe_interval",
]
