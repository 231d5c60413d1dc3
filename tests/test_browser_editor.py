"""The mask editor as a user sees it: JupyterLab in headless Chromium, drawn with the mouse.

A small notebook opens ``radnb.segment.edit`` on a synthetic CT with a bright
lesion (anisotropic voxels). In the browser: pick Paint and drag a stroke,
pick Grow and click in the lesion, Undo, Save, then drag a threshold box. The
saved file must hold the stroke's voxels and nothing of the lesion, and the
picture must change after every step. Screenshots go to ``test-artifacts/browser``.
"""
from __future__ import annotations

import statistics

import numpy as np

from test_browser import browser_test, chromium_page, pixel_std, run_all_cells, running_lab, wait_text

NOTEBOOK = "editor.ipynb"
SHAPE, SPACING = (24, 96, 80), (0.9, 0.8, 2.5)  # numpy (z, y, x); SimpleITK spacing (x, y, z)
# a 12 mm radius sphere of 120 HU in 30 HU tissue: growing from a click finds exactly it
CODE = [
    "import numpy as np\nimport SimpleITK as sitk\nfrom radnb import segment",
    f"z, y, x = np.mgrid[:{SHAPE[0]}, :{SHAPE[1]}, :{SHAPE[2]}]\n"
    f"lesion = ((z - 12) * {SPACING[2]}) ** 2 + ((y - 56) * {SPACING[1]}) ** 2 "
    f"+ ((x - 40) * {SPACING[0]}) ** 2 < 12 ** 2\n"
    "image = sitk.GetImageFromArray(np.where(lesion, 120, 30).astype(np.int16))\n"
    f"image.SetSpacing({SPACING})",
    "editor = segment.edit(image, size=480, radius_mm=3)\neditor",
]


def write_notebook(path, code=CODE):
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in code])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))


def watch_picture(img):
    """Arm a promise resolving to the ms until the picture's ``src`` changes (null after 10 s)."""
    img.evaluate("""el => { window.__radnbDone = new Promise(resolve => {
        const t0 = performance.now();
        const obs = new MutationObserver(() => { obs.disconnect(); resolve(performance.now() - t0); });
        obs.observe(el, {attributes: true, attributeFilter: ['src']});
        setTimeout(() => { obs.disconnect(); resolve(null); }, 10000); }); }""")


def picture_change_ms(page):
    ms = page.evaluate("window.__radnbDone")
    return float("inf") if ms is None else float(ms)


def choose_tool(page, editor, name):
    editor.locator(".widget-toggle-buttons button", has_text=name).first.click()
    page.wait_for_timeout(400)  # the tool reaches the picture's model


def draw_stroke(page, img, fx0, fx1, fy, steps=12):
    """Drag from (fx0, fy) to (fx1, fy) (fractions of the picture); return ms to the new picture.

    The timer starts at the mouse release, when the stroke message leaves the browser.
    """
    box = img.bounding_box()
    x0, x1 = box["x"] + box["width"] * fx0, box["x"] + box["width"] * fx1
    y = box["y"] + box["height"] * fy
    page.mouse.move(x0, y)
    page.mouse.down()
    page.mouse.move(x1, y, steps=steps)
    watch_picture(img)
    page.mouse.up()
    return picture_change_ms(page)


def open_editor(page, base, token, n_code=len(CODE)):
    """Run the notebook; return the editor widget and its picture (Playwright locators)."""
    assert run_all_cells(page, base, token, name=NOTEBOOK, timeout_s=240) == n_code
    outputs = " ".join(page.locator(".jp-OutputArea-output").all_inner_texts())
    assert "Traceback" not in outputs and "Error displaying widget" not in outputs
    editor = page.locator(".radnb-editor").first
    editor.scroll_into_view_if_needed()
    img = editor.locator("img.radnb-view-image").first
    img.wait_for(state="visible")
    return editor, img


def _shot(locator, path):
    locator.page.wait_for_timeout(250)
    return locator.screenshot(path=str(path))


def _changed(a, b):
    from io import BytesIO

    from PIL import Image

    pa = np.asarray(Image.open(BytesIO(a)).convert("RGB"), dtype=int)
    pb = np.asarray(Image.open(BytesIO(b)).convert("RGB"), dtype=int)
    return pa.shape == pb.shape and (np.abs(pa - pb).sum(axis=2) > 60).mean() > 0.002


