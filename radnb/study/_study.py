"""The study log: what every radnb step did, recorded while the analysis runs."""
from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from radnb._utils import provenance

CHECKLISTS = ("CLEAR", "METRICS")


class Study:
    """A study log: inside ``with Study(...)``, radnb's functions record what they did.

    Every radnb step that shapes a result (cohort validation, extraction
    settings and versions, preprocessing, ICC filtering, ComBat, Table 1, the
    Rad-score model and its cross-validation, AUCs with CIs, calibration,
    decision curves, external validation) adds an entry with its settings and
    counts. Nothing needs to be remembered: leaving the ``with`` block saves the
    log as JSON in ``folder``. From the log the study fills in the CLEAR and
    METRICS checklists, writes Methods and Results paragraphs, draws the patient
    flow diagram and exports an HTML report and a Word document.

    Parameters
    ----------
    name : str
        Short study name (used in file names and titles).
    folder : str or Path, optional
        Where the log and the exports go; default the current folder.
    author : str, optional

    Attributes
    ----------
    entries : list of dict
        ``index``, ``time``, ``step`` (e.g. ``"extract.extract_features"``),
        ``facts`` (plain JSON values), ``within`` (the radnb function that made
        the call, None for your own calls), ``part`` (see :meth:`part`) and
        ``count`` (identical calls are merged).
    answers : dict
        Your answers to checklist items (see :meth:`answer`).

    Examples
    --------
    >>> import radnb
    >>> with radnb.Study("demo", folder="/tmp/radnb-study") as study:  # doctest: +SKIP
    ...     features = radnb.datasets.load_demo_features()
    ...     model = radnb.stats.radscore_model(features, "outcome")
    >>> study.checklist("CLEAR").status.value_counts()  # doctest: +SKIP
    >>> print(study.methods())  # doctest: +SKIP
    """

    def __init__(self, name, folder=None, *, author=None):
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"name must be a non-empty text such as 'lung-nodules'; got {name!r}.")
        self.name = name.strip()
        self.folder = Path(folder) if folder is not None else Path.cwd()
        self.author = author
        self.created = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.entries = []
        self.answers = {}
        self._part = None
        self._token = None
        self._started = False

    # -- recording ---------------------------------------------------------------------------
    def __enter__(self):
        if self._token is not None:
            raise RuntimeError(f"study {self.name!r} is already active; do not nest it in itself.")
        self._token = provenance.activate(self)
        return self

    def __exit__(self, exc_type, exc, tb):
        provenance.deactivate(self._token)
        self._token = None
        if exc_type is not None:
            self.record("study.error", error=f"{exc_type.__name__}: {exc}")
        self.save()
        return False

    def start(self):
        """Start recording until :meth:`stop` (for notebooks, where a study spans many cells).

        Examples
        --------
        >>> study = Study("demo", folder="/tmp/radnb-demo").start()
        >>> study.stop().name
        'demo.study.json'
        """
        provenance.start(self)
        self._started = True
        return self

    def stop(self):
        """Stop recording and save the log; returns the path of the JSON file."""
        provenance.stop(self)
        self._started = False
        return self.save()

    def _add(self, entry):
        entry = {**entry, "part": self._part}
        for old in reversed(self.entries):  # the same call again (e.g. ComBat in every fold)
            if all(old.get(k) == entry.get(k) for k in ("step", "facts", "within", "part", "by")):
                old["count"] += 1
                return old
        entry = {"index": len(self.entries), "time": datetime.now(timezone.utc).isoformat(
            timespec="seconds"), **entry, "count": 1}
        self.entries.append(entry)
        return entry

    def record(self, step, **facts):
        """Add your own entry (e.g. a step done outside radnb); facts must be plain values.

        Examples
        --------
        >>> study = Study("demo")
        >>> study.record("segmentation", tool="3D Slicer 5.6", readers=2)["step"]
        'segmentation'
        """
        return self._add({"step": str(step), "facts": provenance.plain(facts), "within": None,
                          "by": "user"})

    @contextlib.contextmanager
    def part(self, name):
        """Tag the entries recorded inside the block (e.g. ``"test set"``, ``"clinical model"``).

        Examples
        --------
        >>> study = Study("demo")
        >>> with study.part("test set"):
        ...     entry = study.record("note", n=30)
        >>> entry["part"]
        'test set'
        """
        old, self._part = self._part, str(name)
        try:
            yield self
        finally:
            self._part = old

    def answer(self, checklist, item, text):
        """Give the answer to a checklist item that only you know (eligibility, ethics, ...).

        Parameters
        ----------
        checklist : {"CLEAR", "METRICS"}
        item : int
        text : str
            For METRICS start with "yes" or "no" (e.g. ``"yes: histopathology"``),
            or "n/a" for an item that does not apply.
        """
        from radnb._utils.validation import check_option

        check_option("checklist", checklist, CHECKLISTS)
        self.answers[f"{checklist}:{int(item)}"] = str(text)
        return self

    # -- reading -----------------------------------------------------------------------------
    def last(self, step, *, part=None):
        """The entry describing ``step`` (None if it was not recorded).

        Without ``part``: your own calls first (the latest outside any
        :meth:`part`, else the latest inside one), then calls made inside
        another recorded radnb function.
        """
        found = [e for e in self.entries if e["step"] == step
                 and (part is None or e["part"] == part)]
        for main, own in ((True, True), (False, True), (True, False), (False, False)):
            pick = [e for e in found if (e["part"] is None) == main and self._own(e) == own]
            if pick:
                return pick[-1]
        return None

    def _own(self, entry):
        """Your own call, or made for you by a radnb helper that records nothing itself
        (e.g. the extraction inside ``load_demo_features``); not an internal step of another
        recorded function (e.g. ComBat inside every fold of ``radscore_model``)."""
        within = entry["within"]
        return within is None or not any(e.get("by") == within for e in self.entries)

    def find(self, step, *, own=True):
        """All entries of ``step`` (only your own calls, see :meth:`last`, unless ``own=False``)."""
        return [e for e in self.entries if e["step"] == step and (not own or self._own(e))]

    @property
    def log(self):
        """The entries as a DataFrame (one row per entry)."""
        import pandas as pd

        return pd.DataFrame(self.entries, columns=["index", "time", "step", "part", "within",
                                                   "by", "count", "facts"])

    # -- saving ------------------------------------------------------------------------------
    @property
    def path(self):
        """Where :meth:`save` writes the log: ``<folder>/<name>.study.json``."""
        slug = re.sub(r"[^A-Za-z0-9._-]+", "-", self.name).strip("-") or "study"
        return self.folder / f"{slug}.study.json"

    def to_dict(self):
        import radnb

        return {"name": self.name, "author": self.author, "created": self.created,
                "radnb": radnb.__version__, "python": platform.python_version(),
                "entries": self.entries, "answers": self.answers}

    def save(self, path=None):
        """Write the log as JSON (atomically) and return its path."""
        path = Path(path) if path is not None else self.path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(provenance.dumps(self.to_dict()))
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        return path

    @classmethod
    def load(cls, path):
        """Read a log written by :meth:`save` (to make the checklist or text again)."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        study = cls(data["name"], folder=Path(path).parent, author=data.get("author"))
        study.created = data.get("created", study.created)
        study.entries = data["entries"]
        study.answers = data.get("answers", {})
        return study

    # -- outputs (implemented in the neighbouring modules) -----------------------------------
    def checklist(self, name="CLEAR"):
        """The CLEAR or METRICS checklist pre-filled from the log (a DataFrame).

        Columns ``item``, ``section``, ``title``, ``status`` (``"filled from the
        analysis"``, ``"answered by the author"``, ``"needs the author"`` or
        ``"not applicable"``), ``text`` (what to report), ``evidence`` (which
        step recorded which value) and ``facts`` (the same, as data). METRICS
        adds ``weight`` and ``answer`` (``"yes"``, ``"no"``, ``"n/a"`` or
        ``"open"``); see :meth:`metrics_score`.
        """
        from radnb._utils.validation import check_option
        from radnb.study._checklists import fill_checklist

        check_option("name", name, CHECKLISTS)
        return fill_checklist(self, name)

    def metrics_score(self):
        """METRICS score (%) of the answered items, with the open items flagged (a dict)."""
        from radnb.study._checklists import metrics_score

        return metrics_score(self.checklist("METRICS"))

    def methods(self, language="en"):
        """Methods and Results paragraphs written from the log (``"en"`` or ``"zh"``)."""
        from radnb._utils.validation import check_option
        from radnb.study._results import methods_text

        check_option("language", language, ("en", "zh"))
        return methods_text(self, language)

    def plot_flow(self, ax=None):
        """TRIPOD-style patient flow diagram (assessed, excluded with reasons, analysed)."""
        from radnb.study._figures import plot_flow

        return plot_flow(self, ax=ax)

    def to_html(self, path=None, *, figures=None, tables=None):
        """Save one self-contained HTML report (log, checklists, Methods, figures)."""
        from radnb.study._export import write_html

        return write_html(self, path, figures=figures or {}, tables=tables or {})

    def to_docx(self, path=None, *, figures=None, tables=None, language="en"):
        """Save a Word document: Table 1, model table, figures, checklists, Methods text.

        Parameters
        ----------
        figures : dict of {caption: matplotlib Figure}, optional
            E.g. ``{"ROC curve": fig}``; the flow diagram is always included.
        tables : dict of {caption: DataFrame}, optional
            Extra tables; Table 1 and the model table come from the log.
        """
        from radnb.study._export import write_docx

        return write_docx(self, path, figures=figures or {}, tables=tables or {},
                          language=language)

    def __repr__(self):
        state = "recording" if self._token is not None or self._started else "not recording"
        return f"<radnb.Study {self.name!r}: {len(self.entries)} entries, {state}>"
