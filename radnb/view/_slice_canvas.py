"""The picture of radnb's slice viewer: an image that reports the mouse and keys.

A small anywidget (inline JavaScript, no build step, works offline: anywidget
ships its JupyterLab extension). It shows the encoded bytes the viewer
renders, exactly like ``ipywidgets.Image``, and sends back

* ``hover``: ``{"x": .., "y": ..}`` in displayed-picture pixels while the mouse
  moves over it (at most every 50 ms), ``None`` when it leaves;
* ``click``: ``{"x": .., "y": .., "n": ..}`` on a click (``n`` counts clicks,
  so clicking twice on one spot is two events);
* a ``{"event": "key", "key": ...}`` message for ArrowUp/ArrowDown/PageUp/
  PageDown while the picture has the keyboard focus (click it first);
* with ``tool = "brush"`` or ``"erase"``: a circle cursor of ``brush_px``
  pixels, the stroke drawn at once on a layer over the picture (no round trip),
  and on mouse release ONE compact ``{"event": "stroke", "points": [x0, y0, x1,
  y1, ...], "erase": bool}`` message (never a whole image);
* with ``tool = "box"``: a rectangle while dragging, then ``{"event": "box",
  "x0": .., "y0": .., "x1": .., "y1": ..}``.

The drawing layer is cleared when the next picture arrives (it then shows the
stroke as the kernel applied it).

Coordinates are in pixels of the picture as encoded (its natural size), so
they do not depend on how large the browser draws it.
"""
from __future__ import annotations

import anywidget
import traitlets

