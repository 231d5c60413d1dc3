"""Is an image file complete? Compare the data a file holds with what its header announces.

SimpleITK reads a ``.nii.gz`` cut in half (an interrupted copy) without complaint and
fills the missing voxels with 0, so features silently change. Before a file is read,
:func:`check_complete` decodes gzip streams to their end and compares the number of
data bytes with the size the header implies (NIfTI-1/2, NRRD, MetaImage). Formats
it does not know are left to the reader.
"""
from __future__ import annotations

from radnb._utils.errors import InputError
from radnb._utils.i18n import tr

import struct
import zlib
from pathlib import Path

import numpy as np

__all__ = ["IncompleteFileError", "check_complete", "check_finite", "mask_problem"]

_CHUNK = 1 << 20

# NRRD type names and MetaImage element types -> bytes per value
_NRRD_BYTES = {
    1: ("signed char", "int8", "int8_t", "uchar", "unsigned char", "uint8", "uint8_t"),
    2: ("short", "short int", "signed short", "signed short int", "int16", "int16_t", "ushort",
        "unsigned short", "unsigned short int", "uint16", "uint16_t"),
    4: ("int", "signed int", "int32", "int32_t", "uint", "unsigned int", "uint32", "uint32_t",
        "float"),
    8: ("longlong", "long long", "long long int", "signed long long", "signed long long int",
        "int64", "int64_t", "ulonglong", "unsigned long long", "unsigned long long int",
        "uint64", "uint64_t", "double"),
}
_NRRD_SIZE = {name: n for n, names in _NRRD_BYTES.items() for name in names}
_MET_SIZE = {"MET_CHAR": 1, "MET_UCHAR": 1, "MET_SHORT": 2, "MET_USHORT": 2, "MET_INT": 4,
             "MET_UINT": 4, "MET_LONG": 4, "MET_ULONG": 4, "MET_LONG_LONG": 8,
             "MET_ULONG_LONG": 8, "MET_FLOAT": 4, "MET_DOUBLE": 8}


class IncompleteFileError(InputError):
    """An image file holds less data than its header announces (e.g. an interrupted copy)."""


def check_complete(path, *, decode=True) -> None:
    """Raise :class:`IncompleteFileError` if the image file at ``path`` is cut short.

    Parameters
    ----------
    path : str or Path
        A NIfTI (``.nii``, ``.nii.gz``), NRRD (``.nrrd``, ``.nhdr``) or MetaImage
        (``.mha``, ``.mhd``) file. Other files are not checked.
    decode : bool, default True
        Also decode compressed NRRD / MetaImage data to the end. SimpleITK itself
        refuses those when cut short, so readers pass False and decode only to
        explain a failed read; ``.nii.gz`` is always decoded (SimpleITK fills it
        with zeros).

    Examples
    --------
    >>> from radnb.io._integrity import check_complete
    >>> check_complete("ct.nii.gz")  # doctest: +SKIP
    """
    path = Path(path)
    name = path.name.lower()
    if name.endswith((".nii", ".nii.gz")):
        _check_nifti(path)
    elif name.endswith((".nrrd", ".nhdr")):
        _check_nrrd(path, decode)
    elif name.endswith((".mha", ".mhd")):
        _check_meta(path, decode)


def check_finite(image, what="image") -> None:
    """Raise ``ValueError`` if a SimpleITK image holds NaN or infinite voxels."""
    import SimpleITK as sitk

    arr = sitk.GetArrayViewFromImage(image)
    if not np.issubdtype(arr.dtype, np.floating):
        return
    bad = int(np.count_nonzero(~np.isfinite(arr)))
    if bad:
        raise ValueError(tr(
            "the {what} has {bad} voxel(s) without a number (NaN or infinite), out of {size}; "
            "features would be meaningless. Re-export the image, or replace those voxels "
            "(e.g. by the background value) before extraction."
        ).format(what=tr(what), bad=bad, size=arr.size))


