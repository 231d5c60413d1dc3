"""Errors about the user's data whose message is already in plain words."""
from __future__ import annotations


class InputError(ValueError):
    """A problem with an image, mask or table, explained for a radiologist.

    Error rows show its message as it is (no translation of library text needed).
    Subclasses name the kind of problem.
    """


#: Modules whose frames a warning skips on its way to the user's line (radnb; scikit-learn,
#: which wraps transform() and fit_transform(); joblib, which caches a Pipeline's steps).
_INTERNAL = ("radnb.", "sklearn.", "joblib.")


def user_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning point at the user's line, not at radnb's.

    Call it as the argument of :func:`warnings.warn`. It counts the frames of radnb and of
    scikit-learn (a ``Pipeline``, ``fit_transform`` or the ``set_output`` wrapper) between
    the caller and the first frame of other code (a notebook cell, a script, a test).
    Python 3.12's ``skip_file_prefixes`` does the same; radnb also runs on 3.11.
    """
    import sys

    frame, level = sys._getframe(1), 1
    while frame is not None and (frame.f_globals.get("__name__", "") + ".").startswith(_INTERNAL):
        frame, level = frame.f_back, level + 1
    return level
