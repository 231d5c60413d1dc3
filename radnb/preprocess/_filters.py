"""Resampling, intensity normalisation, bias-field correction and HU clipping.

Public names are re-exported by :mod:`radnb.preprocess`, which documents the step.
"""
from __future__ import annotations

import numpy as np

from radnb._utils.validation import check_image as _check_image


#: Interpolator names accepted by :func:`resample` and :func:`resample_to`.
INTERPOLATORS = (
    "nearest", "linear", "bspline", "gaussian", "label_gaussian", "lanczos", "cosine",
    "hamming", "welch", "blackman",
)
_SITK_NAMES = {
    "nearest": "sitkNearestNeighbor", "linear": "sitkLinear", "bspline": "sitkBSpline",
    "gaussian": "sitkGaussian", "label_gaussian": "sitkLabelGaussian",
    "lanczos": "sitkLanczosWindowedSinc", "cosine": "sitkCosineWindowedSinc",
    "hamming": "sitkHammingWindowedSinc", "welch": "sitkWelchWindowedSinc",
    "blackman": "sitkBlackmanWindowedSinc",
}




def _interpolator(name, is_mask):
    import SimpleITK as sitk

    from radnb._utils.validation import check_option

    check_option("interpolator", name, INTERPOLATORS)
    if is_mask and name not in ("nearest", "label_gaussian"):
        name = "nearest"  # intensity interpolators would invent label values
    return getattr(sitk, _SITK_NAMES[name])


def _default_value(image, is_mask, default_value):
    import SimpleITK as sitk

    if default_value is not None:
        return float(default_value)
    if is_mask:
        return 0.0
    stats = sitk.MinimumMaximumImageFilter()
    stats.Execute(image)
    return stats.GetMinimum()


def resample(image, spacing, interpolator: str = "bspline", *, is_mask: bool = False,
             default_value=None):
    """Resample an image (or mask) to a new voxel size, keeping its position.

    The new grid starts at the same origin with the same direction and covers
    the same extent (size rounded to whole voxels), so image and mask stay
    aligned when both are resampled with the same ``spacing``.

    Parameters
    ----------
    image : SimpleITK.Image
    spacing : float or sequence of 3 floats
        New voxel size in mm (x, y, z); one number for isotropic voxels. An
        entry of 0 or ``None`` keeps the current spacing along that axis.
    interpolator : str, default "bspline"
        One of :data:`INTERPOLATORS`. ``"bspline"`` or ``"linear"`` for images.
    is_mask : bool, default False
        Resample a label mask: uses ``"nearest"`` (or ``"label_gaussian"`` if
        asked for) whatever ``interpolator`` says, and fills with 0.
    default_value : float, optional
        Value for voxels outside the original image; default: the image
        minimum (0 for masks). The rim of up to half a voxel that rounding
        the size can add takes the nearest edge value instead.

    Returns
    -------
    SimpleITK.Image
        Same pixel type, origin and direction; spacing exactly ``spacing``.

    Examples
    --------
    >>> import SimpleITK as sitk
    >>> img = sitk.Image(10, 10, 4, sitk.sitkInt16)
    >>> img.SetSpacing((0.5, 0.5, 2.5))
    >>> out = resample(img, 1.0, "linear")
    >>> out.GetSpacing(), out.GetSize()
    ((1.0, 1.0, 1.0), (5, 5, 10))
    """
    import SimpleITK as sitk

    _check_image(image)
    dim = image.GetDimension()
    old = np.array(image.GetSpacing(), dtype=float)
    new = np.atleast_1d(np.asarray(spacing, dtype=object))
    if new.size == 1:
        new = np.repeat(new, dim)
    if new.size != dim:
        raise ValueError(f"spacing must be one number or {dim} numbers (x, y, z) in mm; got {spacing!r}.")
    new = np.array([o if s is None or s == 0 else float(s) for s, o in zip(new, old)], dtype=float)
    if (new < 0).any():
        raise ValueError(f"spacing must be positive (mm); got {spacing!r}.")
    size = [max(int(np.floor(n * o / s + 0.5)), 1) for n, o, s in zip(image.GetSize(), old, new)]
    f = sitk.ResampleImageFilter()
    f.SetSize(size)
    f.SetOutputOrigin(image.GetOrigin())
    f.SetOutputSpacing(tuple(new.tolist()))
    f.SetOutputDirection(image.GetDirection())
    f.SetInterpolator(_interpolator(interpolator, is_mask))
    f.SetDefaultPixelValue(_default_value(image, is_mask, default_value))
    f.SetOutputPixelType(image.GetPixelID())
    # the last new voxel centres may lie up to half a voxel beyond the old ones
    # (still inside the old voxels): copy the edge value there instead of a blank
    f.SetUseNearestNeighborExtrapolator(True)
    from radnb._utils.provenance import record  # what radnb.Study reports (no-op outside one)
    record("preprocess.resample", spacing=new.tolist(), interpolator=interpolator, is_mask=is_mask)
    return f.Execute(image)


