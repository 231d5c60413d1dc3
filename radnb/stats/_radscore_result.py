"""The result of :func:`radnb.stats.radscore_model`: estimates, counts and the fitted model."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from radnb._utils.errors import user_stacklevel
from radnb._utils.i18n import tr

__all__ = ["RadscoreResult"]


class RadscoreResult:
    """Result of :func:`radnb.stats.radscore_model` (fields are DataFrames or numbers).

    Attributes
    ----------
    auc : float
        AUC of the pooled out-of-fold predictions (every patient predicted by a
        model that never saw them): the honest performance estimate.
    auc_ci : tuple of float
        DeLong confidence interval of ``auc`` (level ``confidence``, default
        95%). It treats the pooled out-of-fold predictions as one sample; like
        every cross-validation interval it ignores the variability of refitting
        on other data, so read it as approximate (Bates, Hastie & Tibshirani,
        J Am Stat Assoc 2024).
    auc_mean : float
        Mean of the outer-fold AUCs.
    auc_fold_interval : tuple of float
        Lowest and highest outer-fold AUC: how much the AUC moved between
        folds. It is *not* a confidence interval (folds share training
        patients, so a t-interval over fold AUCs would be too narrow and is
        not reported); use ``auc_ci``.
    folds : pandas.DataFrame
        One row per outer fold: ``fold``, ``n_train``, ``n_test``, ``AUC``,
        ``C`` (chosen by the inner CV), ``n_selected``, ``n_features_dropped``
        (by the missing-value filter).
    oof : pandas.DataFrame
        Out-of-fold ``outcome``, ``fold``, ``probability`` and ``radscore``
        (linear predictor) for every row used.
    selection_frequency : pandas.Series
        Share of outer folds in which each feature was selected (stability).
    model : sklearn.pipeline.Pipeline
        The whole pipeline refitted on all rows used (``C`` re-tuned by CV).
    coefficients : pandas.DataFrame
        Selected features of ``model``: ``coef`` (per SD) and ``OR``.
    intercept : float
    counts : dict
        ``n_given``, ``n_used`` (patients), ``n_events``, ``features_in``,
        ``features_kept`` (after the missing-value filter of the final model),
        ``features_selected``.
    missing : dict
        Missing-data settings and what they did in the final model:
        ``max_missing``, ``impute``, ``dropped_features``, ``n_imputed``.
    errors : pandas.DataFrame
        Rows left out (``row``, ``cause``), e.g. a missing outcome.
    feature_names : list of str
        Columns the model needs, in order (``predict_proba`` selects them by name).
    """

    def __init__(self, **fields):
        self.__dict__.update(fields)

    @property
    def selected(self):
        """Names of the features in the final Rad-score."""
        return list(self.coefficients.index)

    def _align(self, table):
        """The model's columns of ``table``, selected by name (extra columns are ignored)."""
        if not isinstance(table, pd.DataFrame):
            arr = np.asarray(table, dtype=float)
            if arr.ndim != 2 or arr.shape[1] != len(self.feature_names):
                raise ValueError(
                    f"pass a DataFrame with the model's {len(self.feature_names)} columns by name "
                    f"(e.g. {self.feature_names[:3]}); got an array of shape {arr.shape}.")
            return pd.DataFrame(arr, columns=self.feature_names)
        missing = [c for c in self.feature_names if c not in table.columns]
        if missing:
            raise ValueError(
                f"the table lacks {len(missing)} of the model's {len(self.feature_names)} feature "
                f"columns: {missing[:8]}{' ...' if len(missing) > 8 else ''}. Extract the same "
                "features (same names, same settings) for the new patients; result.feature_names "
                "lists them all.")
        X = table[self.feature_names]
        numeric = [c for c in self.feature_names if c not in self._passthrough]
        return X.astype({c: float for c in numeric})

    @property
    def _passthrough(self):
        return tuple(self.missing.get("passthrough", ()))

    def radscore(self, table):
        """Rad-score (log-odds) of new rows from the final model; columns matched by name."""
        X = self._align(table)
        return pd.Series(self.model.decision_function(X), index=X.index, name="radscore")

    def predict_proba(self, table):
        """Probability of outcome = 1 for new rows (e.g. an external cohort).

        The model's feature columns are selected from ``table`` by name (other
        columns are ignored); a missing column is an error naming it. Missing
        values are imputed with the training values of the final model.

        Returns
        -------
        numpy.ndarray
            One probability per row.

        Examples
        --------
        >>> p_external = res.predict_proba(external_table)  # doctest: +SKIP
        """
        return self.model.predict_proba(self._align(table))[:, 1]

    def predict(self, table, threshold=0.5):
        """0/1 prediction (probability >= ``threshold``) for new rows; columns matched by name."""
        return (self.predict_proba(table) >= threshold).astype(int)

    @property
    def scaling(self):
        """The numbers a paper needs to recompute the Rad-score (one row per selected feature).

        Columns: ``coef`` (per SD, as in :meth:`formula`), ``mean`` and ``SD``
        (of the training data, as the model's ``StandardScaler`` learnt them:
        population SD, ``ddof=0``; after ComBat when the model harmonises), and
        ``coef_raw`` = ``coef / SD``, the weight per unit of the raw feature.
        ``attrs["intercept_raw"]`` is the matching intercept
        ``intercept - sum(coef * mean / SD)``.
        """
        scale = self.model.named_steps["scale"]
        names = list(scale.feature_names_in_)
        mean = pd.Series(scale.mean_, index=names).reindex(self.selected)
        sd = pd.Series(scale.scale_, index=names).reindex(self.selected)
        coef = self.coefficients["coef"]
        out = pd.DataFrame({"coef": coef, "mean": mean, "SD": sd, "coef_raw": coef / sd})
        out.attrs["intercept_raw"] = float(self.intercept - (coef * mean / sd).sum())
        return out

    def formula(self, digits=3):
        """The Rad-score as text, with the mean and SD of every feature (what a paper needs).

        Examples
        --------
        >>> print(res.formula())  # doctest: +SKIP
        Rad-score = -0.412 + 0.871 * z(original_firstorder_Entropy) ...
        """
        terms = [f"{self.intercept:.{digits}f}"]
        for name, c in self.coefficients["coef"].items():
            terms.append(f"{'-' if c < 0 else '+'} {abs(c):.{digits}f} * z({name})")
        text = "Rad-score = " + " ".join(terms)
        if not self.selected:
            return text + "\n" + tr("(no feature selected: the Rad-score is a constant)")
        tab = self.scaling
        width = max(len(n) for n in tab.index)
        if "combat" in self.model.named_steps:
            where = tr("where z(x) = (x - mean) / SD, with the mean and SD of the {n} training "
                       "patients after ComBat harmonisation (SD with ddof=0):")
        else:
            where = tr("where z(x) = (x - mean) / SD, with the mean and SD of the {n} training "
                       "patients (SD with ddof=0):")
        feature, mean = tr("feature"), tr("mean")
        lines = [text, where.format(n=len(self.y)), f"  {feature:<{width}}  {mean:>12}  {'SD':>12}"]
        lines += [f"  {n:<{width}}  {r['mean']:>12.6g}  {r['SD']:>12.6g}" for n, r in tab.iterrows()]
        return "\n".join(lines)

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
            raise ValueError(tr("the final model selected no feature; there is nothing to summarise."))
        design = sm.add_constant(self._design(), has_constant="add")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = sm.Logit(self.y, design).fit(disp=0, maxiter=200)
        if caught or not res.mle_retvals.get("converged", True):
            warnings.warn(
                tr("the unpenalised refit of {n} features on {cases} cases "
                   "did not converge cleanly (likely (quasi-)separation); its odds ratios and "
                   "p-values are unreliable. Prefer result.coefficients (penalised) or a stronger "
                   "penalty (smaller Cs, rule='1se').").format(n=len(self.selected), cases=len(self.y)),
                stacklevel=user_stacklevel())
        return res

    def summary(self, alpha=None, *, confidence=0.95):
        """Odds-ratio table of the selected features (statsmodels Logit; Wald CIs).

        p-values after selection on the same data are optimistic (post-selection
        inference); read them as descriptive, the honest estimate is ``auc``.
        Columns: ``coef``, ``SE``, ``OR``, ``OR_low``, ``OR_high``, ``CI95%``
        (of the OR; named after ``confidence``), ``p-val``. ``alpha`` is
        deprecated (``confidence = 1 - alpha``).
        """
        from radnb._utils.intervals import ci_cell, ci_column, resolve_confidence

        confidence = resolve_confidence(confidence, alpha, func="summary")
        res = self.logit()
        ci = np.exp(res.conf_int(1 - confidence))
        return pd.DataFrame({
            "coef": res.params, "SE": res.bse, "OR": np.exp(res.params),
            "OR_low": ci[0], "OR_high": ci[1],
            ci_column(confidence): [ci_cell(lo, hi) for lo, hi in zip(ci[0], ci[1])],
            "p-val": res.pvalues,
        })

    def _counts_text(self):
        c = self.counts
        return (f"{c['n_used']} of {c['n_given']} patients used ({c['n_events']} events); "
                f"{c['features_in']} features in, {c['features_kept']} kept after the "
                f"missing-value filter, {c['features_selected']} in the final model")

    def _auc_text(self):
        lo, hi = self.auc_ci
        flo, fhi = self.auc_fold_interval
        level = f"{100 * self.confidence:g}%"
        return (f"out-of-fold AUC {self.auc:.3f} ({level} DeLong CI {lo:.3f}-{hi:.3f}); mean of "
                f"{len(self.folds)} fold AUCs {self.auc_mean:.3f} (range {flo:.3f}-"
                f"{fhi:.3f} across folds, not a confidence interval)")

    def __repr__(self):
        return f"RadscoreResult({self._auc_text()};\n  {self._counts_text()})"

    def _repr_html_(self):
        import html

        return (f"<p><b>Rad-score</b>: {html.escape(self._auc_text())}.<br>"
                f"{html.escape(self._counts_text())}.</p>"
                + self.folds.to_html(float_format="%.3f", index=False))
