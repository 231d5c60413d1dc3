"""Every tutorial runs top to bottom in English and in Chinese, is stored clean, and stays short.

The English notebooks (``notebooks/en/``) are the source; ``notebooks/zh/`` is generated from
them and the catalogues in ``notebooks/locale/zh/`` (``python -m radnb translate update|build``).
"""
from __future__ import annotations

import json
import re

import nbformat
import pytest

from radnb._notebooks import (
    LANGUAGES, NOTEBOOK_DIR, execute_notebook, insert_solutions, list_notebooks,
    translation_problems,
)

NOTEBOOKS = list_notebooks()
RUNS = [(lang, NOTEBOOK_DIR / lang / p.name) for lang in LANGUAGES for p in NOTEBOOKS]
#: The first cell states the learning goal, in each language.
LEARNING_GOAL = {"en": "learn", "zh": "学习目标"}


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


# ----------------------------------------------------------------------------- translations
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_translation_complete_and_generated(path):
    """zh/NN.ipynb is exactly what `translate build` makes, every markdown cell translated."""
    problems = translation_problems("zh", names=[path.name])
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_translated_notebook_has_identical_code_and_a_learning_goal(path):
    en = json.loads(path.read_text(encoding="utf-8"))
    zh_path = NOTEBOOK_DIR / "zh" / path.name
    assert zh_path.is_file(), f"zh/{path.name} is missing; run `python -m radnb translate build`"
    zh = json.loads(zh_path.read_text(encoding="utf-8"))
    assert [(c["cell_type"], c.get("id")) for c in zh["cells"]] == [
        (c["cell_type"], c.get("id")) for c in en["cells"]], f"zh/{path.name}: cells differ from en"
    differ = [c.get("id") for c, d in zip(_code(en), _code(zh)) if c["source"] != d["source"]]
    assert not differ, f"zh/{path.name}: code cells {differ} differ from en/{path.name}"
    assert all(not c.get("outputs") for c in _code(zh))
    assert zh["metadata"]["kernelspec"] == en["metadata"]["kernelspec"]
    assert LEARNING_GOAL["zh"] in "".join(zh["cells"][0]["source"]) or zh["cells"][0]["source"] == \
        en["cells"][0]["source"], f"zh/{path.name} must open with 学习目标 (the learning goal)"


def _solution_code(path):
    """Each exercise's solution code, comments left out (a translator may translate those)."""
    nb = insert_solutions(nbformat.read(path, as_version=4))
    return [re.sub(r"(?m)^\s*#.*\n?|[ \t]+#.*$", "", c.source) for c in nb.cells
            if "radnb_solution_of" in c.metadata]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_translated_solutions_run_the_same_code(path):
    assert _solution_code(NOTEBOOK_DIR / "zh" / path.name) == _solution_code(path), (
        f"zh/{path.name}: the python code in a <details> solution differs from the English one; "
        "translate only the prose and the comments")


def test_no_translated_notebook_without_english_source():
    extra = {p.name for p in list_notebooks(language="zh")} - {p.name for p in NOTEBOOKS}
    assert not extra, f"notebooks/zh/ has notebooks with no English source: {sorted(extra)}"


def test_solutions_are_inserted_after_their_exercise():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_markdown_cell(
            "## Exercise\n<details><summary>Solution</summary>\n\n```python\ny = x + 1\n```\n"
            "text\n```python\nprint(y)\n```\n</details>"),
        nbformat.v4.new_markdown_cell(
            "<details>\n<!-- solution not run: needs a screen -->\n```python\nopen_viewer()\n```\n"
            "</details>"),
        nbformat.v4.new_code_cell("z = 2")])
    out = insert_solutions(nb)
    assert [c.cell_type for c in out.cells] == ["code", "markdown", "code", "markdown", "code"]
    assert out.cells[2].source == "y = x + 1\nprint(y)"
    assert len(nb.cells) == 4  # the stored notebook is untouched


