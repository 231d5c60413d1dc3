"""Mask-perturbation robustness study (public through :mod:`radnb.reproducibility`).

Each perturbation ``i = 1..n`` is a chain, as in Zwanenburg et al. (2019): a
volume change (grow or shrink by a random distance, if ``"dilate"`` and/or
``"erode"`` are in ``kinds``) followed by the random kinds (``"contour"``,
``"translate"``, ``"supervoxel"``), each with its own seed. The perturbed
masks are written once under the cache folder and reused; features are
extracted by :func:`radnb.extract.extract_features` with ``reader`` set to the
perturbation index, and the per-feature ICC over the perturbations is reported.
"""
from __future__ import annotations

import hashlib
import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from radnb._utils.errors import user_stacklevel
from radnb._utils.i18n import tr
from radnb._utils.validation import check_columns, check_option, check_range

__all__ = ["PerturbationResult", "perturbation_study"]

_KINDS = ("dilate", "erode", "contour", "translate", "supervoxel")


@dataclass
class PerturbationResult:
    """Result of :func:`perturbation_study`; every field is a DataFrame.

    Attributes
    ----------
    icc : per-feature ICC over the perturbations (see :func:`feature_icc`).
    features : extracted features, ``reader`` = perturbation index (0 = original).
    errors : one row per failed case and step (``case_id``, ``timepoint``,
        ``reader``, ``stage``, ``message``, as ``Extraction.errors``); empty when all went well.
    manifest : the perturbed manifest given to the extractor.
    perturbations : what each perturbation index did (kinds, distance, seeds).
    """

    icc: pd.DataFrame
    features: pd.DataFrame
    errors: pd.DataFrame = field(default_factory=pd.DataFrame)
    manifest: pd.DataFrame = field(default_factory=pd.DataFrame)
    perturbations: pd.DataFrame = field(default_factory=pd.DataFrame)

    def __repr__(self):
        n = self.features["case_id"].nunique() if "case_id" in self.features else 0
        return (f"PerturbationResult({len(self.icc)} features, {n} cases, "
                f"{len(self.perturbations)} perturbations, {len(self.errors)} errors)")


def _plan(n, kinds, seed, distance_mm):
    """Draw the perturbation chain of every index (reproducible for ``seed``)."""
    rng = np.random.default_rng(seed)
    volume = [k for k in ("dilate", "erode") if k in kinds]
    rows = []
    for i in range(1, n + 1):
        row = {"reader": i, "volume": None, "distance_mm": 0.0}
        if volume:
            row["volume"] = volume[int(rng.integers(len(volume)))]
            row["distance_mm"] = float(rng.uniform(*distance_mm))
        for k in ("contour", "translate", "supervoxel"):
            row[f"{k}_seed"] = int(rng.integers(2**31)) if k in kinds else None
        rows.append(row)
    return pd.DataFrame(rows)


def _perturb_one(image_path, mask_path, label, plan_row, kwargs):
    import SimpleITK as sitk

    from radnb.io import read_image
    from radnb.segment import perturb_mask

    mask = read_image(mask_path)
    image = None
    if plan_row.get("supervoxel_seed") is not None:
        image = read_image(image_path)
    if plan_row["volume"]:
        mask = perturb_mask(mask, kind=plan_row["volume"], distance_mm=plan_row["distance_mm"],
                            label=label, **kwargs.get(plan_row["volume"], {}))
    for k in ("contour", "translate", "supervoxel"):
        s = plan_row.get(f"{k}_seed")
        if s is not None and not pd.isna(s):
            mask = perturb_mask(mask, image, kind=k, seed=int(s), label=label, **kwargs.get(k, {}))
    if int(sitk.GetArrayViewFromImage(mask).astype(bool).sum()) == 0:
        raise ValueError("the perturbed mask is empty (ROI too small for this perturbation)")
    return mask


