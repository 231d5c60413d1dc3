"""Evaluate a model: discrimination, calibration, clinical usefulness, survival, transport.

* ROC: :func:`roc_auc_ci` (DeLong or bootstrap CI), :func:`delong_test`,
  :func:`optimal_threshold` (Youden), :func:`diagnostic_metrics`, :func:`plot_roc`.
* Calibration: :func:`calibration`, :func:`plot_calibration`.
* Decision curves: :func:`decision_curve`, :func:`plot_decision_curve`.
* Survival: :func:`kaplan_meier`, :func:`plot_kaplan_meier`, :func:`cox_model`.
* Transport: :func:`external_validation` (train on some sites, test on another,
  with and without ComBat).

Every statistical function returns a tidy DataFrame (or a small result object
whose fields are DataFrames); plots take ``ax=`` and return it.
"""

from radnb.evaluate._diagnostic import (
    roc_auc_ci,
    delong_test,
    optimal_threshold,
    diagnostic_metrics,
    plot_roc,
)
from radnb.evaluate._calibration import (
    calibration,
    plot_calibration,
    decision_curve,
    plot_decision_curve,
)
from radnb.evaluate._survival import kaplan_meier, plot_kaplan_meier, cox_model
from radnb.evaluate._external import external_validation

__all__ = [
    "roc_auc_ci",
    "delong_test",
    "optimal_threshold",
    "diagnostic_metrics",
    "plot_roc",
    "calibration",
    "plot_calibration",
    "decision_curve",
    "plot_decision_curve",
    "kaplan_meier",
    "plot_kaplan_meier",
    "cox_model",
    "external_validation",
]
