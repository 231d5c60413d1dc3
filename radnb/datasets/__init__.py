"""Demo and sample data: ``make_`` generates, ``fetch_`` downloads, ``load_`` reads.

Where data lives follows scikit-learn and nilearn: an explicit ``data_home``
argument, else the ``RADNB_DATA`` environment variable, else ``~/radnb_data``.
radnb never writes into the installed package.

Real published data: :func:`fetch_radmlbench` (radiomics feature tables of
published studies) and :func:`fetch_ibsi_sts` (the IBSI soft-tissue-sarcoma
CT / MR / PET images with tumour masks) read local copies and download what
is missing; :func:`fetch_tutorial_data` gets (or checks) every real data set the
tutorials use in one call (``python -m radnb fetch``).
"""

from radnb.datasets._loaders import (
    get_data_home,
    make_demo_cohort,
    load_demo_cohort,
    load_demo_genes,
    load_demo_features,
    fetch_pyradiomics_cases,
    make_problem_cases,
    PYRADIOMICS_CASES,
)
from radnb.datasets._real import fetch_radmlbench, fetch_ibsi_sts
from radnb.datasets._tutorial_data import fetch_tutorial_data, TUTORIAL_DATA

__all__ = [
    "get_data_home",
    "make_demo_cohort",
    "load_demo_cohort",
    "load_demo_genes",
    "load_demo_features",
    "fetch_pyradiomics_cases",
    "make_problem_cases",
    "PYRADIOMICS_CASES",
    "fetch_radmlbench",
    "fetch_ibsi_sts",
    "fetch_tutorial_data",
    "TUTORIAL_DATA",
]
