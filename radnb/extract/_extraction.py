"""Cached, resumable, parallel pyradiomics extraction over a manifest.

Public names are re-exported by :mod:`radnb.extract`, which documents the step.
"""
from __future__ import annotations

import functools
import math
import numbers
import os
import time
from pathlib import Path

from radnb.extract._params import load_params, plan_units
from radnb.extract._result import assemble as _assemble
from radnb._utils.validation import check_columns


DEFAULT_TIME_LIMIT = 3600.0


class ExtractionInterrupted(KeyboardInterrupt):
    """Ctrl-C (or a kernel interrupt) during :func:`extract_features`.

    ``.partial`` is an :class:`Extraction` of the cases finished so far (they
    are also cached, so calling again resumes); its ``errors`` list the failed
    cases, and ``.not_run`` counts the cases that did not finish.
    """

    def __init__(self, partial, not_run):
        self.partial, self.not_run = partial, not_run
        super().__init__(
            f"interrupted: {len(partial.features)} rows finished, {len(partial.errors)} failed, "
            f"{not_run} not run; the finished ones are cached, so calling again resumes "
            "(this exception's .partial holds them)."
        )


def extract_features(cohort, params="ct", cache_dir=None, n_jobs=-1, client=None, progress=True,
                     time_limit=DEFAULT_TIME_LIMIT):
    """Extract pyradiomics features for every row of a manifest, with a cache.

    Parameters
    ----------
    cohort : pandas.DataFrame
        A manifest (see :mod:`radnb.cohort`): ``case_id``, ``image``, ``mask``
        and optionally ``label`` (default 1), ``reader`` (1), ``timepoint`` (1),
        ``site``, ``roi`` (ROI name for RTSTRUCT / DICOM-SEG masks), ``series_uid``
        (the series of a DICOM folder holding several). Images and masks are read
        with :func:`radnb.io.read_image` / :func:`radnb.io.read_mask` under one
        geometry policy (as :func:`radnb.cohort.validate`): a mask header that
        differs by rounding takes the image's geometry (noted in the diagnostics
        column ``diagnostics_radnb_MaskGeometry``); a larger difference is an
        error row, never a silent resampling.
    params : str, dict or path, default "ct"
        A preset, a pyradiomics settings dict or a pyradiomics YAML file. Presets
        (``radnb/params/*.yaml``, commented):

        * ``"ct"``: original image, all classes, 1 mm isotropic B-spline
          resampling, bin width 25 HU, voxelArrayShift 1000 (pyradiomics
          exampleCT, IBSI advice for calibrated intensities).
        * ``"ct-full"``: ``"ct"`` + LoG (sigma 1, 2, 3 mm) + wavelet.
        * ``"mr"``: z-score normalisation x 100, 2 mm resampling, bin width 5
          (pyradiomics exampleMR_3mm); ``"mr-full"`` adds LoG 2-5 mm + wavelet.
        * ``"pet"``: SUV images, 3 mm linear resampling, bin width 0.25 SUV;
          ``"ibsi"``: the IBSI digital-phantom configuration.

        With a ``modality`` column in ``cohort``, ``params`` may map modality
        to settings, ``{"CT": "ct", "PET": "pet"}``. With such a map, or with
        several modalities in the column, every table of the result has a
        ``modality`` column (see :func:`wide_by_modality`).
    cache_dir : str or Path, optional
        Cache folder. Default ``get_data_home() / "cache"``.
    n_jobs : int, default -1
        Local worker processes; -1 uses all cores, 1 runs in this process.
    client : dask.distributed.Client, optional
        Run the cases on this Dask cluster instead (``n_jobs`` is ignored). The
        workers must see the image files and ``cache_dir``.
    progress : bool, default True
        Show a progress bar (``tqdm.auto``).
    time_limit : float or None, default 3600
        Seconds one case may take; a case still running then is stopped and
        becomes an error row (a runaway case, e.g. a huge ROI resampled to tiny
        voxels, does not block the cohort). ``None``: no limit. Local workers
        only (with ``n_jobs=1`` checked by an alarm in the main thread; not on
        a Dask cluster).

    Returns
    -------
    Extraction
        ``.features``, ``.diagnostics``, ``.errors``, ``.cache_stats``,
        ``.settings``; displays a summary in Jupyter.

    Raises
    ------
    OSError
        ``cache_dir`` cannot be written (checked before any work).
    ExtractionInterrupted
        On Ctrl-C; ``.partial`` holds the finished cases (a ``KeyboardInterrupt``).

    Warns
    -----
    ExtractionWarning
        One warning when some cases failed ("3 of 120 cases failed; see
        result.errors").

    See Also
    --------
    load_params : the effective settings of a preset, dict or file.
    cache_info, clear_cache : inspect or empty the cache.

    Notes
    -----
    Values equal those of
    ``radiomics.featureextractor.RadiomicsFeatureExtractor(params).execute(image, mask, label)``:
    radnb calls exactly that, restricted to the image types and feature classes
    missing from the cache (feature classes are computed independently by
    pyradiomics, so the restriction does not change any value).

    References
    ----------
    van Griethuysen JJM et al. Computational radiomics system to decode the
    radiographic phenotype. Cancer Res 2017;77:e104-e107.
    Zwanenburg A et al. The Image Biomarker Standardization Initiative.
    Radiology 2020;295:328-338.

    Examples
    --------
    >>> from radnb.datasets import load_demo_cohort
    >>> manifest = load_demo_cohort()  # doctest: +SKIP
    >>> result = extract_features(manifest, params="ct")  # doctest: +SKIP
    >>> result.features[["case_id", "original_glcm_Contrast"]].head()  # doctest: +SKIP
    >>> result.cache_stats  # doctest: +SKIP
    """
    from radnb.extract._modalities import extract_by_modality, is_modality_map, several_modalities

    if is_modality_map(params) or several_modalities(cohort):
        # several modalities per patient: one run per modality with its own settings
        return extract_by_modality(extract_features, cohort, params, cache_dir=cache_dir,
                                   n_jobs=n_jobs, client=client, progress=progress,
                                   time_limit=time_limit)
    from radnb.extract._cache import Cache

    from radnb._utils.files import check_writable

    start = time.perf_counter()
    rows = _rows(cohort)
    settings = load_params(params)
    units = plan_units(settings)
    time_limit = _time_limit(time_limit)
    cache_dir = _default_cache(cache_dir)
    check_writable(cache_dir, what="cache_dir", folder=True,
                   hint="pass cache_dir= a folder you can write to (or set RADNB_DATA)")
    cache = Cache(cache_dir)
    version = _pyradiomics_version()
    results = [_manifest_error(row) or _lookup(cache, row, settings, units, version)
               for row in rows]
    pending = [i for i, r in enumerate(results) if r is None]
    from radnb.extract._pool import n_workers as _n_workers, order_largest_first, threads_per_case

    n_workers = _n_workers(n_jobs, len(pending)) if client is None else None
    threads = threads_per_case(n_workers, client)
    tasks = {
        i: {"row": rows[i], "settings": settings, "units": units, "cache_dir": str(cache_dir),
            "version": version, "threads": threads}
        for i in pending
    }
    from tqdm.auto import tqdm

    from radnb.extract._pool import run_tasks

    order = order_largest_first(pending, rows)
    try:
        with tqdm(total=len(rows), initial=len(rows) - len(pending), disable=not progress,
                  desc="extracting", unit="case") as bar:
            for i, res in run_tasks(tasks, order, n_workers, client, time_limit):
                results[i] = res
                bar.update(1)
    except KeyboardInterrupt:
        done = [(row, res) for row, res in zip(rows, results) if res is not None]
        partial = _assemble([r for r, _ in done], [r for _, r in done], settings,
                            time.perf_counter() - start, warn=False, time_limit=time_limit)
        raise ExtractionInterrupted(partial, len(rows) - len(done)) from None
    result = _assemble(rows, results, settings, time.perf_counter() - start, time_limit=time_limit)
    import radnb
    from radnb._utils.features import feature_columns
    from radnb._utils.provenance import record, versions  # for radnb.Study (no-op outside one)
    record("extract.extract_features", params=params if isinstance(params, str) else "custom",
           settings=settings, pyradiomics=version.split("==")[-1], radnb=radnb.__version__,
           SimpleITK=versions("SimpleITK")["SimpleITK"], n_cases=len(rows),
           n_ok=len(rows) - len(result.errors), n_failed=len(result.errors),
           n_features=len(feature_columns(result.features)),
           failed={str(r.case_id): f"{r.stage}: {r.message[:200]}" for r in result.errors.itertuples()})
    return result


