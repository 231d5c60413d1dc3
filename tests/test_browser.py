"""The viewer as a user sees it: JupyterLab in headless Chromium runs 02_browse.

Starts a private JupyterLab (127.0.0.1, free port, token, fresh settings,
workspace and runtime folders) on a *copy* of the notebook, so nothing is
saved into the repository, runs all cells through the Run menu, and checks
that the viewer shows a real picture that changes when the slice slider is
moved with the keyboard, and that the mouse over the picture reads out and
picks voxels. Screenshots go to ``test-artifacts/browser``.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
NOTEBOOK = "02_browse.ipynb"
# render every cell (no virtual scrolling) and no news / update pop-ups over the page
_LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}


def browser_test(timeout):
    """Marks of a real-browser test: browser, slow, a time limit, and skips that say what to do."""
    import importlib.util

    marks = [
        pytest.mark.browser,
        pytest.mark.slow,
        pytest.mark.timeout(timeout),
        pytest.mark.skipif(not CHROMIUM.exists(), reason=(
            "Chromium not found at /usr/bin/chromium: install it with `apt-get install chromium` "
            "(.ci/run does this)")),
        pytest.mark.skipif(importlib.util.find_spec("playwright") is None, reason=(
            "playwright not installed: install radnb's test extra (uv sync --all-extras); "
            "it drives the system Chromium, no `playwright install` needed")),
    ]

    def decorate(func):
        for mark in reversed(marks):
            func = mark(func)
        return func

    return decorate


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(url, token, method="GET"):
    req = urllib.request.Request(url, method=method, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        body = resp.read()
    return json.loads(body) if body else None


@contextlib.contextmanager
def running_lab(workdir: Path, notebooks=(NOTEBOOK,), env=None):
    """Start JupyterLab on a copy of ``notebooks`` in ``workdir``; yield ``(base_url, token)``."""
    workdir.mkdir(parents=True, exist_ok=True)
    for name in notebooks:
        shutil.copy(ROOT / "notebooks" / "en" / name, workdir / name)
    port, token = _free_port(), secrets.token_hex(16)
    lab_env = dict(os.environ, **(env or {}))
    for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                     ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                     ("IPYTHONDIR", "ipython")):
        (workdir.parent / sub).mkdir(exist_ok=True)
        lab_env[var] = str(workdir.parent / sub)
    settings = workdir.parent / "settings"
    for plugin, values in _LAB_SETTINGS.items():
        target = settings / f"{plugin}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
    # the notebook copy is not beside the shared data folder: tell it where that is
    lab_env.setdefault("RADNB_SHARED_DATA", str(ROOT.parent / "shared" / "data"))
    lab_env["RADNB_OFFLINE"] = "1"  # no 3D viewer download attempts during the test
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={workdir}", "--ServerApp.port_retries=0",
           "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(workdir.parent / "jupyterlab.log", "wb")
    proc = subprocess.Popen(cmd, env=lab_env, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                _api(f"{base}/api/status", token)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("JupyterLab did not start; see " + str(log.name))
                time.sleep(0.5)
        yield base, token
    finally:
        with contextlib.suppress(OSError):  # shut kernels down cleanly before the server
            for session in _api(f"{base}/api/sessions", token) or []:
                _api(f"{base}/api/sessions/{session['id']}", token, method="DELETE")
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


@contextlib.contextmanager
def chromium_page(width=1400, height=1000):
    """A headless Chromium page (the system browser; never ``playwright install``)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(60_000)
            yield page
        finally:
            browser.close()


