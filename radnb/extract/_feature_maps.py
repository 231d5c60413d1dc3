"""Feature maps: one feature computed around every ROI voxel (pyradiomics' voxel-based mode).

Public names are re-exported by :mod:`radnb.extract`, which documents the step.
"""
from __future__ import annotations

import time
import warnings

import numpy as np

from radnb._utils.errors import user_stacklevel
from radnb.extract._cache import digest, image_digest, write_nrrd
from radnb.extract._params import canonical, image_type_of, load_params, quiet_radiomics
from radnb._utils.i18n import tr
from radnb._utils.validation import check_image, check_option, check_range, check_same_grid

__all__ = ["feature_map", "plot_feature_map", "FeatureMapWarning"]

_LAYOUT = "featuremaps-v1"
_PROBE_VOXELS = 64  # ROI voxels timed to estimate a long run


class FeatureMapWarning(UserWarning):
    """A feature map will take long; the message gives the estimated time."""


def _settings(params, feature, kernel_radius, masked_kernel, label):
    """pyradiomics settings computing only ``feature`` voxel by voxel on the image grid."""
    from radnb._utils.features import split_feature_name

    prefix, fclass, name = split_feature_name(feature)
    if fclass == "shape" or fclass == "shape2D":
        raise ValueError(tr("feature {feature!r} is a shape feature; shape has no voxel-based "
                            "map. Choose a first-order or texture feature, e.g. "
                            "'original_glcm_Contrast'.").format(feature=feature))
    settings = load_params(params)
    general = dict(settings["setting"])
    general.pop("resampledPixelSpacing", None)  # the map lives on the image's own grid
    general.update(kernelRadius=int(kernel_radius), maskedKernel=bool(masked_kernel),
                   label=int(label), additionalInfo=False, voxelBatch=-1)
    itype = image_type_of(prefix)
    kwargs = dict(settings["imageType"].get(itype, {}))
    if itype == "LoG":
        sigma = float(prefix.split("-sigma-")[1].split("-mm")[0].replace("-", "."))
        kwargs["sigma"] = [sigma]
    return general, {itype: kwargs}, {fclass: [name]}


def _run(image, mask, general, image_types, classes, voxel_based=True):
    import logging

    from radiomics.featureextractor import RadiomicsFeatureExtractor

    with quiet_radiomics(logging.ERROR), warnings.catch_warnings():
        # a kernel at the ROI's edge may hold no voxel pair for a GLCM angle: pyradiomics averages
        # an empty slice there (numpy's "Mean of empty slice"), and that voxel's value is NaN
        warnings.filterwarnings("ignore", "Mean of empty slice", RuntimeWarning)
        extractor = RadiomicsFeatureExtractor(**general)
        extractor.enabledImagetypes = image_types
        extractor.enabledFeatures = classes
        return extractor.execute(image, mask, label=general["label"], voxelBased=voxel_based)


def _estimate(image, roi, general, image_types, classes):
    """Seconds for the whole ROI: the per-voxel cost is the slope between timed runs on its
    first 8 and first ``_PROBE_VOXELS`` voxels (so pyradiomics' fixed start-up cost cancels)."""
    import SimpleITK as sitk

    n = int(roi.sum())
    times = []
    for k in (8, _PROBE_VOXELS):
        probe = np.zeros(roi.shape, np.uint8)
        probe.flat[np.flatnonzero(roi)[:k]] = general["label"]
        probe_img = sitk.GetImageFromArray(probe)
        probe_img.CopyInformation(image)
        start = time.perf_counter()
        _run(image, probe_img, {**general, "minimumROIDimensions": 1}, image_types, classes)
        times.append(time.perf_counter() - start)
    per_voxel = max(times[1] - times[0], 0.0) / (_PROBE_VOXELS - 8)
    return n, per_voxel * n + times[0]


