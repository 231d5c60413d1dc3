"""The manifest table: read it, build it from a folder, validate and summarise it.

Public names are re-exported by :mod:`radnb.cohort`, which documents the step.
"""
from __future__ import annotations

import fnmatch
import re
import warnings
from pathlib import Path

from radnb._utils.errors import user_stacklevel
from radnb._utils.i18n import _
from radnb._utils.validation import check_columns


KEYS = ["case_id", "timepoint", "reader"]
REQUIRED = ["case_id", "image", "mask"]
DEFAULTS = {"label": 1, "reader": 1, "timepoint": 1, "site": "unknown"}
_ORDER = ["case_id", "timepoint", "reader", "site", "image", "mask", "label"]


def row_keys(df) -> list[str]:
    """Columns that identify a manifest row: KEYS, plus ``modality`` when present."""
    return KEYS + (["modality"] if "modality" in df.columns else [])


def load_manifest(path_or_df, root=None):
    """Read a cohort manifest and make it ready to use.

    Parameters
    ----------
    path_or_df : str, Path or pandas.DataFrame
        A CSV (``.csv``, ``.tsv``) or Excel (``.xlsx``, ``.xls``) file, or a DataFrame.
        CSV files may be UTF-8 (with or without BOM), UTF-16 or Windows-1252, separated
        by ``,``, ``;``, tab or ``|``; with ``;`` or tab, decimal commas (``1,5``) are
        read as numbers. Identifier columns (``case_id``, ``series_uid``, names
        ending in ``_id`` / ``uid``) are kept as written: ``"000123"`` stays
        ``"000123"`` and ``"NA"`` is an ID, not a missing value.
    root : str or Path, optional
        Folder that relative ``image`` / ``mask`` paths are relative to.
        Default: the manifest file's folder (or the working directory for a DataFrame).

    Returns
    -------
    pandas.DataFrame
        A copy with absolute paths, identifiers as text, and ``label``, ``reader``,
        ``timepoint`` and ``site`` filled with defaults where absent.

    Raises
    ------
    ValueError
        If ``case_id``, ``image`` or ``mask`` is missing, the file is empty or in an
        unknown text encoding, or two rows share (``case_id``, ``timepoint``, ``reader``;
        and ``modality`` when that column exists - it is stored upper-case, e.g. ``"PET"``).

    Examples
    --------
    >>> import pandas as pd
    >>> m = load_manifest(pd.DataFrame({"case_id": [1], "image": ["ct.nii.gz"],
    ...                                 "mask": ["gtv.nii.gz"]}), root="/data")
    >>> m.loc[0, ["case_id", "image", "reader", "label"]].tolist()
    ['1', '/data/ct.nii.gz', 1, 1]
    """
    import pandas as pd

    from radnb.cohort._table import read_table, type_columns

    if isinstance(path_or_df, pd.DataFrame):
        df = path_or_df.copy()
        base = Path(root) if root is not None else Path.cwd()
    else:
        path = Path(path_or_df)
        if not path.exists():
            raise FileNotFoundError(_("manifest file {path!r} does not exist.").format(path=str(path)))
        df, sep = read_table(path)
        df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
        df = type_columns(df, sep)
        base = Path(root) if root is not None else path.resolve().parent
    df.columns = [str(c).strip() for c in df.columns]
    check_columns(df, REQUIRED, what="manifest")
    for col, default in DEFAULTS.items():
        if col not in df.columns:
            df[col] = default
        else:
            df.loc[df[col].isna(), col] = default
    if df.empty:
        raise ValueError(_(
            "manifest has a header but no rows; add one line per image + mask pair "
            "(case_id, image, mask)."
        ))
    missing_id = df["case_id"].isna()
    if missing_id.any():
        raise ValueError(_(
            "manifest has {n} row(s) without a case_id (rows "
            "{rows} of the file, counting the header as 1); "
            "give every row the patient's study ID."
        ).format(n=int(missing_id.sum()), rows=(df.index[missing_id] + 2).tolist()[:5]))
    df["case_id"] = df["case_id"].map(_id_text)
    for col in [c for c in df.columns if c != "case_id" and _is_id(c)]:
        df[col] = df[col].map(lambda v: v if v is None or (isinstance(v, float) and v != v)
                              else _id_text(v))
    df["site"] = df["site"].astype(str)
    for col in ("reader", "timepoint", "label"):
        df[col] = _as_int(df[col], col)
    for col in ("image", "mask"):
        df[col] = [_resolve(p, base) for p in df[col]]
    if "modality" in df.columns:
        df["modality"] = _modality(df["modality"])
    keys = row_keys(df)
    dup = df.duplicated(keys, keep=False)
    if dup.any():
        rows = df.loc[dup, keys].drop_duplicates().to_dict("records")[:5]
        if "modality" in keys:
            text = _("manifest has {n} rows sharing ({keys}), e.g. {rows}; give each rescan a "
                     "different 'timepoint' and each segmentation a different 'reader'.")
        else:
            text = _("manifest has {n} rows sharing ({keys}), e.g. {rows}; give each rescan a "
                     "different 'timepoint' and each segmentation a different 'reader' (CT and PET "
                     "of one patient: add a 'modality' column).")
        raise ValueError(text.format(n=int(dup.sum()), keys=", ".join(keys), rows=rows))
    order = [c for c in _ORDER if c in df.columns]
    return df[order + [c for c in df.columns if c not in order]].reset_index(drop=True)


