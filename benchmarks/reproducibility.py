"""Speed of radnb.reproducibility.feature_icc on a full-size feature table.

1,700 features (about what pyradiomics' CT settings with LoG and wavelet
filters give) x 120 cases x 2 readers. Target: under 10 s.

Run: ``.venv/bin/python benchmarks/reproducibility.py``. The last line holds
``key=value`` pairs.
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

from radnb._utils.features import FEATURE_CLASSES
from radnb.reproducibility import ICCFilter, feature_icc


def make_table(n_features=1700, n_cases=120, n_readers=2, seed=0):
    rng = np.random.default_rng(seed)
    image_types = ["original", "log-sigma-1-0-mm-3D", "log-sigma-3-0-mm-3D", "wavelet-LLL",
                   "wavelet-HHH", "square", "exponential"]
    names = [f"{image_types[i % len(image_types)]}_{FEATURE_CLASSES[1 + i % 7]}_F{i}"
             for i in range(n_features)]
    truth = rng.lognormal(size=(n_cases, n_features)) * 10.0 ** rng.integers(-3, 9, n_features)
    noise = rng.uniform(0.01, 1.5, n_features)
    frames = []
    for r in range(1, n_readers + 1):
        vals = truth * (1 + noise * rng.normal(size=truth.shape) * 0.3)
        ids = pd.DataFrame({"case_id": [f"case{i:03d}" for i in range(n_cases)],
                            "timepoint": 1, "reader": r, "site": "A"})
        frames.append(pd.concat([ids, pd.DataFrame(vals, columns=names)], axis=1))
    return pd.concat(frames, ignore_index=True)


def main():
    table = make_table()
    start = time.perf_counter()
    icc = feature_icc(table, by="reader", icc_type="ICC(2,1)")
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    filt = ICCFilter(icc, threshold=0.75).fit(table[table.reader == 1])
    filt.transform(table[table.reader == 1])
    filter_seconds = time.perf_counter() - start
    print(f"{len(icc)} features x {table.case_id.nunique()} cases x {table.reader.nunique()} readers")
    print(f"feature_icc_seconds={seconds:.3f} icc_filter_seconds={filter_seconds:.3f} "
          f"n_features={len(icc)} n_robust={len(filt.robust_features_)}")


if __name__ == "__main__":
    main()
