"""radnb.datasets: data home, sample-case fetcher, problem cases (the demo cohort: test_demo.py)."""
from __future__ import annotations

import os

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
