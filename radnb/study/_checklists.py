"""CLEAR and METRICS checklists, pre-filled from the study log.

The item lists are data files beside this module (``clear.csv``, ``metrics.csv``;
sources and licence in ``checklists.md``). An item is *filled from the analysis*
only when the log holds the facts it asks for; every filled item lists its
evidence (step, fact, value). Items about the clinical question, eligibility,
the reference standard, ethics, acquisition and the discussion need the author.
"""
from __future__ import annotations

import re
from pathlib import Path

import radnb.study._text as T
from radnb.study._facts import Collector, evidence_text
from radnb.study._results import flow_counts, r_auc, r_calibration, r_external, r_features, r_model

FILLED, ANSWERED = "filled from the analysis", "answered by the author"
NEEDS, NA = "needs the author", "not applicable"
HERE = Path(__file__).resolve().parent
LANG = "en"

#: Why an item cannot come from the analysis (shown to the author).
AUTHOR = "only the author knows this (not part of the analysis)"


def _sentences(c, *funcs):
    out = [s for s in (f(c, LANG) for f in funcs) if s]
    return " ".join(out) or None


def _pipeline(c):
    steps = []
    for e in c.study.entries:
        if c.study._own(e) and e["step"] not in steps and not e["step"].startswith("study."):
            steps.append(e["step"])
    if len(steps) < 2:
        return None
    for s in steps:
        c.used.append({"step": s, "fact": "recorded", "value": True,
                       "entry": c.study.last(s)["index"]})
    return ("Pipeline, in the order run: " + " -> ".join(steps)
            + " (flow diagram: Study.plot_flow; full settings in the study log).")


def _split(c):
    parts = []
    if c.has(T.RS):
        parts.append(f"stratified {c.get(T.RS, 'outer_cv')}-fold nested cross-validation "
                     f"(inner {c.get(T.RS, 'inner_cv')}-fold, seed {c.get(T.RS, 'seed')}); all "
                     "selection, scaling and harmonisation steps fitted within training folds")
    if c.has("evaluate.external_validation"):
        parts.append("leave-one-site-out external validation on site(s) "
                     + ", ".join(c.get("evaluate.external_validation", "test_sites")))
    return "; ".join(parts) + "." if parts else None


def _imbalance(c):
    if not c.has(T.RS):
        return None
    ev, n = c.get(T.RS, "n_events"), c.get(T.RS, "n_used")
    return (f"{ev} events among {n} patients ({100 * ev / n:.1f}%); folds were stratified by "
            "outcome; no resampling or class weighting was used, and AUC (insensitive to "
            "prevalence) was the selection metric.")


def _segmentation_reliability(c):
    if not c.has(T.ICC):
        return None
    return (f"{c.get(T.ICC, 'icc_type')} between {c.get(T.ICC, 'n_raters')} {c.get(T.ICC, 'by')}s "
            f"on {c.get(T.ICC, 'n_targets')} cases, for {c.get(T.ICC, 'n_features')} features "
            f"(median ICC {c.get(T.ICC, 'median_icc'):.2f}).")


def _scaling(c):
    if not c.has(T.RS):
        return None
    s = "z-score standardisation fitted on each training fold"
    return s + (" after ComBat harmonisation." if c.get(T.RS, "harmonize") else ".")


def _reduction(c):
    parts = []
    if c.has(T.ICCF):
        parts.append(f"ICC filter (threshold {c.get(T.ICCF, 'threshold'):.2f}, "
                     f"{c.get(T.ICCF, 'n_kept')} of {c.get(T.ICCF, 'n_features')} kept)")
    if c.has(T.RS):
        parts.append(f"correlation filter (Spearman |rho| > "
                     f"{c.get(T.RS, 'correlation_threshold'):.2f}) and L1 penalty "
                     f"({len(c.get(T.RS, 'selected'))} of {c.get(T.RS, 'n_candidates')} "
                     "candidate features in the final model)")
    return "; ".join(parts) + "." if parts else None


def _algorithm(c):
    if not c.has(T.RS):
        return None
    return (f"{c.get(T.RS, 'model')} (scikit-learn), candidate C values "
            f"{', '.join(f'{x:g}' for x in c.get(T.RS, 'Cs'))}; final C = {c.get(T.RS, 'best_C'):g}.")


def _selection(c):
    if not c.has(T.RS):
        return None
    rule = c.get(T.RS, "rule")
    return ("Inner cross-validation AUC; " + ("one-standard-error rule (sparsest model within one "
            "SE of the best)" if rule == "1se" else "best mean inner AUC") + "; only training "
            "folds were used for model selection.")


def _testing(c):
    parts = []
    if c.has(T.RS):
        parts.append(f"internal: outer folds of {c.get(T.RS, 'outer_cv')}-fold nested "
                     "cross-validation")
    if c.has("evaluate.external_validation"):
        parts.append("external: held-out site(s) "
                     + ", ".join(c.get("evaluate.external_validation", "test_sites")))
    return "; ".join(parts) + "." if parts else None


