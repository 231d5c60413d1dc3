"""The glossary and the instructor kit stay complete, consistent and in sync with their sources."""
from __future__ import annotations

import csv
import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


glossary_renderer = _load(DOCS / "render_glossary.py", "render_glossary")

# Terms fixed by the project's terminology seed (Chinese radiology usage); the first four are
# the ones issue #16 names. A translation that changes them must change this list on purpose.
SEED = {
    "radiomics": "影像组学",
    "region of interest (ROI)": "感兴趣区 (ROI)",
    "intraclass correlation coefficient (ICC)": "组内相关系数 (ICC)",
    "decision curve analysis (DCA)": "决策曲线分析 (DCA)",
    "segmentation": "分割",
    "mask": "掩膜",
    "feature extraction": "特征提取",
    "grey-level co-occurrence matrix (GLCM)": "灰度共生矩阵 (GLCM)",
    "bin width": "灰度离散化的组距 (bin width)",
    "harmonisation": "协调化 (harmonization)",
    "Rad-score": "影像组学评分 (Rad-score)",
    "nomogram": "列线图",
    "nested cross-validation": "嵌套交叉验证",
    "data leakage": "数据泄露",
    "area under the curve (AUC)": "曲线下面积 (AUC)",
    "net benefit": "净获益",
    "threshold probability": "阈值概率",
    "false discovery rate (FDR)": "错误发现率 (FDR)",
    "Table 1": "基线特征表 (Table 1)",
    "exercise": "练习",
    "solution": "参考答案",
}


