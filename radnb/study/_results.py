"""Results sentences written from the study log (cohort flow, features, model performance)."""
from __future__ import annotations

from radnb._utils.formatting import format_p
import radnb.study._text as T
from radnb.study._facts import Collector
from radnb.study._text import COH, EXT, ICCF, RS, T1, ci, f2, join, t


def flow_counts(c):
    """Patients assessed, excluded (with reasons) and analysed, from the log (or None)."""
    if not (c.has(COH) or c.has(EXT) or c.has(RS)):
        return None
    out = {"assessed": c.get(COH, "n_rows") or c.get(EXT, "n_cases") or c.get(RS, "n_given"),
           "excluded": []}
    if c.has(COH) and c.get(COH, "n_error"):
        out["excluded"].append(("failed image checks", c.get(COH, "n_error")))
    if c.has(EXT) and c.get(EXT, "n_failed"):
        out["excluded"].append(("extraction failed", c.get(EXT, "n_failed")))
    if c.has(RS) and c.get(RS, "n_excluded"):
        out["excluded"].append(("missing feature values", c.get(RS, "n_excluded")))
    if c.has(RS):
        out["analysed"] = c.get(RS, "n_used")
        out["events"] = c.get(RS, "n_events")
    else:
        out["analysed"] = c.get(EXT, "n_ok")
    return out


def r_flow(c, lang):
    flow = flow_counts(c)
    if flow is None:
        return None
    n = flow["assessed"]
    ex = flow["excluded"]
    zh_reason = {"failed image checks": "图像检查未通过", "extraction failed": "特征提取失败",
                 "missing feature values": "特征值缺失"}
    s = t(lang, f"Of {n} image-mask pairs assessed, ", f"共评估{n}对图像与掩膜，")
    if ex:
        s += t(lang, "excluded were " + join([f"{k} ({r})" for r, k in ex], lang) + "; ",
               "排除" + join([f"{zh_reason[r]}{k}例" for r, k in ex], lang) + "；")
    else:
        s += t(lang, "none was excluded; ", "无排除病例；")
    s += t(lang, f"{flow['analysed']} were analysed", f"最终纳入分析{flow['analysed']}例")
    if "events" in flow:
        s += t(lang, f" ({flow['events']} with the outcome)", f"（阳性结局{flow['events']}例）")
    s += t(lang, ".", "。")
    if c.has(T1):
        s += t(lang, " Baseline characteristics are given in Table 1.", "基线特征见表1。")
    return s


def r_features(c, lang):
    if not c.has(ICCF):
        return None
    kept, n = c.get(ICCF, "n_kept"), c.get(ICCF, "n_features")
    return t(lang, f"{kept} of {n} features ({100 * kept / n:.1f}%) were reproducible.",
             f"{n}个特征中{kept}个（{100 * kept / n:.1f}%）可重复性良好。")


def r_model(c, lang):
    if not c.has(RS):
        return None
    sel = c.get(RS, "selected")
    lo, hi = c.get(RS, "auc_ci")
    k = c.get(RS, "outer_cv")
    auc = c.get(RS, "auc")
    return t(lang, f"The final Rad-score kept {len(sel)} feature(s) ({', '.join(sel)}). In "
                   f"{k}-fold nested cross-validation its pooled out-of-fold AUC was {f2(auc)} "
                   f"({ci(lo, hi, lang)}, DeLong).",
             f"最终影像组学评分保留{len(sel)}个特征（{', '.join(sel)}）。{k}折嵌套交叉验证合并折外预测的AUC为"
             f"{f2(auc)}（{ci(lo, hi, lang)}，DeLong法）。")


def r_auc(c, lang):
    out = []
    for e in c.study.find("evaluate.roc_auc_ci"):
        g = lambda k: c.get("evaluate.roc_auc_ci", k, entry=e)  # noqa: E731
        where = e["part"] or t(lang, "the evaluated set", "评估集")
        out.append(t(lang, f"AUC in {where}: {f2(g('AUC'))} ({ci(g('ci_low'), g('ci_high'), lang)}; "
                           f"{g('n_pos')} positive, {g('n_neg')} negative).",
                     f"{where}的AUC为{f2(g('AUC'))}（{ci(g('ci_low'), g('ci_high'), lang)}；"
                     f"阳性{g('n_pos')}例，阴性{g('n_neg')}例）。"))
    for e in c.study.find("evaluate.delong_test"):
        g = lambda k: c.get("evaluate.delong_test", k, entry=e)  # noqa: E731
        what = e["part"] or t(lang, "the two models", "两模型")
        p = format_p(g("p"), prefix="P") if g("p") is not None else "P not defined"
        out.append(t(lang, f"DeLong test, {what}: AUC {f2(g('AUC_a'))} vs {f2(g('AUC_b'))} ({p}).",
                     f"DeLong检验（{what}）：AUC {f2(g('AUC_a'))} vs {f2(g('AUC_b'))}（{p}）。"))
    return t(lang, " ", "").join(out) or None


