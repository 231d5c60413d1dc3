"""Missing values as a study step: look at them, then handle them inside the folds.

Public names are re-exported by :mod:`radnb.stats`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from radnb._utils.i18n import tr
from radnb._utils.validation import check_option, check_range

__all__ = ["missingness", "MissingnessResult", "MissingValueFilter"]


@dataclass
class MissingnessResult:
    """Result of :func:`missingness`.

    Attributes
    ----------
    features : pandas.DataFrame
        One row per column (index ``feature``): ``n_missing``, ``fraction``,
        sorted from most to least missing.
    patients : pandas.DataFrame
        One row per table row (same index): ``n_missing``, ``fraction``.
    n_rows, n_columns : int
    """

    features: pd.DataFrame
    patients: pd.DataFrame
    n_rows: int
    n_columns: int

    @property
    def complete_rows(self) -> int:
        """Rows without any missing value: what a complete-case analysis keeps."""
        return int((self.patients["n_missing"] == 0).sum())

    def __repr__(self):
        cols = int((self.features["n_missing"] > 0).sum())
        return tr("MissingnessResult: {n_missing} of {n_columns} columns have missing values; "
                  "{n_complete} of {n_rows} rows are complete (a complete-case analysis would keep "
                  "only these).").format(n_missing=cols, n_columns=self.n_columns,
                                         n_complete=self.complete_rows, n_rows=self.n_rows)

    def _repr_html_(self):
        top = self.features[self.features["n_missing"] > 0].head(10)
        return f"<p>{self!r}</p>" + top.to_html(float_format="%.3f")

    def plot(self, *, ax=None, max_columns=40):
        """Heat map of missing values (rows = patients, columns = most-missing features).

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        cols = list(self.features.index[:max_columns])
        mask = self._mask[cols].to_numpy(float)
        ax.imshow(mask, aspect="auto", interpolation="nearest", cmap="Greys", vmin=0, vmax=1)
        ax.set_xticks(range(len(cols)))
        ax.set_xticklabels([c if len(c) < 30 else c[:27] + "..." for c in cols], rotation=90,
                           fontsize="x-small")
        ax.set_ylabel(tr("Patient (row, n = {n})").format(n=self.n_rows))
        ax.set_xlabel(tr("Column (the {n} with most missing values; black = missing)").format(
            n=len(cols)))
        return ax


def missingness(table, columns=None):
    """Count missing values per column (feature) and per row (patient).

    Parameters
    ----------
    table : pandas.DataFrame
    columns : list of str, optional
        Columns to look at (default: all).

    Returns
    -------
    MissingnessResult
        ``features`` and ``patients`` tables, ``complete_rows`` and ``plot()``.

    Notes
    -----
    A complete-case analysis (dropping every row with a missing value) can
    lose most patients when a few columns are mostly empty; dropping those
    columns and imputing the rest inside the cross-validation folds (as
    :func:`radnb.stats.radscore_model` does) keeps them. See Sterne JAC et al.
    Multiple imputation for missing data in epidemiological and clinical
    research. BMJ 2009;338:b2393.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"a": [1, None, 3], "b": [None, None, 1.0], "c": [1, 2, 3]})
    >>> res = missingness(df)
    >>> res.features["n_missing"].to_dict(), res.complete_rows
    ({'b': 2, 'a': 1, 'c': 0}, 1)
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a pandas DataFrame; got {type(table).__name__}.")
    data = table if columns is None else table[list(columns)]
    mask = data.isna()
    n = len(data)
    feats = pd.DataFrame({"n_missing": mask.sum(), "fraction": mask.mean()})
    feats = feats.sort_values("n_missing", ascending=False, kind="stable").rename_axis("feature")
    pats = pd.DataFrame({"n_missing": mask.sum(axis=1), "fraction": mask.mean(axis=1)})
    res = MissingnessResult(feats, pats, n, data.shape[1])
    res._mask = mask
    return res


class MissingValueFilter(TransformerMixin, BaseEstimator):
    """Drop mostly-empty features, impute the rest - learned on training rows only.

    In ``fit``, features whose missing fraction exceeds ``max_missing`` are
    dropped and the ``strategy`` value (median or mean) of every other feature
    is stored; ``transform`` drops the same features and fills missing values
    with the stored training values. Inside a ``Pipeline`` it is refitted in
    every cross-validation fold, so the test rows never inform the imputation.

    Parameters
    ----------
    max_missing : float, default 0.5
        Largest fraction of missing values a kept feature may have.
    strategy : {"median", "mean"}, default "median"
    passthrough : sequence of str, default ()
        Columns left untouched (e.g. the site column used by ComBat).

    Attributes
    ----------
    dropped_ : list of str
        Features above ``max_missing`` in the training rows.
    fill_values_ : pandas.Series
        Imputation value of each kept feature.
    n_imputed_ : int
        Missing values filled in the training rows.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"a": [1.0, None, 3.0, 5.0], "b": [None, None, None, 1.0]})
    >>> f = MissingValueFilter(max_missing=0.5).fit(X)
    >>> f.dropped_, f.transform(X)["a"].tolist()
    (['b'], [1.0, 3.0, 3.0, 5.0])
    """

    def __init__(self, max_missing=0.5, strategy="median", passthrough=()):
        self.max_missing = max_missing
        self.strategy = strategy
        self.passthrough = passthrough

    def fit(self, X, y=None):
        check_range("max_missing", self.max_missing, 0, 1)
        check_option("strategy", self.strategy, ("median", "mean"))
        if not isinstance(X, pd.DataFrame):
            X = pd.DataFrame(np.asarray(X, dtype=float))
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        feats = X.drop(columns=[c for c in self.passthrough if c in X.columns])
        frac = feats.isna().mean()
        self.dropped_ = list(frac.index[frac > self.max_missing])
        kept = feats.drop(columns=self.dropped_)
        fill = kept.median() if self.strategy == "median" else kept.mean()
        self.fill_values_ = fill.fillna(0.0)  # a kept feature cannot be all-missing, but be safe
        self.n_imputed_ = int(kept.isna().sum().sum())
        return self

    def transform(self, X):
        check_is_fitted(self, "fill_values_")
        if not isinstance(X, pd.DataFrame):
            X = pd.DataFrame(np.asarray(X, dtype=float), columns=self.feature_names_in_)
        out = X.drop(columns=[c for c in self.dropped_ if c in X.columns])
        cols = list(self.fill_values_.index)
        values = out[cols].to_numpy(dtype=float)
        holes = np.isnan(values)
        if not holes.any():
            return out
        values = np.where(holes, self.fill_values_.to_numpy(float)[None, :], values)
        filled = pd.DataFrame(values, index=out.index, columns=cols)
        rest = [c for c in out.columns if c not in self.fill_values_.index]
        return pd.concat([out[rest], filled], axis=1)[list(out.columns)]

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "fill_values_")
        return np.asarray([c for c in self.feature_names_in_ if c not in self.dropped_],
                          dtype=object)
