"""One convention for confidence intervals and p-values in every radnb result table.

* the level is an argument ``confidence=0.95`` (``alpha=`` is still accepted
  where it used to be, with a ``FutureWarning``);
* the interval cell is a 2-element float array ``[low, high]`` in a column named
  after the level (``CI95%``, ``CI90%``), next to plain ``ci_low`` / ``ci_high``;
* the p-value column is ``p-val`` (pingouin's name).
"""
from __future__ import annotations

import warnings

from radnb._utils.errors import user_stacklevel
from radnb._utils.i18n import tr

__all__ = ["resolve_confidence", "ci_column", "ci_cell", "P_COLUMN"]

P_COLUMN = "p-val"


def resolve_confidence(confidence=0.95, alpha=None, *, func="this function"):
    """Return the confidence level from ``confidence`` or the older ``alpha`` (= 1 - level)."""
    if alpha is not None:
        warnings.warn(tr(
            "{func}: alpha= is replaced by confidence= (confidence = 1 - alpha), as in every "
            "radnb function; pass confidence={confidence}.").format(
            func=func, confidence=f"{1 - alpha:g}"), FutureWarning, stacklevel=user_stacklevel())
        confidence = 1 - alpha
    try:
        ok = 0 < float(confidence) < 1
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(tr("confidence must be in (0, 1), e.g. 0.95; got {value!r}.").format(
            value=confidence))
    return float(confidence)


def ci_column(confidence=0.95) -> str:
    """Column name of the interval: ``"CI95%"`` for 0.95, ``"CI90%"`` for 0.9."""
    return f"CI{round(100 * confidence, 6):g}%"


def ci_cell(low, high):
    """One interval cell: a float array ``[low, high]``."""
    import numpy as np

    return np.array([low, high], dtype=float)
