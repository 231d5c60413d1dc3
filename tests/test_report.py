"""radnb.report: locale-safe CSV round trip and a self-contained HTML report."""
from __future__ import annotations

import base64
import os
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from radnb.report import Report, read_csv, to_csv


def _table():
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "feature": ["original_firstorder_Mean", "Größe µm²", "naïve;comma,quote\""] * 20,
        "AUC": rng.random(60) * 10.0 ** rng.integers(-9, 9, 60),
        "n": rng.integers(0, 100, 60),
        "significant": rng.random(60) > 0.5,
    })


def test_csv_round_trip_is_exact_with_bom_and_decimal_point(tmp_path):
    df = _table()
    path = to_csv(df, tmp_path / "sub" / "univariate.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel detects the encoding
    assert raw[3:].decode("utf-8").splitlines()[0] == "feature,AUC,n,significant"  # no index
    assert re.search(r"\d\.\d", raw.decode("utf-8-sig")) and "," not in f"{df.AUC[0]}"
    pd.testing.assert_frame_equal(read_csv(path), df)


def test_csv_keeps_an_informative_index_and_flattens_styler(tmp_path):
    df = _table().set_index("feature").iloc[:3]
    back = read_csv(to_csv(df.style, tmp_path / "t.csv"), index_col="feature")
    pd.testing.assert_frame_equal(back, df)
    sub = _table().iloc[5:9]  # a slice: index 5..8 is information, keep it
    assert read_csv(to_csv(sub, tmp_path / "s.csv")).iloc[:, 0].tolist() == [5, 6, 7, 8]
    with pytest.raises(TypeError, match="DataFrame"):
        to_csv([1, 2], tmp_path / "x.csv")


def test_report_is_self_contained_with_embedded_image(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    df = _table().iloc[:4]
    rep = (Report("Rad-score <study>", author="Dr. A")
           .add("## Methods\nLASSO in **nested** cross-validation.\n\n- 5 outer folds\n- 5 inner")
           .add(df, caption="Univariate screening")
           .add(df.style.format(precision=2), caption="styled")
           .add(fig, caption="ROC curve")
           .add(ax))
    path = rep.save(tmp_path / "report.html")
    html = path.read_text(encoding="utf-8")
    assert not re.search(r"https?://", html) and "<link" not in html and "<script" not in html
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) == 2
    assert base64.b64decode(images[0]).startswith(b"\x89PNG\r\n\x1a\n")
    assert "Rad-score &lt;study&gt;" in html and "<strong>nested</strong>" in html
    assert "<li>5 outer folds</li>" in html and "Univariate screening" in html
    assert "original_firstorder_Mean" in html
    plt.close(fig)


def test_report_accepts_radnb_results(tmp_path):
    from radnb import stats

    rng = np.random.default_rng(1)
    df = pd.DataFrame({"age": rng.normal(60, 8, 40), "sex": rng.choice(["M", "F"], 40),
                       "outcome": np.repeat([0, 1], 20)})
    t1 = stats.table_one(df, groupby="outcome")
    html = Report("t").add(t1, caption="Table 1").to_html()
    assert "Mann-Whitney" in html and "Table 1" in html  # rank test by default, no pretest
    assert read_csv(to_csv(t1, tmp_path / "t1.csv"))["variable"].str.contains("age").any()
    with pytest.raises(TypeError, match="does not know"):
        Report("t").add(object())


# ----------------------------------------------------------------------------- hostile data
EVIL = "<script>alert('case')</script>"


def _live_tags(text, tag="script"):
    return re.findall(rf"<\s*{tag}\b", text, flags=re.I)


def test_report_escapes_styler_cells_headers_and_caption(tmp_path):
    df = pd.DataFrame({"case_id": [EVIL, "P002"], "AUC": [0.71234, 0.6]},
                      index=pd.Index([EVIL, "ok"], name="row"))
    styler = df.style.format({"AUC": "{:.2f}"}).set_caption(EVIL)
    text = Report("t").add(styler).add(df).save(tmp_path / "r.html").read_text()
    assert not _live_tags(text)
    # shown as text: cell, index and caption, once per table or more
    assert text.count("&lt;script&gt;alert('case')&lt;/script&gt;") >= 4
    assert "0.71<" in text  # the Styler's own number format is kept
    assert styler.data.equals(df) and styler.caption == EVIL  # the user's Styler is not changed


def test_report_sanitises_foreign_html(tmp_path):
    class Evil:
        def _repr_html_(self):
            return ('<table onmouseover="steal()"><tr><td style="color:red">x</td>'
                    '<td><a href="javascript:x()">y</a><img src="http://e/x.png" onerror="z()">'
                    '</td></tr></table><iframe src="http://e"></iframe><script>bad()</script>')

    text = Report("t").add(Evil()).to_html()
    body = text.split("<body>")[1]
    assert not _live_tags(body) and not _live_tags(body, "iframe") and "<a " not in body
    assert "onmouseover" not in body and "onerror" not in body and "http://e" not in body
    assert "bad()" not in body and '<td style="color:red">x</td>' in body


def test_csv_neutralises_formulas_but_keeps_numbers(tmp_path):
    df = pd.DataFrame({
        "case_id": ["=HYPERLINK(\"http://evil\",\"x\")", "+1+1", "@SUM(A1:A2)", "-2+3", "\tcmd",
                    "\r=1", "P-001", "-2.5"],
        "value": [-1.5, -2.0, 3.0, 4.0, -0.0, 1e-9, -1e12, 7.0],
        "n": [-1, 2, 3, 4, 5, 6, 7, -8],
    })
    df["=evil_column"] = 1
    path = to_csv(df, tmp_path / "x.csv")
    back = read_csv(path)
    assert back["case_id"].tolist() == [
        "'=HYPERLINK(\"http://evil\",\"x\")", "'+1+1", "'@SUM(A1:A2)", "'-2+3", "'\tcmd", "'\r=1",
        "P-001", "-2.5"]
    assert "'=evil_column" in back.columns
    np.testing.assert_array_equal(back["value"], df["value"])  # negative numbers stay numbers
    np.testing.assert_array_equal(back["n"], df["n"])
    import csv

    with open(path, encoding="utf-8-sig", newline="") as fh:  # what a spreadsheet sees
        cells = [c for row in csv.reader(fh) for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")]
    assert "-1.5" in cells and "-8" in cells


def test_csv_and_report_writes_are_atomic(tmp_path):
    path = tmp_path / "table.csv"
    to_csv(pd.DataFrame({"a": [1]}), path)
    with pytest.raises(KeyboardInterrupt):  # a write interrupted half-way (Ctrl-C, disk full)
        from radnb._utils.files import atomic_write

        with atomic_write(path, "w") as fh:
            fh.write("half")
            raise KeyboardInterrupt
    assert read_csv(path)["a"].tolist() == [1]  # the previous file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]  # no temporary file left
    report = Report("r").add("text").save(tmp_path / "r.html")
    assert report.read_text().endswith("</html>\n")
    umask = os.umask(0o022)
    os.umask(umask)
    assert report.stat().st_mode & 0o777 == 0o666 & ~umask  # not a private temporary file
    blocked = tmp_path / "file"
    blocked.write_text("x")
    with pytest.raises(OSError):
        to_csv(pd.DataFrame({"a": [1]}), blocked / "out.csv")
