"""The individual checks behind :func:`radnb.cohort.validate`.

Each check yields ``(check, severity, message)``; messages say what was found
and what to do. The geometry and label checks give the specific help that the
two commonest pyradiomics failures need.
"""
from __future__ import annotations

import numpy as np

OK, WARN, ERR = "ok", "warning", "error"


def check_pair(rec: dict, *, tolerance: float, min_voxels: int):
    """Yield ``(check, severity, message)`` for one manifest row; never raises."""
    image = yield from _read(rec, "image")
    mask = yield from _read(rec, "mask", reference=image)
    if image is None or mask is None:
        return
    dims_ok = yield from _check_dimensionality(image)
    if not dims_ok:
        return
    yield from _check_geometry(image, mask, tolerance)
    arr = _array(mask)
    integer = yield from _check_integer(mask, arr)
    if not integer:  # labels are meaningless in a probability map
        return
    if not arr.any():
        yield "mask_empty", ERR, (
            "the mask has no non-zero voxel: the segmentation is missing or was saved empty; "
            "re-export it from your segmentation tool."
        )
        return
    yield "mask_empty", OK, "mask has non-zero voxels"
    label = int(rec.get("label", 1))
    roi = arr == label
    if not roi.any():
        yield "label", ERR, _label_message(arr, label)
        return
    yield "label", OK, f"label {label} present"
    yield from _check_roi(roi, mask, min_voxels)


def _read(rec, column, reference=None):
    from pathlib import Path

    from radnb.io import _dicom
    from radnb import io

    path = rec.get(column, "")
    try:
        if column == "mask" and Path(path).is_file() and _dicom.is_dicom(Path(path)):
            # RTSTRUCT / DICOM-SEG: rasterised onto the image grid
            roi = rec.get("roi")
            roi = None if roi is None or (isinstance(roi, float) and roi != roi) else roi
            img = io.read_mask(path, reference=reference, roi=roi)
        else:  # label images are read as stored, so the checks below see what pyradiomics sees
            img = io.read_image(path)
    except FileNotFoundError:
        yield column, ERR, (
            f"{column} file {str(path)!r} does not exist; check the path in the manifest "
            "(relative paths are relative to the manifest's folder)."
        )
        return None
    except Exception as exc:  # any reader failure is reported, not raised
        yield column, ERR, (
            f"{column} file {str(path)!r} could not be read ({_reason(exc)}); check that the file "
            "is complete and opens in a viewer, and that it is NIfTI, NRRD, MHA, a DICOM series "
            "folder, DICOM-SEG or RTSTRUCT."
        )
        return None
    yield column, OK, f"read {column} ({'x'.join(map(str, img.GetSize()))} voxels)"
    return img


def _check_dimensionality(image):
    dim = image.GetDimension()
    if dim != 3:
        yield "dimensionality", ERR, (
            f"the image is {dim}D (size {image.GetSize()}); radnb extracts 3D features. Supply the "
            "whole volume, or for a single slice use pyradiomics settings with force2D: True."
        )
        return False
    if min(image.GetSize()) == 1:
        yield "dimensionality", WARN, (
            f"the image has a single slice (size {image.GetSize()}); 3D texture features need "
            "several slices - consider force2D: True."
        )
        return True
    yield "dimensionality", OK, "3D image"
    return True


