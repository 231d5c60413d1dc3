"""The slice-viewer widget behind :func:`radnb.view.browse` and :func:`radnb.view.compare`.

The picture is a small anywidget (:class:`radnb.view._slice_canvas.SliceCanvas`,
offline, no build step) showing a JPEG re-encoded on every change; it reports
the mouse (hover readout, click = picked point) and slice keys. The picked
point also has two sliders, so it can be set without a mouse.
"""
from __future__ import annotations

import contextlib
import html

import ipywidgets as W
import numpy as np

from radnb._utils.i18n import N_, tr
import radnb.view._render as _render
from radnb.view._cases import SYMBOL, load_case
from radnb.view._slice_canvas import SliceCanvas

_STATUS_COLOUR = {"ok": "#2e7d32", "warning": "#e69f00", "error": "#c62828", "unknown": "#777"}
HELP = N_(
    "<b>Mouse:</b> move over the picture to read voxel, position (mm) and intensity under "
    "the cursor; click to pick that point (or use the two 'Point' sliders). "
    "<b>Keyboard:</b> click the picture, then Arrow Up/Down step through slices (Page "
    "Up/Down jump 10); on a slider use its arrow keys. Axial: patient's left on the "
    "right of the screen, anterior at the top; coronal: seen from the front; sagittal: "
    "anterior on the left. Pixels are shown with their true shape in mm."
)


