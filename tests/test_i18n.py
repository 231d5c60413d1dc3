"""radnb speaks English or Chinese: the language choice, the catalogue, Chinese advice and glyphs."""
from __future__ import annotations

import io
import os
import re
import string
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import radnb

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "radnb" / "locale" / "zh" / "LC_MESSAGES" / "radnb.po"
MO = PO.with_suffix(".mo")
CJK = re.compile(r"[\u4e00-\u9fff]")
LOCALE_VARIABLES = ("RADNB_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


@pytest.fixture(autouse=True)
def english_machine(monkeypatch, tmp_path):
    """Every test starts on a machine with no language settings, in a folder without radnb.toml."""
    for name in LOCALE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    yield
    radnb.set_language(None)


@pytest.fixture(scope="module")
def problems(tmp_path_factory):
    from radnb.datasets import make_problem_cases

    return make_problem_cases(tmp_path_factory.mktemp("problems"))


def _advice(problems):
    from radnb.cohort import validate

    table = validate(problems).merge(problems[["case_id", "problem"]], on="case_id")
    bad = table[table.severity != "ok"]
    return dict(zip(bad.problem, bad.message))


# --- choosing the language -------------------------------------------------------------------

def test_set_language_accepts_zh_en_none_and_names_the_choices_otherwise():
    assert radnb.get_language() == "en"
    radnb.set_language("zh")
    assert radnb.get_language() == "zh" and os.environ["RADNB_LANG"] == "zh"
    radnb.set_language("en")
    assert radnb.get_language() == "en"
    radnb.set_language(None)
    assert radnb.get_language() == "en" and "RADNB_LANG" not in os.environ
    with pytest.raises(ValueError, match=r"'en', 'zh'.*got 'chinese'.*set_language\('zh'\)"):
        radnb.set_language("chinese")
    assert {"set_language", "get_language"} <= set(radnb.__all__)


def test_language_order_set_language_env_settings_file_locale(monkeypatch, tmp_path):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert radnb.get_language() == "zh"  # system locale
    monkeypatch.setenv("LC_ALL", "C.UTF-8")  # LC_ALL comes before LANG, as in gettext
    assert radnb.get_language() == "en"
    (tmp_path / "radnb.toml").write_text('language = "zh"\n', encoding="utf-8")
    assert radnb.get_language() == "zh"  # radnb.toml in the working folder beats the locale
    monkeypatch.setenv("RADNB_LANG", "en")
    assert radnb.get_language() == "en"  # the environment beats radnb.toml
    radnb.set_language("zh")
    assert radnb.get_language() == "zh"  # set_language beats everything
    radnb.set_language(None)
    assert os.environ["RADNB_LANG"] == "en"  # the user's own setting is given back


def test_bad_settings_are_ignored_with_a_warning(monkeypatch, tmp_path):
    monkeypatch.setenv("RADNB_LANG", "klingon")
    with pytest.warns(UserWarning, match="RADNB_LANG='klingon'.*RADNB_LANG=zh"):
        assert radnb.get_language() == "en"
    monkeypatch.delenv("RADNB_LANG")
    (tmp_path / "radnb.toml").write_text("language = \n", encoding="utf-8")
    with pytest.warns(UserWarning, match="could not be read as TOML"):
        assert radnb.get_language() == "en"


def test_set_language_reaches_worker_processes_started_later():
    radnb.set_language("zh")
    out = subprocess.run([sys.executable, "-c", "import radnb; print(radnb.get_language())"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "zh"


def test_import_radnb_stays_light():
    code = ("import sys, radnb; radnb.get_language(); "
            "print(sorted(m for m in ('pandas', 'matplotlib', 'numpy', 'babel') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "RADNB_LANG": "zh"})
    assert out.stdout.strip() == "[]"


# --- Chinese advice --------------------------------------------------------------------------

def test_english_stays_the_default_for_the_problem_cases(problems):
    advice = _advice(problems)
    assert not any(CJK.search(m) for m in advice.values())
    assert "does not exist; check the path in the manifest" in advice["missing_file"]
    assert advice["empty_mask"].startswith("the mask has no non-zero voxel")


@pytest.mark.parametrize("how", ["RADNB_LANG", "set_language", "radnb.toml"])
def test_validate_gives_chinese_advice_for_every_problem_case(problems, how, monkeypatch, tmp_path):
    if how == "RADNB_LANG":
        monkeypatch.setenv("RADNB_LANG", "zh")
    elif how == "set_language":
        radnb.set_language("zh")
    else:  # like a kernel started in notebooks/zh/
        (tmp_path / "radnb.toml").write_text('language = "zh"\n', encoding="utf-8")
    advice = _advice(problems)
    assert set(advice) == set(problems.problem) - {"ok"}
    for problem, message in advice.items():
        assert CJK.search(message), f"{problem}: {message}"
    assert "不存在" in advice["missing_file"] and "数据清单" in advice["missing_file"]
    assert "无法读取" in advice["unreadable_file"]
    assert "原点偏移 3 mm" in advice["geometry_mismatch"] and "配准" in advice["geometry_mismatch"]
    assert "没有非零体素" in advice["empty_mask"]
    assert "掩膜中没有标签 1" in advice["wrong_label"] and "label=2" in advice["wrong_label"]
    assert "概率图" in advice["probability_mask"]
    assert "force2D: True" in advice["image_2d"] and "三维" in advice["image_2d"]


def test_extract_features_error_rows_speak_chinese(problems, monkeypatch):
    from radnb.extract import ExtractionWarning, extract_features

    monkeypatch.setenv("RADNB_LANG", "zh")
    rows = problems[problems.problem.isin(["missing_file", "wrong_label", "probability_mask"])]
    with pytest.warns(ExtractionWarning, match="3 个病例中有 3 个失败"):
        result = extract_features(rows, n_jobs=1, progress=False)
    errors = dict(zip(result.errors.case_id, result.errors.message))
    by_problem = {p: errors[c] for c, p in zip(rows.case_id, rows.problem)}
    assert by_problem["missing_file"].startswith("找不到掩膜文件")
    assert "掩膜中没有标签为 1 的体素（现有标签：2）" in by_problem["wrong_label"]
    assert "概率图" in by_problem["probability_mask"]  # radnb's own InputError, made in the worker
    assert "失败的行: 3" in repr(result)


def test_switching_language_reaches_workers_that_already_run(problems):
    """Worker processes started in English keep their environment; their messages are
    translated when the error row is made."""
    from radnb.extract import ExtractionWarning, extract_features

    rows = problems[problems.problem.isin(["geometry_mismatch", "probability_mask"])]
    with pytest.warns(ExtractionWarning):
        english = extract_features(rows, n_jobs=2, progress=False).errors.message.tolist()
    assert all(m.startswith("mask '") for m in english)
    radnb.set_language("zh")
    with pytest.warns(ExtractionWarning):
        chinese = extract_features(rows, n_jobs=2, progress=False).errors.message.tolist()
    assert all(m.startswith("掩膜 '") for m in chinese), chinese
    assert "原点偏移 3 mm" in chinese[0] and "配准" in chinese[0]


def test_translate_finished_fills_the_chinese_entry_with_the_same_values():
    from radnb._utils.i18n import translate_finished

    text = "the ROI has only 12 voxels (0.05 ml); texture features are unstable below ~64 voxels - interpret them with care."
    assert translate_finished(text) == text  # English: unchanged
    radnb.set_language("zh")
    assert translate_finished(text) == "感兴趣区只有 12 个体素（0.05 ml）；少于约 64 个体素时纹理特征不稳定，解读时请谨慎。"
    assert translate_finished("12 of 40") == "12 of 40"  # too general to recognise
    assert translate_finished("no such message") == "no such message"
    nested = ("mask 'm.nrrd' is not on the image's voxel grid (origin shifted by 2 mm; direction "
              "cosines differ by up to 0.1). It seems to come from another series. First check the "
              "manifest's pairing. Resample only if both series share a frame of reference (same "
              "session, patient not moved); otherwise register the two scans or segment the lesion "
              "again on this image.")
    chinese = translate_finished(nested)
    assert chinese.startswith("掩膜 'm.nrrd' 不在图像的体素网格上（原点偏移 2 mm; 方向余弦最多相差 0.1）。它似乎")
    radnb.set_language("en")  # and back, for workers that started in Chinese
    assert translate_finished(chinese) == nested


def test_stats_sentences_and_table_one_headers_in_chinese():
    import pandas as pd

    from radnb.stats import interpret_p, table_one

    english = interpret_p(0.16, "the two AUCs differ")
    radnb.set_language("zh")
    chinese = interpret_p(0.16, "两组 AUC 不同")
    assert chinese.startswith("p = 0.160：在 5% 水平上没有证据表明两组 AUC 不同")
    df = pd.DataFrame({"age": [61, 70, 55, 66, 59, 73], "outcome": [0, 1, 0, 1, 0, 1]})
    t1 = table_one(df, groupby="outcome")
    html = t1.style().to_html()
    assert "总体" in html and "缺失" in html and "P 值" in html and "按 outcome 分组" in html
    assert "中位数 [Q1,Q3]" in html
    assert ("Grouped by outcome", "Overall") in t1.table.columns  # the data keeps its labels
    radnb.set_language("en")
    assert interpret_p(0.16, "the two AUCs differ") == english
    assert "Overall" in t1.style().to_html()


# --- the catalogue ---------------------------------------------------------------------------

def _code_messages():
    from babel.messages.extract import extract_from_dir

    keywords = {"_": None, "tr": None, "say": None, "N_": None, "ngettext": (1, 2)}
    found = set()
    def directory_filter(path):  # Babel skips folders starting with "_" by default: not radnb/_utils
        return not os.path.basename(path).startswith(".") and os.path.basename(path) != "__pycache__"

    for _path, _line, message, _comments, _context in extract_from_dir(
            str(ROOT / "radnb"), keywords=keywords, directory_filter=directory_filter):
        found.add(message if isinstance(message, str) else tuple(message))
    return found | _tutorial_messages()


def _tutorial_messages():
    """What the English tutorials' code cells pass to radnb.tr / radnb.say (as ./dev.sh messages)."""
    from babel.messages.extract import extract_from_file

    from radnb._notebooks import extract_ipynb

    found = set()
    for path in sorted((ROOT / "notebooks" / "en").glob("*.ipynb")):
        for _line, message, _comments, _context in extract_from_file(
                extract_ipynb, str(path), keywords={"tr": None, "say": None}):
            found.add(message)
    return found


def _fields(text):
    """The placeholders of a message with their format ('{auc:.3f}' -> ('auc', '.3f', None))."""
    return sorted((f, spec, conv) for _lit, f, spec, conv in string.Formatter().parse(text)
                  if f is not None)


def test_catalogue_has_every_message_of_the_code_translated_and_no_stale_ones():
    from babel.messages.pofile import read_po

    catalogue = read_po(PO.open("rb"))
    entries = {m.id: m.string for m in catalogue if m.id}
    code = {m if isinstance(m, str) else m[0] for m in _code_messages()}
    assert len(code) > 100 and "{name} must be one of {options}; got {value!r}." in code
    assert sorted(code - set(entries)) == [], "run ./dev.sh messages and translate the new entries"
    assert sorted(set(entries) - code) == [], "stale entries: run ./dev.sh messages"
    untranslated = [k for k, v in entries.items() if not (v if isinstance(v, str) else all(v))]
    assert untranslated == []
    for msgid, msgstr in entries.items():
        assert _fields(msgid) == _fields(msgstr), f"placeholders differ: {msgid!r} -> {msgstr!r}"


def test_compiled_catalogue_is_in_sync_with_the_po_file():
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    compiled = io.BytesIO()
    write_mo(compiled, read_po(PO.open("rb")))
    assert MO.read_bytes() == compiled.getvalue(), "run ./dev.sh messages to compile the .po"


def test_glossary_terms_are_used():
    text = PO.read_text(encoding="utf-8")
    for term in ("感兴趣区", "掩膜", "体素", "数据清单", "特异度", "灵敏度", "净获益", "阈值概率", "重采样"):
        assert term in text, term


def test_the_wheel_ships_the_catalogues():
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    shipped = [p for p in data["radnb"] if p.startswith("locale/")]
    assert any(MO.relative_to(ROOT / "radnb").match(p) for p in shipped)
    assert any(PO.relative_to(ROOT / "radnb").match(p) for p in shipped)


# --- Chinese glyphs in plots -----------------------------------------------------------------

def _glyph_warnings(draw):
    import matplotlib.pyplot as plt

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = draw()
        fig.savefig(io.BytesIO(), format="png", dpi=50)
        plt.close(fig)
    return [str(w.message) for w in caught if re.search(r"Glyph .* missing", str(w.message))]


def test_plots_with_chinese_labels_have_no_missing_glyphs():
    import matplotlib
    import matplotlib.pyplot as plt
    import numpy as np

    from radnb._utils.fonts import INSTALL_HINT, cjk_font
    from radnb.evaluate import plot_roc

    if cjk_font() is None:
        pytest.skip(f"no CJK font installed: {INSTALL_HINT}")

    def draw():
        rng = np.random.default_rng(0)
        y = np.repeat([0, 1], 40)
        fig, ax = plt.subplots()
        plot_roc(y, y + rng.normal(size=80), label="影像组学评分", ax=ax, n_boot=20)
        ax.set_title("影像组学模型的 ROC 曲线（测试集）")
        return fig

    radnb.set_language("zh")
    assert _glyph_warnings(draw) == []
    fig, ax = plt.subplots()
    plot_roc(np.repeat([0, 1], 5), np.arange(10.0), ax=ax, ci=False)
    assert ax.get_xlabel() == "1 - 特异度（假阳性率）"
    plt.close(fig)
    # the check can fail: without the fallback the same figure misses its glyphs
    def plain():
        fig = plt.figure()
        fig.suptitle("影像组学")
        return fig

    with matplotlib.rc_context({"font.family": ["DejaVu Sans"]}):
        assert _glyph_warnings(plain) != []


def test_chinese_glyphs_in_figures_made_before_the_text_is_set():
    """A figure's title and axis labels keep the fonts of the moment it was made: radnb adds the
    CJK fallback when it first speaks Chinese, even if pyplot is imported only afterwards (as in
    Study.to_docx, which made its figures with missing glyphs)."""
    from radnb._utils.fonts import INSTALL_HINT, cjk_font

    if cjk_font() is None:
        pytest.skip(f"no CJK font installed: {INSTALL_HINT}")
    code = (
        "import warnings, radnb\n"
        "radnb.tr('Case')\n"
        "import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt\n"
        "fig, ax = plt.subplots(); ax.set_title(radnb.tr('Before ComBat'))\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always'); fig.canvas.draw()\n"
        "print(ax.get_title(), [str(w.message) for w in caught if 'Glyph' in str(w.message)])\n"
    )
    env = {**os.environ, "RADNB_LANG": "zh"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "ComBat 之前 []", out


def test_jupyterlab_offers_chinese():
    from jupyterlab_server.translation_utils import get_language_packs

    packs = get_language_packs("en")[0]
    assert "zh_CN" in packs, "install jupyterlab-language-pack-zh-CN (a radnb dependency)"


def test_extraction_settings_calibration_and_interval_messages_speak_chinese():
    import numpy as np

    from radnb.evaluate import calibration
    from radnb.extract import load_params

    radnb.set_language("zh")
    with pytest.raises(ValueError, match="params 必须是预设名称.*'ct'"):
        load_params("settings.txt")
    with pytest.raises(ValueError, match="params 中有未知的部分"):
        load_params({"featureClass": {}, "settngs": {}})
    y = np.array([0, 0, 1, 1, 0, 1, 0, 1])
    with pytest.warns(FutureWarning, match="alpha= 已被 confidence= 取代.*confidence=0.9"):
        calibration(y, np.linspace(0.2, 0.8, 8), n_bins=2, alpha=0.1)
    with pytest.warns(UserWarning, match="结局只有一个类别"):
        summary = calibration(np.zeros(8, int), np.linspace(0.2, 0.8, 8), n_bins=2).summary
    assert summary.set_index("measure").loc["slope", "note"] == "结局只有一个类别，因此没有有限的估计值"


def test_dicom_pet_and_command_line_messages_speak_chinese(tmp_path, capsys):
    from radnb.__main__ import main
    from radnb.io import read_image, read_pet_suv

    radnb.set_language("zh")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="中没有找到 DICOM 图像序列"):
        read_image(tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="不存在；请传入 PET 序列文件夹"):
        read_pet_suv(tmp_path / "nowhere")
    assert main(["extract", "manifest.csv", "--out", "features.txt"]) == 2
    assert "--out 必须以 .parquet 或 .csv 结尾" in capsys.readouterr().err
    radnb.set_language("en")
    assert main(["extract", "manifest.csv", "--out", "features.txt"]) == 2
    assert "--out must end in .parquet or .csv; got 'features.txt'" in capsys.readouterr().err


def _phrases_passed_by_tutorials():
    """Text the English tutorials pass to the sentence helpers (f-string fields -> '{}')."""
    import ast

    import nbformat

    helpers = {"interpret_p", "compare_values", "describe_screen", "describe_auc", "describe_interval"}
    keywords = {"what", "name_a", "name_b", "outcome", "items", "name"}
    for path in sorted((ROOT / "notebooks" / "en").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            for node in ast.walk(ast.parse(cell.source)):
                if not (isinstance(node, ast.Call)
                        and getattr(node.func, "attr", getattr(node.func, "id", None)) in helpers):
                    continue
                for arg in node.args[1:] + [k.value for k in node.keywords if k.arg in keywords]:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        yield path.stem, arg.value
                    elif isinstance(arg, ast.JoinedStr):
                        yield path.stem, "".join(v.value if isinstance(v, ast.Constant) else "{}"
                                                 for v in arg.values)


def test_every_phrase_the_tutorials_pass_is_translated():
    """The Chinese notebooks run the same code, so a phrase missing from stats/_phrases.py prints
    in English there; single words are names (a model, a tool) and print as given."""
    from radnb.stats._phrases import PHRASES

    patterns = [re.compile(re.escape(re.sub(r"\{\w*\}", "\0", p)).replace("\\\0", "\0")
                           .replace("\0", ".+") + "$") for p in PHRASES]
    missing = sorted({(nb, text) for nb, text in _phrases_passed_by_tutorials()
                      if " " in text and not any(pat.match(text.replace("{}", "x"))
                                                 for pat in patterns)})
    assert not missing, ("add these to radnb/stats/_phrases.py, then run ./dev.sh messages and "
                         f"translate them: {missing}")


# --- what the tutorials print and draw themselves ----------------------------------------------

def test_tr_and_say_fill_in_values_in_the_current_language(capsys):
    assert radnb.tr("AUC {auc:.3f}", auc=0.81234) == "AUC 0.812"
    radnb.say("{n} patients, {events} sarcomas", n=120, events=48)
    assert capsys.readouterr().out == "120 patients, 48 sarcomas\n"
    assert radnb.tr("a text radnb does not know") == "a text radnb does not know"
    with pytest.raises(KeyError, match=r"needs a value for 'events'; pass events=\.\.\., n=\.\.\."):
        radnb.tr("{n} patients, {events} sarcomas", n=1)
    radnb.set_language("zh")
    assert radnb.tr("Case") == "病例"
    chinese = {m for m in _tutorial_messages() if "{" in m}
    assert chinese, "the tutorials print nothing through radnb.say"
    message = sorted(chinese)[0]
    values = {f: 1 for f, _spec, _conv in _fields(message)}
    assert CJK.search(radnb.tr(message, **values)), message


def _english_left_in_tutorial_code():
    """(notebook, line) pairs where a code cell prints or draws English text of its own."""
    import ast

    import nbformat

    drawers = {"set_title", "set_xlabel", "set_ylabel", "suptitle", "text", "annotate"}
    labels = {"label", "title", "xlabel", "ylabel"}
    from radnb._notebooks import insert_solutions

    for path in sorted((ROOT / "notebooks" / "en").glob("*.ipynb")):  # with the solutions' code
        for cell in insert_solutions(nbformat.read(path, as_version=4)).cells:
            if cell.cell_type != "code":
                continue
            for node in ast.walk(ast.parse(cell.source)):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "attr", getattr(node.func, "id", None))
                lines = cell.source.splitlines()
                where = (path.stem, lines[node.lineno - 1].strip())
                if name in ("tr", "say"):
                    if not (node.args and isinstance(node.args[0], ast.Constant)):
                        yield where + ("pass radnb.tr/say a plain string, its values as keywords",)
                    continue
                args = node.args if name == "print" or name in drawers else []
                args = list(args) + [k.value for k in node.keywords if k.arg in labels]
                if any(_plot_words(arg, {}) for arg in args):  # the scan of radnb's plots, below
                    yield where + ("English text: use radnb.say(...) or radnb.tr(...)",)


def test_tutorial_code_prints_and_draws_words_through_radnb_tr_and_say():
    """Deliver 1 of #16: the code cells are the same in both languages, so the words they print
    or draw come from radnb's catalogue (radnb.say / radnb.tr), or the Chinese notebooks would
    print English."""
    left = sorted(set(_english_left_in_tutorial_code()))
    assert not left, "\n".join(" | ".join(item) for item in left)


def test_patient_flow_steps_speak_chinese(problems):
    from radnb.cohort import patient_flow, validate

    checks = validate(problems)
    radnb.set_language("zh")
    flow = patient_flow(checks)
    assert flow["step"].iloc[0] == "评估" and flow["step"].iloc[-1] == "纳入分析"
    assert "排除：掩膜缺失或无法读取" in flow["step"].tolist()
    assert flow.attrs["excluded"] == patient_flow(checks, timepoint=None).attrs["excluded"]


def test_chinese_sentences_have_no_space_between_two_chinese_characters():
    """Filling a translated phrase into a translated template left "有证据表明 校准斜率"."""
    from radnb.stats import compare_values, interpret_p

    radnb.set_language("zh")
    sentence = interpret_p(0.01, "the calibration slope differs from 1")
    assert "有证据表明校准斜率不等于 1" in sentence  # the space before the number stays
    assert not re.search(r"[\u4e00-\u9fff] [\u4e00-\u9fff]", sentence)
    assert compare_values(0.80, 0.66, "with ComBat", "without ComBat").endswith("高出 0.14。")
    assert radnb.tr("{a} {b}", a="表明", b="它") == "表明它"
    radnb.set_language("en")
    assert radnb.tr("{a} {b}", a="x", b="y") == "x y"


# --- radnb's own plots -----------------------------------------------------------------------

#: Words a plot may show as they are in both languages: units and matplotlib's own keywords.
_PLOT_WORDS_KEPT = {"mm", "cm", "mL", "HU", "kVp", "SUV", "center", "left", "right", "top",
                    "bottom", "upper", "lower", "best", "axes", "fraction", "data", "offset",
                    "points", "pixels"}
#: Calls whose text argument a reader sees: name -> (position of the text, its keyword names).
_PLOT_TEXT_ARGS = {"set_title": (0, ("label",)), "set_xlabel": (0, ("xlabel",)),
                   "set_ylabel": (0, ("ylabel",)), "suptitle": (0, ("t",)),
                   "supxlabel": (0, ("t",)), "supylabel": (0, ("t",)), "text": (2, ("s",)),
                   "figtext": (2, ("s",)), "annotate": (0, ("text",)),
                   "set_xticks": (1, ("labels",)), "set_yticks": (1, ("labels",)),
                   "set_xticklabels": (0, ("labels",)), "set_yticklabels": (0, ("labels",)),
                   "set_label": (0, ("s",)), "set_text": (0, ("s",))}
_PLOT_TEXT_KEYWORDS = {"label", "title", "xlabel", "ylabel"}
_TRANSLATORS = {"_", "tr", "ngettext"}


def _plot_words(node, names):
    """English words in an expression that a plot would draw, not counting translated text.

    ``names`` maps a variable of the enclosing function to the expressions assigned to it, so
    ``labels = [f"..."]; ax.set_xticks(ticks, labels)`` is seen too.
    """
    import ast

    if isinstance(node, ast.Call):
        func = node.func
        name = getattr(func, "attr", getattr(func, "id", None))
        if name in _TRANSLATORS:
            return []
        if name == "format" and isinstance(func, ast.Attribute):  # "...".format(): the template
            return _plot_words(func.value, names)
        if name == "get" and isinstance(func, ast.Attribute):  # {...}.get(key, default)
            return _looked_up_words(func.value, names) + [
                w for a in node.args[1:] for w in _plot_words(a, names)]
        return []  # another function's result (a number, a feature name): its own business
    if isinstance(node, ast.Compare):  # `"label" in table`: a test, not text
        return []
    if isinstance(node, ast.Subscript):  # table["column"]: a key, not text; {...}[key]: a lookup
        return _looked_up_words(node.value, names)
    if isinstance(node, ast.Name):
        found = []
        for value in names.pop(node.id, []):  # pop: a name is followed once
            found += _plot_words(value, names)
        return found
    if isinstance(node, ast.Constant):
        if not isinstance(node.value, str):
            return []
        words = re.findall(r"[A-Za-z]{2,}", node.value)
        return [node.value] if any(w not in _PLOT_WORDS_KEPT for w in words) else []
    if isinstance(node, ast.Dict):  # cbar_kws={"label": ...}
        return [w for k, v in zip(node.keys, node.values)
                if isinstance(k, ast.Constant) and k.value in _PLOT_TEXT_KEYWORDS
                for w in _plot_words(v, names)]
    if isinstance(node, ast.FormattedValue):
        return _plot_words(node.value, names)
    return [w for child in ast.iter_child_nodes(node) for w in _plot_words(child, names)]


def _looked_up_words(node, names):
    """Words of the values of a dict (literal or assigned to a name) that a key looks up."""
    import ast

    if isinstance(node, ast.Dict):
        return [w for v in node.values for w in _plot_words(v, names)]
    if isinstance(node, ast.Name):
        return [w for v in names.pop(node.id, []) for w in _looked_up_words(v, names)]
    return _plot_words(node, names)


def _assigned_names(function):
    """Variable -> assigned expressions in a function (plain assignments and loops over literals)."""
    import ast

    names = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                for name in ([target] if isinstance(target, ast.Name) else
                             getattr(target, "elts", [])):  # a, b = ...: each may be any part
                    if isinstance(name, ast.Name):
                        names.setdefault(name.id, []).append(node.value)
        elif (isinstance(node, ast.For) and isinstance(node.target, ast.Tuple)
              and isinstance(node.iter, (ast.Tuple, ast.List))):
            for row in node.iter.elts:
                if isinstance(row, (ast.Tuple, ast.List)) and len(row.elts) == len(node.target.elts):
                    for target, value in zip(node.target.elts, row.elts):
                        if isinstance(target, ast.Name):
                            names.setdefault(target.id, []).append(value)
    return names


def _english_drawn_by_radnb():
    """file:line entries where radnb's code draws an English literal not passed through tr()."""
    import ast

    for path in sorted((ROOT / "radnb").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith("radnb/study/"):  # own mechanism: t(lang, en, zh) for documents
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        owner = {}
        for function in functions:  # innermost function wins: walk outer ones first
            for node in ast.walk(function):
                owner[id(node)] = function
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", None))
            texts = [k.value for k in node.keywords if k.arg in _PLOT_TEXT_KEYWORDS]
            texts += [k.value for k in node.keywords if k.arg == "cbar_kws"]
            if name in _PLOT_TEXT_ARGS:
                position, keywords = _PLOT_TEXT_ARGS[name]
                texts += node.args[position:position + 1]
                texts += [k.value for k in node.keywords if k.arg in keywords]
            if name == "legend":  # ax.legend(handles, ["a", "b"])
                texts += [a for a in node.args if isinstance(a, (ast.List, ast.Tuple))]
            function = owner.get(id(node))
            names = _assigned_names(function) if function is not None else {}
            words = [w for text in texts for w in _plot_words(text, names)]
            if words:
                yield f"{relative}:{node.lineno}: {name}: {words}"


def test_radnb_plots_draw_their_words_through_the_catalogue():
    """#16: with radnb.set_language("zh") the figures radnb draws itself (titles, axes, legends,
    colour bars, annotations) speak Chinese, so their words go through tr() / _()."""
    left = sorted(set(_english_drawn_by_radnb()))
    assert not left, "wrap these texts in tr(...) with named placeholders:\n" + "\n".join(left)


def test_radnb_plots_speak_chinese_with_real_glyphs():
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    from radnb._utils.fonts import INSTALL_HINT, cjk_font
    from radnb.genomics import permutation_null, plot_permutation_null
    from radnb.reproducibility import plot_bland_altman

    rng = np.random.default_rng(4)
    scan1 = rng.normal(40, 10, 30)
    scan2 = scan1 + rng.normal(1, 3, 30)
    features = pd.DataFrame(rng.normal(size=(30, 6))).add_prefix("f").assign(case_id=range(30))
    genes = pd.DataFrame(rng.normal(size=(30, 12))).add_prefix("g").assign(case_id=range(30))
    null = permutation_null(features, genes, n_perm=4)
    drawn = {}

    def draw():
        fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
        plot_bland_altman(scan1, scan2, labels=("scan 1", "scan 2"), units="HU", ax=left)
        plot_permutation_null(null, ax=right)
        drawn["texts"] = [t.get_text() for ax in (left, right)
                          for t in (ax.title, ax.xaxis.label, ax.yaxis.label, *ax.texts,
                                    *(ax.get_legend().get_texts() if ax.get_legend() else ()))]
        drawn["texts"] += [t.get_text() for t in right.get_xticklabels()]
        return fig

    fig = draw()  # English stays the default and as it was
    plt.close(fig)
    english = drawn["texts"]
    assert english[0].startswith("Bland-Altman: bias ") and english[0].endswith(", LoA ±1.96 SD")
    assert english[1:3] == ["Mean of the two measurements (HU)", "Difference scan 1 - scan 2 (HU)"]
    assert "shuffled patients" in english and "real data" in english

    radnb.set_language("zh")
    if cjk_font() is None:
        pytest.skip(f"no CJK font installed: {INSTALL_HINT}")
    assert _glyph_warnings(draw) == []
    chinese = drawn["texts"]
    # every word of the figure is Chinese: titles, axes, the Bland-Altman lines, the legend, ticks
    english_left = [t for t in chinese if t and not CJK.search(t)]
    assert english_left == [], english_left
    assert chinese[0].startswith("Bland-Altman：偏倚") and "一致性界限" in chinese[0]
    assert chinese[2] == "差值：scan 1 - scan 2 (HU)"  # the readers' names stay as given
    assert "打乱后的患者" in chinese and "真实数据" in chinese
