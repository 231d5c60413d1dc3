"""Rad-score model in nested cross-validation, and the leakage demonstration."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from radnb._utils.errors import user_stacklevel
from radnb._utils.i18n import tr
from radnb.stats._missing import MissingValueFilter
from radnb.stats._radscore_result import RadscoreResult
from radnb.stats._selection import CorrelationFilter, penalised_logistic, split_xy
from radnb._utils.validation import check_binary, check_option, check_range

__all__ = ["DropColumns", "build_pipeline", "fit_radscore", "leakage_table"]

DEFAULT_CS = tuple(np.logspace(-2, 1, 10))


class DropColumns(TransformerMixin, BaseEstimator):
    """Drop the named columns (if present) from a DataFrame, e.g. the site after ComBat."""

    def __init__(self, columns=()):
        self.columns = columns

    def fit(self, X, y=None):
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        return X.drop(columns=[c for c in self.columns if c in X.columns])

    def get_feature_names_out(self, input_features=None):
        kept = [c for c in self.feature_names_in_ if c not in self.columns]
        return np.asarray(kept, dtype=object)


def one_se_rule(cv_results):
    """Index of the smallest ``C`` whose inner-CV AUC is within one SE of the best.

    The "one-standard-error rule" (Hastie, Tibshirani & Friedman, The Elements
    of Statistical Learning, 2nd ed. 2009, section 7.10; glmnet's lambda.1se):
    the sparsest model that is not clearly worse than the best one. The SE is
    that of glmnet's ``cv.glmnet`` (``cvsd``): the standard deviation of the
    fold scores with ``ddof = 1``, divided by the square root of the number of
    folds (scikit-learn's ``std_test_score`` uses ``ddof = 0``).
    """
    mean = np.asarray(cv_results["mean_test_score"], dtype=float)
    keys = sorted((k for k in cv_results if k.startswith("split") and k.endswith("_test_score")),
                  key=lambda k: int(k[5:-len("_test_score")]))
    if len(keys) >= 2:
        scores = np.array([np.asarray(cv_results[k], dtype=float) for k in keys])
        se = np.nanstd(scores, axis=0, ddof=1) / np.sqrt(len(keys))
    else:
        se = np.zeros_like(mean)
    best = int(np.nanargmax(mean))
    ok = np.flatnonzero(mean >= mean[best] - se[best])
    Cs = np.asarray(cv_results["param_model__C"], dtype=float)
    return int(ok[np.argmin(Cs[ok])])


def _as_combat(harmonize):
    if isinstance(harmonize, str):
        from radnb.harmonize import ComBat

        return ComBat(batch_col=harmonize)
    if not hasattr(harmonize, "batch_col"):
        raise TypeError(
            "harmonize must be None, the name of the site column, or a radnb.harmonize.ComBat "
            f"instance; got {type(harmonize).__name__}."
        )
    return harmonize


def build_pipeline(*, harmonize=None, threshold=0.9, C=1.0, l1_ratio=1.0, seed=0,
                   max_missing=0.5, impute="median", memory=None):
    """[missing-value filter ->] [ComBat ->] scale -> correlation filter -> penalised logistic."""
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    steps = []
    combat = _as_combat(harmonize) if harmonize is not None else None
    keep = () if combat is None else (combat.batch_col, *combat.covariate_cols)
    if impute is not None:
        steps.append(("missing", MissingValueFilter(max_missing=max_missing, strategy=impute,
                                                    passthrough=keep)))
    if combat is not None:
        steps += [("combat", combat), ("drop", DropColumns(list(keep)))]
    steps += [
        ("scale", StandardScaler()),
        ("filter", CorrelationFilter(threshold=threshold, relevance="auc")),
        ("model", penalised_logistic(C, l1_ratio, random_state=seed)),
    ]
    return Pipeline(steps, memory=memory).set_output(transform="pandas")


def _rows_to_use(features, outcome, X_extra):
    """Rows with an outcome (and site/covariates when harmonising), and why others go."""
    y = features[outcome] if isinstance(outcome, str) else pd.Series(np.asarray(outcome),
                                                                      index=features.index)
    causes = pd.Series("", index=features.index, dtype=object)
    causes[y.isna().to_numpy()] = "missing outcome"
    for c in X_extra:
        bad = features[c].isna().to_numpy() & (causes == "").to_numpy()
        causes[bad] = f"missing {c}"
    return causes


def fit_radscore(features, outcome, *, columns=None, harmonize=None, outer_cv=5, inner_cv=5,
                 seed=0, threshold=0.9, l1_ratio=1.0, Cs=DEFAULT_CS, rule="1se", n_jobs=None,
                 max_missing=0.5, impute="median", confidence=0.95, cache=None):
    """Implementation of :func:`radnb.stats.radscore_model`."""
    import tempfile

    from joblib import Memory
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    from radnb._utils.intervals import resolve_confidence
    from radnb._utils.roc import delong

    check_option("rule", rule, ("1se", "best"))
    check_option("impute", impute, ("median", "mean", None))
    check_range("max_missing", max_missing, 0, 1)
    check_range("outer_cv", outer_cv, 2, None)
    check_range("inner_cv", inner_cv, 2, None)
    confidence = resolve_confidence(confidence, func="radscore_model")
    combat = _as_combat(harmonize) if harmonize is not None else None
    extra = [] if combat is None else [combat.batch_col, *combat.covariate_cols]
    if isinstance(features, pd.DataFrame):
        n_given = len(features)
        if combat is not None and any(c not in features for c in extra):
            raise ValueError(f"harmonize needs the column(s) {extra} in the features table.")
        causes = _rows_to_use(features, outcome, extra)
        dropped = causes != ""
        if dropped.any():
            kinds = causes[dropped].value_counts()
            warnings.warn(tr("radscore_model: left out {k} of {n} patients ({causes}); see "
                             "result.errors.").format(
                k=int(dropped.sum()), n=n_given, causes=", ".join(f"{k}: {v}" for k, v in kinds.items())),
                stacklevel=user_stacklevel())
            if not isinstance(outcome, str):
                outcome = np.asarray(outcome)[~dropped.to_numpy()]
            features = features.loc[~dropped]
        errors = pd.DataFrame({"row": causes.index[dropped], "cause": causes[dropped].to_numpy()})
    else:
        n_given, errors = len(features), pd.DataFrame({"row": [], "cause": []})
    X, y = split_xy(features, outcome, columns)
    features_in = X.shape[1]
    if combat is not None:
        X = pd.concat([features[[c for c in extra if c not in X.columns]], X], axis=1)
    if impute is None:
        bad = X.select_dtypes("number").isna().any(axis=1)
        if bad.any():
            more = pd.DataFrame({"row": X.index[bad], "cause": [
                "missing value in " + ", ".join(X.columns[X.loc[i].isna()][:3])
                for i in X.index[bad]]})
            errors = pd.concat([errors, more], ignore_index=True)
            warnings.warn(tr(
                "radscore_model: impute=None drops every patient with a missing feature value: "
                "left out {k} of {n}; see result.errors. The default "
                "(impute='median', max_missing=0.5) keeps them.").format(k=int(bad.sum()), n=n_given),
                stacklevel=user_stacklevel())
            X, y = X.loc[~bad], y[~bad.to_numpy()]
    if combat is not None:
        combat = _checked_combat(combat, X, y)
    counts = np.bincount(y, minlength=2)
    if min(counts) < outer_cv:
        raise ValueError(f"each outcome class needs at least outer_cv={outer_cv} cases; "
                         f"got {counts.tolist()}. Lower outer_cv.")
    if cache is None:  # the cache pays off when ComBat is in the pipeline (measured)
        cache = combat is not None
    with tempfile.TemporaryDirectory(prefix="radnb-cv-") as tmp, warnings.catch_warnings():
        # joblib's note that hashing a large table is slow is about the cache, not the user
        warnings.filterwarnings("ignore", message="Persisting input arguments",
                                category=UserWarning)
        # the transformers (missing filter, ComBat, scaling, correlation filter) do not depend
        # on C: caching them fits each once per training set instead of once per C
        memory = Memory(tmp, verbose=0) if cache else None
        pipe = build_pipeline(harmonize=combat, threshold=threshold, l1_ratio=l1_ratio,
                              seed=seed, max_missing=max_missing, impute=impute, memory=memory)
        inner = StratifiedKFold(inner_cv, shuffle=True, random_state=seed)
        search = GridSearchCV(pipe, {"model__C": list(Cs)}, cv=inner, scoring="roc_auc",
                              refit=one_se_rule if rule == "1se" else True, n_jobs=n_jobs)
        outer = StratifiedKFold(outer_cv, shuffle=True, random_state=seed)
        oof = pd.DataFrame({"outcome": y, "fold": -1, "probability": np.nan,
                            "radscore": np.nan}, index=X.index)
        rows, chosen = [], []
        for k, (train, te) in enumerate(outer.split(X, y)):
            est = search.fit(X.iloc[train], y[train]).best_estimator_
            prob = est.predict_proba(X.iloc[te])[:, 1]
            oof.iloc[te, 1:] = np.column_stack([np.full(len(te), k), prob,
                                                est.decision_function(X.iloc[te])])
            names = _selected(est)
            chosen.extend(names)
            rows.append({"fold": k, "n_train": len(train), "n_test": len(te),
                         "AUC": roc_auc_score(y[te], prob), "C": search.best_params_["model__C"],
                         "n_selected": len(names),
                         "n_features_dropped": len(_dropped(est))})
        final = search.fit(X, y).best_estimator_
        final.set_params(memory=None)
    oof["fold"] = oof["fold"].astype(int)
    folds = pd.DataFrame(rows)
    auc, auc_ci = _pooled_auc(oof, confidence, delong)
    freq = pd.Series(chosen, dtype=object).value_counts() / outer_cv
    coef = _coefficients(final)
    miss = final.named_steps.get("missing")
    return RadscoreResult(
        auc=auc, auc_ci=auc_ci, confidence=confidence,
        folds=folds, auc_mean=float(folds["AUC"].mean()),
        auc_fold_interval=(float(folds["AUC"].min()), float(folds["AUC"].max())),
        oof=oof, selection_frequency=freq.rename("frequency"), model=final,
        coefficients=coef, intercept=float(final.named_steps["model"].intercept_[0]),
        best_C=search.best_params_["model__C"], errors=errors, X=X, y=y,
        feature_names=list(X.columns),
        counts={"n_given": n_given, "n_used": int(len(y)), "n_events": int(y.sum()),
                "features_in": features_in,
                "features_kept": features_in - len(_dropped(final)),
                "features_selected": len(coef)},
        missing={"max_missing": max_missing if impute is not None else None, "impute": impute,
                 "dropped_features": _dropped(final),
                 "n_imputed": 0 if miss is None else miss.n_imputed_,
                 "passthrough": tuple(extra)},
    )


def _checked_combat(combat, X, y):
    """Run ComBat's warnings once on all rows; return a copy that stays quiet in the folds."""
    from sklearn.base import clone

    if getattr(combat, "warn", True):
        probe = clone(combat).set_params(warn=True)
        filled = X.fillna(X.median(numeric_only=True))  # a diagnostic fit only
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            probe.fit(filled, y).transform(filled)
        for w in caught:
            if issubclass(w.category, UserWarning) and str(w.message).startswith("ComBat"):
                warnings.warn(f"radscore_model(harmonize=...): {w.message}", UserWarning,
                              stacklevel=user_stacklevel())
    return clone(combat).set_params(warn=False)


def _pooled_auc(oof, confidence, delong):
    """AUC of the pooled out-of-fold predictions with its DeLong interval."""
    from scipy.stats import norm

    y = oof["outcome"].to_numpy().astype(bool)
    s = oof["probability"].to_numpy(float)
    pos, neg = s[None, y], s[None, ~y]
    aucs, cov = delong(pos, neg)
    se = float(np.sqrt(cov[0, 0]))
    z = norm.ppf(0.5 + confidence / 2)
    a = float(aucs[0])
    return a, (max(0.0, a - z * se), min(1.0, a + z * se))


def _dropped(est):
    step = est.named_steps.get("missing")
    return [] if step is None else list(step.dropped_)


def _selected(est):
    return list(_coefficients(est).index)


def _coefficients(est):
    model = est.named_steps["model"]
    names = est[:-1].get_feature_names_out()
    coef = pd.Series(model.coef_.ravel(), index=names)
    coef = coef[coef != 0]
    coef = coef.reindex(coef.abs().sort_values(ascending=False).index)
    return pd.DataFrame({"coef": coef, "OR": np.exp(coef)}).rename_axis("feature")


def leakage_table(features=None, outcome=None, *, n_samples=100, n_features=500, k=10, cv=5,
                  seed=0):
    """Implementation of :func:`radnb.stats.leakage_demo`."""
    from sklearn.feature_selection import SelectKBest, f_classif
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(seed)
    if features is None:
        X = rng.normal(size=(n_samples, n_features))
        y = rng.permutation(np.arange(n_samples) % 2)
        data = "pure noise"
    else:
        X, y = split_xy(features, outcome)
        X = X.to_numpy()
        y = rng.permutation(check_binary("outcome", y)) if outcome is not None else y
        data = "features with shuffled outcome"
    check_range("k", k, 1, X.shape[1])
    splitter = StratifiedKFold(cv, shuffle=True, random_state=seed)
    model = make_pipeline(StandardScaler(), LogisticRegression())
    chosen = SelectKBest(f_classif, k=k).fit(X, y).get_support()
    outside = cross_val_score(model, X[:, chosen], y, cv=splitter, scoring="roc_auc")
    honest = make_pipeline(StandardScaler(), SelectKBest(f_classif, k=k), LogisticRegression())
    inside = cross_val_score(honest, X, y, cv=splitter, scoring="roc_auc")
    return pd.DataFrame({
        "selection": ["outside CV (leaky)", "inside CV (honest)"],
        "AUC": [outside.mean(), inside.mean()],
        "AUC_sd": [outside.std(ddof=1), inside.std(ddof=1)],
        "data": data, "n_samples": X.shape[0], "n_features": X.shape[1], "k": k,
    })
