"""No lost or stale results: dead workers, runaway cases, unwritable caches, changed files.

Everything here is real: real loky worker processes killed with a real SIGKILL
(as the out-of-memory killer does), real pyradiomics, real files. A named pipe
(FIFO) stands in for an image whose reading never ends (a stalled network
share): the worker that opens it blocks until someone writes, which lets a test
find exactly that worker and kill it, or leave it hanging to test the time limit.
"""
from __future__ import annotations

import os
import signal
import threading
import time
import warnings

import numpy as np
import pandas as pd
import pytest

from radnb.extract import extract_features
from test_extract import TINY, write_tiny_cases

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX named pipes")


def _quiet_extract(manifest, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return extract_features(manifest, params=TINY, progress=False, **kwargs)


def _readers_of(path):
    """Processes other than this one holding ``path`` open (from /proc)."""
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        if int(pid) == os.getpid():
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == str(path):
                    pids.append(int(pid))
                    break
            except OSError:
                continue
    return pids


def _kill_whoever_reads(fifo, stop, killed):
    """Wait for a process to open ``fifo``, then SIGKILL it (like the OOM killer); repeat."""
    while not stop.is_set():
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)  # succeeds once a reader has it open
        except OSError:
            time.sleep(0.02)
            continue
        try:
            for _ in range(100):
                pids = _readers_of(fifo)
                if pids:
                    break
                time.sleep(0.01)
            for pid in pids:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            time.sleep(0.2)
        finally:
            os.close(fd)


@pytest.fixture
def cases(tmp_path):
    manifest = write_tiny_cases(tmp_path / "data", n=5, seed=1)
    alone = _quiet_extract(manifest, cache_dir=tmp_path / "alone", n_jobs=1)
    assert alone.errors.empty
    return manifest, alone.features


def _with_fifo_case(manifest, tmp_path, at=2):
    fifo = tmp_path / "data" / "stalled_image.nrrd"
    os.mkfifo(fifo)
    bad = manifest.copy()
    bad.loc[at, "image"] = str(fifo)
    bad.loc[at, "case_id"] = "stalled"
    return bad, fifo


@pytest.mark.slow
def test_a_killed_worker_fails_only_its_own_case(cases, tmp_path):
    manifest, reference = cases
    bad, fifo = _with_fifo_case(manifest, tmp_path)
    stop, killed = threading.Event(), []
    killer = threading.Thread(target=_kill_whoever_reads, args=(fifo, stop, killed), daemon=True)
    killer.start()
    try:
        res = _quiet_extract(bad, cache_dir=tmp_path / "c", n_jobs=2, time_limit=120)
    finally:
        stop.set()
        killer.join(5)
    assert len(killed) >= 2  # in the pool, then alone: the second death names the case
    assert res.errors.case_id.tolist() == ["stalled"]
    err = res.errors.iloc[0]
    assert err.stage == "worker" and "stopped its worker process" in err.message
    assert "Traceback" not in err.message and "n_jobs" in err.message
    good = reference[reference.case_id != "c2"].reset_index(drop=True)
    pd.testing.assert_frame_equal(res.features.reset_index(drop=True), good)


@pytest.mark.slow
def test_a_stalled_case_becomes_a_timeout_error_row(cases, tmp_path):
    manifest, reference = cases
    bad, fifo = _with_fifo_case(manifest, tmp_path)  # nobody ever writes: reading never ends
    start = time.perf_counter()
    try:
        res = _quiet_extract(bad, cache_dir=tmp_path / "c", n_jobs=2, time_limit=6)
    finally:  # release a worker that might still wait on the pipe
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass
    assert time.perf_counter() - start < 60
    assert res.errors.case_id.tolist() == ["stalled"]
    err = res.errors.iloc[0]
    assert err.stage == "timeout" and "time limit (6 s)" in err.message
    good = reference[reference.case_id != "c2"].reset_index(drop=True)
    pd.testing.assert_frame_equal(res.features.reset_index(drop=True), good)


