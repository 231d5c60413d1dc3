"""Rad-score model in nested cross-validation, and the leakage demonstration."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from radnb.stats._selection import CorrelationFilter, penalised_logistic, split_xy
from radnb._utils.validation import check_binary, check_option, check_range

__all__ = ["DropColumns", "RadscoreResult", "build_pipeline", "fit_radscore", "leakage_table"]

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
    the sparsest model that is not clearly worse than the best one.
    """
    mean = np.asarray(cv_results["mean_test_score"], dtype=float)
    n_splits = sum(k.startswith("split") and k.endswith("_test_score") for k in cv_results)
    se = np.asarray(cv_results["std_test_score"], dtype=float) / np.sqrt(max(n_splits, 1))
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


def build_pipeline(*, harmonize=None, threshold=0.9, C=1.0, l1_ratio=1.0, seed=0):
    """[ComBat ->] scale -> correlation filter -> penalised logistic regression."""
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    steps = []
    if harmonize is not None:
        combat = _as_combat(harmonize)
        steps += [("combat", combat),
                  ("drop", DropColumns([combat.batch_col, *combat.covariate_cols]))]
    steps += [
        ("scale", StandardScaler()),
        ("filter", CorrelationFilter(threshold=threshold, relevance="auc")),
        ("model", penalised_logistic(C, l1_ratio, random_state=seed)),
    ]
    return Pipeline(steps).set_output(transform="pandas")


class RadscoreResult:
    """Result of :func:`radnb.stats.radscore_model` (fields are DataFrames or numbers).

    Attributes
    ----------
    folds : pandas.DataFrame
        One row per outer fold: ``fold``, ``n_train``, ``n_test``, ``AUC``,
        ``C`` (chosen by the inner CV), ``n_selected``.
    auc_mean : float
        Mean outer-fold AUC: the honest performance estimate.
    auc_ci : tuple of float
        95% t-interval of the mean over folds (approximate: folds share data).
    oof : pandas.DataFrame
        Out-of-fold ``outcome``, ``fold``, ``probability`` and ``radscore``
        (linear predictor) for every row; every prediction comes from a model
        that never saw that row.
    selection_frequency : pandas.Series
        Share of outer folds in which each feature was selected (stability).
    model : sklearn.pipeline.Pipeline
        The whole pipeline refitted on all rows (``C`` re-tuned by CV).
    coefficients : pandas.DataFrame
        Selected features of ``model``: ``coef`` (per SD of the feature) and
        ``OR`` (odds ratio per SD).
    intercept : float
    errors : pandas.DataFrame
        Rows left out (``row``, ``cause``), e.g. a missing feature value.
    """

    def __init__(self, **fields):
        self.__dict__.update(fields)

    @property
    def selected(self):
        """Names of the features in the final Rad-score."""
        return list(self.coefficients.index)

    def radscore(self, X):
        """Rad-score (log-odds) of new rows, from the final model."""
        return pd.Series(self.model.decision_function(X), index=getattr(X, "index", None),
                         name="radscore")

    def predict_proba(self, X):
        """Predicted probability of outcome = 1 for new rows, from the final model."""
        return self.model.predict_proba(X)[:, 1]

    def formula(self, digits=3):
        """The Rad-score as text: intercept + coefficients x standardised features."""
        terms = [f"{self.intercept:.{digits}f}"]
        for name, c in self.coefficients["coef"].items():
            terms.append(f"{'-' if c < 0 else '+'} {abs(c):.{digits}f} * z({name})")
        return ("Rad-score = " + " ".join(terms) + "\nwhere z(x) = (x - mean) / SD, with the "
                "mean and SD of the training data (model.named_steps['scale']).")

    def _design(self):
        """The standardised selected features, as the final model sees them."""
        Xt = self.X
        for name, step in self.model.steps[:-1]:
            Xt = step.transform(Xt)
        return Xt[self.selected]

    def logit(self):
        """Unpenalised statsmodels ``Logit`` refit on the selected (standardised) features."""
        import statsmodels.api as sm

        if not self.selected:
            raise ValueError("the final model selected no feature; there is nothing to summarise.")
        design = sm.add_constant(self._design(), has_constant="add")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = sm.Logit(self.y, design).fit(disp=0, maxiter=200)
        if caught or not res.mle_retvals.get("converged", True):
            warnings.warn(
                f"the unpenalised refit of {len(self.selected)} features on {len(self.y)} cases "
                "did "
                "not converge cleanly (likely (quasi-)separation); its odds ratios and p-values are "
                "unreliable. Prefer result.coefficients (penalised) or a stronger penalty "
                "(smaller Cs, rule='1se').", stacklevel=3)
        return res

    def summary(self, alpha=0.05):
        """Odds-ratio table of the selected features (statsmodels Logit; Wald CIs).

        p-values after selection on the same data are optimistic (post-selection
        inference); read them as descriptive, the honest estimate is ``auc_mean``.
        Columns: ``coef``, ``SE``, ``OR``, ``OR_low``, ``OR_high``, ``p-val``.
        """
        res = self.logit()
        ci = np.exp(res.conf_int(alpha))
        return pd.DataFrame({
            "coef": res.params, "SE": res.bse, "OR": np.exp(res.params),
            "OR_low": ci[0], "OR_high": ci[1], "p-val": res.pvalues,
        })

    def __repr__(self):
        lo, hi = self.auc_ci
        return (f"RadscoreResult(outer AUC {self.auc_mean:.3f} [95% CI {lo:.3f}-{hi:.3f}] over "
                f"{len(self.folds)} folds, {len(self.selected)} features in the final model)")

    def _repr_html_(self):
        return f"<p>{self!r}</p>" + self.folds.to_html(float_format="%.3f", index=False)


