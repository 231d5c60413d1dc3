"""Read medical images and masks as SimpleITK images; write DICOM for the demo cohort.

Readers
    :func:`read_image` (NIfTI, NRRD, MHA/MHD, a DICOM series folder),
    :func:`read_mask` (label images, DICOM-SEG, RTSTRUCT on the image grid),
    :func:`list_rois` (ROI / segment names of an RTSTRUCT or SEG) and
    :func:`read_pet_suv` (a DICOM PET series as body-weight SUV, QIBA definition).
Writers
    :func:`write_dicom_series`, :func:`write_rtstruct` and :func:`write_dicom_seg`
    turn a SimpleITK image and mask into the DICOM objects a hospital PACS would
    hold, deterministically, so the demo cohort can teach DICOM without patient data.

SimpleITK works in physical space: every image carries its origin, spacing and
direction in millimetres (LPS patient coordinates, as in DICOM), so a mask from
an RTSTRUCT or SEG lands on exactly the voxels it was drawn on.
"""

from radnb.io._files import (
    read_image,
    read_mask,
    list_rois,
    write_dicom_series,
    write_rtstruct,
    write_dicom_seg,
    SUPPORTED_FORMATS,
)
from radnb.io._pet import read_pet_suv

__all__ = [
    "read_image",
    "read_mask",
    "list_rois",
    "read_pet_suv",
    "write_dicom_series",
    "write_rtstruct",
    "write_dicom_seg",
    "SUPPORTED_FORMATS",
]
