"""One geometry policy for a mask and its image, used by validation, reading, viewing and extraction.

Two grids are compared on size, spacing, origin and direction.

* **same**: identical headers.
* **aligned**: differences below the tolerances (header rounding, e.g. 1e-6 mm or a
  0.01 mm origin shift). The mask keeps its voxels and takes the image's geometry
  (``CopyInformation``); nothing moves by more than a small fraction of a voxel.
* **mismatch**: anything larger. Reading with ``reference=``, validation and
  extraction all refuse it with advice: when both files name the same DICOM Frame
  of Reference (or the grids differ only slightly), resampling the mask is right;
  when the mask comes from another series, the scans must be registered, or the
  lesion segmented again on this image.

The tolerances: spacing relative ``1e-4``; origin ``max(1e-3 mm, 0.05 x the
smallest voxel side)``; direction cosines ``1e-4``.
"""
from __future__ import annotations

from radnb._utils.errors import InputError
from radnb._utils.i18n import _

import numpy as np

__all__ = ["GeometryMismatchError", "compare_grids", "align_mask", "frame_of_reference",
           "mismatch_advice", "FRAME_KEY", "NOTE_KEY"]

SPACING_RTOL = 1e-4
ORIGIN_ATOL_MM = 1e-3
ORIGIN_VOXEL_FRACTION = 0.05
DIRECTION_ATOL = 1e-4
FRAME_KEY = "0020|0052"  # DICOM Frame of Reference UID, kept on images read from DICOM
NOTE_KEY = "radnb_geometry_aligned"  # metadata set on a mask that took its image's geometry


class GeometryMismatchError(InputError):
    """A mask is not on its image's voxel grid (beyond header rounding)."""


def compare_grids(mask, image, tolerance=None):
    """Compare two SimpleITK grids under the policy.

    Parameters
    ----------
    mask, image : SimpleITK.Image
    tolerance : float, optional
        One absolute tolerance (mm for spacing and origin, cosine for direction)
        replacing the default policy.

    Returns
    -------
    status : {"same", "aligned", "mismatch"}
    details : list of str
        What differs and by how much (empty when ``status == "same"``).
    small : bool
        True when the grids have the same size and differ by under half a voxel in
        origin and 1% in spacing: the same scan with a slightly different header.
    """
    sp_m, sp_i = np.asarray(mask.GetSpacing(), float), np.asarray(image.GetSpacing(), float)
    if mask.GetDimension() != image.GetDimension():
        return "mismatch", [_("the mask is {mask}D, the image {image}D").format(
            mask=mask.GetDimension(), image=image.GetDimension())], False
    size_same = mask.GetSize() == image.GetSize()
    d_sp = np.abs(sp_m - sp_i)
    rel_sp = float(np.max(d_sp / np.maximum(sp_i, 1e-12)))
    shift = float(np.linalg.norm(np.subtract(mask.GetOrigin(), image.GetOrigin())))
    d_dir = float(np.max(np.abs(np.subtract(mask.GetDirection(), image.GetDirection()))))
    details = []
    if not size_same:
        details.append(_("size {mask} vs image {image} voxels").format(
            mask=mask.GetSize(), image=image.GetSize()))
    if d_sp.max() > 0:
        details.append(_("spacing {mask} vs image {image} mm (differs by up to {diff:.3g} mm)").format(
            mask=_r(sp_m), image=_r(sp_i), diff=d_sp.max()))
    if shift > 0:
        details.append(_("origin shifted by {shift:.3g} mm").format(shift=shift))
    if d_dir > 0:
        details.append(_("direction cosines differ by up to {diff:.3g}").format(diff=d_dir))
    if not details:
        return "same", [], True
    if tolerance is None:
        within = (rel_sp <= SPACING_RTOL
                  and shift <= max(ORIGIN_ATOL_MM, ORIGIN_VOXEL_FRACTION * float(sp_i.min()))
                  and d_dir <= DIRECTION_ATOL)
    else:
        within = d_sp.max() <= tolerance and shift <= tolerance and d_dir <= tolerance
    small = size_same and rel_sp < 0.01 and shift < 0.5 * float(sp_i.min()) and d_dir < 0.01
    return ("aligned" if size_same and within else "mismatch"), details, small


