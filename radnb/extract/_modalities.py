"""Several modalities per patient: settings per modality, and the wide per-patient table.

Public names are re-exported by :mod:`radnb.extract`, which documents the step.
A manifest with a ``modality`` column holds e.g. a CT and a PET row for one
patient; :func:`radnb.extract.extract_features` then extracts each modality
with its own settings (``params={"CT": "ct", "PET": "pet"}``) through
:func:`extract_by_modality`, and :func:`wide_by_modality` puts one patient on
one row with modality-prefixed feature columns, ready for a CT + PET model.
"""
from __future__ import annotations

__all__ = ["is_modality_map", "several_modalities", "extract_by_modality", "wide_by_modality"]

_SECTIONS = {"imageType", "featureClass", "setting", "voxelSetting"}
_KEYS = ["case_id", "timepoint", "reader"]


def is_modality_map(params) -> bool:
    """True for ``{"CT": "ct", "PET": "pet"}``; False for a pyradiomics settings dict."""
    return isinstance(params, dict) and bool(params) and not set(params) & _SECTIONS


def several_modalities(cohort) -> bool:
    """True when ``cohort`` has a ``modality`` column with more than one value."""
    columns = getattr(cohort, "columns", ())
    if "modality" not in columns:
        return False
    values = cohort["modality"].dropna().astype(str).str.strip().str.upper()
    return values.nunique() > 1


def extract_by_modality(extract, cohort, params, **kwargs):
    """Extract each modality of a manifest with its own settings; called by extract_features.

    Parameters
    ----------
    extract : callable
        :func:`radnb.extract.extract_features` (passed in, so this module does
        not import it back).
    cohort : pandas.DataFrame
        A manifest with a ``modality`` column.
    params : dict, str or path
        ``{modality: preset, dict or file}`` (modality names are not case
        sensitive), or one setting for every modality.
    **kwargs
        ``cache_dir``, ``n_jobs``, ``client``, ``progress`` of
        :func:`extract_features`.

    Returns
    -------
    Extraction
        ``features``, ``diagnostics`` and ``errors`` with a ``modality`` column
        after ``case_id``; ``settings`` is ``{modality: effective settings}``.
    """
    import pandas as pd

    from radnb.extract._params import load_params
    from radnb.extract._result import Extraction

    if "modality" not in cohort.columns:
        raise ValueError(
            f"params maps modalities to settings ({sorted(params)}), but the manifest has no "
            "'modality' column; add one (e.g. 'CT', 'PET') or pass one preset, e.g. params='ct'."
        )
    modality = cohort["modality"].map(lambda v: "" if v is None or v != v else str(v).strip().upper())
    if (modality == "").any():
        raise ValueError(f"manifest column 'modality' is empty in rows {list(cohort.index[modality == ''][:5])}; "
                         "give every row its modality, e.g. 'CT' or 'PET'.")
    mapping = {str(k).strip().upper(): v for k, v in params.items()} if is_modality_map(params) else None
    present = list(dict.fromkeys(modality))
    if mapping is not None:
        unknown = [m for m in present if m not in mapping]
        if unknown:
            raise ValueError(
                f"params has no settings for modality {unknown} (it maps {sorted(mapping)}); add "
                f"them, e.g. params={{**params, {unknown[0]!r}: 'ct'}}, or drop those rows."
            )
    parts, settings, seconds = [], {}, 0.0
    for name in present:
        rows = cohort.loc[modality == name].drop(columns="modality")
        chosen = mapping[name] if mapping is not None else params
        settings[name] = load_params(chosen)
        parts.append((name, extract(rows, params=chosen, **kwargs)))
        seconds += parts[-1][1].seconds
    stats = {}
    for _, result in parts:
        for key, value in result.cache_stats.items():
            stats[key] = stats.get(key, 0) + value
    tables = {attr: pd.concat([_with_modality(getattr(r, attr), m) for m, r in parts], ignore_index=True)
              for attr in ("features", "diagnostics", "errors")}
    return Extraction(tables["features"], tables["diagnostics"], tables["errors"], stats,
                      settings, seconds)


def _with_modality(table, modality):
    table = table.copy()
    table.insert(1 if "case_id" in table.columns else 0, "modality", modality)
    return table


def wide_by_modality(features, modalities=None):
    """One row per patient with modality-prefixed feature columns (``PET_original_...``).

    Parameters
    ----------
    features : pandas.DataFrame
        A long feature table with a ``modality`` column, e.g. ``result.features``
        of :func:`extract_features` on a manifest with several modalities
        (clinical columns may be joined already).
    modalities : list of str, optional
        Modalities to keep, in this column order. Default: all, in order of
        appearance.

    Returns
    -------
    pandas.DataFrame
        One row per (``case_id``, ``timepoint``, ``reader``); the other
        non-feature columns (``site``, clinical columns) taken from the
        patient's first row; then the features of each modality, named
        ``<MODALITY>_<pyradiomics name>``. :func:`feature_columns` recognises
        them. Patients missing a modality get NaN for its features.

    Raises
    ------
    ValueError
        Without a ``modality`` column, or when a patient has two rows of one
        modality (pass one ``reader`` / ``timepoint`` first).

    Examples
    --------
    >>> import pandas as pd
    >>> long = pd.DataFrame({"case_id": ["1", "1", "2"], "modality": ["CT", "PET", "CT"],
    ...                      "original_firstorder_Mean": [40.0, 3.5, 35.0]})
    >>> wide_by_modality(long)
      case_id  CT_original_firstorder_Mean  PET_original_firstorder_Mean
    0       1                         40.0                           3.5
    1       2                         35.0                           NaN
    """

    from radnb._utils.features import feature_columns
    from radnb._utils.validation import check_columns

    check_columns(features, ["case_id", "modality"], what="features (long table)")
    table = features.copy()
    table["modality"] = table["modality"].astype(str).str.strip().str.upper()
    order = list(dict.fromkeys(table["modality"]))
    if modalities is not None:
        wanted = [str(m).strip().upper() for m in modalities]
        missing = [m for m in wanted if m not in order]
        if missing:
            raise ValueError(f"modalities {missing} are not in the table; it has {order}.")
        table, order = table[table["modality"].isin(wanted)], wanted
    keys = [k for k in _KEYS if k in table.columns]
    dup = table.duplicated(keys + ["modality"], keep=False)
    if dup.any():
        example = table.loc[dup, keys + ["modality"]].head(2).to_dict("records")
        raise ValueError(
            f"{int(dup.sum())} rows share ({', '.join(keys)}, modality), e.g. {example}; the wide "
            "table needs one row per patient and modality: select one reader / timepoint first."
        )
    feats = feature_columns(table)
    other = [c for c in table.columns if c not in feats and c not in keys and c != "modality"]
    base = table.groupby(keys, sort=False)[other].first().reset_index() if other else \
        table[keys].drop_duplicates().reset_index(drop=True)
    out = base
    for name in order:
        part = table.loc[table["modality"] == name, keys + feats].dropna(axis=1, how="all")
        part = part.rename(columns={c: f"{name}_{c}" for c in part.columns if c not in keys})
        out = out.merge(part, on=keys, how="left")
    return out
