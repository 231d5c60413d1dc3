"""Get (or check) every real data set the tutorials use, in one call: for Binder images and courses.

Public names are re-exported by :mod:`radnb.datasets`, which documents the step.
"""
from __future__ import annotations

from pathlib import Path

from radnb._utils.i18n import N_, _

#: name -> (what it is, the tutorials that use it)
TUTORIAL_DATA = {
    "pyradiomics": (N_("pyradiomics' five sample cases (CT, MR)"), "01, 02"),
    "Ramella2018": (N_("radMLBench feature table Ramella2018 (lung CT)"), "11"),
    "LNDb": (N_("radMLBench feature table LNDb (lung nodules)"), "11"),
    "NSCLC-Radiogenomics": (N_("radMLBench feature table NSCLC-Radiogenomics (EGFR)"), "13"),
    "ibsi_sts_pet": (N_("IBSI soft-tissue sarcoma FDG-PET in SUV, 51 patients (NIfTI)"), "11"),
    "hallmark": (N_("MSigDB Hallmark gene sets"), "13"),
}


def fetch_tutorial_data(data_home=None, *, names=None, download=True):
    """Download the real data the tutorials use, or check which of it is already there.

    The tutorials run on the generated demo cohort; a few sections add real data
    (see :data:`TUTORIAL_DATA`), which they download on first use. Call this once
    before a course, or when a Binder image is built (``binder/postBuild`` runs
    ``python -m radnb fetch``), so that a class does not download it a hundred
    times. One data set that cannot be had never stops the others.

    Parameters
    ----------
    data_home : str or Path, optional
        See :func:`get_data_home`.
    names : list of str, optional
        Some of :data:`TUTORIAL_DATA`'s keys; default all.
    download : bool, default True
        False only checks the local files (never touches the network).

    Returns
    -------
    pandas.DataFrame
        One row per data set: ``name``, ``data`` (what it is), ``tutorials``,
        ``ready`` (bool), ``detail`` (what was found, or what is wrong and where
        to put the files).

    Examples
    --------
    >>> status = fetch_tutorial_data(download=False)  # doctest: +SKIP
    >>> status[["name", "ready"]]  # doctest: +SKIP
    """
    import pandas as pd

    from radnb._utils.validation import check_option

    names = list(TUTORIAL_DATA) if names is None else list(names)
    for name in names:
        check_option("names", name, tuple(TUTORIAL_DATA))
    rows = []
    for name in names:
        what, tutorials = TUTORIAL_DATA[name]
        try:
            detail, ready = _get(name, data_home, download), True
        except (OSError, ValueError, RuntimeError) as exc:  # offline, partial, unreadable
            detail, ready = str(exc), False
        rows.append({"name": name, "data": _(what), "tutorials": tutorials, "ready": ready,
                     "detail": detail})
    return pd.DataFrame(rows)


def _get(name, data_home, download):
    from radnb.datasets._loaders import fetch_pyradiomics_cases, get_data_home
    from radnb.datasets._real import fetch_ibsi_sts, fetch_radmlbench

    if name == "pyradiomics":
        cases = fetch_pyradiomics_cases(data_home, download=download)
        folder = Path(cases["image"].iloc[0]).parent
        return _("{n} cases in {folder}").format(n=len(cases), folder=folder)
    if name == "ibsi_sts_pet":
        pet = fetch_ibsi_sts(("PET",), "nifti", data_home, download=download, checksums=False)
        folder = Path(pet["image"].iloc[0]).parents[1]  # <root>/STS_xxx/PET_image.nii.gz
        if len(pet) < 51:
            raise FileNotFoundError(_("only {n} of 51 patients in {folder}; call again with a "
                                      "connection to download the others.").format(n=len(pet), folder=folder))
        return _("{n} patients in {folder}").format(n=len(pet), folder=folder)
    if name == "hallmark":
        from radnb.genomics import fetch_hallmark_gene_sets

        sets = fetch_hallmark_gene_sets(data_home, download=download)
        return _("{n} gene sets in {folder}").format(n=len(sets), folder=get_data_home(data_home) / "msigdb")
    table = fetch_radmlbench(name, data_home, download=download)
    return _("{n} patients, {p} features in {path}").format(
        n=len(table), p=table.shape[1] - 2, path=table.attrs["path"])
