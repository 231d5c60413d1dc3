"""The :class:`Extraction` result object returned by ``radnb.extract.extract_features``."""
from __future__ import annotations

import html
import warnings

from radnb._utils.errors import user_stacklevel
from radnb._utils.i18n import tr

__all__ = ["Extraction", "ExtractionWarning", "assemble"]

_ID = ("case_id", "reader", "timepoint", "site")
_ERROR_COLUMNS = ["case_id", "timepoint", "reader", "stage", "message", "detail"]


class ExtractionWarning(UserWarning):
    """Some cases failed; the others were extracted (see ``result.errors``)."""


class Extraction:
    """Result of :func:`radnb.extract.extract_features`.

    Attributes
    ----------
    features : pandas.DataFrame
        One row per successfully extracted manifest row: ``case_id``, ``reader``,
        ``timepoint``, ``site``, then one column per feature, named as
        pyradiomics names it (``original_glcm_Contrast``).
    diagnostics : pandas.DataFrame
        The same identifiers and pyradiomics' ``diagnostics_*`` values
        (versions, settings, image and mask properties), kept out of
        ``features`` so statistics never mistake them for features.
    errors : pandas.DataFrame
        One row per failed manifest row: ``case_id``, ``timepoint``,
        ``reader``, ``stage`` (``"read"``, ``"extract"``, ``"timeout"`` or
        ``"worker"``), ``message`` (what is wrong and what to do, in plain
        words) and ``detail`` (the library's own text, shortened).
    cache_stats : dict
        This call's cache use: ``hits`` / ``misses`` (cache units: one feature
        class of one filtered image), ``cases_cached`` (every unit came from
        the cache: ``misses`` 0 for that row, nothing was recomputed),
        ``cases_computed`` (at least one unit was a miss, so pyradiomics ran
        for that row - also when only a newly enabled feature class or filter
        was computed and the rest came from the cache) and ``cases_failed``.
        ``cases_cached + cases_computed + cases_failed`` is the number of rows.
    settings : dict
        The effective pyradiomics settings (see :func:`radnb.extract.load_params`).
    seconds : float
        Wall-clock time of the call.
    """

    def __init__(self, features, diagnostics, errors, cache_stats, settings, seconds):
        self.features = features
        self.diagnostics = diagnostics
        self.errors = errors
        self.cache_stats = cache_stats
        self.settings = settings
        self.seconds = seconds

    @property
    def feature_names(self) -> list[str]:
        """The feature columns of :attr:`features`."""
        from radnb._utils.features import feature_columns

        return feature_columns(self.features)

    def _summary(self):
        s = self.cache_stats
        n_rows = len(self.features) + len(self.errors)
        failed = str(len(self.errors)) + (tr(" (see .errors)") if len(self.errors) else "")
        return [
            (tr("rows extracted"), tr("{done} of {total}").format(done=len(self.features), total=n_rows)),
            (tr("features per row"), str(len(self.feature_names))),
            (tr("failed rows"), failed),
            (tr("image types"), ", ".join(self.settings.get("imageType", {}))),
            (tr("cache"), tr("{cached} rows from cache, {computed} computed ({hits} unit hits, "
                             "{misses} misses)").format(
                cached=s.get("cases_cached", 0), computed=s.get("cases_computed", 0),
                hits=s.get("hits", 0), misses=s.get("misses", 0))),
            (tr("time"), f"{self.seconds:.1f} s"),
        ]

    def __repr__(self):
        lines = [f"  {k}: {v}" for k, v in self._summary()]
        return "Extraction(\n" + "\n".join(lines) + "\n)"

    def _repr_html_(self):
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in self._summary()
        )
        err = ""
        if len(self.errors):
            err = tr("<p><b>Failed rows</b> (first 5):</p>") + self.errors.head(5).to_html(index=False)
        return f"<div><b>radnb Extraction</b><table>{rows}</table>{err}</div>"


def assemble(rows, results, settings, seconds, warn=True, time_limit=None) -> Extraction:
    """The :class:`Extraction` of finished ``rows`` (error rows explained in plain words)."""
    import pandas as pd

    from radnb.extract._messages import explain, technical_detail

    feats, diags, errors = [], [], []
    stats = {"hits": 0, "misses": 0, "cases_cached": 0, "cases_computed": 0, "cases_failed": 0}
    for row, res in zip(rows, results):
        ids = {k: row[k] for k in _ID}
        stats["hits"] += res.get("hits", 0)
        stats["misses"] += res.get("misses", 0)
        if res["status"] != "ok":
            stats["cases_failed"] += 1
            errors.append({"case_id": row["case_id"], "timepoint": row["timepoint"],
                           "reader": row["reader"], "stage": res["stage"],
                           "message": explain(res["stage"], res["message"], row, time_limit),
                           "detail": technical_detail(res["message"])})
            continue
        # "computed" = at least one cache unit was a miss (partially or fully computed);
        # a case assembled entirely from cached units counts as cached.
        stats["cases_computed" if res.get("misses", 0) else "cases_cached"] += 1
        feats.append({**ids, **res["features"]})
        diags.append({**ids, **res["diagnostics"]})
    features = pd.DataFrame(feats, columns=None if feats else list(_ID))
    diagnostics = pd.DataFrame(diags, columns=None if diags else list(_ID))
    errors = pd.DataFrame(errors, columns=_ERROR_COLUMNS)
    if len(errors) and warn:
        first = errors.iloc[0]
        warnings.warn(
            tr("{failed} of {total} cases failed; see result.errors (first: case "
               "{case!r}, {stage}: {message})").format(
                failed=len(errors), total=len(rows), case=first.case_id, stage=first.stage,
                message=first.message[:120]),
            ExtractionWarning, stacklevel=user_stacklevel(),
        )
    return Extraction(features, diagnostics, errors, stats, settings, seconds)
