"""Keep reproducible features: the :class:`ICCFilter` transformer and summaries.

Public through :mod:`radnb.reproducibility`.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from radnb._utils.errors import user_stacklevel
from radnb._utils.validation import check_columns, check_option, check_range

__all__ = ["ICCFilter", "robust_summary", "filter_family"]

_SCORE = {"lower": "ci_low", "point": "ICC"}


def filter_family(image_type: str) -> str:
    """Group pyradiomics image types into filter families.

    ``'wavelet-LLH'`` -> ``'wavelet'``, ``'log-sigma-2-0-mm-3D'`` -> ``'log'``.
    """
    return str(image_type).split("-")[0]


def _scores(icc_table, ci):
    check_option("ci", ci, _SCORE)
    check_columns(icc_table, ["feature", _SCORE[ci]], what="icc_table")
    return icc_table.drop_duplicates("feature").set_index("feature")[_SCORE[ci]].astype(float)


class ICCFilter(TransformerMixin, BaseEstimator):
    """Keep the feature columns whose ICC reaches a threshold.

    Reproducibility is learned from a separate test-retest, inter-reader or
    perturbation table (``icc_table``, from :func:`feature_icc`) or, when
    ``icc_table`` is None, computed in :meth:`fit` from ``X`` itself, which
    must then hold repeated rows (identifier columns ``case_id`` and ``by``).
    Feature columns are recognised by :func:`radnb._utils.features.feature_columns`.

    Parameters
    ----------
    icc_table : pandas.DataFrame, optional
        Output of :func:`feature_icc` (columns ``feature``, ``ICC``, ``ci_low``).
    threshold : float, default 0.75
        Minimum ICC to keep a feature (0.75 = "good" reliability, Koo & Li 2016).
    ci : {"lower", "point"}, default "lower"
        Compare the lower 95% confidence limit (stricter, recommended by
        Koo & Li 2016) or the point estimate with ``threshold``.
    by : str, default "reader"
        Used only when ``icc_table`` is None (see :func:`feature_icc`).
    icc_type : str, default "ICC(2,1)"
        Used only when ``icc_table`` is None.
    passthrough : bool, default True
        Keep the non-feature columns (identifiers, clinical covariates such as
        ``age``) unchanged; if False they are dropped, leaving only the robust
        features (what a model inside a ``Pipeline`` usually needs).

    Attributes
    ----------
    scores_ : pandas.Series
        The ICC (or lower limit) of each feature of ``X``; ``NaN`` when the
        feature is absent from ``icc_table`` (such features are dropped).
    robust_features_ : list of str
        Feature columns kept.
    support_ : numpy.ndarray of bool
        Which input columns are kept.
    feature_names_in_, n_features_in_ : as in scikit-learn.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"feature": ["original_glcm_Contrast", "original_shape_Sphericity"],
    ...                       "ICC": [0.95, 0.60], "ci_low": [0.90, 0.40]})
    >>> X = pd.DataFrame({"age": [60, 70], "original_glcm_Contrast": [1.0, 2.0],
    ...                   "original_shape_Sphericity": [0.5, 0.6]})
    >>> ICCFilter(table, threshold=0.75).fit(X).get_feature_names_out().tolist()
    ['age', 'original_glcm_Contrast']
    """

    def __init__(self, icc_table=None, threshold=0.75, ci="lower", *, by="reader",
                 icc_type="ICC(2,1)", passthrough=True):
        self.icc_table = icc_table
        self.threshold = threshold
        self.ci = ci
        self.by = by
        self.icc_type = icc_type
        self.passthrough = passthrough

    def fit(self, X, y=None):
        """Decide which columns to keep (``X`` must be a DataFrame with feature names)."""
        from radnb._utils.features import feature_columns

        check_option("ci", self.ci, _SCORE)
        check_range("threshold", self.threshold, -1, 1)
        if not isinstance(X, pd.DataFrame):
            raise TypeError(
                f"ICCFilter.fit needs a pandas DataFrame with pyradiomics feature names; got "
                f"{type(X).__name__}. Pass the feature table, or use set_output(transform='pandas') "
                "on the steps before it."
            )
        table = self.icc_table
        if table is None:
            from radnb.reproducibility._feature_icc import feature_icc

            table = feature_icc(X, by=self.by, icc_type=self.icc_type)
        scores = _scores(table, self.ci)
        feats = feature_columns(X)
        if not feats:
            raise ValueError("X has no pyradiomics feature columns (e.g. 'original_glcm_Contrast').")
        self.scores_ = scores.reindex(feats)
        unknown = int(self.scores_.isna().sum())
        if unknown:
            warnings.warn(
                f"ICCFilter: {unknown} of {len(feats)} features have no ICC in icc_table (or an "
                "undefined one) and are dropped; compute the table on the same feature set.",
                UserWarning, stacklevel=user_stacklevel(),
            )
        robust = set(self.scores_.index[self.scores_ >= self.threshold])
        self.robust_features_ = [f for f in feats if f in robust]
        feat_set = set(feats)
        self.support_ = np.array([c in robust or (self.passthrough and c not in feat_set)
                                  for c in X.columns])
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        from radnb._utils.provenance import record  # what radnb.Study reports (no-op outside one)
        record("reproducibility.ICCFilter", threshold=self.threshold, ci=self.ci, by=self.by,
               icc_type=self.icc_type, n_features=len(feats), n_kept=len(self.robust_features_))
        return self

    def transform(self, X):
        """Return ``X`` restricted to the kept columns (a DataFrame for DataFrame input)."""
        check_is_fitted(self, "support_")
        names = self.get_feature_names_out()
        if isinstance(X, pd.DataFrame):
            check_columns(X, names, what="X")
            return X[list(names)]
        arr = np.asarray(X)
        if arr.ndim != 2 or arr.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has shape {arr.shape}; ICCFilter was fitted on {self.n_features_in_} columns. "
                "Pass a DataFrame with the same columns as in fit."
            )
        return arr[:, self.support_]

    def get_feature_names_out(self, input_features=None):
        """Names of the kept columns, in input order."""
        check_is_fitted(self, "support_")
        return self.feature_names_in_[self.support_]


def robust_summary(icc_table, threshold=0.75, *, ci="lower", by=("feature_class", "filter")):
    """Count robust features per group of an ICC table.

    Parameters
    ----------
    icc_table : pandas.DataFrame
        Output of :func:`feature_icc`.
    threshold : float, default 0.75
    ci : {"lower", "point"}, default "lower"
        As in :class:`ICCFilter`.
    by : tuple of str, default ("feature_class", "filter")
        Grouping columns; ``"filter"`` is the image-type family (``original``,
        ``log``, ``wavelet``, ...).

    Returns
    -------
    pandas.DataFrame
        ``by`` columns, ``n_features``, ``n_robust``, ``fraction_robust``.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"feature": ["a", "b"], "image_type": ["original", "wavelet-LLH"],
    ...                   "feature_class": ["glcm", "glcm"], "ICC": [0.9, 0.5], "ci_low": [0.8, 0.3]})
    >>> robust_summary(t, by=("feature_class",))[["n_features", "n_robust"]].values.tolist()
    [[2, 1]]
    """
    check_range("threshold", threshold, -1, 1)
    col = _SCORE[check_option("ci", ci, _SCORE)]
    table = icc_table.assign(filter=icc_table["image_type"].map(filter_family)) \
        if "image_type" in icc_table.columns else icc_table
    by = [by] if isinstance(by, str) else list(by)
    check_columns(table, by + [col], what="icc_table")
    robust = (table[col] >= threshold).rename("robust")
    out = (table.assign(robust=robust).groupby(by, sort=True)["robust"]
           .agg(n_features="size", n_robust="sum").reset_index())
    out["n_robust"] = out["n_robust"].astype(int)
    out["fraction_robust"] = out["n_robust"] / out["n_features"]
    return out
