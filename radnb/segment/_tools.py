"""Semi-automatic segmentation and clean-up, and agreement over a cohort.

Public names are re-exported by :mod:`radnb.segment`, which documents the step.
"""
from __future__ import annotations

import numpy as np

from radnb._utils.errors import user_stacklevel
from radnb._utils.i18n import tr
from radnb.segment._metrics import (
    AGREEMENT_COLUMNS, agreement,
)
from radnb.segment._perturb import (
    erode_dilate,
)

from radnb._utils.validation import check_image as _check_image





def threshold(image, lower: float, upper: float):
    """Mask of the voxels with ``lower <= intensity <= upper``.

    Parameters
    ----------
    image : SimpleITK.Image
    lower, upper : float
        Intensity window, e.g. HU for CT (soft tissue about -100 to 300).

    Returns
    -------
    SimpleITK.Image
        uint8 mask (1 inside), same grid as ``image``.

    Examples
    --------
    >>> soft_tissue = threshold(ct, -100, 300)  # doctest: +SKIP
    """
    import SimpleITK as sitk

    _check_image(image)
    if lower > upper:
        raise ValueError(f"lower ({lower}) must not exceed upper ({upper}); swap them.")
    return sitk.BinaryThreshold(image, float(lower), float(upper), 1, 0)


def _seed_index(image, seed, seed_space):
    """Turn one seed (index or physical point) into an in-bounds voxel index (x, y, z)."""
    from radnb._utils.validation import check_option

    check_option("seed_space", seed_space, ("auto", "index", "physical"))
    point = np.asarray(seed)
    if point.shape != (image.GetDimension(),):
        raise ValueError(
            f"a seed must have {image.GetDimension()} coordinates (x, y, z); got {seed!r}."
        )
    is_index = seed_space == "index" or (
        seed_space == "auto" and np.issubdtype(point.dtype, np.integer)
    )
    if is_index:
        index = tuple(int(v) for v in point)
    else:
        index = image.TransformPhysicalPointToIndex(tuple(float(v) for v in point))
    if any(i < 0 or i >= n for i, n in zip(index, image.GetSize())):
        raise ValueError(
            f"seed {tuple(seed)} ({'voxel index' if is_index else 'physical point, mm'}) lies "
            f"outside the image (size {image.GetSize()} voxels). Give a voxel index (integers) or "
            "a point in mm (floats) inside the image, e.g. the centre of the lesion."
        )
    return index


def region_grow(image, seed, lower=None, upper=None, *, multiplier: float = 2.5,
                iterations: int = 5, radius: int = 1, smoothing_mm=None,
                seed_space: str = "auto"):
    """Grow a region from a seed point inside the lesion.

    With ``lower``/``upper`` the region is every voxel connected to the seed
    whose intensity lies in that window (SimpleITK ``ConnectedThreshold``).
    Without them the window is learned from the seed's neighbourhood: mean
    +/- ``multiplier`` standard deviations, re-estimated ``iterations`` times
    from the grown region (``ConfidenceConnected``).

    Parameters
    ----------
    image : SimpleITK.Image
    seed : sequence of 3 numbers, or a list of them
        Voxel index (integers, x, y, z) or physical point in mm (floats, as
        given by ``image.TransformIndexToPhysicalPoint`` or a mask centroid).
    lower, upper : float, optional
        Fixed intensity window; give one or both to use ``ConnectedThreshold``.
    multiplier : float, default 2.5
        Width of the learned window in standard deviations.
    iterations : int, default 5
    radius : int, default 1
        Neighbourhood (voxels) around the seed used for the first estimate.
    smoothing_mm : float, optional
        Smooth a copy of the image first (Gaussian, sigma in mm), so that
        noise does not punch holes in the region or open leaks out of it.
    seed_space : {"auto", "index", "physical"}
        ``auto`` reads integers as a voxel index and floats as mm.

    Returns
    -------
    SimpleITK.Image
        uint8 mask (1 inside), same grid as ``image``.

    Raises
    ------
    ValueError
        If a seed lies outside the image.

    Examples
    --------
    >>> import SimpleITK as sitk
    >>> img = sitk.GetImageFromArray(np.pad(np.full((4, 4, 4), 100.0), 3))
    >>> grown = region_grow(img, (5, 5, 5), lower=50, upper=150)
    >>> int(sitk.GetArrayViewFromImage(grown).sum())
    64
    """
    import SimpleITK as sitk

    _check_image(image)
    seeds = [seed] if np.ndim(seed) == 1 else list(seed)
    indices = [_seed_index(image, s, seed_space) for s in seeds]
    if smoothing_mm:
        image = sitk.SmoothingRecursiveGaussian(sitk.Cast(image, sitk.sitkFloat32), float(smoothing_mm))
    if lower is not None or upper is not None:
        lo, hi = (None if v is None else float(v) for v in (lower, upper))
        if lo is None or hi is None:  # an open side: the image's own extreme (a full pass)
            stats = sitk.MinimumMaximumImageFilter()
            stats.Execute(image)
            lo = stats.GetMinimum() if lo is None else lo
            hi = stats.GetMaximum() if hi is None else hi
        out = sitk.ConnectedThreshold(image, seedList=indices, lower=lo, upper=hi, replaceValue=1)
    else:
        out = sitk.ConfidenceConnected(
            image, seedList=indices, numberOfIterations=int(iterations), multiplier=float(multiplier),
            initialNeighborhoodRadius=int(radius), replaceValue=1,
        )
    return sitk.Cast(out, sitk.sitkUInt8)


