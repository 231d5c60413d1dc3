"""Quality-control gallery: one thumbnail per case through the ROI centre."""
from __future__ import annotations

import base64
import html

import numpy as np

import radnb.view._render as _render

_BORDER = {"ok": "#2e7d32", "warning": "#e69f00", "error": "#c62828", "unknown": "#999"}


class Gallery:
    """A grid of thumbnails (HTML); see :func:`radnb.view.gallery`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per case: ``case_id``, ``timepoint``, ``reader``, ``status``,
        ``problems``, ``slice`` (axial index shown, or missing) and ``error``.
    html : str
        Self-contained HTML (thumbnails embedded as JPEG data URLs).
    """

    def __init__(self, table, html_text):
        self.table, self.html = table, html_text

    def _repr_html_(self):
        return self.html

    def save(self, path):
        """Write the gallery as a standalone HTML file (complete or not at all); return the path."""
        from radnb._utils.files import atomic_write

        with atomic_write(path, "w", encoding="utf-8") as fh:
            fh.write(f"<!doctype html><meta charset='utf-8'>{self.html}")
        return path

    def __repr__(self):
        counts = self.table["status"].value_counts().to_dict()
        return f"Gallery({len(self.table)} cases, {counts})"


def thumbnail(image, mask, *, label=None, size=128, modality=None, plane="axial", roi=None,
              series_uid=None):
    """RGB thumbnail of the slice through the ROI centroid, ROI contour drawn.

    Returns ``(rgb, slice_index, problem)``; ``problem`` says why the mask is
    missing from the picture (or is None).
    """
    import SimpleITK as sitk

    from radnb.view._cases import guess_modality, read_display_mask, read_image

    roi_name = roi  # RTSTRUCT ROI / SEG segment name; ``roi`` below is the drawn voxel set
    img = read_image(image, series_uid)
    if img.GetDimension() != 3:
        raise ValueError(f"the image is {img.GetDimension()}D; the gallery shows 3D images.")
    arr, spacing, _ = _render.to_canonical(img)
    roi, problem = np.zeros(arr.shape, bool), None
    if mask is not None:
        try:
            m = sitk.GetArrayFromImage(_render.orient_lps(read_display_mask(mask, img, roi=roi_name)))
            roi = m == label if label is not None else m > 0
        except Exception as exc:  # show the image anyway; the caller reports the mask problem
            problem = f"mask not shown: {type(exc).__name__}: {exc}"
    centre = _render.roi_centre(roi)
    index = centre[_render._PLANE_AXIS[plane]]
    sl = _render.take_slice(arr, plane, index)
    if (modality or guess_modality(arr)) == "CT":
        window, level = _render.CT_PRESETS["mediastinum"]
    else:
        window, level = _render.percentile_window(sl)
    grey = _render.apply_window(sl, window, level)
    rgb = _render.overlay(grey, [(_render.take_slice(roi, plane, index), _render.label_colour(0))],
                          opacity=1.0, mode="contour")
    row_mm, col_mm = _render.pixel_spacing(spacing, plane)
    return _render.fit_aspect(rgb, row_mm, col_mm, max_size=size), int(index), problem


def gallery(cohort, *, validation=None, size=128, columns=8, plane="axial"):
    """Thumbnails of every case through its ROI centre, failed cases marked.

    Parameters
    ----------
    cohort : pandas.DataFrame
        Manifest (``case_id``, ``image``, ``mask``, optional ``label``).
    validation : pandas.DataFrame or False, optional
        Output of :func:`radnb.cohort.validate`; computed by default,
        ``False`` skips it.
    size : int
        Thumbnail size in pixels (longest side; true physical aspect).
    columns : int
        Thumbnails per row.
    plane : {"axial", "coronal", "sagittal"}

    Returns
    -------
    Gallery
        Displays as an HTML grid; a green border means validation passed,
        orange a warning, red an error, grey not validated. ``gallery.table``
        lists the status of every case; unreadable cases appear as a red
        tile naming the cause.

    Examples
    --------
    >>> g = gallery(load_demo_cohort())  # doctest: +SKIP
    >>> g.table.status.value_counts()  # doctest: +SKIP
    """
    import pandas as pd

    from radnb.view._cases import status_table
    from radnb._utils.validation import check_columns, check_option

    check_columns(cohort, ["case_id", "image", "mask"], what="cohort manifest")
    check_option("plane", plane, _render.PLANES)
    status = status_table(cohort, validation)
    tiles, rows = [], []
    for rec, st in zip(cohort.to_dict("records"), status.to_dict("records")):
        row = {**st, "slice": pd.NA, "error": None}
        title = f"{rec['case_id']}"
        if "reader" in cohort and cohort["reader"].nunique() > 1:
            title += f" r{rec['reader']}"
        if "timepoint" in cohort and cohort["timepoint"].nunique() > 1:
            title += f" t{rec['timepoint']}"
        try:
            rgb, row["slice"], row["error"] = thumbnail(
                rec["image"], rec["mask"], label=int(rec["label"]) if "label" in rec else None,
                size=size, modality=rec.get("modality") if isinstance(rec.get("modality"), str) else None,
                plane=plane, roi=rec.get("roi"), series_uid=rec.get("series_uid"))
            src = "data:image/jpeg;base64," + base64.b64encode(_render.encode(rgb, quality=85)).decode()
            body = f"<img src='{src}' style='display:block;margin:auto' alt='{html.escape(title)}'>"
            if row["error"]:
                row["status"] = "error"
                body += "<div style='color:#ff8a80'>mask not shown</div>"
        except Exception as exc:  # an unreadable case is a red tile, the rest still shows
            row["error"], row["status"] = f"{type(exc).__name__}: {exc}", "error"
            first_line = row["error"].splitlines()[0][:200]
            body = (f"<div style='width:{size}px;height:{size}px;overflow:hidden;font-size:9px;"
                    f"color:#ff8a80'>could not show: {html.escape(first_line)}</div>")
        rows.append(row)
        tip = html.escape(row["problems"] or row["error"] or row["status"], quote=True)
        colour = _BORDER.get(row["status"], "#999")
        tiles.append(
            f"<div title='{tip}' style='border:3px solid {colour};padding:2px;background:#111;"
            f"color:#eee;font:10px sans-serif;text-align:center'>{body}"
            f"{html.escape(title)} {'' if row['status'] == 'ok' else row['status']}</div>")
    grid = (f"<div class='radnb-gallery' style='display:grid;grid-template-columns:"
            f"repeat({int(columns)}, {size + 10}px);gap:4px'>" + "".join(tiles) + "</div>")
    legend = ("<p style='font:11px sans-serif'>Border: <b style='color:#2e7d32'>ok</b>, "
              "<b style='color:#e69f00'>warning</b>, <b style='color:#c62828'>error</b>, "
              "<b style='color:#999'>not validated</b>. Hover a tile for the problems found.</p>")
    return Gallery(pd.DataFrame(rows), legend + grid)
