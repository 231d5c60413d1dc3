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

Several modalities per patient (a ``modality`` column, ``params={"CT": "ct",
"PET": "pet"}``) are extracted with their own settings; :func:`wide_by_modality`
puts each patient on one row with ``CT_...`` and ``PET_...`` feature columns.

:func:`ibsi_check` runs the IBSI digital phantom with the ``"ibsi"`` preset and
compares every feature with the IBSI reference value; :func:`ibsi_codes` maps
pyradiomics feature names to IBSI feature codes.

Regions: :func:`lesion_manifest` / :func:`extract_lesions` give one row per
lesion (connected component) or their union; :func:`ring_manifest` a
peritumoral ring in mm. The derived masks are cached on disk by content and
extracted like any other ROI.

Feature maps: :func:`feature_map` computes one feature around every ROI voxel
(pyradiomics' voxel-based mode, cached on disk) and :func:`plot_feature_map`
draws it over the scan with a colour bar
(``radnb.view.browse(image, mask, heatmap=fmap)`` in the slice viewer).
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
from radnb.extract._ibsi import ibsi_check, ibsi_codes
from radnb.extract._modalities import wide_by_modality
from radnb.extract._feature_maps import feature_map, plot_feature_map, FeatureMapWarning
from radnb.extract._regions import lesion_manifest, ring_manifest, extract_lesions, RegionWarning
from radnb._utils.features import feature_columns, split_feature_name

__all__ = [
    "extract_features",
    "compare_settings",
    "Extraction",
    "load_params",
    "list_presets",
    "ibsi_check",
    "ibsi_codes",
    "wide_by_modality",
    "lesion_manifest",
    "ring_manifest",
    "extract_lesions",
    "RegionWarning",
    "feature_map",
    "plot_feature_map",
    "FeatureMapWarning",
    "cache_info",
    "clear_cache",
    "ExtractionWarning",
    "ExtractionInterrupted",
    "feature_columns",
    "split_feature_name",
]
