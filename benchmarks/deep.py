"""Speed and footprint of radnb.deep on the demo cohort (CPU).

* ``train_s``: :func:`radnb.deep.train_autoencoder` on the 120 demo patients
  (one scan each, default 40 epochs), crops included. Target: under 180 s.
* ``cnn_cv_s``: :func:`radnb.deep.cross_validate_cnn`, 5 folds x 15 epochs.
* ``infer_ms_per_roi``: :func:`radnb.deep.deep_features` without cache on all
  300 manifest rows (read, crop, network), after one warm-up call. Target:
  at most 200 ms. ``net_ms_per_roi``: the network alone.
* against the plain alternative: ``lax_conv_net_ms_per_roi`` runs the same
  encoder with XLA's generic 3D convolution (``jax.lax.conv_general_dilated``)
  instead of radnb's patch + matrix-product convolution.
* ``venv_growth_mb``: installed size of the framework (jax, jaxlib and the
  packages only they need), read from the installed files.

Run: ``.venv/bin/python benchmarks/deep.py``. The last two lines hold ``key=value`` pairs
(the last: ``train_s``, ``infer_ms_per_roi``, ``venv_growth_mb``).
"""
from __future__ import annotations

import importlib.metadata as md
import os
import time



def installed_mb(names=("jax", "jaxlib", "ml_dtypes", "opt_einsum")):
    total = 0
    for name in names:
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue
        for f in dist.files or ():
            try:
                total += os.path.getsize(dist.locate_file(f))
            except OSError:
                pass
    return total / 1e6


def lax_encoder_ms(params, crops):
    from radnb.deep._jaxops import jax_modules

    jax, jnp = jax_modules()

    def encode(p, x):
        h = x.transpose(0, 2, 3, 4, 1)
        for i in range(3):
            h = jax.lax.conv_general_dilated(h, p[f"enc{i}_w"], (2, 2, 2), [(1, 1)] * 3,
                                             dimension_numbers=("NDHWC", "DHWIO", "NDHWC"))
            h = jax.nn.relu(h + p[f"enc{i}_b"])
        return jnp.mean(h, axis=(1, 2, 3))

    fn = jax.jit(encode)
    p = {k: jnp.asarray(v) for k, v in params.items() if k.startswith("enc")}
    x = jnp.asarray(crops[:16])
    fn(p, x).block_until_ready()
    start = time.perf_counter()
    for i in range(0, len(crops) - 15, 16):
        fn(p, jnp.asarray(crops[i:i + 16])).block_until_ready()
    n = (len(crops) // 16) * 16
    return (time.perf_counter() - start) * 1000 / n


def main():
    from radnb import datasets, deep
    from radnb.deep._data import cohort_crops

    manifest = datasets.load_demo_cohort()
    patients = manifest[(manifest.timepoint == 1) & (manifest.reader == 1)]
    start = time.perf_counter()
    model = deep.train_autoencoder(patients, progress=False)
    train_s = time.perf_counter() - start
    print(model)
    start = time.perf_counter()
    cv = deep.cross_validate_cnn(patients, "outcome", epochs=15, progress=False)
    cnn_cv_s = time.perf_counter() - start
    print(cv)
    deep.deep_features(manifest.head(16), model, cache_dir=False, progress=False)  # warm-up
    start = time.perf_counter()
    res = deep.deep_features(manifest, model, cache_dir=False, progress=False)
    infer_ms = (time.perf_counter() - start) * 1000 / len(res.features)
    crops, _, _ = cohort_crops(manifest, model.crop, progress=False)
    start = time.perf_counter()
    model.transform(crops)
    net_ms = (time.perf_counter() - start) * 1000 / len(crops)
    lax_ms = lax_encoder_ms(model.params, crops)
    growth = installed_mb()
    print(f"{len(res.features)} ROIs; autoencoder {len(model.history)} epochs on {len(patients)} "
          f"patients; CPU cores {os.cpu_count()}")
    print(f"cnn_cv_s={cnn_cv_s:.1f} net_ms_per_roi={net_ms:.2f} "
          f"lax_conv_net_ms_per_roi={lax_ms:.2f}")
    print(f"train_s={train_s:.1f} infer_ms_per_roi={infer_ms:.1f} venv_growth_mb={growth:.0f}")


if __name__ == "__main__":
    main()
