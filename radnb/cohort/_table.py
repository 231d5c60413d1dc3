"""Read a manifest file as a hospital spreadsheet writes it.

Every cell is read as text first, then columns are typed on purpose:

* identifier columns (``case_id``, ``patient_id``, ``series_uid``, any name ending
  in ``id`` / ``uid``, accession numbers) stay text exactly as written, so
  ``"000123"`` keeps its zeros, ``"007"`` and ``"7"`` stay two patients and
  ``"NA"`` is an ID, not a missing value;
* other columns become numbers when every filled cell is a number, with decimal
  commas (``"1,5"``) understood in files separated by ``;`` or tabs (as Excel
  writes CSV in many European locales); ``NA``, ``N/A``, ``NaN`` and empty cells
  are missing there.

Encodings tried: UTF-8 (with or without BOM), UTF-16 (with BOM, or detected by
its zero bytes), then Windows-1252 (Excel's "CSV" on Western Windows).
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from radnb._utils.i18n import tr

__all__ = ["read_table", "type_columns", "is_id_column"]

_MISSING = {"", "na", "n/a", "nan", "null", "none", "-", "#n/a", "missing"}
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_COMMA_NUMBER = re.compile(r"^[+-]?\d*,\d+$")
_ID_NAME = re.compile(r"(^|[_\s.-])u?id$|^(case|patient|subject|series|study|seriesinstance|"
                      r"studyinstance|sopinstance)u?id$")


def is_id_column(name) -> bool:
    """True for columns holding identifiers, which must stay text."""
    n = str(name).strip().lower()
    return bool(n in ("case", "patient", "mrn", "pid", "image", "mask", "roi", "site")
                or _ID_NAME.search(n) or "accession" in n)


def read_table(path: Path):
    """Read a CSV / TSV / Excel manifest with every cell as text; return (DataFrame, separator)."""
    import pandas as pd

    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xls"):
        return pd.read_excel(path, dtype=str, keep_default_na=False), None
    if suffix not in (".csv", ".tsv", ".txt"):
        raise ValueError(tr("manifest {path!r}: unsupported file type {suffix!r}; use .csv, .tsv or .xlsx.").format(
            path=str(path), suffix=suffix))
    text = _decode(path)
    if not text.strip():
        raise ValueError(tr(
            "manifest {path!r} is empty; it needs a header line (case_id, image, mask) and "
            "one line per image + mask pair."
        ).format(path=str(path)))
    sep = "\t" if suffix == ".tsv" else _separator(text)
    df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                     skipinitialspace=True)
    return df, sep


def type_columns(df, sep=None):
    """Strip cells, keep identifier columns as text, turn numeric columns into numbers."""
    import numpy as np
    import pandas as pd

    out = df.copy()
    for col in out.columns:
        values = out[col]
        if values.dtype != object:
            continue
        text = values.map(lambda v: v.strip() if isinstance(v, str) else v)
        if is_id_column(col):
            out[col] = text.map(lambda v: np.nan if isinstance(v, str) and v == "" else v)
            continue
        missing = text.map(lambda v: not isinstance(v, str) or v.lower() in _MISSING)
        filled = text[~missing]
        if len(filled) and filled.map(lambda v: bool(_NUMBER.match(v))).all():
            out[col] = pd.to_numeric(text.where(~missing), errors="coerce")
        elif (len(filled) and sep not in (",", None) and filled.map(lambda v: bool(
                _NUMBER.match(v) or _COMMA_NUMBER.match(v))).all()):
            out[col] = pd.to_numeric(text.where(~missing).str.replace(",", ".", regex=False),
                                     errors="coerce")
        else:
            out[col] = text.where(~missing)
    for col in out.columns:  # whole numbers stay integers when nothing is missing
        if pd.api.types.is_float_dtype(out[col]) and out[col].notna().all() and len(out):
            if (out[col] % 1 == 0).all():
                out[col] = out[col].astype("int64")
    return out


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="strict")
    sample = raw[:4000]
    if sample and sample.count(b"\0") > len(sample) // 4:  # UTF-16 without a byte-order mark
        even_zeros = sample[0::2].count(b"\0") > sample[1::2].count(b"\0")
        try:
            return raw.decode("utf-16-be" if even_zeros else "utf-16-le")
        except UnicodeDecodeError:
            pass
    else:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
        try:
            return raw.decode("cp1252")
        except UnicodeDecodeError:
            pass
    raise ValueError(tr(
        "cannot tell the text encoding of manifest {path!r} (not UTF-8, UTF-16 or "
        "Windows-1252). Open it in Excel or LibreOffice and save it as 'CSV UTF-8', then try again."
    ).format(path=str(path)))


def _separator(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()][:20]
    sample = "\n".join(lines)
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        header = lines[0] if lines else ""
        counts = {d: header.count(d) for d in (";", "\t", ",", "|")}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","
