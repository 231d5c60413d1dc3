"""AUC and DeLong covariance, low in the package: evaluate and stats both need them.

Public functions live in :mod:`radnb.evaluate` (``roc_auc_ci``, ``delong_test``).
"""
from __future__ import annotations

import numpy as np

__all__ = ["auc", "delong"]


def _midrank(x):
    """Midranks (ties get the average rank), 1-based, as in Sun & Xu (2014)."""
    from scipy.stats import rankdata

    return rankdata(x, method="average")


def auc(pos, neg):
    """AUCs of k scores (Mann-Whitney on midranks), without any variance."""
    m, n = pos.shape[1], neg.shape[1]
    tz = np.array([_midrank(np.concatenate([p, q])) for p, q in zip(pos, neg)])
    return (tz[:, :m].sum(axis=1) - m * (m + 1) / 2) / (m * n)


def delong(pos, neg):
    """AUCs and their DeLong covariance for k scores on the same cases.

    ``pos`` (k, m) and ``neg`` (k, n) are the scores of positive and negative
    cases. Implements the fast O(N log N) algorithm of Sun & Xu (2014) for the
    DeLong, DeLong & Clarke-Pearson (1988) estimator: structural components
    from midranks, covariance ``S10 / m + S01 / n``.
    """
    k, m = pos.shape
    n = neg.shape[1]
    tx = np.array([_midrank(p) for p in pos])
    ty = np.array([_midrank(q) for q in neg])
    tz = np.array([_midrank(np.concatenate([p, q])) for p, q in zip(pos, neg)])
    aucs = (tz[:, :m].sum(axis=1) - m * (m + 1) / 2) / (m * n)
    v10 = (tz[:, :m] - tx) / n          # per positive case
    v01 = 1.0 - (tz[:, m:] - ty) / m    # per negative case
    s10 = np.atleast_2d(np.cov(v10))
    s01 = np.atleast_2d(np.cov(v01))
    return aucs, s10 / m + s01 / n
