"""Nomogram of a logistic regression model: points per predictor -> probability.

The classic construction (Iasonos et al., J Clin Oncol 2008;26:1364-70; R
``rms::nomogram``, Harrell 2015): each predictor's contribution
``b_j * (x_j - ref_j)`` to the linear predictor is rescaled so the predictor
with the widest contribution range spans 0-100 points; total points map back
to the linear predictor and, through the logistic function, to a probability.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from radnb._utils.errors import user_stacklevel
from radnb._utils.i18n import tr
from radnb._utils.validation import check_columns

__all__ = ["Nomogram", "fit_logistic"]


def fit_logistic(data, outcome, predictors):
    """Fit an (unpenalised) statsmodels logistic regression of ``outcome`` on ``predictors``."""
    import statsmodels.api as sm

    from radnb._utils.validation import check_binary

    check_columns(data, [outcome, *predictors], what="data")
    X = data[list(predictors)]
    nonnum = [c for c in predictors if not pd.api.types.is_numeric_dtype(X[c])]
    if nonnum:
        raise ValueError(
            f"predictor(s) {nonnum} are not numeric; code them as numbers first, e.g. "
            "data.assign(female=(data['sex'] == 'F').astype(int))."
        )
    keep = X.notna().all(axis=1) & data[outcome].notna()
    if not keep.all():
        import warnings

        warnings.warn(tr("{n} row(s) with a missing predictor or outcome were left out of the "
                         "logistic model (rows {rows}...).").format(
            n=int((~keep).sum()), rows=list(data.index[~keep][:5])), stacklevel=user_stacklevel())
    y = check_binary("outcome", data.loc[keep, outcome].to_numpy())
    return sm.Logit(y, sm.add_constant(X[keep].astype(float), has_constant="add")).fit(disp=0)


def warn_if_penalised(model):
    """Warn when ``model`` is a penalised scikit-learn logistic regression.

    scikit-learn's ``LogisticRegression`` is penalised by default (L2, ``C=1``):
    its coefficients are shrunk towards 0, so a nomogram drawn from it shows
    smaller effects than the data support.
    """
    import warnings

    if hasattr(model, "params") or not hasattr(model, "coef_"):
        return
    C = float(getattr(model, "C", np.inf))
    penalty = getattr(model, "penalty", "l2")
    if penalty in (None, "none") or not np.isfinite(C) or C >= 1e4:  # C >= 1e4: negligible
        return
    warnings.warn(
        f"plot_nomogram: the scikit-learn model is penalised ({type(model).__name__} with C={C:g}"
        f"{'' if penalty == 'deprecated' else f', penalty={penalty!r}'}): its coefficients are "
        "shrunk towards 0, so the nomogram understates the effects. For a nomogram, refit the "
        "predictors without penalty with radnb.stats.fit_logistic(data, outcome, predictors).",
        UserWarning, stacklevel=user_stacklevel())


def _coefficients(model):
    """``(intercept, Series of coefficients)`` from a statsmodels or sklearn logistic model."""
    if hasattr(model, "params"):  # statsmodels results
        params = pd.Series(model.params)
        const = [k for k in params.index if str(k) in ("const", "Intercept")]
        if not const:
            raise ValueError("the statsmodels model has no intercept ('const'); fit it with one.")
        return float(params[const[0]]), params.drop(const[0]).astype(float)
    if hasattr(model, "coef_") and hasattr(model, "feature_names_in_"):
        return float(np.ravel(model.intercept_)[0]), pd.Series(
            np.ravel(model.coef_), index=list(model.feature_names_in_), dtype=float)
    raise TypeError(
        "model must be a fitted statsmodels Logit result or a scikit-learn LogisticRegression "
        f"fitted on a DataFrame (so it knows its feature names); got {type(model).__name__}."
    )


_MAX_LEVELS = 10  # predictors with at most this many whole-number values are drawn as levels


class Nomogram:
    """Points arithmetic of a logistic-regression nomogram (see :func:`radnb.stats.plot_nomogram`).

    Attributes
    ----------
    scales : pandas.DataFrame
        Per predictor: ``coef``, ``low``, ``high`` (axis range), ``ref`` (the
        value that gets 0 points) and ``points_per_unit``. For a predictor
        with at most 10 distinct whole-number values (stage 1-4, sex 0/1)
        the range is its lowest to highest observed value.
    levels : dict
        Those predictors' observed values (``{"stage": array([1., 2., 3., 4.])}``);
        their axes are ticked at exactly these values.
    intercept : float
    unit : float
        Linear-predictor change per point (``max range / 100``).
    """

    def __init__(self, model, data, *, quantiles=(0.01, 0.99)):
        quantiles = check_quantiles(quantiles)
        self.intercept, coef = _coefficients(model)
        check_columns(data, list(coef.index), what="data")
        lo = data[coef.index].quantile(quantiles[0])
        hi = data[coef.index].quantile(quantiles[1])
        self.levels = {}
        for name in coef.index:  # few whole-number values (stage 1-4, 0/1): ticks at those values
            values = np.unique(pd.to_numeric(data[name], errors="coerce").dropna().to_numpy(float))
            if 1 < len(values) <= _MAX_LEVELS and np.all(values == np.round(values)):
                self.levels[name] = values
                lo[name], hi[name] = values[0], values[-1]
        span = (coef * (hi - lo)).abs()
        if not (span > 0).any():
            raise ValueError("all predictors have zero effect or a constant value; "
                             "nothing to draw.")
        self.unit = float(span.max() / 100)
        ref = lo.where(coef >= 0, hi)
        self.scales = pd.DataFrame({"coef": coef, "low": lo, "high": hi, "ref": ref,
                                    "points_per_unit": coef.abs() / self.unit})

    def points(self, X):
        """Points of each predictor and ``total`` for the rows of ``X`` (a DataFrame)."""
        check_columns(X, list(self.scales.index), what="X")
        s = self.scales
        pts = (X[s.index].astype(float) - s["ref"]) * (s["coef"] / self.unit)
        return pts.assign(total=pts.sum(axis=1))

    def linear_predictor(self, total_points):
        """Log-odds for a total number of points."""
        base = self.intercept + float((self.scales["coef"] * self.scales["ref"]).sum())
        return base + np.asarray(total_points, dtype=float) * self.unit

    def probability(self, total_points):
        """Predicted probability for a total number of points."""
        return 1.0 / (1.0 + np.exp(-self.linear_predictor(total_points)))

    def total_for_probability(self, p):
        """Total points that give probability ``p``."""
        p = np.asarray(p, dtype=float)
        base = self.linear_predictor(0.0)
        return (np.log(p / (1 - p)) - base) / self.unit

    def plot(self, *, ax=None, labels=None, probabilities=(0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8,
                                                            0.9, 0.95), outcome=None):
        """Draw the nomogram on ``ax`` and return it.

        ``labels`` maps predictor names to the names drawn; ``outcome`` names the
        outcome on the probability axis (default: "outcome" in radnb's language).
        """
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator

        s = self.scales
        labels = labels or {}
        n = len(s) + 3
        if ax is None:
            _, ax = plt.subplots(figsize=(8, 0.6 * n + 1))
        points, total = tr("Points"), tr("Total points")
        rows = [points, *[labels.get(k, k) for k in s.index], total,
                tr("Probability of {outcome}").format(
                    outcome=tr("outcome") if outcome is None else outcome)]
        y = {name: n - 1 - i for i, name in enumerate(rows)}

        def axis(row, positions, ticklabels, extent=()):
            yy = y[row]
            ends = [*positions, *extent]
            ax.plot([min(ends), max(ends)], [yy, yy], color="black", lw=1)
            for x, t in zip(positions, ticklabels):
                ax.plot([x, x], [yy, yy + 0.12], color="black", lw=1)
                ax.text(x, yy + 0.18, t, ha="center", va="bottom", fontsize=8)

        ticks = np.arange(0, 101, 10)
        axis(points, ticks, [f"{t:g}" for t in ticks])
        for name, r in s.iterrows():
            values = np.unique(np.r_[r["low"], r["high"]])
            if name in self.levels:
                values = self.levels[name]
            elif r["high"] - r["low"] > 0:
                binary = set(np.unique([r["low"], r["high"]])) <= {0.0, 1.0}
                values = np.array([0.0, 1.0]) if binary else MaxNLocator(6).tick_values(
                    r["low"], r["high"])
                values = values[(values >= r["low"] - 1e-9) & (values <= r["high"] + 1e-9)]
            pts = (values - r["ref"]) * r["coef"] / self.unit
            ends = (np.array([r["low"], r["high"]]) - r["ref"]) * r["coef"] / self.unit
            axis(labels.get(name, name), pts, [f"{v:g}" for v in values], ends)
        max_total = float(s.eval("abs(coef) * (high - low)").sum() / self.unit)
        tot = MaxNLocator(8).tick_values(0, max_total)
        tot = tot[(tot >= 0) & (tot <= max_total + 1e-9)]
        axis(total, tot * 100 / max_total, [f"{t:g}" for t in tot], (0, 100))
        probs = np.array([p for p in probabilities
                          if 0 <= self.total_for_probability(p) <= max_total])
        if len(probs):
            axis(rows[-1], self.total_for_probability(probs) * 100 / max_total,
                 [f"{p:g}" for p in probs])
        ax.set_yticks([y[r] for r in rows], rows)
        ax.set_ylim(-0.6, n - 0.2)
        ax.set_xlim(-5, 105)
        ax.set_xticks([])
        for side in ("top", "right", "bottom", "left"):
            ax.spines[side].set_visible(False)
        ax.tick_params(axis="y", length=0)
        ax.set_title(tr("Nomogram: add the points of each predictor, read the probability below"),
                     fontsize=10)
        return ax


def check_quantiles(quantiles):
    """Return ``quantiles`` as a valid ``(low, high)`` pair."""
    low, high = quantiles
    if not 0 <= low < high <= 1:
        raise ValueError(f"quantiles must satisfy 0 <= low < high <= 1; got {quantiles!r}.")
    return float(low), float(high)

