"""Demo and sample data: ``make_`` generates, ``fetch_`` downloads, ``load_`` reads.

Where data lives follows scikit-learn and nilearn: an explicit ``data_home``
argument, else the ``RADNB_DATA`` environment variable, else ``~/radnb_data``.
radnb never writes into the installed package.
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

__all__ = [
    "get_data_home",
    "make_demo_cohort",
    "load_demo_cohort",
    "load_demo_genes",
    "load_demo_features",
    "fetch_pyradiomics_cases",
    "make_problem_cases",
    "PYRADIOMICS_CASES",
]