def feature_map(image, mask, feature: str = "original_glcm_Contrast", *, params="ct",
                kernel_radius: int = 1, masked_kernel: bool = True, label: int = 1,
                cache_dir=None, warn_seconds: float = 30):
    """Map of one feature computed in a small neighbourhood around every ROI voxel.

    pyradiomics' voxel-based mode (``execute(..., voxelBased=True)``): for each
    ROI voxel the feature is computed on the cube of ``2 * kernel_radius + 1``
    voxels around it (only its ROI voxels with ``masked_kernel``). Grey levels
    are discretised once over the whole ROI, as pyradiomics does. The map is
    cached on disk by image and mask content, label, settings and feature.

    Parameters
    ----------
    image, mask : SimpleITK.Image
        Same voxel grid.
    feature : str, default "original_glcm_Contrast"
        A pyradiomics feature name (first-order or texture; image types
        ``original``, ``log-sigma-...``, ``wavelet-...``, ...).
    params : str, dict or path, default "ct"
        Settings as :func:`extract_features` (bin width, normalisation...). The
        map is computed on the image's own grid: ``resampledPixelSpacing`` is
        ignored (resample first with :mod:`radnb.preprocess` if needed).
    kernel_radius : int, default 1
        Neighbourhood radius in voxels (1: 3 x 3 x 3).
    masked_kernel : bool, default True
        Only ROI voxels of the neighbourhood count (pyradiomics ``maskedKernel``).
    label : int, default 1
    cache_dir : str or Path, optional
        Default as :func:`extract_features`.
    warn_seconds : float, default 30
        Above this estimated time a :class:`FeatureMapWarning` says how long
        the run will take (estimated from a timed run on a few ROI voxels).

    Returns
    -------
    SimpleITK.Image
        float32 map on the grid of ``image``; NaN outside the ROI.

    Examples
    --------
    >>> fmap = feature_map(ct, mask, "original_glcm_Contrast", kernel_radius=1)  # doctest: +SKIP
    >>> plot_feature_map(ct, fmap, mask)  # doctest: +SKIP
    """
    import SimpleITK as sitk

    from radnb.extract._extraction import _default_cache, _pyradiomics_version

    check_image(image)
    check_image(mask, "mask")
    check_same_grid(image, mask, names=("image", "mask"))
    if isinstance(kernel_radius, bool) or int(kernel_radius) != kernel_radius:
        raise ValueError(tr("kernel_radius must be a whole number of voxels (1, 2, ...); "
                            "got {value!r}.").format(value=kernel_radius))
    check_range("kernel_radius", kernel_radius, 1)
    general, image_types, classes = _settings(params, feature, kernel_radius, masked_kernel,
                                              label)
    key = digest(_LAYOUT, image_digest(image), image_digest(mask), feature,
                 canonical([general, image_types, classes]), _pyradiomics_version())
    path = _default_cache(cache_dir) / _LAYOUT / key[:2] / f"{key}.nrrd"
    if path.exists():
        try:
            return sitk.ReadImage(str(path))
        except RuntimeError:
            pass  # unreadable entry: recompute and overwrite
    roi = sitk.GetArrayFromImage(mask) == label
    if not roi.any():
        raise ValueError(tr("mask has no voxel with label {label}; pass the ROI's label.").format(
            label=label))
    if roi.sum() > _PROBE_VOXELS:
        n, seconds = _estimate(image, roi, general, image_types, classes)
        if seconds > warn_seconds:
            warnings.warn(tr("the {feature} map of {n} ROI voxels will take about {seconds} s "
                             "(from timed runs on {probe} of them); a smaller kernel_radius or "
                             "ROI is faster. It is cached afterwards.").format(
                feature=feature, n=n, seconds=f"{seconds:.0f}", probe=_PROBE_VOXELS),
                FeatureMapWarning, stacklevel=user_stacklevel())
    result = _run(image, mask, general, image_types, classes)
    if feature not in result:
        raise ValueError(tr("pyradiomics returned no {feature!r} for these settings; check the "
                            "name (e.g. with extract_features) - got {names}").format(
            feature=feature, names=sorted(result)[:5]))
    cropped = sitk.Cast(result[feature], sitk.sitkFloat32)
    fmap = sitk.Resample(cropped, image, sitk.Transform(), sitk.sitkNearestNeighbor, np.nan,
                         sitk.sitkFloat32)  # the crop shares the image's grid: exact copy
    arr = sitk.GetArrayFromImage(fmap)
    arr[~roi] = np.nan
    out = sitk.GetImageFromArray(arr)
    out.CopyInformation(image)
    out.SetMetaData("radnb_feature", feature)
    write_nrrd(out, path)
    return out


def plot_feature_map(image, fmap, mask=None, *, plane: str = "axial", index=None,
                     alpha: float = 0.7, cmap: str = "viridis", ax=None):
    """Draw a slice with the feature map as a colour overlay and a colour bar.

    Parameters
    ----------
    image, fmap : SimpleITK.Image
        The scan and :func:`feature_map`'s result (same grid).
    mask : SimpleITK.Image, optional
        Drawn as an outline by :func:`radnb.view.plot_slice`.
    plane : {"axial", "coronal", "sagittal"}
    index : int, optional
        Slice; default through the centre of the mapped voxels.
    alpha : float, default 0.7
        Overlay opacity.
    cmap : str, default "viridis"
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_feature_map(ct, fmap, mask)  # doctest: +SKIP
    """
    from radnb.view import plot_slice
    from radnb.view._render import pixel_spacing, roi_centre, take_slice, to_canonical

    check_option("plane", plane, ("axial", "coronal", "sagittal"))
    check_range("alpha", alpha, 0, 1)
    check_same_grid(image, fmap, names=("image", "fmap"))
    values, spacing, _ = to_canonical(fmap)
    mapped = np.isfinite(values)
    if not mapped.any():
        raise ValueError(tr("fmap has no finite value; compute it with radnb.extract.feature_map."))
    if index is None:
        index = roi_centre(mapped)[{"axial": 0, "coronal": 1, "sagittal": 2}[plane]]
    ax = plot_slice(image, mask, plane=plane, index=index, ax=ax)
    s = take_slice(values, plane, index)
    row_mm, col_mm = pixel_spacing(spacing, plane)
    h, w = s.shape
    im = ax.imshow(np.ma.masked_invalid(s), cmap=cmap, alpha=alpha,
                   extent=(0, w * col_mm, h * row_mm, 0), interpolation="nearest",
                   vmin=float(np.nanmin(values)), vmax=float(np.nanmax(values)))
    label = fmap.GetMetaData("radnb_feature") if fmap.HasMetaDataKey("radnb_feature") else tr("feature")
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label=label)
    return ax
