"""Read images and masks (NIfTI, NRRD, MHA, DICOM, RTSTRUCT, DICOM-SEG) and write DICOM.

Public names are re-exported by :mod:`radnb.io`, which documents the step.
"""
from __future__ import annotations

from pathlib import Path

import radnb.io._dicom as _dicom


SUPPORTED_FORMATS = (
    "NIfTI (.nii, .nii.gz), NRRD (.nrrd, .nhdr), MetaImage (.mha, .mhd), "
    "a folder holding one DICOM image series (one file per slice), "
    "and for masks also DICOM-SEG and RTSTRUCT files"
)


def read_image(path, *, series_uid=None):
    """Read an image file or a DICOM series folder as a SimpleITK image.

    Parameters
    ----------
    path : str or Path
        A NIfTI, NRRD or MetaImage file, a folder with one DICOM series, or one
        DICOM slice (its whole series is read from the same folder).
    series_uid : str, optional
        SeriesInstanceUID to read when the folder holds several series.

    Returns
    -------
    SimpleITK.Image
        Voxel values in the file's units (Hounsfield units for CT: DICOM
        RescaleSlope/Intercept are applied), with origin, spacing and direction.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file cannot be read (the message lists the supported formats), or
        the folder holds no or several DICOM series (the message lists them with
        their descriptions and slice counts).

    See Also
    --------
    read_mask : read the matching segmentation.

    Examples
    --------
    >>> from radnb.io import read_image
    >>> image = read_image("../shared/data/pyradiomics/brain1_image.nrrd")  # doctest: +SKIP
    >>> image.GetSpacing()  # doctest: +SKIP
    (0.78125, 0.78125, 6.5)
    >>> ct = read_image("dicom/case001/ct")  # a DICOM series folder  # doctest: +SKIP
    """
    path = _existing(path, "path")
    if path.is_dir():
        return _dicom.read_series(path, series_uid)
    if _dicom.is_dicom(path):
        uid = series_uid or _dicom.series_uid_of_file(path)
        return _dicom.read_series(path.parent, uid)
    return _read_file(path)


def read_mask(path, reference=None, *, roi=None, label=None):
    """Read a segmentation as a label image, on the grid of ``reference`` for DICOM masks.

    Parameters
    ----------
    path : str or Path
        A label image (NIfTI, NRRD, MHA, DICOM series folder), a DICOM-SEG file or
        an RTSTRUCT file.
    reference : SimpleITK.Image or str or Path, optional
        The image the mask belongs to (an image or anything :func:`read_image`
        reads). Required for RTSTRUCT and DICOM-SEG, whose contours and frames
        are placed on its grid. A label image must share its grid: differences
        below the tolerances of header rounding are aligned (the mask takes the
        image's geometry), larger ones raise ``ValueError`` with advice.
    roi : str, optional
        RTSTRUCT ROI name or SEG segment label (case-insensitive if unique).
    label : int, optional
        Number of the RTSTRUCT ROI or SEG segment; for a label image, the label
        value to keep. Not needed when the file holds a single ROI. Missing
        values (``None``, NaN, ``""``) of ``roi`` and ``label`` mean "not given",
        so manifest columns can be passed as they are.

    Returns
    -------
    SimpleITK.Image
        ``UInt8`` image. DICOM masks and label images read with ``label=`` hold
        1 inside the ROI and 0 elsewhere; a label image read without ``label``
        keeps its values.

    Raises
    ------
    ValueError
        If the ROI is not found (the message lists the available names), the
        reference is missing for a DICOM mask, the mask is not a label image
        (several components, values outside 0..255), the file is incomplete, or
        the grids differ by more than header rounding (a DICOM mask from another
        Frame of Reference, a label image on another grid).

    Notes
    -----
    RTSTRUCT contours are rasterised slice by slice: a voxel is inside when its
    centre lies inside the polygon, and contours on one slice are combined with
    XOR so inner contours cut holes. Expect small differences from other tools
    along the border (a polygon is not a voxel set).

    Examples
    --------
    >>> from radnb.io import read_mask, list_rois
    >>> list_rois("dicom/case001/rtstruct.dcm")  # doctest: +SKIP
    ['GTV']
    >>> ct = "dicom/case001/ct"  # the image series folder
    >>> mask = read_mask("dicom/case001/rtstruct.dcm", ct, roi="GTV")  # doctest: +SKIP
    >>> mask = read_mask("../shared/data/pyradiomics/brain1_label.nrrd", label=1)  # doctest: +SKIP
    """
    path = _existing(path, "path")
    roi, label = _given(roi), _given(label)
    if path.is_file() and _dicom.is_dicom(path):
        ds = _read_dicom_object(path)
        if str(ds.get("Modality", "")).upper() in ("RTSTRUCT", "SEG"):
            return _read_dicom_mask(ds, path, reference, roi, label)
    if roi is not None:
        raise ValueError(
            f"roi={roi!r} names an ROI of an RTSTRUCT or SEG, but {path.name!r} is a label image; "
            "choose its label value with label= instead."
        )
    mask = _label_image(read_image(path), label, path)
    if reference is not None:  # one policy (radnb.io._geometry): align header rounding, refuse more
        from radnb._utils.i18n import tr
        from radnb.io._geometry import align_mask

        mask = align_mask(mask, _as_image(reference), name=tr("mask {name!r}").format(name=path.name))
    return mask


