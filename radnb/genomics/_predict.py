"""Imaging models of molecular labels that are not a yes/no outcome.

* :func:`subtype_model` - a multi-class label (e.g. immune subtype inflamed /
  excluded / desert): penalised multinomial logistic regression in nested
  cross-validation, one-vs-rest and macro AUC with confidence intervals, and the
  confusion matrix of the out-of-fold predictions.
* :func:`radscore_regression` - a continuous label (e.g. a CD8+ infiltration
  score): a LASSO Rad-score in nested cross-validation, out-of-fold R^2 with a
  bootstrap CI and the calibration slope / intercept.

Binary labels (a mutation) use :func:`radnb.stats.radscore_model`.
"""
from __future__ import annotations

import numpy as np

from radnb._utils.validation import check_columns, check_range
from radnb.genomics._associate import _numeric_columns

__all__ = ["subtype_model", "radscore_regression", "GenomicsModelResult"]


class GenomicsModelResult:
    """Result of :func:`subtype_model` or :func:`radscore_regression` (fields are DataFrames).

    Attributes
    ----------
    oof : pandas.DataFrame
        Out-of-fold predictions per patient (``case_id``, ``observed``, ``fold``
        and ``predicted`` or one ``p_<class>`` column per class).
    metrics : pandas.DataFrame
        Tidy table of the performance estimates with CIs.
    confusion : pandas.DataFrame or None
        Observed (rows) x predicted (columns) counts (classification only).
    model : sklearn.pipeline.Pipeline
        The procedure refitted on all patients (the model to report).
    coefficients : pandas.DataFrame
        Non-zero coefficients of ``model`` (per SD of the feature).
    """

    def __init__(self, **fields):
        self.__dict__.update(fields)

    def __repr__(self):
        return f"{type(self).__name__}\n{self.metrics.to_string(index=False)}"

    def _repr_html_(self):
        return self.metrics.to_html(index=False)


def _design(features, target, columns, *, outer_cv, inner_cv, confidence):
    """Checked settings, then (case ids, feature matrix, target) with no missing value."""
    import pandas as pd

    check_range("outer_cv", outer_cv, 2)
    check_range("inner_cv", inner_cv, 2)
    check_range("confidence", confidence, 0, 1, inclusive=False)
    if isinstance(features, pd.DataFrame) and "case_id" not in features.columns:
        features = features.rename_axis("case_id").reset_index()
    check_columns(features, ["case_id"], what="features")
    if isinstance(target, str):
        check_columns(features, [target], what="features")
        y = features[target]
    else:
        y = pd.Series(np.asarray(target), index=features.index)
        if len(y) != len(features):
            raise ValueError(f"target has {len(y)} values but features has {len(features)} rows;"
                             " pass one value per row or a column name.")
    cols = _numeric_columns(features.drop(columns=[target] if isinstance(target, str) else []),
                            columns, "features")
    X = features[cols]
    keep = y.notna() & X.notna().all(axis=1)
    if (~keep).any():
        bad = features.loc[~keep, "case_id"].tolist()
        raise ValueError(f"{len(bad)} rows have a missing target or feature value (case_id "
                         f"{bad[:3]}); drop or impute them first.")
    return features["case_id"].to_numpy(), X.reset_index(drop=True), y.reset_index(drop=True)


