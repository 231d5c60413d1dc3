"""The individual checks behind :func:`radnb.cohort.validate`.

Each check yields ``(check, severity, message)``; messages say what was found
and what to do. The geometry and label checks give the specific help that the
two commonest pyradiomics failures need.
"""
from __future__ import annotations

import numpy as np

from radnb._utils.i18n import _

OK, WARN, ERR = "ok", "warning", "error"


def check_pair(rec: dict, *, tolerance, min_voxels: int):
    """Yield ``(check, severity, message)`` for one manifest row; never raises.

    The checks follow what extraction does with the row (:mod:`radnb.extract`
    reads with :mod:`radnb.io` and aligns with :mod:`radnb.io._geometry`), so an
    error here is a row extraction would refuse or silently change.
    """
    image = yield from _read(rec, "image")
    mask = yield from _read(rec, "mask", reference=image)
    if image is None or mask is None:
        return
    dims_ok = yield from _check_dimensionality(image)
    if not dims_ok:
        return
    yield from _check_image_values(image)
    if not (yield from _check_components(mask)):
        return
    if mask.GetDimension() != image.GetDimension():
        yield "geometry", ERR, _(
            "the mask is {mask}D but the image is {image}D: radiomics "
            "needs a 3D mask of the same scan. Export the whole segmentation, not one slice."
        ).format(mask=mask.GetDimension(), image=image.GetDimension())
        return
    yield from _check_geometry(image, mask, tolerance)
    arr = _array(mask)
    integer = yield from _check_integer(mask, arr)
    if not integer:  # labels are meaningless in a probability map
        return
    if not (yield from _check_label_values(mask)):
        return
    if not arr.any():
        yield "mask_empty", ERR, _(
            "the mask has no non-zero voxel: the segmentation is missing or was saved empty; "
            "re-export it from your segmentation tool."
        )
        return
    yield "mask_empty", OK, _("mask has non-zero voxels")
    label = int(rec.get("label", 1))
    if label < 1:
        yield "label", ERR, _(
            "label {label} is the background value; set the manifest's label column to the "
            "lesion's value in the mask (usually 1)."
        ).format(label=label)
        return
    roi = arr == label
    if roi.all():
        yield "label", ERR, _(
            "label {label} covers every voxel of the image, so there is no background: the mask "
            "is not a segmentation (a filled box, or the wrong file). Export the lesion's "
            "segmentation again."
        ).format(label=label)
        return
    if not roi.any():
        yield "label", ERR, _label_message(arr, label)
        return
    yield "label", OK, _("label {label} present").format(label=label)
    yield from _check_spacing(image)
    yield from _check_roi(roi, mask, min_voxels)


def _read(rec, column, reference=None):
    from pathlib import Path

    from radnb.io import _dicom
    from radnb import io
    from radnb.io._geometry import GeometryMismatchError

    path = rec.get(column, "")
    roi = _given(rec.get("roi"))
    try:
        if column == "image":
            img = io.read_image(path, series_uid=_given(rec.get("series_uid")))
        elif Path(path).is_file() and _dicom.is_dicom(Path(path)):
            if reference is None:
                return None
            img = io.read_mask(path, reference=reference, roi=roi)  # RTSTRUCT / SEG on the image grid
        else:  # label images are read as stored, so the checks below see what extraction gets
            img = io.read_image(path)
            if roi is not None:
                yield "roi", ERR, _(
                    "roi={roi!r} is given, but the mask {name!r} is a label image, not an "
                    "RTSTRUCT or DICOM-SEG: clear the roi cell of this row and choose the ROI with the "
                    "label column instead."
                ).format(roi=roi, name=Path(path).name)
                return None
    except FileNotFoundError:
        yield column, ERR, _(
            "{column} file {path!r} does not exist; check the path in the manifest "
            "(relative paths are relative to the manifest's folder)."
        ).format(column=_column_word(column), path=str(path))
        return None
    except GeometryMismatchError as exc:
        yield "geometry", ERR, str(exc)
        return None
    except Exception as exc:  # any reader failure is reported, not raised
        yield column, ERR, _(
            "{column} file {path!r} could not be read ({reason}); check that the file "
            "is complete and opens in a viewer, and that it is NIfTI, NRRD, MHA, a DICOM series "
            "folder, DICOM-SEG or RTSTRUCT."
        ).format(column=_column_word(column), path=str(path), reason=_reason(exc))
        return None
    yield column, OK, _("read {column} ({size} voxels)").format(
        column=_column_word(column), size="x".join(map(str, img.GetSize())))
    return img


def _column_word(column):
    """'image' or 'mask' in the current language (the manifest's column names stay as they are)."""
    return {"image": _("image"), "mask": _("mask")}.get(column, column)


def _given(value):
    if value is None or (isinstance(value, float) and value != value) or value == "":
        return None
    return value


def _check_image_values(image):
    from radnb.io._integrity import check_finite

    try:
        check_finite(image)
    except ValueError as exc:
        yield "image_values", ERR, str(exc)
        return
    yield "image_values", OK, _("every voxel holds a number")


def _check_components(mask):
    from radnb.io._integrity import mask_problem

    if mask.GetNumberOfComponentsPerPixel() != 1:
        yield "mask_values", ERR, _("the mask {problem}").format(problem=mask_problem(mask))
        return False
    return True


def _check_label_values(mask):
    from radnb.io._integrity import mask_problem

    problem = mask_problem(mask)
    if problem:
        yield "mask_values", ERR, _("the mask {problem}").format(problem=problem)
        return False
    yield "mask_values", OK, _("whole-number labels within 0..255")
    return True


