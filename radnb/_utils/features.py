"""Recognise pyradiomics feature columns in a table and parse their names.

pyradiomics names a feature ``<imageType>_<featureClass>_<Feature>``, e.g.
``original_glcm_Contrast`` or ``wavelet-LLH_firstorder_Mean``. Tables in radnb
keep identifier and clinical columns next to the features; these helpers tell
them apart so every module selects features the same way. Tables with several
modalities per patient in wide form prefix the modality: ``PET_original_glcm_Contrast``.
"""
from __future__ import annotations

import re

__all__ = ["FEATURE_CLASSES", "ID_COLUMNS", "feature_columns", "split_feature_name"]

FEATURE_CLASSES = (
    "shape", "shape2D", "firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm",
)
ID_COLUMNS = ("case_id", "timepoint", "reader", "site", "label", "modality")

# optional modality prefix of wide multi-modality tables: "PET_original_glcm_Contrast"
_PATTERN = re.compile(
    r"^(?:(?P<modality>[A-Z][A-Za-z0-9]*)_)?(?P<image_type>original|log-sigma-[0-9-]+mm-3D|wavelet-[HL]+|square|squareroot"
    r"|logarithm|exponential|gradient|lbp-[23]D(?:-[a-zA-Z0-9]+)?)"
    r"_(?P<feature_class>" + "|".join(FEATURE_CLASSES) + r")_(?P<feature>\w+)$"
)


def feature_columns(df) -> list[str]:
    """Return the columns of ``df`` that are pyradiomics feature values, in order.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame(columns=["case_id", "original_glcm_Contrast", "age"])
    >>> feature_columns(df)
    ['original_glcm_Contrast']
    >>> feature_columns(pd.DataFrame(columns=["case_id", "CT_original_shape_Sphericity"]))
    ['CT_original_shape_Sphericity']
    """
    return [c for c in df.columns if isinstance(c, str) and _PATTERN.match(c)]


def split_feature_name(name: str) -> tuple[str, str, str]:
    """Split ``'wavelet-LLH_glcm_Contrast'`` into ``('wavelet-LLH', 'glcm', 'Contrast')``.

    A modality prefix (``'PET_original_glcm_Contrast'``) is allowed and not returned.

    Raises
    ------
    ValueError
        If ``name`` is not a pyradiomics feature name.
    """
    m = _PATTERN.match(name)
    if not m:
        raise ValueError(
            f"{name!r} is not a pyradiomics feature name "
            "(expected '<imageType>_<featureClass>_<Feature>', e.g. 'original_glcm_Contrast')."
        )
    return m["image_type"], m["feature_class"], m["feature"]
