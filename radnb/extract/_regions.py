"""Per-lesion and peritumoral-ring manifests: derived masks as ordinary ROIs.

The derived masks are written once into ``<cache_dir>/regions-v1`` under a
name made from their content (atomically), and the returned manifest points at
them, so :func:`radnb.extract.extract_features` reads and caches them like any
other mask.
"""
from __future__ import annotations

import warnings

from radnb._utils.errors import user_stacklevel
from radnb.extract._cache import image_digest, write_nrrd
from radnb.extract._extraction import _default_cache, _rows, extract_features
from radnb._utils.i18n import tr
from radnb._utils.validation import check_option, check_range

__all__ = ["lesion_manifest", "ring_manifest", "extract_lesions", "RegionWarning"]

_LAYOUT = "regions-v1"


class RegionWarning(UserWarning):
    """Some manifest rows gave no region (unreadable, or no lesion); see the message."""


def _store(mask, cache_dir) -> str:
    """Write ``mask`` as NRRD named by its content; return the path (written once)."""
    key = image_digest(mask)
    path = _default_cache(cache_dir) / _LAYOUT / key[:2] / f"{key}.nrrd"
    if not path.exists():
        write_nrrd(mask, path)
    return str(path)


def _expand(cohort, make, what, cache_dir):
    """Rows of ``cohort`` expanded by ``make(row, image, mask) -> [(extra_columns, mask)]``."""
    import pandas as pd

    from radnb.extract._worker import read_case

    records = cohort.to_dict("records")
    out, problems = [], []
    for rec, row in zip(records, _rows(cohort)):
        try:
            if "problem" in row:
                raise ValueError(row["problem"])
            image, mask = read_case(row)
            made = make(row, image, mask)
            if not made:
                raise ValueError(tr("no {what} found").format(what=what))
        except Exception as exc:  # one broken case never stops the cohort
            problems.append({"case_id": row["case_id"], "timepoint": row["timepoint"],
                             "reader": row["reader"], "stage": "regions",
                             "message": f"{type(exc).__name__}: {exc}", "detail": ""})
            continue
        for extra, region in made:
            new = dict(rec)
            new.update(extra)
            new.update({"mask": _store(region, cache_dir),
                        "label": 1, "roi": None})
            out.append(new)
    if problems:
        names = ", ".join(f"{p['case_id']} ({p['message'][:80]})" for p in problems[:3])
        warnings.warn(tr("{k} of {n} rows gave no {what}: {names}; they are left out (see "
                         ".attrs['region_errors']).").format(
            k=len(problems), n=len(records), what=what, names=names), RegionWarning, stacklevel=user_stacklevel())
    table = pd.DataFrame(out, columns=list(cohort.columns) + [
        c for c in (out[0] if out else {}) if c not in cohort.columns])
    table.attrs["region_errors"] = pd.DataFrame(
        problems, columns=["case_id", "timepoint", "reader", "stage", "message", "detail"])
    return table


def lesion_manifest(cohort, *, min_voxels: int = 1, lesions: str = "separate",
                    fully_connected: bool = True, cache_dir=None):
    """Expand a manifest into one row per lesion (connected component of the label).

    Parameters
    ----------
    cohort : pandas.DataFrame
        A manifest (``case_id``, ``image``, ``mask``, optional ``label``...).
    min_voxels : int, default 1
        Components with fewer voxels are dropped (see :func:`radnb.segment.split_lesions`).
    lesions : {"separate", "union"}
        ``"separate"``: one row per lesion, ``case_id`` becomes ``"<case>_lesion<k>"``
        (lesion 1 the largest); ``"union"``: one row per case with all lesions
        of at least ``min_voxels`` together (``lesion`` is 0).
    fully_connected : bool, default True
        26-connectivity (True) or 6-connectivity (False) in 3D.
    cache_dir : str or Path, optional
        Where the lesion masks are written (``<cache_dir>/regions-v1``, named by
        content). Default as :func:`extract_features`.

    Returns
    -------
    pandas.DataFrame
        The manifest rows with ``mask`` pointing at the lesion mask (``label``
        1) plus ``source_case_id``, ``lesion`` and ``lesion_voxels`` columns.
        Rows that cannot be read or hold no lesion are left out with one
        :class:`RegionWarning`; they are listed in ``.attrs["region_errors"]``.

    Examples
    --------
    >>> per_lesion = lesion_manifest(manifest, min_voxels=10)  # doctest: +SKIP
    >>> result = extract_features(per_lesion)  # doctest: +SKIP
    """
    import numpy as np
    import SimpleITK as sitk

    from radnb.segment import split_lesions

    check_option("lesions", lesions, ("separate", "union"))
    check_range("min_voxels", min_voxels, 1)

    def make(row, image, mask):
        parts = split_lesions(mask, row["label"], min_voxels=min_voxels,
                              fully_connected=fully_connected)
        counts = [int(sitk.GetArrayViewFromImage(p).sum()) for p in parts]
        base = {"source_case_id": row["case_id"]}
        if lesions == "union":
            if not parts:
                return []
            union = sitk.GetArrayFromImage(parts[0]).astype(bool)
            for p in parts[1:]:
                union |= sitk.GetArrayViewFromImage(p).astype(bool)
            img = sitk.GetImageFromArray(union.astype(np.uint8))
            img.CopyInformation(mask)
            return [({**base, "lesion": 0, "lesion_voxels": sum(counts)}, img)]
        return [({**base, "case_id": f"{row['case_id']}_lesion{k}", "lesion": k,
                  "lesion_voxels": n}, p)
                for k, (p, n) in enumerate(zip(parts, counts), start=1)]

    return _with_cache(cache_dir, cohort, make,
                       tr("lesion of at least {n} voxels").format(n=min_voxels))


