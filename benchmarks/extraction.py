"""Benchmark radnb.extract against the ``pyradiomics`` command line.

Settings: Original + LoG (sigma 1, 2, 3 mm) + Wavelet, all feature classes,
1 mm B-spline resampling (radnb's "ct-full" preset), on pyradiomics' five
sample cases (../shared/data/pyradiomics or $RADNB_SHARED_DATA/pyradiomics)
plus the first rows of the demo cohort.

Measured (wall clock, same settings and same number of processes):

* cold_ratio_vs_pyradiomics: ``radnb extract`` (command line, empty cache) /
  ``pyradiomics --jobs N`` (both run as fresh processes, start-up included).
* warm_speedup: that cold time / a repeated ``extract_features`` call (all cached).
* incremental_ratio: adding one feature class to a fully cached run / that
  class's own extraction (all image types, empty cache).
* local_efficiency: t(1 local process) / (2 x t(2 local processes)): 1.0 is
  the hardware limit on 2 cores (half the one-process time). The one-process
  run is serial: SimpleITK and BLAS limited to one thread, as in each worker,
  so that it measures one core's work (with their default threads it would
  already use part of the second core).
* dask_efficiency: t(1 local process) / (2 x t(Dask LocalCluster, 2 workers
  x 1 thread)).

Worker start-up (spawning processes, importing pyradiomics) is not extraction
time: the local pool is already running from the steps before, and the Dask
workers import the extraction modules before the clock starts.

Targets (issue 17): cold_ratio_vs_pyradiomics <= 0.6, local_efficiency >= 0.87,
dask_efficiency >= 0.85, warm_speedup >= 100, incremental_ratio <= 1.5.

Usage: ``python benchmarks/extraction.py [--quick] [--demo-rows N] [--jobs N]``.
The last line holds the key=value results.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("RADNB_SHARED_DATA", ROOT.parent / "shared" / "data"))
BIN = Path(sys.executable).parent


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="LoG sigma 1 only and 4 demo rows (a couple of minutes)")
    ap.add_argument("--demo-rows", type=int, default=None, help="demo cohort rows (default 12, quick 4)")
    ap.add_argument("--jobs", type=int, default=2, help="processes for both tools (default 2)")
    ap.add_argument("--extra-class", default="ngtdm", help="class added in the incremental step")
    args = ap.parse_args(argv)

    from radnb.datasets import fetch_pyradiomics_cases, load_demo_cohort
    from radnb.extract import extract_features, load_params

    work = Path(tempfile.mkdtemp(prefix="radnb-bench-"))
    os.environ.setdefault("RADNB_DATA", str(work / "data"))
    params = load_params("ct-full")
    if args.quick:
        params["imageType"]["LoG"] = {"sigma": [1.0]}
    n_demo = args.demo_rows if args.demo_rows is not None else (4 if args.quick else 12)
    samples = fetch_pyradiomics_cases(SHARED / "pyradiomics", download=False)
    demo = load_demo_cohort(n_patients=12, seed=1)
    demo = demo[(demo.reader == 1) & (demo.timepoint == 1)].head(n_demo)
    cases = pd.concat([samples, demo], ignore_index=True)[
        ["case_id", "image", "mask", "label", "reader", "timepoint", "site"]]
    print(f"cases: {len(samples)} pyradiomics samples + {len(demo)} demo rows"
          f"{' (subset of the 300-row demo cohort, to stay under ~10 min)' if not args.quick else ''}; "
          f"image types {list(params['imageType'])} {params['imageType'].get('LoG')}; "
          f"jobs {args.jobs}; {os.cpu_count()} cores; load {os.getloadavg()[0]:.1f}", flush=True)
    manifest_csv, params_yaml = work / "manifest.csv", work / "params.yaml"
    cases.to_csv(manifest_csv, index=False)
    params_yaml.write_text(yaml.safe_dump({k: params[k] for k in ("imageType", "featureClass", "setting")},
                                          sort_keys=False))

    # 1. pyradiomics command line
    pyr_csv = work / "pyr_in.csv"
    pd.DataFrame({"Image": cases.image, "Mask": cases["mask"], "Label": cases.label}).to_csv(pyr_csv, index=False)
    t_pyr = _timed([str(BIN / "pyradiomics"), str(pyr_csv), "--param", str(params_yaml), "--jobs",
                    str(args.jobs), "--format", "csv", "-o", str(work / "pyr_out.csv")])
    print(f"pyradiomics CLI, {args.jobs} jobs: {t_pyr:.1f} s", flush=True)

    # 2. radnb command line, empty cache
    cache = work / "cache"
    out = work / "radnb.parquet"
    t_cold = _timed([sys.executable, "-m", "radnb", "extract", str(manifest_csv), "--params",
                     str(params_yaml), "--out", str(out), "--jobs", str(args.jobs), "--cache", str(cache),
                     "--no-progress"])
    print(f"radnb CLI cold, {args.jobs} jobs: {t_cold:.1f} s", flush=True)
    print(f"values identical to pyradiomics CLI: {_same_values(work / 'pyr_out.csv', out)}", flush=True)

    # 3. warm call
    load_params(params)  # one-time import of pyradiomics, not part of a call
    start = time.perf_counter()
    warm = extract_features(cases, params=params, cache_dir=cache, n_jobs=args.jobs, progress=False)
    t_warm = time.perf_counter() - start
    assert warm.cache_stats["cases_computed"] == 0, warm.cache_stats
    print(f"radnb warm call: {t_warm * 1000:.1f} ms", flush=True)

    # 4. incremental: everything but one class cached, then add it
    extra = args.extra_class
    without = {**params, "featureClass": {k: v for k, v in params["featureClass"].items() if k != extra}}
    inc_cache = work / "cache-inc"
    extract_features(cases, params=without, cache_dir=inc_cache, n_jobs=args.jobs, progress=False)
    start = time.perf_counter()
    res = extract_features(cases, params=params, cache_dir=inc_cache, n_jobs=args.jobs, progress=False)
    t_inc = time.perf_counter() - start
    only = {**params, "featureClass": {extra: params["featureClass"][extra]}}
    start = time.perf_counter()
    extract_features(cases, params=only, cache_dir=work / "cache-only", n_jobs=args.jobs, progress=False)
    t_only = time.perf_counter() - start
    print(f"adding {extra} to a cached run: {t_inc:.1f} s ({res.cache_stats['misses']} units computed); "
          f"{extra} alone: {t_only:.1f} s", flush=True)

    # 5. parallel efficiency: 1 process, 2 processes, Dask 2 workers (demo rows + samples)
    t1 = _serial(cases, params, work / "c1")
    t2 = _api(cases, params, work / "c2", n_jobs=2)
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cl, \
            Client(cl) as client:
        client.run(_warm_up)  # worker start-up is not extraction time
        start = time.perf_counter()
        extract_features(cases, params=params, cache_dir=work / "c3", client=client, progress=False)
        t_dask = time.perf_counter() - start
    print(f"1 process {t1:.1f} s, 2 processes {t2:.1f} s (efficiency {t1 / (2 * t2):.2f}), "
          f"Dask 2 workers {t_dask:.1f} s (efficiency {t1 / (2 * t_dask):.2f})", flush=True)
    print("targets: cold ratio <= 0.6, warm >= 100x, incremental <= 1.5, local efficiency >= 0.87, "
          f"Dask efficiency >= 0.85; load now {os.getloadavg()[0]:.1f}")
    shutil.rmtree(work, ignore_errors=True)
    print(f"cold_ratio_vs_pyradiomics={t_cold / t_pyr:.3f} warm_speedup={t_cold / t_warm:.0f} "
          f"incremental_ratio={t_inc / t_only:.3f} dask_efficiency={t1 / (2 * t_dask):.3f} "
          f"local_efficiency={t1 / (2 * t2):.3f}")


def _warm_up():
    import radiomics.featureextractor  # noqa: F401
    import SimpleITK  # noqa: F401

    import radnb.extract._engine  # noqa: F401
    import radnb.extract._worker  # noqa: F401
    import radnb.io  # noqa: F401
    import radnb.io._integrity  # noqa: F401


def _timed(cmd) -> float:
    start = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if res.returncode != 0:
        sys.exit(f"{cmd[0]} failed ({res.returncode}):\n{res.stderr[-2000:]}")
    return elapsed


def _api(cases, params, cache, n_jobs) -> float:
    from radnb.extract import extract_features

    start = time.perf_counter()
    extract_features(cases, params=params, cache_dir=cache, n_jobs=n_jobs, progress=False)
    return time.perf_counter() - start


def _serial(cases, params, cache) -> float:
    """One process on one core: SimpleITK and BLAS limited to one thread, like a worker."""
    import SimpleITK as sitk
    from threadpoolctl import threadpool_limits

    before = sitk.ProcessObject.GetGlobalDefaultNumberOfThreads()
    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(1)
    try:
        with threadpool_limits(1):
            return _api(cases, params, cache, n_jobs=1)
    finally:
        sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(before)


def _same_values(pyr_csv, radnb_parquet) -> str:
    ref = pd.read_csv(pyr_csv, float_precision="round_trip")
    got = pd.read_parquet(radnb_parquet)
    cols = [c for c in got.columns if c in ref.columns and not c.startswith("diagnostics")]
    a, b = ref[cols].astype(float).to_numpy(), got[cols].astype(float).to_numpy()
    diff = int(((a != b) & ~(np.isnan(a) & np.isnan(b))).sum())
    return f"{'yes' if diff == 0 else 'NO'} ({len(cols)} features x {len(got)} rows, {diff} differ)"


if __name__ == "__main__":
    main()