def list_rois(path) -> list[str]:
    """Return the ROI names of an RTSTRUCT or the segment labels of a DICOM-SEG.

    Parameters
    ----------
    path : str or Path
        An RTSTRUCT or DICOM-SEG file.

    Returns
    -------
    list of str
        Names in the order of their numbers (ROI Number / Segment Number).

    Examples
    --------
    >>> from radnb.io import list_rois
    >>> list_rois("dicom/case001/seg.dcm")  # doctest: +SKIP
    ['GTV']
    """
    from radnb.io._dicom_masks import roi_table

    path = _existing(path, "path")
    if not (path.is_file() and _dicom.is_dicom(path)):
        raise ValueError(
            f"{str(path)!r} is not a DICOM file; list_rois reads RTSTRUCT and DICOM-SEG files. "
            "For a label image, use numpy.unique(SimpleITK.GetArrayViewFromImage(read_mask(path)))."
        )
    return [name for _, name in sorted(roi_table(_read_dicom_object(path)).items())]


def write_dicom_series(image, folder, *, patient_id, study_uid=None,
                       series_description="radnb demo CT", modality="CT", seed=0):
    """Write a 3D image as a DICOM series, one CT Image Storage file per slice.

    The files carry ImagePositionPatient, ImageOrientationPatient, PixelSpacing,
    SliceThickness and RescaleSlope/Intercept (Hounsfield units), so
    :func:`read_image` of the folder gives back the same voxels and geometry.
    UIDs are derived from ``patient_id``, ``seed`` and the description, and dates
    are fixed, so the same inputs give byte-identical files.

    Parameters
    ----------
    image : SimpleITK.Image
        3D image with whole-number values (HU), right-handed direction.
    folder : str or Path
        Output folder (created); files are ``slice_0001.dcm``, ``slice_0002.dcm``, ...
    patient_id : str
        Also used as PatientName.
    study_uid : str, optional
        StudyInstanceUID; default derived from ``patient_id`` and ``seed``.
    series_description : str, default "radnb demo CT"
    modality : {"CT", "MR"}, default "CT"
    seed : int, default 0
        Enters the UIDs: a different seed gives a different series.

    Returns
    -------
    list of Path
        The written files, in slice order.

    Examples
    --------
    >>> import SimpleITK as sitk
    >>> from radnb.io import read_image, write_dicom_series
    >>> image = sitk.Image(16, 12, 5, sitk.sitkInt16)
    >>> image.SetSpacing((0.7, 0.7, 2.5))
    >>> files = write_dicom_series(image, "/tmp/radnb-doc/ct", patient_id="demo-001")
    >>> len(files), read_image("/tmp/radnb-doc/ct").GetSpacing()
    (5, (0.7, 0.7, 2.5))
    """
    from radnb._utils.validation import check_option

    check_option("modality", modality, ("CT", "MR"))
    return _dicom.write_series(
        image, folder, patient_id=patient_id, study_uid=study_uid,
        series_description=series_description, modality=modality, seed=seed,
    )


def write_rtstruct(mask, series_folder, out_path, *, roi_name="GTV"):
    """Write a mask as an RTSTRUCT whose contours reference a written DICOM series.

    Each axial slice of the mask is traced with ``skimage.measure.find_contours``
    (iso-line 0.5, half-way between voxel centres) and the contour points are
    mapped to patient coordinates (mm).

    Parameters
    ----------
    mask : SimpleITK.Image
        Non-zero voxels form the ROI; same grid as the series.
    series_folder : str or Path
        Folder written by :func:`write_dicom_series` (one image series).
    out_path : str or Path
        The RTSTRUCT file to write.
    roi_name : str, default "GTV"

    Returns
    -------
    Path
        ``out_path``.

    Examples
    --------
    >>> import SimpleITK as sitk
    >>> from radnb.io import read_mask, write_dicom_series, write_rtstruct
    >>> image = sitk.Image(16, 12, 5, sitk.sitkInt16)
    >>> files = write_dicom_series(image, "/tmp/radnb-doc/ct", patient_id="demo-001")
    >>> mask = sitk.Image(16, 12, 5, sitk.sitkUInt8)
    >>> mask[4:9, 3:8, 1:4] = 1
    >>> path = write_rtstruct(mask, "/tmp/radnb-doc/ct", "/tmp/radnb-doc/rtstruct.dcm")
    >>> int(sitk.GetArrayFromImage(read_mask(path, image)).sum())
    75
    """
    from radnb.io._dicom_masks import write_rtstruct as _write

    return _write(mask, _existing(series_folder, "series_folder"), out_path, roi_name)


