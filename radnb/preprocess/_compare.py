"""Before/after figure behind :func:`radnb.preprocess.compare_before_after`.

Slices are taken in the LPS orientation used by :mod:`radnb.view`, and the
slice shown for ``after`` is the one through the same physical point as the
slice of ``before``, so a step that changes the voxel grid still shows the
same anatomy.
"""
from __future__ import annotations

import numpy as np

from radnb._utils.i18n import tr

_PLANE_AXIS = {"axial": 0, "coronal": 1, "sagittal": 2}  # numpy axis (z, y, x)


def _canonical(image):
    import SimpleITK as sitk

    oriented = sitk.DICOMOrient(image, "LPS")
    return oriented, sitk.GetArrayFromImage(oriented)


def _slice_point(before, mask, plane, index):
    """Return ``(index in before, physical point of that slice's centre)``."""
    oriented, arr = _canonical(before)
    axis = _PLANE_AXIS[plane]
    centre = [n // 2 for n in arr.shape]
    if mask is not None:
        _, m = _canonical(mask)
        nz = np.nonzero(m)
        if nz[0].size:
            centre = [int(round(float(np.mean(i)))) for i in nz]
    if index is not None:
        index = int(index)
        if not 0 <= index < arr.shape[axis]:
            raise ValueError(
                f"index must be in [0, {arr.shape[axis] - 1}] for the {plane} plane; got {index}."
            )
        centre[axis] = index
    point = oriented.TransformIndexToPhysicalPoint(tuple(int(c) for c in centre[::-1]))
    return centre[axis], point


def _matching_index(after, plane, point):
    oriented, arr = _canonical(after)
    axis = _PLANE_AXIS[plane]
    idx = oriented.TransformPhysicalPointToIndex(point)[::-1][axis]
    return int(np.clip(idx, 0, arr.shape[axis] - 1))


def _soft_tissue_window():
    """(lowest, highest) HU of the mediastinal preset (as radnb.view); a fixed fallback without it."""
    try:
        from radnb.view import CT_PRESETS
    except ImportError:  # radnb.view not installed
        return (-125.0, 225.0)
    width, level = CT_PRESETS["mediastinum"]
    return (level - width / 2, level + width / 2)


def _draw(image, mask, plane, index, window, ax):
    try:
        from radnb.view import plot_slice
    except ImportError:  # radnb.view not installed: plain matplotlib
        plot_slice = None
    kw = {}
    if window is not None:
        lo, hi = window
        kw = {"window": float(hi - lo), "level": float(hi + lo) / 2}
    if plot_slice is not None:
        return plot_slice(image, mask, plane=plane, index=index, ax=ax, **kw)
    _, arr = _canonical(image)
    sl = np.take(arr, index, axis=_PLANE_AXIS[plane])
    if plane != "axial":
        sl = sl[::-1]
    sp = image.GetSpacing()  # approximate for the fallback: axis-aligned images
    row_mm, col_mm = {"axial": (sp[1], sp[0]), "coronal": (sp[2], sp[0]),
                      "sagittal": (sp[2], sp[1])}[plane]
    lo, hi = window if window is not None else np.percentile(arr, [1, 99])
    h, w = sl.shape
    ax.imshow(sl, cmap="gray", vmin=lo, vmax=hi, extent=(0, w * col_mm, h * row_mm, 0))
    ax.set_xlabel("mm")
    ax.set_ylabel("mm")
    return ax


def _same_grid(a, b, tol=1e-4) -> bool:
    return all(len(x) == len(y) and np.allclose(x, y, atol=tol, rtol=tol) for x, y in (
        (a.GetSize(), b.GetSize()), (a.GetSpacing(), b.GetSpacing()),
        (a.GetOrigin(), b.GetOrigin()), (a.GetDirection(), b.GetDirection())))


def _array(image):
    import SimpleITK as sitk

    return sitk.GetArrayViewFromImage(image)


def _values(image, mask):
    import SimpleITK as sitk

    arr = sitk.GetArrayViewFromImage(image)
    if mask is None:
        return arr.ravel()
    return arr[sitk.GetArrayViewFromImage(mask) != 0]


def compare_before_after(before, after, mask=None, plane: str = "axial", *, index=None,
                         titles=None, window=None, histogram: bool = True,
                         units=None):
    """Show one slice before and after a preprocessing step, side by side.

    The same physical location is shown in both images even when the step
    changed the voxel grid (resampling). Below, the intensity histograms
    (inside ``mask`` when given) show what happened to the values.

    Parameters
    ----------
    before, after : SimpleITK.Image
    mask : SimpleITK.Image, optional
        Outlined on both panels and used to pick the slice (through its
        centre) and the histogram voxels. Normally on the grid of ``before``;
        a mask on another grid of the same patient (e.g. that of ``after``)
        is first resampled onto ``before`` by nearest neighbour.
    plane : {"axial", "coronal", "sagittal"}
    index : int, optional
        Slice number in ``before``; default: through the mask centre, else
        the middle slice.
    titles : (str, str), optional
        Panel titles; default "Before" and "After" in radnb's language.
    window : (float, float), optional
        Display range for both. Default: with ``units="HU"`` the mediastinal
        (soft-tissue) CT window of :data:`radnb.view.CT_PRESETS` for both
        panels; otherwise a window chosen per image (1st-99th percentile).
    histogram : bool, default True
        Add a row of intensity histograms.
    units : str, optional
        Intensity unit for the histogram axis, e.g. ``"HU"`` for CT; default:
        none (MR intensities have no physical unit).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = compare_before_after(ct, resample(ct, 2.0), mask, units="HU")  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    from radnb._utils.validation import check_image, check_option
    from radnb.preprocess._filters import resample_to

    check_option("plane", plane, tuple(_PLANE_AXIS))
    for name, img in (("before", before), ("after", after)) + ((("mask", mask),) if mask is not None else ()):
        check_image(img, name)
    if window is not None and len(window) != 2:
        raise ValueError(f"window must be (lowest, highest) intensity shown; got {window!r}.")
    if units is not None and not isinstance(units, str):
        raise TypeError(f"units must be a string such as 'HU' or None; got {units!r}.")
    window = _soft_tissue_window() if window is None and units == "HU" else window
    titles = (tr("Before"), tr("After")) if titles is None else titles
    mask_after = None
    if mask is not None:
        if not _same_grid(before, mask):  # e.g. a mask drawn on the resampled image
            mask = resample_to(mask, before, is_mask=True)
            if not np.any(_array(mask)):
                raise ValueError("mask does not overlap before after resampling it onto the grid of "
                                 "before; pass the mask of this patient (same physical space).")
        mask_after = resample_to(mask, after, is_mask=True)
    i_before, point = _slice_point(before, mask, plane, index)
    i_after = _matching_index(after, plane, point)
    rows = 2 if histogram else 1
    fig, axes = plt.subplots(rows, 2, figsize=(9, 4.2 * rows),
                             gridspec_kw={"height_ratios": [3, 1.2]} if histogram else None,
                             squeeze=False)
    for col, (img, m, i, title) in enumerate(
        ((before, mask, i_before, titles[0]), (after, mask_after, i_after, titles[1]))
    ):
        ax = _draw(img, m, plane, i, window, axes[0, col])
        sp = ", ".join(f"{s:.2g}" for s in img.GetSpacing())
        where = {"axial": tr("axial slice {index}, voxel {spacing} mm"),
                 "coronal": tr("coronal slice {index}, voxel {spacing} mm"),
                 "sagittal": tr("sagittal slice {index}, voxel {spacing} mm")}[plane]
        ax.set_title(f"{title}\n" + where.format(index=i, spacing=sp), fontsize=9)
        if histogram:
            values = np.asarray(_values(img, m), dtype=float)
            hax = axes[1, col]
            hax.hist(values, bins=60, color="C0" if col == 0 else "C1")
            unit = f" ({units})" if units else ""
            hax.set_xlabel((tr("intensity{units} inside mask") if m is not None
                            else tr("intensity{units}")).format(units=unit))
            hax.set_ylabel(tr("voxels"))
            hax.set_title(tr("mean {mean:.3g}, SD {sd:.3g}").format(mean=values.mean(),
                                                                   sd=values.std()), fontsize=9)
    fig.tight_layout()
    return fig
