"""Input checks shared by radnb's public functions.

Every message names the parameter, what is allowed and what was passed, so a
user can fix the call without reading the source.
"""
from __future__ import annotations

from collections.abc import Iterable

from radnb._utils.i18n import _

__all__ = ["check_option", "check_columns", "check_range", "check_binary", "check_image", "check_same_grid"]


def check_option(name: str, value, allowed: Iterable):
    """Raise ``ValueError`` unless ``value`` is one of ``allowed``; return it."""
    allowed = tuple(allowed)
    if value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        raise ValueError(_("{name} must be one of {options}; got {value!r}.").format(
            name=name, options=options, value=value))
    return value


def check_columns(df, columns: Iterable[str], *, what: str = "table"):
    """Raise ``ValueError`` naming the columns of ``df`` that are missing."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        have = ", ".join(map(str, list(df.columns)[:12]))
        more = " ..." if len(df.columns) > 12 else ""
        raise ValueError(_("{what} is missing column(s) {missing}; it has: {have}{more}.").format(
            what=what, missing=missing, have=have, more=more))
    return df


def check_range(name: str, value, low=None, high=None, *, inclusive: bool = True):
    """Raise ``ValueError`` unless ``low <= value <= high`` (or strict)."""
    ok = True
    if low is not None:
        ok &= value >= low if inclusive else value > low
    if high is not None:
        ok &= value <= high if inclusive else value < high
    if not ok:
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        br = "[]" if inclusive else "()"
        raise ValueError(_("{name} must be in {interval}; got {value!r}.").format(
            name=name, interval=f"{br[0]}{lo}, {hi}{br[1]}", value=value))
    return value


def check_binary(name: str, values):
    """Return ``values`` as an integer numpy array of 0/1, or raise ``ValueError``."""
    import numpy as np

    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(_("{name} must be one-dimensional; got shape {shape}.").format(
            name=name, shape=arr.shape))
    if arr.dtype == bool:
        return arr.astype(int)
    uniq = set(np.unique(arr[~_isnan(arr)]).tolist()) if arr.size else set()
    if not uniq <= {0, 1} or _isnan(arr).any():
        if _isnan(arr).any():
            text = _("{name} must contain only 0 and 1 (1 = event/positive); got values {values} "
                     "and missing values.")
        else:
            text = _("{name} must contain only 0 and 1 (1 = event/positive); got values {values}.")
        raise ValueError(text.format(name=name, values=sorted(uniq)[:6]))
    return arr.astype(int)


def _isnan(arr):
    import numpy as np

    try:
        return np.isnan(arr.astype(float))
    except (TypeError, ValueError):
        return np.zeros(arr.shape, dtype=bool)


def check_image(image, name: str = "image"):
    """Raise ``TypeError`` unless ``image`` is a SimpleITK image; return it."""
    import SimpleITK as sitk

    if not isinstance(image, sitk.Image):
        raise TypeError(_(
            "{name} must be a SimpleITK image; got {type}. "
            "Read it with radnb.io.read_image(path) or radnb.io.read_mask(path)."
        ).format(name=name, type=type(image).__name__))
    return image


def check_same_grid(a, b, *, names=("a", "b"), tol=1e-4):
    """Raise ``ValueError`` unless two SimpleITK images share size, spacing, origin, direction."""
    import numpy as np

    for what, ga, gb in (
        ("size", a.GetSize(), b.GetSize()),
        ("spacing", a.GetSpacing(), b.GetSpacing()),
        ("origin", a.GetOrigin(), b.GetOrigin()),
        ("direction", a.GetDirection(), b.GetDirection()),
    ):
        if len(ga) != len(gb) or not np.allclose(ga, gb, atol=tol, rtol=tol):
            fmt = lambda v: tuple(round(x, 4) for x in v)  # noqa: E731
            raise ValueError(_(
                "{a} has {what} {va} but {b} has {vb}; they must share one "
                "voxel grid. Resample with radnb.preprocess.resample_to({b}, {a}, "
                "is_mask=True) first."
            ).format(a=names[0], b=names[1], what=what, va=fmt(ga), vb=fmt(gb)))
