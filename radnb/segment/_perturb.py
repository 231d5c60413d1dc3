"""Mask perturbations for robustness studies (Zwanenburg et al. 2019).

Private module; the public names are re-exported by :mod:`radnb.segment` and
used by :func:`radnb.reproducibility.perturbation_study`. Every function takes
a SimpleITK mask and returns a new mask on exactly the same voxel grid (size,
spacing, origin, direction), carrying the mask's label value. Random ones are
reproducible for a given ``seed``. Work is done on the mask's bounding box plus
a margin, so large CT volumes stay cheap.

References
----------
Zwanenburg A, Leger S, Agolli L, et al. Assessing robustness of radiomic
features by image perturbation. Sci Rep 2019;9:614.
"""
from __future__ import annotations

import numpy as np

from radnb._utils.validation import check_image as _check_mask

__all__ = [
    "erode_dilate", "perturb_contour", "translate_mask", "randomize_supervoxels", "perturb_mask",
    "PERTURBATIONS",
]

PERTURBATIONS = ("dilate", "erode", "contour", "translate", "supervoxel")




def _binary(mask, label=None):
    """Return ``(bool array z,y,x, label value written back)``."""
    import SimpleITK as sitk

    _check_mask(mask)
    arr = sitk.GetArrayViewFromImage(mask)
    if label is not None:
        return np.asarray(arr == label), int(label)
    values = np.unique(arr[arr != 0])
    value = int(values[0]) if values.size == 1 else 1
    return np.asarray(arr != 0), value


def _to_image(arr, value, reference):
    import SimpleITK as sitk

    dtype = np.uint8 if 0 <= value <= 255 else np.int32
    out = sitk.GetImageFromArray(arr.astype(dtype) * dtype(value))
    out.CopyInformation(reference)
    return out


def _spacing_zyx(mask):
    return np.array(mask.GetSpacing()[::-1], dtype=float)


def _box(arr, margin_vox):
    """Slices of the bounding box of ``arr`` grown by ``margin_vox`` (per axis, z,y,x)."""
    idx = np.nonzero(arr)
    if idx[0].size == 0:
        return tuple(slice(0, n) for n in arr.shape)
    return tuple(
        slice(max(int(i.min()) - int(m), 0), min(int(i.max()) + int(m) + 1, n))
        for i, m, n in zip(idx, margin_vox, arr.shape)
    )


def _distance_to_voxels(target, spacing):
    """Distance (mm) from every voxel centre to the nearest voxel *of* ``target``.

    Measured to the voxel's box (its faces), not its centre, so that growing
    a mask by ``d`` moves its surface by ``d``: a voxel joins when its centre
    is within ``d`` of the mask's outer faces. 0 for voxels of ``target``.
    """
    from scipy import ndimage

    if not target.any():
        return np.full(target.shape, np.inf)
    _, nearest = ndimage.distance_transform_edt(~target, sampling=spacing, return_indices=True)
    sp = np.asarray(spacing, dtype=float).reshape((-1,) + (1,) * target.ndim)
    gap = np.abs(np.indices(target.shape) - nearest) * sp - sp / 2
    out = np.sqrt((np.clip(gap, 0, None) ** 2).sum(axis=0))
    out[target] = 0.0
    return out


def _signed_distance(arr, spacing):
    """Signed distance in mm from voxel centres to the mask surface: > 0 outside, < 0 inside."""
    return np.where(arr, -_distance_to_voxels(~arr, spacing), _distance_to_voxels(arr, spacing))


def erode_dilate(mask, distance_mm: float, *, label=None):
    """Grow (``distance_mm > 0``) or shrink (``< 0``) a mask by a physical distance.

    The mask's surface (the outer faces of its voxels) moves by ``distance_mm``:
    a voxel joins when its centre lies within ``distance_mm`` of the mask
    (dilation), and leaves when its centre lies within ``|distance_mm|`` of the
    background (erosion). Euclidean distances in mm use the voxel spacing, so
    2 mm means 2 mm on anisotropic CT as well; along an axis, a layer of voxels
    changes once the distance reaches half the voxel size there.

    Parameters
    ----------
    mask : SimpleITK.Image
    distance_mm : float
        Positive dilates, negative erodes, 0 returns a copy.
    label : int, optional
        Perturb only this label; default: all non-zero voxels.

    Returns
    -------
    SimpleITK.Image
        Same grid as ``mask``.

    Examples
    --------
    >>> bigger = erode_dilate(mask, 2.0)  # doctest: +SKIP
    >>> smaller = erode_dilate(mask, -2.0)  # doctest: +SKIP
    """
    arr, value = _binary(mask, label)
    d = float(distance_mm)
    spacing = _spacing_zyx(mask)
    out = arr.copy()
    if d != 0 and arr.any():
        box = _box(arr, np.ceil(abs(d) / spacing) + 2)
        sd = _signed_distance(arr[box], spacing)
        out[box] = sd <= d if d > 0 else sd < d
    return _to_image(out, value, mask)