@pytest.fixture(scope="module")
def glossary():
    with open(DOCS / "glossary.csv", encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == ["english", "chinese", "definition_en", "definition_zh"]
        return list(reader)


def test_glossary_terms_are_unique_complete_and_follow_the_seed(glossary):
    assert 80 <= len(glossary) <= 130, f"the glossary has {len(glossary)} terms; aim for 80-120"
    english = [row["english"] for row in glossary]
    duplicates = sorted({t for t in english if english.count(t) > 1})
    assert not duplicates, f"English terms listed twice in docs/glossary.csv: {duplicates}"
    empty = [(row["english"] or "?", col) for row in glossary for col, text in row.items()
             if not (text or "").strip()]
    assert not empty, f"empty cells in docs/glossary.csv (term, column): {empty}"
    chinese = {row["english"]: row["chinese"] for row in glossary}
    wrong = {term: (chinese.get(term), zh) for term, zh in SEED.items() if chinese.get(term) != zh}
    assert not wrong, f"glossary terms differ from the terminology seed (found, expected): {wrong}"
    for row in glossary:  # a Chinese definition is Chinese, an English one is not
        assert re.search(r"[\u4e00-\u9fff]", row["definition_zh"]), row["english"]
        assert not re.search(r"[\u4e00-\u9fff]", row["definition_en"]), row["english"]


def test_glossary_markdown_is_rendered_from_the_csv(glossary):
    expected = glossary_renderer.render(glossary)
    actual = (DOCS / "glossary.md").read_text(encoding="utf-8")
    assert actual == expected, "docs/glossary.md is out of date: run python docs/render_glossary.py"
    assert actual.count("\n| ") == len(glossary) + 1  # header + one table row per term


# ---------------------------------------------------------------- instructor kit (docs/workshop)

KIT = DOCS / "workshop"
kit_tables = _load(KIT / "build_tables.py", "build_tables")
timings = _load(ROOT / "benchmarks" / "notebook_timings.py", "notebook_timings")
READMES = {"en": KIT / "README.md", "zh": KIT / "README.zh.md"}


def _text(lang: str) -> str:
    return READMES[lang].read_text(encoding="utf-8")


def test_kit_tables_are_generated_from_the_measurements():
    assert kit_tables.outdated() == [], (
        "docs/workshop READMEs differ from notebook_timings.tsv: run python docs/workshop/build_tables.py"
    )


def test_measurements_cover_every_notebook_once():
    rows, summary = kit_tables.read_measurements()
    measured = [r["notebook"] for r in rows]
    current = [p.stem for p in sorted(timings.notebook_folder().glob("[0-9][0-9]_*.ipynb"))]
    assert measured == current, (
        "docs/workshop/notebook_timings.tsv does not list the current notebooks: run "
        "python benchmarks/notebook_timings.py, then python docs/workshop/build_tables.py"
    )
    assert all(r["status"] == "ok" for r in rows) and summary["failed"] == "none"
    assert int(summary["notebooks"]) == len(rows)
    assert int(summary["peak_tree_rss_mb"]) == max(int(r["peak_tree_rss_mb"]) for r in rows)
    assert int(summary["peak_kernel_rss_mb"]) == max(int(r["peak_kernel_rss_mb"]) for r in rows)


def test_schedules_follow_the_stated_assumptions_and_fit_a_day():
    rows, _ = kit_tables.read_measurements()
    row = {"notebook": "99_x", "exec_s": "90", "md_words": "1200", "exercises": "3"}
    # 1.5 min execution + 1200 words at the reading rate + 3 exercises
    expected = 1.5 + 1200 / kit_tables.READING_WPM + 3 * kit_tables.EXERCISE_MIN
    assert kit_tables.notebook_minutes(row) == pytest.approx(expected)
    assert kit_tables.session_minutes([row], ["99"]) % kit_tables.ROUND_MIN == 0
    assert kit_tables.session_minutes([row], ["99"]) >= expected
    numbers = sorted(r["notebook"][:2] for r in rows)
    two_day = sorted(n for day in kit_tables.TWO_DAY for _, _, nbs in day for n in nbs)
    assert two_day == numbers, "the two-day schedule must teach every notebook exactly once"
    one_day = [n for day in kit_tables.ONE_DAY for _, _, nbs in day for n in nbs]
    assert one_day == [f"{k:02d}" for k in range(11)], "the one-day schedule is the core path 00-10"
    for lang in READMES:  # both languages state the assumptions the tables use
        text = _text(lang)
        assert str(kit_tables.READING_WPM) in text and f"{kit_tables.EXERCISE_MIN} " in text
        assert f"{kit_tables.EXERCISE_MIN_TWO_DAY} " in text
    for days, pace in ((kit_tables.ONE_DAY, kit_tables.EXERCISE_MIN),
                       (kit_tables.TWO_DAY, kit_tables.EXERCISE_MIN_TWO_DAY)):
        table, teaching = kit_tables.schedule(rows, days, "en", pace)
        ends = re.findall(r"^\| (\d\d:\d\d) \| End \|", table, flags=re.M)
        assert len(ends) == len(days) and all(end <= "18:30" for end in ends), (
            f"a course day ends at {ends}: move a notebook to the other day or to self-study"
        )
        assert all(minutes > 0 for minutes in teaching)


def test_both_languages_have_the_same_structure():
    en, zh = _text("en"), _text("zh")
    assert re.findall(r"^#{2,3} ", en, flags=re.M) == re.findall(r"^#{2,3} ", zh, flags=re.M)
    assert re.findall(r"generated:[\w-]+", en) == re.findall(r"generated:[\w-]+", zh)
    assert en.count("<details>") == zh.count("<details>") >= 4  # discussion questions, hidden answers
    assert en.count("</details>") == en.count("<details>") and zh.count("</details>") == zh.count("<details>")
    assert "README.zh.md" in en and "README.md" in zh and "../glossary.md" in en and "../glossary.md" in zh
    assert len(re.findall(r"[\u4e00-\u9fff]", zh)) > 2000, "README.zh.md must be written in Chinese"
    rows, _ = kit_tables.read_measurements()
    for r in rows:  # objectives and prerequisites for every notebook, in both languages
        assert f"| `{r['notebook']}` |" in en and f"| `{r['notebook']}` |" in zh
    for text in (en, zh):  # the parts that cannot run here say so
        assert text.lower().count("on paper, not tested here") + text.count("仅为书面方案，未在此测试") >= 4


def _yaml_block(text: str) -> dict:
    import yaml

    block = re.search(r"<!-- BEGIN generated:z2jh -->\n```yaml\n(.*?)```", text, flags=re.S)
    return yaml.safe_load(block.group(1))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_hub_recipes_use_the_measured_sizing_and_the_binder_files(lang):
    rows, summary = kit_tables.read_measurements()
    size = kit_tables.sizing(rows, summary)
    peak = max(max(int(r["peak_tree_rss_mb"]), int(r["peak_kernel_rss_mb"])) for r in rows)
    peak += float(summary["server_rss_mb"])
    assert size["guarantee"].endswith("M") and int(size["guarantee"][:-1]) >= peak
    assert int(size["limit"][:-1]) >= peak * (1 + kit_tables.HEADROOM)
    config = _yaml_block(_text(lang))
    user = config["singleuser"]
    assert user["memory"] == {"guarantee": size["guarantee"], "limit": size["limit"]}
    assert user["cpu"]["guarantee"] == size["cpu_guarantee"] and user["image"]["name"].endswith("/radnb")
    assert config["cull"]["enabled"] is True and config["cull"]["timeout"] > 0
    text = _text(lang)
    assert f"tljh-config set limits.memory {size['limit']}" in text
    # the TLJH recipe installs these widget front-ends at binder/'s versions: they must be there
    requirements = (ROOT / "binder" / "requirements.txt").read_text()
    for name in re.search(r"grep -E '\^\(([^)]*)\)==' binder/requirements.txt", text).group(1).split("|"):
        assert re.search(rf"^{re.escape(name)}==", requirements, flags=re.M), name
    assert "binder/postBuild" in text and "repo2docker" in text and "binder/simulate_build.sh" in text
    # the hub gets the real data through postBuild's `radnb fetch`, which knows every radMLBench
    # table the notebooks read
    from radnb.datasets import TUTORIAL_DATA

    assert "python -m radnb fetch" in (ROOT / "binder" / "postBuild").read_text()
    assert "radnb fetch --check" in text
    sources = "".join(p.read_text(encoding="utf-8")
                      for p in sorted(timings.notebook_folder().glob("[0-9][0-9]_*.ipynb")))
    for name in set(re.findall(r'fetch_radmlbench\(\\"([^\\"]+)\\"\)', sources)):
        assert name in TUTORIAL_DATA, f"radnb fetch does not get radMLBench table {name}"


def test_timing_script_finds_either_notebook_layout(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "00_a.ipynb").write_text("{}")
    assert timings.notebook_folder(tmp_path) == tmp_path / "notebooks"
    (tmp_path / "notebooks" / "en").mkdir()
    assert timings.notebook_folder(tmp_path) == tmp_path / "notebooks"  # empty en/ is ignored
    (tmp_path / "notebooks" / "en" / "00_a.ipynb").write_text("{}")
    assert timings.notebook_folder(tmp_path) == tmp_path / "notebooks" / "en"


def test_timing_script_counts_words_and_exercises():
    def md(text):
        return {"cell_type": "markdown", "source": text}

    nb = {"cells": [
        md("# 01 · Title\n\n## What you will learn\n- one thing"),
        {"cell_type": "code", "source": "x = 1  # not counted"},
        md("## Exercises\n1. First question?\n2. Second question?"),
        md("<details><summary>Solution</summary>\n\n```python\n# 1.\nx = 2\n```\n1. because\n</details>"),
        md("## Summary\n1. not an exercise"),
    ]}
    words, exercises = timings.prose_counts(nb)
    assert exercises == 2
    assert words == sum(len(re.findall(r"\w+", c["source"])) for c in nb["cells"] if c["cell_type"] == "markdown")
    only_details = {"cells": [md("## Exercise\nTry it."), md("<details>a</details>"),
                              md("## 练习 2\n试一试"), md("<details>b</details>")]}
    assert timings.prose_counts(only_details)[1] == 2
