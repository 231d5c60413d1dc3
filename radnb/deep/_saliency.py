"""Where does the network look? Occlusion saliency over the ROI crop, mapped back onto the scan."""
from __future__ import annotations

import numpy as np

from radnb._utils.i18n import tr
from radnb._utils.validation import check_range

__all__ = ["occlusion_saliency", "saliency_mask", "plot_saliency"]


def _outputs(model, crops):
    feats = model.transform(crops)
    if model.kind == "supervised":
        return (feats @ model.params["head_w"] + model.params["head_b"])[:, None]
    return feats


def occlusion_saliency(model, image, mask, *, label=1, patch_mm=None, stride_mm=None):
    """Occlusion map: how much the network's output changes when a small cube of the crop is hidden.

    A cube of ``patch_mm`` is set to the bottom of the window (as if the
    tissue were not there) at every position on a grid of ``stride_mm``; each
    voxel gets the mean change of the output over the positions that hid it:
    the predicted log-odds for a supervised network, the Euclidean distance
    between feature vectors otherwise. The map lives on the crop's grid and is
    resampled (linear) onto the scan's grid, zero outside the crop.

    Parameters
    ----------
    model : DeepModel
    image, mask : SimpleITK.Image
    label : int, default 1
    patch_mm, stride_mm : float, optional
        Occluder side and step (default a quarter and an eighth of the crop).

    Returns
    -------
    SimpleITK.Image
        Float32 saliency on the grid of ``image`` (higher = more important).

    References
    ----------
    Zeiler MD, Fergus R. Visualizing and understanding convolutional networks.
    ECCV 2014 (occlusion sensitivity).

    Examples
    --------
    >>> sal = occlusion_saliency(model, image, mask)  # doctest: +SKIP
    >>> plot_saliency(image, sal, mask)  # doctest: +SKIP
    """
    import SimpleITK as sitk

    from radnb.deep._crop import crop_grid, crop_roi, roi_centroid

    spec = model.crop
    n, sp = spec.n_voxels, spec["spacing_mm"]
    patch = max(1, int(round((patch_mm or spec["size_mm"] / 4) / sp)))
    step = max(1, int(round((stride_mm or spec["size_mm"] / 8) / sp)))
    check_range("patch_mm", patch * sp, sp, spec["size_mm"])
    crop = crop_roi(image, mask, label=label, spec=spec)
    starts = list(range(0, max(n - patch, 0) + 1, step))
    if starts[-1] != n - patch:
        starts.append(max(n - patch, 0))
    positions = [(a, b, c) for a in starts for b in starts for c in starts]
    occluded = np.repeat(crop[None], len(positions), axis=0)
    for i, (a, b, c) in enumerate(positions):
        occluded[i, 0, a:a + patch, b:b + patch, c:c + patch] = 0.0
    base = _outputs(model, crop[None])
    change = np.linalg.norm(_outputs(model, occluded) - base, axis=1)
    total = np.zeros((n, n, n))
    count = np.zeros((n, n, n))
    for (a, b, c), d in zip(positions, change):
        total[a:a + patch, b:b + patch, c:c + patch] += d
        count[a:a + patch, b:b + patch, c:c + patch] += 1
    sal = sitk.GetImageFromArray((total / np.maximum(count, 1)).astype(np.float32))
    sal.CopyInformation(crop_grid(roi_centroid(mask, label), spec))
    return sitk.Resample(sal, image, sitk.Transform(), sitk.sitkLinear, 0.0, sitk.sitkFloat32)


def saliency_mask(saliency, mask=None, *, quantile=0.9, label=1):
    """The most salient voxels as a label image, for the slice viewer.

    Label 1 = the ROI (when ``mask`` is given), label 2 = saliency above its
    ``quantile`` (over the voxels the map covers). Pass it to
    :func:`radnb.view.browse` or :func:`radnb.view.plot_slice` as the mask:
    each label is drawn in its own colour.

    Examples
    --------
    >>> import SimpleITK as sitk
    >>> sal = sitk.GetImageFromArray(np.arange(64, dtype=np.float32).reshape(4, 4, 4))
    >>> m = saliency_mask(sal, quantile=0.5)
    >>> int(sitk.GetArrayFromImage(m).sum() // 2)
    32
    """
    import SimpleITK as sitk

    check_range("quantile", quantile, 0, 1)
    arr = sitk.GetArrayFromImage(saliency)
    covered = arr[arr > 0]
    cut = np.quantile(covered, quantile) if covered.size else np.inf
    out = np.zeros(arr.shape, np.uint8)
    if mask is not None:
        out[sitk.GetArrayFromImage(mask) == label] = 1
    out[arr >= cut] = 2
    img = sitk.GetImageFromArray(out)
    img.CopyInformation(saliency)
    return img


def plot_saliency(image, saliency, mask=None, *, plane="axial", index=None, alpha=0.5,
                  quantile=0.5, ax=None):
    """Draw a slice with its ROI outline and the saliency map as a colour overlay.

    Parameters
    ----------
    image, saliency : SimpleITK.Image
        The scan and :func:`occlusion_saliency`'s map (same grid).
    mask : SimpleITK.Image, optional
        The ROI, drawn as an outline by :func:`radnb.view.plot_slice`.
    plane : {"axial", "coronal", "sagittal"}
    index : int, optional
        Slice (default: through the ROI centre, as ``plot_slice``).
    alpha : float, default 0.5
        Overlay opacity.
    quantile : float, default 0.5
        Saliency below this quantile of the covered voxels is left transparent.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    from radnb.view import plot_slice
    from radnb.view._render import pixel_spacing, roi_centre, take_slice, to_canonical

    check_range("alpha", alpha, 0, 1)
    check_range("quantile", quantile, 0, 1)
    sal, spacing, _ = to_canonical(saliency)
    if index is None:
        axis = {"axial": 0, "coronal": 1, "sagittal": 2}[plane]
        ref = to_canonical(mask)[0] > 0 if mask is not None else sal > 0
        index = roi_centre(ref)[axis]
    ax = plot_slice(image, mask, plane=plane, index=index, ax=ax)
    s = take_slice(sal, plane, index)
    covered = sal[sal > 0]
    cut = np.quantile(covered, quantile) if covered.size else np.inf
    row_mm, col_mm = pixel_spacing(spacing, plane)
    h, w = s.shape
    shown = np.ma.masked_less(s, cut)
    im = ax.imshow(shown, cmap="inferno", alpha=alpha, extent=(0, w * col_mm, h * row_mm, 0),
                   interpolation="bilinear", vmin=cut if np.isfinite(cut) else None)
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label=tr("occlusion saliency"))
    return ax