def ring_manifest(cohort, width_mm: float, *, body_mask_column: str | None = None,
                  cache_dir=None):
    """Expand a manifest into peritumoral-ring rows (same ``case_id``, ring as the mask).

    Parameters
    ----------
    cohort : pandas.DataFrame
        A manifest.
    width_mm : float
        Ring width in mm (see :func:`radnb.segment.peritumoral_ring`).
    body_mask_column : str, optional
        A column of ``cohort`` with a body (or organ) mask per row; the ring is
        kept inside it. Read with the row's image as reference.
    cache_dir : str or Path, optional
        Where the ring masks are written (named by content).

    Returns
    -------
    pandas.DataFrame
        The manifest with ``mask`` pointing at the ring (``label`` 1) and a
        ``region`` column (``"ring_5mm"``). Failing rows: as :func:`lesion_manifest`.

    Examples
    --------
    >>> rings = ring_manifest(manifest, 5)  # doctest: +SKIP
    >>> ring_features = extract_features(rings).features  # doctest: +SKIP
    """
    from radnb.io import read_mask
    from radnb.segment import peritumoral_ring

    check_range("width_mm", width_mm, 0, inclusive=False)
    if body_mask_column is not None and body_mask_column not in cohort.columns:
        raise ValueError(tr("body_mask_column {value!r} is not a column of cohort (columns: "
                            "{columns}); add it or pass None.").format(
            value=body_mask_column, columns=list(cohort.columns)))
    body = dict(zip(range(len(cohort)), cohort[body_mask_column])) if body_mask_column else {}
    counter = iter(range(len(cohort)))

    def make(row, image, mask):
        i = next(counter)
        body_mask = read_mask(str(body[i]), image) if body_mask_column else None
        ring = peritumoral_ring(mask, width_mm, image=image, body_mask=body_mask,
                                label=row["label"])
        return [({"region": f"ring_{width_mm:g}mm"}, ring)]

    return _with_cache(cache_dir, cohort, make, tr("{width} mm ring").format(width=f"{width_mm:g}"))


def _with_cache(cache_dir, cohort, make, what):
    return _expand(cohort.reset_index(drop=True), make, what, cache_dir)


def extract_lesions(cohort, params="ct", *, min_voxels: int = 1, lesions: str = "separate",
                    cache_dir=None, **kwargs):
    """Extract features per lesion: one row per lesion with a ``lesion`` column.

    :func:`lesion_manifest` then :func:`extract_features` (same cache, so a
    lesion mask already extracted is read from the cache).

    Parameters
    ----------
    cohort, params, cache_dir
        As :func:`extract_features`.
    min_voxels, lesions
        As :func:`lesion_manifest`.
    **kwargs
        Passed to :func:`extract_features` (``n_jobs``, ``progress``...).

    Returns
    -------
    Extraction
        ``features`` and ``diagnostics`` have the original ``case_id`` and a
        ``lesion`` column right after it (0 for ``lesions="union"``); rows
        without a lesion are in ``errors`` with stage ``"regions"``.

    Examples
    --------
    >>> result = extract_lesions(manifest, "ct", min_voxels=10)  # doctest: +SKIP
    >>> result.features[["case_id", "lesion", "original_shape_VoxelVolume"]]  # doctest: +SKIP
    """
    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RegionWarning)  # reported in result.errors instead
        expanded = lesion_manifest(cohort, min_voxels=min_voxels, lesions=lesions,
                                   cache_dir=cache_dir)
    region_errors = expanded.attrs["region_errors"]
    if expanded.empty:
        raise ValueError(tr("no row of cohort gave a lesion: {messages}").format(
            messages=region_errors["message"].tolist()[:3]))
    result = extract_features(expanded, params, cache_dir=cache_dir, **kwargs)
    source = dict(zip(expanded["case_id"].astype(str), expanded["source_case_id"].astype(str)))
    lesion = dict(zip(expanded["case_id"].astype(str), expanded["lesion"]))
    for name in ("features", "diagnostics", "errors"):
        table = getattr(result, name).copy()
        ids = table["case_id"].astype(str)
        if name != "errors":
            table.insert(table.columns.get_loc("case_id") + 1, "lesion", ids.map(lesion).values)
        table["case_id"] = ids.map(source).fillna(ids).values
        setattr(result, name, table)
    if len(region_errors):
        result.errors = pd.concat([result.errors, region_errors], ignore_index=True)
    return result
