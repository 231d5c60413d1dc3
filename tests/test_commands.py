"""The README's first command serves JupyterLab on the tutorials, headless and as root."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_dev_sh_lab_serves_the_notebooks(data_home, tmp_path):
    port, token = _free_port(), "radnb-test-token"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(RADNB_DATA=str(data_home), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"))
    log = open(tmp_path / "lab.log", "w+")
    proc = subprocess.Popen(
        ["bash", str(ROOT / "dev.sh"), "lab", "--ip=127.0.0.1", f"--port={port}",
         "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}"],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        listing, deadline = None, time.time() + 420  # first run generates the demo cohort
        while time.time() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(
                        f"http://127.0.0.1:{port}/api/contents?token={token}", timeout=5) as r:
                    listing = json.load(r)
                break
            except OSError:
                time.sleep(2)
        log.seek(0)
        output = log.read()
        assert listing is not None, f"JupyterLab did not come up; output:\n{output[-3000:]}"
        names = {item["name"] for item in listing["content"]}
        assert {"en", "zh"} <= names, names  # both languages side by side
        for lang in ("en", "zh"):
            with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/contents/{lang}?token={token}", timeout=10) as r:
                inside = {item["name"] for item in json.load(r)["content"]}
            assert {"00_welcome.ipynb", "01_data.ipynb"} <= inside, (lang, inside)
        assert f"http://127.0.0.1:{port}/lab?token=" in output  # the URL to open is printed
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