def subtype_model(features, target, *, columns=None, outer_cv=5, inner_cv=5, n_boot=1000,
                  confidence=0.95, seed=0):
    """Predict a multi-class label from imaging features, honestly.

    Standardisation and an L2-penalised multinomial logistic regression (the
    penalty chosen by an inner ``inner_cv``-fold CV on log-loss) are fitted
    inside each of ``outer_cv`` stratified outer folds; every patient's class
    probabilities come from a model that never saw that patient.

    Parameters
    ----------
    features : pandas.DataFrame
        One row per patient: ``case_id``, feature columns and (optionally) the
        label column.
    target : str or array-like
        Label column name or values (strings or integers, 3+ classes work).
    columns : list of str, optional
        Feature columns (default: pyradiomics columns, else numeric ones).
    outer_cv, inner_cv : int, default 5
    n_boot : int, default 1000
        Bootstrap replicates for the macro-AUC interval.
    confidence : float, default 0.95
        Level of every confidence interval.
    seed : int, default 0

    Returns
    -------
    GenomicsModelResult
        ``metrics`` has one row per class (one-vs-rest AUC, DeLong CI from
        :func:`radnb.evaluate.roc_auc_ci`), a ``macro`` row (mean of the
        one-vs-rest AUCs, stratified-bootstrap percentile CI) and an
        ``accuracy`` row; ``confusion`` and ``oof`` as described there.

    Examples
    --------
    >>> res = subtype_model(features, "immune_subtype")  # doctest: +SKIP
    >>> res.metrics  # doctest: +SKIP
    """
    import pandas as pd
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from radnb.evaluate import roc_auc_ci

    ids, X, y = _design(features, target, columns, outer_cv=outer_cv, inner_cv=inner_cv,
                        confidence=confidence)
    alpha = 1 - confidence
    classes = sorted(y.unique().tolist())
    if len(classes) < 2:
        raise ValueError(f"target has one class only ({classes}); a model needs 2 or more.")
    smallest = int(y.value_counts().min())
    if smallest < outer_cv:
        raise ValueError(f"the rarest class has {smallest} patients, fewer than outer_cv="
                         f"{outer_cv}; lower outer_cv or merge classes.")
    pipe = make_pipeline(StandardScaler(), LogisticRegressionCV(
        Cs=np.logspace(-3, 1, 9), cv=StratifiedKFold(inner_cv, shuffle=True, random_state=seed),
        scoring="neg_log_loss", solver="newton-cholesky", max_iter=1000, l1_ratios=(0.0,),
        use_legacy_attributes=False))
    outer = StratifiedKFold(outer_cv, shuffle=True, random_state=seed)
    proba = cross_val_predict(pipe, X, y, cv=outer, method="predict_proba")
    fold = np.empty(len(y), dtype=int)
    for k, (_, test) in enumerate(outer.split(X, y)):
        fold[test] = k + 1
    y_arr = y.to_numpy()
    rows = []
    for j, c in enumerate(classes):
        r = roc_auc_ci((y_arr == c).astype(int), proba[:, j], confidence=confidence).iloc[0]
        rows.append({"metric": f"AUC {c} vs rest", "value": r["AUC"], "ci_low": r["ci_low"],
                     "ci_high": r["ci_high"], "method": "DeLong"})
    macro = _macro_auc(y_arr, proba, classes)
    boot = _bootstrap_macro(y_arr, proba, classes, n_boot, seed)
    rows.append({"metric": "macro AUC (one-vs-rest)", "value": macro,
                 "ci_low": float(np.quantile(boot, alpha / 2)),
                 "ci_high": float(np.quantile(boot, 1 - alpha / 2)),
                 "method": f"stratified bootstrap ({n_boot})"})
    pred = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
    acc = float(np.mean(pred == y_arr))
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(int(round(acc * len(y))), len(y), alpha=alpha, method="wilson")
    rows.append({"metric": "accuracy", "value": acc, "ci_low": lo, "ci_high": hi,
                 "method": "Wilson"})
    share = float(y.value_counts(normalize=True).max())
    rows.append({"metric": "no-information rate", "value": share, "ci_low": np.nan,
                 "ci_high": np.nan, "method": "largest class share"})
    confusion = pd.crosstab(pd.Categorical(y_arr, categories=classes),
                            pd.Categorical(pred, categories=classes), dropna=False,
                            rownames=["observed"], colnames=["predicted"])
    oof = pd.DataFrame({"case_id": ids, "observed": y_arr, "fold": fold, "predicted": pred})
    for j, c in enumerate(classes):
        oof[f"p_{c}"] = proba[:, j]
    model = pipe.fit(X, y)
    coefs = pd.DataFrame(model[-1].coef_.T, index=X.columns,
                         columns=[f"coef_{c}" for c in model[-1].classes_])
    return GenomicsModelResult(oof=oof, metrics=pd.DataFrame(rows), confusion=confusion,
                               model=model, coefficients=coefs, classes=classes)


def _macro_auc(y, proba, classes):
    """Mean one-vs-rest AUC (Mann-Whitney form: mid-ranks of the positives' scores)."""
    from scipy.stats import rankdata

    aucs = []
    for j, c in enumerate(classes):
        pos = y == c
        n1, n0 = int(pos.sum()), int((~pos).sum())
        ranks = rankdata(proba[:, j])
        aucs.append((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))
    return float(np.mean(aucs))


def _bootstrap_macro(y, proba, classes, n_boot, seed):
    """Macro AUCs of stratified bootstrap resamples (each class resampled within itself)."""
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(y == c) for c in classes]
    out = np.empty(int(n_boot))
    for b in range(int(n_boot)):
        idx = np.concatenate([rng.choice(g, g.size) for g in groups])
        out[b] = _macro_auc(y[idx], proba[idx], classes)
    return out


