"""Image preprocessing before feature extraction: resampling, intensities, bias field.

Radiomic features depend on voxel size and intensity scale, so images from
different scanners are usually brought to a common grid (:func:`resample`,
:func:`resample_to`) and intensity scale (:func:`clip_hu` for CT,
:func:`normalize` and :func:`n4_correct` for MR) first. Every function takes
and returns SimpleITK images and keeps the patient coordinate system (origin,
direction) intact; :func:`compare_before_after` shows what a step changed.

References
----------
Zwanenburg A, Vallieres M, et al. The Image Biomarker Standardization
Initiative. Radiology 2020;295:328-338 (section on image processing).
"""

from radnb.preprocess._filters import (
    INTERPOLATORS,
    resample,
    resample_to,
    normalize,
    n4_correct,
    clip_hu,
)
from radnb.preprocess._compare import compare_before_after

__all__ = [
    "INTERPOLATORS",
    "resample",
    "resample_to",
    "normalize",
    "n4_correct",
    "clip_hu",
    "compare_before_after",
]