def _huge_roi_case(folder):
    """A 20-voxel cube of 10 mm voxels: resampled to 1 mm it is a 200 x 200 x 200 voxel ROI's
    little cousin (80^3 voxels, a few seconds of pyradiomics instead of hours)."""
    import SimpleITK as sitk

    arr = np.random.default_rng(0).normal(100, 30, (8, 8, 8)).astype(np.int16)
    roi = np.zeros(arr.shape, dtype=np.uint8)
    roi[1:-1, 1:-1, 1:-1] = 1
    image = sitk.GetImageFromArray(arr)
    image.SetSpacing((10.0, 10.0, 10.0))
    mask = sitk.GetImageFromArray(roi)
    mask.CopyInformation(image)
    paths = folder / "huge_image.nrrd", folder / "huge_mask.nrrd"
    sitk.WriteImage(image, str(paths[0]))
    sitk.WriteImage(mask, str(paths[1]))
    return {"case_id": "huge", "image": str(paths[0]), "mask": str(paths[1]), "label": 1}


def test_time_limit_in_this_process_stops_a_slow_case(cases, tmp_path):
    manifest, reference = cases
    bad = pd.concat([manifest, pd.DataFrame([_huge_roi_case(tmp_path / "data")])],
                    ignore_index=True)
    res = _quiet_extract(bad, cache_dir=tmp_path / "c", n_jobs=1, time_limit=0.5)
    assert res.errors.case_id.tolist() == ["huge"] and res.errors.stage.item() == "timeout"
    pd.testing.assert_frame_equal(res.features, reference)


def test_time_limit_is_checked():
    with pytest.raises(ValueError, match="time_limit must be a positive number"):
        extract_features(pd.DataFrame({"case_id": [], "image": [], "mask": []}), time_limit=0)


def test_unwritable_cache_dir_is_an_error_before_any_work(cases, tmp_path):
    manifest, _ = cases
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the cache folder should be")
    start = time.perf_counter()
    with pytest.raises(OSError, match=r"cache_dir .*not_a_folder.* cannot be written.*cache_dir="):
        extract_features(manifest, params=TINY, cache_dir=blocker / "cache", n_jobs=1,
                         progress=False)
    assert time.perf_counter() - start < 5


def test_replaced_content_with_same_size_and_mtime_is_not_served_from_cache(cases, tmp_path):
    import SimpleITK as sitk

    manifest, _ = cases
    path = manifest.image[0]
    sitk.WriteImage(sitk.ReadImage(path), path, useCompression=False)  # raw voxels: fixed size
    old = 1_600_000_000_123_456_789  # an old, sub-second modification time
    os.utime(path, ns=(old, old))
    first = _quiet_extract(manifest.head(1), cache_dir=tmp_path / "c", n_jobs=1)
    image = sitk.ReadImage(path)
    image[3, 4, 4] = image[3, 4, 4] + 300  # inside the ROI; same size on disk
    size = os.path.getsize(path)
    tmp = tmp_path / "data" / "new.nrrd"
    sitk.WriteImage(image, str(tmp), useCompression=False)
    assert os.path.getsize(tmp) == size
    with open(path, "r+b") as fh:  # overwritten in place, then the time set back (cp -p, rsync -t)
        fh.write(tmp.read_bytes())
    os.utime(path, ns=(old, old))
    assert os.stat(path).st_size == size and os.stat(path).st_mtime_ns == old
    second = _quiet_extract(manifest.head(1), cache_dir=tmp_path / "c", n_jobs=1)
    assert second.cache_stats["cases_computed"] == 1
    assert second.features.original_firstorder_Maximum[0] != \
        first.features.original_firstorder_Maximum[0]
    fresh = _quiet_extract(manifest.head(1), cache_dir=tmp_path / "fresh", n_jobs=1)
    np.testing.assert_array_equal(second.features.iloc[:, 4:], fresh.features.iloc[:, 4:])
