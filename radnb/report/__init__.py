"""Export results: locale-safe CSV and one self-contained HTML report.

* :func:`to_csv` writes a table that Excel opens correctly everywhere
  (UTF-8 with byte-order mark, decimal point, comma separator, full precision).
* :class:`Report` collects tables, figures and text into a single HTML file
  with figures embedded as PNG - no external links, so it can be e-mailed or
  archived with a paper.
"""

from radnb.report._export import to_csv, read_csv, Report

__all__ = [
    "to_csv",
    "read_csv",
    "Report",
]
