"""Cached, resumable, parallel pyradiomics feature extraction over a cohort.

:func:`extract_features` runs pyradiomics on every row of a manifest and gives
exactly pyradiomics' numbers, but

* **caches** every result on disk, keyed by the image and mask *content*, the
  label, the settings and the pyradiomics version: a re-run reads the cache,
  moved or renamed files still hit, and enabling one more feature class or
  filter computes only that part;
* **resumes**: each finished case is stored at once, so after an interruption
  (or a crashed kernel) the next call computes only the unfinished cases;
* **isolates failures**: a case that cannot be read or extracted, that runs
  past ``time_limit`` or that kills its worker process (out of memory, a
  crash) becomes a row of ``result.errors`` saying in plain words what is
  wrong and what to do; all other cases are returned;
* runs in **parallel** on local processes or on a ``dask.distributed`` cluster.
"""

from radnb.extract._extraction import (
    extract_features,
    compare_settings,
    cache_info,
    clear_cache,
    ExtractionInterrupted,
)
from radnb.extract._result import Extraction, ExtractionWarning
from radnb.extract._params import load_params, list_presets
from radnb._utils.features import feature_columns, split_feature_name

__all__ = [
    "extract_features",
    "compare_settings",
    "Extraction",
    "load_params",
    "list_presets",
    "cache_info",
    "clear_cache",
    "ExtractionWarning",
    "ExtractionInterrupted",
    "feature_columns",
    "split_feature_name",
]
