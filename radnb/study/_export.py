"""Exports of a study: one self-contained HTML report and a Word document."""
from __future__ import annotations

import contextlib
import io

from radnb._utils import provenance

COLUMNS = ["item", "section", "title", "status", "text", "evidence"]


@contextlib.contextmanager
def _not_recording():
    """Drawing the figures calls radnb functions: keep them out of the log."""
    token = provenance.activate(None)
    try:
        yield
    finally:
        provenance.deactivate(token)


def table_one(study):
    """Table 1 as recorded by :func:`radnb.stats.table_one` (a DataFrame), or None."""
    import pandas as pd

    e = study.last("stats.table_one")
    if e is None:
        return None
    return pd.DataFrame(e["facts"]["rows"], columns=e["facts"]["columns"])


def model_table(study):
    """The Rad-score coefficients and its cross-validated performance, or None."""
    import pandas as pd

    e = study.last("stats.radscore_model")
    if e is None:
        return None
    f = e["facts"]
    rows = [{"term": "(intercept)", "coefficient": f"{f['intercept']:.3f}"}]
    rows += [{"term": k, "coefficient": f"{v:.3f}"} for k, v in f["coefficients"].items()]
    lo, hi = f["auc_ci"]
    rows.append({"term": f"pooled out-of-fold AUC, {f['outer_cv']}-fold nested CV (95% CI, DeLong)",
                 "coefficient": f"{f['auc']:.2f} ({lo:.2f}, {hi:.2f})"})
    rows.append({"term": "patients used / events", "coefficient": f"{f['n_used']} / {f['n_events']}"})
    return pd.DataFrame(rows)


def standard_figures(study):
    """Flow diagram and, when the log holds out-of-fold predictions, ROC, calibration and DCA."""
    import matplotlib.pyplot as plt

    figs = {}
    with _not_recording():
        ax = study.plot_flow()
        figs["Figure 1. Patient flow"] = ax.figure
        e = study.last("stats.radscore_model")
        if e is not None and e["facts"].get("oof_probability"):
            from radnb.evaluate import plot_calibration, plot_decision_curve, plot_roc

            y, p = e["facts"]["oof_outcome"], e["facts"]["oof_probability"]
            fig, axes = plt.subplots(1, 3, figsize=(13, 4))
            plot_roc(y, p, label="Rad-score (out-of-fold)", ax=axes[0], n_boot=200)
            plot_calibration(y, p, ax=axes[1], label="Rad-score (out-of-fold)")
            plot_decision_curve(y, {"Rad-score": p}, ax=axes[2])
            fig.tight_layout()
            figs["Figure 2. ROC, calibration and decision curves of the out-of-fold Rad-score "
                 "predictions (nested cross-validation)"] = fig
    return figs


def _checklist_tables(study):
    from radnb.study._checklists import metrics_score

    clear = study.checklist("CLEAR")
    metrics = study.checklist("METRICS")
    return clear, metrics, metrics_score(metrics)


def write_html(study, path=None, *, figures, tables):
    """The study as one self-contained HTML file (via :class:`radnb.report.Report`)."""
    from radnb.report import Report

    path = path or study.folder / (study.path.name.replace(".study.json", ".html"))
    rep = Report(f"Study: {study.name}", author=study.author)
    rep.add("## Methods and Results\n\n" + study.methods("en").replace("\n", "\n\n"))
    t1 = table_one(study)
    if t1 is not None:
        rep.add(t1, caption="Table 1. Baseline characteristics")
    mt = model_table(study)
    if mt is not None:
        rep.add(mt, caption="Table 2. Rad-score model")
    for caption, fig in {**standard_figures(study), **figures}.items():
        rep.add(fig, caption=caption)
    for caption, df in tables.items():
        rep.add(df, caption=caption)
    clear, metrics, score = _checklist_tables(study)
    rep.add(clear[COLUMNS], caption="CLEAR checklist (" + clear.attrs["source"].split("\n")[0] + ")")
    rep.add(metrics[COLUMNS + ["weight", "answer"]],
            caption=f"METRICS: {score['score']}% ({score['category']}); open items "
                    f"{score['open_items']} need the author")
    rep.add(study.log.astype({"facts": str}), caption="Study log (every recorded step)")
    return rep.save(path)


def write_docx(study, path=None, *, figures, tables, language="en"):
    """The study as a Word document (python-docx)."""
    import docx
    from docx.shared import Inches, Pt

    path = path or study.folder / (study.path.name.replace(".study.json", ".docx"))
    doc = docx.Document()
    doc.add_heading(f"Study: {study.name}", level=0)
    for block in study.methods(language).split("\n\n"):
        if block.strip() in ("Methods", "Results", "References", "方法", "结果", "参考文献"):
            doc.add_heading(block.strip(), level=1)
        elif block.strip():
            for line in block.split("\n"):
                doc.add_paragraph(line)
    t1 = table_one(study)
    if t1 is not None:
        _table(doc, t1, "Table 1. Baseline characteristics")
    mt = model_table(study)
    if mt is not None:
        _table(doc, mt, "Table 2. Rad-score model")
    for caption, df in tables.items():
        _table(doc, df, caption)
    for caption, fig in {**standard_figures(study), **figures}.items():
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=150, bbox_inches="tight")
        buf.seek(0)
        doc.add_picture(buf, width=Inches(6.3))
        doc.add_paragraph(caption)
    clear, metrics, score = _checklist_tables(study)
    doc.add_page_break()
    _table(doc, clear[COLUMNS], "CLEAR checklist. " + clear.attrs["source"].replace("\n", " "),
           size=Pt(7))
    _table(doc, metrics[COLUMNS + ["weight", "answer"]],
           f"METRICS score {score['score']}% ({score['category']}); open items "
           f"{score['open_items']} need the author. " + metrics.attrs["source"].replace("\n", " "),
           size=Pt(7))
    doc.save(str(path))
    return path


def _table(doc, df, caption, size=None):
    doc.add_paragraph(caption)
    table = doc.add_table(rows=1, cols=len(df.columns))
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, df.columns):
        cell.text = str(name)
    for row in df.itertuples(index=False):
        cells = table.add_row().cells
        for cell, value in zip(cells, row):
            cell.text = "" if value is None else str(value)
    if size is not None:
        for row in table.rows:
            for cell in row.cells:
                for p in cell.paragraphs:
                    for run in p.runs:
                        run.font.size = size
    return table
