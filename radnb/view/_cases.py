"""Turning what a user passes to the viewers into cases: paths, images, manifests.

A *case* is a dict with ``key`` (text shown to the user), ``image`` (path or
SimpleITK image), ``masks`` (dict name -> path / image), ``label`` (ROI value
or None for "all labels"), ``modality`` ("CT", "MR" or None = guess),
``status`` ("ok", "warning", "error", "unknown") and ``problems`` (text).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from radnb._utils.i18n import tr

_KEYS = ["case_id", "timepoint", "reader"]
_RANK = {"unknown": -1, "ok": 0, "warning": 1, "error": 2}
SYMBOL = {"ok": "\u2713", "warning": "\u26a0", "error": "\u2717", "unknown": "?"}


def read_image(obj, series_uid=None):
    """Return a SimpleITK image from an image, a file path or a DICOM folder (via :mod:`radnb.io`)."""
    import SimpleITK as sitk

    if isinstance(obj, sitk.Image):
        return obj
    from radnb.io import read_image as _read

    return _read(obj, series_uid=_given(series_uid))


def read_display_mask(obj, image, *, roi=None):
    """A mask to draw on ``image``: label image, RTSTRUCT or DICOM-SEG (``(path, roi)`` allowed).

    RTSTRUCT / SEG files are rasterised on the image grid by :func:`radnb.io.read_mask`;
    label images on another grid are placed by their physical position (nearest
    neighbour), so a mismatch shows where the mask really lands. Raises
    ``ValueError`` with a plain message for a mask that cannot be shown (e.g. RGB).
    """
    import SimpleITK as sitk

    from radnb.io import _dicom
    from radnb.io import read_mask
    from radnb.io._integrity import mask_problem

    if isinstance(obj, tuple) and len(obj) == 2:
        obj, roi = obj
    if not isinstance(obj, sitk.Image) and _dicom.is_dicom(Path(obj)):
        return read_mask(obj, image, roi=_given(roi))
    mask = read_image(obj)
    problem = mask_problem(mask, whole_label_image=False)
    if problem:
        raise ValueError(tr("the mask {problem}").format(problem=problem))
    return mask_on_image(mask, image)


def mask_on_image(mask, image):
    """Return ``mask`` on ``image``'s voxel grid: aligned within tolerance, else resampled."""
    import SimpleITK as sitk

    from radnb.io._geometry import compare_grids

    if compare_grids(mask, image)[0] != "mismatch":  # radnb.io's one geometry policy
        mask = sitk.Image(mask)
        mask.CopyInformation(image)
        return mask
    return sitk.Resample(mask, image, sitk.Transform(), sitk.sitkNearestNeighbor, 0)


def _given(value):
    if value is None or (isinstance(value, float) and value != value) or value == "":
        return None
    return value


