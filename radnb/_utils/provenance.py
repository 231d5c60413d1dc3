"""Provenance: the low-level hook through which every study step reports what it did.

A study log (:class:`radnb.Study`) is made *active* with a ``with`` block; while
it is active, radnb's public functions call :func:`record` with the settings
they used and the counts they produced. Without an active study, :func:`record`
does nothing, so steps can always call it.

The hook lives here, at the bottom of the package, so that every step can call
it without importing the (top-level) ``radnb.study`` package.
"""
from __future__ import annotations

import contextvars
import json
import math
import sys

_UNSET = object()
_ACTIVE = contextvars.ContextVar("radnb_active_study", default=_UNSET)
#: A study started with ``Study.start()`` (notebooks: it must outlive one cell, and a
#: context variable set in one Jupyter cell is not guaranteed to reach the next).
_STARTED = [None]


def active():
    """The study log that is recording now, or None."""
    log = _ACTIVE.get()
    return _STARTED[0] if log is _UNSET else log


def activate(log):
    """Make ``log`` (an object with an ``_add(entry)`` method, or None to pause) active here.

    Returns a token for :func:`deactivate`.
    """
    return _ACTIVE.set(log)


def start(log):
    """Make ``log`` active in every context until :func:`stop` (for notebooks)."""
    _STARTED[0] = log


def stop(log):
    """End :func:`start` (only if ``log`` is the started one)."""
    if _STARTED[0] is log:
        _STARTED[0] = None


def deactivate(token):
    """Undo :func:`activate` (pass the token it returned)."""
    _ACTIVE.reset(token)


def record(step, **facts):
    """Record what ``step`` did into the active study (a no-op when none is active).

    Parameters
    ----------
    step : str
        Dotted name of the public function or class, e.g. ``"extract.extract_features"``.
    **facts
        Plain JSON values: str, int, float, bool, None, and lists/dicts of those.
        numpy scalars and arrays, tuples and sets are converted to plain values.

    Returns
    -------
    dict or None
        The entry added to the log, or None when no study is active.

    Examples
    --------
    >>> record("preprocess.resample", spacing=[1.0, 1.0, 1.0]) is None  # no active study
    True
    """
    log = active()
    if log is None:
        return None
    caller = sys._getframe(1)
    entry = {"step": str(step), "facts": plain(facts), "within": _enclosing_call(),
             "by": f"{caller.f_globals.get('__name__', '')}.{caller.f_code.co_name}"}
    return log._add(entry)


def plain(value):
    """``value`` as plain JSON data (numpy scalars, tuples, sets and arrays converted).

    Raises
    ------
    TypeError
        For any other object: a fact must be a value a reader can check, not an object.
    """
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return None if math.isnan(value) else float(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(plain(v) for v in value)
    tolist = getattr(value, "tolist", None)  # numpy scalars and arrays
    if callable(tolist) and type(value).__module__ == "numpy":
        return plain(tolist())
    raise TypeError(
        f"a recorded fact must be plain JSON data (str, number, bool, None, list, dict); got "
        f"{type(value).__name__}. Convert it (e.g. float(x), list(x), str(x)) before recording."
    )


def _enclosing_call():
    """Outermost radnb function (other than the recorder) on the call stack, or None.

    Lets the study tell a user's own call (``within`` is None) from the same
    function called inside another step (e.g. ComBat fitted inside every fold
    of ``radscore_model``).
    """
    frame = sys._getframe(2)  # the function that called record()
    module = frame.f_globals.get("__name__", "")
    outer = None
    frame = frame.f_back
    while frame is not None:  # callers in the recorder's own module are its public wrappers
        name = frame.f_globals.get("__name__", "")
        if (name.startswith("radnb.") and name != module
                and not name.startswith(("radnb.study", "radnb._utils"))):
            outer = f"{name}.{frame.f_code.co_name}"
        frame = frame.f_back
    return outer


def dumps(value) -> str:
    """JSON text of plain data (stable key order, UTF-8 kept readable)."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)


def versions(*distributions):
    """``{distribution: version}`` of installed packages (``"not installed"`` when absent)."""
    from importlib import metadata

    out = {}
    for dist in distributions:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out
