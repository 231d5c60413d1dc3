"""radnb.datasets: data home, sample-case fetcher, problem cases (the demo cohort: test_demo.py)."""
from __future__ import annotations

import os

import pandas as pd
import pytest

from radnb import datasets


def test_data_home_order(tmp_path, monkeypatch):
    assert datasets.get_data_home(tmp_path / "x") == tmp_path / "x"
    monkeypatch.setenv("RADNB_DATA", str(tmp_path / "env"))
    assert datasets.get_data_home() == tmp_path / "env" and (tmp_path / "env").is_dir()


def test_fetch_pyradiomics_cases_from_local_folder(pyradiomics_dir):
    m = datasets.fetch_pyradiomics_cases(pyradiomics_dir, download=False)
    assert m["case_id"].tolist() == list(datasets.PYRADIOMICS_CASES)
    assert all(os.path.exists(p) for p in m["image"]) and all(os.path.exists(p) for p in m["mask"])
    assert m.set_index("case_id").loc["lung1", "modality"] == "CT"


def test_fetch_pyradiomics_cases_checksums_match_local_files(pyradiomics_dir):
    import hashlib

    from radnb.datasets._loaders import _PYRADIOMICS_SHA256

    for name, digest in _PYRADIOMICS_SHA256.items():
        assert hashlib.sha256((pyradiomics_dir / name).read_bytes()).hexdigest() == digest


def test_fetch_pyradiomics_cases_offline_says_where_to_put_files(tmp_path, monkeypatch):
    monkeypatch.setenv("RADNB_DATA", str(tmp_path / "home"))
    with pytest.raises(FileNotFoundError, match="Put the ten files") as info:
        datasets.fetch_pyradiomics_cases(tmp_path / "empty", download=False)
    assert str(tmp_path / "empty") in str(info.value)


def test_fetch_pyradiomics_cases_download_failure_is_clear(tmp_path, monkeypatch):
    import urllib.request

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    monkeypatch.setenv("RADNB_DATA", str(tmp_path / "home"))
    with pytest.raises(FileNotFoundError, match="could not be downloaded"):
        datasets.fetch_pyradiomics_cases(tmp_path / "empty")
    assert not list((tmp_path / "empty").rglob("*.part")), "a failed download must leave no partial file"


def test_make_problem_cases_each_problem_flagged(tmp_path):
    from radnb.cohort import summarize, validate

    cases = datasets.make_problem_cases(tmp_path)
    summary = summarize(validate(cases)).merge(cases[["case_id", "problem"]]).set_index("problem")
    assert summary.loc["ok", "status"] == "ok"
    expected = {
        "missing_file": "does not exist", "unreadable_file": "could not be read",
        "geometry_mismatch": "origin shifted by 3 mm", "empty_mask": "no non-zero voxel",
        "wrong_label": "label=2", "probability_mask": "non-integer", "image_2d": "2D",
    }
    for problem, words in expected.items():
        assert summary.loc[problem, "status"] == "error", problem
        assert words in summary.loc[problem, "problems"], (problem, summary.loc[problem, "problems"])


