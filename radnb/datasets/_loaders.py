"""Generate, fetch and load radnb's data: the demo cohort, problem cases, pyradiomics' samples.

Public names are re-exported by :mod:`radnb.datasets`, which documents the step.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from radnb._utils.data_home import get_data_home
from radnb._utils.i18n import tr


PYRADIOMICS_CASES = ("brain1", "brain2", "breast1", "lung1", "lung2")

# SHA-256 of pyradiomics' public sample files (release v1.0 assets of the
# pyradiomics repository, the files ``radiomics.getTestCase`` downloads).
_PYRADIOMICS_SHA256 = {
    "brain1_image.nrrd": "fffdb111ee8b428ede7256707393c927a7d5be912f0604cf3c6f1bd5fc9644cf",
    "brain1_label.nrrd": "ae6d8e6b84f7e99d68c210ee2fa6aaaefa0b2df0a84f55efca4feebe2b216059",
    "brain2_image.nrrd": "d35a1c6a3e1eb72bae97c5515472fbe057fb38ee8e1e199215d1c3c6f292332e",
    "brain2_label.nrrd": "15189c024936ecc337649b9a10c475117c7c40df0d53c22163f9a2023ed741a5",
    "breast1_image.nrrd": "0e8b668f3ce9b9aacff20dc3c216866f43069ff96b269fb45b76f5e205a431e2",
    "breast1_label.nrrd": "07085bb0e36a956de5bd1c1c1b5f8bdf2ce80952125b13cbd352412c108c8950",
    "lung1_image.nrrd": "379fa48bf34cfa961e6f5ec19c0c38757a30b9aa884212ef28dc29b5061c64ed",
    "lung1_label.nrrd": "e9d9a88054d7bc1d3034193ff907ce6b8c6ba28a7bc3a16f23728982d1b6b50a",
    "lung2_image.nrrd": "aa2b94eec79127ed786798ac8dc3c013010e1692d5787bebfae1a1e9685a4651",
    "lung2_label.nrrd": "cef52738dc51aab69a48fe30639da956d2b911b1c2920439c091fab84727657a",
}
_PYRADIOMICS_URL = "https://github.com/AIM-Harvard/pyradiomics/releases/download/v1.0/{name}"
_PYRADIOMICS_MODALITY = {"brain1": "MR", "brain2": "MR", "breast1": "MR", "lung1": "CT", "lung2": "CT"}

_DEMO_DIRNAME = "demo_cohort"


def make_demo_cohort(directory, n_patients: int = 120, n_sites: int = 3, seed: int = 0):
    """Generate radnb's synthetic multi-centre CT cohort and return its manifest.

    The scenario: deep soft-tissue masses of the limbs and trunk wall on
    venous-phase contrast-enhanced CT, histopathology as the reference standard
    (``outcome`` 1 = soft-tissue sarcoma); the radiologist's ``suspicion`` score
    and ``diameter_mm`` are the comparators. The planted effects (outcome signal, site effects, test-retest, second reader)
    and their strengths are documented in ``docs/demo-cohort.md``; per-patient
    truth is in ``ground_truth.csv``. Patient ``P001`` is also written as DICOM
    (CT series, RTSTRUCT per reader, DICOM-SEG), listed in ``dicom_manifest.csv``.
    Same ``seed`` gives byte-identical files.

    Parameters
    ----------
    directory : str or Path
        Folder to write into (created). Files: ``images/``, ``masks/``,
        ``dicom/``, ``manifest.csv``, ``dicom_manifest.csv``, ``genes.csv``,
        ``ground_truth.csv``.
    n_patients : int, default 120
    n_sites : int, default 3
    seed : int, default 0

    Returns
    -------
    pandas.DataFrame
        The manifest: one row per image + mask pair (see :mod:`radnb.cohort`).

    Examples
    --------
    >>> manifest = make_demo_cohort("/tmp/demo", n_patients=6)  # doctest: +SKIP
    >>> manifest[["case_id", "site", "reader", "timepoint"]].head()  # doctest: +SKIP
    """
    from radnb.datasets._demo import make_demo_cohort as _make

    return _make(directory, n_patients=n_patients, n_sites=n_sites, seed=seed)


def make_problem_cases(directory, seed: int = 0):
    """Write one small image + mask pair per common data problem; return the manifest.

    For learning what :func:`radnb.cohort.validate` reports: a correct pair and
    pairs with a missing file, an unreadable file, a geometry mismatch, an
    empty mask, a wrong label, a probability (non-integer) mask and a 2D image.
    The ``problem`` column names each.

    Examples
    --------
    >>> from radnb.cohort import validate, summarize
    >>> cases = make_problem_cases("/tmp/problems")  # doctest: +SKIP
    >>> summarize(validate(cases))  # doctest: +SKIP
    """
    from radnb.datasets._problems import make_problem_cases as _make

    return _make(directory, seed=seed)


def load_demo_cohort(data_home=None, *, n_patients: int = 120, n_sites: int = 3, seed: int = 0):
    """Return the demo cohort's manifest, generating it on first use.

    The cohort is written once to ``<data_home>/demo_cohort[-<variant>]`` and
    reused afterwards (generation is atomic: an interrupted run leaves nothing
    half-written behind).

    Examples
    --------
    >>> manifest = load_demo_cohort()  # doctest: +SKIP
    >>> manifest.case_id.nunique()  # doctest: +SKIP
    120
    """
    from radnb.cohort import load_manifest

    folder = _demo_folder(data_home, n_patients, n_sites, seed)
    if not _demo_is_current(folder):
        with _lock(folder.with_name(folder.name + ".lock")):  # one generator at a time
            if not _demo_is_current(folder):
                tmp = Path(tempfile.mkdtemp(prefix=".tmp-demo-", dir=folder.parent))
                try:
                    make_demo_cohort(tmp, n_patients=n_patients, n_sites=n_sites, seed=seed)
                    shutil.rmtree(folder, ignore_errors=True)  # a stale, incomplete folder
                    tmp.rename(folder)
                finally:
                    shutil.rmtree(tmp, ignore_errors=True)
    from radnb._utils.provenance import record  # what radnb.Study reports (no-op outside one)
    record("datasets.load_demo_cohort", source="synthetic demo cohort generated by radnb "
           "(radnb.datasets.make_demo_cohort); no patient data", n_patients=n_patients,
           n_sites=n_sites, seed=seed, modality="simulated contrast-enhanced CT (venous phase)",
           segmentation="simulated masks of a primary and a second reader")
    return load_manifest(folder / "manifest.csv")


def load_demo_genes(data_home=None, *, n_patients: int = 120, n_sites: int = 3, seed: int = 0):
    """Return the demo cohort's gene-expression table (patients x genes)."""
    import pandas as pd

    load_demo_cohort(data_home, n_patients=n_patients, n_sites=n_sites, seed=seed)
    folder = _demo_folder(data_home, n_patients, n_sites, seed)
    return pd.read_csv(folder / "genes.csv")