_ESM = r"""
function render({ model, el }) {
  const box = document.createElement("div");
  box.className = "radnb-canvas-box";
  box.tabIndex = 0;
  const img = document.createElement("img");
  img.className = "radnb-view-image";
  img.draggable = false;
  box.appendChild(img);
  const layer = document.createElement("canvas");
  layer.className = "radnb-draw-layer";
  box.appendChild(layer);
  el.appendChild(box);
  const ctx = layer.getContext("2d");
  let url = null, stroke = null, rect = null, cursor = null;
  function fitLayer() {
    if (img.naturalWidth && (layer.width !== img.naturalWidth || layer.height !== img.naturalHeight)) {
      layer.width = img.naturalWidth; layer.height = img.naturalHeight;
    }
  }
  function paintLayer() {  // the stroke / box being drawn and the brush cursor
    fitLayer();
    ctx.clearRect(0, 0, layer.width, layer.height);
    const r = model.get("brush_px"), colour = model.get("brush_colour");
    if (stroke && stroke.length) {
      ctx.strokeStyle = ctx.fillStyle = stroke.erase ? "rgba(0,0,0,0.6)" : colour;
      ctx.globalAlpha = stroke.erase ? 1.0 : 0.6;
      ctx.lineWidth = 2 * r; ctx.lineCap = ctx.lineJoin = "round";
      ctx.beginPath(); ctx.moveTo(stroke[0].x, stroke[0].y);
      for (const p of stroke) ctx.lineTo(p.x, p.y);
      if (stroke.length === 1) { ctx.arc(stroke[0].x, stroke[0].y, r, 0, 2 * Math.PI); ctx.fill(); }
      else ctx.stroke();
      ctx.globalAlpha = 1.0;
    }
    if (rect) {
      ctx.strokeStyle = colour; ctx.lineWidth = 1; ctx.setLineDash([4, 3]);
      ctx.strokeRect(rect.x0, rect.y0, rect.x1 - rect.x0, rect.y1 - rect.y0); ctx.setLineDash([]);
    }
    const tool = model.get("tool");
    if (cursor && (tool === "brush" || tool === "erase")) {
      ctx.strokeStyle = tool === "erase" ? "#ffffff" : colour; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.arc(cursor.x, cursor.y, Math.max(r, 0.5), 0, 2 * Math.PI); ctx.stroke();
    }
  }
  function show() {
    const value = model.get("value");
    if (url) { URL.revokeObjectURL(url); url = null; }
    if (!value || value.byteLength === 0) { img.removeAttribute("src"); return; }
    url = URL.createObjectURL(new Blob([value], { type: "image/" + model.get("format") }));
    img.src = url;
  }
  function position(ev) {
    const r = img.getBoundingClientRect();
    if (!img.naturalWidth || r.width === 0 || r.height === 0) return null;
    const x = (ev.clientX - r.left) * img.naturalWidth / r.width;
    const y = (ev.clientY - r.top) * img.naturalHeight / r.height;
    if (x < 0 || y < 0 || x >= img.naturalWidth || y >= img.naturalHeight) return null;
    return { x: x, y: y };
  }
  function clamped(ev) {  // like position(), but kept on the picture while dragging
    const r = img.getBoundingClientRect();
    if (!img.naturalWidth || r.width === 0) return null;
    const x = (ev.clientX - r.left) * img.naturalWidth / r.width;
    const y = (ev.clientY - r.top) * img.naturalHeight / r.height;
    return { x: Math.min(Math.max(x, 0), img.naturalWidth - 0.01),
             y: Math.min(Math.max(y, 0), img.naturalHeight - 0.01) };
  }
  const round1 = (v) => Math.round(v * 10) / 10;
  img.addEventListener("mousedown", (ev) => {
    const tool = model.get("tool"), p = position(ev);
    if (ev.button !== 0 || p === null) return;
    if (tool === "brush" || tool === "erase") {
      ev.preventDefault();
      stroke = [p]; stroke.erase = tool === "erase"; paintLayer();
    } else if (tool === "box") {
      ev.preventDefault();
      rect = { x0: p.x, y0: p.y, x1: p.x, y1: p.y }; paintLayer();
    }
  });
  function onDrag(ev) {
    if (!stroke && !rect) return;
    const p = clamped(ev);
    if (p === null) return;
    if (stroke) {
      const last = stroke[stroke.length - 1];
      if (Math.abs(p.x - last.x) + Math.abs(p.y - last.y) >= 0.5) stroke.push(p);
      cursor = p;
    } else { rect.x1 = p.x; rect.y1 = p.y; }
    paintLayer();
  }
  function onRelease() {
    if (stroke) {
      const points = [];
      for (const p of stroke) points.push(round1(p.x), round1(p.y));
      model.send({ event: "stroke", points: points, erase: !!stroke.erase });
      stroke.sent = true;  // stays on the layer until the new picture arrives
    } else if (rect) {
      model.send({ event: "box", x0: round1(rect.x0), y0: round1(rect.y0),
                   x1: round1(rect.x1), y1: round1(rect.y1) });
      rect.sent = true;
    }
  }
  window.addEventListener("mousemove", onDrag);
  window.addEventListener("mouseup", onRelease);
  let pending = null, timer = null;
  function flush() {
    timer = null;
    model.set("hover", pending);
    model.save_changes();
  }
  img.addEventListener("mousemove", (ev) => {
    if (stroke || rect) return;  // while drawing, only the stroke travels to the kernel
    pending = position(ev);
    const tool = model.get("tool");
    if (tool === "brush" || tool === "erase") { cursor = pending; paintLayer(); }
    if (timer === null) timer = setTimeout(flush, model.get("throttle_ms"));
  });
  img.addEventListener("mouseleave", () => {
    pending = null;
    if (cursor && !stroke) { cursor = null; paintLayer(); }
    if (timer === null) timer = setTimeout(flush, model.get("throttle_ms"));
  });
  img.addEventListener("mousedown", () => box.focus());
  img.addEventListener("click", (ev) => {
    if (["brush", "erase", "box"].includes(model.get("tool"))) return;  // a drag, not a pick
    const p = position(ev);
    if (p === null) return;
    const n = ((model.get("click") || {}).n || 0) + 1;
    model.set("click", { x: p.x, y: p.y, n: n });
    model.save_changes();
  });
  const KEYS = ["ArrowUp", "ArrowDown", "PageUp", "PageDown"];
  box.addEventListener("keydown", (ev) => {
    if (!KEYS.includes(ev.key)) return;
    ev.preventDefault();
    ev.stopPropagation();  // JupyterLab would otherwise move between cells
    model.send({ event: "key", key: ev.key });
  });
  model.on("change:value", () => {
    if (stroke && stroke.sent) stroke = null;  // the new picture holds the applied stroke
    if (rect && rect.sent) rect = null;
    show();
  });
  img.addEventListener("load", paintLayer);
  model.on("change:tool", paintLayer);
  model.on("change:brush_px", paintLayer);
  show();
  return () => {
    if (url) URL.revokeObjectURL(url);
    if (timer !== null) clearTimeout(timer);
    window.removeEventListener("mousemove", onDrag);
    window.removeEventListener("mouseup", onRelease);
  };
}
export default { render };
"""

