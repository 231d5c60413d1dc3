"""IBSI compliance: pyradiomics feature names -> IBSI codes, and the digital-phantom check.

Public names are re-exported by :mod:`radnb.extract`, which documents the step.
The mapping lives in ``radnb/extract/ibsi_map.csv`` (one row per IBSI feature,
with the documented reason for every difference between the two definitions).
"""
from __future__ import annotations

import math
from pathlib import Path

from radnb._utils.i18n import N_, tr

__all__ = ["ibsi_codes", "ibsi_check", "PHANTOM_FILES"]

MAP_FILE = Path(__file__).resolve().parent / "ibsi_map.csv"
PHANTOM_FILES = ("phantom.nii.gz", "mask.nii.gz", "ibsi1_digital_phantom_reference.csv")
_WHERE = N_(
    "Put phantom.nii.gz and mask.nii.gz (the IBSI digital phantom, public in the IBSI's GitHub "
    "repository https://github.com/theibsi/data_sets, folder ibsi_1_digital_phantom/nifti) and "
    "ibsi1_digital_phantom_reference.csv (the IBSI 1 reference values of the phantom, "
    "';'-separated columns 'reference value;tolerance;tag', from the IBSI reference manual, "
    "https://ibsi.readthedocs.io) into {folder}, or pass data_dir=<the folder holding them>. "
    "radnb never downloads them."
)


def ibsi_codes():
    """Return the table mapping pyradiomics feature names to IBSI feature codes.

    Returns
    -------
    pandas.DataFrame
        One row per IBSI 1 feature that pyradiomics computes (108 rows):
        ``feature`` (pyradiomics' column name on the original image, e.g.
        ``original_glcm_JointAverage``), ``ibsi_tag`` (the tag of the IBSI
        reference values, e.g. ``cm_joint_avg_3D_avg``), ``ibsi_code`` (the
        IBSI permanent identifier, e.g. ``60VM``), ``ibsi_name``, ``convert``
        (the number to add to pyradiomics' value to get IBSI's definition:
        ``-3`` for kurtosis, else 0) and ``note`` (the documented reason for
        any difference). A pyradiomics feature may carry two codes
        (``DifferenceAverage`` is also IBSI's Dissimilarity).

    References
    ----------
    Zwanenburg A et al. The Image Biomarker Standardization Initiative.
    Radiology 2020;295:328-338; IBSI reference manual, arXiv:1612.07003.

    Examples
    --------
    >>> codes = ibsi_codes()
    >>> codes.set_index("feature").loc["original_firstorder_Mean", "ibsi_code"]
    'Q4LE'
    >>> len(codes)
    108
    """
    import pandas as pd

    table = pd.read_csv(MAP_FILE, comment="#", dtype=str, keep_default_na=False)
    table.insert(0, "feature", "original_" + table.pop("pyradiomics"))
    table["convert"] = [float(c) if c else 0.0 for c in table["convert"]]
    return table


def ibsi_check(data_dir=None, *, params="ibsi", cache_dir=None, verbose=True):
    """Run the IBSI digital phantom through radnb and compare with the IBSI references.

    Extracts the phantom with :func:`radnb.extract.extract_features` (so the
    whole radnb pipeline is checked, cache included) and compares each feature
    of :func:`ibsi_codes` with the IBSI 1 consensus reference value.

    Parameters
    ----------
    data_dir : str or Path, optional
        Folder holding ``phantom.nii.gz``, ``mask.nii.gz`` and
        ``ibsi1_digital_phantom_reference.csv`` (also found in subfolders).
        Default: ``get_data_home() / "ibsi"`` (see :mod:`radnb.datasets`).
    params : str, dict or path, default "ibsi"
        The settings to check. ``"ibsi"`` is the phantom configuration; try
        ``"ct"`` to see how much a study preset departs from it.
    cache_dir : str or Path, optional
        Extraction cache (default as in :func:`extract_features`).
    verbose : bool, default True
        Print the number of matches, every mismatch with its documented
        reason, and the documented differences that do not change the
        phantom's values.

    Returns
    -------
    pandas.DataFrame
        One row per mapped feature: ``feature``, ``ibsi_code``, ``ibsi_tag``,
        ``pyradiomics`` (radnb's value), ``ibsi_value`` (after ``convert``),
        ``reference``, ``tolerance``, ``match`` (bool) and ``note``.
        ``tolerance`` is the IBSI tolerance, or, where IBSI gives none, half a
        unit of the reference's third significant figure (the references are
        published to three significant figures).

    Raises
    ------
    FileNotFoundError
        When the phantom files are missing: the message says where to get
        them and where to put them.
    RuntimeError
        When the extraction fails.

    References
    ----------
    Zwanenburg A et al. The Image Biomarker Standardization Initiative.
    Radiology 2020;295:328-338 (digital phantom and its reference values).

    Examples
    --------
    >>> table = ibsi_check()  # doctest: +SKIP
    105 of 108 mapped IBSI features match the reference values (params='ibsi').
    >>> table.loc[~table["match"], ["feature", "pyradiomics", "reference"]]  # doctest: +SKIP
    """
    import pandas as pd

    from radnb.extract._extraction import extract_features

    files = _phantom_files(data_dir)
    manifest = pd.DataFrame([{"case_id": "ibsi_phantom", "image": str(files["phantom.nii.gz"]),
                              "mask": str(files["mask.nii.gz"]), "label": 1}])
    result = extract_features(manifest, params=params, cache_dir=cache_dir, n_jobs=1, progress=False)
    if len(result.errors):
        raise RuntimeError(tr("extracting the IBSI phantom failed: {message}").format(
            message=result.errors["message"].iloc[0]))
    values = result.features.iloc[0]
    reference = _read_reference(files["ibsi1_digital_phantom_reference.csv"])
    table = ibsi_codes()
    table["pyradiomics"] = [float(values[f]) if f in values.index else math.nan for f in table["feature"]]
    table["ibsi_value"] = table["pyradiomics"] + table["convert"]
    missing = sorted(set(table["ibsi_tag"]) - set(reference.index))
    if missing:
        raise ValueError(tr("the reference file has no value for {tags}; is it the IBSI 1 "
                            "digital phantom reference table?").format(tags=missing[:5]))
    table["reference"] = reference.loc[table["ibsi_tag"], "reference"].to_numpy()
    table["tolerance"] = [_tolerance(r, t) for r, t in
                          zip(table["reference"], reference.loc[table["ibsi_tag"], "tolerance"])]
    table["match"] = (table["ibsi_value"] - table["reference"]).abs() <= table["tolerance"]
    table = table[["feature", "ibsi_code", "ibsi_tag", "pyradiomics", "ibsi_value", "reference",
                   "tolerance", "match", "note"]]
    if verbose:
        print(_report(table, params))
    return table