def radscore_regression(features, target, *, columns=None, outer_cv=5, inner_cv=5, n_boot=1000,
                        confidence=0.95, seed=0):
    """A Rad-score of a continuous label (e.g. CD8+ infiltration), in nested cross-validation.

    Standardisation and a LASSO linear regression (penalty chosen by an inner
    ``inner_cv``-fold CV) are fitted inside each of ``outer_cv`` outer folds.

    Parameters
    ----------
    features : pandas.DataFrame
        One row per patient: ``case_id``, feature columns and (optionally) the
        target column.
    target : str or array-like
        Continuous target column name or values.
    columns : list of str, optional
    outer_cv, inner_cv : int, default 5
    n_boot : int, default 1000
        Bootstrap replicates of the out-of-fold predictions for the R^2 interval.
    confidence : float, default 0.95
        Level of every confidence interval.
    seed : int, default 0

    Returns
    -------
    GenomicsModelResult
        ``metrics``: out-of-fold ``R2`` (1 - SSE/SST, bootstrap CI), Pearson
        ``r`` of predicted and observed (Fisher CI), ``calibration slope``
        and ``calibration intercept`` (observed regressed on predicted; ideal
        1 and 0, with OLS CIs); ``oof`` has ``observed``, ``predicted``,
        ``fold``; ``coefficients`` the final model's non-zero ones.

    Examples
    --------
    >>> res = radscore_regression(features, "cd8_score")  # doctest: +SKIP
    >>> res.metrics  # doctest: +SKIP
    """
    import pandas as pd
    import statsmodels.api as sm
    from scipy.stats import norm
    from sklearn.linear_model import LassoCV
    from sklearn.model_selection import KFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    ids, X, y = _design(features, target, columns, outer_cv=outer_cv, inner_cv=inner_cv,
                        confidence=confidence)
    alpha = 1 - confidence
    y = pd.to_numeric(y, errors="raise").astype(float)
    pipe = make_pipeline(StandardScaler(), LassoCV(
        cv=KFold(inner_cv, shuffle=True, random_state=seed), alphas=30, eps=1e-2, max_iter=50000,
        random_state=seed))
    outer = KFold(outer_cv, shuffle=True, random_state=seed)
    pred = cross_val_predict(pipe, X, y, cv=outer)
    fold = np.empty(len(y), dtype=int)
    for k, (_, test) in enumerate(outer.split(X)):
        fold[test] = k + 1
    obs = y.to_numpy()
    r2 = _r2(obs, pred)
    rng = np.random.default_rng(seed)
    boot = np.array([_r2(obs[i], pred[i]) for i in
                     (rng.integers(0, len(obs), len(obs)) for _ in range(int(n_boot)))])
    r = float(np.corrcoef(obs, pred)[0, 1])
    z, se = np.arctanh(r), 1 / np.sqrt(len(obs) - 3)
    zq = norm.ppf(1 - alpha / 2)
    fit = sm.OLS(obs, sm.add_constant(pred)).fit()
    ci = fit.conf_int(alpha)
    rows = [
        {"metric": "R2 (out-of-fold)", "value": r2, "ci_low": float(np.quantile(boot, alpha / 2)),
         "ci_high": float(np.quantile(boot, 1 - alpha / 2)), "method": f"bootstrap ({n_boot})"},
        {"metric": "r (predicted vs observed)", "value": r, "ci_low": float(np.tanh(z - zq * se)),
         "ci_high": float(np.tanh(z + zq * se)), "method": "Fisher z"},
        {"metric": "calibration slope", "value": float(fit.params[1]), "ci_low": float(ci[1, 0]),
         "ci_high": float(ci[1, 1]), "method": "OLS observed ~ predicted"},
        {"metric": "calibration intercept", "value": float(fit.params[0]),
         "ci_low": float(ci[0, 0]), "ci_high": float(ci[0, 1]), "method": "OLS observed ~ predicted"},
    ]
    oof = pd.DataFrame({"case_id": ids, "observed": obs, "predicted": pred, "fold": fold})
    model = pipe.fit(X, y)
    coef = pd.Series(model[-1].coef_, index=X.columns)
    coefs = coef[coef != 0].to_frame("coef").sort_values("coef", key=np.abs, ascending=False)
    return GenomicsModelResult(oof=oof, metrics=pd.DataFrame(rows), confusion=None, model=model,
                               coefficients=coefs)


def _r2(obs, pred):
    return float(1 - np.sum((obs - pred) ** 2) / np.sum((obs - obs.mean()) ** 2))
