"""Minimum sample size for developing a prediction model with a binary outcome.

Riley RD, Ensor J, Snell KIE, et al. Calculating the sample size required for
developing a clinical prediction model. BMJ 2020;368:m441, and the derivation in
Riley et al., Stat Med 2019;38:1276-1296 (part II, binary outcomes).
"""
from __future__ import annotations

import math

from radnb._utils.validation import check_range

__all__ = ["sample_size"]


def _max_cox_snell(prevalence: float) -> float:
    """Largest Cox-Snell R^2 a model can reach at this outcome prevalence."""
    p = prevalence
    log_lik_null = p * math.log(p) + (1 - p) * math.log(1 - p)  # per patient
    return 1 - math.exp(2 * log_lik_null)


def _n_for_shrinkage(parameters: int, r2_cs: float, shrinkage: float) -> int:
    """Patients so that the expected uniform shrinkage is at least ``shrinkage``."""
    return math.ceil(parameters / ((shrinkage - 1) * math.log(1 - r2_cs / shrinkage)))


def sample_size(
    parameters: int,
    prevalence: float,
    *,
    r2_cox_snell: float | None = None,
    r2_nagelkerke: float | None = None,
    shrinkage: float = 0.9,
    optimism: float = 0.05,
    margin: float = 0.05,
):
    """Minimum number of patients to develop a logistic prediction model.

    Riley et al. (BMJ 2020;368:m441) ask for the sample size that meets three
    criteria at once, and the largest of the three is the answer:

    1. **small overfitting**: expected uniform shrinkage of the predictor
       effects at least ``shrinkage`` (0.9, i.e. at most 10 % shrinkage);
    2. **small optimism in R^2**: apparent minus adjusted Nagelkerke R^2 at
       most ``optimism`` (0.05);
    3. **precise overall risk**: the outcome proportion estimated within
       +/- ``margin`` (0.05) with 95 % confidence.

    Parameters
    ----------
    parameters : int
        Number of candidate predictor **parameters** (not variables): a
        continuous predictor counts 1, a k-level categorical predictor k - 1,
        each spline term or interaction 1. In radiomics: every feature that
        enters selection counts, not only those that survive it.
    prevalence : float
        Anticipated outcome proportion, in (0, 1).
    r2_cox_snell, r2_nagelkerke : float
        Anticipated (adjusted) Cox-Snell R^2 of the model, for example from a
        published model for the same question, or the Nagelkerke R^2 (which is
        converted with the maximum Cox-Snell R^2 at ``prevalence``). Give one.
    shrinkage : float
        Target shrinkage factor of criterion 1 (default 0.9).
    optimism : float
        Largest acceptable optimism in Nagelkerke R^2 (default 0.05).
    margin : float
        Absolute margin of error of the overall risk (default 0.05).

    Returns
    -------
    pandas.DataFrame
        One row per criterion plus a ``final`` row (the maximum), with columns
        ``criterion``, ``n`` (patients, rounded up), ``events`` (expected,
        ``n * prevalence``), ``epp`` (events per candidate parameter) and
        ``shrinkage`` (expected shrinkage at that n). The R^2 values used
        (``r2_cox_snell``, ``max_r2_cox_snell``, ``r2_nagelkerke``) are in
        ``DataFrame.attrs``.

    Examples
    --------
    The worked example of Riley et al. (Stat Med 2019; pmsampsize): 24
    parameters, prevalence 0.174, Cox-Snell R^2 0.288.

    >>> from radnb.stats import sample_size
    >>> table = sample_size(24, 0.174, r2_cox_snell=0.288)
    >>> table.set_index("criterion")["n"].to_dict()  # doctest: +NORMALIZE_WHITESPACE
    {'1 shrinkage': 623, '2 optimism in R2': 662, '3 overall risk': 221,
     'final': 662}
    """
    import pandas as pd

    if isinstance(parameters, bool) or not isinstance(parameters, int) or parameters < 1:
        raise ValueError(
            f"parameters must be a positive whole number (candidate predictor parameters); "
            f"got {parameters!r}."
        )
    check_range("prevalence", prevalence, 0, 1, inclusive=False)
    check_range("shrinkage", shrinkage, 0, 1, inclusive=False)
    check_range("optimism", optimism, 0, 1, inclusive=False)
    check_range("margin", margin, 0, 0.5, inclusive=False)
    if (r2_cox_snell is None) == (r2_nagelkerke is None):
        raise ValueError(
            "Give exactly one of r2_cox_snell= or r2_nagelkerke= (the anticipated R^2 of "
            f"the model); got r2_cox_snell={r2_cox_snell!r}, r2_nagelkerke={r2_nagelkerke!r}."
        )
    max_r2 = _max_cox_snell(prevalence)
    if r2_nagelkerke is not None:
        check_range("r2_nagelkerke", r2_nagelkerke, 0, 1, inclusive=False)
        r2 = r2_nagelkerke * max_r2
    else:
        r2 = r2_cox_snell
        check_range("r2_cox_snell", r2, 0, max_r2, inclusive=False)
    if r2 >= shrinkage:
        raise ValueError(
            f"shrinkage must exceed the anticipated Cox-Snell R^2 ({r2:.3f}); got "
            f"shrinkage={shrinkage!r}. Use the default 0.9 or a more modest R^2."
        )

    n1 = _n_for_shrinkage(parameters, r2, shrinkage)
    # Criterion 2: the shrinkage that keeps the Nagelkerke optimism <= optimism
    # (Riley et al. 2019, equation 21).
    s2 = r2 / (r2 + optimism * max_r2)
    n2 = _n_for_shrinkage(parameters, r2, s2)
    z = 1.959963984540054
    n3 = math.ceil((z / margin) ** 2 * prevalence * (1 - prevalence))
    final = max(n1, n2, n3)

    def shrink_at(n):
        # expected shrinkage at n patients: inverse of _n_for_shrinkage
        # S = 1 + p / (n ln(1 - R2/S)) has no closed form; solve by bisection.
        lo, hi = r2 + 1e-12, 1 - 1e-12
        for _ in range(200):
            mid = (lo + hi) / 2
            if (mid - 1) * math.log(1 - r2 / mid) * n > parameters:
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2

    rows = [
        ("1 shrinkage", n1), ("2 optimism in R2", n2), ("3 overall risk", n3), ("final", final)
    ]
    table = pd.DataFrame(
        {
            "criterion": [r[0] for r in rows],
            "n": [r[1] for r in rows],
            "events": [round(r[1] * prevalence, 1) for r in rows],
            "epp": [round(r[1] * prevalence / parameters, 2) for r in rows],
            "shrinkage": [round(shrink_at(r[1]), 3) for r in rows],
        }
    )
    table.attrs.update(
        r2_cox_snell=r2, max_r2_cox_snell=max_r2, r2_nagelkerke=r2 / max_r2,
        parameters=parameters, prevalence=prevalence,
    )
    return table
