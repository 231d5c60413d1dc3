"""The picture of radnb's slice viewer: an image that reports the mouse and keys.

A small anywidget (inline JavaScript, no build step, works offline: anywidget
ships its JupyterLab extension). It shows the encoded bytes the viewer
renders, exactly like ``ipywidgets.Image``, and sends back

* ``hover``: ``{"x": .., "y": ..}`` in displayed-picture pixels while the mouse
  moves over it (at most every 50 ms), ``None`` when it leaves;
* ``click``: ``{"x": .., "y": .., "n": ..}`` on a click (``n`` counts clicks,
  so clicking twice on one spot is two events);
* a ``{"event": "key", "key": ...}`` message for ArrowUp/ArrowDown/PageUp/
  PageDown while the picture has the keyboard focus (click it first).

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
  el.appendChild(box);
  let url = null;
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
  let pending = null, timer = null;
  function flush() {
    timer = null;
    model.set("hover", pending);
    model.save_changes();
  }
  img.addEventListener("mousemove", (ev) => {
    pending = position(ev);
    if (timer === null) timer = setTimeout(flush, model.get("throttle_ms"));
  });
  img.addEventListener("mouseleave", () => {
    pending = null;
    if (timer === null) timer = setTimeout(flush, model.get("throttle_ms"));
  });
  img.addEventListener("mousedown", () => box.focus());
  img.addEventListener("click", (ev) => {
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
  model.on("change:value", show);
  show();
  return () => { if (url) URL.revokeObjectURL(url); if (timer !== null) clearTimeout(timer); };
}
export default { render };
"""

_CSS = """
.radnb-canvas-box { display: inline-block; line-height: 0; outline: none; }
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

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._key_callbacks = []
        self.on_msg(self._on_custom_msg)

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
