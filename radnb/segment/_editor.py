"""The mask editor widget behind :func:`radnb.segment.edit`.

It is radnb's slice viewer (planes, slices, window/level, zoom, hover readout,
slice keys) with a tool bar. The picture's canvas draws brush strokes at once
in the browser and sends each finished stroke as one small message (points and
radius, never an image); the kernel applies it to the label volume and sends
the new picture. All tools are also methods (:meth:`Editor.paint`,
:meth:`Editor.grow`, ...), so a notebook or a test can drive the editor.
"""
from __future__ import annotations

import html
import json

import ipywidgets as W
import numpy as np

from radnb._utils.i18n import N_, tr
import radnb.segment._editor_io as eio
import radnb.segment._editor_ops as ops
from radnb.view import _render
from radnb.segment._editor_tools import EditorTools
from radnb.view._viewer import Viewer

TOOLS = ((N_("Look"), "look"), (N_("Paint"), "brush"), (N_("Erase"), "erase"), (N_("Grow"), "grow"),
         (N_("Box threshold"), "box"))  # (label shown, value the code uses)
TOOL_TIPS = (N_("Hover to read values, click to pick a point"), N_("Drag to paint the label"),
             N_("Drag to erase the label"), N_("Click inside the lesion to grow a region"),
             N_("Drag a box: voxels in the box and in 'Box range' become the label"))
#: The names of the edits (History's values), shown translated in the status line.
EDIT_NAMES = (N_("paint"), N_("erase"), N_("box threshold"), N_("fill holes"), N_("keep largest"),
              N_("interpolate"), N_("grow"), N_("edit"))
EDITOR_HELP = N_(
    "<b>Paint / Erase:</b> drag on the picture (the circle is the brush, radius in mm). "
    "<b>Grow:</b> click inside the lesion; move 'Tolerance' to see the region change. "
    "<b>Box threshold:</b> drag a box; voxels of this slice in the box and in the 'Box range' "
    "become the label. Undo / Redo keep the last 50 steps; 'Save' writes the mask."
)


def _hex(rgb):
    return "#%02x%02x%02x" % tuple(int(v) for v in rgb)


