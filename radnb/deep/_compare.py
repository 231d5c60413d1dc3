"""Deep features next to hand-crafted ones: reproducibility (ICC) and fusion with the Rad-score."""
from __future__ import annotations

import numpy as np
import pandas as pd

from radnb._utils.validation import check_columns

__all__ = ["deep_columns", "deep_icc", "fusion_scores"]


def deep_columns(df):
    """Columns named ``deep_<model>_<i>``, in order."""
    return [c for c in df.columns if isinstance(c, str) and c.startswith("deep_")]


def deep_icc(features, by="reader", *, icc_type="ICC(2,1)", targets=None, confidence=0.95):
    """ICC of every deep feature, computed by :func:`radnb.reproducibility.feature_icc`.

    Parameters
    ----------
    features : pandas.DataFrame
        ``deep_features(...).features`` (identifiers + ``deep_<model>_<i>``),
        possibly joined with pyradiomics columns (those are rated too, so both
        kinds appear in one table).
    by, icc_type, targets, confidence
        As in :func:`radnb.reproducibility.feature_icc` (``by="reader"``:
        inter-reader; ``by="timepoint"``: test-retest).

    Returns
    -------
    pandas.DataFrame
        ``feature_icc``'s table; deep features have ``image_type`` = the model
        name and ``feature_class`` = ``"deep"``.

    Examples
    --------
    >>> t1 = res.features[res.features.timepoint == 1]  # doctest: +SKIP
    >>> deep_icc(t1, by="reader").ICC.median()  # doctest: +SKIP
    """
    from radnb.reproducibility import feature_icc

    cols = deep_columns(features)
    if not cols:
        raise ValueError("features has no deep_<model>_<i> columns; pass "
                         "radnb.deep.deep_features(...).features.")
    # feature_icc reads pyradiomics-style names: give each deep column one for the call
    alias = {c: f"original_firstorder_{c}" for c in cols}
    table = feature_icc(features.rename(columns=alias), by=by, icc_type=icc_type,
                        targets=targets, confidence=confidence)
    back = {v: k for k, v in alias.items()}
    is_deep = table["feature"].isin(back)
    table.loc[is_deep, "image_type"] = table.loc[is_deep, "feature"].map(
        lambda a: back[a].rsplit("_", 1)[0][len("deep_"):])
    table.loc[is_deep, "feature_class"] = "deep"
    table.loc[is_deep, "feature"] = table.loc[is_deep, "feature"].map(back)
    return table


def fusion_scores(data, outcome="outcome", *, radiomics=None, deep=None, clinical=(), cv=5,
                  inner_cv=3, harmonize=None, seed=0):
    """Rad-score, deep score and their fusions, all out-of-fold, with AUCs and DeLong tests.

    Four models are fitted with the same honest procedure
    (:func:`radnb.stats.radscore_model`: standardise, drop correlated
    features, LASSO logistic regression tuned by an inner CV, all inside each
    outer fold):

    * ``radscore``: hand-crafted features only;
    * ``deep``: deep features only;
    * ``early_fusion``: hand-crafted + deep (+ clinical) columns together;
    * ``late_fusion``: a logistic regression stacked on the out-of-fold
      Rad-score and deep score (+ clinical), itself cross-validated.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per patient: the outcome, pyradiomics columns, ``deep_*``
        columns and clinical columns (numeric).
    outcome : str, default "outcome"
    radiomics, deep : list of str, optional
        Feature columns (default: all pyradiomics / all ``deep_*`` columns).
    clinical : list of str, default ()
        Numeric clinical columns added to both fusions.
    cv, inner_cv : int
        Outer and inner folds.
    harmonize : None, str or radnb.harmonize.ComBat
        Site column (or a ComBat instance): ComBat is fitted inside every fold,
        on deep and hand-crafted features alike (as in ``radscore_model``).
    seed : int, default 0

    Returns
    -------
    scores : pandas.DataFrame
        Per row: ``outcome`` and the out-of-fold probability of each model.
    summary : pandas.DataFrame
        Per model: ``AUC``, ``ci_low``, ``ci_high`` (DeLong), and the paired
        DeLong test against the Rad-score (``diff``, ``p-val``).

    Examples
    --------
    >>> scores, summary = fusion_scores(table, "outcome", clinical=["age"])  # doctest: +SKIP
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from radnb._utils.features import feature_columns
    from radnb.evaluate import delong_test, roc_auc_ci
    from radnb.stats import radscore_model

    check_columns(data, [outcome], what="data")
    data = data.reset_index(drop=True)
    radiomics = list(radiomics) if radiomics is not None else feature_columns(data)
    deep = list(deep) if deep is not None else deep_columns(data)
    clinical = list(clinical)
    if not radiomics or not deep:
        raise ValueError(f"fusion needs both kinds of features: found {len(radiomics)} "
                         f"pyradiomics and {len(deep)} deep_* columns; join the two tables "
                         "on case_id first.")
    y = data[outcome].to_numpy()
    kw = dict(outer_cv=cv, inner_cv=inner_cv, seed=seed, harmonize=harmonize)
    fits = {"radscore": radscore_model(data, outcome, columns=radiomics, **kw),
            "deep": radscore_model(data, outcome, columns=deep, **kw),
            "early_fusion": radscore_model(data, outcome, columns=radiomics + deep + clinical,
                                           **kw)}
    scores = pd.DataFrame({"outcome": y})
    for name, res in fits.items():
        scores[name] = res.oof["probability"].to_numpy()
    logit = np.log(scores[["radscore", "deep"]].clip(1e-6, 1 - 1e-6)
                   / (1 - scores[["radscore", "deep"]].clip(1e-6, 1 - 1e-6)))
    stack = pd.concat([logit, data[clinical]], axis=1)
    folds = StratifiedKFold(cv, shuffle=True, random_state=seed)
    scores["late_fusion"] = cross_val_predict(
        make_pipeline(StandardScaler(), LogisticRegression()), stack, y, cv=folds,
        method="predict_proba")[:, 1]
    rows = []
    for name in ["radscore", "deep", "early_fusion", "late_fusion"]:
        auc = roc_auc_ci(y, scores[name]).iloc[0]
        row = {"model": name, "AUC": auc["AUC"], "ci_low": auc["ci_low"],
               "ci_high": auc["ci_high"], "diff": np.nan, "p-val": np.nan}
        if name != "radscore":
            test = delong_test(y, scores[name], scores["radscore"]).iloc[0]
            row.update({"diff": test["diff"], "p-val": test["p-val"]})
        rows.append(row)
    ids = [c for c in ("case_id", "timepoint", "reader", "site") if c in data.columns]
    scores = pd.concat([data[ids], scores], axis=1)
    return scores, pd.DataFrame(rows)
