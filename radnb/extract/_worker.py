"""Extract one manifest row, reusing and filling the cache (runs in worker processes).

The work of a row: read image and mask, hash their content, look up every
cache unit, run pyradiomics once for the missing ones (restricted to their
image types and feature classes), store each unit, then store the whole row.
Image and mask are thus read, resampled and checked once per row, and the
diagnostics are computed once per row (see :mod:`radnb.extract._engine`).
Any failure is returned as ``{"status": "error", "stage": ..., "message": ...}``
so one bad case never stops a cohort.
"""
from __future__ import annotations

import contextlib
import json
import os
import time

from radnb.extract._cache import Cache, digest, file_signature, image_digest, sha1
from radnb.extract._params import (
    SHAPE_CLASSES, canonical, image_type_of, log_prefix, quiet_radiomics,
)

__all__ = ["process_case", "base_key", "case_key", "mask_memo_extra", "image_memo_extra"]


def base_key(image_hash, mask_hash, label, settings, version) -> str:
    """Key part shared by all units of a row: content, label, general settings, version."""
    return digest("base", image_hash, mask_hash, int(label), canonical(settings["setting"]), version)


def case_key(base: str, settings) -> str:
    """Key of a whole row's result (order-preserving: column order follows the settings)."""
    return digest("case", base, json.dumps(settings, default=str))


def unit_key(base: str, unit) -> str:
    return digest("unit", base, canonical(unit))


def mask_memo_extra(row, image_hash) -> str:
    """Memo qualifier for a mask: an RTSTRUCT/SEG mask depends on the ROI and the image grid.

    ``geometry-policy-1``: masks are aligned or refused by radnb.io's geometry policy, so
    memos written before it (when pyradiomics resampled) are not reused.
    """
    return f"{row.get('roi')}|{image_hash}|geometry-policy-1"


def image_memo_extra(row) -> str:
    """Memo qualifier for an image: which series of a DICOM folder holding several."""
    return str(row.get("series_uid") or "")


def read_case(row):
    """Read ``row``'s image and mask with :mod:`radnb.io`, under its one geometry policy.

    A label mask whose header differs from the image's by rounding only takes the
    image's geometry (noted under ``radnb.io._geometry.NOTE_KEY``); anything larger is
    an error, as in :func:`radnb.cohort.validate` - pyradiomics never resamples silently.
    """
    for what in ("image", "mask"):
        if not os.path.exists(row[what]):
            raise FileNotFoundError(
                f"{what} {row[what]!r} does not exist; fix the path in the manifest "
                "(or drop the row)"
            )
    from radnb.io import read_image, read_mask
    from radnb.io._integrity import check_finite

    image = read_image(row["image"], series_uid=row.get("series_uid") or None)
    check_finite(image)
    # RTSTRUCT / SEG are drawn on the image grid; a label image is aligned or refused
    return image, read_mask(row["mask"], image, roi=row.get("roi"))


def geometry_note(mask) -> str:
    """What the geometry policy changed on ``mask`` ("" when nothing)."""
    from radnb.io._geometry import NOTE_KEY

    return mask.GetMetaData(NOTE_KEY) if mask.HasMetaDataKey(NOTE_KEY) else ""


def process_case(task):
    """Extract (or fetch from cache) one row. ``task`` is a plain dict, see radnb.extract."""
    start = time.perf_counter()
    row, settings, units = task["row"], task["settings"], task["units"]
    cache = Cache(task["cache_dir"])
    out = {"status": "ok", "hits": 0, "misses": 0, "cached": False}
    if task.get("threads"):
        limit_threads(task["threads"])
    with _roomy_malloc():
        return _process_case(task, row, settings, units, cache, out, start)


def _process_case(task, row, settings, units, cache, out, start):
    try:
        image, mask = read_case(row)
        image_sha1 = sha1(image)  # also pyradiomics' diagnostics_Image-original_Hash
        image_hash = image_digest(image, image_sha1)
        mask_hash = image_digest(mask)
        if geometry_note(mask):  # an aligned header is part of what was extracted
            mask_hash = digest(mask_hash, geometry_note(mask))
    except Exception as exc:  # noqa: BLE001 - becomes an error row naming the case
        return {**out, "status": "error", "stage": "read", "message": _message(exc)}
    cache.memo_put(file_signature(row["image"]), image_hash, image_memo_extra(row))
    cache.memo_put(file_signature(row["mask"]), mask_hash, mask_memo_extra(row, image_hash))

    base = base_key(image_hash, mask_hash, row["label"], settings, task["version"])
    ckey = case_key(base, settings)
    entry = cache.get(ckey)
    if entry is not None:
        return {**out, **entry, "hits": len(units), "cached": True,
                "seconds": time.perf_counter() - start}

    keys = [unit_key(base, u) for u in units]
    found = [cache.get(k) for k in keys]
    diag_key = digest("diag", base)
    diagnostics = cache.get(diag_key)
    missing = [u for u, f in zip(units, found) if f is None]
    out["hits"] = len(units) - len(missing)
    out["misses"] = len(missing)
    if missing or diagnostics is None:
        try:
            result = _run_pyradiomics(image, mask, row["label"], settings, missing or units[:1],
                                      image_sha1)
        except Exception as exc:  # noqa: BLE001
            return {**out, "status": "error", "stage": "extract", "message": _message(exc),
                    "hits": 0, "misses": 0}
        computed = _split_units(result, missing)
        for i, unit in enumerate(units):
            if found[i] is None:
                found[i] = computed[canonical(unit)]
                cache.put(keys[i], found[i])
        if diagnostics is None:
            diagnostics = _diagnostics(result)
            if geometry_note(mask):
                diagnostics["diagnostics_radnb_MaskGeometry"] = geometry_note(mask)
            cache.put(diag_key, diagnostics)
    diagnostics = dict(diagnostics)
    diagnostics["diagnostics_Configuration_EnabledImageTypes"] = str(settings["imageType"])
    features = {}
    for values in found:
        features.update(values)
    entry = {"features": _pyradiomics_order(features, units), "diagnostics": diagnostics}
    cache.put(ckey, entry)
    return {**out, **entry, "seconds": time.perf_counter() - start}


