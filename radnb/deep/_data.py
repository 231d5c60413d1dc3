"""Read manifest rows and cut their crops; failures become error rows, never exceptions."""
from __future__ import annotations

import os

import numpy as np
import pandas as pd

from radnb._utils.validation import check_columns
from radnb.deep._crop import crop_roi

__all__ = ["ID_COLUMNS", "ERROR_COLUMNS", "identifiers", "read_row", "cohort_crops", "run_rows"]

ID_COLUMNS = ("case_id", "timepoint", "reader", "site")
ERROR_COLUMNS = ["case_id", "timepoint", "reader", "stage", "message"]


def identifiers(cohort):
    """The manifest with default ``label``/``reader``/``timepoint`` filled in (a copy)."""
    check_columns(cohort, ["case_id", "image", "mask"], what="cohort")
    df = cohort.reset_index(drop=True).copy()
    for col, default in (("label", 1), ("reader", 1), ("timepoint", 1)):
        if col not in df.columns:
            df[col] = default
    df["case_id"] = df["case_id"].astype(str)
    return df


def read_row(row):
    """Image and mask of one manifest row, read as extraction reads them.

    The same readers and geometry policy as :func:`radnb.extract.extract_features`
    (truncated files refused, a mask header differing by rounding aligned, anything
    larger an error), so deep and hand-crafted features see the same voxels.
    """
    from radnb.extract._worker import read_case

    row = {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in dict(row).items()}
    return read_case(row)


def error_row(row, stage, exc):
    return {"case_id": str(row["case_id"]), "timepoint": row.get("timepoint", 1),
            "reader": row.get("reader", 1), "stage": stage,
            "message": f"{type(exc).__name__}: {exc}"}


def run_rows(func, rows, n_jobs=1, progress=True, desc=""):
    """``func(row)`` for every row on ``n_jobs`` threads (SimpleITK releases the GIL), in order."""
    from concurrent.futures import ThreadPoolExecutor

    from tqdm.auto import tqdm

    n_jobs = os.cpu_count() or 1 if n_jobs in (None, -1) else max(1, int(n_jobs))
    with tqdm(total=len(rows), desc=desc, disable=not progress, leave=False) as bar:
        if n_jobs == 1:
            out = []
            for row in rows:
                out.append(func(row))
                bar.update()
            return out
        with ThreadPoolExecutor(n_jobs) as pool:
            futures = [pool.submit(func, row) for row in rows]
            out = []
            for f in futures:
                out.append(f.result())
                bar.update()
            return out


def _crop_one(row, spec):
    try:
        image, mask = read_row(row)
    except Exception as exc:  # one unreadable case never stops the cohort
        return None, error_row(row, "read", exc)
    try:
        return crop_roi(image, mask, label=int(row.get("label", 1)), spec=spec), None
    except Exception as exc:
        return None, error_row(row, "crop", exc)


def cohort_crops(cohort, spec, *, n_jobs=1, progress=True):
    """Crops of every row: ``(array (N, C, n, n, n), kept rows, errors table)``."""
    df = identifiers(cohort)
    rows = [r for _, r in df.iterrows()]
    results = run_rows(lambda r: _crop_one(r, spec), rows, n_jobs, progress, "cropping")
    keep = [i for i, (c, _) in enumerate(results) if c is not None]
    errors = pd.DataFrame([e for _, e in results if e is not None], columns=ERROR_COLUMNS)
    n = spec.n_voxels
    crops = (np.stack([results[i][0] for i in keep]) if keep
             else np.zeros((0, spec.channels, n, n, n), np.float32))
    return crops, df.iloc[keep].reset_index(drop=True), errors