def _phantom_files(data_dir) -> dict:
    from radnb._utils.data_home import get_data_home

    folder = get_data_home() / "ibsi" if data_dir is None else Path(data_dir).expanduser()
    found = {}
    for name in PHANTOM_FILES:
        direct = folder / name
        hits = [direct] if direct.is_file() else sorted(folder.rglob(name)) if folder.is_dir() else []
        if hits:
            found[name] = hits[0]
    absent = [n for n in PHANTOM_FILES if n not in found]
    if absent:
        state = (tr("does not exist") if not folder.is_dir()
                 else tr("has no {names}").format(names=", ".join(absent)))
        raise FileNotFoundError(
            tr("IBSI digital phantom not found: folder {folder!r} {state}. ").format(
                folder=str(folder), state=state)
            + tr(_WHERE).format(folder=repr(str(folder)))
        )
    return found


def _read_reference(path):
    import pandas as pd

    ref = pd.read_csv(path, sep=";")
    if list(ref.columns[:3]) != ["reference value", "tolerance", "tag"]:
        raise ValueError(tr(
            "{path!r} must have the columns 'reference value;tolerance;tag' (the IBSI 1 "
            "digital phantom reference table); it has {columns}.").format(
            path=str(path), columns=list(ref.columns)))
    ref = ref.rename(columns={"reference value": "reference"}).dropna(subset=["reference"])
    return ref.set_index("tag")[["reference", "tolerance"]].astype(float)


def _tolerance(reference: float, tolerance: float) -> float:
    """IBSI tolerance, at least half a unit of the reference's 3rd significant figure."""
    if reference == 0:
        rounding = 0.0
    else:
        rounding = 0.5 * 10 ** (math.floor(math.log10(abs(reference))) - 2)
    tol = 0.0 if tolerance is None or math.isnan(tolerance) else float(tolerance)
    return max(tol, rounding) * (1 + 1e-9)  # relative slack for binary floating point


def _report(table, params) -> str:
    n, ok = len(table), int(table["match"].sum())
    lines = [tr("{ok} of {n} mapped IBSI features match the reference values (params={params!r}).").format(
        ok=ok, n=n, params=params)]
    bad = table[~table["match"]]
    if len(bad):
        lines.append("\n" + tr("Do not match:"))
        for row in bad.itertuples():
            value = tr("not computed") if math.isnan(row.pyradiomics) else f"{row.ibsi_value:.4g}"
            why = row.note or tr("no documented reason: check the settings (params)")
            lines.append("  " + tr("{feature} [{code}]: {value} vs reference {reference} +/- "
                                   "{tolerance} - {why}").format(
                feature=row.feature, code=row.ibsi_code, value=value,
                reference=f"{row.reference:g}", tolerance=f"{row.tolerance:.3g}", why=why))
    good = table[table["match"] & (table["note"] != "")]
    if len(good):
        lines.append("\n" + tr("Documented differences that do not change the phantom's values:"))
        for note, group in good.groupby("note", sort=False):
            names = ", ".join(f.replace("original_", "") for f in group["feature"][:3])
            more = tr(" and {n} more").format(n=len(group) - 3) if len(group) > 3 else ""
            lines.append(f"  {names}{more}: {note}")
    return "\n".join(lines)
