"""Real published data: radMLBench feature tables and the IBSI soft-tissue-sarcoma images.

Public names are re-exported by :mod:`radnb.datasets`. Files live under the data
home (``data_home`` argument, else ``RADNB_DATA``, else ``~/radnb_data``):
``radmlbench/<name>.gz`` and ``ibsi_sts/{nifti,dicom}/STS_xxx/...``. What is already
there is used as is; nothing is downloaded when the files are present.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import pandas as pd

from radnb._utils.data_home import get_data_home
from radnb._utils.i18n import N_, tr
from radnb._utils.validation import check_option

__all__ = ["fetch_radmlbench", "fetch_ibsi_sts", "IBSI_STS_MODALITIES"]

IBSI_STS_MODALITIES = {"CT": "CT", "MR": "MR_T1", "PET": "PET"}
_IBSI_RAW = "https://raw.githubusercontent.com/theibsi/data_sets/main/ibsi_1_validation"
_IBSI_PAGE = N_("the IBSI 'data_sets' repository on GitHub (theibsi/data_sets), folder ibsi_1_validation")


def fetch_radmlbench(name, data_home=None, *, download=True):
    """A real radiomics feature table from the radMLBench collection.

    The file ``<data_home>/radmlbench/<name>.gz`` is read when present (the
    radMLBench gzip-CSV format: ``ID``, binary ``Target``, one column per
    feature); otherwise the ``radmlbench`` package downloads it there
    (``radMLBench.loadData(name, local_cache_dir=...)``), so the next call
    works offline.

    Parameters
    ----------
    name : str
        Data set name, e.g. ``"Ramella2018"``, ``"LNDb"``, ``"Head-Neck-PET-CT"``.
    data_home : str or Path, optional
        Data folder (default ``RADNB_DATA`` or ``~/radnb_data``).

    download : bool, default True
        If False, only read the local file (never touch the network).
    Returns
    -------
    pandas.DataFrame
        ``case_id`` (the radMLBench ``ID`` as text, so it is never taken for a
        feature), ``Target`` (0/1) and the feature columns. ``df.attrs``
        holds ``name`` and ``path``.

    Raises
    ------
    FileNotFoundError
        When the file is absent and cannot be downloaded (offline, or the
        ``radmlbench`` package is not installed): the message names the file to
        put in place.

    Notes
    -----
    radMLBench (Demircioglu, MIT licence) collects published radiomics tables;
    cite the source study of each table (listed in radMLBench's README).

    Examples
    --------
    >>> df = fetch_radmlbench("Ramella2018")  # doctest: +SKIP
    >>> df["Target"].value_counts()  # doctest: +SKIP
    """
    if not isinstance(name, str) or not name or "/" in name or name.endswith(".gz"):
        raise ValueError(tr("name must be a radMLBench data set name such as 'Ramella2018' "
                            "(without '.gz'); got {value!r}.").format(value=name))
    folder = get_data_home(data_home) / "radmlbench"
    path = folder / f"{name}.gz"
    if not path.exists():
        if not download:
            raise FileNotFoundError(tr("radMLBench table {name!r} is not in {folder}. {hint}").format(
                name=name, folder=folder, hint=_where_radmlbench(path, folder)))
        _download_radmlbench(name, folder, path)
    table = pd.read_csv(path, compression="gzip")
    if "ID" in table.columns:
        table = table.rename(columns={"ID": "case_id"})
        table["case_id"] = table["case_id"].astype(str)
    table.attrs.update(name=name, path=str(path))
    return table


def _where_radmlbench(path, folder):
    return tr("Put the file {file} into {folder} (from the radMLBench 'datasets' folder on "
              "GitHub, aydindemircioglu/radMLBench) and call fetch_radmlbench again.").format(
        file=path.name, folder=folder)


def _download_radmlbench(name, folder, path):
    hint = _where_radmlbench(path, folder)
    try:
        import radMLBench
    except ImportError:
        raise FileNotFoundError(tr(
            "radMLBench table {name!r} is not in {folder}, and the radmlbench package that "
            "downloads it is not installed (pip install radmlbench). {hint}").format(
            name=name, folder=folder, hint=hint)) from None
    known = radMLBench.listDatasets()
    if name not in known:
        raise ValueError(tr("{name!r} is not a radMLBench data set; known: {known}.").format(
            name=name, known=sorted(known)))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        radMLBench.loadData(name, local_cache_dir=str(folder))
    except Exception as exc:  # offline: requests/urllib errors of many kinds
        raise FileNotFoundError(tr("could not download radMLBench table {name!r} ({error}). "
                                   "{hint}").format(name=name, error=exc, hint=hint)) from None


def fetch_ibsi_sts(modalities=("CT", "MR", "PET"), format="nifti", data_home=None, *,
                   download=True, checksums=True):
    """The IBSI validation set: 51 soft-tissue-sarcoma patients, CT / MR T1 / PET with masks.

    Images and tumour masks (``GTV_Mass``) of TCIA's Soft-tissue-Sarcoma
    collection as prepared by the Image Biomarker Standardisation Initiative:
    cropped 5 cm around the tumour, PET in SUV (body weight), MR bias-field
    corrected and normalised. Licence CC BY 3.0; cite Vallieres et al., Phys
    Med Biol 2015;60:5471 and the TCIA collection (see the IBSI README).

    Files are looked for in ``<data_home>/ibsi_sts/<format>/STS_xxx/``:
    NIfTI ``{CT,MR_T1,PET}_{image,mask}.nii.gz``, DICOM
    ``{CT,MR_T1,PET}/image/*.dcm`` and ``.../mask/RS.dcm`` (RTSTRUCT), the
    layout of the IBSI repository.

    Parameters
    ----------
    modalities : sequence of {"CT", "MR", "PET"}
    format : {"nifti", "dicom"}
    data_home : str or Path, optional
    download : bool, default True
        Download missing NIfTI files from the IBSI repository (about 770 MB for
        everything). DICOM is never downloaded: copy the folder yourself.
        Patients whose files are absent after that are left out; with none
        found, an error says where to put the files.
    checksums : bool, default True
        Add a ``sha256`` column (of the image file, or of all files of a DICOM
        series) so a study can record exactly which files it used.

    Returns
    -------
    pandas.DataFrame
        A manifest, one row per patient and modality: ``case_id``
        (``STS_001``), ``modality`` (``CT``, ``MR``, ``PET``), ``image``,
        ``mask`` (paths; for DICOM the series folder and the RTSTRUCT),
        ``label`` (1), ``reader`` (1), ``timepoint`` (1), ``site`` (``"IBSI"``),
        ``units`` (``HU``, ``a.u.``, ``SUV``) and ``sha256``.

    Examples
    --------
    >>> pet = fetch_ibsi_sts(modalities=["PET"])  # doctest: +SKIP
    >>> pet[["case_id", "modality", "units"]].head(2)  # doctest: +SKIP
    """
    check_option("format", format, ("nifti", "dicom"))
    if isinstance(modalities, str):
        modalities = [modalities]
    for m in modalities:
        check_option("modalities", m, tuple(IBSI_STS_MODALITIES))
    root = get_data_home(data_home) / "ibsi_sts" / format
    units = {"CT": "HU", "MR": "a.u.", "PET": "SUV"}
    rows = []
    for i in range(1, 52):
        case = f"STS_{i:03d}"
        for m in modalities:
            tag = IBSI_STS_MODALITIES[m]
            if format == "nifti":
                image, mask = root / case / f"{tag}_image.nii.gz", root / case / f"{tag}_mask.nii.gz"
                if download and not (image.exists() and mask.exists()):
                    if not _download_nifti(case, tag, image, mask):
                        download = False  # offline: do not try the other 100 files
            else:
                image, mask = root / case / tag / "image", root / case / tag / "mask" / "RS.dcm"
            if image.exists() and mask.exists():
                rows.append({"case_id": case, "modality": m, "image": str(image),
                             "mask": str(mask), "label": 1, "reader": 1, "timepoint": 1,
                             "site": "IBSI", "units": units[m]})
    if not rows:
        raise FileNotFoundError(tr(
            "no IBSI soft-tissue-sarcoma {format} files for {modalities} in {root}. Copy "
            "them from {page} (sub-folder {format}/) into {root}, keeping its layout "
            "(e.g. {example}), or call again with a connection to download the NIfTI files.").format(
            format=format, modalities=list(modalities), root=root, page=tr(_IBSI_PAGE),
            example=root / "STS_001" / ("PET_image.nii.gz" if format == "nifti" else "PET/image")))
    manifest = pd.DataFrame(rows)
    if checksums:
        manifest["sha256"] = [_sha256(Path(p)) for p in manifest["image"]]
    return manifest


def _download_nifti(case, tag, image, mask):
    """Download one patient's image and mask atomically; False when offline."""
    from urllib.error import URLError
    from urllib.request import urlopen

    for path in (image, mask):
        if path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        url = f"{_IBSI_RAW}/nifti/{case}/{path.name}"
        try:
            with urlopen(url, timeout=20) as response:
                data = response.read()
        except (URLError, OSError, TimeoutError):
            return False
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    return True


def _sha256(path):
    digest = hashlib.sha256()
    files = sorted(path.rglob("*")) if path.is_dir() else [path]
    for f in files:
        if f.is_file():
            digest.update(f.read_bytes())
    return digest.hexdigest()
