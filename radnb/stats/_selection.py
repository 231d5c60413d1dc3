"""Univariate screening and feature-selection transformers behind :mod:`radnb.stats`.

Everything that learns from data is a scikit-learn transformer (learning in
``fit``, state in attributes ending in ``_``), so it can sit inside a
``Pipeline`` and be refitted in every cross-validation fold.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.feature_selection import SelectorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from radnb._utils.errors import user_stacklevel
from radnb._utils.features import ID_COLUMNS, feature_columns
from radnb._utils.i18n import tr
from radnb._utils.validation import check_binary, check_columns, check_option, check_range

__all__ = ["split_xy", "univariate", "rank_auc", "CorrelationFilter", "LassoSelector"]


def split_xy(data, outcome, columns=None):
    """Return ``(X, y)``: the feature columns of ``data`` as floats and ``outcome`` as 0/1.

    ``outcome`` is a column name of ``data`` or an array of length ``len(data)``.
    Without ``columns``, the pyradiomics feature columns are used, or, when the
    table has none (e.g. a published feature table), every numeric column other
    than the outcome and the identifier columns.
    """
    if not isinstance(data, pd.DataFrame):
        arr = np.asarray(data, dtype=float)
        data = pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])
    if isinstance(outcome, str):
        check_columns(data, [outcome], what="features table")
        y = data[outcome].to_numpy()
        data = data.drop(columns=outcome)
    else:
        y = np.asarray(outcome)
        if len(y) != len(data):
            raise ValueError(
                f"outcome has {len(y)} values but the features table has {len(data)} rows; "
                "pass one outcome per row (or the name of the outcome column)."
            )
    if columns is None:
        columns = feature_columns(data) or [
            c for c in data.select_dtypes("number").columns if c not in ID_COLUMNS
        ]
    else:
        columns = list(columns)
        check_columns(data, columns, what="features table")
    if not columns:
        raise ValueError(
            "no feature columns found: pass a table with pyradiomics feature columns "
            "(e.g. 'original_glcm_Contrast') or name them with columns=[...]."
        )
    return data[columns].astype(float), check_binary("outcome", y)


def rank_auc(X, y):
    """Area under the ROC curve of every column of ``X`` for the 0/1 ``y`` (ties count 1/2).

    Uses the Mann-Whitney identity AUC = U / (n1 * n0) on mid-ranks
    (Hanley & McNeil 1982), vectorised over columns.
    """
    from scipy.stats import rankdata

    X = np.asarray(X, dtype=float)
    y = np.asarray(y).astype(bool)
    n1, n0 = y.sum(), (~y).sum()
    if n1 == 0 or n0 == 0:
        raise ValueError("outcome must contain both classes (0 and 1) to compute an AUC.")
    ranks = rankdata(X, axis=0)
    u = ranks[y].sum(axis=0) - n1 * (n1 + 1) / 2
    return u / (n1 * n0)


def univariate(features, outcome, *, test="mannwhitney", columns=None, alpha=0.05):
    """Screen every feature against a binary outcome (see :func:`radnb.stats.univariate`)."""
    from scipy import stats
    from statsmodels.stats.multitest import multipletests

    check_option("test", test, ("mannwhitney", "ttest"))
    check_range("alpha", alpha, 0, 1, inclusive=False)
    X, y = split_xy(features, outcome, columns)
    n_missing = X.isna().sum()
    if n_missing.any():
        import warnings

        warnings.warn(
            tr("univariate: {n} of {total} features have missing values; {values} values were left "
               "out (each feature is tested on its complete cases: see column n).").format(
                n=int((n_missing > 0).sum()), total=X.shape[1], values=int(n_missing.sum())),
            UserWarning, stacklevel=user_stacklevel())
    rows = []
    for name in X.columns:
        x = X[name].to_numpy()
        ok = ~np.isnan(x)
        x1, x0 = x[ok & (y == 1)], x[ok & (y == 0)]
        row = {"feature": name, "n": int(ok.sum()), "test": test}
        if len(x1) < 2 or len(x0) < 2 or np.ptp(x[ok]) == 0:
            rows.append(row | {"statistic": np.nan, "p-val": np.nan, "AUC": np.nan})
            continue
        auc = float(rank_auc(x[ok][:, None], y[ok])[0])
        if test == "mannwhitney":
            res = stats.mannwhitneyu(x1, x0, alternative="two-sided")
            eff, eff_type = 2 * auc - 1, "rank-biserial"
        else:
            res = stats.ttest_ind(x1, x0, equal_var=False)
            n1, n0 = len(x1), len(x0)
            ss1, ss0 = (n1 - 1) * x1.var(ddof=1), (n0 - 1) * x0.var(ddof=1)
            pooled = np.sqrt((ss1 + ss0) / (n1 + n0 - 2))
            eff, eff_type = (x1.mean() - x0.mean()) / pooled, "cohen-d"
        rows.append(row | {
            "statistic": float(res.statistic), "p-val": float(res.pvalue),
            "AUC": max(auc, 1 - auc), "direction": "higher" if auc >= 0.5 else "lower",
            "effsize": float(eff), "effsize_type": eff_type,
        })
    table = pd.DataFrame(rows, columns=[
        "feature", "n", "test", "statistic", "p-val", "p-fdr", "significant",
        "AUC", "direction", "effsize", "effsize_type",
    ]).set_index("feature")
    tested = table["p-val"].notna()
    if tested.any():
        table.loc[tested, "p-fdr"] = multipletests(table.loc[tested, "p-val"], method="fdr_bh")[1]
    table["p-fdr"] = table["p-fdr"].astype(float)
    table["significant"] = table["p-fdr"] < alpha
    return table


class CorrelationFilter(SelectorMixin, BaseEstimator):
    """Drop redundant features: keep the most relevant feature of each correlated cluster.

    Features are clustered hierarchically on the distance ``1 - |rho|`` and the
    tree is cut at ``1 - threshold``; with complete linkage every pair inside a
    cluster has ``|rho| >= threshold``. In each cluster the feature with the
    highest relevance is kept: ``"auc"`` = ``|AUC - 0.5|`` for ``y`` (supervised,
    so fit it inside cross-validation), ``"variance"`` = the feature's variance
    (unsupervised; use it on unscaled data).

    Parameters
    ----------
    threshold : float, default 0.9
        Absolute correlation above which features count as redundant.
    method : {"spearman", "pearson", "kendall"}, default "spearman"
    relevance : {"auc", "variance"}, default "auc"
    linkage : {"complete", "average", "single"}, default "complete"

    Attributes
    ----------
    clusters_ : pandas.Series
        Cluster number of every input feature.
    relevance_ : pandas.Series
        Relevance of every input feature.
    support_ : numpy.ndarray of bool
        Which input features are kept.

    References
    ----------
    Guyon I, Elisseeff A. An introduction to variable and feature selection.
    J Mach Learn Res 2003;3:1157-82.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=50)
    >>> X = pd.DataFrame({"a": a, "a_copy": 2 * a + 0.01 * rng.normal(size=50),
    ...                   "b": rng.normal(size=50)})
    >>> y = (a > 0).astype(int)
    >>> CorrelationFilter(threshold=0.9).fit(X, y).get_feature_names_out().tolist()
    ['a', 'b']
    """

    def __init__(self, threshold=0.9, method="spearman", relevance="auc", linkage="complete"):
        self.threshold = threshold
        self.method = method
        self.relevance = relevance
        self.linkage = linkage

    def fit(self, X, y=None):
        from scipy.cluster.hierarchy import fcluster, linkage
        from scipy.spatial.distance import squareform

        check_range("threshold", self.threshold, 0, 1, inclusive=False)
        check_option("method", self.method, ("spearman", "pearson", "kendall"))
        check_option("relevance", self.relevance, ("auc", "variance"))
        check_option("linkage", self.linkage, ("complete", "average", "single"))
        Xa = validate_data(self, X, reset=True)
        names = self._names()
        if self.relevance == "auc":
            if y is None:
                raise ValueError(
                    "CorrelationFilter(relevance='auc') needs the outcome y in fit; "
                    "pass y or use relevance='variance'."
                )
            rel = np.abs(rank_auc(Xa, check_binary("y", y)) - 0.5)
        else:
            rel = Xa.var(axis=0, ddof=1)
        if Xa.shape[1] == 1:
            labels = np.array([1])
        else:
            rho = pd.DataFrame(Xa).corr(method=self.method).to_numpy()
            dist = 1 - np.abs(np.nan_to_num(rho, nan=0.0))
            np.fill_diagonal(dist, 0)
            tree = linkage(squareform(np.clip(dist, 0, 1), checks=False), method=self.linkage)
            labels = fcluster(tree, t=1 - self.threshold, criterion="distance")
        keep = np.zeros(Xa.shape[1], dtype=bool)
        rel_clean = np.nan_to_num(rel, nan=-np.inf)
        for lab in np.unique(labels):
            idx = np.flatnonzero(labels == lab)
            keep[idx[np.argmax(rel_clean[idx])]] = True
        self.clusters_ = pd.Series(labels, index=names, name="cluster")
        self.relevance_ = pd.Series(rel, index=names, name="relevance")
        self.support_ = keep
        return self

    def _names(self):
        default = np.array([f"x{i}" for i in range(self.n_features_in_)])
        return getattr(self, "feature_names_in_", default)

    def _get_support_mask(self):
        check_is_fitted(self, "support_")
        return self.support_


class LassoSelector(SelectorMixin, BaseEstimator):
    """Keep the features with a non-zero coefficient in a penalised logistic regression.

    The features are standardised (mean 0, SD 1) before the L1 (LASSO) or
    elastic-net penalised fit, so the penalty treats them alike; ``transform``
    returns the selected *original* columns. Smaller ``C`` = stronger penalty =
    fewer features.

    Parameters
    ----------
    C : float, default 1.0
        Inverse penalty strength.
    l1_ratio : float, default 1.0
        1 = LASSO, between 0 and 1 = elastic net (solver "saga").
    max_features : int, optional
        Keep at most this many features (largest absolute coefficients).
    class_weight : dict or "balanced", optional
    random_state : int, optional

    Attributes
    ----------
    coef_ : pandas.Series
        Coefficients on the standardised features.
    support_ : numpy.ndarray of bool

    References
    ----------
    Tibshirani R. Regression shrinkage and selection via the lasso.
    J R Stat Soc B 1996;58:267-88. Zou H, Hastie T. Regularization and variable
    selection via the elastic net. J R Stat Soc B 2005;67:301-20.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(size=(100, 5)), columns=list("abcde"))
    >>> y = (X["a"] + 0.3 * rng.normal(size=100) > 0).astype(int)
    >>> "a" in LassoSelector(C=0.05).fit(X, y).get_feature_names_out()
    True
    """

    def __init__(self, C=1.0, l1_ratio=1.0, *, max_features=None, class_weight=None,
                 random_state=None):
        self.C = C
        self.l1_ratio = l1_ratio
        self.max_features = max_features
        self.class_weight = class_weight
        self.random_state = random_state

    def fit(self, X, y):
        from sklearn.preprocessing import StandardScaler

        check_range("C", self.C, 0, None, inclusive=False)
        if not 0 < self.l1_ratio <= 1:
            raise ValueError(
                "l1_ratio must be in (0, 1] (1 = LASSO, below 1 = elastic net); "
                f"got {self.l1_ratio!r}. "
                "l1_ratio=0 (ridge) never sets a coefficient to zero, so it cannot select."
            )
        Xa = validate_data(self, X, reset=True)
        y = check_binary("y", y)
        self.scaler_ = StandardScaler().fit(Xa)
        self.estimator_ = penalised_logistic(self.C, self.l1_ratio, self.class_weight,
                                             self.random_state)
        self.estimator_.fit(self.scaler_.transform(Xa), y)
        coef = self.estimator_.coef_.ravel()
        keep = np.abs(coef) > 0
        if self.max_features is not None and keep.sum() > self.max_features:
            order = np.argsort(-np.abs(coef), kind="stable")[: self.max_features]
            keep = np.zeros_like(keep)
            keep[order] = True
        names = getattr(self, "feature_names_in_", [f"x{i}" for i in range(Xa.shape[1])])
        self.coef_ = pd.Series(coef, index=names, name="coef")
        self.support_ = keep
        return self

    def _get_support_mask(self):
        check_is_fitted(self, "support_")
        return self.support_


def penalised_logistic(C, l1_ratio, class_weight=None, random_state=None):
    """LASSO (liblinear) or elastic-net (saga) logistic regression."""
    from sklearn.linear_model import LogisticRegression

    if l1_ratio == 1.0:
        return LogisticRegression(C=C, l1_ratio=1.0, solver="liblinear", intercept_scaling=10.0,
                                  class_weight=class_weight,
                                  random_state=random_state, max_iter=1000)
    return LogisticRegression(C=C, l1_ratio=l1_ratio, solver="saga", class_weight=class_weight,
                              random_state=random_state, max_iter=5000)