def compare_settings(cohort, variants, params="ct", *, feature_classes=None, cache_dir=None,
                     n_jobs=-1, progress=False):
    """Extract the same cases under several settings, to see what a setting does.

    Parameters
    ----------
    cohort : pandas.DataFrame
        A manifest, as in :func:`extract_features`.
    variants : dict
        ``{name: changes}``; each ``changes`` dict overrides entries of the
        ``setting`` section of ``params`` (e.g. ``{"binWidth": 10}``; ``None``
        removes a setting, e.g. ``{"resampledPixelSpacing": None}`` keeps the
        original voxels).
    params : str, dict or path, default "ct"
        The base settings (see :func:`load_params`).
    feature_classes : dict, optional
        Restrict the features, e.g. ``{"glcm": ["Contrast"]}`` (pyradiomics'
        ``featureClass`` section); default: those of ``params``.
    cache_dir, n_jobs, progress
        As in :func:`extract_features`; every variant uses the cache.

    Returns
    -------
    pandas.DataFrame
        The features of every variant stacked, with a ``setting`` column (the
        variant's name) after the identifier columns. Failed cases are left out
        with a warning, as in :func:`extract_features`.

    Examples
    --------
    >>> from radnb.datasets import load_demo_cohort
    >>> cases = load_demo_cohort().head(4)  # doctest: +SKIP
    >>> table = compare_settings(cases, {"bin 10": {"binWidth": 10}, "bin 25": {"binWidth": 25}},
    ...                          feature_classes={"glcm": ["Contrast"]})  # doctest: +SKIP
    >>> table.pivot_table(index="case_id", columns="setting",
    ...                   values="original_glcm_Contrast")  # doctest: +SKIP
    """
    import pandas as pd

    if not isinstance(variants, dict) or not variants:
        raise ValueError(
            "variants must be a non-empty dict {name: {setting: value}}, e.g. "
            f"{{'bin 10': {{'binWidth': 10}}}}; got {variants!r}."
        )
    base = load_params(params)
    tables = []
    for name, changes in variants.items():
        settings = {**base, "setting": {**base["setting"], **changes}}
        if feature_classes is not None:
            settings["featureClass"] = feature_classes
        result = extract_features(cohort, params=settings, cache_dir=cache_dir, n_jobs=n_jobs,
                                  progress=progress)
        table = result.features.copy()
        at = sum(c in table.columns for c in ("case_id", "reader", "timepoint", "site"))
        table.insert(at, "setting", name)
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


