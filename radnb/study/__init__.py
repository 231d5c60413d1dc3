"""From study to manuscript: a recorded study log, pre-filled checklists and a Methods text.

Inside ``with radnb.Study("name", folder=...) as study:`` every radnb step
that shapes a result records what it did (settings, versions, counts, metrics
with CIs). The log is saved as JSON beside the results and gives:

* ``study.checklist("CLEAR")`` / ``study.checklist("METRICS")``: the checklists
  with every item the analysis can answer filled in, with its evidence;
  ``study.metrics_score()``;
* ``study.methods("en" | "zh")``: Methods and Results paragraphs with citations;
* ``study.plot_flow()``: the patient flow diagram;
* ``study.to_html()`` and ``study.to_docx()``: the report and the Word document.
"""
from radnb.study._study import Study

__all__ = ["Study"]