def r_calibration(c, lang):
    out = []
    for e in c.study.find("evaluate.calibration"):
        g = lambda k: c.get("evaluate.calibration", k, entry=e)  # noqa: E731
        where = e["part"] or t(lang, "the evaluated set", "评估集")
        out.append(t(lang, f"Calibration in {where}: intercept {f2(g('intercept'))}, slope "
                           f"{f2(g('slope'))}, Brier score {g('brier'):.3f}.",
                     f"{where}的校准截距为{f2(g('intercept'))}，校准斜率为{f2(g('slope'))}，"
                     f"Brier评分为{g('brier'):.3f}。"))
    for e in c.study.find("evaluate.decision_curve"):
        rng = c.get("evaluate.decision_curve", "benefit_range", entry=e) or {}
        gaps = c.get("evaluate.decision_curve", "benefit_gaps", entry=e) or {}
        for model, r in rng.items():
            if r and gaps.get(model):  # not every threshold of the range: say so, never "all"
                g = gaps[model]
                out.append(t(lang, f"Decision curve analysis: {model} gave a higher net benefit "
                                   f"than treating all or none at threshold probabilities between "
                                   f"{r[0]:.2f} and {r[1]:.2f}, except at {g} threshold(s) in "
                                   "that range.",
                             f"决策曲线分析显示，阈概率{r[0]:.2f}～{r[1]:.2f}范围内（其中{g}个阈值点除外）"
                             f"{model}的净获益高于全部干预或全部不干预。"))
            elif r:
                out.append(t(lang, f"Decision curve analysis: {model} gave a higher net benefit "
                                   f"than treating all or none at threshold probabilities "
                                   f"{r[0]:.2f} to {r[1]:.2f}.",
                             f"决策曲线分析显示，阈值概率{r[0]:.2f}～{r[1]:.2f}时{model}的净获益"
                             "高于全部干预或全部不干预。"))
            else:
                out.append(t(lang, f"Decision curve analysis: {model} never exceeded the net "
                                   "benefit of treating all or none.",
                             f"决策曲线分析显示{model}的净获益未超过全部干预或全部不干预。"))
    return t(lang, " ", "").join(out) or None


def r_external(c, lang):
    out = []
    for e in c.study.find("evaluate.external_validation"):
        rows = c.get("evaluate.external_validation", "results", entry=e)
        for r in rows:
            if r["validation"] != "external" or r.get("AUC") is None:
                continue
            h = t(lang, "with" if r["harmonized"] else "without",
                  "经" if r["harmonized"] else "未经")
            out.append(t(lang, f"Held-out site {r['test_site']} ({h} ComBat, n = {r['n']}): AUC "
                               f"{f2(r['AUC'])} ({ci(r['ci_low'], r['ci_high'], lang)}).",
                         f"留出中心{r['test_site']}（{h}ComBat协调，n = {r['n']}）：AUC "
                         f"{f2(r['AUC'])}（{ci(r['ci_low'], r['ci_high'], lang)}）。"))
    return t(lang, " ", "").join(out) or None


RESULTS = (r_flow, r_features, r_model, r_auc, r_calibration, r_external)


def methods_text(study, language="en"):
    """Methods and Results as text, with the numbered reference list."""
    c = Collector(study)
    methods = [s for s in (f(c, language) for f in T.METHODS) if s]
    results = [s for s in (f(c, language) for f in RESULTS) if s]
    sep = T.t(language, " ", "")
    text = (T.t(language, "Methods\n\n", "方法\n\n") + sep.join(methods)
            + T.t(language, "\n\nResults\n\n", "\n\n结果\n\n") + sep.join(results))
    cited = []
    for key in T.REFERENCES:
        for form in (f"[{key}]", f"[{key}, ", f", {key}]"):
            if form in text and key not in cited:
                cited.append(key)
    for i, key in enumerate(cited, 1):
        text = text.replace(f"[{key}]", f"[{i}]").replace(f"[{key}, ", f"[{i}, ").replace(
            f", {key}]", f", {i}]")
    refs = "\n".join(f"{i}. {T.REFERENCES[k]}" for i, k in enumerate(cited, 1))
    return text + T.t(language, "\n\nReferences\n\n", "\n\n参考文献\n\n") + refs