def from_folder(folder, image_glob="*_image.*", mask_glob="*_label.*", **columns):
    """Build a manifest by pairing image and mask files found in a folder.

    The case id is the part of each file name matched by the first ``*`` of the
    pattern: with ``image_glob="*_image.nrrd"``, ``brain1_image.nrrd`` is case
    ``brain1``. Patterns may contain folders, e.g. ``"*/ct.nii.gz"`` (the
    folder name is then the case id).

    Parameters
    ----------
    folder : str or Path
    image_glob, mask_glob : str
        Glob patterns relative to ``folder``.
    **columns
        Constant columns to add, e.g. ``site="A"``.

    Returns
    -------
    pandas.DataFrame
        The manifest (see :func:`load_manifest`). Files without a partner are
        left out with a warning that names them.

    Examples
    --------
    >>> manifest = from_folder("../shared/data/pyradiomics")  # doctest: +SKIP
    >>> sorted(manifest.case_id)  # doctest: +SKIP
    ['brain1', 'brain2', 'breast1', 'lung1', 'lung2']
    """
    import pandas as pd

    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(_("folder {folder!r} does not exist.").format(folder=str(folder)))
    images, masks = _match(folder, image_glob), _match(folder, mask_glob)
    if not images:
        raise ValueError(_("no file in {folder!r} matches image_glob={glob!r}; it holds e.g. {names}.").format(
            folder=str(folder), glob=image_glob, names=sorted(p.name for p in folder.iterdir())[:5]))
    lonely = sorted(set(images) ^ set(masks))
    if lonely:
        warnings.warn(
            _("{n} case(s) have an image but no mask or the reverse and are left out: {cases}").format(
                n=len(lonely), cases=lonely[:10]), UserWarning, stacklevel=user_stacklevel(),
        )
    cases = sorted(set(images) & set(masks))
    df = pd.DataFrame({"case_id": cases, "image": [str(images[c]) for c in cases],
                       "mask": [str(masks[c]) for c in cases]})
    for key, value in columns.items():
        df[key] = value
    return load_manifest(df, root=folder)


