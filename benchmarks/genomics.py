"""Speed and memory of radnb.genomics.associate on a genome-wide screen.

1,000 image features x 20,000 genes x 200 patients (20 million Spearman
correlations with p- and q-values). Target: under 10 s. The plain alternative,
``scipy.stats.spearmanr`` once per feature-gene pair, is timed on a sample of
pairs and extrapolated. Peak memory is the process's maximum resident set size
(``ru_maxrss``) above the level before the screen. On a shared machine the
wall time depends on the load; the CPU time (``assoc_cpu_s``) and the
1-minute load average are printed next to it.

Run: ``.venv/bin/python benchmarks/genomics.py``. The last line holds
``key=value`` pairs.
"""
from __future__ import annotations

import os
import resource
import time

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from radnb.genomics import associate


def make_tables(n_features=1000, n_genes=20000, n_patients=200, seed=0):
    rng = np.random.default_rng(seed)
    ids = [f"P{i:04d}" for i in range(n_patients)]
    feats = pd.DataFrame(rng.normal(size=(n_patients, n_features)),
                         columns=[f"original_glcm_F{i}" for i in range(n_features)])
    genes = pd.DataFrame(rng.normal(8, 1, size=(n_patients, n_genes)).round(3),
                         columns=[f"G{i:05d}" for i in range(n_genes)])
    genes.iloc[:, :50] += feats.iloc[:, :1].to_numpy()  # 50 linked genes
    return feats.assign(case_id=ids), genes.assign(case_id=ids)


def _rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    feats, genes = make_tables()
    base = _rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    res = associate(feats, genes)
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = _rss_mb() - base
    cols_f = [c for c in feats.columns if c != "case_id"]
    cols_g = [c for c in genes.columns if c != "case_id"]
    rng = np.random.default_rng(1)
    pairs = [(cols_f[rng.integers(len(cols_f))], cols_g[rng.integers(len(cols_g))])
             for _ in range(2000)]
    t0 = time.perf_counter()
    for f, g in pairs:
        spearmanr(feats[f], genes[g])
    plain = (time.perf_counter() - t0) / len(pairs) * len(cols_f) * len(cols_g)
    print(f"associate: {len(res):,} pairs in {secs:.2f} s, peak memory +{peak:.0f} MB; "
          f"{int(res['significant'].sum())} significant at FDR 0.05 (50 planted)")
    print(f"scipy.stats.spearmanr pair by pair: about {plain / 3600:.1f} h (extrapolated)")
    load = os.getloadavg()[0]
    print(f"load average during the run: {load:.1f} on {os.cpu_count()} cores (shared machine)")
    print(f"assoc_cpu_s={cpu:.2f} load1={load:.1f} assoc_peak_mb={peak:.0f} "
          f"spearmanr_loop_s_extrapolated={plain:.0f} speedup={plain / secs:.0f} "
          f"assoc_s_1000x20000x200={secs:.2f}")


if __name__ == "__main__":
    main()
