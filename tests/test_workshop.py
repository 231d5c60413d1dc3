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