def test_import_radnb_is_light():
    import subprocess
    import sys

    code = ("import sys, radnb; heavy = [m for m in ('SimpleITK', 'radiomics', 'sklearn', 'matplotlib', "
            "'ipywidgets', 'dask', 'seaborn', 'statsmodels') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- real data: radMLBench tables and the IBSI soft-tissue-sarcoma images --------------------

def test_fetch_radmlbench_reads_the_local_copy(radmlbench_home):
    import hashlib

    import pandas as pd

    df = datasets.fetch_radmlbench("Ramella2018")
    # the radMLBench format: ID, Target, features; ID becomes a text case_id
    raw = pd.read_csv(radmlbench_home / "radmlbench" / "Ramella2018.gz")
    assert df.shape == raw.shape and list(df.columns[-1:]) == list(raw.columns[-1:])
    assert df["case_id"].dtype == object and df["case_id"].tolist() == raw["ID"].astype(str).tolist()
    assert df["Target"].value_counts().to_dict() == {1: 50, 0: 41}  # as the data README says
    assert df.attrs["name"] == "Ramella2018"
    lndb = datasets.fetch_radmlbench("LNDb", data_home=radmlbench_home)
    assert lndb.shape == (173, 107)
    digest = hashlib.sha256(open(df.attrs["path"], "rb").read()).hexdigest()
    assert len(digest) == 64


def test_fetch_radmlbench_offline_names_the_folder(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_radmlbench(name, *args, **kwargs):  # the package is not installed here either way
        if name == "radMLBench":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_radmlbench)
    with pytest.raises(FileNotFoundError, match=r"Put the file WORC-Lipo.gz into .*radmlbench"):
        datasets.fetch_radmlbench("WORC-Lipo", data_home=tmp_path)
    with pytest.raises(ValueError, match="without '.gz'"):
        datasets.fetch_radmlbench("WORC-Lipo.gz", data_home=tmp_path)


def test_fetch_ibsi_sts_pet_manifest_with_checksums(ibsi_sts_home):
    import hashlib

    import SimpleITK as sitk

    pet = datasets.fetch_ibsi_sts(modalities=["PET"], download=False)
    assert len(pet) == 51 and (pet["modality"] == "PET").all() and (pet["units"] == "SUV").all()
    assert pet["case_id"].iloc[0] == "STS_001" and pet["case_id"].is_unique
    first = pet.iloc[0]
    assert first["sha256"] == hashlib.sha256(open(first["image"], "rb").read()).hexdigest()
    img, mask = sitk.ReadImage(first["image"]), sitk.ReadImage(first["mask"])
    assert img.GetSize() == mask.GetSize()
    assert sitk.GetArrayViewFromImage(img).max() > 1  # SUV, not counts scaled to [0, 1]
    # a manifest radnb's cohort step accepts
    from radnb.cohort import load_manifest

    assert len(load_manifest(pet)) == 51


def test_fetch_ibsi_sts_dicom_and_offline_message(ibsi_sts_home, tmp_path):
    ct = datasets.fetch_ibsi_sts(modalities="CT", format="dicom", download=False)
    assert ct["case_id"].tolist() == ["STS_002", "STS_003", "STS_012"]
    assert all(p.endswith("RS.dcm") for p in ct["mask"]) and ct["sha256"].str.len().eq(64).all()
    with pytest.raises(FileNotFoundError, match=r"Copy them from the IBSI .* into .*ibsi_sts"):
        datasets.fetch_ibsi_sts(modalities=["MR"], data_home=tmp_path, download=False)
    with pytest.raises(ValueError, match="format must be one of"):
        datasets.fetch_ibsi_sts(format="nrrd", data_home=tmp_path)


def test_fetch_radmlbench_unknown_name_lists_the_known_ones(tmp_path):
    pytest.importorskip("radMLBench")
    with pytest.raises(ValueError, match=r"not a radMLBench data set; known: .*Ramella2018"):
        datasets.fetch_radmlbench("NoSuchTable", data_home=tmp_path)


# --- the real data of the tutorials in one call (python -m radnb fetch) ------------------------

def test_fetch_tutorial_data_check_says_what_is_missing_and_where(tmp_path, capsys, monkeypatch):
    from radnb.__main__ import main
    from radnb.datasets import TUTORIAL_DATA, fetch_tutorial_data

    monkeypatch.setenv("RADNB_DATA", str(tmp_path))  # no fallback to the session's data folder
    status = fetch_tutorial_data(tmp_path, download=False)
    assert status["name"].tolist() == list(TUTORIAL_DATA) and not status["ready"].any()
    for row in status.itertuples():  # every message says where the files go
        assert str(tmp_path) in row.detail, row.detail
    assert main(["fetch", "--check", "--dir", str(tmp_path), "LNDb"]) == 1
    out = capsys.readouterr().out
    assert "MISSING" in out and "LNDb.gz" in out and "1 of 1 data sets are missing" in out
    with pytest.raises(ValueError, match="names must be one of .*'LNDb'.*got 'lndb'"):
        fetch_tutorial_data(tmp_path, names=["lndb"])
    assert main(["fetch", "--check", "--dir", str(tmp_path), "lndb"]) == 2


def test_fetch_tutorial_data_finds_local_copies(shared_data, tmp_path, capsys):
    from radnb.__main__ import main
    from radnb.datasets import fetch_tutorial_data
    from radnb.genomics import HALLMARK_VERSION

    for name in ("pyradiomics", "ibsi_sts"):
        (tmp_path / name).symlink_to(shared_data / name)
    (tmp_path / "radmlbench").mkdir()
    for name in ("LNDb", "NSCLC-Radiogenomics"):
        (tmp_path / "radmlbench" / f"{name}.gz").symlink_to(shared_data / "radmlbench" / f"{name}.gz")
    (tmp_path / "msigdb").mkdir()
    (tmp_path / "msigdb" / f"h.all.v{HALLMARK_VERSION}.symbols.gmt").write_text(
        "HALLMARK_HYPOXIA\thttps://x\tADM\tADORA2B\tAK4\n")
    names = ["pyradiomics", "LNDb", "NSCLC-Radiogenomics", "ibsi_sts_pet", "hallmark"]
    status = fetch_tutorial_data(tmp_path, names=names, download=False).set_index("name")
    assert status["ready"].all(), status["detail"].to_dict()
    assert status.loc["pyradiomics", "detail"].startswith("5 cases in ")
    assert status.loc["ibsi_sts_pet", "detail"].startswith("51 patients in ")
    lndb = pd.read_csv(shared_data / "radmlbench" / "LNDb.gz", compression="gzip")
    assert status.loc["LNDb", "detail"].startswith(f"{len(lndb)} patients, {lndb.shape[1] - 2} features")
    assert main(["fetch", "--check", "--dir", str(tmp_path), *names]) == 0
    assert capsys.readouterr().out.count("ready") == len(names)
