"""Agreement between two segmentations: overlap, surface distance, volume.

Private module; the public names are re-exported by :mod:`radnb.segment`.
Every function accepts SimpleITK images (geometry checked, physical spacing
used) or numpy arrays (then ``spacing`` in numpy order z, y, x, default 1 mm).
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from radnb._utils.i18n import tr
from radnb._utils.overlap import dice_arrays
from radnb._utils.validation import check_same_grid

__all__ = [
    "AGREEMENT_COLUMNS", "dice", "jaccard", "hausdorff95", "volume_difference", "agreement",
    "plot_agreement", "VolumeDifference",
]

VolumeDifference = namedtuple("VolumeDifference", ["ml", "percent"])

#: Columns of :func:`agreement`, in order.
AGREEMENT_COLUMNS = ("dice", "jaccard", "hd95_mm", "hausdorff_mm", "volume_a_ml", "volume_b_ml",
                     "volume_diff_ml", "volume_diff_pct")


def _as_bool(mask, label=None, name="mask", spatial=True):
    """Return ``(bool array z,y,x, spacing z,y,x or None, image or None)``.

    ``spatial=False`` accepts arrays of any shape (overlap measures need no geometry).
    """
    import SimpleITK as sitk

    if isinstance(mask, sitk.Image):
        arr = sitk.GetArrayViewFromImage(mask)
        spacing = tuple(reversed(mask.GetSpacing()))
        image = mask
    else:
        arr = np.asarray(mask)
        spacing, image = None, None
        if spatial and arr.ndim not in (2, 3):
            raise ValueError(f"{name} must be a 2D/3D array or a SimpleITK image; got shape {arr.shape}.")
    out = arr == label if label is not None else arr != 0
    return np.asarray(out, dtype=bool), spacing, image


def _pair(a, b, label=None, spacing=None, *, spatial=True):
    """Binarise ``a`` and ``b``, check they share one voxel grid, return spacing (z,y,x)."""
    arr_a, sp_a, img_a = _as_bool(a, label, "a", spatial)
    arr_b, sp_b, img_b = _as_bool(b, label, "b", spatial)
    if img_a is not None and img_b is not None:
        check_same_grid(img_a, img_b)
    if arr_a.shape != arr_b.shape:
        raise ValueError(
            f"a and b must have the same shape; got {arr_a.shape} and {arr_b.shape}. "
            "Resample one onto the other with radnb.preprocess.resample_to(b, a, is_mask=True)."
        )
    sp = sp_a or sp_b
    if spacing is not None:
        sp = tuple(float(s) for s in np.broadcast_to(spacing, (arr_a.ndim,)))
    if sp is None:
        sp = (1.0,) * arr_a.ndim
    return arr_a, arr_b, sp


def dice(a, b, *, label=None, spacing=None) -> float:
    """Dice similarity coefficient ``2|A and B| / (|A| + |B|)``.

    Parameters
    ----------
    a, b : SimpleITK.Image or array-like
        Two masks on the same voxel grid.
    label : int, optional
        Compare only voxels with this value; default: every non-zero voxel.
    spacing : ignored
        Accepted for a uniform signature with :func:`hausdorff95`.

    Returns
    -------
    float
        In [0, 1]; ``nan`` when both masks are empty.

    References
    ----------
    Dice LR. Measures of the amount of ecologic association between species.
    Ecology 1945;26:297-302.

    Examples
    --------
    >>> dice([[1, 1, 0]], [[0, 1, 1]])
    0.5
    """
    arr_a, arr_b, _ = _pair(a, b, label, spacing, spatial=False)
    return dice_arrays(arr_a, arr_b)


def jaccard(a, b, *, label=None, spacing=None) -> float:
    """Jaccard index (intersection over union) ``|A and B| / |A or B|``.

    Related to Dice by ``J = D / (2 - D)``; ``nan`` when both masks are empty.

    References
    ----------
    Jaccard P. The distribution of the flora in the alpine zone.
    New Phytologist 1912;11:37-50.

    Examples
    --------
    >>> round(jaccard([[1, 1, 0]], [[0, 1, 1]]), 4)
    0.3333
    """
    arr_a, arr_b, _ = _pair(a, b, label, spacing, spatial=False)
    union = int(np.logical_or(arr_a, arr_b).sum())
    if union == 0:
        return float("nan")
    return int(np.logical_and(arr_a, arr_b).sum()) / union


def surface_distances(a, b, *, label=None, spacing=None):
    """Distances (mm) from each surface voxel of ``a`` to the surface of ``b`` and back.

    A surface voxel is a mask voxel with at least one of its 6 (3D) or 4 (2D)
    face neighbours outside the mask; voxels on the image border count as
    surface. Returns ``(d_ab, d_ba)`` as 1D arrays (empty if a mask is empty).
    """
    from scipy import ndimage

    arr_a, arr_b, sp = _pair(a, b, label, spacing)
    surf_a, surf_b = _surface(arr_a), _surface(arr_b)
    if not surf_a.any() or not surf_b.any():
        return np.array([]), np.array([])
    dist_to_b = ndimage.distance_transform_edt(~surf_b, sampling=sp)
    dist_to_a = ndimage.distance_transform_edt(~surf_a, sampling=sp)
    return dist_to_b[surf_a], dist_to_a[surf_b]


def _surface(arr):
    from scipy import ndimage

    if not arr.any():
        return arr
    eroded = ndimage.binary_erosion(arr, structure=ndimage.generate_binary_structure(arr.ndim, 1),
                                    border_value=0)
    return arr & ~eroded


def hausdorff95(a, b, *, percentile: float = 95, label=None, spacing=None) -> float:
    """Robust (95th percentile) Hausdorff distance between two mask surfaces, in mm.

    The larger of the two directed 95th percentiles of surface-to-surface
    distances (the convention of MONAI's ``compute_hausdorff_distance`` and of
    DeepMind's ``surface-distance`` package). ``percentile=100`` gives the
    classic (maximum) Hausdorff distance. Distances use the physical voxel
    spacing, so anisotropic voxels are measured correctly.

    Parameters
    ----------
    a, b : SimpleITK.Image or array-like
        Two masks on the same voxel grid.
    percentile : float, default 95
    label : int, optional
        Compare only voxels with this value; default: every non-zero voxel.
    spacing : float or sequence, optional
        Voxel size in mm in array order (z, y, x) for numpy input; SimpleITK
        images carry their own.

    Returns
    -------
    float
        Distance in mm; ``nan`` if either mask is empty.

    References
    ----------
    Huttenlocher DP, Klanderman GA, Rucklidge WJ. Comparing images using the
    Hausdorff distance. IEEE TPAMI 1993;15:850-863.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.zeros((1, 5, 5)); a[0, 1, 1:4] = 1
    >>> b = np.zeros((1, 5, 5)); b[0, 3, 1:4] = 1
    >>> hausdorff95(a, b, spacing=(1.0, 0.5, 0.5))
    1.0
    """
    d_ab, d_ba = surface_distances(a, b, label=label, spacing=spacing)
    if d_ab.size == 0 or d_ba.size == 0:
        return float("nan")
    return float(max(np.percentile(d_ab, percentile), np.percentile(d_ba, percentile)))


def _volume_ml(arr, spacing):
    return float(arr.sum()) * float(np.prod(spacing)) / 1000.0


def volume_difference(a, b, *, label=None, spacing=None) -> VolumeDifference:
    """Volume of ``b`` minus volume of ``a``, in ml and in percent of ``a``.

    ``a`` is the reference (e.g. the first reader). Returns a named tuple
    ``(ml, percent)``; ``percent`` is ``nan`` when ``a`` is empty.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.ones((10, 10, 10)); b = np.ones((10, 10, 10)); b[:5] = 0
    >>> volume_difference(a, b, spacing=2.0)
    VolumeDifference(ml=-4.0, percent=-50.0)
    """
    arr_a, arr_b, sp = _pair(a, b, label, spacing)
    va, vb = _volume_ml(arr_a, sp), _volume_ml(arr_b, sp)
    pct = 100.0 * (vb - va) / va if va > 0 else float("nan")
    return VolumeDifference(vb - va, pct)


def agreement(a, b, *, label=None, spacing=None):
    """All agreement measures for one pair of masks as a one-row DataFrame.

    Columns: ``dice``, ``jaccard``, ``hd95_mm``, ``hausdorff_mm``,
    ``volume_a_ml``, ``volume_b_ml``, ``volume_diff_ml`` (b - a),
    ``volume_diff_pct`` (percent of a).

    Examples
    --------
    >>> import numpy as np
    >>> a = np.zeros((6, 6, 6)); a[1:5, 1:5, 1:5] = 1
    >>> agreement(a, a)[["dice", "hd95_mm"]].iloc[0].tolist()
    [1.0, 0.0]
    """
    import pandas as pd

    arr_a, arr_b, sp = _pair(a, b, label, spacing)
    d_ab, d_ba = surface_distances(arr_a, arr_b, spacing=sp)
    empty = d_ab.size == 0 or d_ba.size == 0
    vd = volume_difference(arr_a, arr_b, spacing=sp)
    row = {
        "dice": dice(arr_a, arr_b),
        "jaccard": jaccard(arr_a, arr_b),
        "hd95_mm": np.nan if empty else float(max(np.percentile(d_ab, 95), np.percentile(d_ba, 95))),
        "hausdorff_mm": np.nan if empty else float(max(d_ab.max(), d_ba.max())),
        "volume_a_ml": _volume_ml(arr_a, sp),
        "volume_b_ml": _volume_ml(arr_b, sp),
        "volume_diff_ml": vd.ml,
        "volume_diff_pct": vd.percent,
    }
    return pd.DataFrame([row], columns=list(AGREEMENT_COLUMNS))


def plot_agreement(table, *, metric: str = "dice", by: str | None = "site", ax=None):
    """Box plot with the individual cases of one agreement measure (e.g. per site).

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`radnb.segment.cohort_agreement` (error rows are skipped).
    metric : str, default "dice"
        A column of ``table``: ``dice``, ``jaccard``, ``hd95_mm``, ``volume_diff_pct``...
    by : str or None, default "site"
        Column to group by; ``None`` for one box.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_agreement(table, metric="hd95_mm")  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    from radnb._utils.validation import check_columns

    check_columns(table, [metric] + ([by] if by else []), what="agreement table")
    data = table[table[metric].notna()]
    groups = sorted(data[by].astype(str).unique()) if by else [""]
    values = [data.loc[data[by].astype(str) == g, metric].to_numpy() if by else data[metric].to_numpy()
              for g in groups]
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    ax.boxplot(values, showfliers=False, widths=0.5, medianprops={"color": "black"})
    jitter = np.random.default_rng(0)  # fixed: the same figure every time
    for i, v in enumerate(values, start=1):
        ax.plot(i + jitter.uniform(-0.15, 0.15, v.size), v, "o", color="C0", alpha=0.6, ms=4)
    ax.set_xticks(range(1, len(groups) + 1), groups)
    units = {"dice": tr("Dice"), "jaccard": tr("Jaccard"), "hd95_mm": tr("HD95 (mm)"),
             "hausdorff_mm": tr("Hausdorff (mm)"), "volume_diff_pct": tr("Volume difference (%)"),
             "volume_diff_ml": tr("Volume difference (ml)")}
    ax.set_ylabel(units.get(metric, metric))
    ax.set_xlabel(by or "")
    return ax