def fit_radscore(features, outcome, *, columns=None, harmonize=None, outer_cv=5, inner_cv=5,
                 seed=0, threshold=0.9, l1_ratio=1.0, Cs=DEFAULT_CS, rule="1se", n_jobs=None):
    """Implementation of :func:`radnb.stats.radscore_model`."""
    from scipy import stats
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    check_option("rule", rule, ("1se", "best"))
    check_range("outer_cv", outer_cv, 2, None)
    check_range("inner_cv", inner_cv, 2, None)
    X, y = split_xy(features, outcome, columns)
    if harmonize is not None:
        combat = _as_combat(harmonize)
        extra = [c for c in [combat.batch_col, *combat.covariate_cols] if c not in X.columns]
        if not isinstance(features, pd.DataFrame) or any(c not in features for c in extra):
            raise ValueError(f"harmonize needs the column(s) {extra} in the features table.")
        X = pd.concat([features[extra], X], axis=1)
    bad = X.select_dtypes("number").isna().any(axis=1)
    errors = pd.DataFrame({"row": X.index[bad], "cause": [
        "missing value in " + ", ".join(X.columns[X.loc[i].isna()][:3]) for i in X.index[bad]]})
    if bad.any():
        warnings.warn(f"{int(bad.sum())} row(s) with missing feature values were left out of the "
                      "Rad-score model; see result.errors.", stacklevel=3)
        X, y = X.loc[~bad], y[~bad.to_numpy()]
    if min(np.bincount(y, minlength=2)) < outer_cv:
        raise ValueError(f"each outcome class needs at least outer_cv={outer_cv} cases; "
                         f"got {np.bincount(y, minlength=2).tolist()}. Lower outer_cv.")
    pipe = build_pipeline(harmonize=harmonize, threshold=threshold, l1_ratio=l1_ratio, seed=seed)
    inner = StratifiedKFold(inner_cv, shuffle=True, random_state=seed)
    search = GridSearchCV(pipe, {"model__C": list(Cs)}, cv=inner, scoring="roc_auc",
                          refit=one_se_rule if rule == "1se" else True, n_jobs=n_jobs)
    outer = StratifiedKFold(outer_cv, shuffle=True, random_state=seed)
    oof = pd.DataFrame({"outcome": y, "fold": -1, "probability": np.nan, "radscore": np.nan},
                       index=X.index)
    rows, chosen = [], []
    for k, (tr, te) in enumerate(outer.split(X, y)):
        est = search.fit(X.iloc[tr], y[tr]).best_estimator_
        prob = est.predict_proba(X.iloc[te])[:, 1]
        oof.iloc[te, 1:] = np.column_stack([np.full(len(te), k), prob,
                                            est.decision_function(X.iloc[te])])
        names = _selected(est)
        chosen.extend(names)
        rows.append({"fold": k, "n_train": len(tr), "n_test": len(te),
                     "AUC": roc_auc_score(y[te], prob), "C": search.best_params_["model__C"],
                     "n_selected": len(names)})
    oof["fold"] = oof["fold"].astype(int)
    folds = pd.DataFrame(rows)
    mean, sem = folds["AUC"].mean(), folds["AUC"].std(ddof=1) / np.sqrt(outer_cv)
    half = stats.t.ppf(0.975, outer_cv - 1) * sem
    freq = pd.Series(chosen, dtype=object).value_counts() / outer_cv
    final = search.fit(X, y).best_estimator_
    coef = _coefficients(final)
    return RadscoreResult(
        folds=folds, auc_mean=float(mean), auc_ci=(float(mean - half), float(mean + half)),
        oof=oof, selection_frequency=freq.rename("frequency"), model=final,
        coefficients=coef, intercept=float(final.named_steps["model"].intercept_[0]),
        best_C=search.best_params_["model__C"], errors=errors, X=X, y=y,
    )


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
