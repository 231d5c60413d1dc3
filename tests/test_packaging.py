"""Packaging and set-up files stay consistent: lock file, Binder pins, the two commands."""
from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _locked_versions():
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    versions = {}
    for pkg in lock["package"]:
        versions.setdefault(pkg["name"].lower(), set()).add(pkg["version"])
    return versions


def test_binder_requirements_match_the_lock_file():
    locked = _locked_versions()
    lines = [ln for ln in (ROOT / "binder" / "requirements.txt").read_text().splitlines()
             if ln and not ln.startswith("#")]
    assert len(lines) > 50
    for line in lines:
        m = re.match(r"^([A-Za-z0-9_.\-\[\]]+)==([^ ;]+)", line)
        assert m, f"binder/requirements.txt line is not pinned: {line!r}"
        name = re.sub(r"\[.*\]", "", m.group(1)).lower()
        assert m.group(2) in locked.get(name, set()), (
            f"{name}=={m.group(2)} in binder/requirements.txt differs from uv.lock {locked.get(name)}; "
            "run binder/export_requirements.sh"
        )
    # pyradiomics cannot be built under repo2docker's build isolation: postBuild builds it
    assert not any(ln.lower().startswith("pyradiomics") for ln in lines)
    post = (ROOT / "binder" / "postBuild").read_text()
    assert "--no-build-isolation pyradiomics==3.0.1" in post and "--no-deps ." in post
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"


def test_pyradiomics_is_pinned_and_buildable():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    deps = project["project"]["dependencies"]
    assert "pyradiomics==3.0.1; python_version < '3.12'" in deps
    assert project["tool"]["uv"]["extra-build-dependencies"]["pyradiomics"] == [
        "numpy", "setuptools", "versioneer"]
    assert "3.0.1" in _locked_versions()["pyradiomics"]


def test_readme_commands_are_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    first = re.findall(r"^\./dev\.sh (\w+)", readme, flags=re.M)[:2]
    assert first == ["lab", "test"]
    assert "exec ./dev.sh test" in (ROOT / ".ci" / "run").read_text()


def test_dev_sh_help_lists_the_commands():
    out = subprocess.run(["bash", str(ROOT / "dev.sh"), "help"], capture_output=True, text=True)
    assert out.returncode == 0 and "./dev.sh lab" in out.stdout and "./dev.sh test" in out.stdout
