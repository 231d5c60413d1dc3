"""Intraclass correlation of one variable and of every feature in a table.

Public names are re-exported by :mod:`radnb.reproducibility`, which documents the step.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from radnb._utils.errors import user_stacklevel
from radnb._utils.i18n import tr
from radnb.reproducibility._icc import ICC_DESCRIPTIONS, ICC_TYPES, icc_arrays, resolve_icc_type
from radnb._utils.intervals import P_COLUMN, ci_cell, ci_column
from radnb._utils.validation import check_columns, check_range



def icc(data, targets, raters, ratings, *, confidence=0.95):
    """Intraclass correlation coefficients of one variable (all six forms).

    Parameters
    ----------
    data : pandas.DataFrame
        Long format: one row per (target, rater) with the rating.
    targets, raters, ratings : str
        Columns naming the rated object (e.g. ``case_id``), who or what rated
        it (``reader``, ``timepoint``) and the value.
    confidence : float, default 0.95
        Level of the confidence intervals.

    Returns
    -------
    pandas.DataFrame
        Rows ``ICC1, ICC2, ICC3, ICC1k, ICC2k, ICC3k``; columns ``Type``,
        ``Description``, ``ICC``, ``F``, ``df1``, ``df2``, ``p-val`` and
        ``CI95%`` (an array ``[low, high]``; the name follows ``confidence``),
        as ``pingouin.intraclass_corr`` (which calls the p-value ``pval``).
        ICC2 (two-way random, absolute agreement, single rater) is the usual
        choice for radiomics (Koo & Li 2016).

    Raises
    ------
    ValueError
        When a row has no target or no rater (``NaN``): such a row cannot be
        placed, and the message names it.

    Warns
    -----
    UserWarning
        When targets lack a rating from some rater: they are left out (ICCs
        need complete data) and the warning says how many.

    References
    ----------
    Shrout, P. E. & Fleiss, J. L. (1979). Intraclass correlations: uses in
    assessing rater reliability. Psychol Bull 86, 420-428.
    McGraw, K. O. & Wong, S. P. (1996). Forming inferences about some
    intraclass correlation coefficients. Psychol Methods 1, 30-46.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"case": [1, 2, 3, 4] * 2, "reader": [1] * 4 + [2] * 4,
    ...                    "volume": [10, 20, 30, 45, 11, 19, 32, 44]})
    >>> res = icc(df, "case", "reader", "volume")
    >>> round(float(res.loc["ICC2", "ICC"]), 3)
    0.996
    """
    check_columns(data, [targets, raters, ratings], what="data")
    if not pd.api.types.is_numeric_dtype(data[ratings]):
        raise ValueError(
            f"ratings column {ratings!r} must be numeric; got dtype {data[ratings].dtype}. "
            "Convert it with pd.to_numeric first."
        )
    check_range("confidence", confidence, 0, 1, inclusive=False)
    _check_identifiers(data, [targets, raters])
    _check_duplicates(data, [targets], raters)
    wide = data.pivot(index=targets, columns=raters, values=ratings)
    incomplete = wide.isna().any(axis=1)
    if incomplete.any():
        names = ", ".join(map(str, wide.index[incomplete][:5]))
        warnings.warn(
            tr("icc: left out {n} of {total} targets with missing ratings ({names}{more}); ICCs "
               "need every target rated by every rater.").format(
                n=int(incomplete.sum()), total=len(wide), names=names,
                more=" ..." if incomplete.sum() > 5 else ""), UserWarning, stacklevel=user_stacklevel(),
        )
        wide = wide[~incomplete]
    _check_shape(len(wide), wide.shape[1], targets, raters)
    res = icc_arrays(wide.to_numpy(float)[None], confidence=confidence)
    rows = []
    for t in ICC_TYPES:
        r = res[t]
        rows.append({
            "Type": t, "Description": ICC_DESCRIPTIONS[t], "ICC": r["ICC"][0],
            "F": r["F"][0], "df1": int(r["df1"][0]), "df2": int(r["df2"][0]),
            P_COLUMN: r["pval"][0], ci_column(confidence): ci_cell(r["low"][0], r["high"][0]),
        })
    return pd.DataFrame(rows, index=pd.Index(ICC_TYPES, name=None))


def feature_icc(features, by="reader", *, icc_type="ICC(2,1)", targets=None, confidence=0.95):
    """One ICC per feature of a feature table (vectorised over features).

    Parameters
    ----------
    features : pandas.DataFrame
        Feature table with identifier columns (``case_id``, ``timepoint``,
        ``reader``) and pyradiomics feature columns.
    by : str, default "reader"
        The column whose levels are the "raters": ``"reader"`` (inter-reader,
        or perturbation index), ``"timepoint"`` (test-retest).
    icc_type : str, default "ICC(2,1)"
        ``"ICC(1,1)"``, ``"ICC(2,1)"``, ``"ICC(3,1)"``, ``"ICC(1,k)"``,
        ``"ICC(2,k)"``, ``"ICC(3,k)"`` (also ``"ICC2"``, ``"ICC(A,1)"``, ...).
    targets : list of str, optional
        Columns identifying a rated object. Default: ``case_id`` plus the
        other identifiers (``timepoint``, ``reader``, ``label``) except ``by``.
        Select the rows first (e.g. ``features[features.timepoint == 1]``)
        so that every target has a row for every level of ``by``.
    confidence : float, default 0.95

    Returns
    -------
    pandas.DataFrame
        One row per feature: ``feature``, ``image_type``, ``feature_class``,
        ``ICC``, ``CI95%`` (``[low, high]``; named after ``confidence``),
        ``ci_low``, ``ci_high``,
        ``n_targets`` (targets with complete ratings), ``n_raters``. A
        feature constant over all rows has ICC ``NaN``.

    Raises
    ------
    ValueError
        When a row has a missing ``by`` or target identifier (``NaN``); the
        message names the rows. Drop or fill them first.

    Warns
    -----
    UserWarning
        When targets lack a row for some level of ``by`` (left out), or
        features have missing values (those targets left out per feature).

    See Also
    --------
    icc : all six forms for one variable, with F tests.

    References
    ----------
    Shrout & Fleiss (1979); McGraw & Wong (1996); Koo, T. K. & Li, M. Y.
    (2016). A guideline of selecting and reporting intraclass correlation
    coefficients for reliability research. J Chiropr Med 15, 155-163.

    Examples
    --------
    >>> feats = radnb.datasets.load_demo_features(reader=None)  # doctest: +SKIP
    >>> table = feature_icc(feats[feats.timepoint == 1], by="reader")  # doctest: +SKIP
    >>> table.sort_values("ICC").head()  # doctest: +SKIP
    """
    from radnb._utils.features import feature_columns, split_feature_name

    label = resolve_icc_type(icc_type)
    check_range("confidence", confidence, 0, 1, inclusive=False)
    check_columns(features, [by], what="features")
    if targets is None:
        targets = ["case_id"] + [c for c in ("timepoint", "reader", "label")
                                 if c in features.columns and c != by]
    targets = [targets] if isinstance(targets, str) else list(targets)
    check_columns(features, targets, what="features")
    cols = feature_columns(features)
    if not cols:
        raise ValueError(
            "features has no pyradiomics feature columns (named like 'original_glcm_Contrast'); "
            "pass the table returned by radnb.extract.extract_features(...).features."
        )
    _check_identifiers(features, [*targets, by])
    _check_duplicates(features, targets, by)
    Y, n_all, k = _to_cube(features, targets, by, cols)
    _check_shape(n_all, k, "+".join(targets), by)
    present = ~np.isnan(Y).all(axis=0)                        # (n, k): row exists
    missing_rows = ~present.all(axis=1)
    if missing_rows.any():
        warnings.warn(
            tr("feature_icc: left out {n} of {total} targets ({targets}) without a row for every "
               "{by} level {levels}; select matching rows first (e.g. keep one timepoint when "
               "by='reader').").format(n=int(missing_rows.sum()), total=n_all,
                                       targets=", ".join(targets), by=by,
                                       levels=_levels(features, by)),
            UserWarning, stacklevel=user_stacklevel(),
        )
        Y = Y[:, ~missing_rows]
    nan_feats = np.isnan(Y).any(axis=(1, 2))
    if nan_feats.any():
        warnings.warn(
            tr("feature_icc: {n} features have missing values; their incomplete "
               "targets were left out for those features only (see column n_targets).").format(
                n=int(nan_feats.sum())),
            UserWarning, stacklevel=user_stacklevel(),
        )
    res = icc_arrays(Y, confidence=confidence)
    r = res[label]
    parts = [split_feature_name(c) for c in cols]
    low, high = r["low"], r["high"]
    from radnb._utils.provenance import record  # what radnb.Study reports (no-op outside one)
    record("reproducibility.feature_icc", by=by, icc_type=icc_type, confidence=confidence,
           n_features=len(cols), n_targets=int(Y.shape[1]), n_raters=int(k),
           median_icc=float(np.nanmedian(r["ICC"])) if len(cols) else None)
    return pd.DataFrame({
        "feature": cols,
        "image_type": [p[0] for p in parts],
        "feature_class": [p[1] for p in parts],
        "ICC": r["ICC"],
        ci_column(confidence): [ci_cell(lo, hi) for lo, hi in zip(low, high)],
        "ci_low": low,
        "ci_high": high,
        "n_targets": res["n"].astype(int),
        "n_raters": int(k),
    })


def _to_cube(df, targets, by, cols):
    """Reshape a wide feature table into an array (features, targets, raters)."""
    values = df[cols].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    tgt = pd.MultiIndex.from_frame(df[targets].astype(object)) if len(targets) > 1 \
        else pd.Index(df[targets[0]])
    t_codes, t_uniques = pd.factorize(tgt, sort=True)
    r_codes, r_uniques = pd.factorize(df[by], sort=True)
    n, k = len(t_uniques), len(r_uniques)
    Y = np.full((len(cols), n, k), np.nan)
    Y[:, t_codes, r_codes] = values.T
    return Y, n, k


def _levels(df, by):
    return sorted(df[by].dropna().unique().tolist())


def _check_identifiers(df, columns):
    """Raise naming the rows whose target or rater identifier is missing.

    ``pd.factorize`` codes a missing value as -1, which would index the last
    rater or target and silently corrupt the ICC.
    """
    bad = df[list(columns)].isna()
    rows = bad.any(axis=1)
    if rows.any():
        labels = list(df.index[rows][:5])
        cols = [c for c in columns if bad[c].any()]
        raise ValueError(
            f"{int(rows.sum())} row(s) have a missing identifier in column(s) {cols} "
            f"(row labels {labels}{' ...' if rows.sum() > 5 else ''}); an ICC cannot tell whose "
            "rating they are. Fill the identifier or drop those rows, e.g. "
            f"df.dropna(subset={cols})."
        )


def _check_duplicates(df, targets, by):
    dup = df.duplicated(subset=list(targets) + [by], keep=False)
    if dup.any():
        first = df.loc[dup, list(targets) + [by]].iloc[0].to_dict()
        raise ValueError(
            f"{int(dup.sum())} rows share the same {list(targets) + [by]} (e.g. {first}); "
            "each target needs exactly one value per rater. Remove duplicates or add the "
            "column that tells them apart (e.g. 'label') to targets."
        )


def _check_shape(n, k, targets, raters):
    if k < 2:
        raise ValueError(
            f"ICC needs at least 2 levels of {raters!r} (raters); got {k}. Include rows of a "
            "second reader, time point or perturbation."
        )
    if n < 2:
        raise ValueError(
            f"ICC needs at least 2 targets ({targets!r}) rated by every rater; got {n}."
        )