def _uncertainty(c):
    e = c.study.find("evaluate.roc_auc_ci")
    if not (e or c.has(T.RS)):
        return None
    s = "95% confidence intervals"
    if e:
        s += f" for AUC ({c.get('evaluate.roc_auc_ci', 'method', entry=e[-1])} method)"
    if c.has(T.RS):
        s += "; DeLong interval of the pooled out-of-fold AUC of the nested cross-validation"
    return s + "."


def _comparison(c):
    return r_auc(c, LANG) if c.study.find("evaluate.delong_test") else None


def _interpret(c):
    if not c.has(T.RS):
        return None
    coef = c.get(T.RS, "coefficients")
    return ("Intrinsically interpretable linear model; coefficients per SD: "
            + ", ".join(f"{k} {v:+.3f}" for k, v in coef.items()) + ".")


def _table1(c):
    if not c.has(T.T1):
        return None
    return (f"Table 1 ({c.get(T.T1, 'n')} patients"
            + (f", by {c.get(T.T1, 'groupby')}" if c.get(T.T1, "groupby") else "")
            + "): " + ", ".join(c.get(T.T1, "variables")) + ".")


def _flowchart(c):
    flow = flow_counts(c)
    if flow is None:
        return None
    return (T.t(LANG, "", "") + f"Technical flow: {flow['assessed']} assessed, "
            + ", ".join(f"{n} excluded ({r})" for r, n in flow["excluded"])
            + (", " if flow["excluded"] else "") + f"{flow['analysed']} analysed "
            "(Study.plot_flow). Clinical eligibility counts need the author.")


def _performance(c):
    return _sentences(c, r_model, r_auc, r_calibration, r_external)


def _metrics_used(c):
    parts = []
    if c.get("evaluate.roc_auc_ci", "AUC") is not None or c.get(T.RS, "auc_mean") is not None:
        parts.append("AUC (discrimination)")
    if c.get("evaluate.calibration", "slope") is not None:
        parts.append("calibration intercept/slope, Brier score (calibration)")
    if c.get("evaluate.decision_curve", "thresholds") is not None:
        parts.append("net benefit (decision curve analysis)")
    return ", ".join(parts) + "." if parts else None


def _adherence(c):
    c.used.append({"step": "study", "fact": "checklist", "value": "CLEAR",
                   "entry": len(c.study.entries)})
    return "CLEAR checklist completed with radnb.Study from the recorded analysis (supplement)."


def _settings_file(c):
    if not c.has(T.EXT):
        return None
    c.get(T.EXT, "settings")
    return (f"Share {c.study.path.name} as supplementary material: it holds every pre-processing "
            "and extraction setting and software version, as recorded during the analysis.")


def _na_if_synthetic(c):
    return (NA, "Synthetic data, no patients.") if c.has(T.SRC) else None


#: CLEAR item -> function(collector) returning text, (status, text) or None (needs the author).
CLEAR_FILL = {
    7: _adherence, 8: _na_if_synthetic, 12: _pipeline,
    13: lambda c: T.m_source(c, LANG), 15: _split,
    17: lambda c: _table1(c) and "Clinical variables as in " + _table1(c),
    19: lambda c: T.m_segmentation(c, LANG) if c.has(T.SRC) else None,
    21: lambda c: _sentences(c, T.m_resampling, T.m_preprocessing, T.m_harmonisation),
    22: lambda c: T.m_resampling(c, LANG), 23: lambda c: T.m_discretisation(c, LANG),
    24: lambda c: c.has(T.EXT) and ", ".join(T._image_types(c, LANG)).capitalize() + ".",
    25: lambda c: T.m_software(c, LANG),
    26: lambda c: c.has(T.EXT) and ", ".join(c.get(T.EXT, "settings.featureClass")) + ".",
    27: lambda c: c.has(T.EXT) and f"{c.get(T.EXT, 'n_features')} features per image.",
    28: lambda c: T.m_features(c, LANG), 29: lambda c: T.m_missing(c, LANG), 30: _imbalance,
    31: _segmentation_reliability, 32: _scaling, 33: _reduction, 34: _algorithm,
    35: lambda c: T.m_model(c, LANG), 36: lambda c: T.m_harmonisation(c, LANG),
    37: _selection, 38: _testing, 39: _metrics_used, 40: _uncertainty, 41: _comparison,
    42: _comparison, 43: _interpret, 44: _table1, 45: _flowchart, 55: _settings_file,
    46: lambda c: _sentences(c, r_features, r_model), 47: _performance, 48: _comparison,
}


def _yes(cond):
    return lambda c: ("yes" if cond(c) else None)


def _external(c):
    return c.has("evaluate.external_validation") and "yes: " + _testing(c)