def load_demo_features(
    data_home=None,
    *,
    params="ct",
    reader=1,
    timepoint=1,
    n_patients: int = 120,
    n_sites: int = 3,
    seed: int = 0,
    progress: bool = True,
):
    """Extract (cached) features of the demo cohort, joined with the clinical columns.

    A shortcut for the statistics tutorials: the first call runs
    :func:`radnb.extract.extract_features` (a minute or so), later calls read
    the cache in ``<data_home>/cache``.

    Parameters
    ----------
    params : str, dict or path, default "ct"
        Extraction settings, as in :func:`radnb.extract.extract_features`.
    reader, timepoint : int or None
        Keep only these rows of the manifest; ``None`` keeps all.

    Returns
    -------
    pandas.DataFrame
        One row per kept manifest row: identifiers, clinical columns
        (``outcome``, ``time``, ``event``, ``age``, ...) and feature columns.
    """
    from radnb.extract import extract_features

    manifest = load_demo_cohort(data_home, n_patients=n_patients, n_sites=n_sites, seed=seed)
    if reader is not None:
        manifest = manifest[manifest["reader"] == reader]
    if timepoint is not None:
        manifest = manifest[manifest["timepoint"] == timepoint]
    result = extract_features(
        manifest.reset_index(drop=True),
        params=params,
        cache_dir=get_data_home(data_home) / "cache",
        progress=progress,
    )
    keys = ["case_id", "timepoint", "reader"]
    clinical = manifest.drop(columns=["image", "mask"], errors="ignore")
    extra = [c for c in clinical.columns if c not in result.features.columns or c in keys]
    return clinical[extra].merge(result.features, on=keys, how="inner").reset_index(drop=True)


