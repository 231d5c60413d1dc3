"""Regions derived from a mask: one mask per lesion, and a peritumoral ring in mm.

Public names are re-exported by :mod:`radnb.segment`, which documents the step.
"""
from __future__ import annotations

import numpy as np

from radnb._utils.validation import check_image, check_range, check_same_grid

__all__ = ["split_lesions", "peritumoral_ring"]


def _label_array(mask, label, name="mask"):
    import SimpleITK as sitk

    check_image(mask, name)
    arr = sitk.GetArrayViewFromImage(mask) == label
    if not arr.any():
        present = np.unique(sitk.GetArrayViewFromImage(mask))
        raise ValueError(
            f"{name} has no voxel with label {label!r} (labels present: "
            f"{[int(v) for v in present[:10]]}); pass label= one of those."
        )
    return arr


def _like(arr, ref):
    import SimpleITK as sitk

    img = sitk.GetImageFromArray(arr.astype(np.uint8))
    img.CopyInformation(ref)
    return img


def split_lesions(mask, label: int = 1, *, min_voxels: int = 1, fully_connected: bool = True):
    """One mask per lesion: the connected components of ``label``.

    Parameters
    ----------
    mask : SimpleITK.Image
        Label mask.
    label : int, default 1
        The label whose components are the lesions.
    min_voxels : int, default 1
        Components with fewer voxels are dropped (specks left by a brush).
    fully_connected : bool, default True
        True: voxels touching by a face, edge or corner belong to one lesion
        (26-connectivity in 3D); False: by a face only (6-connectivity).

    Returns
    -------
    list of SimpleITK.Image
        uint8 masks (1 inside) on the grid of ``mask``, largest lesion first
        (lesion 1 is the largest). Empty if every component is below ``min_voxels``.

    Examples
    --------
    >>> import numpy as np, SimpleITK as sitk
    >>> a = np.zeros((5, 10, 10), np.uint8); a[1:3, 1:3, 1:3] = 1; a[2:4, 6:9, 6:9] = 1
    >>> lesions = split_lesions(sitk.GetImageFromArray(a))
    >>> [int(sitk.GetArrayFromImage(m).sum()) for m in lesions]
    [18, 8]
    """
    import SimpleITK as sitk

    check_range("min_voxels", min_voxels, 1)
    arr = _label_array(mask, label)
    cc = sitk.ConnectedComponent(_like(arr, mask), bool(fully_connected))
    cc = sitk.RelabelComponent(cc, minimumObjectSize=int(min_voxels), sortByObjectSize=True)
    labels = sitk.GetArrayFromImage(cc)
    return [_like(labels == k, mask) for k in range(1, int(labels.max()) + 1)]


def peritumoral_ring(mask, width_mm: float, image=None, body_mask=None, label: int = 1):
    """The shell of voxels within ``width_mm`` of the lesion, outside it.

    Distances are measured in mm between voxel centres, with the voxel
    spacing of each axis (a 5 mm ring is 5 voxels wide in-plane at 1 mm but
    one voxel deep through 5 mm slices).

    Parameters
    ----------
    mask : SimpleITK.Image
        Label mask of the lesion.
    width_mm : float
        Ring width in mm (> 0): a voxel outside the lesion is in the ring when
        its centre is at most ``width_mm`` from the centre of a lesion voxel.
    image : SimpleITK.Image, optional
        The scan. Checked to share the mask's voxel grid, so the ring stays
        inside the scanned volume (a lesion at the edge of the scan gets a ring
        cut by the edge, never voxels outside the image).
    body_mask : SimpleITK.Image, optional
        Keep only ring voxels inside the body (non-zero here), e.g. to exclude
        air around a peripheral lung tumour. Same grid as ``mask``.
    label : int, default 1

    Returns
    -------
    SimpleITK.Image
        uint8 mask (1 in the ring) on the grid of ``mask``.

    Examples
    --------
    >>> import numpy as np, SimpleITK as sitk
    >>> a = np.zeros((9, 9, 9), np.uint8); a[4, 4, 4] = 1
    >>> ring = peritumoral_ring(sitk.GetImageFromArray(a), 1.0)
    >>> int(sitk.GetArrayFromImage(ring).sum())   # the 6 face neighbours at 1 mm
    6
    """
    from scipy.ndimage import distance_transform_edt

    check_range("width_mm", width_mm, 0, inclusive=False)
    lesion = _label_array(mask, label)
    if image is not None:
        check_image(image)
        check_same_grid(mask, image, names=("mask", "image"))
    sampling = tuple(float(s) for s in mask.GetSpacing()[::-1])  # numpy order z, y, x
    dist = distance_transform_edt(~lesion, sampling=sampling)
    ring = ~lesion & (dist <= float(width_mm) * (1 + 1e-9))
    if body_mask is not None:
        import SimpleITK as sitk

        check_image(body_mask, "body_mask")
        check_same_grid(mask, body_mask, names=("mask", "body_mask"))
        ring &= sitk.GetArrayViewFromImage(body_mask) != 0
    return _like(ring, mask)
