"""ComBat arithmetic on plain numpy arrays (samples x features).

The public interface is :mod:`radnb.harmonize`; this module holds the
estimation steps of Johnson, Li & Rabinovic (2007), in the form used by the
neuroCombat R and Python packages (Fortin et al. 2017, 2018), so the numbers
agree with those implementations:

1. regress every feature on ``[site one-hot | covariates]`` by least squares;
2. standardise with the grand mean (size-weighted site means, or the reference
   site), the covariate effects and the pooled residual variance (divisor n);
3. per site, estimate location ``gamma_hat`` (mean) and scale ``delta_hat``
   (variance, ddof 1) of the standardised data;
4. shrink them across features by empirical Bayes (parametric: normal /
   inverse-gamma priors by the method of moments and the iterative solution;
   non-parametric: likelihood-weighted average over the other features);
5. remove them: ``(z - gamma*) / sqrt(delta*)``, then undo the standardisation.
"""
from __future__ import annotations

import warnings

import numpy as np

from radnb._utils.errors import user_stacklevel
from radnb._utils.i18n import tr

__all__ = ["fit_combat", "estimate_site", "standardize", "adjust"]


def fit_combat(y, codes, n_batch, cov=None, *, parametric=True, eb=True, mean_only=False, ref=None):
    """Estimate ComBat parameters; return a dict of arrays.

    ``y``: (n, p) float array without NaN; ``codes``: (n,) ints in
    ``range(n_batch)``; ``cov``: (n, q) covariate design (dummy-coded, no
    intercept) or None; ``ref``: index of the reference batch or None.
    Features with zero pooled variance are flagged in ``constant`` and left as
    they are by :func:`adjust`.
    """
    n, p = y.shape
    onehot = np.zeros((n, n_batch))
    onehot[np.arange(n), codes] = 1.0
    cov = np.zeros((n, 0)) if cov is None else np.asarray(cov, dtype=float)
    design = np.hstack([onehot, cov])
    beta = np.linalg.lstsq(design, y, rcond=None)[0]  # (n_batch + q, p)
    counts = onehot.sum(axis=0)
    if ref is None:
        grand_mean = (counts / n) @ beta[:n_batch]
        resid = y - design @ beta
    else:
        grand_mean = beta[ref].copy()
        rows = codes == ref
        resid = y[rows] - design[rows] @ beta
    var_pooled = np.mean(resid**2, axis=0)
    constant = var_pooled <= 1e-12 * np.maximum(1.0, np.abs(grand_mean)) ** 2
    var_pooled = np.where(constant, 1.0, var_pooled)
    params = {
        "grand_mean": grand_mean,
        "var_pooled": var_pooled,
        "beta_cov": beta[n_batch:],
        "constant": constant,
    }
    z = standardize(y, cov, params)
    gamma_star = np.zeros((n_batch, p))
    delta_star = np.ones((n_batch, p))
    gamma_hat = np.zeros((n_batch, p))
    delta_hat = np.ones((n_batch, p))
    for b in range(n_batch):
        est = estimate_site(
            z[codes == b][:, ~constant], parametric=parametric, eb=eb, mean_only=mean_only
        )
        gamma_hat[b, ~constant], delta_hat[b, ~constant] = est["gamma_hat"], est["delta_hat"]
        if b != ref:
            gamma_star[b, ~constant], delta_star[b, ~constant] = est["gamma_star"], est["delta_star"]
    params.update(
        gamma_star=gamma_star, delta_star=delta_star, gamma_hat=gamma_hat, delta_hat=delta_hat
    )
    return params


def standardize(y, cov, params):
    """Return ``(y - grand_mean - cov @ beta_cov) / sqrt(var_pooled)``."""
    return (y - _stand_mean(y.shape[0], cov, params)) / np.sqrt(params["var_pooled"])


def adjust(y, cov, codes, gamma_star, delta_star, params):
    """Apply per-row site parameters (rows of ``gamma_star``/``delta_star`` by ``codes``)."""
    stand_mean = _stand_mean(y.shape[0], cov, params)
    sd = np.sqrt(params["var_pooled"])
    z = (y - stand_mean) / sd
    out = (z - gamma_star[codes]) / np.sqrt(delta_star[codes]) * sd + stand_mean
    return np.where(params["constant"], y, out)