def cache_info(cache_dir=None) -> dict:
    """Size and number of entries of the extraction cache.

    Returns
    -------
    dict
        ``path``, ``entries`` (cached units and cases), ``size_mb``,
        ``temporary_files`` (left by interrupted writes; never served).

    Examples
    --------
    >>> cache_info("/tmp/radnb-cache-example")["entries"]
    0
    """
    from radnb.extract._cache import Cache

    return Cache(_default_cache(cache_dir)).info()


def clear_cache(cache_dir=None) -> int:
    """Delete the extraction cache; return how many entries were removed.

    Examples
    --------
    >>> clear_cache("/tmp/radnb-cache-example")
    0
    """
    from radnb.extract._cache import Cache

    return Cache(_default_cache(cache_dir)).clear()


# --------------------------------------------------------------------------- helpers
def _default_cache(cache_dir):
    if cache_dir is None:
        from radnb._utils.data_home import get_data_home

        return get_data_home() / "cache"
    return Path(cache_dir).expanduser()


def _rows(cohort) -> list[dict]:
    import pandas as pd

    if not isinstance(cohort, pd.DataFrame):
        raise TypeError(
            f"cohort must be a manifest DataFrame (radnb.cohort.load_manifest); got {type(cohort).__name__}."
        )
    check_columns(cohort, ["case_id", "image", "mask"], what="cohort (manifest)")
    defaults = {"label": 1, "reader": 1, "timepoint": 1, "site": None, "roi": None,
                "series_uid": None}
    rows = []
    for rec in cohort.to_dict("records"):
        row = {"case_id": str(rec["case_id"]), "image": _path(rec["image"]), "mask": _path(rec["mask"])}
        for col, default in defaults.items():
            value = rec.get(col, default)
            row[col] = default if _missing(value) else value
        for col in ("label", "reader", "timepoint"):
            number = _whole(row[col])
            if number is None:  # this row becomes an error row; the others run
                row.setdefault("problem", f"ManifestError: {col} {row[col]!r} of case "
                                          f"{row['case_id']!r} is not a whole number")
            elif number < 1 and col == "label":  # reader 0 is used for the unperturbed mask
                row.setdefault("problem", f"ManifestError: {col} {number} of case "
                                          f"{row['case_id']!r} is below 1")
            else:
                row[col] = number
        rows.append(row)
    ids = [(r["case_id"], r["timepoint"], r["reader"]) for r in rows]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})[:3]
        raise ValueError(
            f"cohort has duplicate (case_id, timepoint, reader) rows, e.g. {dup}; give each image "
            "+ mask pair its own reader or timepoint, or drop the duplicates."
        )
    return rows


