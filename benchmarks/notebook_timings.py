"""Measure each tutorial for the workshop schedule: ``python benchmarks/notebook_timings.py``.

For every notebook (``notebooks/en/`` when it exists, else ``notebooks/``), in course order:

* **execution seconds**: the notebook run top to bottom in a fresh kernel (nbclient, as
  ``./dev.sh notebooks`` and the test suite run it);
* **peak memory**: the kernel's own peak resident memory (``VmHWM`` from ``/proc``, Linux) and
  the peak of kernel + child processes (Dask workers, process pools), sampled every 0.2 s;
* **CPU seconds** of the kernel and its children (what a shared server must provide per user);
* **markdown words** and **exercises** (counted from the "Exercise" sections: numbered
  questions, else the number of hidden ``<details>`` solutions).

Also the resident memory of an idle JupyterLab server (the other per-user process on a
JupyterHub). The plain alternative it stands for is a stopwatch in a lecture hall. Data: a fresh
``RADNB_DATA`` folder (``--data-home`` to reuse one) prepared like a course machine: ``radnb
demo`` first (timed separately, as ``./dev.sh lab`` and Binder's ``postBuild`` do it before class),
and the real sample data linked from ``../shared/data`` (or ``RADNB_SHARED_DATA``) when present.

Writes the table to ``--out`` (TSV, default ``docs/workshop/notebook_timings.tsv``, the table the kit quotes). Last line:
``notebooks=<n> total_exec_s=<s> slowest=<name> slowest_s=<s> peak_kernel_rss_mb=<mb>
peak_tree_rss_mb=<mb> heaviest=<name> md_words=<n> exercises=<n> demo_prepare_s=<s> total_cpu_s=<s>
server_rss_mb=<mb> cores=<n> mean_load_1min=<x> data_home_mb=<mb> failed=<names or none>``, also
written next to the table (``notebook_timings.summary.txt``). The 1-minute load average
at the end of each notebook is recorded: on a shared machine the times include waiting for CPU.
"""
from __future__ import annotations

import argparse
import csv
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("RADNB_SHARED_DATA", ROOT.parent / "shared" / "data"))
COLUMNS = ["notebook", "exec_s", "cpu_s", "peak_kernel_rss_mb", "peak_tree_rss_mb", "md_words",
           "exercises", "load_1min", "status"]


def notebook_folder(root: Path = ROOT) -> Path:
    """``notebooks/en/`` (bilingual layout) when it holds notebooks, else ``notebooks/``."""
    english = root / "notebooks" / "en"
    if english.is_dir() and any(english.glob("[0-9][0-9]_*.ipynb")):
        return english
    return root / "notebooks"


def prose_counts(nb) -> tuple[int, int]:
    """Words of markdown and number of exercises of a notebook (nbformat node or dict)."""
    cells = [("".join(c["source"]) if isinstance(c["source"], list) else c["source"])
             for c in nb["cells"] if c["cell_type"] == "markdown"]
    words = sum(len(re.findall(r"\w+", text)) for text in cells)
    section = []  # markdown of the exercise sections, code blocks removed
    in_exercises = False
    for text in cells:
        text = re.sub(r"```.*?```", "", text, flags=re.S)  # '# 1.' in a solution's code is no heading
        starts_here = re.search(r"^#{1,6} .*(exercise|练习)", text, flags=re.I | re.M)
        for heading in re.findall(r"^#{1,6} +(.*)$", text, flags=re.M):
            in_exercises = bool(re.search(r"exercise|练习", heading, flags=re.I))
        if in_exercises or starts_here:
            section.append(text[starts_here.start():] if starts_here else text)
    text = "\n".join(section)
    visible = re.sub(r"<details>.*?</details>", "", text, flags=re.S)
    questions = re.findall(r"^\s*(?:\*\*)?\d+\.(?:\*\*)?\s", visible, flags=re.M)
    exercises = len(questions) or text.count("<details>")
    return words, exercises


def _sample_memory(pid: int, stop: threading.Event, peak: dict) -> None:
    """Every 0.2 s: RSS of the kernel and all its children; their CPU seconds by process id."""
    import psutil

    try:
        kernel = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    cpu = peak.setdefault("cpu", {})
    while not stop.is_set():
        try:
            procs = [kernel] + kernel.children(recursive=True)
        except psutil.NoSuchProcess:
            return
        total = 0
        for p in procs:
            try:
                with p.oneshot():
                    total += p.memory_info().rss
                    times = p.cpu_times()
                    cpu[p.pid] = times.user + times.system
            except psutil.NoSuchProcess:
                pass
        peak["tree"] = max(peak.get("tree", 0), total)
        peak["kernel"] = max(peak.get("kernel", 0), _vmhwm(pid) or 0)
        stop.wait(0.2)