def _stand_mean(n, cov, params):
    mean = np.broadcast_to(params["grand_mean"], (n, params["grand_mean"].size))
    if cov is not None and np.asarray(cov).shape[1]:
        mean = mean + np.asarray(cov, dtype=float) @ params["beta_cov"]
    return mean


def estimate_site(z, *, parametric=True, eb=True, mean_only=False):
    """Location/scale of one site's standardised data ``z`` (n_site, p).

    Returns ``gamma_hat``, ``delta_hat`` (per-feature mean and variance) and the
    empirical-Bayes ``gamma_star``, ``delta_star`` (equal to the hats when
    ``eb=False``). The priors are estimated across features of this site only,
    so a site never seen in training can be estimated the same way.
    """
    n = z.shape[0]
    gamma_hat = z.mean(axis=0)
    delta_hat = np.ones_like(gamma_hat) if mean_only else z.var(axis=0, ddof=1)
    out = {"gamma_hat": gamma_hat, "delta_hat": delta_hat}
    if eb and z.shape[1] < 2:
        warnings.warn(tr("empirical Bayes needs at least 2 features to estimate its priors; "
                         "harmonising without it (eb=False)."), UserWarning, stacklevel=user_stacklevel())
        eb = False
    if not eb:
        out.update(gamma_star=gamma_hat, delta_star=delta_hat)
        return out
    gamma_bar = gamma_hat.mean()
    t2 = gamma_hat.var(ddof=1)
    if not parametric:
        g, d = _nonparametric(z, gamma_hat, delta_hat)
        out.update(gamma_star=g, delta_star=np.ones_like(d) if mean_only else d)
    elif mean_only:
        out.update(gamma_star=_postmean(gamma_hat, gamma_bar, 1.0, 1.0, t2),
                   delta_star=np.ones_like(gamma_hat))
    else:
        m, s2 = delta_hat.mean(), delta_hat.var(ddof=1)
        a_prior = (2 * s2 + m**2) / s2
        b_prior = (m * s2 + m**3) / s2
        g, d = _iterative_solution(z, gamma_hat, delta_hat, gamma_bar, t2, a_prior, b_prior, n)
        out.update(gamma_star=g, delta_star=d)
    return out


def _postmean(g_hat, g_bar, n, d_star, t2):
    return (t2 * n * g_hat + d_star * g_bar) / (t2 * n + d_star)


def _iterative_solution(z, g_hat, d_hat, g_bar, t2, a, b, n, conv=1e-4, max_iter=1000):
    # Same update and stopping rule as sva::ComBat's it.sol (and neuroCombat),
    # including its relative change divided by the signed previous value.
    g_old, d_old = g_hat, d_hat
    for _ in range(max_iter):
        g_new = _postmean(g_hat, g_bar, n, d_old, t2)
        sum2 = ((z - g_new) ** 2).sum(axis=0)
        d_new = (0.5 * sum2 + b) / (n / 2.0 + a - 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            change = max(np.nanmax((np.abs(g_new - g_old) / g_old)),
                         np.nanmax(np.abs(d_new - d_old) / d_old))
        g_old, d_old = g_new, d_new
        if change <= conv:
            break
    return g_new, d_new


def _nonparametric(z, g_hat, d_hat, block=512):
    """Non-parametric EB (sva's int.eprior), with likelihoods in log space.

    For feature i the posterior means are averages of the other features'
    ``gamma_hat``/``delta_hat`` weighted by the likelihood of feature i's data
    under them; working with log-likelihoods avoids the underflow of the
    original for large sites without changing the result.
    """
    n, p = z.shape
    s1, s2 = z.sum(axis=0), (z**2).sum(axis=0)
    g_star, d_star = np.empty(p), np.empty(p)
    for start in range(0, p, block):
        idx = np.arange(start, min(start + block, p))
        # sum_k (x_ik - g_j)^2 for features i in the block and all j
        sum2 = s2[idx, None] - 2 * s1[idx, None] * g_hat[None, :] + n * g_hat[None, :] ** 2
        loglh = -0.5 * n * np.log(2 * np.pi * d_hat)[None, :] - sum2 / (2 * d_hat[None, :])
        loglh[np.arange(idx.size), idx] = -np.inf  # leave feature i out
        w = np.exp(loglh - loglh.max(axis=1, keepdims=True))
        w /= w.sum(axis=1, keepdims=True)
        g_star[idx] = w @ g_hat
        d_star[idx] = w @ d_hat
    return g_star, d_star