def _check_geometry(image, mask, tol):
    size_i, size_m = image.GetSize(), mask.GetSize()
    sp_i, sp_m = np.array(image.GetSpacing()), np.array(mask.GetSpacing())
    shift = float(np.linalg.norm(np.subtract(image.GetOrigin(), mask.GetOrigin())))
    ddir = float(np.max(np.abs(np.subtract(image.GetDirection(), mask.GetDirection()))))
    problems = []
    if size_i != size_m:
        problems.append(f"size {size_m} vs image {size_i}")
    if np.max(np.abs(sp_i - sp_m)) > tol:
        problems.append(
            f"spacing {_r(sp_m)} vs image {_r(sp_i)} mm "
            f"(differs by up to {np.max(np.abs(sp_i - sp_m)):.4g} mm)"
        )
    if shift > tol:
        problems.append(f"origin shifted by {shift:.3g} mm")
    if ddir > tol:
        problems.append(f"direction cosines differ by up to {ddir:.3g}")
    if not problems:
        yield "geometry", OK, "mask and image share size, spacing, origin and direction"
        return
    safe = _roi_inside_image(image, mask)
    advice = (
        "Resampling the mask onto the image is safe (the ROI lies inside the image): use "
        "radnb.preprocess.resample_to(mask, image, is_mask=True), or the pyradiomics setting "
        "correctMask: True."
        if safe else
        "Resampling the mask onto the image is NOT safe: the ROI extends outside the image, so the "
        "mask probably belongs to another scan - check the pairing in the manifest."
    )
    yield "geometry", ERR, "mask does not match the image: " + "; ".join(problems) + ". " + advice


def _roi_inside_image(image, mask) -> bool:
    arr = _array(mask)
    idx = np.argwhere(arr > 0)
    if idx.size == 0:
        return True
    lo, hi = idx.min(0)[::-1], idx.max(0)[::-1]  # numpy (z, y, x) -> sitk (x, y, z)
    size = np.array(image.GetSize())
    for corner in np.array(np.meshgrid(*zip(lo, hi))).T.reshape(-1, 3):
        point = mask.TransformIndexToPhysicalPoint([int(c) for c in corner])
        cidx = np.array(image.TransformPhysicalPointToContinuousIndex(point))
        if np.any(cidx < -0.5 - 1e-6) or np.any(cidx > size - 0.5 + 1e-6):
            return False
    return True


def _check_integer(mask, arr):
    if np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool:
        yield "mask_integer", OK, f"integer mask ({mask.GetPixelIDTypeAsString()})"
        return True
    frac = arr[np.abs(arr - np.round(arr)) > 1e-6]
    if frac.size:
        yield "mask_integer", ERR, (
            f"the mask holds non-integer values (e.g. {frac.flat[0]:.3g}): it looks like a probability "
            "map or was resampled with linear interpolation; threshold it (mask > 0.5) or resample "
            "with nearest-neighbour interpolation."
        )
        return False
    yield "mask_integer", WARN, (
        f"the mask is stored as {mask.GetPixelIDTypeAsString()} but holds whole numbers; "
        "saving it as an integer type avoids rounding surprises."
    )
    return True


def _label_message(arr, label):
    values, counts = np.unique(arr[arr != 0], return_counts=True)
    listing = ", ".join(f"{_num(v)} ({c} voxels)" for v, c in zip(values, counts))
    best = _num(values[np.argmax(counts)])
    return (
        f"label {label} is not in the mask; the mask contains label(s) {listing}. "
        f"Set label={best} for this row in the manifest (the largest), or check the segmentation."
    )


def _check_roi(roi, mask, min_voxels):
    n = int(roi.sum())
    volume = n * float(np.prod(mask.GetSpacing())) / 1000.0
    thick = int(sum(np.any(roi, axis=tuple(j for j in range(3) if j != i)).sum() > 1 for i in range(3)))
    if thick < 2:
        yield "roi_size", ERR, (
            f"the ROI ({n} voxels) is only one voxel thick in {3 - thick} directions; pyradiomics needs "
            "an ROI at least 2 voxels across in 2 directions. Check the label or the segmentation."
        )
    elif n < min_voxels:
        yield "roi_size", WARN, (
            f"the ROI has only {n} voxels ({volume:.2f} ml); texture features are unstable below "
            f"~{min_voxels} voxels - interpret them with care."
        )
    else:
        yield "roi_size", OK, f"{n} voxels ({volume:.2f} ml)"
    touches = [name for axis, name in zip(range(3), "zyx")
               if roi.take(0, axis=axis).any() or roi.take(-1, axis=axis).any()]
    if touches:
        yield "border", WARN, (
            f"the ROI touches the image border along {', '.join(touches)}: the lesion may be cut off "
            "(check the field of view); filters and texture near the edge are less reliable."
        )
    else:
        yield "border", OK, "ROI is inside the field of view"


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
