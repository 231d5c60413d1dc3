"""Content-addressed on-disk cache for extracted features.

Layout under ``<cache_dir>/extract-v1``:

* ``entries/ab/abcdef....json`` - one entry per key (a feature unit, a case's
  diagnostics, or a whole case). First line ``RADNB1 <sha256 of body>``, then
  the JSON body. Written to a temporary file in the same folder and moved in
  place with :func:`os.replace`, so readers see either nothing or a complete
  entry; a body whose checksum does not match (torn disk write) is ignored and
  recomputed.
* ``files/ab/abcdef....json`` - memo of file-content hashes keyed by
  :func:`file_signature` (path, size, modification and status-change times,
  inode; the bytes when unsure), so a warm run does not re-read images.

Keys hash image and mask *content* (voxel bytes + geometry), never paths:
moving or renaming files still hits, editing a voxel misses.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import tempfile
import time
from pathlib import Path

__all__ = ["Cache", "digest", "image_digest", "file_signature", "sha1"]

_MAGIC = b"RADNB1 "
_LAYOUT = "extract-v1"


def digest(*parts) -> str:
    """Hex digest (blake2b, 160 bit) of strings/bytes ``parts``."""
    h = hashlib.blake2b(digest_size=20)
    for part in parts:
        data = part if isinstance(part, bytes) else str(part).encode("utf-8")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def image_digest(image, image_sha1=None) -> str:
    """Hash of a SimpleITK image's voxels and geometry (not of its file).

    ``image_sha1``: :func:`sha1` of ``image`` when already known.
    """
    geometry = repr((
        image.GetPixelIDTypeAsString(), image.GetNumberOfComponentsPerPixel(), image.GetSize(),
        image.GetSpacing(), image.GetOrigin(), image.GetDirection(),
    ))
    return digest("image", geometry, image_sha1 or sha1(image))


def sha1(image) -> str:
    """``SimpleITK.Hash(image)`` (SHA-1 of the voxel buffer), about 15x faster.

    ITK hashes the buffer in little-endian byte order; on a big-endian machine
    ITK's own filter is used.
    """
    import sys

    import numpy as np
    import SimpleITK as sitk

    if sys.byteorder != "little":
        return sitk.Hash(image, sitk.HashImageFilter.SHA1)
    buffer = np.ascontiguousarray(sitk.GetArrayViewFromImage(image))
    return hashlib.sha1(memoryview(buffer).cast("B")).hexdigest()


def write_nrrd(image, path) -> None:
    """Write ``image`` as compressed NRRD, atomically (a crash never leaves half a file)."""
    import SimpleITK as sitk

    from radnb._utils.files import atomic_write

    with atomic_write(path, mode="path") as tmp:
        writer = sitk.ImageFileWriter()
        writer.SetImageIO("NrrdImageIO")
        writer.SetFileName(str(tmp))
        writer.UseCompressionOn()
        writer.Execute(image)


def file_signature(path) -> str | None:
    """A fingerprint of a file, or of every file in a folder (DICOM series); None if missing.

    Size, modification time, status-change time and inode: replacing a file by
    other content of the same size, even with its modification time set back
    (``cp -p``, ``rsync -t``, a restore), changes the status-change time or
    the inode. When these cannot be trusted the bytes are hashed too: on
    Windows (no status-change time), on file systems with whole-second times,
    and for files changed in the last few seconds (a second change within the
    timestamp resolution would be invisible).
    """
    path = os.path.abspath(os.fspath(path))
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not os.path.isdir(path):
        return f"{path}|{_stat_part(path, st)}"
    parts = [path]
    for entry in sorted(os.scandir(path), key=lambda e: e.name):
        if entry.is_file():
            parts.append(f"{entry.name}|{_stat_part(entry.path, entry.stat())}")
    return digest(*parts)


_RECENT_NS = 3_000_000_000


def _stat_part(path, st) -> str:
    part = f"{st.st_size}|{st.st_mtime_ns}|{st.st_ctime_ns}|{st.st_ino}"
    unsure = (os.name == "nt" or st.st_mtime_ns % 1_000_000_000 == 0
              or time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) < _RECENT_NS)
    if unsure and stat.S_ISREG(st.st_mode):
        h = hashlib.blake2b(digest_size=20)
        try:
            with open(path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
        except OSError:
            return part + "|unreadable"
        part += "|" + h.hexdigest()
    return part


class Cache:
    """A folder of checksummed JSON entries, safe for concurrent writers.

    Parameters
    ----------
    root : str or Path
        The cache folder (``cache_dir``); entries live in ``root/extract-v1``.
    """

    def __init__(self, root):
        self.root = Path(root).expanduser()
        self.base = self.root / _LAYOUT
        self.writes_failed = 0

    def _path(self, kind: str, key: str) -> Path:
        return self.base / kind / key[:2] / f"{key}.json"

    def get(self, key: str, kind: str = "entries"):
        """Return the stored object, or None if absent or not intact."""
        try:
            with open(self._path(kind, key), "rb") as fh:
                data = fh.read()
        except OSError:
            return None
        head, _, body = data.partition(b"\n")
        if not head.startswith(_MAGIC) or head[len(_MAGIC):].decode("ascii", "replace") != (
            hashlib.sha256(body).hexdigest()
        ):
            return None
        try:
            return json.loads(body)
        except ValueError:
            return None

    def put(self, key: str, obj, kind: str = "entries") -> bool:
        """Store ``obj`` atomically; return False (and count) if the disk refused."""
        body = json.dumps(obj, separators=(",", ":")).encode("utf-8")
        data = _MAGIC + hashlib.sha256(body).hexdigest().encode("ascii") + b"\n" + body
        path = self._path(kind, key)
        tmp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
            return True
        except OSError:
            self.writes_failed += 1
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
            return False

    # file-content memo ---------------------------------------------------
    def memo_get(self, signature: str | None, extra: str = ""):
        if signature is None:
            return None
        value = self.get(digest("memo", signature, extra), kind="files")
        return value.get("hash") if isinstance(value, dict) else None

    def memo_put(self, signature: str | None, content_hash: str, extra: str = ""):
        if signature is not None:
            self.put(digest("memo", signature, extra), {"hash": content_hash}, kind="files")

    # inspection ----------------------------------------------------------
    def info(self) -> dict:
        n, size, stale = 0, 0, 0
        if self.base.exists():
            for dirpath, _, files in os.walk(self.base):
                for name in files:
                    try:
                        size += os.path.getsize(os.path.join(dirpath, name))
                    except OSError:
                        continue
                    if name.startswith(".tmp-"):
                        stale += 1
                    elif dirpath.startswith(str(self.base / "entries")):
                        n += 1
        return {"path": str(self.base), "entries": n, "size_mb": size / 1e6, "temporary_files": stale}

    def clear(self) -> int:
        removed = self.info()["entries"]
        shutil.rmtree(self.base, ignore_errors=True)
        return removed