def _check_spacing(image):
    spacing = np.asarray(image.GetSpacing(), float)
    if spacing.max() > 10 or spacing.min() < 0.05:
        yield "spacing", WARN, _(
            "the voxel spacing {spacing} mm is unusual for a clinical scan (expected about "
            "0.3-6 mm): check the header (units in cm instead of mm, a wrong export). Wrong spacing "
            "changes every shape and texture feature, and can make extraction very slow."
        ).format(spacing=_r(spacing))
        return
    yield "spacing", OK, _("voxel spacing {spacing} mm").format(spacing=_r(spacing))


def _check_dimensionality(image):
    dim = image.GetDimension()
    if dim != 3:
        yield "dimensionality", ERR, _(
            "the image is {dim}D (size {size}); radnb extracts 3D features. Supply the "
            "whole volume, or for a single slice use pyradiomics settings with force2D: True."
        ).format(dim=dim, size=image.GetSize())
        return False
    if min(image.GetSize()) == 1:
        yield "dimensionality", WARN, _(
            "the image has a single slice (size {size}); 3D texture features need "
            "several slices - consider force2D: True."
        ).format(size=image.GetSize())
        return True
    yield "dimensionality", OK, _("3D image")
    return True


def _check_geometry(image, mask, tol):
    from radnb.io._geometry import compare_grids, frame_of_image, mismatch_advice, _roi_inside

    status, details, small = compare_grids(mask, image, tol)
    if status == "same":
        yield "geometry", OK, _("mask and image share size, spacing, origin and direction")
    elif status == "aligned":
        yield "geometry", OK, _(
            "mask header differs from the image within rounding ({details}); "
            "radnb gives the mask the image's geometry when reading and extracting"
        ).format(details="; ".join(details))
    else:
        advice = mismatch_advice(small=small, frames=(frame_of_image(mask), frame_of_image(image)),
                                 inside=_roi_inside(mask, image))
        yield "geometry", ERR, _("mask does not match the image: {details}. Extraction refuses "
                                 "it. {advice}").format(details="; ".join(details), advice=advice)


def _check_integer(mask, arr):
    if np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool:
        yield "mask_integer", OK, _("integer mask ({type})").format(type=mask.GetPixelIDTypeAsString())
        return True
    frac = arr[np.abs(arr - np.round(arr)) > 1e-6]
    if frac.size:
        yield "mask_integer", ERR, _(
            "the mask holds non-integer values (e.g. {value:.3g}): it looks like a probability "
            "map or was resampled with linear interpolation; threshold it (mask > 0.5) or resample "
            "with nearest-neighbour interpolation."
        ).format(value=frac.flat[0])
        return False
    yield "mask_integer", WARN, _(
        "the mask is stored as {type} but holds whole numbers; "
        "saving it as an integer type avoids rounding surprises."
    ).format(type=mask.GetPixelIDTypeAsString())
    return True


def _label_message(arr, label):
    values, counts = np.unique(arr[arr != 0], return_counts=True)
    listing = ", ".join(_("{value} ({count} voxels)").format(value=_num(v), count=c)
                        for v, c in zip(values, counts))
    best = _num(values[np.argmax(counts)])
    return _(
        "label {label} is not in the mask; the mask contains label(s) {listing}. "
        "Set label={best} for this row in the manifest (the largest), or check the segmentation."
    ).format(label=label, listing=listing, best=best)


def _check_roi(roi, mask, min_voxels):
    n = int(roi.sum())
    volume = n * float(np.prod(mask.GetSpacing())) / 1000.0
    if volume > 2000:
        yield "roi_volume", WARN, _(
            "the ROI measures {volume:.0f} ml ({litres:.1f} litres), more than any single "
            "lesion: check the voxel spacing in the header, and that the mask is a lesion and not a "
            "whole-body or organ mask. Extraction of such an ROI is also very slow."
        ).format(volume=volume, litres=volume / 1000)
    thick = int(sum(np.any(roi, axis=tuple(j for j in range(3) if j != i)).sum() > 1 for i in range(3)))
    if thick < 2:
        yield "roi_size", ERR, _(
            "the ROI ({n} voxels) is only one voxel thick in {flat} directions; pyradiomics needs "
            "an ROI at least 2 voxels across in 2 directions. Check the label or the segmentation."
        ).format(n=n, flat=3 - thick)
    elif n < min_voxels:
        yield "roi_size", WARN, _(
            "the ROI has only {n} voxels ({volume:.2f} ml); texture features are unstable below "
            "~{min_voxels} voxels - interpret them with care."
        ).format(n=n, volume=volume, min_voxels=min_voxels)
    else:
        yield "roi_size", OK, _("{n} voxels ({volume:.2f} ml)").format(n=n, volume=volume)
    touches = [name for axis, name in zip(range(3), "zyx")
               if roi.take(0, axis=axis).any() or roi.take(-1, axis=axis).any()]
    if touches:
        yield "border", WARN, _(
            "the ROI touches the image border along {axes}: the lesion may be cut off "
            "(check the field of view); filters and texture near the edge are less reliable."
        ).format(axes=", ".join(touches))
    else:
        yield "border", OK, _("ROI is inside the field of view")


def _r(values):
    return tuple(round(float(v), 4) for v in values)


def _reason(exc) -> str:
    """The useful part of a reader error, without ITK's C++ source locations."""
    import re

    text = re.sub(r"\(?Exception thrown in SimpleITK[^)]*\)?", "", str(exc))
    text = re.sub(r"/\S+\.(cxx|cpp|h|hxx):\d+:?", "", text)
    first = re.split(r"(?<=[.)]) (?=Supported|Check)", text.strip())[0]
    return f"{type(exc).__name__}: {' '.join(first.split()).rstrip(' .:')}"


def _array(img):
    import SimpleITK as sitk

    return sitk.GetArrayViewFromImage(img)


def _num(v):
    return int(v) if float(v).is_integer() else float(v)