def _whole(value):
    """``value`` as an int if it is a whole number (1, 1.0, "1"), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        return int(value) if value.lstrip("+-").isdigit() else None
    if isinstance(value, numbers.Real) and float(value).is_integer():
        return int(value)
    return None


def _path(value) -> str:
    return os.path.abspath(os.fspath(value)) if not _missing(value) else ""


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""


@functools.lru_cache(maxsize=1)
def _pyradiomics_version() -> str:
    from importlib import metadata

    for dist in ("pyradiomics", "pyradiomics-bhklab"):
        try:
            return f"{dist}=={metadata.version(dist)}"
        except metadata.PackageNotFoundError:
            continue
    import radiomics

    return f"radiomics=={radiomics.__version__}"


_MEMO = {}


def _lookup(cache, row, settings, units, version):
    """Serve a row from the cache without reading its images (memoised file hashes)."""
    from radnb.extract._cache import file_signature
    from radnb.extract._worker import base_key, case_key, image_memo_extra, mask_memo_extra

    sig, iextra = file_signature(row["image"]), image_memo_extra(row)
    image_hash = _MEMO.get((sig, iextra)) or cache.memo_get(sig, iextra)
    if image_hash is None:
        return None
    extra = mask_memo_extra(row, image_hash)
    msig = file_signature(row["mask"])
    mask_hash = _MEMO.get((msig, extra)) or cache.memo_get(msig, extra)
    if mask_hash is None:
        return None
    _MEMO[(sig, iextra)], _MEMO[(msig, extra)] = image_hash, mask_hash
    base = base_key(image_hash, mask_hash, row["label"], settings, version)
    entry = cache.get(case_key(base, settings))
    if entry is None:
        return None
    diagnostics = dict(entry["diagnostics"])
    diagnostics["diagnostics_Configuration_EnabledImageTypes"] = str(settings["imageType"])
    return {"status": "ok", "features": entry["features"], "diagnostics": diagnostics,
            "hits": len(units), "misses": 0, "cached": True}


def _manifest_error(row):
    if "problem" in row:
        return {"status": "error", "stage": "manifest", "hits": 0, "misses": 0,
                "message": row["problem"]}
    return None


def _time_limit(value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise ValueError(f"time_limit must be a positive number of seconds or None; got {value!r}.")
    return float(value)
