"""Cached, resumable, parallel pyradiomics extraction over a manifest.

Public names are re-exported by :mod:`radnb.extract`, which documents the step.
"""
from __future__ import annotations

import functools
import math
import numbers
import os
import time
import warnings
from pathlib import Path

from radnb.extract._params import load_params, plan_units
from radnb.extract._result import Extraction
from radnb._utils.validation import check_columns


_ID = ("case_id", "reader", "timepoint", "site")
_ERROR_COLUMNS = ["case_id", "timepoint", "reader", "stage", "message"]


class ExtractionWarning(UserWarning):
    """Some cases failed; the others were extracted (see ``result.errors``)."""


def extract_features(cohort, params="ct", cache_dir=None, n_jobs=-1, client=None, progress=True):
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

    Returns
    -------
    Extraction
        ``.features``, ``.diagnostics``, ``.errors``, ``.cache_stats``,
        ``.settings``; displays a summary in Jupyter.

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
                                   n_jobs=n_jobs, client=client, progress=progress)
    from radnb.extract._cache import Cache

    start = time.perf_counter()
    rows = _rows(cohort)
    settings = load_params(params)
    units = plan_units(settings)
    cache_dir = _default_cache(cache_dir)
    cache = Cache(cache_dir)
    version = _pyradiomics_version()
    results = [_lookup(cache, row, settings, units, version) for row in rows]
    pending = [i for i, r in enumerate(results) if r is None]
    n_workers = _n_workers(n_jobs, len(pending)) if client is None else None
    tasks = {
        i: {"row": rows[i], "settings": settings, "units": units, "cache_dir": str(cache_dir),
            "version": version,
            "threads": _threads(n_workers) if client is None and n_workers > 1 else None}
        for i in pending
    }
    from tqdm.auto import tqdm

    with tqdm(total=len(rows), initial=len(rows) - len(pending), disable=not progress,
              desc="extracting", unit="case") as bar:
        for i, res in _run(tasks, n_workers, client):
            results[i] = res
            bar.update(1)
    result = _assemble(rows, results, settings, time.perf_counter() - start)
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
            row[col] = int(row[col])
        rows.append(row)
    ids = [(r["case_id"], r["timepoint"], r["reader"]) for r in rows]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})[:3]
        raise ValueError(
            f"cohort has duplicate (case_id, timepoint, reader) rows, e.g. {dup}; give each image "
            "+ mask pair its own reader or timepoint, or drop the duplicates."
        )
    return rows


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


def _n_workers(n_jobs, n_pending) -> int:
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"n_jobs must be a positive int or -1 (all cores); got {n_jobs!r}.")
    n_jobs = int(n_jobs)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    n = cores if n_jobs == -1 else n_jobs
    return max(1, min(n, n_pending))


def _threads(n_workers) -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) // n_workers)


def _run(tasks, n_workers, client):
    """Yield ``(index, result)`` as cases finish (largest images first)."""
    from radnb.extract._worker import process_case

    order = sorted(tasks, key=lambda i: -_size(tasks[i]["row"]["image"]))
    if not order:
        return
    if client is not None:
        from distributed import as_completed

        futures = {client.submit(process_case, tasks[i], pure=False): i for i in order}
        try:
            for fut in as_completed(futures):
                yield futures[fut], _collect(fut.result)
        except BaseException:
            client.cancel(list(futures))
            raise
        return
    if n_workers == 1:
        for i in order:
            yield i, process_case(tasks[i])
        return
    from concurrent.futures import as_completed

    from joblib.externals.loky import get_reusable_executor

    executor = get_reusable_executor(max_workers=n_workers, timeout=120)
    futures = {executor.submit(process_case, tasks[i]): i for i in order}
    try:
        for fut in as_completed(futures):
            yield futures[fut], _collect(fut.result)
    except BaseException:  # KeyboardInterrupt: stop the workers, finished cases are cached
        executor.shutdown(wait=False, kill_workers=True)
        raise


def _collect(get):
    try:
        return get()
    except Exception as exc:  # a worker died (e.g. out of memory): an error row, not a crash
        return {"status": "error", "stage": "extract", "hits": 0, "misses": 0,
                "message": f"worker failed: {type(exc).__name__}: {exc}"}


def _size(path) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _assemble(rows, results, settings, seconds) -> Extraction:
    import pandas as pd

    feats, diags, errors = [], [], []
    stats = {"hits": 0, "misses": 0, "cases_cached": 0, "cases_computed": 0, "cases_failed": 0}
    for row, res in zip(rows, results):
        ids = {k: row[k] for k in _ID}
        stats["hits"] += res.get("hits", 0)
        stats["misses"] += res.get("misses", 0)
        if res["status"] != "ok":
            stats["cases_failed"] += 1
            errors.append({"case_id": row["case_id"], "timepoint": row["timepoint"],
                           "reader": row["reader"], "stage": res["stage"], "message": res["message"]})
            continue
        # "computed" = at least one cache unit was a miss (partially or fully computed);
        # a case assembled entirely from cached units counts as cached.
        stats["cases_computed" if res.get("misses", 0) else "cases_cached"] += 1
        feats.append({**ids, **res["features"]})
        diags.append({**ids, **res["diagnostics"]})
    features = pd.DataFrame(feats, columns=None if feats else list(_ID))
    diagnostics = pd.DataFrame(diags, columns=None if diags else list(_ID))
    errors = pd.DataFrame(errors, columns=_ERROR_COLUMNS)
    if len(errors):
        first = errors.iloc[0]
        warnings.warn(
            f"{len(errors)} of {len(rows)} cases failed; see result.errors (first: case "
            f"{first.case_id!r}, {first.stage}: {first.message[:120]})",
            ExtractionWarning, stacklevel=3,
        )
    return Extraction(features, diagnostics, errors, stats, settings, seconds)
