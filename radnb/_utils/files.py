"""Safe output files: written completely or not at all, and checked before the work starts.

Every file radnb writes for the user (feature tables, error lists, reports,
galleries) goes through :func:`atomic_write`: the content is written to a
temporary file in the destination folder and moved over the destination with
:func:`os.replace`, which is atomic on one file system. An interruption (Ctrl-C,
a full disk, a crash) leaves the previous file untouched, never a half-written
one. :func:`check_writable` tries the same thing up front, so a run that could
not save its result fails in a second instead of after an hour of work.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["NotWritableError", "atomic_write", "check_writable"]


class NotWritableError(OSError):
    """An output file or folder cannot be written (the message says which and what to do)."""


@contextlib.contextmanager
def atomic_write(path, mode="w", **open_kwargs):
    """Open a temporary file beside ``path``; on success move it over ``path``.

    Parameters
    ----------
    path : str or Path
        The destination. Its folder is created if needed.
    mode : {"w", "wb"}
        Text or binary.
    **open_kwargs
        Passed to :func:`open` (``encoding``, ``newline``).

    Yields
    ------
    file object, or the temporary path when ``mode`` is ``"path"`` (for
    writers such as ``DataFrame.to_parquet`` that want a file name).

    Examples
    --------
    >>> with atomic_write("/tmp/radnb-atomic-example.txt") as fh:
    ...     _ = fh.write("complete or absent")
    >>> open("/tmp/radnb-atomic-example.txt").read()
    'complete or absent'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        os.chmod(tmp, _file_mode(path))  # mkstemp makes it private (0600); keep usual rights
        if mode == "path":
            os.close(fd)
            yield Path(tmp)
        else:
            with os.fdopen(fd, mode, **open_kwargs) as fh:
                yield fh
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _file_mode(path) -> int:
    try:
        return os.stat(path).st_mode & 0o777  # replacing a file: keep its permissions
    except OSError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask


def check_writable(path, *, what="output", folder=False, hint=None):
    """Raise :class:`NotWritableError` unless a file can be created at ``path``.

    A temporary file is really created and removed (permission bits alone do
    not tell: read-only mounts, full disks, a file where a folder should be).

    Parameters
    ----------
    path : str or Path
        The output file (or, with ``folder=True``, the folder).
    what : str
        How the message names it (``"--out"``, ``"cache_dir"``).
    folder : bool
        ``path`` is a folder (created if missing) rather than a file.
    hint : str, optional
        What to do instead (default: choose another location).

    Examples
    --------
    >>> check_writable("/tmp/radnb-check/features.csv", what="--out")
    """
    path = Path(path).expanduser()
    target = path if folder else path.parent
    hint = hint or f"choose a {what} location you can write to"
    if not folder and path.is_dir():
        raise NotWritableError(f"{what} {str(path)!r} is a folder; give a file name in it ({hint}).")
    try:
        target.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".radnb-write-check-", dir=target)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        blocker = next((p for p in [target, *target.parents] if p.exists() and not p.is_dir()), None)
        if blocker is not None:
            reason = f"{str(blocker)!r} is a file, not a folder"
        raise NotWritableError(
            f"{what} {str(path)!r} cannot be written ({reason.lower()}); {hint}."
        ) from None
