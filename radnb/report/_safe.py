"""Make exported tables safe to open: no live HTML from data, no spreadsheet formulas.

* HTML: a case ID such as ``<script>...`` must show as text in a report, never
  run. DataFrames are escaped by pandas; a ``Styler`` is not, so its cells and
  headers are escaped here, and every HTML fragment that goes into a report is
  then passed through a small allow-list sanitiser (tables, text formatting,
  embedded PNG figures; no scripts, event handlers, links or frames).
* CSV / Excel: a cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage
  return is read by Excel as a formula ("CSV injection"). Following OWASP's
  advice, such text cells get a leading apostrophe so the spreadsheet shows
  them as text. Numbers (including negative ones, in number columns or
  written as text) are left alone.

References
----------
OWASP. CSV Injection. https://owasp.org/www-community/attacks/CSV_Injection
"""
from __future__ import annotations

import copy
import html
import re
from html.parser import HTMLParser

__all__ = ["escape_styler", "sanitize_html", "neutralize_formulas"]

_TAGS = {
    "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "colgroup", "col", "style",
    "div", "span", "p", "br", "b", "i", "strong", "em", "code", "pre", "sub", "sup", "small",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "img", "figure", "figcaption",
}
_VOID = {"br", "col", "hr", "img"}
_DROP_CONTENT = {"script", "iframe", "object", "embed", "noembed", "noscript", "template",
                 "svg", "math", "textarea", "title", "frameset", "frame", "applet"}
_ATTRS = {"class", "id", "colspan", "rowspan", "style", "align", "valign", "title", "border",
          "width", "height", "alt", "src", "type", "scope"}
_BAD_CSS = re.compile(r"expression\s*\(|javascript:|url\s*\(|@import|behavior\s*:", re.I)


class _Sanitizer(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out, self.skip, self.in_style = [], 0, False

    def handle_starttag(self, tag, attrs):
        if tag in _DROP_CONTENT:
            self.skip += tag not in _VOID
            return
        if self.skip or tag not in _TAGS:
            return
        kept = []
        for name, value in attrs:
            value = "" if value is None else value
            if name not in _ATTRS or (name == "style" and _BAD_CSS.search(value)):
                continue
            if name == "src" and not value.startswith("data:image/png;base64,"):
                continue
            kept.append(f' {name}="{html.escape(value, quote=True)}"')
        self.out.append(f"<{tag}{''.join(kept)}>")
        self.in_style = tag == "style"

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in _DROP_CONTENT and tag not in _VOID:
            self.skip -= 1

    def handle_endtag(self, tag):
        if tag in _DROP_CONTENT:
            self.skip = max(0, self.skip - 1)
        elif not self.skip and tag in _TAGS and tag not in _VOID:
            self.out.append(f"</{tag}>")
            self.in_style = False

    def handle_data(self, data):
        if self.skip:
            return
        if self.in_style:
            self.out.append("" if _BAD_CSS.search(data) else data.replace("<", ""))
        else:
            self.out.append(html.escape(data, quote=False))


def sanitize_html(fragment: str) -> str:
    """Keep only harmless HTML (tables, text formatting, embedded PNG); escape all text.

    Examples
    --------
    >>> sanitize_html('<td onclick="x()">a &lt;b&gt;</td><script>alert(1)</script>')
    '<td>a &lt;b&gt;</td>'
    """
    parser = _Sanitizer()
    parser.feed(fragment)
    parser.close()
    return "".join(parser.out)


def _escaping(func):
    def display(value):
        return html.escape(str(func(value)))
    return display


def escape_styler(styler):
    """A copy of a pandas ``Styler`` whose cells, headers and caption are HTML-escaped.

    The Styler's own number formats and colours are kept.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"case": ["<b>x</b>"]}).style
    >>> "&lt;b&gt;x&lt;/b&gt;" in escape_styler(s).to_html()
    True
    """
    styler = copy.deepcopy(styler)
    for name in ("_display_funcs", "_display_funcs_index", "_display_funcs_columns",
                 "_display_funcs_index_names", "_display_funcs_column_names"):
        funcs = getattr(styler, name, None)
        if funcs is None:
            continue
        for key in list(funcs):
            funcs[key] = _escaping(funcs[key])
        if getattr(funcs, "default_factory", None) is not None:
            factory = funcs.default_factory
            funcs.default_factory = lambda factory=factory: _escaping(factory())
    if isinstance(getattr(styler, "caption", None), str):
        styler.caption = html.escape(styler.caption)
    return styler


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^\s*[+-]?(\d+[.,]?\d*|[.,]\d+)([eE][+-]?\d+)?\s*$")


def _neutral(value):
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.match(value):
        return "'" + value
    return value


def neutralize_formulas(frame):
    """Prefix an apostrophe to text cells that a spreadsheet would run as a formula.

    Text cells (and column and index labels) starting with ``=``, ``+``,
    ``-``, ``@``, tab or carriage return get a leading ``'``; cells that are
    numbers, or text spelling a plain number such as ``"-2.5"``, are unchanged.
    Returns a new DataFrame; the input is not modified.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"case_id": ["=HYPERLINK(1)", "-2.5", "A1"], "x": [-1.0, 2.0, 3.0]})
    >>> neutralize_formulas(df)["case_id"].tolist()
    ["'=HYPERLINK(1)", '-2.5', 'A1']
    """
    import pandas as pd

    frame = frame.copy()
    for col in frame.columns:
        dtype = frame[col].dtype
        if dtype == object or pd.api.types.is_string_dtype(dtype) or \
                isinstance(dtype, pd.CategoricalDtype):
            frame[col] = frame[col].map(_neutral)

    def labels(index):
        if isinstance(index, pd.MultiIndex):
            return index.set_levels([level.map(_neutral) if level.dtype == object else level
                                     for level in index.levels])
        return index.map(_neutral) if index.dtype == object else index

    frame.columns = labels(frame.columns)
    frame.index = labels(frame.index)
    return frame