def wait_kernel_idle(base, token, timeout_s=120):
    """Wait until the notebook's kernel exists and reports idle (REST API)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        sessions = _api(f"{base}/api/sessions", token) or []
        if sessions and all(s["kernel"]["execution_state"] == "idle" for s in sessions):
            return
        time.sleep(0.5)
    raise TimeoutError(f"kernel not idle after {timeout_s} s: {sessions}")


def run_all_cells(page, base, token, name=NOTEBOOK, timeout_s=300):
    """Open ``name`` in JupyterLab, run all cells from the Run menu, wait until done."""
    page.goto(f"{base}/lab/tree/{name}?token={token}&reset")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=120_000)
    wait_kernel_idle(base, token)
    page.wait_for_selector(".jp-NotebookPanel .jp-CodeCell", timeout=60_000)
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    n_code = page.locator(".jp-CodeCell").count()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        prompts = page.locator(".jp-CodeCell .jp-InputArea-prompt").all_inner_texts()
        done = [p for p in prompts if p.strip() not in ("[ ]:", "[*]:", "")]
        if len(done) == n_code:
            wait_kernel_idle(base, token)
            return n_code
        time.sleep(1)
    raise TimeoutError(f"cells still running after {timeout_s} s: {prompts}")


def pixel_std(png_bytes):
    from io import BytesIO

    from PIL import Image

    return float(np.asarray(Image.open(BytesIO(png_bytes)).convert("L"), dtype=float).std())


def slider_latencies(page, viewer_index=0, steps=15):
    """Milliseconds from an arrow key on the slice slider to the new picture, per move.

    Moves alternate right/left so the slider never runs into its end; a move
    whose picture does not change within 10 s counts as ``inf``.
    """
    viewer = page.locator(".radnb-viewer").nth(viewer_index)
    handle = viewer.locator(".widget-slider", has_text="Slice").locator(".noUi-handle").first
    img = viewer.locator("img.radnb-view-image").first
    handle.scroll_into_view_if_needed()
    handle.focus()
    times = []
    for i in range(steps):
        img.evaluate("""el => { window.__radnbDone = new Promise(resolve => {
            const t0 = performance.now();
            const obs = new MutationObserver(() => { obs.disconnect(); resolve(performance.now() - t0); });
            obs.observe(el, {attributes: true, attributeFilter: ['src']});
            setTimeout(() => { obs.disconnect(); resolve(null); }, 10000); }); }""")
        page.keyboard.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
        ms = page.evaluate("window.__radnbDone")
        times.append(float("inf") if ms is None else ms)
    return times


def wait_text(locator, predicate, timeout_s=10):
    """Inner text of ``locator`` once ``predicate(text)`` holds (AssertionError after timeout)."""
    deadline, text = time.monotonic() + timeout_s, ""
    while time.monotonic() < deadline:
        text = locator.inner_text()
        if predicate(text):
            return text
        time.sleep(0.1)
    raise AssertionError(f"text never matched within {timeout_s} s: {text!r}")


def check_mouse_and_keys_on_picture(page, viewer, img, shots):
    """Hover shows voxel/mm/HU under the cursor, a click picks the point, arrows step slices."""
    hover = viewer.locator(".radnb-hover-readout").first
    point = viewer.locator(".radnb-point-readout").first
    img.scroll_into_view_if_needed()
    box = img.bounding_box()
    before = hover.inner_text()
    page.mouse.move(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.5)
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5, steps=3)
    first = wait_text(hover, lambda t: t != before and "voxel (" in t and "HU" in t)
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.3, steps=3)
    wait_text(hover, lambda t: t != first and "voxel (" in t and "HU" in t)
    picked_before = point.inner_text()
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.35)
    picked = wait_text(point, lambda t: t != picked_before and "voxel (" in t)
    assert "Picked point" in picked
    page.wait_for_timeout(300)
    viewer.screenshot(path=str(shots / "viewer_hover_click.png"))
    src = img.get_attribute("src")  # the click focused the picture: Arrow Up is the next slice
    page.keyboard.press("ArrowUp")
    deadline = time.monotonic() + 10
    while img.get_attribute("src") == src and time.monotonic() < deadline:
        time.sleep(0.1)
    assert img.get_attribute("src") != src, "Arrow Up on the focused picture did not step"


@browser_test(timeout=900)
def test_browse_notebook_in_jupyterlab(tmp_path, data_home, demo_manifest, artifacts_dir):
    shots = artifacts_dir / "browser"
    shots.mkdir(exist_ok=True)
    with running_lab(tmp_path / "lab" / "work") as (base, token), chromium_page() as page:
        n_code = run_all_cells(page, base, token)
        assert n_code >= 10
        page.screenshot(path=str(shots / "02_browse_after_run.png"))
        outputs = " ".join(page.locator(".jp-OutputArea-output").all_inner_texts())
        assert "Traceback" not in outputs and "Error displaying widget" not in outputs
        assert "Loading widget" not in outputs
        assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
                            ).filter(has_text="Error").count() == 0

        viewer = page.locator(".radnb-viewer").first
        viewer.scroll_into_view_if_needed()
        img = viewer.locator("img.radnb-view-image").first
        img.wait_for(state="visible")
        before = img.screenshot(path=str(shots / "viewer_before.png"))
        assert pixel_std(before) > 3, "the viewer's picture is blank (uniform)"
        viewer.screenshot(path=str(shots / "viewer_widget.png"))

        # move the slice slider with the keyboard, as a user would
        src_before = img.get_attribute("src")
        latencies = slider_latencies(page, steps=9)  # odd: ends one slice further on
        page.wait_for_timeout(300)
        assert img.get_attribute("src") != src_before
        assert all(t < 10_000 for t in latencies), f"slider moves without a new picture: {latencies}"
        after = img.screenshot(path=str(shots / "viewer_after_slider.png"))
        assert after != before and pixel_std(after) > 3
        (shots / "slider_latency_ms.txt").write_text(
            f"median {statistics.median(latencies):.1f} ms over {len(latencies)} moves: "
            + ", ".join(f"{t:.0f}" for t in latencies) + "\n")

        check_mouse_and_keys_on_picture(page, viewer, img, shots)

        gallery = page.locator(".radnb-gallery").first
        gallery.scroll_into_view_if_needed()
        assert gallery.locator("img").count() == 120
        gallery.screenshot(path=str(shots / "gallery.png"))
        problems = page.locator(".radnb-gallery").nth(1)
        problems.scroll_into_view_if_needed()
        assert "could not show" in problems.inner_text()  # the unreadable case is a red tile
        problems.screenshot(path=str(shots / "gallery_problems.png"))

        comparison = page.locator(".radnb-viewer").nth(1)  # compare(): two readers
        comparison.scroll_into_view_if_needed()
        assert "Dice" in comparison.inner_text() and "reader 2" in comparison.inner_text()
        comparison.screenshot(path=str(shots / "compare_readers.png"))


# Software WebGL (SwiftShader through ANGLE) instead of --disable-gpu: niivue draws with WebGL2.
WEBGL_ARGS = [a for a in CHROMIUM_ARGS if a != "--disable-gpu"] + [
    "--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist"]
VIEW3D_NOTEBOOK = "view3d.ipynb"
# a tiny synthetic CT: a soft-tissue box with a brighter sphere as lesion, 2 mm slices
_VIEW3D_CODE = [
    "import numpy as np\nimport SimpleITK as sitk\nfrom radnb import view",
    "z, y, x = np.mgrid[:30, :48, :56]\n"
    "lesion = (z - 15) ** 2 * 4 + (y - 24) ** 2 + (x - 30) ** 2 < 12 ** 2\n"
    "body = np.where((y > 4) & (y < 44) & (x > 4) & (x < 52), 40, -1000) + 80 * lesion\n"
    "image = sitk.GetImageFromArray(body.astype(np.int16))\n"
    "image.SetSpacing((1.0, 1.0, 2.0))\n"
    "mask = sitk.GetImageFromArray(lesion.astype(np.uint8))\n"
    "mask.CopyInformation(image)",
    "view.view3d(image, mask)",
]


def _write_view3d_notebook(path):
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in _VIEW3D_CODE])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, str(path))


@browser_test(timeout=600)
def test_view3d_niivue_renders_offline(tmp_path, artifacts_dir):
    from playwright.sync_api import sync_playwright

    shots = artifacts_dir / "browser"
    shots.mkdir(exist_ok=True)
    work = tmp_path / "lab" / "work"
    work.mkdir(parents=True)
    _write_view3d_notebook(work / VIEW3D_NOTEBOOK)
    # running_lab sets RADNB_OFFLINE=1: the view must render from the installed package alone
    with running_lab(work, notebooks=()) as (base, token), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=WEBGL_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.set_default_timeout(60_000)
            errors = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            assert page.evaluate("!!document.createElement('canvas').getContext('webgl2')"), (
                "no WebGL2 in headless Chromium with SwiftShader")
            assert run_all_cells(page, base, token, name=VIEW3D_NOTEBOOK, timeout_s=180) == 3
            outputs = " ".join(page.locator(".jp-OutputArea-output").all_inner_texts())
            assert "Traceback" not in outputs and "Error displaying widget" not in outputs
            assert "3D view not available" not in outputs  # niivue, not the 2D fallback
            canvas = page.locator(".jp-OutputArea-output canvas").first
            canvas.wait_for(state="visible")
            canvas.scroll_into_view_if_needed()
            box = canvas.bounding_box()
            assert box["width"] > 100 and box["height"] > 100
            # niivue has drawn once the volumes are loaded: wait for non-uniform pixels
            deadline, std = time.monotonic() + 60, 0.0
            while time.monotonic() < deadline:
                shot = canvas.screenshot()
                std = pixel_std(shot)
                if std > 5:
                    break
                page.wait_for_timeout(500)
            (shots / "view3d.png").write_bytes(shot)
            assert std > 5, f"the niivue canvas is blank (pixel std {std:.2f})"
            # the mask is drawn: half-transparent red over grey (not the pure red crosshair)
            from io import BytesIO

            from PIL import Image

            rgb = np.asarray(Image.open(BytesIO(shot)).convert("RGB"), dtype=int)
            r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
            pink = (r > g + 60) & (g > 40) & (abs(g - b) < 30)
            assert pink.mean() > 0.01, "the mask overlay is not drawn"
            assert not errors, f"JavaScript errors on the page: {errors}"
        finally:
            browser.close()
