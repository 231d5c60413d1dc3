"""ComBat harmonisation as a leak-free scikit-learn transformer.

Public names are re-exported by :mod:`radnb.harmonize`, which documents the step.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

import radnb.harmonize._combat_math as _combat
from radnb._utils.features import feature_columns
from radnb._utils.i18n import tr
from radnb._utils.validation import check_columns
from radnb.harmonize._guards import warn_lost_positivity, warn_site_outcome



class ComBat(TransformerMixin, BaseEstimator):
    """ComBat harmonisation as a scikit-learn transformer (no leakage).

    ``fit`` learns per-site location/scale (``gamma_star_``, ``delta_star_``),
    the grand mean, pooled variance and covariate effects from training rows
    only; ``transform`` applies them to any rows from the same sites. The input
    is a DataFrame carrying the site column, the covariate columns and the
    features. Harmonised columns are the pyradiomics feature columns
    (:func:`radnb._utils.features.feature_columns`); if there are none, every numeric
    column except the site and covariates. All other columns pass through
    unchanged, in place.

    Parameters
    ----------
    batch_col : str, default "site"
    covariate_cols : sequence of str, default ()
        Biological covariates to preserve (see :func:`combat` for coding).
        They must be known at prediction time; never the outcome.
    log_transform : bool, default False
        Harmonise features that are strictly positive in the training rows
        (volumes, energies) on the log scale and transform back, so they stay
        positive (``log_features_`` lists them).
    warn : bool, default True
        Warn when the outcome ``y`` given to ``fit`` differs by site, and when
        strictly positive features get values <= 0 in ``transform``.
    parametric, eb, mean_only, ref_batch
        As in :func:`combat`. Note that parametric ``mean_only=True`` shrinks
        site shifts strongly (with ``n = 1`` in the prior, as sva and
        neuroCombat do), so large shifts in a few features are only partly
        removed; see the Notes of :func:`combat`.

    Attributes
    ----------
    feature_names_in_ : ndarray of str
    features_ : list of str
        Columns that are harmonised.
    sites_ : ndarray
        Known sites (rows of ``gamma_star_`` and ``delta_star_``).
    gamma_star_, delta_star_ : pandas.DataFrame
        Site x feature location and scale (standardised units).
    grand_mean_, var_pooled_ : pandas.Series
    positive_, log_features_ : ndarray of bool
        Features strictly positive in the training rows; those harmonised on
        the log scale.
    beta_covariates_ : pandas.DataFrame
        Covariate design column x feature effects.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"site": np.repeat(["A", "B"], 20),
    ...                    "original_firstorder_Mean": rng.normal(size=40),
    ...                    "original_glcm_Contrast": rng.normal(size=40)})
    >>> df.loc[df.site == "B", "original_firstorder_Mean"] += 3
    >>> cb = ComBat().fit(df.iloc[::2])
    >>> out = cb.transform(df.iloc[1::2])
    >>> list(out.columns) == list(df.columns)
    True
    """

    def __init__(self, batch_col="site", covariate_cols=(), parametric=True, eb=True,
                 mean_only=False, ref_batch=None, log_transform=False, warn=True):
        self.batch_col = batch_col
        self.covariate_cols = covariate_cols
        self.parametric = parametric
        self.eb = eb
        self.mean_only = mean_only
        self.ref_batch = ref_batch
        self.log_transform = log_transform
        self.warn = warn

    def fit(self, X, y=None):
        """Learn site parameters from the training rows of ``X``.

        ``y`` (the outcome, as a ``Pipeline`` passes it) is never used for the
        harmonisation; when given and ``warn=True``, ComBat warns if the outcome
        rate differs between sites (it would then remove outcome signal too).
        """
        X = _as_frame(X)
        check_columns(X, [self.batch_col, *self.covariate_cols], what="ComBat input")
        if self.warn and y is not None:
            warn_site_outcome(X[self.batch_col].to_numpy(), y)
        return self._fit(X, self._pick_features(X))

    def _fit(self, X, features):
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        self.features_ = list(features)
        raw = X[self.features_].to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            self.positive_ = np.nanmin(raw, axis=0) > 0 if len(raw) else np.zeros(0, bool)
        self.log_features_ = self.positive_.copy() if self.log_transform else \
            np.zeros(len(self.features_), bool)
        site = X[self.batch_col]
        if site.isna().any():
            raise ValueError(f"column {self.batch_col!r} has missing sites; fill or drop those rows.")
        self.sites_ = np.asarray(sorted(site.unique(), key=str), dtype=object)
        counts = site.value_counts()
        small = counts[counts < 2]
        if len(small):
            raise ValueError(
                f"ComBat needs at least 2 cases per site; site(s) {list(small.index)} have "
                f"{list(small.to_numpy())}. Merge them with a similar site or drop them."
            )
        ref = None
        if self.ref_batch is not None:
            if self.ref_batch not in set(self.sites_):
                raise ValueError(f"ref_batch {self.ref_batch!r} is not a site in {self.batch_col!r}; "
                                 f"sites are {list(self.sites_)}.")
            ref = list(self.sites_).index(self.ref_batch)
        self.covariate_levels_ = {
            c: _levels(X[c]) for c in self.covariate_cols if _is_categorical(X[c])
        }
        cov = self._covariate_design(X)
        if cov is not None:
            onehot = pd.get_dummies(site).to_numpy(float)
            full = np.hstack([onehot, cov.to_numpy()])
            if np.linalg.matrix_rank(full) < full.shape[1]:
                raise ValueError(
                    f"covariates {list(self.covariate_cols)} are confounded with {self.batch_col!r} "
                    "(e.g. a level occurring at one site only, or constant); ComBat cannot tell "
                    "their effect from the site effect. Drop or merge that covariate."
                )
        y_arr = self._values(X)
        codes = self._codes(site, self.sites_)
        p = _combat.fit_combat(
            y_arr, codes, len(self.sites_), None if cov is None else cov.to_numpy(),
            parametric=self.parametric, eb=self.eb, mean_only=self.mean_only, ref=ref,
        )
        self._params = p
        feats = self.features_
        self.gamma_star_ = pd.DataFrame(p["gamma_star"], index=self.sites_, columns=feats)
        self.delta_star_ = pd.DataFrame(p["delta_star"], index=self.sites_, columns=feats)
        self.grand_mean_ = pd.Series(p["grand_mean"], index=feats)
        self.var_pooled_ = pd.Series(p["var_pooled"], index=feats)
        names = [] if cov is None else list(cov.columns)
        self.beta_covariates_ = pd.DataFrame(p["beta_cov"], index=names, columns=feats)
        from radnb._utils.provenance import record  # what radnb.Study reports (no-op outside one)
        record("harmonize.ComBat", batch_col=self.batch_col.removeprefix("__"),
               covariates=[c.removeprefix("__cov_") for c in self.covariate_cols],
               parametric=bool(self.parametric), eb=bool(self.eb and len(feats) >= 2), mean_only=bool(self.mean_only),
               ref_batch=None if self.ref_batch is None else str(self.ref_batch),
               n_sites=len(self.sites_), sites=[str(s) for s in self.sites_], n_features=len(feats))
        return self

    def transform(self, X):
        """Harmonise rows of ``X`` from known sites; other columns pass through.

        Raises
        ------
        ValueError
            For a site not seen in ``fit`` (name given), or missing columns.
        """
        check_is_fitted(self, "gamma_star_")
        X = _as_frame(X)
        check_columns(X, [self.batch_col, *self.covariate_cols, *self.features_], what="ComBat input")
        site = X[self.batch_col]
        unknown = sorted(set(site.unique()) - set(self.sites_), key=str)
        if unknown:
            raise ValueError(tr(
                "site(s) {unknown} were not in the data ComBat was fitted on (known: {known}). Fit "
                "on data including them, or estimate them from their own unlabelled cases with "
                "ComBat.add_site(X_new_site).").format(unknown=unknown, known=list(self.sites_)))
        cov = self._covariate_design(X)
        out = _combat.adjust(
            self._values(X), None if cov is None else cov.to_numpy(),
            self._codes(site, self.gamma_star_.index),
            self.gamma_star_.to_numpy(), self.delta_star_.to_numpy(), self._params,
        )
        logged = getattr(self, "log_features_", np.zeros(len(self.features_), bool))
        out[:, logged] = np.exp(out[:, logged])
        raw = X[self.features_].to_numpy(dtype=float)
        if self.ref_batch is not None:  # exactly unchanged, not up to rounding
            keep = (site == self.ref_batch).to_numpy()
            out[keep] = raw[keep]
        if self.warn:
            positive = getattr(self, "positive_", np.zeros(len(self.features_), bool))
            warn_lost_positivity(raw[:, positive], out[:, positive],
                                 [f for f, p in zip(self.features_, positive) if p])
        return _replace_columns(X, self.features_, out)

    def add_site(self, X):
        """Learn the parameters of new site(s) from their own, unlabelled cases.

        ComBat cannot harmonise a site it has not seen. For an external site,
        this estimates its location/scale (with the same empirical Bayes
        settings) after standardising with the *training* grand mean, pooled
        variance and covariate effects, which stay fixed: the new site is
        mapped onto the training sites. It uses features (and covariates) of
        the new site only - no outcome - so it is legitimate before testing,
        provided enough cases (ideally 20 or more) are available.

        Parameters
        ----------
        X : pandas.DataFrame
            Cases of the new site(s), with the site, covariate and feature columns.

        Returns
        -------
        self
        """
        check_is_fitted(self, "gamma_star_")
        X = _as_frame(X)
        check_columns(X, [self.batch_col, *self.covariate_cols, *self.features_], what="ComBat input")
        known = sorted(set(X[self.batch_col].unique()) & set(self.sites_), key=str)
        if known:
            raise ValueError(f"site(s) {known} are already known to this ComBat; add_site is for "
                             "new sites only (refit to change a known site).")
        cov = self._covariate_design(X)
        z = _combat.standardize(self._values(X), None if cov is None else cov.to_numpy(),
                                self._params)
        z = z[:, ~self._params["constant"]]
        for s in sorted(X[self.batch_col].unique(), key=str):
            rows = (X[self.batch_col] == s).to_numpy()
            if rows.sum() < 2:
                raise ValueError(f"site {s!r} has {rows.sum()} case; add_site needs at least 2.")
            est = _combat.estimate_site(z[rows], parametric=self.parametric, eb=self.eb,
                                        mean_only=self.mean_only)
            g = pd.Series(0.0, index=self.features_)
            d = pd.Series(1.0, index=self.features_)
            g[~self._params["constant"]] = est["gamma_star"]
            d[~self._params["constant"]] = est["delta_star"]
            self.gamma_star_.loc[s] = g
            self.delta_star_.loc[s] = d
        self.sites_ = np.asarray(self.gamma_star_.index, dtype=object)
        return self

    def get_feature_names_out(self, input_features=None):
        """Column names of the output (the input's, unchanged)."""
        check_is_fitted(self, "feature_names_in_")
        return np.asarray(self.feature_names_in_, dtype=object)

    # helpers ------------------------------------------------------------
    def _pick_features(self, X):
        feats = feature_columns(X)
        if not feats:
            skip = {self.batch_col, *self.covariate_cols}
            feats = [c for c in X.columns
                     if c not in skip and pd.api.types.is_numeric_dtype(X[c])
                     and not pd.api.types.is_bool_dtype(X[c])]
        if not feats:
            raise ValueError("ComBat found no numeric feature columns to harmonise.")
        return feats

    def _values(self, X):
        vals = X[self.features_].to_numpy(dtype=float)
        bad = np.isnan(vals).any(axis=0)
        if bad.any():
            names = [c for c, b in zip(self.features_, bad) if b][:5]
            raise ValueError(f"ComBat cannot use missing values; features {names} have NaN. "
                             "Impute or drop them first.")
        logged = getattr(self, "log_features_", None)
        if logged is not None and logged.any():
            sub = vals[:, logged]
            if (sub <= 0).any():
                names = [f for f, m in zip(np.asarray(self.features_)[logged],
                                           (sub <= 0).any(axis=0)) if m][:5]
                raise ValueError(
                    f"log_transform=True: features {names} were positive in the training data but "
                    "have values <= 0 here; their log is undefined. Check these cases.")
            vals = vals.copy()
            vals[:, logged] = np.log(sub)
        return vals

    @staticmethod
    def _codes(site, sites):
        lookup = {s: i for i, s in enumerate(sites)}
        return site.map(lookup).to_numpy(int)

    def _covariate_design(self, X):
        if not self.covariate_cols:
            return None
        parts = []
        for c in self.covariate_cols:
            if c in self.covariate_levels_:
                levels = self.covariate_levels_[c]
                values = X[c].astype(object)
                new = sorted(set(values.dropna()) - set(levels), key=str)
                if new or values.isna().any():
                    raise ValueError(f"covariate {c!r} has values {new or ['missing']} not seen in "
                                     f"fit (known: {levels}).")
                for lev in levels[1:]:
                    parts.append(pd.Series((values == lev).astype(float).to_numpy(),
                                           name=f"{c}[{lev}]"))
            else:
                v = pd.to_numeric(X[c], errors="raise").astype(float)
                if v.isna().any():
                    raise ValueError(f"covariate {c!r} has missing values; impute or drop them.")
                parts.append(pd.Series(v.to_numpy(), name=c))
        return pd.concat(parts, axis=1)


def _as_frame(X):
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame of features, got {type(X).__name__}.")
    return X


def _is_categorical(s):
    return not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s) or isinstance(
        s.dtype, pd.CategoricalDtype)


def _levels(s):
    if isinstance(s.dtype, pd.CategoricalDtype):
        return [lev for lev in s.cat.categories if (s == lev).any()]
    return sorted(s.dropna().unique().tolist(), key=str)


def _replace_columns(X, columns, values):
    """``X`` with ``columns`` replaced by the 2-D array ``values``, built in one block.

    Assigning hundreds of columns one by one fragments the frame and makes every
    later column access slow; this keeps one float block and the column order.
    """
    new = pd.DataFrame(values, index=X.index, columns=list(columns))
    replaced = set(columns)
    rest = [c for c in X.columns if c not in replaced]
    return pd.concat([X[rest], new], axis=1)[list(X.columns)]