def perturb_contour(mask, *, sigma_mm: float = 1.0, correlation_mm: float = 5.0, seed=None,
                    label=None):
    """Move the mask outline by a smooth random displacement field.

    A Gaussian random field (white noise smoothed with a Gaussian of width
    ``correlation_mm``, rescaled to standard deviation ``sigma_mm``) is added
    to the signed distance map of the mask; the new outline is where the sum
    crosses zero. The contour thus moves in and out by about ``sigma_mm``,
    varying smoothly along the outline, like a second reader drawing it.

    Parameters
    ----------
    mask : SimpleITK.Image
    sigma_mm : float, default 1.0
        Typical displacement of the outline in mm.
    correlation_mm : float, default 5.0
        How far along the outline a displacement extends; larger = smoother.
    seed : int, optional
        Same seed, same result.
    label : int, optional

    Returns
    -------
    SimpleITK.Image

    Examples
    --------
    >>> variant = perturb_contour(mask, sigma_mm=1.5, seed=3)  # doctest: +SKIP
    """
    from scipy import ndimage

    from radnb._utils.validation import check_range

    check_range("sigma_mm", sigma_mm, 0)
    check_range("correlation_mm", correlation_mm, 0, inclusive=False)
    arr, value = _binary(mask, label)
    if not arr.any() or sigma_mm == 0:
        return _to_image(arr, value, mask)
    spacing = _spacing_zyx(mask)
    box = _box(arr, np.ceil(4 * sigma_mm / spacing) + 2)
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(arr[box].shape)
    noise = ndimage.gaussian_filter(noise, sigma=correlation_mm / spacing, mode="reflect")
    noise *= sigma_mm / max(noise.std(), 1e-12)
    out = np.zeros_like(arr)
    out[box] = _signed_distance(arr[box], spacing) <= noise
    return _to_image(out, value, mask)


def translate_mask(mask, shift_mm, *, seed=None, label=None):
    """Shift a mask in physical space.

    Parameters
    ----------
    mask : SimpleITK.Image
    shift_mm : float or sequence of 3 floats
        A vector (x, y, z) in mm in patient coordinates, or a single distance:
        then the direction is drawn uniformly at random (reproducible for
        ``seed``).
    seed : int, optional
    label : int, optional

    Returns
    -------
    SimpleITK.Image
        Same grid as ``mask``; the shift is rounded to whole voxels (nearest
        neighbour), and parts moved outside the image are lost.

    Examples
    --------
    >>> moved = translate_mask(mask, (2.0, 0.0, 0.0))  # doctest: +SKIP
    >>> moved = translate_mask(mask, 2.0, seed=1)  # random direction  # doctest: +SKIP
    """
    import SimpleITK as sitk

    arr, value = _binary(mask, label)
    dim = mask.GetDimension()
    shift = np.atleast_1d(np.asarray(shift_mm, dtype=float))
    if shift.size == 1:
        direction = np.random.default_rng(seed).standard_normal(dim)
        shift = shift[0] * direction / np.linalg.norm(direction)
    elif shift.size != dim:
        raise ValueError(f"shift_mm must be one distance or {dim} values (x, y, z) in mm; got {shift_mm!r}.")
    binary = _to_image(arr, value, mask)
    transform = sitk.TranslationTransform(dim, [-float(s) for s in shift])
    return sitk.Resample(binary, mask, transform, sitk.sitkNearestNeighbor, 0, binary.GetPixelID())