def resample_to(moving, reference, interpolator: str = "linear", *, is_mask: bool = False,
                default_value=None):
    """Resample ``moving`` onto the voxel grid of ``reference``.

    Use it to bring a mask drawn on another series (or a second reader's mask
    saved with another geometry) onto the image grid. No registration is done:
    both must already be in the same patient coordinates.

    Parameters
    ----------
    moving, reference : SimpleITK.Image
    interpolator : str, default "linear"
        One of :data:`INTERPOLATORS`; masks always use ``"nearest"`` (or
        ``"label_gaussian"``).
    is_mask : bool, default False
    default_value : float, optional
        Value outside ``moving``; default its minimum (0 for masks).

    Returns
    -------
    SimpleITK.Image
        Grid of ``reference``, pixel type of ``moving``.

    Examples
    --------
    >>> mask_on_ct = resample_to(mask, ct, is_mask=True)  # doctest: +SKIP
    """
    import SimpleITK as sitk

    _check_image(moving, "moving")
    _check_image(reference, "reference")
    return sitk.Resample(
        moving, reference, sitk.Transform(), _interpolator(interpolator, is_mask),
        _default_value(moving, is_mask, default_value), moving.GetPixelID(),
    )


def _region_values(image, mask):
    import SimpleITK as sitk

    arr = sitk.GetArrayViewFromImage(image)
    if mask is None:
        return arr.ravel()
    from radnb._utils.validation import check_same_grid

    _check_image(mask, "mask")
    check_same_grid(image, mask, names=("image", "mask"))
    inside = sitk.GetArrayViewFromImage(mask) != 0
    if not inside.any():
        raise ValueError("mask is empty; pass a mask with at least one non-zero voxel or mask=None.")
    return arr[inside]


def normalize(image, mask=None, method: str = "zscore", *, percentiles=(1.0, 99.0),
              scale: float = 1.0):
    """Put MR intensities on a common scale.

    MR intensities have no absolute unit, so the same tissue gets different
    values on different scanners. ``zscore`` subtracts the mean and divides by
    the standard deviation; ``percentile`` maps the ``percentiles`` (e.g. 1st
    and 99th) to 0 and 1, which is less sensitive to a few very bright voxels.
    The statistics come from the voxels inside ``mask`` (e.g. the brain or the
    ROI), or from the whole image.

    Parameters
    ----------
    image : SimpleITK.Image
    mask : SimpleITK.Image, optional
        Region whose intensities define the scale (same grid as ``image``).
    method : {"zscore", "percentile"}
    percentiles : (float, float), default (1, 99)
        For ``method="percentile"``.
    scale : float, default 1.0
        Multiply the result (pyradiomics' ``normalizeScale``; e.g. 100 keeps a
        bin width of 1-5 meaningful).

    Returns
    -------
    SimpleITK.Image
        Float32, same grid. The whole image is transformed, not only the mask.

    Examples
    --------
    >>> import SimpleITK as sitk
    >>> img = sitk.GetImageFromArray(np.arange(24, dtype=float).reshape(2, 3, 4))
    >>> z = sitk.GetArrayFromImage(normalize(img))
    >>> round(float(z.mean()), 6), round(float(z.std()), 6)
    (0.0, 1.0)
    """
    import SimpleITK as sitk

    from radnb._utils.validation import check_option, check_range

    _check_image(image)
    check_option("method", method, ("zscore", "percentile"))
    values = _region_values(image, mask).astype(float)
    if method == "zscore":
        center, spread = values.mean(), values.std()
    else:
        lo, hi = percentiles
        check_range("percentiles[0]", lo, 0, hi, inclusive=False)
        check_range("percentiles[1]", hi, lo, 100)
        p_lo, p_hi = np.percentile(values, [lo, hi])
        center, spread = p_lo, p_hi - p_lo
    if not spread > 0:
        raise ValueError(
            f"the intensities used for normalisation are constant ({center}); "
            "pass a mask that covers tissue with varying intensity."
        )
    arr = (sitk.GetArrayViewFromImage(image).astype(np.float64) - center) * (scale / spread)
    out = sitk.GetImageFromArray(arr.astype(np.float32))
    out.CopyInformation(image)
    from radnb._utils.provenance import record  # what radnb.Study reports (no-op outside one)
    record("preprocess.normalize", method=method, scale=scale, in_mask=mask is not None,
           percentiles=list(percentiles) if method == "percentile" else None)
    return out


