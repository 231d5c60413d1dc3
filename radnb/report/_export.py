"""Export tables and figures: CSV for spreadsheets and a self-contained HTML report.

Public names are re-exported by :mod:`radnb.report`, which documents the step.
"""
from __future__ import annotations

import base64
import html
import io
from datetime import datetime
from pathlib import Path

from radnb._utils.files import atomic_write
from radnb.report._safe import escape_styler, neutralize_formulas, sanitize_html


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{border-bottom:2px solid #444}figure{margin:1.5em 0}
figcaption{font-size:.9em;color:#555;margin-top:.3em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
th,td{border:1px solid #ccc;padding:2px 8px;text-align:right}th{background:#f2f2f2}
img{max-width:100%}.meta{color:#777;font-size:.85em}pre{background:#f6f6f6;padding:.6em}
"""


def _as_frame(obj):
    import pandas as pd

    if isinstance(obj, pd.DataFrame):
        return obj
    if isinstance(obj, pd.Series):
        return obj.to_frame()
    if hasattr(obj, "to_frame") and callable(obj.to_frame):  # e.g. TableOneResult
        return obj.to_frame()
    if hasattr(obj, "data") and hasattr(obj, "to_html") and hasattr(obj.data, "columns"):
        return obj.data  # a pandas Styler
    raise TypeError(
        f"to_csv needs a pandas DataFrame, Series or Styler; got {type(obj).__name__}. "
        "Convert the result to a DataFrame first."
    )


def to_csv(df, path, *, index=None, sep=","):
    """Write a table to CSV so that Excel and pandas read it back unchanged.

    UTF-8 with a byte-order mark (``"utf-8-sig"``: Excel then shows accents
    and symbols such as "µ" correctly), a decimal point whatever the computer's
    locale, full precision (round only for display), one header row. Text
    cells that a spreadsheet would run as a formula (starting with ``=``,
    ``+``, ``-``, ``@``, tab or carriage return, e.g. ``=HYPERLINK(...)``) are
    written with a leading apostrophe, as OWASP advises against CSV
    injection; numbers, negative ones included, are unchanged. The file is
    written completely or not at all (a temporary file, then a rename).

    Parameters
    ----------
    df : pandas.DataFrame, Series, Styler or TableOneResult
    path : str or Path
        Parent folders are created.
    index : bool, optional
        Write the row index? Default: only when it carries information (it has
        a name or is not the default 0, 1, 2, ...).
    sep : str, default ","
        Use ``";"`` only if your Excel expects it; the decimal stays ".".

    Returns
    -------
    pathlib.Path

    See Also
    --------
    read_csv : reads it back bit-exactly (pandas' default float parser may
        differ in the last digit; pass ``float_precision="round_trip"``).

    Examples
    --------
    >>> import pandas as pd
    >>> p = to_csv(pd.DataFrame({"feature": ["a"], "AUC": [0.71]}), "/tmp/auc.csv")
    >>> read_csv(p)["AUC"].item()
    0.71
    """
    import pandas as pd

    frame = _as_frame(df)
    if index is None:
        default = isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0 \
            and frame.index.step == 1
        index = not default or any(n is not None for n in frame.index.names)
    if isinstance(frame.columns, pd.MultiIndex):
        frame = frame.copy()
        frame.columns = [" ".join(str(p) for p in c if str(p)).strip() for c in frame.columns]
    frame = neutralize_formulas(frame)
    path = Path(path)
    with atomic_write(path, "w", encoding="utf-8-sig", newline="") as fh:
        frame.to_csv(fh, sep=sep, decimal=".", index=index, lineterminator="\r\n")  # RFC 4180
    return path


def read_csv(path, **kwargs):
    """Read a CSV written by :func:`to_csv` back exactly (BOM removed, floats bit-exact).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"AUC": [1 / 3]})
    >>> read_csv(to_csv(df, "/tmp/third.csv")).equals(df)
    True
    """
    import pandas as pd

    kwargs = {"encoding": "utf-8-sig", "float_precision": "round_trip", **kwargs}
    return pd.read_csv(path, **kwargs)


class Report:
    """A single self-contained HTML report of tables, figures and text.

    Parameters
    ----------
    title : str
    author : str, optional

    Examples
    --------
    >>> import pandas as pd, matplotlib.pyplot as plt
    >>> rep = Report("Rad-score study")
    >>> rep.add("Methods: LASSO in nested cross-validation.")  # doctest: +ELLIPSIS
    <radnb.report.Report ...>
    >>> fig, ax = plt.subplots(); _ = ax.plot([0, 1], [0, 1])
    >>> rep.add(fig, caption="ROC curve").save("/tmp/report.html").name
    'report.html'
    """

    def __init__(self, title, author=None):
        self.title = str(title)
        self.author = author
        self.items = []

    def add(self, obj, caption=None, *, dpi=110):
        """Add a table, figure or text; returns the report (so calls chain).

        Accepted: pandas DataFrame/Series/Styler, matplotlib Figure or Axes,
        seaborn figure-level grids (``.figure``), statsmodels summaries,
        objects with ``_repr_html_`` (e.g. :func:`radnb.stats.table_one`),
        and ``str`` as Markdown (headings ``#``, lists ``-``, ``**bold**``, fenced code).

        Everything is escaped: text from the data (a case ID such as
        ``<script>``) is shown as text, never run, Styler cells included, and
        HTML from other objects keeps only tables and text formatting.
        """
        self.items.append((sanitize_html(self._render(obj, dpi)), caption))
        return self

    def _render(self, obj, dpi):
        import pandas as pd

        if isinstance(obj, str):
            return _markdown(obj)
        if isinstance(obj, pd.Series):
            obj = obj.to_frame()
        if isinstance(obj, pd.DataFrame):
            return obj.to_html(float_format=lambda v: f"{v:.4g}", border=0, na_rep="")
        fig = _figure_of(obj)
        if fig is not None:
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
            data = base64.b64encode(buf.getvalue()).decode("ascii")
            return f'<img alt="figure" src="data:image/png;base64,{data}">'
        if hasattr(obj, "as_html"):  # statsmodels Summary
            return obj.as_html()
        if hasattr(obj, "to_html") and hasattr(obj, "data"):  # pandas Styler: not escaped by pandas
            return escape_styler(obj).to_html()
        if hasattr(obj, "_repr_html_"):
            return obj._repr_html_()
        raise TypeError(
            f"Report.add does not know how to show a {type(obj).__name__}; pass a DataFrame, "
            "a Styler, a matplotlib figure or a text (str)."
        )

    def to_html(self):
        """The report as one HTML string."""
        stamp = datetime.now().strftime("%Y-%m-%d %H:%M")
        meta = f"Created {stamp} with radnb" + (f" by {html.escape(self.author)}" if self.author
                                                else "")
        parts = [f"<h1>{html.escape(self.title)}</h1>", f'<p class="meta">{meta}</p>']
        for body, caption in self.items:
            cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
            parts.append(f"<figure>{body}{cap}</figure>")
        return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
                f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head>"
                "<body>\n" + "\n".join(parts) + "\n</body></html>\n")

    def save(self, path):
        """Write the report to ``path`` (one HTML file, complete or not at all); return the path."""
        path = Path(path)
        text = self.to_html()
        with atomic_write(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        return path

    def _repr_html_(self):
        return self.to_html()

    def __repr__(self):
        return f"<radnb.report.Report {self.title!r} with {len(self.items)} item(s)>"


def _figure_of(obj):
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    if isinstance(obj, Figure):
        return obj
    if isinstance(obj, Axes):
        return obj.figure
    fig = getattr(obj, "figure", None) or getattr(obj, "fig", None)
    return fig if isinstance(fig, Figure) else None


def _markdown(text):
    """A small, safe Markdown subset: headings, lists, paragraphs, bold, italic, code, fences."""
    import re

    def inline(s):
        s = html.escape(s)
        s = re.sub(r"`([^`]+)`", r"<code>\1</code>", s)
        s = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", s)
        return re.sub(r"(?<![*\w])\*([^*]+)\*(?!\*)", r"<em>\1</em>", s)

    out, para, items, code = [], [], [], None

    def flush():
        if para:
            out.append(f"<p>{inline(' '.join(para))}</p>")
            para.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{inline(i)}</li>" for i in items) + "</ul>")
            items.clear()

    for line in text.strip().splitlines():
        s = line.strip()
        head = re.match(r"^(#{1,4})\s+(.*)$", s)
        if s.startswith("```"):
            if code is None:
                flush()
                code = []
            else:
                out.append("<pre>" + html.escape("\n".join(code)) + "</pre>")
                code = None
        elif code is not None:
            code.append(line)
        elif not s:
            flush()
        elif head:
            flush()
            level = len(head[1]) + 1  # the report title is the only <h1>
            out.append(f"<h{level}>{inline(head[2])}</h{level}>")
        elif re.match(r"^[-*]\s+", s):
            if para:
                flush()
            items.append(re.sub(r"^[-*]\s+", "", s))
        else:
            if items:
                flush()
            para.append(s)
    if code is not None:
        out.append("<pre>" + html.escape("\n".join(code)) + "</pre>")
    flush()
    return "\n".join(out)
