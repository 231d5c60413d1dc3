"""radnb: a Jupyter-centric research toolkit for radiomics.

One package per step of a radiomics study, each a thin layer over the field's
libraries (pyradiomics, SimpleITK, pandas, seaborn, statsmodels, scikit-learn):

========================  ====================================================
``radnb.datasets``        demo cohort (:func:`make_demo_cohort`) and sample data
``radnb.cohort``          the manifest table and its validation
``radnb.io``              reading NIfTI, NRRD, MHA, DICOM, DICOM-SEG, RTSTRUCT
``radnb.view``            widgets to browse images and masks
``radnb.preprocess``      resampling, normalisation, bias-field correction
``radnb.segment``         semi-automatic segmentation, mask perturbation
``radnb.extract``         cached, resumable, parallel pyradiomics extraction
``radnb.reproducibility`` ICC, CCC, Bland-Altman, robust-feature filters
``radnb.harmonize``       ComBat harmonisation
``radnb.stats``           Table 1, univariate screening, selection, Rad-score
``radnb.evaluate``        ROC with CIs, calibration, decision curves, survival
``radnb.deep``            deep features (JAX, CPU), fusion with the Rad-score, saliency
``radnb.genomics``        radiogenomics: feature-gene screen, gene sets, immune models
``radnb.report``          CSV and self-contained HTML export
``radnb.study``           study log, CLEAR/METRICS checklists, Methods text
                          (``radnb.Study``)
========================  ====================================================

Submodules are imported on first use, so ``import radnb`` stays light.

radnb speaks English or Chinese: :func:`set_language` (``"zh"`` / ``"en"``),
else ``RADNB_LANG``, else a ``radnb.toml`` in the working folder with
``language = "zh"``, else the system locale; :func:`get_language` tells which.
:func:`tr` and :func:`say` give a notebook's own titles and printed sentences in
that language (the tutorials' texts are in radnb's catalogue).
"""
import importlib

__version__ = "0.1.0"

_SUBMODULES = (
    "datasets", "cohort", "io", "view", "preprocess", "segment", "extract",
    "reproducibility", "harmonize", "stats", "evaluate", "report", "deep", "genomics", "study",
)

_LANGUAGE_FUNCTIONS = ("set_language", "get_language", "tr", "say")

__all__ = list(_SUBMODULES) + ["Study", "__version__", *_LANGUAGE_FUNCTIONS]


def __getattr__(name):
    if name in _SUBMODULES:
        module = importlib.import_module(f"radnb.{name}")
        globals()[name] = module
        return module
    if name == "Study":  # the study log, loaded on first use like the steps
        return importlib.import_module("radnb.study").Study
    if name in _LANGUAGE_FUNCTIONS:  # radnb's language (light: the stdlib's gettext)
        return getattr(importlib.import_module("radnb._utils.i18n"), name)
    raise AttributeError(f"module 'radnb' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
