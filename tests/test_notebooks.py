"""Every tutorial notebook runs top to bottom, is stored clean, and stays short."""
from __future__ import annotations

import json
import re

import pytest

from radnb._notebooks import execute_notebook, list_notebooks

NOTEBOOKS = list_notebooks()


def _code(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_stored_clean_with_learning_goal(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert all(not c.get("outputs") and not c.get("execution_count") for c in _code(nb)), (
        f"{path.name} is stored with outputs; clear them before committing"
    )
    first = "".join(nb["cells"][0]["source"]).lower()
    assert nb["cells"][0]["cell_type"] == "markdown" and "learn" in first, (
        f"{path.name} must open with a markdown cell stating what the reader will learn"
    )
    assert all("".join(c["source"]).strip() for c in nb["cells"]), f"{path.name} has empty cells"
    text = "".join("".join(c["source"]) for c in _code(nb))
    assert "filterwarnings(\"ignore\")" not in text and "def " not in text, (
        f"{path.name}: notebooks call radnb; helpers and warning filters belong in the package"
    )
    prose = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "<details>" in prose and "</details>" in prose, (
        f"{path.name} needs exercises with the solution hidden in a <details> block"
    )
    private = sorted(set(re.findall(r"radnb(?:\.\w+)*\._[a-z]\w*", text)))
    assert not private, f"{path.name} uses private names {private}; use the public API"


@pytest.mark.notebook
@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, data_home, artifacts_dir):
    result = execute_notebook(path, timeout=300, html_dir=artifacts_dir / "notebooks")
    with open(artifacts_dir / "notebook-times.tsv", "a", encoding="utf-8") as fh:
        fh.write(f"{path.name}\t{result['seconds']:.1f}\n")
    errors = [
        o for c in _code(result["nb"]) for o in c.get("outputs", []) if o.get("output_type") == "error"
    ]
    assert not errors