def randomize_supervoxels(mask, image, *, n: int = 20, compactness: float = 0.1,
                          seed=None, label=None):
    """Redraw a mask from image supervoxels (Zwanenburg et al. 2019).

    The region around the mask is over-segmented into supervoxels of similar
    intensity (SLIC, :func:`skimage.segmentation.slic`, using the physical
    spacing). Supervoxels entirely inside the mask are kept, those outside are
    dropped, and each boundary supervoxel is kept with probability equal to
    the fraction of it that lies inside the mask: ones mostly inside (> 50 %)
    are usually kept, ones mostly outside usually dropped, with random flips
    at the boundary. The new mask follows image edges, as a reader would.

    Parameters
    ----------
    mask, image : SimpleITK.Image
        On the same voxel grid.
    n : int, default 20
        About how many supervoxels cover the mask (more = finer changes).
    compactness : float, default 0.1
        SLIC trade-off between intensity similarity and compact shape
        (intensities are scaled to 0-1 within the region first).
    seed : int, optional
    label : int, optional

    Returns
    -------
    SimpleITK.Image

    Examples
    --------
    >>> variant = randomize_supervoxels(mask, image, n=30, seed=0)  # doctest: +SKIP
    """
    import SimpleITK as sitk
    from skimage.segmentation import slic

    from radnb._utils.validation import check_same_grid
    from radnb._utils.validation import check_range

    check_range("n", n, 1)
    _check_mask(image, "image")
    check_same_grid(mask, image, names=("mask", "image"))
    arr, value = _binary(mask, label)
    if not arr.any():
        return _to_image(arr, value, mask)
    spacing = _spacing_zyx(mask)
    # margin: about one supervoxel diameter around the mask
    diameter = (arr.sum() * np.prod(spacing) / n) ** (1 / 3)
    box = _box(arr, np.ceil(diameter / spacing) + 1)
    region = sitk.GetArrayViewFromImage(image)[box].astype(float)
    lo, hi = np.percentile(region, [1, 99])
    region = np.clip((region - lo) / max(hi - lo, 1e-12), 0, 1)
    n_segments = max(int(round(n * region.size / arr[box].sum())), 2)
    labels = slic(region, n_segments=n_segments, compactness=compactness, spacing=spacing,
                  channel_axis=None, start_label=1, enforce_connectivity=True)
    inside = np.bincount(labels[arr[box]].ravel(), minlength=labels.max() + 1)
    total = np.bincount(labels.ravel(), minlength=labels.max() + 1)
    fraction = inside / np.maximum(total, 1)
    keep = np.random.default_rng(seed).random(fraction.size) < fraction
    out = np.zeros_like(arr)
    out[box] = keep[labels]
    return _to_image(out, value, mask)


def perturb_mask(mask, image=None, *, kind: str = "dilate", seed=None, **kwargs):
    """Apply one named perturbation; the entry point of perturbation studies.

    Parameters
    ----------
    mask : SimpleITK.Image
    image : SimpleITK.Image, optional
        Needed for ``kind="supervoxel"``.
    kind : {"dilate", "erode", "contour", "translate", "supervoxel"}
        ``dilate``/``erode``: :func:`erode_dilate` by ``distance_mm``
        (default 1.0, sign set by ``kind``); ``contour``: :func:`perturb_contour`;
        ``translate``: :func:`translate_mask` with ``shift_mm`` (default 1.0,
        random direction); ``supervoxel``: :func:`randomize_supervoxels`.
    seed : int, optional
        For the random kinds; ignored by ``dilate``/``erode``.
    **kwargs
        Passed to the function of that kind.

    Returns
    -------
    SimpleITK.Image

    Examples
    --------
    >>> variants = [perturb_mask(mask, kind="contour", seed=s) for s in range(5)]  # doctest: +SKIP
    """
    from radnb._utils.validation import check_option

    check_option("kind", kind, PERTURBATIONS)
    if kind in ("dilate", "erode"):
        d = abs(float(kwargs.pop("distance_mm", 1.0)))
        return erode_dilate(mask, d if kind == "dilate" else -d, **kwargs)
    if kind == "contour":
        return perturb_contour(mask, seed=seed, **kwargs)
    if kind == "translate":
        return translate_mask(mask, kwargs.pop("shift_mm", 1.0), seed=seed, **kwargs)
    if image is None:
        raise ValueError(
            "kind='supervoxel' follows image edges and needs the image: "
            "perturb_mask(mask, image, kind='supervoxel')."
        )
    return randomize_supervoxels(mask, image, seed=seed, **kwargs)