def limit_threads(n) -> None:
    """Use ``n`` threads in SimpleITK and BLAS in this worker process.

    Several workers share the cores; a worker with one case at a time should not
    start a thread per core in ITK filters and in numpy's eigenvalue routines
    (pyradiomics' GLCM MCC), which only makes the workers wait for each other.
    The values do not depend on the number of threads (tests compare them with
    pyradiomics run in one multi-threaded process).
    """
    import SimpleITK as sitk

    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(n)
    if _BLAS_THREADS.get("n") == n:
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # installed with scikit-learn; without it BLAS keeps its default
        return
    threadpool_limits(n)
    _BLAS_THREADS["n"] = n


_BLAS_THREADS = {}  # what limit_threads set in this process

# glibc mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


@contextlib.contextmanager
def _roomy_malloc():
    """Let glibc keep freed memory while a case runs in a Dask worker.

    Dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536`` (to give memory
    back to the system). That also fixes glibc's mmap threshold at 128 KiB, so every
    numpy array pyradiomics creates is a fresh mapping whose pages fault in again:
    10-25 % more CPU per case. During a case: keep up to 64 MiB (arrays below 32 MiB
    reuse the heap); afterwards the worker's own settings are restored. Elsewhere
    (no such variable, not glibc): nothing changes.
    """
    trim = os.environ.get("MALLOC_TRIM_THRESHOLD_", "")
    mallopt = _mallopt() if trim.isdigit() else None
    if mallopt is None:
        yield
        return
    mallopt(_M_MMAP_THRESHOLD, 32 << 20)
    mallopt(_M_TRIM_THRESHOLD, 64 << 20)
    try:
        yield
    finally:
        mallopt(_M_TRIM_THRESHOLD, int(trim))
        mallopt(_M_MMAP_THRESHOLD, 128 << 10)  # glibc's default, fixed as the variable left it


def _mallopt():
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl)
        return None


def _message(exc) -> str:
    text = str(exc).strip() or repr(exc)
    return f"{type(exc).__name__}: {text}"


def _run_pyradiomics(image, mask, label, settings, units, image_sha1=None):
    """One pyradiomics run covering ``units`` (their image types x feature classes).

    Image and mask are read, resampled and checked once for all of them;
    :class:`radnb.extract._engine.CaseExtractor` is pyradiomics' extractor with
    the full-volume diagnostics computed without re-hashing or copying the volume.
    """
    import logging

    from radnb.extract._engine import CaseExtractor

    image_types, classes = {}, {}
    for u in units:
        if u["type"] != "shape":
            kw = image_types.setdefault(u["type"], dict(u["kwargs"]))
            if u["type"] == "LoG" and u["kwargs"]["sigma"][0] not in kw["sigma"]:
                kw["sigma"] = kw["sigma"] + u["kwargs"]["sigma"]
        classes[u["class"]] = u["features"]
    with quiet_radiomics(logging.ERROR):
        extractor = CaseExtractor(image_sha1=image_sha1, **settings["setting"])
        extractor.enabledImagetypes = image_types
        extractor.enabledFeatures = classes
        return extractor.execute(image, mask, label=int(label))


def _split_units(result, units) -> dict:
    """Distribute pyradiomics' output over units (every type x class pair that ran)."""
    log_sigmas = {}
    for u in units:
        if u["type"] == "LoG":
            log_sigmas[log_prefix(u["kwargs"]["sigma"][0])] = u["kwargs"]["sigma"][0]
    buckets = {}
    for name, value in result.items():
        if name.startswith("diagnostics_"):
            continue
        prefix, cls, _ = name.split("_", 2)
        if cls in SHAPE_CLASSES:
            ident = ("shape", None, cls)
        else:
            itype = image_type_of(prefix)
            ident = (itype, log_sigmas.get(prefix), cls)
        buckets.setdefault(ident, {})[name] = float(value)
    out = {}
    for u in units:
        sigma = u["kwargs"]["sigma"][0] if u["type"] == "LoG" else None
        out[canonical(u)] = buckets.get((u["type"], sigma, u["class"]), {})
    return out


def _diagnostics(result) -> dict:
    diag = {}
    for name, value in result.items():
        if not name.startswith("diagnostics_"):
            continue
        if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
            value = value.item()
        if isinstance(value, (tuple, list)):  # plain numbers, not numpy 2's "np.float64(...)"
            value = str(tuple(v.item() if hasattr(v, "item") else v for v in value))
        if not isinstance(value, (int, float, str, bool)):
            value = str(value)
        diag[name] = value
    return diag


def _pyradiomics_order(features: dict, units) -> dict:
    """Order as pyradiomics does: shape, then per image (filter output) all classes."""
    class_rank = {}
    for u in units:
        class_rank.setdefault(u["class"], len(class_rank))
    type_rank = {}
    for u in units:
        type_rank.setdefault(u["type"], len(type_rank))
    seen_prefix = {}
    keyed = []
    for i, name in enumerate(features):
        prefix, cls, _ = name.split("_", 2)
        seen_prefix.setdefault(prefix, len(seen_prefix))
        itype = "shape" if cls in SHAPE_CLASSES else image_type_of(prefix)
        keyed.append(((type_rank.get(itype, 99), seen_prefix[prefix], class_rank.get(cls, 99), i), name))
    return {name: features[name] for _, name in sorted(keyed)}