def align_mask(mask, image, *, name="mask", frames=(None, None), tolerance=None):
    """Return ``mask`` carrying ``image``'s geometry, or raise :class:`GeometryMismatchError`.

    Within tolerance the mask's voxels are kept and its header replaced by the
    image's; the returned mask then holds a note under the metadata key
    :data:`NOTE_KEY` saying what was aligned (extraction records it in the
    diagnostics). ``frames`` are the DICOM Frame of Reference UIDs of mask and
    image when known; they choose the advice of the error.
    """
    import SimpleITK as sitk

    if mask.GetDimension() != image.GetDimension():
        raise GeometryMismatchError(_(
            "{name} is {mask}D but the image is {image}D: radiomics "
            "needs a 3D image and a 3D mask of one scan. A 2D file is a single slice (export the "
            "whole series); a 4D file holds several volumes, e.g. time frames (save the one you "
            "segmented)."
        ).format(name=name, mask=mask.GetDimension(), image=image.GetDimension()))
    status, details, small = compare_grids(mask, image, tolerance)
    if status == "mismatch":
        raise GeometryMismatchError(_("{name} is not on the image's voxel grid ({details}). {advice}").format(
            name=name, details="; ".join(details),
            advice=mismatch_advice(small=small, frames=frames, inside=_roi_inside(mask, image))))
    out = sitk.Image(mask)
    if status == "aligned":
        out.CopyInformation(image)
        out.SetMetaData(NOTE_KEY, "header within tolerance, image geometry copied: " + "; ".join(details))
    return out


def mismatch_advice(*, small, frames=(None, None), inside=True) -> str:
    """What to do about a mask on another grid (never calls resampling 'safe' by itself)."""
    a, b = frames
    if a and b and a != b:
        return _("The mask was drawn on another series: its DICOM Frame of Reference UID differs from "
                 "the image's, so its coordinates are not this image's. Register the two scans (e.g. "
                 "in 3D Slicer) and move the mask with that transform, or segment the lesion again on "
                 "this image; resampling alone would put it in the wrong place.")
    if (a and b and a == b) or small:
        why = (_("both share one DICOM Frame of Reference") if a and b
               else _("the grids differ only slightly, as when the same scan was saved by another tool"))
        return _("Here {why}: resample the mask onto the image with nearest-neighbour "
                 "interpolation (radnb.preprocess.resample_to(mask, image, is_mask=True)), save it, "
                 "and check the overlay in radnb.view.browse.").format(why=why)
    if not inside:
        return _("It seems to come from another series (the ROI reaches outside this image). First "
                 "check the manifest's pairing. Resample only if both series share a frame of "
                 "reference (same session, patient not moved); otherwise register the two scans or "
                 "segment the lesion again on this image.")
    return _("It seems to come from another series. First check the manifest's pairing. "
             "Resample only if both series share a frame of reference (same session, patient not "
             "moved); otherwise register the two scans or segment the lesion again on this image.")


def frame_of_reference(path, series_uid=None):
    """DICOM Frame of Reference UID of an image series folder, a DICOM file, or None."""
    from pathlib import Path

    import radnb.io._dicom as _dicom

    path = Path(path)
    try:
        if path.is_dir():
            series = _dicom.image_series(path)
            files = series.get(series_uid) if series_uid else next(iter(series.values()), None)
            return _frame_of(_dicom.read_header(files[0])) if files else None
        if path.is_file() and _dicom.is_dicom(path):
            return _frame_of(_dicom.read_header(path))
    except Exception:  # noqa: BLE001 - an unreadable header simply gives no frame
        return None
    return None


def frame_of_image(image):
    """Frame of Reference UID stored on a SimpleITK image read from DICOM, or None."""
    return image.GetMetaData(FRAME_KEY).strip() if image.HasMetaDataKey(FRAME_KEY) else None


def _frame_of(ds):
    uid = ds.get("FrameOfReferenceUID")
    if not uid and "ReferencedFrameOfReferenceSequence" in ds:  # RTSTRUCT
        seq = ds.ReferencedFrameOfReferenceSequence
        uid = seq[0].get("FrameOfReferenceUID") if len(seq) else None
    return str(uid).strip() if uid else None


def _roi_inside(mask, image) -> bool:
    """True when the bounding box of the mask's non-zero voxels lies inside ``image``."""
    import SimpleITK as sitk

    if mask.GetNumberOfComponentsPerPixel() != 1 or mask.GetDimension() != image.GetDimension():
        return True
    idx = np.argwhere(sitk.GetArrayViewFromImage(mask) > 0)
    if idx.size == 0:
        return True
    lo, hi = idx.min(0)[::-1], idx.max(0)[::-1]  # numpy (z, y, x) -> sitk (x, y, z)
    size = np.array(image.GetSize())
    for corner in np.array(np.meshgrid(*zip(lo, hi))).T.reshape(-1, mask.GetDimension()):
        point = mask.TransformIndexToPhysicalPoint([int(c) for c in corner])
        cidx = np.array(image.TransformPhysicalPointToContinuousIndex(point))
        if np.any(cidx < -0.5 - 1e-6) or np.any(cidx > size - 0.5 + 1e-6):
            return False
    return True


def _r(values):
    return tuple(round(float(v), 4) for v in values)
