"""Reading facts out of a study log, remembering which were used (the evidence)."""
from __future__ import annotations

#: Where a recorded step comes from, for the evidence column.
STEP_TITLES = {
    "datasets.load_demo_cohort": "demo cohort",
    "cohort.validate": "cohort validation",
    "extract.extract_features": "feature extraction",
    "preprocess.resample": "resampling",
    "preprocess.normalize": "normalisation",
    "reproducibility.feature_icc": "ICC analysis",
    "reproducibility.ICCFilter": "ICC filter",
    "harmonize.ComBat": "ComBat",
    "stats.table_one": "Table 1",
    "stats.radscore_model": "Rad-score model",
    "evaluate.roc_auc_ci": "ROC analysis",
    "evaluate.delong_test": "DeLong test",
    "evaluate.calibration": "calibration",
    "evaluate.decision_curve": "decision curve",
    "evaluate.external_validation": "external validation",
}


class Collector:
    """Looks facts up in a study and keeps ``(step, fact, value)`` of every fact it returned.

    The checklist and the Methods text read the log only through a collector, so
    every number they print is listed as evidence, exactly as it was recorded.
    """

    def __init__(self, study):
        self.study = study
        self.used = []

    def entry(self, step, *, part=None):
        """The entry that describes ``step`` (see :meth:`radnb.Study.last`), or None."""
        return self.study.last(step, part=part)

    def has(self, step):
        return self.study.last(step) is not None

    def get(self, step, key, default=None, *, part=None, entry=None):
        """The recorded value of ``key`` (a dotted path into the facts) for ``step``."""
        e = entry if entry is not None else self.entry(step, part=part)
        if e is None:
            return default
        value = e["facts"]
        for k in key.split("."):
            if not isinstance(value, dict) or k not in value:
                return default
            value = value[k]
        self.used.append({"step": step, "fact": key, "value": value, "entry": e["index"]})
        return value

    def take(self):
        """The evidence gathered since the last call, and start afresh."""
        used, self.used = self.used, []
        return used


def evidence_text(used):
    """Evidence as a short readable string: ``extract.extract_features: binWidth = 25; ...``."""
    seen, parts = set(), []
    for u in used:
        value = u["value"]
        if isinstance(value, (dict, list)) and len(str(value)) > 60:
            value = f"{type(value).__name__} of {len(value)}"
        key = (u["step"], u["fact"])
        if key in seen:
            continue
        seen.add(key)
        parts.append(f"{u['step']} (#{u['entry']}): {u['fact']} = {value}")
    return "; ".join(parts)
