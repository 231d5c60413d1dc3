"""The TRIPOD-style patient flow diagram, drawn from the study log."""
from __future__ import annotations

from radnb.study._facts import Collector
from radnb.study._results import flow_counts


def flow_boxes(study):
    """The boxes of the flow diagram as ``(kind, text)`` pairs (also used by the exports)."""
    c = Collector(study)
    flow = flow_counts(c)
    if flow is None:
        raise ValueError(
            "the study log has no cohort counts yet: run radnb.cohort.validate, "
            "radnb.extract.extract_features or radnb.stats.radscore_model inside the study first."
        )
    boxes = [("main", f"Image-mask pairs assessed\nn = {flow['assessed']}")]
    total = sum(n for _, n in flow["excluded"])
    reasons = "".join(f"\n{r}: n = {n}" for r, n in flow["excluded"])
    boxes.append(("side", f"Excluded (n = {total}){reasons}"))
    line = f"Analysed\nn = {flow['analysed']}"
    if "events" in flow:
        line += f" ({flow['events']} with outcome)"
    boxes.append(("main", line))
    sites = {}
    for e in study.find("evaluate.external_validation"):
        for r in e["facts"]["results"]:
            if r["validation"] == "external" and r.get("n"):
                sites[r["test_site"]] = r["n"]
    for site, n in sites.items():
        boxes.append(("set", f"External test: site {site}\nn = {n}"))
    parts = {}
    for e in study.find("evaluate.roc_auc_ci"):
        if e["part"]:
            f = e["facts"]
            parts[e["part"]] = f["n_pos"] + f["n_neg"]
    for name, n in parts.items():
        boxes.append(("set", f"{name}\nn = {n}"))
    return boxes


def plot_flow(study, ax=None):
    """Draw the flow diagram (main boxes down the middle, exclusions to the right)."""
    import matplotlib.pyplot as plt

    boxes = flow_boxes(study)
    mains = [b for b in boxes if b[0] == "main"]
    sets = [b for b in boxes if b[0] == "set"]
    height = 1.8 * (len(mains) + (1 if sets else 0))
    if ax is None:
        _, ax = plt.subplots(figsize=(7, max(3.0, 0.8 * height)))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, height)
    ax.axis("off")
    style = dict(ha="center", va="center", fontsize=9,
                 bbox=dict(boxstyle="round,pad=0.5", fc="white", ec="0.2"))
    y = height - 1.0
    prev = None
    for kind, text in boxes:
        if kind == "main":
            ax.text(3.5, y, text, **style)
            if prev is not None:
                ax.annotate("", xy=(3.5, y + 0.45), xytext=(3.5, prev - 0.45),
                            arrowprops=dict(arrowstyle="->", color="0.2"))
            prev = y
            y -= 1.8
        elif kind == "side":
            ax.text(7.8, prev - 0.9, text, **style)
            ax.annotate("", xy=(6.2, prev - 0.9), xytext=(3.5, prev - 0.9),
                        arrowprops=dict(arrowstyle="->", color="0.2"))
    for i, (_, text) in enumerate(sets):
        x = 10 * (i + 1) / (len(sets) + 1)
        ax.text(x, 0.7, text, **style)
        ax.annotate("", xy=(x, 1.15), xytext=(3.5, prev - 0.45),
                    arrowprops=dict(arrowstyle="->", color="0.5"))
    ax.set_title(f"Patient flow: {study.name}", fontsize=10)
    return ax