def write_dicom_seg(mask, series_folder, out_path, *, segment_label="GTV"):
    """Write a mask as a BINARY DICOM-SEG (``highdicom``) referencing a DICOM series.

    Parameters
    ----------
    mask : SimpleITK.Image
        Non-zero voxels form the segment; same grid as the series.
    series_folder : str or Path
        Folder written by :func:`write_dicom_series` (one image series).
    out_path : str or Path
        The SEG file to write.
    segment_label : str, default "GTV"

    Returns
    -------
    Path
        ``out_path``.

    Examples
    --------
    >>> import SimpleITK as sitk
    >>> from radnb.io import list_rois, write_dicom_series, write_dicom_seg
    >>> image = sitk.Image(16, 12, 5, sitk.sitkInt16)
    >>> files = write_dicom_series(image, "/tmp/radnb-doc/ct", patient_id="demo-001")
    >>> mask = sitk.Image(16, 12, 5, sitk.sitkUInt8)
    >>> mask[4:9, 3:8, 1:4] = 1
    >>> list_rois(write_dicom_seg(mask, "/tmp/radnb-doc/ct", "/tmp/radnb-doc/seg.dcm"))
    ['GTV']
    """
    from radnb.io._dicom_masks import write_seg

    return write_seg(mask, _existing(series_folder, "series_folder"), out_path, segment_label)


# ----------------------------------------------------------------------------- helpers
def _existing(path, name) -> Path:
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(
            f"{name} {str(path)!r} does not exist; check the spelling, and that relative paths "
            f"start from the current folder ({Path.cwd()})."
        )
    return path


def _given(value):
    """``None`` for missing values (None, NaN, empty string), else ``value``."""
    if value is None or (isinstance(value, float) and value != value) or value == "":
        return None
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _read_file(path: Path):
    import SimpleITK as sitk

    from radnb.io._integrity import check_complete

    check_complete(path, decode=False)  # SimpleITK fills a cut-off .nii.gz with zeros silently
    try:
        return sitk.ReadImage(str(path))
    except RuntimeError as exc:
        check_complete(path)  # say "incomplete" when that is why a compressed file failed
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ValueError(
            f"cannot read {str(path)!r} as an image ({first[:200]}). "
            f"Supported: {SUPPORTED_FORMATS}. "
            "Check that the file is complete and in one of these formats."
        ) from None


def _read_dicom_object(path: Path):
    import pydicom

    try:
        return pydicom.dcmread(str(path))
    except Exception as exc:  # pydicom raises several types for broken files
        raise ValueError(f"cannot read DICOM file {str(path)!r}: {exc}") from exc


def _read_dicom_mask(ds, path, reference, roi, label):
    import SimpleITK as sitk

    import radnb.io._dicom_masks as dm

    number = dm.choose_roi(ds, roi, label)
    if reference is None:
        raise ValueError(
            f"{path.name!r} is a DICOM {ds.Modality}: its contours/frames are placed on an image "
            "grid, so pass reference= the image series it was drawn on (a folder or an image)."
        )
    from radnb.io._geometry import GeometryMismatchError, _frame_of, frame_of_image, mismatch_advice

    ref_path = None if isinstance(reference, sitk.Image) else reference
    reference = _as_image(reference)
    frames = (_frame_of(ds), frame_of_image(reference))
    if ref_path is not None and frames[1] is None:
        from radnb.io._geometry import frame_of_reference

        frames = (frames[0], frame_of_reference(ref_path))
    if frames[0] and frames[1] and frames[0] != frames[1]:
        raise GeometryMismatchError(f"{ds.Modality} {path.name!r} does not belong to this image. "
                                    + mismatch_advice(small=False, frames=frames))
    to_mask = dm.seg_to_mask if ds.Modality == "SEG" else dm.rtstruct_to_mask
    mask = sitk.GetImageFromArray(to_mask(ds, reference, number))
    mask.CopyInformation(reference)
    return mask


def _as_image(reference):
    import SimpleITK as sitk

    return reference if isinstance(reference, sitk.Image) else read_image(reference)


def _label_image(mask, label, path):
    import numpy as np
    import SimpleITK as sitk

    from radnb.io._integrity import mask_problem

    problem = mask_problem(mask, whole_label_image=label is None)
    if problem:
        from radnb._utils.errors import InputError
        from radnb._utils.i18n import tr

        raise InputError(tr("mask {name!r} {problem}").format(name=path.name, problem=problem))
    arr = sitk.GetArrayViewFromImage(mask)
    if label is None:
        return sitk.Cast(mask, sitk.sitkUInt8)
    present = np.unique(arr)
    if label not in present:
        from radnb._utils.i18n import tr

        raise ValueError(tr(
            "label={label!r} does not occur in mask {name!r}; it holds the values "
            "{values}. Pass one of the non-zero values."
        ).format(label=label, name=path.name, values=present[:12].tolist()))
    out = sitk.Cast(sitk.BinaryThreshold(mask, label, label, 1, 0), sitk.sitkUInt8)
    return out
