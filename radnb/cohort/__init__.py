"""Cohorts: the manifest table, building it from a folder, and validating it.

A cohort is a :class:`pandas.DataFrame` *manifest*, one row per image + mask
pair, with columns

``case_id``    the patient (str)
``image``      path to the image (file or DICOM series folder)
``mask``       path to the mask (label image, DICOM-SEG or RTSTRUCT)
``label``      ROI label value in the mask (default 1)
``reader``     who drew the mask (default 1)
``timepoint``  scan number, e.g. 2 for a rescan (default 1)
``site``       centre / scanner (default ``"unknown"``)
``roi``        optional: ROI name inside an RTSTRUCT or DICOM-SEG mask
``modality``   optional: ``"CT"``, ``"PET"``, ``"MR"``... for several images per patient
``series_uid`` optional: which series of a DICOM folder holding several

plus any clinical columns. Identifier columns (``case_id``, ``series_uid``,
names ending in ``_id`` / ``uid``) are kept as text exactly as written.
A row is identified by (``case_id``, ``timepoint``, ``reader``), plus
``modality`` when the column exists.

:func:`patient_flow` counts patients assessed, excluded (with a reason each) and
analysed, the numbers of a STARD / TRIPOD flow diagram.
"""

from radnb.cohort._manifest import KEYS, load_manifest, from_folder, validate, summarize
from radnb.cohort._flow import patient_flow

__all__ = [
    "KEYS",
    "load_manifest",
    "from_folder",
    "validate",
    "summarize",
    "patient_flow",
]