@browser_test(timeout=900)
def test_editor_draw_grow_undo_save_in_jupyterlab(tmp_path, artifacts_dir):
    import SimpleITK as sitk

    shots = artifacts_dir / "browser"
    shots.mkdir(exist_ok=True)
    work = tmp_path / "lab" / "work"
    work.mkdir(parents=True)
    write_notebook(work / NOTEBOOK)
    with running_lab(work, notebooks=()) as (base, token), chromium_page() as page:
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        editor, img = open_editor(page, base, token)
        status = editor.locator(".radnb-editor-status").first
        before = _shot(img, shots / "editor_before.png")
        assert pixel_std(before) > 3, "the editor's picture is blank"

        choose_tool(page, editor, "Paint")
        ms = [draw_stroke(page, img, 0.2, 0.8, 0.15)]
        wait_text(status, lambda t: "paint:" in t)
        stroke = _shot(img, shots / "editor_stroke.png")
        assert _changed(before, stroke), "the stroke did not change the picture"
        for fy in (0.3, 0.35):  # two more strokes for the latency figure, then undo them
            ms.append(draw_stroke(page, img, 0.1, 0.4, fy))
        assert all(t < 10_000 for t in ms), f"strokes without a new picture: {ms}"
        (shots / "editor_stroke_ms.txt").write_text(
            f"median {statistics.median(ms):.1f} ms from mouse release to the new picture: "
            + ", ".join(f"{t:.0f}" for t in ms) + "\n")
        for _ in range(2):
            watch_picture(img)
            editor.locator("button", has_text="Undo").first.click()
            assert picture_change_ms(page) < 10_000

        choose_tool(page, editor, "Grow")
        box = img.bounding_box()
        watch_picture(img)
        # the lesion centre: row 56 of 96, column 40 of 80 of the axial slice
        page.mouse.click(box["x"] + box["width"] * 40.5 / 80, box["y"] + box["height"] * 56.5 / 96)
        assert picture_change_ms(page) < 10_000
        wait_text(status, lambda t: "grow:" in t)
        grown = _shot(img, shots / "editor_grow.png")
        assert _changed(stroke, grown), "region growing did not change the picture"
        editor.screenshot(path=str(shots / "editor_widget.png"))

        watch_picture(img)
        editor.locator("button", has_text="Undo").first.click()
        assert picture_change_ms(page) < 10_000
        wait_text(status, lambda t: "undid grow" in t)
        undone = _shot(img, shots / "editor_undo.png")
        assert _changed(grown, undone)

        editor.locator("input[type='text']").last.fill("drawn.nii.gz")
        editor.locator("input[type='text']").last.press("Enter")
        page.wait_for_timeout(300)
        editor.locator("button", has_text="Save").first.click()
        wait_text(status, lambda t: "saved" in t)

        # after saving: a box over the lesion keeps its bright voxels (Box range) on this slice
        choose_tool(page, editor, "Box threshold")
        box = img.bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.4)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.8, steps=8)
        watch_picture(img)
        page.mouse.up()
        assert picture_change_ms(page) < 10_000
        boxed = wait_text(status, lambda t: "box threshold:" in t)
        assert int(boxed.split("box threshold:")[1].split()[0]) > 100
        assert _changed(undone, _shot(img, shots / "editor_box.png"))
        assert not errors, f"JavaScript errors on the page: {errors}"

    saved = sitk.GetArrayFromImage(sitk.ReadImage(str(work / "drawn.nii.gz")))
    z, y, x = np.mgrid[:SHAPE[0], :SHAPE[1], :SHAPE[2]]
    lesion = (((z - 12) * SPACING[2]) ** 2 + ((y - 56) * SPACING[1]) ** 2
              + ((x - 40) * SPACING[0]) ** 2 < 12 ** 2)
    zz, yy, xx = np.nonzero(saved)
    assert len(zz) > 0 and not (saved.astype(bool) & lesion).any(), "grow was not undone"
    assert set(zz.tolist()) == {12}  # the displayed axial slice (the volume's centre)
    # the stroke: 15 % down the picture (row 14.4 of 96), 20 % to 80 % across, radius 3 mm
    assert abs(yy.mean() - 0.15 * SHAPE[1]) < 1.5 and yy.max() - yy.min() <= 2 * 3 / SPACING[1] + 1
    assert xx.min() <= 0.2 * SHAPE[2] - 1 and xx.max() >= 0.8 * SHAPE[2] - 1
    expected = (0.6 * SHAPE[2] * SPACING[0] * 6 + np.pi * 9) / (SPACING[0] * SPACING[1])
    assert 0.8 * expected < len(zz) < 1.2 * expected  # a 6 mm wide capsule, in voxels