class Editor(EditorTools, Viewer):
    """Mask editor: see :func:`radnb.segment.edit` (users never build it directly)."""

    def __init__(self, case, *, labels_lps=None, label=1, label_names=None, radius_mm=3.0,
                 tolerance=None, size=512, plane="axial", context=None, history=50):
        self._labels, self._init_labels = None, labels_lps
        self._label_names = dict(label_names or {})
        self._references, self._grow_seed, self._context = {}, None, dict(context or {})
        self.last_message_bytes, self.message = 0, ""
        self._history_limit = max(20, int(history))
        lay = W.Layout(width="330px")
        self._tool_w = W.ToggleButtons(options=[(tr(text), value) for text, value in TOOLS],
                                       value="look", description=tr("Tool"),
                                       tooltips=[tr(t) for t in TOOL_TIPS], style={"button_width": "122px"})
        self._label_w = W.Dropdown(description=tr("Label"), layout=W.Layout(width="220px"))
        self._add_label_w = W.Button(description=tr("+ label"), layout=W.Layout(width="70px"))
        self._radius_w = W.FloatSlider(description=tr("Brush mm"), min=0.5, max=30, step=0.5,
                                       value=float(radius_mm), layout=lay)
        self._tolerance_w = W.FloatSlider(description=tr("Tolerance"), min=1, max=500, step=1,
                                          layout=lay, continuous_update=True)
        self._range_w = W.FloatRangeSlider(description=tr("Box range"), layout=lay, step=1,
                                           continuous_update=False)
        names = (N_("Fill holes"), N_("Keep largest"), N_("Interpolate"), N_("Undo"), N_("Redo"))
        self._buttons = {n: W.Button(description=tr(n), layout=W.Layout(width="112px")) for n in names}
        self._save_path_w = W.Text(description=tr("Save as"), layout=W.Layout(width="420px"),
                                   value=str(self._context.get("default_path", "mask.nii.gz")))
        self._save_w = W.Button(description=tr("Save"), button_style="primary")
        self._status_msg_w = W.HTML()
        self._status_msg_w.add_class("radnb-editor-status")
        self._compare_w = W.HTML()
        self._compare_w.add_class("radnb-editor-compare")
        super().__init__([case], size=size, plane=plane, mode="fill", opacity=0.45)
        if self._data is None:
            raise ValueError(f"cannot open {case['key']!r} for editing: {self.last_error}")
        self.add_class("radnb-editor")
        self._initial_tolerance = tolerance
        self._setup_ranges()
        tools = W.VBox([
            self._tool_w,
            W.HBox([self._label_w, self._add_label_w, self._radius_w]),
            W.HBox([self._tolerance_w, self._range_w]),
            W.HBox(list(self._buttons.values())),
            W.HBox([self._save_path_w, self._save_w]),
            self._status_msg_w, self._compare_w, W.HTML(f"<small>{tr(EDITOR_HELP)}</small>"),
        ])
        tools.add_class("radnb-editor-tools")
        kids = list(self.children)
        self.children = kids[:-2] + [tools] + kids[-2:]
        self.image_widget.on_draw(self.handle)
        self._tool_w.observe(self._on_tool, names="value")
        self._label_w.observe(self._on_label, names="value")
        self._radius_w.observe(self._on_radius, names="value")
        self._tolerance_w.observe(self._on_tolerance, names="value")
        self._add_label_w.on_click(lambda _: self.add_label())
        actions = {"Fill holes": self.fill_holes, "Keep largest": self.keep_largest,
                   "Interpolate": self.interpolate, "Undo": self.undo, "Redo": self.redo}
        for name, fn in actions.items():
            self._buttons[name].on_click(lambda _, fn=fn: fn())
        self._save_w.on_click(lambda _: self._save_clicked())
        self._label_options(int(label))
        self._on_radius()

    # ----- set-up -----------------------------------------------------------------------
    def _on_case(self, change=None):
        with self._batch():
            super()._on_case(change)
        if self._data is None:
            return
        shape = self._data["image"].shape
        init = self._init_labels
        self._labels = np.zeros(shape, np.uint8) if init is None else np.ascontiguousarray(init)
        self.history = ops.History(self._labels, limit=self._history_limit)
        with self._batch():
            self._set_plane_ranges(centre=True)
        self.render()

    def _setup_ranges(self):
        d = self._data
        if d is None:
            return
        lo, hi = float(d["image"].min()), float(d["image"].max())
        width, level = _render.percentile_window(d["image"])
        self._tolerance_w.max = max(2.0, hi - lo)
        self._tolerance_w.step = self._range_w.step = max(width / 500, 1e-3)
        default = 40.0 if d["modality"] == "CT" else width / 8
        self._tolerance_w.value = float(self._initial_tolerance or default)
        self._range_w.min, self._range_w.max = lo, hi
        self._range_w.value = (level, hi)

    def _label_options(self, active):
        values = sorted(set(np.unique(self._labels[self._labels > 0]).tolist()) | {active}
                        | set(self._label_names))
        self._label_w.options = [(f"{v}: {self._label_names.get(v, f'label {v}')}", v) for v in values]
        self._label_w.value = active
        self._legend_w.value = self._legend()

    def _legend(self):
        if self._labels is None:
            return ""
        items = [f"<span style='display:inline-block;width:12px;height:12px;background:"
                 f"{_hex(_render.label_colour(v - 1))};margin-right:4px'></span>{html.escape(name)}"
                 for v, name in self.labels.items()]
        refs = [f"<span style='border:1px solid #888;padding:0 3px'>{html.escape(n)}</span> (white outline)"
                for n in self._references]
        return "&nbsp; ".join(items + refs)

    # ----- state readable and settable from Python ---------------------------------------
    tool = property(lambda self: self._tool_w.value,
                    lambda self, v: setattr(self._tool_w, "value", v),
                    doc="'look' (pick points), 'brush', 'erase', 'grow' or 'box'.")
    label = property(lambda self: self._label_w.value,
                     lambda self, v: self._label_options(int(v)), doc="Label value being edited.")
    radius_mm = property(lambda self: self._radius_w.value,
                         lambda self, v: setattr(self._radius_w, "value", float(v)),
                         doc="Brush radius in mm.")
    tolerance = property(lambda self: self._tolerance_w.value,
                         lambda self, v: setattr(self._tolerance_w, "value", float(v)),
                         doc="Region growing: seed value +/- this (image units, HU for CT).")
    box_range = property(lambda self: self._range_w.value,
                         lambda self, v: setattr(self._range_w, "value", tuple(v)),
                         doc="(lower, upper) intensities the box threshold keeps.")

    @property
    def labels(self):
        """Label values present or offered, with their names (dict value -> name)."""
        return {v: self._label_names.get(v, f"label {v}") for _, v in self._label_w.options}

    @property
    def mask(self):
        """The current label image (SimpleITK, UInt8) on the image's own voxel grid."""
        import SimpleITK as sitk

        d = self._data
        lps = sitk.GetImageFromArray(self._labels)
        lps.CopyInformation(d["oriented"])
        original = d["original"]
        if d["oriented"] is original:
            return lps
        code = sitk.DICOMOrientImageFilter.GetOrientationFromDirectionCosines(original.GetDirection())
        back = sitk.DICOMOrient(lps, code)
        if back.GetSize() != original.GetSize():  # cannot happen for a permutation; be safe
            return sitk.Resample(lps, original, sitk.Transform(), sitk.sitkNearestNeighbor, 0)
        back.CopyInformation(original)
        return back

    def add_label(self, name=None):
        """Offer the next free label value (its own colour) and make it the active one."""
        value = max(self.labels) + 1
        if value > 255:
            raise ValueError("the editor holds at most 255 labels (UInt8).")
        self._label_names[value] = name or f"label {value}"
        self._label_options(value)
        return value

    # ----- saving, comparing --------------------------------------------------------------
    def save(self, path=None, *, label=None):
        """Write the mask: NIfTI / NRRD / MHA by file name, DICOM-SEG for ``.dcm``.

        Parameters
        ----------
        path : str or Path, optional
            Default: the 'Save as' field (from a manifest: the new reader's file).
        label : int, optional
            Write only this label (as 1). A DICOM-SEG holds one segment: the
            active label unless ``label`` is given.

        Returns
        -------
        pathlib.Path, or a one-row manifest DataFrame
            Opened from a manifest: the row to add for the new reader
            (``pd.concat([manifest, editor.save()])``).
        """
        return eio.save(self, self._save_path_w.value if path is None else path, label=label)

    def _save_clicked(self):
        try:
            out = self.save()
            where = out if not hasattr(out, "iloc") else out["mask"].iloc[0]
            self._status_msg_w.value = tr("saved {path}").format(
                path=f"<code>{html.escape(str(where))}</code>")
        except Exception as exc:  # shown to the user beside the button, not as a traceback
            self._status_msg_w.value = "<span style='color:#c62828'>{}</span>".format(
                tr("not saved: {error}").format(error=html.escape(f"{type(exc).__name__}: {exc}")))

    def compare(self, reference=None):
        """Compare the active label with a reader's mask, now and live after every edit.

        Parameters
        ----------
        reference : SimpleITK.Image, path, reader number, or dict name -> any of these
            Opened from a manifest, a reader number picks that reader's mask,
            and no argument compares with every reader of the case.

        Returns
        -------
        pandas.DataFrame
            One row per reference (index ``reference``), the columns of
            :func:`radnb.segment.agreement` with ``a`` = the reference and
            ``b`` = your mask (``dice``, ``hd95_mm``, ``volume_b_ml``, ...).
        """
        self._references.update(eio.reference_arrays(self, reference))
        self._after_edit(self.message or tr("comparing"))
        return self._agreement()

    # ----- browser messages ------------------------------------------------------------------
    def handle(self, message):
        """Apply a stroke / box message of the picture (what the browser sends)."""
        self.last_message_bytes = len(json.dumps(message, separators=(",", ":")))
        if self._data is None:
            return 0
        if message.get("event") == "stroke":
            xy = np.asarray(message.get("points", []), dtype=float).reshape(-1, 2)
            rows_cols = [self._display_to_rc(x, y) for x, y in xy]
            return self.paint(rows_cols, erase=bool(message.get("erase")))
        if message.get("event") == "box":
            (r0, c0), (r1, c1) = (self._display_to_rc(message["x0"], message["y0"]),
                                  self._display_to_rc(message["x1"], message["y1"]))
            return self.threshold_box((round(r0), round(r1), round(c0), round(c1)))
        return 0

    def _display_geometry(self):
        d, plane = self._data, self.plane
        h, w = _render.n_rows_cols(d["image"].shape, plane)
        r0, r1, c0, c1 = self._shown_crop if self._shown_crop is not None else (0, h, 0, w)
        out_h, out_w = _render.fit_size(r1 - r0, c1 - c0, *_render.pixel_spacing(d["spacing"], plane),
                                        max_size=self._size)
        return r0, c0, (r1 - r0) / out_h, (c1 - c0) / out_w

    def _display_to_rc(self, x, y):
        """Continuous (row, col) of the slice (pixel centres at whole numbers) under picture (x, y)."""
        r0, c0, fr, fc = self._display_geometry()
        return r0 + float(y) * fr - 0.5, c0 + float(x) * fc - 0.5

    def _on_click(self, change):
        if self.tool == "look":
            return super()._on_click(change)
        if self.tool == "grow":
            rc = self._display_to_slice(change["new"])
            if rc is not None:
                self._grow_zyx(_render.slice_to_voxel(self.plane, self.slice, *rc,
                                                      self._data["image"].shape))
        return None

    def _on_tool(self, change=None):
        self.image_widget.tool = self.tool if self.tool in ("brush", "erase", "box") else ""

    def _on_label(self, change=None):
        if self.label is None:  # while the widget is being built
            return
        self.image_widget.brush_colour = _hex(_render.label_colour(self.label - 1))

    def _on_radius(self, change=None):
        if self._data is None:
            return
        _, _, fr, _ = self._display_geometry()
        row_mm = _render.pixel_spacing(self._data["spacing"], self.plane)[0]
        self.image_widget.brush_px = self.radius_mm / (row_mm * fr)
        self._on_label()

    def _on_tolerance(self, change=None):
        last = self.history.last if self._labels is not None else None
        if self._hold or self._grow_seed is None or last is None or last.what != "grow":
            return
        self.history.undo()
        self._grow_zyx(self._grow_seed)

    # ----- applying, drawing -----------------------------------------------------------------
    def _apply(self, flat, value, what):
        n = self.history.apply(flat, value, what)
        self._after_edit(tr("{what}: {n} voxels changed").format(what=tr(what), n=n))
        return n

    def _after_edit(self, text):
        self.message = text
        if self._data is not None and not self._hold:  # the picture first: it is what the user waits for
            self.image_widget.value = _render.encode(self.render_array())
            self.n_renders += 1
        n_label = int(np.count_nonzero(self._labels == self.label)) if self._references else None
        vol = "" if n_label is None else tr("; label {label}: {n} voxels").format(
            label=self.label, n=n_label)
        steps = tr("(undo: {undo}, redo: {redo})").format(undo=len(self.history),
                                                          redo=self.history.n_redo)
        self._status_msg_w.value = f"{html.escape(text)}{html.escape(vol)} <small>{steps}</small>"
        if self._references:
            self._compare_w.value = self._compare_html()
            self._legend_w.value = self._legend()

    def _roi_union(self):
        if self._labels is None or not self._labels.any():
            return None
        return self._labels > 0

    def render_array(self):
        """The displayed picture (RGB uint8): image, labels in their colours, references outlined."""
        d, plane, idx = self._data, self.plane, self.slice
        grey = _render.apply_window(_render.take_slice(d["image"], plane, idx), self.window, self.level)
        lab = _render.take_slice(self._labels, plane, idx) if self._labels is not None else None
        if lab is not None and self.mode == "fill":
            rgb = ops.fill_overlay(grey, lab, self.opacity)  # a look-up table: fast on every stroke
        else:
            layers = [] if lab is None else [(lab == v, _render.label_colour(int(v) - 1))
                                             for v in np.flatnonzero(np.bincount(lab.ravel())) if v]
            rgb = _render.overlay(grey, layers, opacity=self.opacity, mode=self.mode)
        for ref in self._references.values():
            rgb[_render.contour(_render.take_slice(ref, plane, idx))] = (255, 255, 255)
        if self._point_on_w.value:
            r, c = self.point
            rgb[r, :] = rgb[:, c] = (255, 255, 0)
        crop = self._shown_crop = self._zoom_crop()
        if crop is not None:
            rgb = rgb[crop[0]:crop[1], crop[2]:crop[3]]
        row_mm, col_mm = _render.pixel_spacing(d["spacing"], plane)
        self._on_radius()  # the circle cursor follows zoom and plane
        return _render.fit_aspect(rgb, row_mm, col_mm, max_size=self._size)

    def _on_plane(self, change=None):
        super()._on_plane(change)
        self._on_radius()

    def _compare_html(self):
        return eio.compare_html(self._agreement())

    def _agreement(self):
        return eio.agreement_table(self._labels == self.label, self._references, self._data["spacing"])
