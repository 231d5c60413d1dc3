"""The ``radnb`` command: ``radnb extract``, ``radnb demo``, ``radnb notebooks``.

Examples
--------
$ radnb demo --n-patients 12
$ radnb extract ~/radnb_data/demo_cohort/manifest.csv --params ct --out features.parquet --jobs 2
$ radnb notebooks --html build/notebooks
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main"]


def main(argv=None) -> int:
    """Run the ``radnb`` command line; return the exit code (0 = success).

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Examples
    --------
    >>> main(["extract", "manifest.csv", "--out", "features.csv"])  # doctest: +SKIP
    0
    """
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return args.func(args)


def _parser():
    parser = argparse.ArgumentParser(
        prog="radnb", description="radnb: radiomics research toolkit (see the tutorials in notebooks/)."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    ext = sub.add_parser("extract", help="extract pyradiomics features for a manifest (cached, parallel)",
                         description="Extract features for every row of MANIFEST. Results are cached, so "
                                     "re-running after an interruption only computes unfinished cases.")
    ext.add_argument("manifest", help="manifest CSV/Excel (columns case_id, image, mask, ...)")
    ext.add_argument("--params", "-p", default="ct",
                     help="preset (ct, ct-full, mr, mr-full, pet, ibsi) or pyradiomics YAML file (default: ct)")
    ext.add_argument("--out", "-o", default="features.parquet",
                     help="output table, .parquet or .csv (default: features.parquet); failures go to "
                          "<out>_errors.csv")
    ext.add_argument("--jobs", "-j", type=int, default=-1, help="worker processes, -1 = all cores")
    ext.add_argument("--cache", default=None, help="cache folder (default: <data home>/cache)")
    ext.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    ext.set_defaults(func=_extract)

    demo = sub.add_parser("demo", help="generate (once) the synthetic demo cohort and print where it is")
    demo.add_argument("--dir", default=None, help="data home (default: RADNB_DATA or ~/radnb_data)")
    demo.add_argument("--n-patients", type=int, default=120, help="number of patients (default 120)")
    demo.set_defaults(func=_demo)

    nbs = sub.add_parser("notebooks", help="run every tutorial notebook and report time and status")
    nbs.add_argument("--html", default=None, help="also write the executed notebooks as HTML here")
    nbs.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell (default 600)")
    nbs.add_argument("--folder", default=None, help="notebook folder (default: the repository's notebooks/)")
    nbs.set_defaults(func=_notebooks)
    return parser


def _extract(args) -> int:
    from radnb.cohort import load_manifest
    from radnb.extract import ExtractionWarning, extract_features

    out = Path(args.out)
    if out.suffix.lower() not in (".parquet", ".csv"):
        print(f"radnb extract: --out must end in .parquet or .csv; got {str(out)!r}", file=sys.stderr)
        return 2
    try:
        manifest = load_manifest(args.manifest)
    except (OSError, ValueError) as exc:
        print(f"radnb extract: cannot read manifest {args.manifest!r}: {exc}", file=sys.stderr)
        return 2
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExtractionWarning)  # the summary below reports them
        try:
            result = extract_features(manifest, params=args.params, cache_dir=args.cache,
                                      n_jobs=args.jobs, progress=not args.no_progress)
        except (OSError, ValueError, TypeError) as exc:
            print(f"radnb extract: {exc}", file=sys.stderr)
            return 2
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        result.features.to_csv(out, index=False)
    else:
        result.features.to_parquet(out, index=False)
    s = result.cache_stats
    print(f"extracted {len(result.features)} of {len(manifest)} rows, {len(result.feature_names)} "
          f"features each -> {out}")
    print(f"cache: {s['cases_cached']} rows from cache, {s['cases_computed']} computed "
          f"({result.seconds:.1f} s)")
    if len(result.errors):
        err_path = out.with_name(out.stem + "_errors.csv")
        result.errors.to_csv(err_path, index=False)
        print(f"{len(result.errors)} of {len(manifest)} cases FAILED (details: {err_path}):",
              file=sys.stderr)
        for e in result.errors.head(10).itertuples():
            print(f"  {e.case_id} (timepoint {e.timepoint}, reader {e.reader}) [{e.stage}] "
                  f"{e.message[:200]}", file=sys.stderr)
        return 1
    return 0


def _demo(args) -> int:
    from radnb.datasets import load_demo_cohort
    from radnb.datasets._loaders import _demo_folder

    manifest = load_demo_cohort(args.dir, n_patients=args.n_patients)
    folder = _demo_folder(args.dir, args.n_patients, 3, 0)
    print(f"demo cohort: {manifest.case_id.nunique()} patients, {len(manifest)} image+mask rows")
    print(f"folder:   {folder}")
    print(f"manifest: {folder / 'manifest.csv'}")
    return 0


def _notebooks(args) -> int:
    import time

    from radnb._notebooks import execute_notebook, list_notebooks

    paths = list_notebooks(args.folder)
    if not paths:
        print("radnb notebooks: no NN_name.ipynb notebooks found", file=sys.stderr)
        return 2
    rows = []
    for path in paths:
        start = time.perf_counter()
        try:
            execute_notebook(path, timeout=args.timeout, html_dir=args.html)
            status = "ok"
        except Exception as exc:  # noqa: BLE001 - reported in the table, the others still run
            lines = [ln for ln in str(exc).strip().splitlines() if ln.strip()]
            status = "FAILED: " + (lines[-1][:100] if lines else type(exc).__name__)
        rows.append((path.name, time.perf_counter() - start, status))
        print(f"{path.name:<40} {rows[-1][1]:7.1f} s  {status}", flush=True)
    failed = [r for r in rows if r[2] != "ok"]
    print(f"{len(rows) - len(failed)} of {len(rows)} notebooks ran"
          + (f"; HTML in {args.html}" if args.html else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
