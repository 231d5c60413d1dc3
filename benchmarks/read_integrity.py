"""Cost of refusing truncated files: radnb.io.read_image (integrity check + read) vs SimpleITK alone.

A CT-sized volume (512 x 512 x 120, int16, noise + structure) is written as .nii.gz and .nrrd
(gzip); each is read 3 times both ways. Last line: key=value pairs (seconds, best of 3).

Run: .venv/bin/python benchmarks/read_integrity.py
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np


def _best(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    import SimpleITK as sitk

    from radnb.io import read_image
    from radnb.io._integrity import check_complete

    rng = np.random.default_rng(0)
    arr = (rng.normal(0, 30, (120, 512, 512)) - 1000 * (rng.random((120, 512, 512)) < 0.3))
    image = sitk.GetImageFromArray(arr.astype(np.int16))
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for ext in ("nii.gz", "nrrd"):
            path = Path(tmp) / f"ct.{ext}"
            sitk.WriteImage(image, str(path), True)
            key = ext.replace(".", "")
            out[f"{key}_sitk_s"] = _best(lambda: sitk.ReadImage(str(path)))
            out[f"{key}_radnb_s"] = _best(lambda: read_image(path))
            out[f"{key}_check_only_s"] = _best(lambda: check_complete(path))
            out[f"{key}_mb"] = path.stat().st_size / 1e6
    print(" ".join(f"{k}={v:.3f}" for k, v in out.items()))


if __name__ == "__main__":
    main()