def _dimensionality(c):
    if not c.has(T.RS):
        return None
    k, ev = len(c.get(T.RS, "selected")), c.get(T.RS, "n_events")
    n = c.get(T.RS, "n_used")
    epv = min(ev, n - ev) / max(k, 1)
    return f"{'yes' if epv >= 10 else 'no'}: {k} features for {min(ev, n - ev)} events of the " \
           f"smaller class (EPV {epv:.1f}; 10 or more taken as adequate)."


#: METRICS item -> function(collector) returning "yes: ...", "no: ...", (NA, text) or None.
METRICS_FILL = {
    1: lambda c: "yes: " + _adherence(c),
    4: lambda c: (n := (T.combat_entry(c) and c.get(T.CB, "n_sites", entry=T.combat_entry(c)))
                  or len(c.get(T.COH, "sites") or [])) and (
        f"{'yes' if n > 1 else 'no'}: {n} site(s)."),
    9: lambda c: c.has(T.SRC) and (NA, "No fully automated segmentation."),
    11: lambda c: c.has(T.EXT) and "yes: " + _sentences(c, T.m_resampling, T.m_preprocessing),
    12: lambda c: c.has(T.EXT) and "yes: " + T.m_software(c, LANG),
    13: lambda c: c.has(T.EXT) and "yes: " + T.m_features(c, LANG),
    14: lambda c: c.has(T.ICCF) and "yes: " + _reduction(c),
    15: lambda c: c.has(T.RS) and "yes: correlation filter inside every training fold.",
    16: _dimensionality,
    17: lambda c: c.has(T.EXT) and (NA, "No end-to-end deep learning."),
    18: lambda c: c.has(T.RS) and "yes: " + _split(c),
    19: lambda c: T.m_harmonisation(c, LANG) and "yes: " + T.m_harmonisation(c, LANG),
    20: lambda c: _metrics_used(c) and "yes: " + _metrics_used(c),
    21: lambda c: _uncertainty(c) and "yes: " + _uncertainty(c),
    22: lambda c: c.study.find("evaluate.calibration") and "yes: " + r_calibration(c, LANG),
    24: lambda c: _comparison(c) and "yes: " + _comparison(c),
    27: _external,
}


def load_items(name):
    import pandas as pd

    return pd.read_csv(HERE / ("clear.csv" if name == "CLEAR" else "metrics.csv"))


def fill_checklist(study, name):
    items = load_items(name)
    fillers = CLEAR_FILL if name == "CLEAR" else METRICS_FILL
    c = Collector(study)
    rows = []
    for rec in items.to_dict("records"):
        n = int(rec["item"])
        c.take()
        out = fillers[n](c) if n in fillers else None
        facts = c.take()
        status, text = FILLED, out
        if isinstance(out, tuple):
            status, text = out
        elif not out:
            status, text = NEEDS, AUTHOR
            facts = []
        if isinstance(text, str):  # citation keys belong to the Methods text only
            text = re.sub(r" ?\[[a-z]+(, [a-z]+)*\]", "", text)
        given = study.answers.get(f"{name}:{n}")
        if given is not None:
            status, text, facts = (NA if given.lower().startswith("n/a") else ANSWERED), given, []
        row = {"item": n, "section": rec.get("section", rec.get("category")),
               "title": rec["title"], "status": status, "text": text,
               "evidence": evidence_text(facts), "facts": facts}
        if name == "METRICS":
            row["weight"] = float(rec["weight"])
            low = str(text).lower()
            row["answer"] = ("n/a" if status == NA else "open" if status == NEEDS else
                             "yes" if low.startswith("yes") else "no" if low.startswith("no")
                             else "open")
        rows.append(row)
    import pandas as pd

    table = pd.DataFrame(rows)
    table.attrs["source"] = (HERE / "checklists.md").read_text(encoding="utf-8").split("\n## ")[
        1 if name == "CLEAR" else 2].split("\n", 1)[1].strip()
    return table


def metrics_score(table):
    """METRICS score as the authors' calculator computes it, with the open items flagged.

    ``score``: 100 x yes-weight / (yes + no + open weight), counting open items as
    "no" (what a reviewer would score today); ``score_if_open_yes``: the score if every
    open item were answered "yes"; ``open_items``: their numbers.
    """
    w = table.set_index("item")
    yes = w.loc[w.answer == "yes", "weight"].sum()
    no = w.loc[w.answer == "no", "weight"].sum()
    open_ = w.loc[w.answer == "open", "weight"].sum()
    denom = yes + no + open_
    score = 100 * yes / denom if denom else float("nan")
    best = 100 * (yes + open_) / denom if denom else float("nan")
    cats = [(20, "very low"), (40, "low"), (60, "moderate"), (80, "good"), (float("inf"), "excellent")]
    score, best = float(score), float(best)
    return {"score": round(score, 1), "category": next(c for lim, c in cats if score < lim),
            "score_if_open_yes": round(best, 1),
            "open_items": [int(i) for i in w.index[w.answer == "open"]],
            "not_applicable": [int(i) for i in w.index[w.answer == "n/a"]]}
