"""How fast the viewer updates: ``python benchmarks/viewer.py [--no-browser]``.

1. Server side: producing one displayed slice of a 512 x 512 CT with its mask
   overlay, JPEG-encoded exactly as sent to the browser (``viewer.slice = k``
   with the real widget, no kernel needed). Target: p95 <= 15 ms.
2. Gallery: thumbnails of the 120-case demo cohort. Target: < 10 s.
3. In real Chromium (JupyterLab running 02_browse): median time from an arrow
   key on the slice slider to the new picture. Target: <= 100 ms.

Last line: ``render_p95_ms=<x> bytes_per_update=<n> gallery_120_s=<s> slider_median_ms=<m>``.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("RADNB_SHARED_DATA", ROOT.parent / "shared" / "data"))


def ct_case():
    """lung1 (512 x 512 x 48 CT) from the shared data, else a synthetic CT of that size."""
    import SimpleITK as sitk

    folder = SHARED / "pyradiomics"
    if (folder / "lung1_image.nrrd").exists():
        return (sitk.ReadImage(str(folder / "lung1_image.nrrd")),
                sitk.ReadImage(str(folder / "lung1_label.nrrd")), "lung1")
    rng = np.random.default_rng(0)
    zz, yy, xx = np.mgrid[:48, :512, :512]
    arr = np.where((yy - 256) ** 2 + (xx - 256) ** 2 < 230 ** 2, 40, -1000) + rng.normal(0, 20, zz.shape)
    lesion = (zz - 24) ** 2 * 25 + (yy - 200) ** 2 + (xx - 300) ** 2 < 40 ** 2
    image = sitk.GetImageFromArray(arr.astype(np.int16))
    image.SetSpacing((0.7, 0.7, 5.0))
    mask = sitk.GetImageFromArray(lesion.astype(np.uint8))
    mask.CopyInformation(image)
    return image, mask, "synthetic"


def bench_render(repeats=200):
    from radnb import view

    image, mask, name = ct_case()
    viewer = view.browse(image, mask)
    n = image.GetSize()[2]
    times, sizes = [], []
    for i in range(repeats):
        k = i % n
        if k == viewer.slice:
            k = (k + 1) % n
        start = time.perf_counter()
        viewer.slice = k  # renders, overlays, encodes and sets the widget's bytes
        times.append((time.perf_counter() - start) * 1000)
        sizes.append(len(viewer.image_widget.value))
    p95 = float(np.percentile(times, 95))
    print(f"render ({name}, {image.GetSize()[0]}x{image.GetSize()[1]}, fill overlay, JPEG): "
          f"median {statistics.median(times):.1f} ms, p95 {p95:.1f} ms, "
          f"{int(statistics.median(sizes))} bytes per update")
    return p95, int(statistics.median(sizes))


def bench_gallery():
    from radnb import view
    from radnb.datasets import load_demo_cohort

    manifest = load_demo_cohort()
    first = manifest[(manifest.reader == 1) & (manifest.timepoint == 1)]
    view.gallery(first.head(2), validation=False)  # warm up imports
    start = time.perf_counter()
    g = view.gallery(first, validation=False)
    seconds = time.perf_counter() - start
    print(f"gallery: {len(g.table)} cases in {seconds:.2f} s")
    return seconds


def bench_browser(steps=20):
    if not Path("/usr/bin/chromium").exists():
        print("browser: skipped (Chromium not found at /usr/bin/chromium)")
        return float("nan")
    sys.path.insert(0, str(ROOT / "tests"))
    from test_browser import chromium_page, run_all_cells, running_lab, slider_latencies

    with tempfile.TemporaryDirectory(prefix="radnb-bench-") as tmp:
        with running_lab(Path(tmp) / "work") as (base, token), chromium_page() as page:
            run_all_cells(page, base, token)
            latencies = slider_latencies(page, steps=steps)
    med = statistics.median(latencies)
    print(f"browser: slider move -> new picture, median {med:.1f} ms over {steps} moves "
          f"(min {min(latencies):.0f}, max {max(latencies):.0f})")
    return med


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium measurement")
    args = parser.parse_args()
    p95, nbytes = bench_render()
    gallery_s = bench_gallery()
    slider = float("nan") if args.no_browser else bench_browser()
    print(f"render_p95_ms={p95:.1f} bytes_per_update={nbytes} gallery_120_s={gallery_s:.2f} "
          f"slider_median_ms={slider:.1f}")


if __name__ == "__main__":
    main()
