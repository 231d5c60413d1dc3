"""Cost of ``radscore_model(harmonize=...)`` against the same run without ComBat.

Data: the real Ramella 2018 table (91 patients, 242 features; ../shared/data/cohorts or
$RADNB_SHARED_DATA/cohorts), split at random into two pseudo-sites of which one gets a
location/scale shift, so ComBat has something to remove. Nested 5 x 5 cross-validation over
the default 10 penalty values.

Measured (wall clock, one process):

* plain_s: ``radscore_model`` without harmonisation.
* harmonize_s: with ``harmonize="site"`` (ComBat fitted once per training set and reused across
  the penalty grid through the pipeline cache).
* harmonize_nocache_s: the same without the cache (ComBat refitted for every penalty value, as
  before).
* ratio: harmonize_s / plain_s (target: at most 2); ratio_nocache likewise.

Usage: ``python benchmarks/radscore_harmonize.py [--quick]``. The last line holds the results.
"""
from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("RADNB_SHARED_DATA", ROOT.parent / "shared" / "data"))


def main():
    from radnb.stats._radscore import fit_radscore

    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="3 x 3 CV and 4 penalties")
    args = parser.parse_args()
    table = pd.read_csv(SHARED / "cohorts" / "Ramella2018.gz").drop(columns=["ID"])
    rng = np.random.default_rng(0)
    site = np.where(rng.random(len(table)) < 0.5, "A", "B")
    feats = [c for c in table.columns if c != "Target"]
    table.loc[site == "B", feats] = table.loc[site == "B", feats] * 1.5 + 0.5
    table.insert(0, "site", site)
    kw = dict(outer_cv=3, inner_cv=3, Cs=np.logspace(-2, 1, 4)) if args.quick else {}
    times = {}
    for name, extra in (("plain", {}), ("harmonize", {"harmonize": "site"}),
                        ("harmonize_nocache", {"harmonize": "site", "cache": False})):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = fit_radscore(table.drop(columns="site") if not extra else table, "Target",
                               **kw, **extra)
        times[name] = time.perf_counter() - start
        print(f"{name}: {times[name]:.1f} s, AUC {res.auc:.3f}", flush=True)
    print(f"plain_s={times['plain']:.1f} harmonize_s={times['harmonize']:.1f} "
          f"harmonize_nocache_s={times['harmonize_nocache']:.1f} "
          f"ratio={times['harmonize'] / times['plain']:.2f} "
          f"ratio_nocache={times['harmonize_nocache'] / times['plain']:.2f}")


if __name__ == "__main__":
    main()
