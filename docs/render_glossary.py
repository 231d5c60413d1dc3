"""Render ``docs/glossary.csv`` (the source) to ``docs/glossary.md``: ``python docs/render_glossary.py``.

Edit the CSV only (UTF-8; columns ``english,chinese,definition_en,definition_zh``, rows in the
order of the study path), then run this script. ``tests/test_workshop.py`` fails when the
Markdown file is out of date.
"""
from __future__ import annotations

import csv
from pathlib import Path

HERE = Path(__file__).resolve().parent
COLUMNS = ["english", "chinese", "definition_en", "definition_zh"]


def read_glossary(path=HERE / "glossary.csv") -> list[dict]:
    """The glossary rows as dictionaries, in file order."""
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def render(rows: list[dict]) -> str:
    """The Markdown page for the glossary rows."""
    def cell(text: str) -> str:
        return text.replace("|", "\\|").strip()

    lines = [
        "# Glossary · 术语表",
        "",
        "English and Chinese terms used in the tutorials (`notebooks/`), the instructor kit",
        "(`docs/workshop/`) and radnb's messages, in the order of the study path. Chinese terms follow",
        "Chinese radiology usage. 教程、讲师手册与 radnb 提示信息中使用的中英文术语，按研究步骤排列；",
        "中文术语遵循国内放射学界的通用译法。",
        "",
        "Generated from [`glossary.csv`](glossary.csv) by `python docs/render_glossary.py`;",
        "edit the CSV, not this page. 本页由 `glossary.csv` 自动生成，请修改 CSV 文件。",
        "",
        f"{len(rows)} terms · {len(rows)} 个术语",
        "",
        "| English | 中文 | Definition | 定义 |",
        "|---|---|---|---|",
    ]
    for row in rows:
        lines.append("| " + " | ".join(cell(row[c]) for c in COLUMNS) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    text = render(read_glossary())
    target = HERE / "glossary.md"
    tmp = target.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    print(f"wrote {target} ({text.count(chr(10))} lines)")


if __name__ == "__main__":
    main()