def guess_modality(array):
    """'CT' when intensities look like Hounsfield units, else 'MR'.

    HU images are stored as integers and contain values below -50 (fat, lung,
    air); MR intensities are non-negative, and normalised MR is stored as
    floating point.
    """
    a = np.asarray(array)
    if not np.issubdtype(a.dtype, np.integer):
        return "MR"
    step = max(1, a.size // 100_000)
    return "CT" if float(np.min(a.ravel()[::step])) < -50 else "MR"


def cases_from(obj, mask=None, *, validation=None, modality=None):
    """Build the case list for :func:`radnb.view.browse` from what the user passed."""
    import pandas as pd

    if isinstance(obj, (str, Path)) and str(obj).endswith(".csv"):
        from radnb.cohort import load_manifest

        obj = load_manifest(obj)
    if isinstance(obj, pd.DataFrame):
        return _cases_from_manifest(obj, validation)
    masks = {} if mask is None else (dict(mask) if isinstance(mask, dict) else {"mask": mask})
    name = Path(obj).name if isinstance(obj, (str, Path)) else "image"
    return [{
        "key": name, "image": obj, "masks": masks, "label": None, "modality": modality,
        "status": "unknown", "problems": "",
    }]


def status_table(manifest, validation=None):
    """One row per manifest row: ``status`` (worst severity) and ``problems``.

    Uses ``validation`` if given (output of :func:`radnb.cohort.validate`),
    else runs ``radnb.cohort.validate``; ``validation=False`` skips it.
    When validation is unavailable or fails, every status is "unknown" and
    ``problems`` says why (browsing still works).
    """
    import pandas as pd

    keys = manifest[[k for k in _KEYS if k in manifest.columns]].copy()
    for k, default in (("timepoint", 1), ("reader", 1)):
        if k not in keys:
            keys[k] = default
    keys["status"], keys["problems"] = "unknown", ""
    if validation is False:
        return keys
    if validation is None:
        try:
            from radnb.cohort import validate
        except ImportError as exc:
            keys["problems"] = f"validation not available ({exc})"
            return keys
        try:
            validation = validate(manifest)
        except Exception as exc:  # show why, keep browsing: one bad table never blocks the viewer
            keys["problems"] = f"validation failed: {type(exc).__name__}: {exc}"
            return keys
    table = pd.DataFrame(validation)
    out = []
    for rec in keys.to_dict("records"):
        sel = table
        for k in _KEYS:
            if k in table.columns:
                sel = sel[sel[k].astype(str) == str(rec[k])]
        if len(sel):
            rec["status"] = max(sel["severity"], key=lambda s: _RANK.get(s, -1))
            bad = sel[sel["severity"] != "ok"]
            rec["problems"] = "; ".join(f"{c}: {m}" for c, m in zip(bad["check"], bad["message"]))
        out.append(rec)
    return pd.DataFrame(out)


def _cases_from_manifest(manifest, validation):
    from radnb._utils.validation import check_columns

    check_columns(manifest, ["case_id", "image", "mask"], what="cohort manifest")
    status = status_table(manifest, validation)
    cases = []
    for (_, row), st in zip(manifest.iterrows(), status.to_dict("records")):
        key = str(row["case_id"])
        extra = [f"{k[0]}{row[k]}" for k in ("timepoint", "reader") if k in row and manifest[k].nunique() > 1]
        if extra:
            key += " (" + " ".join(extra) + ")"
        modality = row.get("modality") if "modality" in manifest.columns else None
        cases.append({
            "roi": _given(row.get("roi")), "series_uid": _given(row.get("series_uid")),
            "key": key, "image": row["image"], "masks": {"mask": row["mask"]},
            "label": int(row["label"]) if "label" in manifest.columns else None,
            "modality": modality if isinstance(modality, str) else None,
            "status": st["status"], "problems": st["problems"],
            "case_id": row["case_id"], "timepoint": st["timepoint"], "reader": st["reader"],
        })
    return cases


def load_case(case):
    """Read a case for display: canonical arrays, spacing, layers (never raises for masks).

    Returns a dict with ``image`` (LPS array), ``spacing``, ``oriented`` and
    ``original`` SimpleITK images, ``modality``, ``layers`` (list of
    ``(name, boolean LPS array)``) and ``problems`` (text about masks that
    could not be shown).
    """
    import radnb.view._render as _render

    image = read_image(case["image"], case.get("series_uid"))
    if image.GetDimension() != 3:
        raise ValueError(f"case {case['key']!r}: the viewer shows 3D images; got {image.GetDimension()}D.")
    array, spacing, oriented = _render.to_canonical(image)
    layers, problems = [], []
    for name, m in case["masks"].items():
        if m is None:
            continue
        try:
            marr = _render.to_canonical(read_display_mask(m, image, roi=case.get("roi")))[0]
        except Exception as exc:  # a broken mask is reported, the image is still shown
            problems.append(f"mask {name!r} not shown: {exc}")
            continue
        if len(case["masks"]) > 1 or case["label"] is not None:
            value = case["label"]
            layers.append((name, marr == value if value is not None else marr > 0))
        else:
            for value in np.unique(marr[marr > 0])[:16]:
                layers.append((tr("label {value}").format(value=int(value)), marr == value))
    return {
        "image": array, "spacing": spacing, "oriented": oriented, "original": image,
        "modality": case["modality"] or guess_modality(array), "layers": layers,
        "problems": "; ".join(problems),
    }
