"""ComBat on a whole table at once (exploration); public as :func:`radnb.harmonize.combat`."""
from __future__ import annotations

import warnings

import pandas as pd

from radnb.harmonize._combat import ComBat, _as_frame, _replace_columns
from radnb.harmonize._guards import warn_lost_positivity, warn_site_outcome
from radnb.harmonize._site_effect import _as_1d

__all__ = ["combat"]


def combat(features, batch, covariates=None, *, parametric=True, eb=True, mean_only=False,
           ref_batch=None, log_transform=False, outcome=None):
    """Harmonise a samples x features table with ComBat (all cases at once).

    Parameters
    ----------
    features : pandas.DataFrame
        Numeric feature values, one row per case, no missing values.
    batch : array-like or str
        Site of each row (or the name of a column of ``features`` holding it;
        that column is then not harmonised). Every site needs at least 2 cases.
    covariates : pandas.DataFrame or Series, optional
        Biological covariates whose effect is preserved (e.g. age, sex), one row
        per case. Numeric columns enter linearly; text, boolean and
        ``category`` columns are dummy coded (first level dropped). To dummy code
        a numeric code such as ``gender = 1/2``, pass it as ``category``.
        Never include the outcome you want to predict.
    parametric : bool, default True
        Parametric (normal / inverse-gamma priors) or non-parametric empirical Bayes.
    eb : bool, default True
        Shrink site parameters by empirical Bayes; ``False`` uses the per-site
        mean and variance of each feature as they are.
    mean_only : bool, default False
        Adjust only the location and leave each site's spread as it is. With
        the default parametric empirical Bayes this is *not* a full removal of
        the mean shifts: see Notes.
    ref_batch : optional
        A site whose values are left unchanged; the others are mapped onto it.
    log_transform : bool, default False
        Harmonise strictly positive features on the log scale (they stay
        positive). Without it, a warning names positive features that ComBat
        turned negative.
    outcome : array-like, optional
        The outcome you will study. It is never used for harmonising; ComBat
        only warns when its rate differs between sites (then ComBat removes
        outcome signal along with the site effect).

    Returns
    -------
    pandas.DataFrame
        Same shape, index and columns as ``features`` (the site column, if
        named by ``batch``, unchanged).

    Raises
    ------
    ValueError
        Missing values, a site with fewer than 2 cases, covariates confounded
        with site, or an unknown ``ref_batch``.

    See Also
    --------
    ComBat : the same as a transformer that learns on training data only.

    Notes
    -----
    ``mean_only=True`` with ``parametric=True, eb=True`` follows the reference
    implementations (sva ``ComBat(mean.only=TRUE)``, neuroCombat
    ``mean_only=True``): the posterior site shift is computed with ``n = 1``
    instead of the number of cases of the site, so each feature's shift is
    pulled strongly towards that site's average shift over all features. A
    large shift that affects only some features is therefore only partly
    removed (e.g. a shift of 3 SD in 1 of 10 features keeps about 2 SD), and a
    little of it is spread onto the other features. The full model
    (``mean_only=False``) or ``eb=False`` removes it; compare sites after
    harmonising (e.g. :func:`radnb.harmonize.site_effect`) before
    choosing ``mean_only``.

    References
    ----------
    Johnson WE, Li C, Rabinovic A. Adjusting batch effects in microarray
    expression data using empirical Bayes methods. Biostatistics 2007;8:118-127.
    Fortin JP et al. Harmonization of cortical thickness measurements across
    scanners and sites. NeuroImage 2018;167:104-120.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> site = np.repeat(["A", "B"], 20)
    >>> X = pd.DataFrame(rng.normal(size=(40, 3)) + (site == "B")[:, None] * 2.0,
    ...                  columns=["f1", "f2", "f3"])
    >>> Xh = combat(X, site)
    >>> bool(abs(Xh[site == "A"].mean() - Xh[site == "B"].mean()).max() < 0.5)
    True
    """
    features = _as_frame(features)
    site_col = None
    if isinstance(batch, str) and batch in features.columns:
        site_col, batch = batch, features[batch]
    cols = [c for c in features.columns if c != site_col]
    cov = None
    if covariates is not None:
        cov = covariates.to_frame() if isinstance(covariates, pd.Series) else pd.DataFrame(covariates)
        if len(cov) != len(features):
            raise ValueError(f"covariates must have one row per row of features ({len(features)}); "
                             f"got {len(cov)}.")
    df = features[cols].copy()
    cov_cols = [] if cov is None else [f"__cov_{c}" for c in cov.columns]
    if cov is not None:
        for c, name in zip(cov.columns, cov_cols):
            df[name] = cov[c].to_numpy()
    df["__site"] = _as_1d("batch", batch, len(features))
    if outcome is not None:
        warn_site_outcome(df["__site"].to_numpy(), _as_1d("outcome", outcome, len(features)))
    model = ComBat(batch_col="__site", covariate_cols=tuple(cov_cols), parametric=parametric,
                   eb=eb, mean_only=mean_only, ref_batch=ref_batch, log_transform=log_transform)
    with warnings.catch_warnings():  # re-issued below, pointing at the caller
        warnings.simplefilter("ignore")
        out = model._fit(df, cols).transform(df)
    positive = model.positive_
    warn_lost_positivity(features[cols].to_numpy(float)[:, positive],
                         out[cols].to_numpy(float)[:, positive],
                         [c for c, p in zip(cols, positive) if p])
    return _replace_columns(features, cols, out[cols].to_numpy())