def _vmhwm(pid: int) -> int | None:
    """Peak resident set size of a process in bytes (Linux ``/proc/<pid>/status``)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def run_notebook(path: Path, timeout: int) -> dict:
    """Execute one notebook in a fresh kernel; seconds, peak memory, and any error."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    peak: dict = {}
    stop = threading.Event()
    threads = []

    def started(**_):
        pid = client.km.provisioner.process.pid
        thread = threading.Thread(target=_sample_memory, args=(pid, stop, peak), daemon=True)
        thread.start()
        threads.append(thread)

    client.on_notebook_start = started
    status = "ok"
    start = time.perf_counter()
    try:
        client.execute()
    except Exception as exc:  # one failing notebook must not stop the measurement of the others
        status = f"error: {type(exc).__name__}"
    elapsed = time.perf_counter() - start
    stop.set()
    for thread in threads:
        thread.join(timeout=5)
    words, exercises = prose_counts(nb)
    mb = 1024 * 1024
    return {"notebook": path.stem, "exec_s": round(elapsed, 1),
            "cpu_s": round(sum(peak.get("cpu", {}).values()), 1),
            "peak_kernel_rss_mb": round(peak.get("kernel", 0) / mb),
            # the 0.2 s samples can miss the kernel's own peak, which /proc records exactly
            "peak_tree_rss_mb": round(max(peak.get("tree", 0), peak.get("kernel", 0)) / mb),
            "md_words": words, "exercises": exercises,
            "load_1min": round(os.getloadavg()[0], 1), "status": status}


def prepare_data_home(home: Path) -> float:
    """Link the shared real data (as the test suite does) and generate the demo cohort."""
    home.mkdir(parents=True, exist_ok=True)
    links = {"pyradiomics": SHARED / "pyradiomics", "ibsi": SHARED / "ibsi",
             "ibsi_sts": SHARED / "ibsi_sts"}
    for name, source in links.items():
        if source.is_dir() and not (home / name).exists():
            (home / name).symlink_to(source, target_is_directory=True)
    tables = sorted((SHARED / "radmlbench").glob("*.gz")) + sorted((SHARED / "cohorts").glob("*.gz"))
    if tables:
        (home / "radmlbench").mkdir(exist_ok=True)
    for table in tables:
        if not (home / "radmlbench" / table.name).exists():
            (home / "radmlbench" / table.name).symlink_to(table)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "radnb", "demo", "--dir", str(home)], check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def jupyterlab_server_rss() -> float:
    """Resident memory (MB) of an idle JupyterLab server, the other per-user process of a hub."""
    import socket
    import urllib.request

    import psutil

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
           "--ServerApp.token=timings", f"--ServerApp.root_dir={notebook_folder()}"]
    if hasattr(os, "getuid") and os.getuid() == 0:
        cmd.append("--allow-root")
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/lab?token=timings"  # renders the page: extensions loaded
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(url, timeout=5).read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    return float("nan")
                time.sleep(0.5)
        time.sleep(2)
        return psutil.Process(server.pid).memory_info().rss / 1024 / 1024
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def data_home_mb(home: Path) -> float:
    """Disk space (MB) a user's data folder takes after the course (symlinked shared data excluded)."""
    total = 0
    for folder, _, files in os.walk(home):  # os.walk does not enter symlinked folders
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                total += os.path.getsize(path)
    return total / 1024 / 1024


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", dest="only", default=None,
                        help="run only notebooks whose name contains this text")
    parser.add_argument("--data-home", default=None,
                        help="RADNB_DATA folder to use (default: a fresh temporary folder)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell")
    parser.add_argument("--no-server", action="store_true",
                        help="skip measuring the memory of an idle JupyterLab server")
    parser.add_argument("--out", default=str(ROOT / "docs" / "workshop" / "notebook_timings.tsv"),
                        help="where to write the per-notebook table (TSV)")
    args = parser.parse_args(argv)

    home = Path(args.data_home) if args.data_home else Path(tempfile.mkdtemp(prefix="radnb-timings-"))
    os.environ["RADNB_DATA"] = str(home)
    prepare_s = prepare_data_home(home)
    server_mb = float("nan") if args.no_server else jupyterlab_server_rss()
    folder = notebook_folder()
    paths = [p for p in sorted(folder.glob("[0-9][0-9]_*.ipynb"))
             if args.only is None or args.only in p.stem]
    if not paths:
        print(f"no notebooks found in {folder}", file=sys.stderr)
        return 1
    rows = []
    for path in paths:
        row = run_notebook(path, args.timeout)
        rows.append(row)
        print("\t".join(str(row[c]) for c in COLUMNS), file=sys.stderr, flush=True)
    with open(args.out, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, COLUMNS, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    slowest = max(rows, key=lambda r: r["exec_s"])
    heaviest = max(rows, key=lambda r: r["peak_tree_rss_mb"])
    failed = [r["notebook"] for r in rows if r["status"] != "ok"]
    summary = (f"notebooks={len(rows)} total_exec_s={sum(r['exec_s'] for r in rows):.0f} "
               f"slowest={slowest['notebook']} slowest_s={slowest['exec_s']:.0f} "
               f"peak_kernel_rss_mb={max(r['peak_kernel_rss_mb'] for r in rows)} "
               f"peak_tree_rss_mb={heaviest['peak_tree_rss_mb']} heaviest={heaviest['notebook']} "
               f"md_words={sum(r['md_words'] for r in rows)} "
               f"exercises={sum(r['exercises'] for r in rows)} demo_prepare_s={prepare_s:.0f} "
               f"total_cpu_s={sum(r['cpu_s'] for r in rows):.0f} server_rss_mb={server_mb:.0f} "
               f"cores={os.cpu_count()} mean_load_1min={sum(r['load_1min'] for r in rows) / len(rows):.1f} "
               f"data_home_mb={data_home_mb(home):.0f} failed={','.join(failed) or 'none'}")
    Path(args.out).with_suffix(".summary.txt").write_text(summary + "\n", encoding="utf-8")
    print(summary)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