@pytest.mark.notebook
@pytest.mark.slow
@pytest.mark.parametrize("lang,path", RUNS, ids=[f"{lang}-{p.stem}" for lang, p in RUNS])
def test_notebook_runs(lang, path, data_home, artifacts_dir):
    # working directory = the notebook's folder: notebooks/zh/radnb.toml switches radnb to Chinese.
    # The solutions run in English only: their code is the same in zh (test above), and running
    # it twice would cost minutes of the suite's budget.
    result = execute_notebook(path, timeout=300, html_dir=artifacts_dir / "notebooks" / lang,
                              with_solutions=lang == "en")
    with open(artifacts_dir / "notebook-times.tsv", "a", encoding="utf-8") as fh:
        fh.write(f"{lang}/{path.name}\t{result['seconds']:.1f}\n")
    errors = [
        o for c in _code(result["nb"]) for o in c.get("outputs", []) if o.get("output_type") == "error"
    ]
    assert not errors
    streams = [(c["source"], o.get("name"), o.get("text", "")) for c in _code(result["nb"])
               for o in c.get("outputs", []) if o.get("output_type") == "stream"]
    glyphs = [text for _src, _name, text in streams if re.search(r"Glyph \d+ .*missing", text)]
    assert not glyphs, glyphs  # a plot label drawn without a font for its characters
    if lang != "en":  # what the cells print through radnb.say comes out translated
        printed = {}  # a cell's stdout, in one piece (plt.show() splits it into several outputs)
        for src, name, text in streams:
            if name == "stdout" and "radnb.say(" in src:
                printed[src] = printed.get(src, "") + text
        english = [src.splitlines()[0] for src, text in printed.items()
                   if not re.search(r"[\u4e00-\u9fff]", text)]
        assert not english, f"cells whose radnb.say output has no Chinese: {english}"
    if lang == "en":
        solutions = sum("radnb_solution_of" in c.get("metadata", {}) for c in _code(result["nb"]))
        assert solutions or "```python" not in "".join(
            c["source"] for c in result["nb"]["cells"] if c["cell_type"] == "markdown")


def test_update_keeps_translations_and_flags_changed_cells(tmp_path):
    from radnb._notebooks import build_translation, update_catalogue

    (tmp_path / "en").mkdir()
    source = tmp_path / "en" / "01_x.ipynb"
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("## What you will learn\n- a"),
        nbformat.v4.new_code_cell("print('same code')"),
        nbformat.v4.new_markdown_cell("Old text")])
    ids = [c.id for c in nb.cells]
    nbformat.write(nb, source)
    po = tmp_path / "locale" / "zh" / "01_x.po"
    assert update_catalogue(source, po) == [ids[0], ids[2]]
    text = po.read_text(encoding="utf-8").replace('msgstr ""\n\nmsgctxt', 'msgstr "## 学习目标"\n\nmsgctxt', 1)
    po.write_text(text.replace('"Old text"\nmsgstr ""', '"Old text"\nmsgstr "旧文本"'), encoding="utf-8")
    assert update_catalogue(source, po) == []
    assert build_translation("zh", root=tmp_path) == {}
    zh = nbformat.read(tmp_path / "zh" / "01_x.ipynb", as_version=4)
    assert [c.source for c in zh.cells] == ["## 学习目标", "print('same code')", "旧文本"]
    nb.cells[2].source = "New text"
    nbformat.write(nb, source)
    assert update_catalogue(source, po) == [ids[2]]  # changed English: listed again
    text = po.read_text(encoding="utf-8")
    assert "#, fuzzy" in text and "#. previous English: Old text" in text and 'msgstr "旧文本"' in text
    assert "\n#|" not in text  # Babel writes a multi-line previous msgid as invalid PO
    assert build_translation("zh", root=tmp_path) == {"01_x.ipynb": [ids[2]]}
    assert translation_problems("zh", root=tmp_path)[0].startswith(f"01_x.ipynb: markdown cell {ids[2]}")
