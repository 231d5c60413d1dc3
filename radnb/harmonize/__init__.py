"""ComBat harmonisation of radiomics features across sites (scanners, centres).

Features measured at different sites differ in location and scale for
technical reasons. ComBat (Johnson, Li & Rabinovic 2007; Fortin et al. 2017,
2018 for imaging features) estimates a per-site shift and scale for every
feature, shrinks them by empirical Bayes, and removes them while keeping the
effects of biological covariates you name.

* :func:`combat` harmonises a whole table at once (exploration only: it sees
  every case, so do not use it before cross-validation).
* :class:`ComBat` is the scikit-learn transformer: it learns from training data
  only and harmonises new cases, so it sits inside a ``Pipeline``.
* :func:`site_effect` and :func:`plot_site_pca` show whether a site effect is
  there before and gone after.
"""

from radnb.harmonize._combat import ComBat
from radnb.harmonize._combat_table import combat
from radnb.harmonize._site_effect import site_effect, plot_site_pca

__all__ = [
    "combat",
    "ComBat",
    "site_effect",
    "plot_site_pca",
]
