"""Overlap of two boolean arrays: the one Dice computation behind segment and view."""
from __future__ import annotations

import numpy as np


def dice_arrays(a, b) -> float:
    """Dice ``2|A and B| / (|A| + |B|)`` of two boolean arrays; ``nan`` when both are empty.

    Examples
    --------
    >>> dice_arrays(np.array([1, 1, 0], bool), np.array([0, 1, 1], bool))
    0.5
    """
    a = np.asarray(a, dtype=bool)
    b = np.asarray(b, dtype=bool)
    total = int(a.sum()) + int(b.sum())
    if total == 0:
        return float("nan")
    return 2.0 * int(np.logical_and(a, b).sum()) / total