_CSS = """
.radnb-canvas-box { display: inline-block; line-height: 0; outline: none; position: relative; }
.radnb-canvas-box canvas.radnb-draw-layer {
  position: absolute; left: 0; top: 0; width: 100%; height: 100%; pointer-events: none; }
.radnb-canvas-box:focus-visible, .radnb-canvas-box:focus { box-shadow: 0 0 0 2px #56b4e9; }
.radnb-canvas-box img.radnb-view-image { max-width: 100%; height: auto; cursor: crosshair; }
"""

#: Keys the picture reacts to, and the slice step each one makes.
KEY_STEPS = {"ArrowUp": 1, "ArrowDown": -1, "PageUp": 10, "PageDown": -10}


class SliceCanvas(anywidget.AnyWidget):
    """Encoded picture (JPEG/PNG bytes) that reports hover, click and slice keys.

    Examples
    --------
    >>> canvas = SliceCanvas(format="png")
    >>> steps = []
    >>> canvas.on_key(steps.append)
    >>> canvas.press("ArrowUp")  # what Arrow Up on the focused picture does
    >>> steps
    [1]
    >>> canvas.click = {"x": 3.5, "y": 7.0, "n": 1}  # what a click in the browser sets
    """

    _esm = _ESM
    _css = _CSS
    value = traitlets.Bytes(b"").tag(sync=True)
    format = traitlets.Unicode("jpeg").tag(sync=True)
    throttle_ms = traitlets.Int(50).tag(sync=True)
    hover = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
    click = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
    #: "" (look and pick), "brush", "erase" (strokes) or "box" (rectangles): what a drag does.
    tool = traitlets.Unicode("").tag(sync=True)
    #: Brush radius in displayed-picture pixels (the circle cursor) and its CSS colour.
    brush_px = traitlets.Float(5.0).tag(sync=True)
    brush_colour = traitlets.Unicode("#e69f00").tag(sync=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._key_callbacks, self._draw_callbacks = [], []
        self.on_msg(self._on_custom_msg)

    def on_draw(self, callback):
        """Call ``callback(message)`` for every finished stroke or box (see module docstring)."""
        self._draw_callbacks.append(callback)

    def on_key(self, callback):
        """Call ``callback(step)`` (+1/-1 slice, +10/-10 for Page Up/Down) on a slice key."""
        self._key_callbacks.append(callback)

    def press(self, key):
        """Act as if ``key`` was pressed on the focused picture (used by tests and the browser)."""
        step = KEY_STEPS.get(key)
        if step is None:
            raise ValueError(f"key must be one of {list(KEY_STEPS)}; got {key!r}.")
        for callback in self._key_callbacks:
            callback(step)

    def _on_custom_msg(self, _widget, content, _buffers):
        content = content if isinstance(content, dict) else {}
        if content.get("event") == "key" and content.get("key") in KEY_STEPS:
            self.press(content["key"])
        elif content.get("event") in ("stroke", "box"):
            for callback in self._draw_callbacks:
                callback(content)