class Viewer(W.VBox):
    """Slice viewer: see :func:`radnb.view.browse` (users never build it directly)."""

    def __init__(self, cases, *, size=512, window=None, level=None, mode="fill",
                 opacity=0.4, plane="axial", dice=False, heatmap=None):
        self._cases, self._size, self._dice = list(cases), int(size), dice
        self._heatmap, self._heat = heatmap, None  # heatmap: {"image", "name", "cmap"}
        self._data, self._hold, self.last_error, self._shown_crop = None, False, None, None
        self.n_renders = 0
        lay = W.Layout(width="480px")
        self._case_w = W.Dropdown(
            options=[(c["key"] if c["status"] == "unknown" else
                      f"{SYMBOL[c['status']]} {c['key']} [{c['status']}]", i)
                     for i, c in enumerate(self._cases)],
            description=tr("Case"), layout=lay)
        self._status_w = W.HTML()
        self._plane_w = W.ToggleButtons(options=list(_render.PLANES), value=plane,
                                        description=tr("Plane"), style={"button_width": "80px"})
        self._slice_w = W.IntSlider(description=tr("Slice"), min=0, max=1, continuous_update=True,
                                    layout=lay)
        self._preset_w = W.Dropdown(description=tr("Window"), layout=W.Layout(width="240px"))
        self._window_w = W.FloatSlider(description=tr("Width"), min=1, max=4000, step=1, layout=lay)
        self._level_w = W.FloatSlider(description=tr("Level"), min=-1200, max=3000, step=1, layout=lay)
        self._mode_w = W.ToggleButtons(options=["fill", "contour"], value=mode, description=tr("Mask"),
                                       style={"button_width": "70px"})
        self._opacity_w = W.FloatSlider(description=tr("Opacity"), min=0, max=1, step=0.05,
                                        value=opacity, layout=lay)
        self._zoom_w = W.Checkbox(description=tr("Zoom to ROI"), value=False, indent=False)
        self._point_on_w = W.Checkbox(description=tr("Show picked point"), value=False, indent=False)
        self._row_w = W.IntSlider(description=tr("Point \u2195"), min=0, max=1, layout=lay)
        self._col_w = W.IntSlider(description=tr("Point \u2194"), min=0, max=1, layout=lay)
        self._readout_w = W.HTML()
        self._readout_w.add_class("radnb-point-readout")
        self._hover_w = W.HTML("<i>" + tr("Move the mouse over the picture to read values.") + "</i>")
        self._hover_w.add_class("radnb-hover-readout")
        self._legend_w = W.HTML()
        self._dice_w = W.HTML()
        self.image_widget = SliceCanvas(format="jpeg")
        self.image_widget.add_class("radnb-slice-canvas")
        self.image_widget.observe(self._on_hover, names="hover")
        self.image_widget.observe(self._on_click, names="click")
        self.image_widget.on_key(lambda step: setattr(self, "slice", min(
            max(self.slice + step, self._slice_w.min), self._slice_w.max)))
        controls = W.VBox([
            self._plane_w, self._slice_w, self._preset_w, self._window_w, self._level_w,
            self._mode_w, self._opacity_w, W.HBox([self._zoom_w, self._point_on_w]),
            self._row_w, self._col_w, self._hover_w, self._readout_w, self._legend_w, self._dice_w,
        ])
        top = [self._case_w] if len(self._cases) > 1 else []
        super().__init__(top + [self._status_w, W.HBox([self.image_widget, controls]),
                                W.HTML(f"<small>{tr(HELP)}</small>")])
        self.add_class("radnb-viewer")
        self._initial = {"window": window, "level": level}
        for w, fn in ((self._case_w, self._on_case), (self._plane_w, self._on_plane),
                      (self._preset_w, self._on_preset), (self._zoom_w, self._on_plane)):
            w.observe(fn, names="value")
        for w in (self._slice_w, self._window_w, self._level_w, self._mode_w, self._opacity_w,
                  self._point_on_w, self._row_w, self._col_w):
            w.observe(self._on_change, names="value")
        self._on_case()

    # ----- state readable and settable from Python ---------------------------------
    case = property(lambda self: self._cases[self._case_w.value]["key"],
                    lambda self, key: setattr(self._case_w, "value", self._case_index(key)),
                    doc="Key of the displayed case (set it to switch case).")
    plane = property(lambda self: self._plane_w.value,
                     lambda self, v: setattr(self._plane_w, "value", v), doc="Displayed plane.")
    slice = property(lambda self: self._slice_w.value,
                     lambda self, v: setattr(self._slice_w, "value", int(v)),
                     doc="Slice index in the displayed plane (0 = inferior/anterior/right).")
    window = property(lambda self: self._window_w.value,
                      lambda self, v: setattr(self._window_w, "value", float(v)),
                      doc="Window width.")
    level = property(lambda self: self._level_w.value,
                     lambda self, v: setattr(self._level_w, "value", float(v)),
                     doc="Window level (centre).")
    opacity = property(lambda self: self._opacity_w.value,
                       lambda self, v: setattr(self._opacity_w, "value", float(v)),
                       doc="Mask opacity, 0-1.")
    mode = property(lambda self: self._mode_w.value,
                    lambda self, v: setattr(self._mode_w, "value", v), doc="'fill' or 'contour'.")
    zoom = property(lambda self: self._zoom_w.value,
                    lambda self, v: setattr(self._zoom_w, "value", bool(v)), doc="Zoom to ROI.")
    preset = property(lambda self: self._preset_w.value,
                      lambda self, v: setattr(self._preset_w, "value", v),
                      doc="Window preset name ('lung', ..., 'auto' percentile, 'custom').")

    @property
    def cases(self):
        """Keys of all cases, in selector order."""
        return [c["key"] for c in self._cases]

    @property
    def point(self):
        """Picked point as (row, column) of the displayed (un-zoomed) slice."""
        return (self._row_w.value, self._col_w.value)

    @point.setter
    def point(self, rc):
        with self._batch():
            self._row_w.value, self._col_w.value = int(rc[0]), int(rc[1])
            self._point_on_w.value = True
        self.render()

    @property
    def state(self):
        """Dict of the current state (case, plane, slice, window, level, opacity, ...)."""
        return {k: getattr(self, k) for k in
                ("case", "plane", "slice", "window", "level", "opacity", "mode", "zoom", "preset")}

    def pick(self):
        """Describe the picked point: voxel index (original image), mm, intensity."""
        d = self._data
        if d is None:
            return None
        return self._describe(_render.slice_to_voxel(self.plane, self.slice, *self.point,
                                                     d["image"].shape))

    def _describe(self, zyx):
        """Voxel index (original image), mm and intensity of an LPS (z, y, x) voxel."""
        d = self._data
        z, y, x = (int(i) for i in zyx)
        phys = d["oriented"].TransformIndexToPhysicalPoint((int(x), int(y), int(z)))
        index = d["original"].TransformPhysicalPointToIndex(phys)
        value = d["image"][z, y, x]
        inside = [name for name, layer in d["layers"] if layer[z, y, x]]
        return {"index": tuple(int(i) for i in index), "physical_mm": tuple(phys),
                "value": float(value), "unit": "HU" if d["modality"] == "CT" else "",
                "in_masks": inside}

    @staticmethod
    def _text(p):
        text = tr("voxel {index}, {position} mm, value {value}").format(
            index=p["index"], position=tuple(round(v, 1) for v in p["physical_mm"]),
            value=f"{p['value']:g}{' ' + p['unit'] if p['unit'] else ''}")
        if p["in_masks"]:
            text += tr(", inside {masks}").format(masks=", ".join(p["in_masks"]))
        return text

    # ----- events --------------------------------------------------------------------
    def _display_to_slice(self, xy):
        """(row, col) of the un-zoomed slice under a displayed pixel ``{"x", "y"}``, or None."""
        if self._data is None or not xy:
            return None
        return _render.display_to_slice(
            float(xy["x"]), float(xy["y"]), self.plane, self._data["image"].shape,
            self._data["spacing"], crop=self._shown_crop, max_size=self._size)

    def _on_hover(self, change):
        rc = self._display_to_slice(change["new"])
        if rc is None:
            return
        zyx = _render.slice_to_voxel(self.plane, self.slice, *rc, self._data["image"].shape)
        self._hover_w.value = tr("Cursor: {where}").format(where=html.escape(self._text(self._describe(zyx))))

    def _on_click(self, change):
        rc = self._display_to_slice(change["new"])
        if rc is not None:
            self.point = rc

    @contextlib.contextmanager
    def _batch(self):
        old, self._hold = self._hold, True
        try:
            yield
        finally:
            self._hold = old

    def _case_index(self, key):
        keys = self.cases
        if key in keys:
            return keys.index(key)
        starts = [i for i, k in enumerate(keys) if k.split(" ")[0] == str(key)]
        if not starts:
            raise ValueError(f"case must be one of {keys[:8]}...; got {key!r}.")
        return starts[0]

    def _on_case(self, change=None):
        c = self._cases[self._case_w.value]
        colour = _STATUS_COLOUR.get(c["status"], "#777")
        try:
            self._data = load_case(c)
            self.last_error = None
        except Exception as exc:  # one unreadable case is shown as an error, the others still work
            self._data, self.last_error = None, f"{type(exc).__name__}: {exc}"
        problems = "; ".join(p for p in (c["problems"], self._data and self._data["problems"],
                                         self.last_error) if p)
        status = "" if c["status"] == "unknown" else f": {c['status']}"
        self._status_w.value = (
            f"<span style='color:{colour}'><b>{html.escape(c['key'])}{status}</b></span>"
            + (f" <small>{html.escape(problems)}</small>" if problems else ""))
        if self._data is None:
            self.image_widget.value = b""
            return
        d = self._data
        if self._heatmap is not None:
            heat = _render.to_canonical(self._heatmap["image"])[0].astype(np.float64)
            if heat.shape != d["image"].shape:
                raise ValueError(f"heatmap has {heat.shape[::-1]} voxels but the image has "
                                 f"{d['image'].shape[::-1]}; compute it on the image's grid.")
            self._heat = (heat, float(np.nanmin(heat)), float(np.nanmax(heat)))
        with self._batch():
            presets = ["auto", "custom"] + (list(_render.CT_PRESETS) if d["modality"] == "CT" else [])
            self._preset_w.options = presets
            if self._initial["window"] is not None:
                self._window_w.value, self._level_w.value = self._initial["window"], self._initial["level"]
                self._preset_w.value = "custom"
            else:
                self._preset_w.value = "mediastinum" if d["modality"] == "CT" else "auto"
                self._apply_preset()
            self._legend_w.value = self._legend()
            self._set_plane_ranges(centre=True)
        self.render()

    def _roi_union(self):
        layers = [layer for _, layer in self._data["layers"]]
        return np.logical_or.reduce(layers) if layers else None

    def _set_plane_ranges(self, centre=False):
        d, plane = self._data, self._plane_w.value
        shape = d["image"].shape
        self._slice_w.max = _render.n_slices(shape, plane) - 1
        roi = self._roi_union()
        cz, cy, cx = _render.roi_centre(roi if roi is not None else np.zeros(shape, bool))
        self._slice_w.value = {"axial": cz, "coronal": cy, "sagittal": cx}[plane]
        h, w = _render.take_slice(d["image"], plane, 0).shape
        self._row_w.max, self._col_w.max = h - 1, w - 1
        if centre:
            self._row_w.value, self._col_w.value = h // 2, w // 2

    def _on_plane(self, change=None):
        if self._data is None:
            return
        with self._batch():
            self._set_plane_ranges(centre=True)
        self.render()

    def _apply_preset(self):
        d, name = self._data, self._preset_w.value
        if name in _render.CT_PRESETS:
            w, lv = _render.CT_PRESETS[name]
        elif name == "auto":
            w, lv = _render.percentile_window(d["image"])
        else:
            return
        step = min(1.0, 10.0 ** np.floor(np.log10(max(w, 1e-6) / 200)))  # what the slider can show
        w, lv = (round(max(step, round(w / step) * step), 6), round(round(lv / step) * step, 6))
        self._window_w.step = self._level_w.step = step
        lo, hi = float(d["image"].min()), float(d["image"].max())
        self._level_w.min, self._level_w.max = min(lo, lv) - 1, max(hi, lv) + 1
        self._window_w.max = max(4000.0, hi - lo, w)
        self._window_w.value, self._level_w.value = w, lv

    def _on_preset(self, change=None):
        if self._data is None or self._hold:
            return
        with self._batch():
            self._apply_preset()
        self.render()

    def _on_change(self, change=None):
        if self._hold or self._data is None:
            return
        if change is not None and change["owner"] in (self._window_w, self._level_w):
            if self._preset_w.value != "custom":
                with self._batch():
                    self._preset_w.value = "custom"
        self.render()

    def _legend(self):
        items = [f"<span style='display:inline-block;width:12px;height:12px;"
                 f"background:rgb{_render.label_colour(i)};margin-right:4px'></span>{html.escape(n)}"
                 for i, (n, _) in enumerate(self._data["layers"])]
        text = "&nbsp; ".join(items) if items else "<i>no mask</i>"
        if self._heat is not None:
            text += _render.colour_bar_html(self._heatmap["name"], *self._heat[1:],
                                            cmap=self._heatmap["cmap"])
        return text

    # ----- drawing -------------------------------------------------------------------
    def render_array(self):
        """The displayed picture as an RGB uint8 array (what the widget shows)."""
        d, plane, idx = self._data, self.plane, self.slice
        img2d = _render.take_slice(d["image"], plane, idx)
        layers = [(_render.take_slice(layer, plane, idx), _render.label_colour(i))
                  for i, (_, layer) in enumerate(d["layers"])]
        grey = _render.apply_window(img2d, self.window, self.level)
        rgb = _render.overlay(grey, layers, opacity=self.opacity, mode=self.mode)
        if self._heat is not None:
            heat, vmin, vmax = self._heat
            rgb = _render.heat_overlay(rgb, _render.take_slice(heat, plane, idx), vmin, vmax,
                                       cmap=self._heatmap["cmap"])
        if self._point_on_w.value:
            r, c = self.point
            rgb[r, :] = rgb[:, c] = (255, 255, 0)
        crop = self._shown_crop = self._zoom_crop()
        if crop is not None:
            rgb = rgb[crop[0]:crop[1], crop[2]:crop[3]]
        row_mm, col_mm = _render.pixel_spacing(d["spacing"], plane)
        return _render.fit_aspect(rgb, row_mm, col_mm, max_size=self._size)

    def _zoom_crop(self):
        """Displayed part (row0, row1, col0, col1) of the slice when zoomed, else None."""
        roi = self._roi_union() if self.zoom else None
        box = None if roi is None else _render.roi_bbox(self._plane_roi(roi))
        if box is None:
            return None
        h, w = _render.n_rows_cols(self._data["image"].shape, self.plane)
        # keep as much context as the ROI's size, at least 10 pixels
        (r0, r1), (c0, c1) = ((max(0, b.start - max(10, b.stop - b.start)),
                               min(n, b.stop + max(10, b.stop - b.start))) for b, n in zip(box, (h, w)))
        return r0, r1, c0, c1

    def _plane_roi(self, roi):
        """ROI projected along the viewing axis, so the zoom box is stable across slices."""
        plane = self.plane
        proj = roi.any(axis=_render._PLANE_AXIS[plane])
        if plane == "axial":
            return proj
        return proj[::-1, :]

    def render(self):
        """Re-draw the picture (called automatically on every change)."""
        if self._data is None or self._hold:
            return
        self.image_widget.value = _render.encode(self.render_array())
        self.n_renders += 1
        if self.image_widget.hover:  # the cursor stays put while keys change the slice
            self._on_hover({"new": self.image_widget.hover})
        p = self.pick()
        if p is not None:
            self._readout_w.value = tr("Picked point: {where}").format(where=html.escape(self._text(p)))
        if self._dice:
            self._dice_w.value = self._dice_html()

    def agreement(self):
        """Whole-volume Dice of every pair of masks, as a DataFrame (``mask_a``, ``mask_b``, ``dice``)."""
        import pandas as pd

        layers = self._data["layers"] if self._data else []
        rows = [{"mask_a": layers[i][0], "mask_b": layers[j][0],
                 "dice": _render.dice(layers[i][1], layers[j][1])}
                for i in range(len(layers)) for j in range(i + 1, len(layers))]
        return pd.DataFrame(rows, columns=["mask_a", "mask_b", "dice"])

    def _dice_html(self):
        layers = self._data["layers"]
        rows = []
        for i in range(len(layers)):
            for j in range(i + 1, len(layers)):
                (na, a), (nb, b) = layers[i], layers[j]
                s_a = _render.take_slice(a, self.plane, self.slice)
                s_b = _render.take_slice(b, self.plane, self.slice)
                rows.append(f"<tr><td>{html.escape(na)} vs {html.escape(nb)}</td>"
                            f"<td>{_render.dice(a, b):.3f}</td><td>{_render.dice(s_a, s_b):.3f}</td></tr>")
        return ("<table><tr><th>Dice</th><th>volume</th><th>this slice</th></tr>"
                + "".join(rows) + "</table>")
