"""DICOM image series internals for :mod:`radnb.io`: find, describe, read and write series.

Reading goes through SimpleITK's ``ImageSeriesReader`` (GDCM sorts the slices
along the slice normal and applies RescaleSlope/Intercept); pydicom only reads
headers, to describe series and to tell images from RTSTRUCT/SEG objects.
Writing builds one CT Image Storage file per axial slice with pydicom, with
deterministic UIDs and fixed dates so the same inputs give byte-identical files.
RTSTRUCT and DICOM-SEG live in :mod:`radnb.io._dicom_masks`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from radnb._utils.i18n import tr

# Objects that share a folder with images but hold no image series of their own.
NON_IMAGE_MODALITIES = {"RTSTRUCT", "SEG", "RTPLAN", "RTDOSE", "RTRECORD", "SR", "PR", "KO", "REG"}
FIXED_DATE, FIXED_TIME = "20240101", "120000"
MANUFACTURER = "radnb"


def is_dicom(path) -> bool:
    """True when ``path`` is a file with the DICOM preamble (``DICM`` at byte 128)."""
    path = Path(path)
    if not path.is_file():
        return False
    with open(path, "rb") as fh:
        fh.seek(128)
        return fh.read(4) == b"DICM"


def read_header(path):
    """Read a DICOM header without pixel data."""
    import pydicom

    return pydicom.dcmread(str(path), stop_before_pixels=True)


def make_uid(*parts) -> str:
    """A UID derived only from ``parts`` (same parts, same UID)."""
    from pydicom.uid import generate_uid

    return str(generate_uid(entropy_srcs=[str(p) for p in parts]))


# ----------------------------------------------------------------------------- reading
def image_series(folder) -> dict[str, list[str]]:
    """Map SeriesInstanceUID -> sorted file names of the *image* series in ``folder``.

    RTSTRUCT, SEG and other non-image objects in the same folder are ignored.
    """
    import SimpleITK as sitk

    folder = str(folder)
    series = {}
    for uid in sitk.ImageSeriesReader.GetGDCMSeriesIDs(folder):
        files = list(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(folder, uid))
        if not files:
            continue
        header = read_header(files[0])
        if str(header.get("Modality", "")).upper() in NON_IMAGE_MODALITIES:
            continue
        series[uid] = files
    return series


def describe_series(series: dict[str, list[str]]) -> str:
    """One line per series: UID, modality, description and slice count."""
    lines = []
    for uid, files in series.items():
        h = read_header(files[0])
        desc = str(h.get("SeriesDescription", "")) or tr("(no description)")
        lines.append("  " + tr("{uid}  {modality}  {description!r}  {n} slices").format(
            uid=uid, modality=h.get("Modality", "?"), description=desc, n=len(files)))
    return "\n".join(lines)


def read_series(folder, series_uid=None):
    """Read the image series in ``folder`` (the one with ``series_uid`` if given)."""
    import SimpleITK as sitk

    folder = Path(folder)
    series = image_series(folder)
    if not series:
        raise ValueError(_no_series_message(folder))
    if series_uid is None:
        if len(series) > 1:
            raise ValueError(tr(
                "folder {folder!r} holds {n} DICOM image series:\n{listing}\n"
                "Choose one: in a manifest, add a series_uid column holding one of these UIDs; in "
                "Python, read_image({folder!r}, series_uid={uid!r}).").format(
                folder=str(folder), n=len(series), listing=describe_series(series),
                uid=next(iter(series))))
        series_uid = next(iter(series))
    elif series_uid not in series:
        raise ValueError(tr(
            "series_uid {uid!r} is not in folder {folder!r}; it holds:\n{listing}\n"
            "Pass one of these UIDs.").format(uid=series_uid, folder=str(folder),
                                              listing=describe_series(series)))
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(series[series_uid])
    image = reader.Execute()
    frame = read_header(series[series_uid][0]).get("FrameOfReferenceUID")
    if frame:  # kept so a mask from another frame of reference can be refused
        image.SetMetaData("0020|0052", str(frame))
    return image


def _no_series_message(folder: Path) -> str:
    subs = sorted(p.name for p in folder.iterdir() if p.is_dir())[:8] if folder.is_dir() else []
    hint = (
        tr(" It has subfolders {subfolders}: if the slices are in one of them, pass that "
           "subfolder.").format(subfolders=subs)
        if subs else ""
    )
    return tr(
        "no DICOM image series found in folder {folder!r}.{hint} "
        "read_image reads one series folder (one file per slice) or a NIfTI, NRRD or MHA file."
    ).format(folder=str(folder), hint=hint)


def series_uid_of_file(path) -> str:
    """SeriesInstanceUID of a DICOM image file (raises for RTSTRUCT/SEG)."""
    h = read_header(path)
    modality = str(h.get("Modality", "")).upper()
    if modality in NON_IMAGE_MODALITIES:
        raise ValueError(tr(
            "{path!r} is a DICOM {modality} object, not an image; "
            "read it with radnb.io.read_mask(path, reference=<image series folder>).").format(
            path=str(path), modality=modality))
    return str(h.SeriesInstanceUID)


def load_series_datasets(folder):
    """All image datasets of the single image series in ``folder``, ordered by slice index.

    Used by the RTSTRUCT and SEG writers, which must reference every slice.
    """
    import pydicom

    series = image_series(folder)
    if len(series) != 1:
        raise ValueError(tr(
            "series_folder {folder!r} must hold exactly one DICOM image series; "
            "found {n}. Pass the folder written by write_dicom_series.").format(
            folder=str(folder), n=len(series)))
    files = next(iter(series.values()))  # GDCM order: along the slice normal
    return [pydicom.dcmread(f) for f in files]


# ----------------------------------------------------------------------------- writing
def _check_writable(image):
    if image.GetDimension() != 3 or image.GetNumberOfComponentsPerPixel() != 1:
        raise ValueError(tr(
            "write_dicom_series needs a 3D single-channel image; got "
            "{dimension}D with {components} component(s).").format(
            dimension=image.GetDimension(), components=image.GetNumberOfComponentsPerPixel()))
    direction = np.array(image.GetDirection()).reshape(3, 3)
    if np.linalg.det(direction) < 0:
        raise ValueError(tr(
            "the image direction is left-handed (determinant -1); DICOM slices are stacked along "
            "row x column, so flip the z axis first, e.g. sitk.Flip(image, (False, False, True))."
        ))


def stored_values(arr: np.ndarray, ct: bool = True):
    """Return ``(stored_array, intercept, bits_stored, signed)`` for values ``arr``.

    CT values within -1024..3071 HU use the classic CT encoding (12 bits stored,
    unsigned, RescaleIntercept -1024); anything else is stored as signed 16 bit.
    """
    if not np.all(np.isfinite(arr)) or not np.array_equal(arr, np.round(arr)):
        raise ValueError(tr(
            "write_dicom_series stores whole Hounsfield units; the image has non-integer values. "
            "Round it first, e.g. sitk.Cast(sitk.Round(image), sitk.sitkInt16)."
        ))
    lo, hi = (float(arr.min()), float(arr.max())) if arr.size else (0.0, 0.0)
    if ct and lo >= -1024 and hi <= 3071:
        return (arr + 1024).astype(np.uint16), -1024, 12, False
    if lo >= -32768 and hi <= 32767:
        return arr.astype(np.int16), 0, 16, True
    raise ValueError(tr(
        "image values {low}..{high} do not fit in 16 bits; CT images hold HU in -32768..32767."
    ).format(low=f"{lo:g}", high=f"{hi:g}"))


def series_uids(patient_id, seed, study_uid, series_description, modality) -> dict:
    """Deterministic study / series / frame-of-reference UIDs for a written series."""
    study_uid = study_uid or make_uid("radnb-study", patient_id, seed)
    key = ("radnb-series", patient_id, seed, study_uid, series_description, modality)
    return {
        "study": study_uid,
        "series": make_uid(*key),
        "frame": make_uid("radnb-frame", *key),
        "sop": lambda k: make_uid("radnb-sop", *key, k),
    }


def write_series(image, folder, *, patient_id, study_uid, series_description, modality, seed):
    """Write ``image`` as one file per slice into ``folder``; return the file paths."""
    import SimpleITK as sitk

    _check_writable(image)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arr = sitk.GetArrayViewFromImage(image)  # z, y, x
    values = np.asarray(arr, dtype=np.float64)
    stored, intercept, bits, signed = stored_values(values, ct=modality == "CT")
    uids = series_uids(patient_id, seed, study_uid, series_description, modality)
    direction = np.array(image.GetDirection()).reshape(3, 3)
    orientation = [*direction[:, 0], *direction[:, 1]]
    sx, sy, sz = image.GetSpacing()
    paths = []
    for k in range(stored.shape[0]):
        position = image.TransformContinuousIndexToPhysicalPoint((0.0, 0.0, float(k)))
        ds = _slice_dataset(
            stored[k], k, uids, patient_id=patient_id, modality=modality,
            description=series_description, position=position, orientation=orientation,
            pixel_spacing=(sy, sx), thickness=sz, intercept=intercept, bits=bits, signed=signed,
        )
        path = folder / f"slice_{k + 1:04d}.dcm"
        ds.save_as(str(path), enforce_file_format=True)
        paths.append(path)
    return paths


def _slice_dataset(pixels, k, uids, *, patient_id, modality, description, position,
                   orientation, pixel_spacing, thickness, intercept, bits, signed):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, MRImageStorage

    sop_class = MRImageStorage if modality == "MR" else CTImageStorage
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = uids["sop"](k)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, uids["sop"](k)
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = ds.AcquisitionDate = FIXED_DATE
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = ds.AcquisitionTime = FIXED_TIME
    ds.AccessionNumber = ""
    ds.Modality = modality
    ds.Manufacturer = MANUFACTURER
    ds.ReferringPhysicianName = ""
    ds.SeriesDescription = description
    ds.ManufacturerModelName = "radnb synthetic"
    ds.PatientName = f"{patient_id}^"  # family name only, unambiguous person name
    ds.PatientID = str(patient_id)
    ds.PatientBirthDate = ""
    ds.PatientSex = ""
    ds.SliceThickness = f"{thickness:.6g}"
    if modality == "CT":
        ds.KVP = "120"
    ds.StudyInstanceUID = uids["study"]
    ds.SeriesInstanceUID = uids["series"]
    ds.StudyID = "1"
    ds.SeriesNumber = 1
    ds.AcquisitionNumber = 1
    ds.InstanceNumber = k + 1
    ds.ImagePositionPatient = [_ds(v) for v in position]
    ds.ImageOrientationPatient = [_ds(v) for v in orientation]
    ds.FrameOfReferenceUID = uids["frame"]
    ds.PositionReferenceIndicator = ""
    normal = np.cross(orientation[:3], orientation[3:])
    ds.SliceLocation = _ds(float(np.dot(normal, position)))
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = pixels.shape
    ds.PixelSpacing = [_ds(v) for v in pixel_spacing]
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, bits, bits - 1
    ds.PixelRepresentation = int(signed)
    ds.WindowCenter, ds.WindowWidth = "40", "400"
    ds.RescaleIntercept = str(intercept)
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU" if modality == "CT" else "US"
    ds.PixelData = np.ascontiguousarray(pixels).astype("<i2" if signed else "<u2").tobytes()
    return ds


def _ds(value: float) -> str:
    """A Decimal String (at most 16 characters) that round-trips ``value`` closely."""
    for digits in range(15, 5, -1):
        text = f"{value:.{digits}g}"
        if len(text) <= 16:
            return text
    return f"{value:.6g}"
