"""Errors about the user's data whose message is already in plain words."""
from __future__ import annotations


class InputError(ValueError):
    """A problem with an image, mask or table, explained for a radiologist.

    Error rows show its message as it is (no translation of library text needed).
    Subclasses name the kind of problem.
    """
