"""Internal (cross-validated) versus external (held-out site) validation.

Public through :func:`radnb.evaluate.external_validation`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from radnb._utils.features import feature_columns
from radnb._utils.validation import check_binary, check_columns, check_option

__all__ = ["external_validation"]


def external_validation(features, outcome, site_col="site", test_site=None, model="radscore",
                        harmonize="both", *, feature_cols=None, covariate_cols=(),
                        combat_kwargs=None, cv=5, seed=0, alpha=None, confidence=0.95):
    """Train on some sites, test on a held-out site, with and without ComBat.

    For every held-out site, the model is evaluated twice: *internally* by
    stratified ``cv``-fold cross-validation on the training sites, and
    *externally* on the held-out site after fitting on all training sites.
    The drop from internal to external AUC shows how well the model travels.

    Harmonisation never sees the test outcome. Inside each training fold
    ComBat is fitted on the training rows only. The held-out site is unknown to
    a ComBat fitted on the training sites, so there are three options:
    (1) do not harmonise it; (2) re-fit ComBat on training plus test features
    (transductive: the training features then change with every new site);
    (3) keep the training fit fixed and estimate only the new site's location
    and scale from its own, unlabelled features
    (:meth:`radnb.harmonize.ComBat.add_site`), mapping it onto the training
    sites. radnb uses (3): it needs a batch of test cases (not one patient at a
    time) but no labels, and the trained model is not touched.

    Parameters
    ----------
    features : pandas.DataFrame
        One row per patient with the site column, feature columns (and the
        outcome column if ``outcome`` is a name).
    outcome : str or array-like of 0/1
    site_col : str, default "site"
    test_site : optional
        Site to hold out; default: each site in turn (leave-one-site-out).
    model : "radscore", RadscoreResult, "logistic" or scikit-learn classifier
        What is validated; it is refitted on the training sites for every
        held-out site and fold, so the test site never informs it.

        * ``"radscore"`` (default): the Rad-score procedure of
          :func:`radnb.stats.radscore_model` - missing-value filter,
          standardisation, correlation filter and LASSO logistic regression
          with the penalty chosen by inner 5-fold CV (1-SE rule).
        * a :class:`radnb.stats.RadscoreResult` (the Rad-score you fitted): its
          pipeline with the penalty it chose, on its own feature columns.
        * ``"logistic"``: ``StandardScaler`` + ``LogisticRegression`` (a
          quick baseline for a few named features).
        * any scikit-learn classifier (cloned for every fit) using the
          feature columns only.
    harmonize : {"both", True, False}, default "both"
    feature_cols : list of str, optional
        Default: the model's columns for a ``RadscoreResult``, else the
        pyradiomics feature columns (:func:`radnb.extract.feature_columns`).
    covariate_cols : sequence of str
        Biological covariates preserved by ComBat (never the outcome).
    combat_kwargs : dict, optional
        Other :class:`~radnb.harmonize.ComBat` parameters (``parametric``...).
    cv, seed : int
        Folds and seed of the internal cross-validation.
    alpha : float, optional
        Deprecated: use ``confidence`` (= 1 - alpha).
    confidence : float, default 0.95
        Level of the DeLong interval of the AUC.

    Returns
    -------
    pandas.DataFrame
        Tidy, one row per held-out site x harmonisation x validation:
        ``test_site``, ``harmonized``, ``validation`` (``"internal (CV)"`` or
        ``"external"``), ``n``, ``n_events``, ``AUC``, ``ci_low``, ``ci_high``
        (DeLong), ``Brier``, ``calibration_intercept``, ``calibration_slope``
        (see :func:`radnb.evaluate.calibration`; Hosmer-Lemeshow is not
        reported), ``error`` (why a value could not be computed, else empty).
        The AUC is kept whenever it is computable: a calibration that cannot
        be estimated (e.g. saturated or perfectly separated risks) leaves only
        its own columns ``NaN`` and says why in ``error``.

    Warns
    -----
    UserWarning
        When harmonising and the outcome rate differs between sites: ComBat
        then removes outcome signal too (say ``combat_kwargs={"warn": False}``
        to silence it once you have read it).

    Notes
    -----
    A site shift that moves all of a site's cases alike leaves the ranking
    inside that site - and so its AUC - largely intact, but ruins calibration
    (predicted risks are off for everyone). Look at the calibration columns as
    well as the AUC.

    Examples
    --------
    >>> table = external_validation(df, "outcome", test_site="C",  # doctest: +SKIP
    ...                             feature_cols=["original_firstorder_Mean"])
    """
    import warnings

    from radnb._utils.intervals import resolve_confidence
    from radnb.evaluate._calibration import calibration
    from radnb.evaluate._diagnostic import roc_auc_ci

    confidence = resolve_confidence(confidence, alpha, func="external_validation")
    check_option("harmonize", harmonize, ("both", True, False))
    check_columns(features, [site_col, *covariate_cols], what="features")
    if isinstance(outcome, str):
        check_columns(features, [outcome], what="features")
        outcome = features[outcome]
    y = check_binary("outcome", np.asarray(outcome))
    if y.size != len(features):
        raise ValueError(f"outcome must have one value per row of features ({len(features)}).")
    model, model_cols = _resolve_model(model, seed)
    if feature_cols is not None:
        cols = list(feature_cols)
    elif model_cols is not None:
        cols = model_cols
    else:
        cols = feature_columns(features)
    if not cols:
        raise ValueError("no feature columns found; pass feature_cols=[...].")
    check_columns(features, cols, what="features")
    data = features[[site_col, *covariate_cols, *cols]].reset_index(drop=True)
    sites = sorted(data[site_col].unique(), key=str)
    tests = sites if test_site is None else [test_site]
    for s in tests:
        if s not in sites:
            raise ValueError(f"test_site {s!r} is not in column {site_col!r}; sites are {sites}.")
    modes = [False, True] if harmonize == "both" else [harmonize]
    if True in modes and (combat_kwargs or {}).get("warn", True):
        from radnb.harmonize._guards import warn_site_outcome

        warn_site_outcome(data[site_col].to_numpy(), y)
    kw = {"batch_col": site_col, "covariate_cols": tuple(covariate_cols), "warn": False,
          **(combat_kwargs or {})}
    rows = []
    for s in tests:
        is_test = (data[site_col] == s).to_numpy()
        for h in modes:
            for validation in ("internal (CV)", "external"):
                row = {"test_site": s, "harmonized": h, "validation": validation}
                try:
                    if validation == "external":
                        prob = _fit_predict(model, kw, data[~is_test], y[~is_test],
                                            data[is_test], cols, h, new_site=True)
                        yy = y[is_test]
                    else:
                        prob, yy = _cross_validate(model, kw, data[~is_test], y[~is_test],
                                                   cols, h, cv, seed)
                    auc = roc_auc_ci(yy, prob, confidence=confidence).iloc[0]
                    row.update(n=yy.size, n_events=int(yy.sum()), AUC=auc["AUC"],
                               ci_low=auc["ci_low"], ci_high=auc["ci_high"], error="")
                except ValueError as exc:  # e.g. a site with one class only
                    n = int(is_test.sum() if validation == "external" else (~is_test).sum())
                    row.update(n=n, n_events=np.nan, AUC=np.nan, ci_low=np.nan,
                               ci_high=np.nan, error=str(exc))
                    prob = None
                row.update(Brier=np.nan, calibration_intercept=np.nan,
                           calibration_slope=np.nan)
                if prob is not None:
                    sample = "external" if validation == "external" else "development"
                    with warnings.catch_warnings(record=True) as caught:
                        warnings.simplefilter("always")
                        cal = calibration(yy, prob, sample=sample).summary
                    cal = cal.set_index("measure")
                    row.update(Brier=cal.loc["Brier", "statistic"],
                               calibration_intercept=cal.loc["intercept", "statistic"],
                               calibration_slope=cal.loc["slope", "statistic"])
                    notes = [n for n in cal["note"] if n]
                    if notes:
                        row["error"] = "calibration: " + "; ".join(dict.fromkeys(notes))
                    for w in caught:
                        if not issubclass(w.category, UserWarning):
                            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
                rows.append(row)
    from radnb._utils.provenance import record  # what radnb.Study reports (no-op outside one)
    record("evaluate.external_validation", site_col=site_col, sites=[str(s) for s in sites],
           test_sites=[str(s) for s in tests], harmonize=harmonize, cv=cv,
           covariates=list(covariate_cols), n_features=len(cols),
           results=pd.DataFrame(rows).astype({"test_site": str}).to_dict("records"))
    return pd.DataFrame(rows)


def _resolve_model(model, seed):
    """(estimator to clone, its own feature columns or None) for ``model``."""
    from sklearn.base import clone

    if isinstance(model, str):
        check_option("model", model, ("radscore", "logistic"))
        if model == "logistic":
            from sklearn.linear_model import LogisticRegression
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import StandardScaler

            return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)), None
        from sklearn.model_selection import GridSearchCV, StratifiedKFold

        from radnb.stats._radscore import DEFAULT_CS, build_pipeline, one_se_rule

        search = GridSearchCV(build_pipeline(seed=seed), {"model__C": list(DEFAULT_CS)},
                              cv=StratifiedKFold(5, shuffle=True, random_state=seed),
                              scoring="roc_auc", refit=one_se_rule)
        return search, None
    if hasattr(model, "feature_names") and hasattr(model, "model") and hasattr(model, "counts"):
        pipe = model.model
        if "combat" in pipe.named_steps:
            raise ValueError(
                "this Rad-score was fitted with harmonize=...: its pipeline holds a ComBat fitted "
                "on all sites. Refit it without harmonize and let external_validation harmonise "
                "(harmonize=True or 'both').")
        passthrough = set(model.missing.get("passthrough", ()))
        return clone(pipe), [c for c in model.feature_names if c not in passthrough]
    if not (hasattr(model, "fit") and hasattr(model, "predict_proba")):
        raise TypeError(
            "model must be 'radscore', 'logistic', a RadscoreResult or a scikit-learn classifier "
            f"with predict_proba; got {type(model).__name__}.")
    return model, None


def _fit_predict(model, combat_kw, train, y_train, test, cols, harmonize, new_site=False):
    from sklearn.base import clone

    from radnb.harmonize import ComBat

    if harmonize:
        cb = ComBat(**combat_kw).fit(train)
        train = cb.transform(train)
        if new_site:
            cb.add_site(test)
        test = cb.transform(test)
    est = clone(model).fit(train[cols], y_train)
    return est.predict_proba(test[cols])[:, 1]


def _cross_validate(model, combat_kw, data, y, cols, harmonize, cv, seed):
    from sklearn.model_selection import StratifiedKFold

    prob = np.empty(y.size)
    folds = StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed)
    for tr, te in folds.split(data, y):
        prob[te] = _fit_predict(model, combat_kw, data.iloc[tr], y[tr], data.iloc[te], cols,
                                harmonize)
    return prob, y