def validate(manifest, *, tolerance: float | None = None, min_voxels: int = 64):
    """Check every image + mask pair before extraction; never raises for a bad case.

    It reports first whatever extraction would refuse or silently change.
    Checks, one row each per manifest row: ``image`` and ``mask`` (file exists,
    is complete and readable; ``roi`` only for RTSTRUCT / DICOM-SEG masks),
    ``dimensionality`` (3D), ``image_values`` (no NaN / infinite voxels),
    ``mask_values`` (one whole number 0..255 per voxel: not a colour image, not
    a CT given as the mask), ``geometry`` (the policy of :mod:`radnb.io`:
    header rounding is aligned, anything larger is an error whose advice
    depends on the DICOM Frame of Reference), ``mask_integer``, ``mask_empty``,
    ``label`` (present in the mask), ``spacing`` (plausible voxel size),
    ``roi_size`` (voxel count, and at least 2 dimensions thicker than one voxel,
    as pyradiomics needs), ``roi_volume`` (warning above 2 litres), ``border``
    (ROI touches the image border).

    Parameters
    ----------
    manifest : pandas.DataFrame or path
        A manifest (see :func:`load_manifest`).
    tolerance : float, optional
        One allowed difference for spacing (mm), origin (mm) and direction cosines,
        replacing the policy extraction uses (spacing relative 1e-4, origin
        1e-3 mm or 5% of a voxel, direction 1e-4). Leave it unset so validation
        and extraction agree.
    min_voxels : int, default 64
        ROIs with fewer voxels get a warning (texture features are unstable).

    Returns
    -------
    pandas.DataFrame
        Columns ``case_id``, ``timepoint``, ``reader``, ``check``,
        ``severity`` (``"ok"``, ``"warning"``, ``"error"``) and ``message``
        (what was found and what to do).

    Raises
    ------
    ValueError
        Only for a malformed manifest (missing columns, duplicate rows).

    See Also
    --------
    summarize : one row per manifest row with the worst severity.

    Examples
    --------
    >>> from radnb.datasets import load_demo_cohort
    >>> table = validate(load_demo_cohort())  # doctest: +SKIP
    >>> table.severity.value_counts()  # doctest: +SKIP
    """
    from radnb.cohort._checks import check_pair

    manifest = load_manifest(manifest)
    keys = row_keys(manifest)
    rows = []
    for rec in manifest.to_dict("records"):
        key = {k: rec[k] for k in keys}
        for check, severity, message in check_pair(rec, tolerance=tolerance, min_voxels=min_voxels):
            rows.append({**key, "check": check, "severity": severity, "message": message})
    import pandas as pd

    table = pd.DataFrame(rows, columns=keys + ["check", "severity", "message"])
    from radnb._utils.provenance import record  # what radnb.Study reports (no-op outside one)
    worst = table.groupby(keys)["severity"].agg(lambda s: max(s, key=["ok", "warning", "error"].index))
    record("cohort.validate", n_rows=len(manifest), n_patients=int(manifest["case_id"].nunique()),
           n_ok=int((worst == "ok").sum()), n_warning=int((worst == "warning").sum()),
           n_error=int((worst == "error").sum()),
           errors={str(k[0]): c for k, c in table[table.severity == "error"].groupby(
               keys)["check"].first().items()},
           readers=sorted(int(r) for r in manifest["reader"].unique()),
           sites=sorted(str(s) for s in manifest["site"].dropna().unique()) if "site" in manifest else [])
    return table


def summarize(validation):
    """One row per manifest row: worst severity and the problems found.

    Parameters
    ----------
    validation : pandas.DataFrame
        Output of :func:`validate`.

    Returns
    -------
    pandas.DataFrame
        ``case_id``, ``timepoint``, ``reader``, ``status`` (worst severity),
        ``n_errors``, ``n_warnings`` and ``problems`` (messages joined).
    """
    rank = {"ok": 0, "warning": 1, "error": 2}
    out = []
    keys = row_keys(validation)
    for key, grp in validation.groupby(keys, sort=False):
        worst = max(grp["severity"], key=rank.__getitem__)
        bad = grp[grp["severity"] != "ok"]
        out.append({
            **dict(zip(keys, key)), "status": worst,
            "n_errors": int((grp["severity"] == "error").sum()),
            "n_warnings": int((grp["severity"] == "warning").sum()),
            "problems": "; ".join(f"{c}: {m}" for c, m in zip(bad["check"], bad["message"])),
        })
    import pandas as pd

    return pd.DataFrame(out)


def _is_id(name) -> bool:
    from radnb.cohort._table import is_id_column

    return is_id_column(name) and str(name).lower() not in ("image", "mask", "site", "roi")


def _id_text(value) -> str:
    """An identifier as text: 123.0 (a number typed into a DataFrame) becomes '123'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _as_int(series, name):
    import pandas as pd

    values = pd.to_numeric(series, errors="coerce")
    if values.isna().any() or (values % 1 != 0).any():
        bad = series[values.isna() | (values % 1 != 0)].tolist()[:5]
        raise ValueError(_("manifest column {name!r} must hold whole numbers; got {bad}.").format(
            name=name, bad=bad))
    return values.astype(int)


def _modality(series):
    text = series.map(lambda v: "" if v is None or v != v else str(v).strip().upper())
    if (text == "").any():
        rows = list(series.index[text == ""][:5])
        raise ValueError(_(
            "manifest column 'modality' is empty in rows {rows}; give every row its modality "
            "(e.g. 'CT', 'PET', 'MR') or drop the column."
        ).format(rows=rows))
    return text


def _resolve(path, base: Path) -> str:
    if path is None or (isinstance(path, float) and path != path):
        return ""
    p = Path(str(path).strip()).expanduser()
    return str(p if p.is_absolute() else (base / p).resolve())


def _match(folder: Path, pattern: str) -> dict:
    regex = re.compile(fnmatch.translate(pattern).replace(".*", "(.*)", 1))
    found = {}
    for path in sorted(folder.glob(pattern)):
        m = regex.match(path.relative_to(folder).as_posix())
        if m:
            found[m.group(1)] = path
    return found