def mask_problem(mask, *, whole_label_image=True):
    """Why a SimpleITK image cannot be used as a label mask, in plain words, or None.

    Checks one value per voxel (not colour / vector), and, for a label image used as
    a whole (``whole_label_image``), whole numbers within 0..255; many distinct or
    negative values mean an image (e.g. a CT) was given as the mask.
    """
    import SimpleITK as sitk

    n = mask.GetNumberOfComponentsPerPixel()
    if n != 1:
        return tr("is a colour (RGB) or vector image with {n} values per voxel, not a label map; "
                  "export the segmentation from your segmentation tool as a label map (one whole "
                  "number per voxel: 0 background, 1 lesion) in NIfTI or NRRD.").format(n=n)
    if not whole_label_image:
        return None
    arr = sitk.GetArrayViewFromImage(mask)
    if not arr.size:
        return None
    lo, hi = float(arr.min()), float(arr.max())
    if lo >= 0 and hi <= 255 and (np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool):
        return None
    step = max(1, arr.size // 200_000)
    values = np.unique(arr.ravel()[::step])
    if len(values) <= 64 and lo < 0 and np.array_equal(values, np.round(values)):
        return tr("holds negative label values ({lo:g} to {hi:g}); a label map has 0 for background "
                  "and 1, 2, ... for the regions. Renumber the labels in your segmentation tool, or "
                  "check that this file is the segmentation.").format(lo=lo, hi=hi)
    if len(values) > 64 or lo < 0:
        return tr("holds {count} different values from {lo:g} to "
                  "{hi:g}: it looks like an image (e.g. a CT or MR), not a segmentation. Check the "
                  "mask column of the manifest (image and mask swapped, or the wrong file).").format(
            count=f"{len(values)}{'+' if step > 1 else ''}", lo=lo, hi=hi)
    if not np.array_equal(arr, np.round(arr)):
        return tr("holds non-whole values ({lo:g}..{hi:g}): it looks like a probability map or was "
                  "resampled with linear interpolation; threshold it (mask > 0.5) or resample it "
                  "with nearest-neighbour interpolation.").format(lo=lo, hi=hi)
    if hi > 255:
        return tr("holds label values up to {hi:g}; radnb reads labels 0..255. Renumber the labels "
                  "in your segmentation tool (or pick one with label=).").format(hi=hi)
    return None


# ----------------------------------------------------------------------------- helpers
def _incomplete(path, have, want):
    raise IncompleteFileError(
        f"file {path.name!r} is incomplete: it holds {have:,} bytes of image data but its header "
        f"announces {want:,}. The copy or export was probably interrupted; copy or export the "
        "file again."
    )


def _cut_stream(path):
    raise IncompleteFileError(
        f"file {path.name!r} is incomplete: its compressed data stop before the end (the copy or "
        "export was probably interrupted). Copy or export the file again."
    )


def _inflate(path, fh, *, gzip: bool, keep: int = 0):
    """Decode a zlib/gzip stream from ``fh`` to its end; return (total bytes, first ``keep`` bytes)."""
    wbits = 16 + zlib.MAX_WBITS if gzip else zlib.MAX_WBITS
    d, total, head = zlib.decompressobj(wbits), 0, b""
    while True:
        chunk = fh.read(_CHUNK)
        if not chunk:
            break
        while chunk:
            if d.eof:  # another gzip member may follow; zero padding or a zlib tail ends the data
                if not gzip or not chunk.strip(b"\0"):
                    return total, head
                d = zlib.decompressobj(wbits)
            try:
                out = d.decompress(chunk, 16 * _CHUNK)  # bounded memory
            except zlib.error:
                raise IncompleteFileError(
                    f"file {path.name!r} is damaged: its compressed data cannot be decoded. "
                    "Copy or export the file again."
                ) from None
            total += len(out)
            if len(head) < keep:
                head += out[: keep - len(head)]
            chunk = d.unused_data if d.eof else d.unconsumed_tail
    if not d.eof:
        _cut_stream(path)
    return total, head


def _check_nifti(path: Path):
    gz = path.name.lower().endswith(".gz")
    with open(path, "rb") as fh:
        if gz and fh.read(2) != b"\x1f\x8b":
            return  # not gzip at all: the reader says it cannot read the file
        fh.seek(0)
        if gz:
            total, head = _inflate(path, fh, gzip=True, keep=540)
        else:
            head = fh.read(540)
            total = path.stat().st_size
    want = _nifti_bytes(head)
    if want is not None and total < want:
        _incomplete(path, total, want)


def _nifti_bytes(head: bytes):
    """Bytes a NIfTI file must hold (header + voxels), or None if the header is not NIfTI."""
    if len(head) < 348:
        return None
    for order in "<>":
        size = struct.unpack(order + "i", head[:4])[0]
        if size == 348:
            dims = struct.unpack(order + "8h", head[40:56])
            bitpix = struct.unpack(order + "h", head[72:74])[0]
            offset = int(struct.unpack(order + "f", head[108:112])[0])
            break
        if size == 540 and len(head) >= 540:
            bitpix = struct.unpack(order + "h", head[14:16])[0]
            dims = struct.unpack(order + "8q", head[16:80])
            offset = struct.unpack(order + "q", head[168:176])[0]
            break
    else:
        return None
    ndim = dims[0]
    if not 1 <= ndim <= 7 or bitpix <= 0:
        return None
    n = int(np.prod([max(int(d), 1) for d in dims[1:ndim + 1]], dtype=np.int64))
    return max(offset, 348) + n * bitpix // 8


def _text_header(fh, stop):
    """Read header lines up to (not including) the line for which ``stop(line)`` is true."""
    lines, offset = [], 0
    for raw in iter(fh.readline, b""):
        offset += len(raw)
        line = raw.decode("latin-1").rstrip("\r\n")
        if stop(line):
            return lines, offset, line
        lines.append(line)
        if offset > 1 << 20:
            break
    return lines, offset, None


def _check_nrrd(path: Path, decode=True):
    with open(path, "rb") as fh:
        if not fh.read(4) == b"NRRD":
            return
        fh.seek(0)
        lines, offset, _ = _text_header(fh, lambda line: line == "")
        fields = {}
        for line in lines[1:]:
            if ":" in line and not line.startswith("#"):
                key, _, value = line.partition(":")
                fields[key.strip().lower()] = value.lstrip("=").strip()
        try:
            n = int(np.prod([int(s) for s in fields["sizes"].split()], dtype=np.int64))
            want = n * _NRRD_SIZE[fields["type"].lower()]
        except (KeyError, ValueError):
            return
        encoding = fields.get("encoding", "raw").lower()
        if encoding in ("gzip", "gz") and not decode:
            return
        if "byte skip" in fields or "line skip" in fields or encoding not in ("raw", "gzip", "gz"):
            return
        data_file = fields.get("data file", fields.get("datafile"))
        if data_file:
            if " " in data_file or data_file.upper() == "LIST":
                return
            _check_data_file(path, data_file, want, gzip=encoding != "raw")
            return
        _check_payload(path, fh, want, offset, gzip=encoding != "raw")


def _check_data_file(header, data_file, want, *, gzip, zlib=False):
    """A detached data file (``.nhdr`` + ``.raw``, ``.mhd`` + ``.raw``): present and complete."""
    target = header.parent / data_file
    if not target.exists():
        raise IncompleteFileError(
            f"file {header.name!r} refers to its data file {data_file!r}, which is missing; "
            f"keep the {header.suffix} and its data file together."
        )
    with open(target, "rb") as data:
        _check_payload(target, data, want, 0, gzip=gzip, zlib=zlib)


def _check_payload(path, fh, want, offset, *, gzip, zlib=False):
    """Raise unless the data from ``offset`` on hold ``want`` bytes (decoded when compressed)."""
    if gzip or zlib:
        fh.seek(offset)
        total, _ = _inflate(path, fh, gzip=gzip)
    else:
        total = path.stat().st_size - offset
    if total < want:
        _incomplete(path, total, want)


def _check_meta(path: Path, decode=True):
    with open(path, "rb") as fh:
        lines, offset, last = _text_header(fh, lambda line: line.replace(" ", "").startswith(
            "ElementDataFile="))
        if last is None:
            return
        fields = {}
        for line in lines + [last]:
            key, _, value = line.partition("=")
            fields[key.strip()] = value.strip()
        try:
            n = int(np.prod([int(s) for s in fields["DimSize"].split()], dtype=np.int64))
            want = n * _MET_SIZE[fields["ElementType"]] * int(fields.get("ElementNumberOfChannels", 1))
        except (KeyError, ValueError):
            return
        compressed = fields.get("CompressedData", "False").lower() == "true"
        if compressed and not decode:
            return
        if "HeaderSize" in fields and fields["HeaderSize"] not in ("0",):
            return
        data_file = fields["ElementDataFile"]
        if data_file.upper() != "LOCAL":
            if " " in data_file or data_file.upper().startswith("LIST"):
                return
            _check_data_file(path, data_file, want, gzip=False, zlib=compressed)
            return
        _check_payload(path, fh, want, offset, gzip=False, zlib=compressed)
