"""Checks that say when ComBat does harm: site confounded with outcome, positive features
turned negative. Public through :class:`radnb.harmonize.ComBat` and :func:`radnb.harmonize.combat`.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from radnb._utils.errors import user_stacklevel
from radnb._utils.i18n import tr

__all__ = ["site_outcome_association", "warn_site_outcome", "warn_lost_positivity"]


def site_outcome_association(site, outcome):
    """Test whether the outcome rate differs between sites.

    Pearson's chi-square test of the site x outcome table (Fisher's exact test
    for a 2 x 2 table with an expected count below 5).

    Returns
    -------
    (float, pandas.Series)
        The p-value and the outcome rate (mean) per site.
    """
    from scipy.stats import chi2_contingency, fisher_exact

    site = pd.Series(np.asarray(site), name="site")
    y = pd.Series(np.asarray(outcome), name="outcome")
    keep = site.notna() & y.notna()
    table = pd.crosstab(site[keep], y[keep])
    rate = y[keep].groupby(site[keep]).mean()
    if table.shape[0] < 2 or table.shape[1] < 2:
        return 1.0, rate
    expected = chi2_contingency(table, correction=False)[3]
    if table.shape == (2, 2) and expected.min() < 5:
        return float(fisher_exact(table.to_numpy())[1]), rate
    return float(chi2_contingency(table, correction=False)[1]), rate


def warn_site_outcome(site, outcome, *, level=0.05):
    """Warn when site and outcome are associated (p < ``level``); return the p-value."""
    from radnb._utils.formatting import format_p

    p, rate = site_outcome_association(site, outcome)
    if p < level:
        rates = ", ".join(f"{s}: {100 * r:.0f}%" for s, r in rate.items())
        warnings.warn(
            tr("ComBat: the outcome rate differs between sites ({rates}; chi-square "
               "{p}). ComBat removes every difference between sites, so here it also "
               "removes part of the outcome signal. Preserve clinical covariates that explain the "
               "difference (covariate_cols=..., never the outcome), compare models with and without "
               "harmonisation, and validate on a held-out site (radnb.evaluate.external_validation)."
               ).format(rates=rates, p=format_p(p)),
            UserWarning, stacklevel=user_stacklevel())
    return p


def warn_lost_positivity(before, after, names):
    """Warn naming the features that were all > 0 before ComBat and have values <= 0 after."""
    before = np.asarray(before, dtype=float)
    after = np.asarray(after, dtype=float)
    lost = (np.nanmin(before, axis=0) > 0) & (np.nanmin(after, axis=0) <= 0)
    if lost.any():
        lost_names = [n for n, b in zip(names, lost) if b]
        n_values = int((after[:, lost] <= 0).sum())
        warnings.warn(
            tr("ComBat: {n} feature(s) that were strictly positive (e.g. volumes, "
               "energies) now have {n_values} value(s) <= 0: {names}{more}. Harmonise them on the "
               "log scale with log_transform=True, so they stay positive.").format(
                n=len(lost_names), n_values=n_values, names=lost_names[:5],
                more=" ..." if len(lost_names) > 5 else ""), UserWarning, stacklevel=user_stacklevel())
    return lost