def fetch_pyradiomics_cases(data_home=None, *, download: bool = True):
    """Return a manifest of pyradiomics' five public sample cases.

    Looks for ``<name>_image.nrrd`` / ``<name>_label.nrrd`` in ``data_home`` (or
    its ``pyradiomics`` subfolder), then in ``$RADNB_DATA/pyradiomics``; missing
    files are downloaded from pyradiomics' public release assets and checked
    against their SHA-256.

    Parameters
    ----------
    data_home : str or Path, optional
        A folder that already holds the files, or where to put them.
    download : bool, default True
        If False, never touch the network.

    Returns
    -------
    pandas.DataFrame
        Manifest with ``case_id`` (brain1, brain2, breast1, lung1, lung2),
        ``image``, ``mask``, ``label`` (1), ``reader``, ``timepoint``,
        ``site`` and ``modality``.

    Raises
    ------
    FileNotFoundError
        When a file is missing and cannot be downloaded (offline); the message
        says where to put the files.

    Examples
    --------
    >>> cases = fetch_pyradiomics_cases("../shared/data/pyradiomics")  # doctest: +SKIP
    """
    import pandas as pd

    folder = _find_pyradiomics_folder(data_home)
    rows = []
    for case in PYRADIOMICS_CASES:
        paths = {}
        for kind in ("image", "label"):
            name = f"{case}_{kind}.nrrd"
            path = folder / name
            if not path.exists():
                if not download:
                    raise FileNotFoundError(_missing_message(folder, name))
                _download(name, path)
            paths[kind] = path
        rows.append(
            {
                "case_id": case, "image": str(paths["image"]), "mask": str(paths["label"]),
                "label": 1, "reader": 1, "timepoint": 1, "site": "pyradiomics",
                "modality": _PYRADIOMICS_MODALITY[case],
            }
        )
    return pd.DataFrame(rows)


@contextlib.contextmanager
def _lock(path: Path):
    """Exclusive inter-process lock on ``path`` (a no-op where ``fcntl`` is missing)."""
    try:
        import fcntl
    except ImportError:  # Windows: atomic rename still prevents half-written folders
        yield
        return
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _demo_is_current(folder: Path) -> bool:
    """True if ``folder`` holds a demo cohort of the current design.

    A cohort generated by radnb before the soft-tissue-sarcoma scenario (no
    ``suspicion`` column) is regenerated, so the tutorials never meet old columns.
    """
    path = folder / "manifest.csv"
    if not path.exists():
        return False
    with open(path, encoding="utf-8") as fh:
        return "suspicion" in fh.readline().split(",")


def _demo_folder(data_home, n_patients, n_sites, seed) -> Path:
    name = _DEMO_DIRNAME
    if (n_patients, n_sites, seed) != (120, 3, 0):
        name += f"-n{n_patients}-s{n_sites}-seed{seed}"
    return get_data_home(data_home) / name


def _find_pyradiomics_folder(data_home) -> Path:
    candidates = []
    if data_home is not None:
        candidates += [Path(data_home).expanduser(), Path(data_home).expanduser() / "pyradiomics"]
    candidates.append(get_data_home() / "pyradiomics")
    for c in candidates:
        if (c / "brain1_image.nrrd").exists():
            return c
    target = candidates[1] if data_home is not None else candidates[-1]
    target.mkdir(parents=True, exist_ok=True)
    return target


def _missing_message(folder, name):
    return tr(
        "pyradiomics sample file {name!r} is not in {folder!r} and could not be downloaded "
        "(offline?). Put the ten files brain1_image.nrrd ... lung2_label.nrrd (from "
        "{url}) in that folder, or pass data_home= a folder that "
        "holds them, or set the RADNB_DATA environment variable."
    ).format(name=name, folder=str(folder), url=_PYRADIOMICS_URL.format(name=""))


def _download(name: str, path: Path) -> None:
    url = _PYRADIOMICS_URL.format(name=name)
    tmp = path.with_name(path.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=30) as response, open(tmp, "wb") as out:
            shutil.copyfileobj(response, out)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        tmp.unlink(missing_ok=True)
        raise FileNotFoundError(_missing_message(path.parent, name) + f" ({exc})") from exc
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    if digest != _PYRADIOMICS_SHA256[name]:
        tmp.unlink(missing_ok=True)
        raise OSError(tr(
            "downloaded {name!r} has SHA-256 {digest}, expected {expected}; "
            "the download was corrupted, try again.").format(
            name=name, digest=digest, expected=_PYRADIOMICS_SHA256[name]))
    os.replace(tmp, path)
