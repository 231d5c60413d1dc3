"""Table 1 (clinical characteristics) on top of the ``tableone`` package."""
from __future__ import annotations

import numpy as np
import pandas as pd

from radnb._utils.i18n import N_, tr
from radnb._utils.validation import check_columns, check_option, check_range

#: tableone's header words and row-label suffixes, translated for display only (``style``);
#: ``table`` keeps tableone's labels, which code indexes by.
_HEADER_WORDS = (N_("Missing"), N_("Overall"), N_("P-Value"), N_("Test"))
_SUMMARY_WORDS = (N_("mean (SD)"), N_("median [Q1,Q3]"), N_("n (%)"))

__all__ = ["TableOneResult", "make_table_one", "guess_categorical", "guess_nonnormal"]


def guess_categorical(df, columns):
    """Columns that are text, boolean, or whole numbers with at most 5 distinct values."""
    out = []
    for c in columns:
        s = df[c].dropna()
        if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            out.append(c)
        elif s.nunique() <= 5 and np.all(np.mod(s.to_numpy(dtype=float), 1) == 0):
            out.append(c)
    return out


def guess_nonnormal(df, continuous, groupby=None, alpha=0.05):
    """Continuous columns whose Shapiro-Wilk test rejects normality (p < alpha) in any group."""
    from scipy.stats import shapiro

    groups = [df] if groupby is None else [g for _, g in df.groupby(groupby, observed=True)]
    out = []
    for c in continuous:
        for g in groups:
            x = g[c].dropna().to_numpy(dtype=float)
            if len(x) >= 3 and np.ptp(x) > 0 and shapiro(x).pvalue < alpha:
                out.append(c)
                break
    return out


def _mann_whitney(*groups):
    from scipy.stats import mannwhitneyu

    return mannwhitneyu(*groups, alternative="two-sided").pvalue


_mann_whitney.__name__ = "Mann-Whitney U"


class TableOneResult:
    """A Table 1: ``table`` (display strings), ``tests`` (tidy numbers) and ``style()``.

    Attributes
    ----------
    table : pandas.DataFrame
        The formatted table as produced by ``tableone`` (rows: variable and
        level; columns: Missing, Overall, one per group, P-Value, Test).
    tests : pandas.DataFrame
        One row per variable: ``type`` ("continuous"/"categorical"),
        ``summary`` ("mean (SD)", "median [Q1,Q3]" or "n (%)"), ``test``
        and the unrounded ``p-val``.
    tableone : tableone.TableOne
        The underlying object (``.tableone.tabulate(tablefmt="github")`` etc.).
    """

    def __init__(self, t1, tests):
        self.tableone = t1
        self.table = t1.tableone
        self.tests = tests

    def style(self, caption=None):
        """Return a pandas ``Styler`` for notebooks and HTML reports.

        Cell text, row and column labels and the caption are HTML-escaped, so
        ``"<0.001"`` reaches the browser as ``&lt;0.001`` (``table`` keeps the
        readable string).
        """
        import html

        sty = _display(self.table).style.format(escape="html")
        sty = sty.format_index(escape="html", axis=0).format_index(escape="html", axis=1)
        if caption:
            sty = sty.set_caption(html.escape(str(caption)))
        return sty.set_table_styles(
            [{"selector": "th, td", "props": [("padding", "2px 8px"), ("text-align", "left")]}]
        )

    def to_frame(self):
        """The formatted table with a flat index, ready for :func:`radnb.report.to_csv`."""
        flat = self.table.copy()
        flat.columns = [c[-1] if isinstance(c, tuple) else c for c in flat.columns]
        return flat.reset_index().rename(columns={"level_0": "variable", "level_1": "level"})

    def _repr_html_(self):
        return self.style().to_html()

    def __repr__(self):
        return repr(self.table)


def _display(table):
    """``table`` with its header words in the current language (the same object in English)."""
    if tr("Overall") == "Overall":
        return table

    def word(label):
        label = str(label)
        if label in _HEADER_WORDS:
            return tr(label)
        if label.startswith("Grouped by "):
            return tr("Grouped by {column}").format(column=label[len("Grouped by "):])
        for summary in _SUMMARY_WORDS:
            if label.endswith(", " + summary):
                return label[: -len(summary)] + tr(summary)
        return label

    shown = table.copy()
    shown.columns = shown.columns.map(lambda c: tuple(map(word, c)) if isinstance(c, tuple) else word(c))
    shown.index = shown.index.map(lambda r: tuple(map(word, r)) if isinstance(r, tuple) else word(r))
    return shown


def make_table_one(df, groupby=None, columns=None, categorical=None, nonnormal=None, *,
                   normal_alpha=0.05, decimals=1, pval=True, labels=None):
    """Implementation of :func:`radnb.stats.table_one`."""
    from tableone import TableOne

    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas DataFrame; got {type(df).__name__}.")
    check_range("normal_alpha", normal_alpha, 0, 1, inclusive=False)
    if groupby is not None:
        check_columns(df, [groupby], what="clinical table")
        n_groups = df[groupby].nunique()
        if n_groups < 2:
            raise ValueError(
                f"groupby column {groupby!r} has {n_groups} distinct value(s); "
                "a comparison needs at least two groups (or pass groupby=None)."
            )
    if columns is None:
        columns = [c for c in df.columns if c != groupby]
    columns = list(columns)
    check_columns(df, columns, what="clinical table")
    categorical = guess_categorical(df, columns) if categorical is None else list(categorical)
    continuous = [c for c in columns if c not in categorical]
    if nonnormal is None:  # explicit default: every continuous variable rank-based
        nonnormal = list(continuous)
    elif isinstance(nonnormal, str):
        check_option("nonnormal", nonnormal, ["shapiro"])
        nonnormal = guess_nonnormal(df, continuous, groupby, normal_alpha)
    nonnormal = list(nonnormal)
    htest = None
    if groupby is not None and df[groupby].nunique() == 2:
        htest = {c: _mann_whitney for c in nonnormal if c in continuous}
    t1 = TableOne(
        df, columns=columns, categorical=categorical, continuous=continuous, groupby=groupby,
        nonnormal=nonnormal, pval=pval and groupby is not None, htest=htest or None,
        htest_name=pval and groupby is not None, decimals=decimals, rename=labels,
        missing=True, overall=True,
    )
    rows = []
    for c in columns:
        kind = "categorical" if c in categorical else "continuous"
        summ = "n (%)" if kind == "categorical" else (
            "median [Q1,Q3]" if c in nonnormal else "mean (SD)")
        test, p = "", np.nan
        if t1.htest_table is not None and c in t1.htest_table.index:
            test = t1.htest_table.loc[c, "Test"]
            p = float(t1.htest_table.loc[c, "P-Value"])
        rows.append({"variable": c, "type": kind, "summary": summ, "test": test, "p-val": p})
    tests = pd.DataFrame(rows).set_index("variable")
    tests.loc[tests["p-val"] < 0, "p-val"] = np.nan  # tableone's "not computed" marker
    return TableOneResult(t1, tests)
