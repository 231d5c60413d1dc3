"""The ``radnb`` command: ``radnb extract``, ``radnb demo``, ``radnb notebooks``.

Examples
--------
$ radnb demo --n-patients 12
$ radnb extract ~/radnb_data/demo_cohort/manifest.csv --params ct --out features.parquet --jobs 2
$ radnb notebooks --html build/notebooks

A mistake in the input (a missing file, an unwritable ``--out``, an empty
manifest) is reported in one line, never as a Python traceback; ``--debug``
shows the traceback. Ctrl-C stops cleanly with exit code 130.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from radnb._utils.i18n import tr

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
    try:
        return args.func(args)
    except KeyboardInterrupt:
        if args.debug:
            raise
        print(tr("radnb {command}: interrupted").format(command=args.command), file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - one line for the user, the traceback with --debug
        if args.debug:
            raise
        print(tr("radnb {command}: {error} (run with --debug for the full traceback)").format(
            command=args.command, error=_one_line(exc)), file=sys.stderr)
        return 1


def _one_line(exc) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if not isinstance(exc, (OSError, ValueError, TypeError, KeyError)):
        text = f"{type(exc).__name__}: {text}"
    return text if len(text) <= 400 else text[:397] + "..."


def _parser():
    parser = argparse.ArgumentParser(
        prog="radnb", description=tr("radnb: radiomics research toolkit (see the tutorials in notebooks/).")
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true",
                        help=tr("show Python tracebacks (for bug reports)"))
    parser.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    ext = sub.add_parser("extract", parents=[common], help=tr("extract pyradiomics features for a manifest (cached, parallel)"),
                         description=tr("Extract features for every row of MANIFEST. Results are cached, so "
                                     "re-running after an interruption only computes unfinished cases."))
    ext.add_argument("manifest", help=tr("manifest CSV/Excel (columns case_id, image, mask, ...)"))
    ext.add_argument("--params", "-p", default="ct",
                     help=tr("preset (ct, ct-full, mr, mr-full, pet, ibsi) or pyradiomics YAML file (default: ct)"))
    ext.add_argument("--out", "-o", default="features.parquet",
                     help=tr("output table, .parquet or .csv (default: features.parquet); failures go to "
                          "<out>_errors.csv"))
    ext.add_argument("--jobs", "-j", type=int, default=-1, help=tr("worker processes, -1 = all cores"))
    ext.add_argument("--cache", default=None, help=tr("cache folder (default: <data home>/cache)"))
    ext.add_argument("--time-limit", type=float, default=3600,
                     help=tr("seconds one case may take before it becomes an error row (default 3600)"))
    ext.add_argument("--no-progress", action="store_true", help=tr("hide the progress bar"))
    ext.set_defaults(func=_extract)

    demo = sub.add_parser("demo", parents=[common], help=tr("generate (once) the synthetic demo cohort and print where it is"))
    demo.add_argument("--dir", default=None, help=tr("data home (default: RADNB_DATA or ~/radnb_data)"))
    demo.add_argument("--n-patients", type=_patients, default=120,
                      help=tr("number of patients, 4 to 9999 (default 120)"))
    demo.set_defaults(func=_demo)

    fetch = sub.add_parser("fetch", parents=[common], help=tr("download the real data the tutorials use (or --check what is there)"),
                           description=tr("Download once, into the data home, every real data set a tutorial uses "
                                       "(e.g. when a Binder image or a course machine is built)."))
    fetch.add_argument("names", nargs="*", metavar="NAME",
                       help=tr("only these: {names}").format(names=", ".join(_tutorial_data_names())))
    fetch.add_argument("--dir", default=None, help=tr("data home (default: RADNB_DATA or ~/radnb_data)"))
    fetch.add_argument("--check", action="store_true", help=tr("only check the local files, download nothing"))
    fetch.set_defaults(func=_fetch)

    nbs = sub.add_parser("notebooks", parents=[common], help=tr("run every tutorial notebook and report time and status"))
    nbs.add_argument("--html", default=None, help=tr("also write the executed notebooks as HTML here"))
    nbs.add_argument("--timeout", type=int, default=600, help=tr("seconds allowed per cell (default 600)"))
    nbs.add_argument("--folder", default=None,
                     help=tr("notebook folder (default: both languages, notebooks/en/ and notebooks/zh/)"))
    nbs.set_defaults(func=_notebooks)

    trans = sub.add_parser("translate", parents=[common], help=tr("keep the Chinese tutorials in step with the English ones"),
                        description=tr("update: refresh notebooks/locale/<lang>/*.po from notebooks/en/ and list "
                                    "the cells to translate; build: write notebooks/<lang>/ from en + "
                                    "catalogues; check: list untranslated or out-of-date notebooks."))
    trans.add_argument("action", choices=("update", "build", "check"))
    trans.add_argument("--language", default="zh", help=tr("target language (default zh)"))
    trans.set_defaults(func=_translate)
    return parser


def _patients(text) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(tr("must be a whole number; got {value!r}").format(
            value=text)) from None
    if not 4 <= n <= 9999:
        raise argparse.ArgumentTypeError(tr(
            "must be between 4 and 9999 (the demo spreads patients over sites and outcome "
            "groups); got {n}").format(n=n))
    return n


def _extract(args) -> int:
    from radnb._utils.files import NotWritableError, check_writable
    from radnb.cohort import load_manifest
    from radnb.extract import ExtractionInterrupted, ExtractionWarning, extract_features

    out = Path(args.out)
    err_path = out.with_name(out.stem + "_errors.csv")
    if out.suffix.lower() not in (".parquet", ".csv"):
        print(tr("radnb extract: --out must end in .parquet or .csv; got {path!r}").format(
            path=str(out)), file=sys.stderr)
        return 2
    try:  # before any work: an hour of extraction must not end in "cannot write"
        check_writable(out, what="--out")
    except NotWritableError as exc:
        print(f"radnb extract: {exc}", file=sys.stderr)
        return 2
    path = Path(args.manifest)
    if path.is_file() and path.stat().st_size == 0:
        print(tr("radnb extract: manifest {path!r} is empty; it needs a header row "
                 "(case_id,image,mask) and one row per image + mask pair").format(
            path=args.manifest), file=sys.stderr)
        return 2
    try:
        manifest = load_manifest(args.manifest)
    except Exception as exc:  # noqa: BLE001 - a user error: one line
        if args.debug:
            raise
        print(tr("radnb extract: cannot read manifest {path!r}: {error}").format(
            path=args.manifest, error=_one_line(exc)), file=sys.stderr)
        return 2
    if len(manifest) == 0:
        print(tr("radnb extract: manifest {path!r} has no rows; add one row per image + mask "
                 "pair").format(path=args.manifest), file=sys.stderr)
        return 2
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExtractionWarning)  # the summary below reports them
        try:
            result = extract_features(manifest, params=args.params, cache_dir=args.cache,
                                      n_jobs=args.jobs, progress=not args.no_progress,
                                      time_limit=args.time_limit if args.time_limit > 0 else None)
        except ExtractionInterrupted as stop:
            part = stop.partial
            _write(part, out, err_path)
            print(tr("radnb extract: interrupted; {done} finished rows written to {out}, "
                     "{failed} failed{see}, {not_run} not run; run the same command again to "
                     "finish (finished cases come from the cache)").format(
                done=len(part.features), out=out, failed=len(part.errors),
                see=tr(" (see {path})").format(path=err_path) if len(part.errors) else "",
                not_run=stop.not_run), file=sys.stderr)
            return 130
        except (OSError, ValueError, TypeError) as exc:
            if args.debug:
                raise
            print(tr("radnb extract: {error}").format(error=_one_line(exc)), file=sys.stderr)
            return 2
    _write(result, out, err_path)
    s = result.cache_stats
    print(tr("extracted {done} of {total} rows, {n_features} features each -> {out}").format(
        done=len(result.features), total=len(manifest), n_features=len(result.feature_names), out=out))
    print(tr("cache: {cached} rows from cache, {computed} computed ({seconds} s)").format(
        cached=s["cases_cached"], computed=s["cases_computed"], seconds=f"{result.seconds:.1f}"))
    if len(result.errors):
        print(tr("{failed} of {total} cases FAILED (details: {path}):").format(
            failed=len(result.errors), total=len(manifest), path=err_path), file=sys.stderr)
        for e in result.errors.head(10).itertuples():
            print("  " + tr("{case} (timepoint {timepoint}, reader {reader}) [{stage}] {message}").format(
                case=e.case_id, timepoint=e.timepoint, reader=e.reader, stage=e.stage,
                message=e.message), file=sys.stderr)
        return 1
    return 0


def _write(result, out, err_path):
    """Features to ``out`` and failures to ``err_path``, each complete or not at all."""
    from radnb._utils.files import atomic_write
    from radnb.report import to_csv

    if out.suffix.lower() == ".csv":
        to_csv(result.features, out, index=False)  # formulas neutralised for spreadsheets
    else:
        with atomic_write(out, "path") as tmp:
            result.features.to_parquet(tmp, index=False)
    if len(result.errors):
        to_csv(result.errors, err_path, index=False)
    elif err_path.exists():  # an old list from an earlier run would be misleading
        err_path.unlink()


def _demo(args) -> int:
    from radnb.datasets import load_demo_cohort
    from radnb.datasets._loaders import _demo_folder

    manifest = load_demo_cohort(args.dir, n_patients=args.n_patients)
    folder = _demo_folder(args.dir, args.n_patients, 3, 0)
    print(tr("demo cohort: {patients} patients, {rows} image+mask rows").format(
        patients=manifest.case_id.nunique(), rows=len(manifest)))
    print(tr("folder:   {path}").format(path=folder))
    print(tr("manifest: {path}").format(path=folder / "manifest.csv"))
    return 0


def _tutorial_data_names():
    from radnb.datasets._tutorial_data import TUTORIAL_DATA

    return list(TUTORIAL_DATA)


def _fetch(args) -> int:
    from radnb.datasets import fetch_tutorial_data

    try:
        status = fetch_tutorial_data(args.dir, names=args.names or None, download=not args.check)
    except ValueError as exc:  # a name that is not one of the data sets
        print(f"radnb fetch: {exc}", file=sys.stderr)
        return 2
    for row in status.itertuples():
        mark = tr("ready") if row.ready else tr("MISSING")
        print(f"{mark:8} {row.name:20} ({row.tutorials}) {row.detail}")
    missing = int((~status["ready"]).sum())
    if missing:
        print(tr("{n} of {total} data sets are missing; the tutorials that use them skip those "
                 "sections or download them when run.").format(n=missing, total=len(status)))
    return 1 if missing else 0


def _notebooks(args) -> int:
    import time

    from radnb._notebooks import LANGUAGES, execute_notebook, list_notebooks

    if args.folder is not None:
        jobs = [(p, args.html) for p in list_notebooks(args.folder)]
    else:  # both languages, HTML in <html>/en/ and <html>/zh/
        jobs = [(p, None if args.html is None else Path(args.html) / lang)
                for lang in LANGUAGES for p in list_notebooks(language=lang)]
    if not jobs:
        print(tr("radnb notebooks: no NN_name.ipynb notebooks found"), file=sys.stderr)
        return 2
    rows = []
    for path, html in jobs:
        start = time.perf_counter()
        name = path.name if args.folder is not None else f"{path.parent.name}/{path.name}"
        try:
            execute_notebook(path, timeout=args.timeout, html_dir=html)
            status = "ok"
        except Exception as exc:  # noqa: BLE001 - reported in the table, the others still run
            lines = [ln for ln in str(exc).strip().splitlines() if ln.strip()]
            status = "FAILED: " + (lines[-1][:100] if lines else type(exc).__name__)
        rows.append((name, time.perf_counter() - start, status))
        print(f"{name:<40} {rows[-1][1]:7.1f} s  {status}", flush=True)
    failed = [r for r in rows if r[2] != "ok"]
    print(tr("{ok} of {total} notebooks ran").format(ok=len(rows) - len(failed), total=len(rows))
          + (tr("; HTML in {path}").format(path=args.html) if args.html else ""))
    return 1 if failed else 0


def _translate(args) -> int:
    from radnb import _notebooks as nbs

    if args.language not in nbs.TRANSLATIONS:
        print(f"radnb translate: --language must be one of {list(nbs.TRANSLATIONS)}; "
              f"got {args.language!r}", file=sys.stderr)
        return 2
    if args.action == "update":
        total = 0
        for source in nbs.list_notebooks():
            todo = nbs.update_catalogue(source, language=args.language)
            total += len(todo)
            po = nbs.catalogue_path(source, args.language)
            print(f"{po.relative_to(nbs.NOTEBOOK_DIR.parent)}: "
                  + (f"{len(todo)} cells to translate: {', '.join(todo)}" if todo else "complete"))
        print(f"{total} cells to translate (empty msgstr or '#, fuzzy': fix the text, delete the "
              f"fuzzy flag), then run `{nbs.BUILD_COMMAND}`")
        return 0
    if args.action == "build":
        missing = nbs.build_translation(args.language)
        for name, cells in missing.items():
            print(f"{name}: {len(cells)} cells left in English: {', '.join(cells)}")
        print(f"wrote notebooks/{args.language}/"
              + (f"; {sum(map(len, missing.values()))} cells still need a translation"
                 if missing else "; every cell is translated"))
        return 1 if missing else 0
    problems = nbs.translation_problems(args.language)
    print("\n".join(problems) if problems else f"notebooks/{args.language}/ is complete and up to date")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