def largest_component(mask):
    """Keep only the largest connected part of a mask (26-connectivity).

    Examples
    --------
    >>> main_lesion = largest_component(grown)  # doctest: +SKIP
    """
    import SimpleITK as sitk

    _check_image(mask, "mask")
    binary = sitk.Cast(mask != 0, sitk.sitkUInt8)
    components = sitk.ConnectedComponent(binary, True)
    relabelled = sitk.RelabelComponent(components, sortByObjectSize=True)
    return sitk.Cast(relabelled == 1, sitk.sitkUInt8)


def fill_holes(mask):
    """Fill cavities that are completely enclosed by the mask (in 3D).

    Examples
    --------
    >>> solid = fill_holes(grown)  # doctest: +SKIP
    """
    import SimpleITK as sitk

    _check_image(mask, "mask")
    binary = sitk.Cast(mask != 0, sitk.sitkUInt8)
    return sitk.BinaryFillhole(binary, fullyConnected=False, foregroundValue=1)


def smooth(mask, radius_mm: float = 1.0):
    """Smooth an outline: morphological opening, then closing, by a ball of ``radius_mm``.

    Opening removes spurs and bridges thinner than the ball; closing fills
    notches and gaps narrower than it. The ball is physical (mm), built with
    :func:`erode_dilate`, so it is round on anisotropic voxels too.

    Parameters
    ----------
    mask : SimpleITK.Image
    radius_mm : float, default 1.0

    Returns
    -------
    SimpleITK.Image
        uint8 mask, same grid.

    Examples
    --------
    >>> clean = smooth(grown, radius_mm=2.0)  # doctest: +SKIP
    """
    import SimpleITK as sitk

    from radnb._utils.validation import check_range

    _check_image(mask, "mask")
    check_range("radius_mm", radius_mm, 0)
    out = sitk.Cast(mask != 0, sitk.sitkUInt8)
    if radius_mm == 0:
        return out
    opened = erode_dilate(erode_dilate(out, -radius_mm), radius_mm)
    return erode_dilate(erode_dilate(opened, radius_mm), -radius_mm)


def cohort_agreement(manifest, reference_reader: int = 1, other_reader: int = 2, *,
                     progress: bool = False):
    """Agreement between two readers' masks for every case of a manifest.

    Parameters
    ----------
    manifest : pandas.DataFrame
        With ``case_id``, ``mask``, ``reader`` (and optionally ``timepoint``,
        ``label``, ``site``), as from :func:`radnb.cohort.load_manifest`.
    reference_reader, other_reader : int, default 1 and 2
        Cases (per timepoint) with a mask from ``other_reader`` are compared
        with the ``reference_reader`` mask of the same case.
    progress : bool, default False
        Show a tqdm progress bar.

    Returns
    -------
    pandas.DataFrame
        One row per case and timepoint: ``case_id``, ``timepoint``, ``site``,
        the columns of :func:`agreement` and ``error`` (empty unless the case
        failed, then the cause; its measures are NaN). A case that fails (file
        missing, different voxel grids, ...) never stops the run.

    Warns
    -----
    UserWarning
        With the number of failed cases.

    Examples
    --------
    >>> table = cohort_agreement(radnb.datasets.load_demo_cohort())  # doctest: +SKIP
    >>> table.groupby("site")["dice"].median()  # doctest: +SKIP
    """
    import warnings

    import pandas as pd
    import SimpleITK as sitk

    from radnb._utils.validation import check_columns
    from radnb.io import read_image

    check_columns(manifest, ["case_id", "mask", "reader"], what="manifest")
    df = manifest.copy()
    if "timepoint" not in df:
        df["timepoint"] = 1
    others = df[df["reader"] == other_reader]
    if others.empty:
        raise ValueError(
            f"no rows with reader == {other_reader} in the manifest (readers present: "
            f"{sorted(df['reader'].unique().tolist())}); pass other_reader= one of them."
        )
    refs = df[df["reader"] == reference_reader].set_index(["case_id", "timepoint"])
    columns = list(AGREEMENT_COLUMNS)
    rows = []
    iterator = others.itertuples(index=False)
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(iterator, total=len(others), desc="agreement")
    for row in iterator:
        out = {"case_id": row.case_id, "timepoint": row.timepoint,
               "site": getattr(row, "site", None)}
        try:
            key = (row.case_id, row.timepoint)
            if key not in refs.index:
                raise LookupError(f"no mask from reader {reference_reader} for timepoint {row.timepoint}")
            ref = refs.loc[[key]].iloc[0]
            a = read_image(ref["mask"])
            b = read_image(row.mask)
            la = int(ref["label"]) if "label" in refs and pd.notna(ref["label"]) else None
            lb = int(row.label) if hasattr(row, "label") and pd.notna(row.label) else None
            a = sitk.Cast(a == la if la is not None else a != 0, sitk.sitkUInt8)
            b = sitk.Cast(b == lb if lb is not None else b != 0, sitk.sitkUInt8)
            out.update(agreement(a, b).iloc[0].to_dict())
            out["error"] = ""
        except Exception as exc:  # one bad case becomes an error row
            out.update({c: np.nan for c in columns})
            out["error"] = f"case {row.case_id!r}: {type(exc).__name__}: {exc}"
        rows.append(out)
    table = pd.DataFrame(rows, columns=["case_id", "timepoint", "site", *columns, "error"])
    n_bad = int((table["error"] != "").sum())
    if n_bad:
        warnings.warn(
            tr("{n} of {total} cases failed; see the 'error' column of the result.").format(
                n=n_bad, total=len(table)),
            UserWarning, stacklevel=user_stacklevel(),
        )
    return table
