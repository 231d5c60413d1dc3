"""How fast a brush stroke shows up in the mask editor: ``python benchmarks/editor.py [--no-browser]``.

1. Kernel side, 512 x 512 CT (lung1 from the shared data, else synthetic): one
   stroke message (20 points) applied to the label volume, the slice re-rendered
   and JPEG-encoded, as ``editor.handle(message)`` does when the browser sends it.
   The plain alternative, sending the drawn slice as an image, is sized too.
2. In real Chromium (JupyterLab, ``radnb.segment.edit`` on the same CT), strokes
   dragged with the mouse:
   * preview: from a mouse move to the next frame, in which the drawing layer
     shows the new piece of the stroke (no kernel round trip);
   * round trip: from releasing the mouse to the kernel's new picture with the
     stroke applied to the mask.

Target: the picture updates within 50 ms (median). Last line:
``stroke_update_ms_p50=<preview ms> stroke_bytes=<n> roundtrip_ms_p50=<ms>
kernel_ms_p50=<ms> slice_png_bytes=<n>``.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

from viewer import ct_case  # noqa: E402  (the viewer benchmark's CT)


def stroke_message(rng, width, height, n=20):
    """A stroke of ``n`` points across the picture, as the browser sends it."""
    x0, y0 = rng.uniform(0.1, 0.5) * width, rng.uniform(0.1, 0.9) * height
    xs = x0 + np.linspace(0, 0.4 * width, n)
    ys = y0 + rng.normal(0, 2, n).cumsum()
    points = [round(float(v), 1) for x, y in zip(xs, np.clip(ys, 0, height - 1)) for v in (x, y)]
    return {"event": "stroke", "points": points, "erase": False}


def bench_kernel(repeats=60):
    from radnb import segment
    from radnb.view import _render

    image, _, name = ct_case()
    editor = segment.edit(image, size=512, radius_mm=3)
    height, width = editor.render_array().shape[:2]
    rng = np.random.default_rng(0)
    times, sizes = [], []
    for _ in range(repeats):
        message = stroke_message(rng, width, height)
        start = time.perf_counter()
        editor.handle(message)  # paint in mm + render + JPEG, what a stroke costs the kernel
        times.append((time.perf_counter() - start) * 1000)
        sizes.append(editor.last_message_bytes)
    label_slice = _render.take_slice(editor._labels, editor.plane, editor.slice)
    png = len(_render.encode((label_slice > 0).astype(np.uint8) * 255, "png"))
    print(f"kernel ({name}, {image.GetSize()[0]}x{image.GetSize()[1]}x{image.GetSize()[2]}): "
          f"stroke applied + picture encoded, median {statistics.median(times):.1f} ms, "
          f"p95 {np.percentile(times, 95):.1f} ms; stroke message {int(statistics.median(sizes))} "
          f"bytes vs {png} bytes for the drawn slice as a PNG mask")
    return statistics.median(times), int(statistics.median(sizes)), png


_PREVIEW_PROBE = """() => { window.__radnbPreview = [];
  window.addEventListener("mousemove", ev => { if (!ev.buttons) return;
    const t = ev.timeStamp;
    requestAnimationFrame(() => window.__radnbPreview.push(performance.now() - t)); }, true); }"""


def bench_browser(strokes=15):
    if not Path("/usr/bin/chromium").exists():
        print("browser: skipped (Chromium not found at /usr/bin/chromium)")
        return float("nan"), float("nan")
    import SimpleITK as sitk
    from test_browser import chromium_page, running_lab
    from test_browser_editor import (NOTEBOOK, choose_tool, draw_stroke, open_editor,
                                     write_notebook)

    image, _, _ = ct_case()
    with tempfile.TemporaryDirectory(prefix="radnb-bench-") as tmp:
        work = Path(tmp) / "lab" / "work"
        work.mkdir(parents=True)
        sitk.WriteImage(image, str(work / "ct.nii.gz"))
        code = ["import SimpleITK as sitk\nfrom radnb import segment",
                "editor = segment.edit(sitk.ReadImage('ct.nii.gz'), size=512, radius_mm=3)\neditor"]
        write_notebook(work / NOTEBOOK, code)
        with running_lab(work, notebooks=()) as (base, token), chromium_page() as page:
            editor, img = open_editor(page, base, token, n_code=len(code))
            choose_tool(page, editor, "Paint")
            page.evaluate(_PREVIEW_PROBE)
            rng = np.random.default_rng(1)
            roundtrip = [draw_stroke(page, img, *sorted(rng.uniform(0.1, 0.9, 2)),
                                     rng.uniform(0.1, 0.9)) for _ in range(strokes)]
            preview = page.evaluate("window.__radnbPreview")
    pre, rt = statistics.median(preview), statistics.median(roundtrip)
    print(f"browser: stroke preview (mouse move -> next frame) median {pre:.1f} ms over "
          f"{len(preview)} moves; mouse release -> kernel's new picture median {rt:.1f} ms "
          f"over {strokes} strokes (min {min(roundtrip):.0f}, max {max(roundtrip):.0f})")
    return pre, rt


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium measurement")
    args = parser.parse_args()
    kernel_ms, nbytes, png = bench_kernel()
    preview, roundtrip = (float("nan"),) * 2 if args.no_browser else bench_browser()
    print("stroke_update = what the user sees while drawing (the drawing layer); "
          "roundtrip = until the kernel's picture shows the mask with the stroke")
    print(f"stroke_update_ms_p50={preview:.1f} stroke_bytes={nbytes} roundtrip_ms_p50={roundtrip:.1f} "
          f"kernel_ms_p50={kernel_ms:.1f} slice_png_bytes={png}")


if __name__ == "__main__":
    main()
