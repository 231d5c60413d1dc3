"""ROC arithmetic beyond AUC and DeLong (those are in radnb._utils.roc): bootstrap, binomial CIs.

Public functions live in :mod:`radnb.evaluate`.
"""
from __future__ import annotations

import numpy as np


__all__ = ["bootstrap_auc", "wilson_ci", "clopper_pearson_ci", "roc_points",
           "split_scores"]


def split_scores(y, *scores):
    """Return (positive scores, negative scores) arrays, shape (k, m) and (k, n)."""
    y = np.asarray(y).astype(bool)
    s = np.vstack([np.asarray(x, dtype=float) for x in scores])
    return s[:, y], s[:, ~y]


def bootstrap_auc(pos, neg, n_boot, seed):
    """Stratified bootstrap AUCs (cases resampled within each class, as pROC does).

    Returns an array (n_boot, k).
    """
    from scipy.stats import rankdata

    rng = np.random.default_rng(seed)
    k, m = pos.shape
    n = neg.shape[1]
    out = np.empty((n_boot, k))
    chunk = max(1, 2_000_000 // (m + n))
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        ip = rng.integers(0, m, size=(b, m))
        ineg = rng.integers(0, n, size=(b, n))
        for j in range(k):
            z = np.hstack([pos[j][ip], neg[j][ineg]])
            r = rankdata(z, axis=1)
            out[start:start + b, j] = (r[:, :m].sum(axis=1) - m * (m + 1) / 2) / (m * n)
    return out


def wilson_ci(count, nobs, alpha=0.05):
    """Wilson (1927) score interval for a binomial proportion."""
    from scipy.stats import norm

    count, nobs = np.asarray(count, float), np.asarray(nobs, float)
    z = norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = count / nobs
        denom = 1 + z**2 / nobs
        centre = (p + z**2 / (2 * nobs)) / denom
        half = z * np.sqrt(p * (1 - p) / nobs + z**2 / (4 * nobs**2)) / denom
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def clopper_pearson_ci(count, nobs, alpha=0.05):
    """Clopper & Pearson (1934) exact interval from beta quantiles."""
    from scipy.stats import beta

    count, nobs = np.asarray(count, float), np.asarray(nobs, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        low = np.where(count > 0, beta.ppf(alpha / 2, count, nobs - count + 1), 0.0)
        high = np.where(count < nobs, beta.ppf(1 - alpha / 2, count + 1, nobs - count), 1.0)
    return low, high


def roc_points(y, score):
    """False-positive rate, true-positive rate and thresholds (score >= threshold)."""
    from sklearn.metrics import roc_curve

    fpr, tpr, thr = roc_curve(y, score, drop_intermediate=False)
    return fpr, tpr, thr


def bootstrap_roc_band(pos, neg, fpr_grid, n_boot, seed, alpha):
    """Percentile band of sensitivity at fixed 1 - specificity (stratified bootstrap)."""
    rng = np.random.default_rng(seed)
    m, n = pos.size, neg.size
    tprs = np.empty((n_boot, fpr_grid.size))
    for b in range(n_boot):
        p = np.sort(pos[rng.integers(0, m, m)])
        q = np.sort(neg[rng.integers(0, n, n)])
        thr = np.unique(np.concatenate([p, q, [np.inf]]))[::-1]
        tpr = 1 - np.searchsorted(p, thr, side="left") / m
        fpr = 1 - np.searchsorted(q, thr, side="left") / n
        tprs[b] = np.interp(fpr_grid, fpr, tpr)
    return np.quantile(tprs, [alpha / 2, 1 - alpha / 2], axis=0)
