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


# ----------------------------------------------------------------------------- no lost results
def test_unwritable_out_is_refused_before_any_work(tiny_manifest, tmp_path):
    manifest, params = tiny_manifest
    blocker = tmp_path / "results"
    blocker.write_text("a file where the output folder should be")
    res = radnb("extract", manifest, "--params", params, "--out", blocker / "features.csv",
                "--cache", tmp_path / "c", "--no-progress")
    assert res.returncode == 2
    assert res.stderr.strip().count("\n") == 0 and "Traceback" not in res.stderr
    assert "--out" in res.stderr and "is a file, not a folder" in res.stderr
    assert not (tmp_path / "c").exists()  # refused before extracting anything


def test_user_errors_are_one_line_and_debug_shows_the_traceback(tiny_manifest, tmp_path):
    manifest, params = tiny_manifest
    blocker = tmp_path / "file"
    blocker.write_text("x")
    args = ("extract", manifest, "--params", params, "--out", tmp_path / "f.csv",
            "--cache", blocker / "cache", "--no-progress")
    res = radnb(*args)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "cache_dir" in res.stderr and "cannot be written" in res.stderr
    debug = radnb(*args, "--debug")
    assert debug.returncode != 0 and "Traceback" in debug.stderr
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    res = radnb("extract", empty, "--out", tmp_path / "f.csv")
    assert res.returncode == 2 and "is empty" in res.stderr and "Traceback" not in res.stderr
    empty.write_text("case_id,image,mask\n")
    res = radnb("extract", empty, "--out", tmp_path / "f.csv")
    assert res.returncode == 2 and "no rows" in res.stderr and "Traceback" not in res.stderr
    for n in (2, 0, -5, "two"):
        res = radnb("demo", "--dir", tmp_path / "home", "--n-patients", n)
        assert res.returncode == 2 and "Traceback" not in res.stderr
        assert "--n-patients" in res.stderr
    assert not (tmp_path / "home").exists()


def test_failed_case_messages_are_plain_words(tiny_manifest, tmp_path):
    manifest, params = tiny_manifest
    broken = pd.read_csv(manifest)
    broken.loc[1, "label"] = 3
    broken.to_csv(manifest, index=False)
    res = radnb("extract", manifest, "--params", params, "--out", tmp_path / "f.csv",
                "--cache", tmp_path / "c", "--jobs", 1, "--no-progress")
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "c1" in res.stderr and "no voxel with label 3 (labels present: 1)" in res.stderr
    errors = pd.read_csv(tmp_path / "f_errors.csv")
    assert "not present in mask" in errors.detail.item()  # pyradiomics' own words, kept apart


@pytest.mark.slow
def test_ctrl_c_writes_finished_cases_and_errors_then_exits_130(tmp_path):
    import signal
    import time

    import yaml

    from test_extract import _count_case_entries

    manifest = write_tiny_cases(tmp_path / "data", n=24, seed=3)
    junk = tmp_path / "data" / "junk.nrrd"  # the largest file, so it runs (and fails) first
    junk.write_bytes(b"NRRD0004\n" + bytes(50_000))
    manifest.loc[len(manifest)] = {**manifest.iloc[0].to_dict(), "case_id": "junk",
                                   "image": str(junk)}
    csv = tmp_path / "m.csv"
    manifest.to_csv(csv, index=False)
    params = tmp_path / "slow.yaml"
    params.write_text(yaml.safe_dump({**TINY, "imageType": {"Original": {}, "Wavelet": {}}}))
    out = tmp_path / "features.csv"
    out.write_text("an older result that must not be lost half-way\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "radnb", "extract", str(csv), "--params", str(params), "--out",
         str(out), "--cache", str(tmp_path / "c"), "--jobs", "1", "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while _count_case_entries(tmp_path / "c", 5) < 3 and time.time() < deadline \
            and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    summary = [ln for ln in stderr.splitlines() if "interrupted" in ln]
    assert len(summary) == 1 and "run the same command again" in summary[0]
    table = pd.read_csv(out)
    assert len(table) >= 3 and "junk" not in set(table.case_id)
    assert f"{len(table)} finished rows" in summary[0] and "1 failed" in summary[0]
    assert pd.read_csv(tmp_path / "features_errors.csv").case_id.tolist() == ["junk"]
    again = radnb("extract", csv, "--params", params, "--out", out, "--cache", tmp_path / "c",
                  "--jobs", 1, "--no-progress")
    assert again.returncode == 1 and f"{len(table)} rows from cache" in again.stdout
    assert len(pd.read_csv(out)) == 24