def n4_correct(image, mask=None, *, shrink: int = 4, iterations=(50, 40, 30),
               return_bias: bool = False):
    """Remove a smooth MR intensity inhomogeneity (bias field) with N4.

    N4 (Tustison et al. 2010) models the bias field as a smooth multiplicative
    B-spline and finds the one that makes the intensity histogram sharpest.
    It is fitted on a ``shrink``-times smaller copy (fast), and the bias field
    is then evaluated at full resolution and divided out.

    Parameters
    ----------
    image : SimpleITK.Image
        MR image with positive intensities.
    mask : SimpleITK.Image, optional
        Where to fit (e.g. the head or the breast); default: an Otsu threshold
        separating tissue from air. Voxels <= 0 are never used.
    shrink : int, default 4
        Downsampling factor for fitting (1 = none; larger = faster).
    iterations : sequence of int, default (50, 40, 30)
        Maximum iterations per resolution level (one level per entry).
    return_bias : bool, default False
        Also return the estimated bias field (multiplicative, around 1).

    Returns
    -------
    SimpleITK.Image or (SimpleITK.Image, SimpleITK.Image)
        Float32 corrected image (and bias field), same grid.

    References
    ----------
    Tustison NJ, Avants BB, Cook PA, et al. N4ITK: improved N3 bias
    correction. IEEE Trans Med Imaging 2010;29:1310-1320.

    Examples
    --------
    >>> corrected = n4_correct(mr)  # doctest: +SKIP
    >>> corrected, bias = n4_correct(mr, return_bias=True)  # doctest: +SKIP
    """
    import SimpleITK as sitk

    from radnb._utils.validation import check_range

    _check_image(image)
    check_range("shrink", shrink, 1)
    img = sitk.Cast(image, sitk.sitkFloat32)
    if mask is None:
        fit_mask = sitk.OtsuThreshold(img, 0, 1, 200)
    else:
        from radnb._utils.validation import check_same_grid

        _check_image(mask, "mask")
        check_same_grid(image, mask, names=("image", "mask"))
        fit_mask = sitk.Cast(mask != 0, sitk.sitkUInt8)
    fit_mask = sitk.And(fit_mask, sitk.Cast(img > 0, sitk.sitkUInt8))
    if not sitk.GetArrayViewFromImage(fit_mask).any():
        raise ValueError(
            "no voxel with positive intensity inside the mask: N4 needs MR intensities > 0. "
            "Pass a mask of the tissue, or shift the intensities first."
        )
    factors = [int(shrink) if n >= 4 * shrink else 1 for n in img.GetSize()]
    small = sitk.Shrink(img, factors)
    small_mask = sitk.Shrink(fit_mask, factors)
    n4 = sitk.N4BiasFieldCorrectionImageFilter()
    n4.SetMaximumNumberOfIterations([int(i) for i in iterations])
    n4.Execute(small, small_mask)
    log_bias = n4.GetLogBiasFieldAsImage(img)
    bias = sitk.Exp(log_bias)
    corrected = sitk.Cast(sitk.Divide(img, bias), sitk.sitkFloat32)
    corrected.CopyInformation(image)
    if return_bias:
        bias = sitk.Cast(bias, sitk.sitkFloat32)
        bias.CopyInformation(image)
        return corrected, bias
    return corrected


def clip_hu(image, lower: float = -1000, upper: float = 400):
    """Clip CT values to a Hounsfield-unit window (e.g. remove metal and air outliers).

    Parameters
    ----------
    image : SimpleITK.Image
        CT in HU.
    lower, upper : float, default -1000 and 400
        Values below/above become ``lower``/``upper``.

    Returns
    -------
    SimpleITK.Image
        Same pixel type and grid.

    Examples
    --------
    >>> import SimpleITK as sitk
    >>> ct = sitk.GetImageFromArray(np.array([[[-3000, 0, 3000]]], dtype=np.int16))
    >>> sitk.GetArrayFromImage(clip_hu(ct)).ravel().tolist()
    [-1000, 0, 400]
    """
    import SimpleITK as sitk

    _check_image(image)
    if lower >= upper:
        raise ValueError(f"lower ({lower}) must be below upper ({upper}); e.g. clip_hu(ct, -1000, 400).")
    return sitk.Clamp(image, image.GetPixelID(), float(lower), float(upper))
