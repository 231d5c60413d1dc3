"""Number formatting for display (figure labels, HTML tables); never for stored results."""
from __future__ import annotations

import math

__all__ = ["format_p", "format_number"]


def format_p(p, *, prefix="p") -> str:
    """A p-value as journals print it: ``"p < 0.001"`` below 0.001, else 3 decimals.

    Parameters
    ----------
    p : float
    prefix : str, default "p"
        Text before the relation; ``""`` gives ``"< 0.001"`` / ``"0.043"``.

    Examples
    --------
    >>> format_p(0.000433), format_p(0.0432), format_p(1.0)
    ('p < 0.001', 'p = 0.043', 'p = 1.000')
    >>> format_p(0.2, prefix="log-rank p")
    'log-rank p = 0.200'
    """
    lead = f"{prefix} " if prefix else ""
    if p is None or not math.isfinite(float(p)):
        return f"{lead}{'= ' if prefix else ''}n/a"
    p = float(p)
    if p < 0.001:
        return f"{lead}< 0.001"
    return f"{lead}{'= ' if prefix else ''}{p:.3f}"


def format_number(value, digits=3) -> str:
    """``value`` with ``digits`` significant digits, without scientific notation.

    Whole-number digits are never dropped (``-1913``, not ``-1.91e+03``);
    scientific notation is kept only below 1e-4 and from 1e7 on.

    Examples
    --------
    >>> format_number(-1912.6), format_number(12.345), format_number(0.012345), format_number(0)
    ('-1913', '12.3', '0.0123', '0')
    """
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    if magnitude < -4 or magnitude >= 7:
        return f"{value:.{digits}g}"
    decimals = max(digits - 1 - magnitude, 0)
    return f"{value:.{decimals}f}"
