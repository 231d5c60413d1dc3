"""The ``radnb`` command line, run as a real subprocess (``python -m radnb``)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from test_extract import TINY, write_tiny_cases


def radnb(*args, env=None, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "radnb", *map(str, args)], capture_output=True, text=True,
        timeout=timeout, env={**os.environ, **(env or {})},
    )


@pytest.fixture
def tiny_manifest(tmp_path):
    manifest = write_tiny_cases(tmp_path / "data", n=3)
    path = tmp_path / "manifest.csv"
    manifest.to_csv(path, index=False)
    params = tmp_path / "tiny.yaml"
    import yaml

    params.write_text(yaml.safe_dump(TINY))
    return path, params


def test_help_lists_subcommands():
    res = radnb("--help")
    assert res.returncode == 0
    assert all(cmd in res.stdout for cmd in ("extract", "demo", "notebooks"))


def test_extract_writes_table_and_reuses_cache(tiny_manifest, tmp_path):
    manifest, params = tiny_manifest
    out = tmp_path / "out" / "features.parquet"
    res = radnb("extract", manifest, "--params", params, "--out", out, "--jobs", 1,
                "--cache", tmp_path / "c", "--no-progress")
    assert res.returncode == 0, res.stderr
    table = pd.read_parquet(out)
    assert list(table.case_id) == ["c0", "c1", "c2"]
    assert "original_glcm_Contrast" in table.columns
    assert "3 computed" in res.stdout
    # same values as the Python API
    from radnb.extract import extract_features

    api = extract_features(pd.read_csv(manifest), params=TINY, cache_dir=tmp_path / "api", n_jobs=1,
                           progress=False).features
    pd.testing.assert_frame_equal(table[api.columns[4:]], api[api.columns[4:]])
    again = radnb("extract", manifest, "--params", params, "--out", tmp_path / "f.csv",
                  "--cache", tmp_path / "c", "--no-progress")
    assert again.returncode == 0 and "3 rows from cache, 0 computed" in again.stdout
    assert len(pd.read_csv(tmp_path / "f.csv")) == 3


def test_extract_fails_with_summary_when_cases_fail(tiny_manifest, tmp_path):
    manifest, params = tiny_manifest
    broken = pd.read_csv(manifest)
    broken.loc[1, "mask"] = str(tmp_path / "missing_mask.nrrd")
    broken.to_csv(manifest, index=False)
    out = tmp_path / "features.csv"
    res = radnb("extract", manifest, "--params", params, "--out", out, "--jobs", 2,
                "--cache", tmp_path / "c", "--no-progress")
    assert res.returncode == 1
    assert "1 of 3 cases FAILED" in res.stderr and "c1" in res.stderr and "[read]" in res.stderr
    assert list(pd.read_csv(out).case_id) == ["c0", "c2"]
    errors = pd.read_csv(tmp_path / "features_errors.csv")
    assert list(errors.case_id) == ["c1"]


def test_extract_rejects_bad_arguments(tiny_manifest, tmp_path):
    manifest, _ = tiny_manifest
    res = radnb("extract", manifest, "--params", "nonsense", "--out", tmp_path / "f.csv")
    assert res.returncode == 2 and "preset" in res.stderr
    res = radnb("extract", manifest, "--out", tmp_path / "f.xlsx")
    assert res.returncode == 2 and ".parquet or .csv" in res.stderr
    res = radnb("extract", tmp_path / "nowhere.csv", "--out", tmp_path / "f.csv")
    assert res.returncode == 2 and "cannot read manifest" in res.stderr


@pytest.mark.slow
def test_demo_prints_where_the_cohort_is(tmp_path):
    res = radnb("demo", "--dir", tmp_path / "home", "--n-patients", 4)
    assert res.returncode == 0, res.stderr
    line = next(ln for ln in res.stdout.splitlines() if ln.startswith("manifest:"))
    manifest = Path(line.split(":", 1)[1].strip())
    assert manifest.is_file() and manifest.is_relative_to(tmp_path / "home")
    assert "4 patients" in res.stdout


def _notebook(path, code):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("## What you will learn\nnothing"),
                nbformat.v4.new_code_cell(code)]
    nbformat.write(nb, path)


@pytest.mark.slow
def test_notebooks_runs_each_and_reports_failures(tmp_path):
    folder = tmp_path / "nbs"
    folder.mkdir()
    _notebook(folder / "01_fine.ipynb", "x = 1 + 1\nprint(x)")
    _notebook(folder / "02_broken.ipynb", "raise RuntimeError('deliberately broken')")
    res = radnb("notebooks", "--folder", folder, "--html", tmp_path / "html", "--timeout", 60)
    assert res.returncode == 1
    assert "01_fine.ipynb" in res.stdout and "ok" in res.stdout
    assert "02_broken.ipynb" in res.stdout and "FAILED" in res.stdout
    assert "1 of 2 notebooks ran" in res.stdout
    assert (tmp_path / "html" / "01_fine.html").is_file()
