"""radnb.Study: the recorded study log, the pre-filled checklists, Methods text and exports.

The demo study below runs the real steps (validation, pyradiomics extraction of two
readers, ICC filter, Table 1, Rad-score with ComBat in nested CV, ROC / calibration /
decision curve, DeLong comparison with a clinical score, external validation) on a
40-patient demo cohort inside a Study; every check compares what the study reports with
what the steps themselves returned.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import radnb
from radnb._utils import provenance


@pytest.fixture(scope="module")
def demo(data_home, tmp_path_factory):
    from radnb.datasets import load_demo_cohort, load_demo_features

    folder = tmp_path_factory.mktemp("study")
    out = {}
    with radnb.Study("demo <study>", folder=folder, author="A. Author") as study:
        kw = dict(n_patients=40, n_sites=2, seed=2)
        manifest = load_demo_cohort(**kw)
        first = manifest[(manifest.reader == 1) & (manifest.timepoint == 1)]
        out["validation"] = radnb.cohort.validate(first)
        both = load_demo_features(reader=None, progress=False, **kw)
        out["settings"] = radnb.extract.load_params("ct")
        icc = radnb.reproducibility.feature_icc(both, by="reader")
        keep = radnb.reproducibility.ICCFilter(icc, threshold=0.75).fit(both)
        out["keep"] = keep
        feats = both[both.reader == 1].reset_index(drop=True)
        out["features"] = feats
        radnb.stats.table_one(feats, groupby="outcome", columns=["age", "sex", "location", "suspicion"])
        model = radnb.stats.radscore_model(feats, "outcome", columns=keep.robust_features_[:30],
                                           harmonize="site", outer_cv=3, inner_cv=3)
        out["model"] = model
        y, p = model.oof["outcome"], model.oof["probability"]
        with study.part("nested cross-validation"):
            out["auc"] = radnb.evaluate.roc_auc_ci(y, p)
            out["cal"] = radnb.evaluate.calibration(y, p, n_bins=3)
            radnb.evaluate.decision_curve(y, {"Rad-score": p})
        with study.part("Rad-score vs age"):
            out["delong"] = radnb.evaluate.delong_test(y, p, feats["age"])
        out["external"] = radnb.evaluate.external_validation(
            feats, "outcome", test_site=sorted(feats.site.unique())[0], harmonize=False,
            feature_cols=model.selected or keep.robust_features_[:3], cv=3)
    out["study"] = study
    return out


def test_import_radnb_stays_light_and_record_is_a_noop_outside_a_study():
    code = "import radnb, sys; print('radnb.study' in sys.modules, radnb.Study.__name__)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.split() == ["False", "Study"]
    assert provenance.active() is None
    assert provenance.record("anything", x=1) is None


def test_facts_must_be_plain_values():
    assert provenance.plain({"a": np.float64(0.5), "b": (1, np.int64(2)), "c": float("nan")}) == {
        "a": 0.5, "b": [1, 2], "c": None}
    with pytest.raises(TypeError, match="plain JSON"):
        provenance.plain({"frame": pd.DataFrame()})


def test_steps_record_their_own_calls_and_mark_nested_ones(demo):
    study = demo["study"]
    steps = [e["step"] for e in study.entries if e["within"] is None]
    for step in ("cohort.validate", "reproducibility.feature_icc", "reproducibility.ICCFilter",
                 "stats.table_one", "stats.radscore_model", "evaluate.roc_auc_ci",
                 "evaluate.calibration", "evaluate.decision_curve", "evaluate.delong_test",
                 "evaluate.external_validation"):
        assert step in steps
    # ComBat ran inside every fold of radscore_model: recorded as nested, merged into few entries
    combat = study.find("harmonize.ComBat", own=False)
    assert combat and all(e["within"] for e in combat)
    assert sum(e["count"] for e in combat) > len(combat)
    # extraction ran inside load_demo_features: nested, but still the study's extraction entry
    assert study.last("extract.extract_features")["within"].endswith("load_demo_features")
    assert study.last("evaluate.roc_auc_ci")["part"] == "nested cross-validation"


def test_recorded_facts_equal_what_the_steps_returned(demo):
    study, model = demo["study"], demo["model"]
    rs = study.last("stats.radscore_model")["facts"]
    assert rs["auc_mean"] == model.auc_mean and rs["selected"] == model.selected
    assert rs["n_used"] == len(demo["features"]) and rs["n_events"] == int(model.y.sum())
    auc = study.last("evaluate.roc_auc_ci")["facts"]
    assert auc["AUC"] == demo["auc"]["AUC"].item() and auc["ci_low"] == demo["auc"]["ci_low"].item()
    ext = study.last("extract.extract_features")["facts"]
    assert ext["settings"] == json.loads(json.dumps(demo["settings"]))
    assert ext["pyradiomics"] == __import__("radiomics").__version__.lstrip("v")
    val = study.last("cohort.validate")["facts"]
    worst = radnb.cohort.summarize(demo["validation"])["status"]
    assert val["n_ok"] == int((worst == "ok").sum()) and val["n_rows"] == len(worst)
    kept = study.last("reproducibility.ICCFilter")["facts"]["n_kept"]
    assert kept == len(demo["keep"].robust_features_)


def test_log_is_saved_as_json_beside_the_results(demo):
    study = demo["study"]
    assert study.path.exists() and study.path.name == "demo-study.study.json"
    again = radnb.Study.load(study.path)
    assert again.entries == json.loads(study.path.read_text(encoding="utf-8"))["entries"]
    pd.testing.assert_frame_equal(again.checklist("CLEAR").drop(columns="facts"),
                                  study.checklist("CLEAR").drop(columns="facts"))


def test_checklist_item_lists_are_complete():
    clear = pd.read_csv(radnb.study._checklists.HERE / "clear.csv")  # noqa: SLF001
    metrics = pd.read_csv(radnb.study._checklists.HERE / "metrics.csv")  # noqa: SLF001
    assert clear["item"].tolist() == list(range(1, 59))
    assert metrics["item"].tolist() == list(range(1, 31))
    # weights of Table 1, Kocak et al. Insights Imaging 2024;15:8 (spot checks and the sum)
    w = metrics.set_index("item")["weight"]
    assert (w[3], w[18], w[27], w[30]) == (0.0919, 0.0599, 0.0749, 0.0075)
    assert w.sum() == pytest.approx(1.0, abs=1e-3)


def test_clear_is_mostly_filled_from_the_analysis_with_evidence(demo):
    table = demo["study"].checklist("CLEAR")
    filled = table[table.status == "filled from the analysis"]
    assert len(table) == 58
    assert len(filled) / len(table) >= 0.60, table.status.value_counts()
    assert all(filled["evidence"].str.len() > 0) and all(filled["facts"].map(len) > 0)
    # what only the author knows is left to the author
    author = set(table.loc[table.status == "needs the author", "item"])
    assert {1, 5, 11, 18, 49} <= author


def test_every_filled_value_is_the_recorded_value(demo):
    study = demo["study"]
    for name in ("CLEAR", "METRICS"):
        for facts in study.checklist(name)["facts"]:
            for f in facts:
                if f["step"] == "study":
                    continue
                value = study.entries[f["entry"]]["facts"]
                for k in f["fact"].split("."):
                    value = value[k] if f["fact"] != "recorded" else True
                    if f["fact"] == "recorded":
                        break
                assert value == f["value"], (name, f)


def test_methods_text_uses_the_recorded_numbers(demo):
    study = demo["study"]
    text = study.methods("en")
    bw = demo["settings"]["setting"]["binWidth"]
    assert re.search(r"fixed bin width of (\d+)", text).group(1) == f"{bw:g}"
    auc = demo["auc"].iloc[0]
    assert f"{auc['AUC']:.2f} (95% CI: {auc['ci_low']:.2f}, {auc['ci_high']:.2f}" in text
    assert f"PyRadiomics {study.last('extract.extract_features')['facts']['pyradiomics']}" in text
    assert "DeLong ER" in text and "Johnson WE" in text and "van Griethuysen" in text
    table = study.checklist("CLEAR").set_index("item")
    assert f"fixed bin width of {bw:g}" in table.loc[23, "text"]
    p = demo["delong"]["p-val"].item()
    assert radnb._utils.formatting.format_p(p, prefix="P") in text  # noqa: SLF001
    # Table 1's tests, as table_one recorded them (rank test by default, no pretest)
    assert "with the Chi-squared and Mann-Whitney U test(s), chosen in advance" in text


def test_chinese_methods_use_standard_terms(demo):
    text = demo["study"].methods("zh")
    for term in ("影像组学", "重采样", "灰度离散化", "组内相关系数", "ComBat", "LASSO",
                 "嵌套交叉验证", "校准", "决策曲线分析", "外部验证", "参考文献"):
        assert term in text, term
    bw = demo["settings"]["setting"]["binWidth"]
    assert f"固定组距{bw:g}" in text


def test_metrics_score_follows_the_authors_calculator(demo):
    table = demo["study"].checklist("METRICS")
    score = demo["study"].metrics_score()
    w = table.set_index("item")
    yes = w.loc[w.answer == "yes", "weight"].sum()
    counted = w.loc[w.answer != "n/a", "weight"].sum()
    assert score["score"] == round(100 * yes / counted, 1)
    assert set(score["open_items"]) == set(w.index[w.answer == "open"])
    assert {2, 3, 28} <= set(score["open_items"]) and 17 in score["not_applicable"]


def test_author_answers_replace_open_items(demo):
    study = radnb.Study.load(demo["study"].path)
    study.answer("CLEAR", 11, "Consecutive adults with ...").answer("METRICS", 2, "yes: consecutive")
    assert study.checklist("CLEAR").set_index("item").loc[11, "status"] == "answered by the author"
    assert 2 not in study.metrics_score()["open_items"]


def test_flow_diagram_counts(demo):
    import matplotlib.pyplot as plt

    from radnb.study._figures import flow_boxes

    study = demo["study"]
    boxes = dict(flow_boxes(study)[:1])
    assert boxes["main"].endswith(f"n = {study.last('cohort.validate')['facts']['n_rows']}")
    ax = study.plot_flow()
    assert any(f"n = {len(demo['features'])}" in t.get_text() for t in ax.texts)
    plt.close("all")


def test_word_document_has_tables_figures_and_methods(demo, tmp_path):
    import docx

    path = demo["study"].to_docx(tmp_path / "study.docx")
    doc = docx.Document(str(path))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Table 1. Baseline characteristics" in text and "Table 2. Rad-score model" in text
    assert "fixed bin width of 25" in text
    assert len(doc.tables) == 4  # Table 1, model table, CLEAR, METRICS
    assert len(doc.tables[2].rows) == 59 and len(doc.tables[3].rows) == 31
    assert len(doc.inline_shapes) == 2  # flow diagram; ROC + calibration + decision curve
    model = demo["model"]
    cells = [c.text for row in doc.tables[1].rows for c in row.cells]
    assert f"{model.intercept:.3f}" in cells


def test_html_report_escapes_case_ids(data_home, tmp_path):
    bad = "<script>alert(1)</script>"
    manifest = pd.DataFrame({"case_id": [bad], "image": [str(tmp_path / "missing.nii.gz")],
                             "mask": [str(tmp_path / "missing_mask.nii.gz")]})
    with radnb.Study("escape", folder=tmp_path) as study:
        radnb.cohort.validate(manifest)
    assert bad in study.last("cohort.validate")["facts"]["errors"]
    html = study.to_html(tmp_path / "r.html").read_text(encoding="utf-8")
    assert bad not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_start_stop_records_across_threads_and_saves(tmp_path):
    import threading

    study = radnb.Study("notebook style", folder=tmp_path).start()
    try:  # a notebook cell may run in another context: start() must still be seen there
        worker = threading.Thread(target=radnb.evaluate.roc_auc_ci, args=([0, 0, 1, 1], [.1, .4, .35, .8]))
        worker.start()
        worker.join()
    finally:
        path = study.stop()
    assert provenance.active() is None
    auc = study.last("evaluate.roc_auc_ci")["facts"]
    assert auc["AUC"] == 0.75  # sklearn.metrics.roc_auc_score([0, 0, 1, 1], [.1, .4, .35, .8])
    assert json.loads(path.read_text(encoding="utf-8"))["entries"][0]["step"] == "evaluate.roc_auc_ci"


def test_decision_curve_sentence_names_gaps_in_the_benefit_range(tmp_path):
    # a weak model beats treat-all / treat-none at some thresholds, with gaps between them:
    # the Results sentence must not claim a benefit over the whole range
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 40)
    p = np.clip(0.5 + 0.1 * (y - 0.5) + rng.normal(0, 0.25, 40), 0.01, 0.99)
    thresholds = np.round(np.arange(0.05, 0.95, 0.05), 2)
    with radnb.Study("dca gaps", folder=tmp_path) as study:
        curve = radnb.evaluate.decision_curve(y, {"weak": p}, thresholds)
    nb = curve.pivot(index="threshold", columns="model", values="net_benefit")
    useful = nb.index[nb["weak"] > nb[["Treat All", "Treat None"]].max(axis=1) + 1e-12]
    lo, hi = useful.min(), useful.max()
    gaps = int(((nb.index >= lo) & (nb.index <= hi)).sum()) - len(useful)
    assert gaps > 0
    en, zh = study.methods("en"), study.methods("zh")
    assert (f"threshold probabilities between {lo:.2f} and {hi:.2f}, except at {gaps} "
            "threshold(s)") in en
    assert f"其中{gaps}个阈值点除外" in zh