def perturbation_study(cohort, n=5, kinds=("dilate", "erode", "contour"), params="ct", seed=0,
                       cache_dir=None, *, distance_mm=(0.5, 2.0), include_original=False,
                       icc_type="ICC(2,1)", n_jobs=-1, progress=True, perturb_kwargs=None):
    """Extract features over randomly perturbed masks and report per-feature ICC.

    A feature that changes when the outline moves by a millimetre or two is
    sensitive to segmentation; the ICC over ``n`` perturbed masks per case
    measures this without a second reader (Zwanenburg et al. 2019).

    Parameters
    ----------
    cohort : pandas.DataFrame
        Manifest (``case_id``, ``image``, ``mask``, optional ``label``,
        ``timepoint``, ``site``); one row per case and time point (select one
        reader first: the ``reader`` column is used for the perturbation index).
    n : int, default 5
        Perturbations per case (ICC "raters").
    kinds : tuple of str, default ("dilate", "erode", "contour")
        Any of ``"dilate"``, ``"erode"`` (volume change: one of them per
        perturbation, distance drawn uniformly from ``distance_mm``),
        ``"contour"``, ``"translate"``, ``"supervoxel"`` (see
        :func:`radnb.segment.perturb_mask`), chained in that order.
    params : str, dict or path, default "ct"
        Extraction settings, as in :func:`radnb.extract.extract_features`.
    seed : int, default 0
        Same seed, same perturbed masks (and cached files).
    cache_dir : str or Path, optional
        Where perturbed masks (``perturbed_masks/``) and features are cached;
        default ``<data home>/cache``.
    distance_mm : (float, float), default (0.5, 2.0)
        Range of the grow/shrink distance.
    include_original : bool, default False
        Also extract the unperturbed mask as index 0 and count it as a rater.
    icc_type : str, default "ICC(2,1)"
    n_jobs : int, default -1
        Passed to the extractor (-1: all cores).
    progress : bool, default True
    perturb_kwargs : dict, optional
        Extra arguments per kind, e.g. ``{"contour": {"sigma_mm": 1.5}}``.

    Returns
    -------
    PerturbationResult
        ``.icc``, ``.features``, ``.errors``, ``.manifest``, ``.perturbations``.
        A case whose mask cannot be read or perturbed becomes an error row;
        the other cases are kept.

    References
    ----------
    Zwanenburg, A., Leger, S., Agolli, L. et al. (2019). Assessing robustness
    of radiomic features by image perturbation. Sci Rep 9, 614.

    Examples
    --------
    >>> cohort = radnb.datasets.load_demo_cohort()  # doctest: +SKIP
    >>> res = perturbation_study(cohort.query("reader == 1 and timepoint == 1"), n=3)  # doctest: +SKIP
    >>> res.icc.sort_values("ICC").head()  # doctest: +SKIP
    """
    from radnb._utils.data_home import get_data_home
    from radnb.extract import extract_features
    from radnb.reproducibility._feature_icc import feature_icc

    check_columns(cohort, ["case_id", "image", "mask"], what="cohort")
    check_range("n", n, 2 - int(include_original), None)
    kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    if not kinds:
        raise ValueError(f"kinds must name at least one of {_KINDS}; got ().")
    for k in kinds:
        check_option("kinds", k, _KINDS)
    check_range("distance_mm[0]", distance_mm[0], 0, distance_mm[1])
    perturb_kwargs = dict(perturb_kwargs or {})
    cohort = cohort.reset_index(drop=True).copy()
    for col, default in (("label", 1), ("timepoint", 1)):
        if col not in cohort:
            cohort[col] = default
    keys = ["case_id", "timepoint", "label"]
    dup = cohort.duplicated(keys, keep=False)
    if dup.any():
        raise ValueError(
            f"cohort has {int(dup.sum())} rows for the same case, timepoint and label (e.g. "
            f"{cohort.loc[dup, 'case_id'].iloc[0]!r}); the reader column holds the perturbation "
            "index, so pass one reader's rows, e.g. cohort[cohort.reader == 1]."
        )
    cache = Path(cache_dir) if cache_dir is not None else get_data_home() / "cache"
    plan = _plan(n, kinds, seed, distance_mm)
    token = json.dumps([n, list(kinds), seed, list(distance_mm), perturb_kwargs], sort_keys=True,
                       default=str)
    folder = cache / "perturbed_masks" / hashlib.sha1(token.encode()).hexdigest()[:12]
    folder.mkdir(parents=True, exist_ok=True)

    rows, errors = [], []
    iterator = cohort.itertuples(index=False)
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(iterator, total=len(cohort), desc="perturbing masks")
    for case in iterator:
        base = case._asdict()
        if include_original:
            rows.append({**base, "reader": 0})
        for p in plan.to_dict("records"):
            try:
                out = folder / _mask_name(case, p["reader"])
                if not out.exists():
                    _write(_perturb_one(case.image, case.mask, int(case.label), p, perturb_kwargs),
                           out)
                rows.append({**base, "mask": str(out), "reader": p["reader"]})
            except Exception as exc:  # one bad case never kills the study
                errors.append({"case_id": case.case_id, "timepoint": case.timepoint,
                               "reader": p["reader"], "stage": "perturb",
                               "message": f"{type(exc).__name__}: {exc}"})
    manifest = pd.DataFrame(rows)
    if manifest.empty:
        raise RuntimeError(
            f"no perturbed mask could be made; first error: {errors[0]['message'] if errors else '?'}"
        )
    result = extract_features(manifest, params=params, cache_dir=cache, n_jobs=n_jobs,
                              progress=progress)
    ext_err = getattr(result, "errors", None)
    if ext_err is not None and len(ext_err):
        errors.extend(pd.DataFrame(ext_err).to_dict("records"))
    errors = pd.DataFrame(errors, columns=None if errors else
                          ["case_id", "timepoint", "reader", "stage", "message"])
    if len(errors):
        warnings.warn(
            tr("perturbation_study: {n} perturbed masks failed ({cases} cases); see result.errors. "
               "The other cases are kept.").format(n=len(errors), cases=errors["case_id"].nunique()),
            UserWarning, stacklevel=user_stacklevel(),
        )
    features = result.features
    icc_table = feature_icc(features, by="reader", icc_type=icc_type,
                            targets=[c for c in keys if c in features.columns])
    return PerturbationResult(icc=icc_table, features=features, errors=errors,
                              manifest=manifest, perturbations=plan)


def _mask_name(case, index):
    src = Path(str(case.mask))
    h = hashlib.sha1(f"{src.resolve()}|{src.stat().st_mtime_ns}|{case.label}".encode())
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in str(case.case_id))
    return f"{safe}_t{case.timepoint}_l{case.label}_p{index}_{h.hexdigest()[:8]}.nrrd"


def _write(mask, path):
    import SimpleITK as sitk

    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.nrrd")
    sitk.WriteImage(mask, str(tmp), useCompression=True)
    os.replace(tmp, path)
