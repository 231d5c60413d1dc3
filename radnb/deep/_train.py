"""Build deep models: the random-initialised baseline and a self-supervised autoencoder.

Both share the encoder of :mod:`radnb.deep._nets`; the random one is the
baseline every learned model must beat (random convolutions already give
texture statistics - Jarrett et al., ICCV 2009). The autoencoder learns from
the images alone (no outcome), so it cannot leak the outcome into later
cross-validation.
"""
from __future__ import annotations

import time

import numpy as np

from radnb._utils.validation import check_range
from radnb.deep._crop import CropSpec
from radnb.deep._data import cohort_crops
from radnb.deep._jaxops import jax_modules
from radnb.deep._model import DeepModel
from radnb.deep._nets import (adam_init, adam_step, decode, encode, half_resolution,
                              init_decoder, init_encoder)

__all__ = ["random_model", "train_autoencoder", "augment", "fit_loop", "ae_loss"]


def random_model(seed=0, *, crop=None):
    """The untrained baseline: the encoder with random (He) weights.

    Parameters
    ----------
    seed : int, default 0
    crop : CropSpec, optional
        Input settings (default: 48 mm cube at 1.5 mm, W 400 / L 40, with mask).

    Returns
    -------
    DeepModel
        ``name="random"``: 32 features per ROI.

    Examples
    --------
    >>> random_model().n_features
    32
    """
    crop = crop if crop is not None else CropSpec()
    return DeepModel("random", "random", init_encoder(crop.channels, seed), crop,
                     info={"seed": int(seed)})


def augment(x, rng):
    """Random flips along each axis (per batch): cheap augmentation for small cohorts."""
    for axis in (2, 3, 4):
        if rng.random() < 0.5:
            x = np.flip(x, axis=axis)
    return np.ascontiguousarray(x)


def ae_loss(p, x):
    """Mean squared error of the half-resolution reconstruction."""
    _, jnp = jax_modules()
    return jnp.mean((decode(p, encode(p, x), x.shape[2]) - half_resolution(x)) ** 2)


def fit_loop(loss_fn, params, data, *, epochs, batch_size, lr, seed, progress, desc):
    """Minibatch Adam on ``loss_fn(params, *batch)``; returns params and loss per epoch."""
    jax, jnp = jax_modules()
    from tqdm.auto import tqdm

    from radnb.deep._jaxops import cached_jit

    grad_fn = cached_jit(("grad", loss_fn), lambda: jax.value_and_grad(loss_fn))
    update = cached_jit("adam", lambda: adam_step)
    lr = jnp.asarray(lr, jnp.float32)
    params = {k: jnp.asarray(v) for k, v in params.items()}
    state = adam_init(params)
    state["t"] = jnp.asarray(0, jnp.int32)
    rng = np.random.default_rng(seed)
    n = len(data[0])
    history = []
    bar = tqdm(range(epochs), desc=desc, disable=not progress, leave=False)
    for _ in bar:
        order = rng.permutation(n)
        total, steps = 0.0, 0
        batch_size = min(batch_size, n)
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            if len(idx) < batch_size:  # same batch shape every step: one compilation
                idx = np.concatenate([idx, order[:batch_size - len(idx)]])
            batch = [augment(data[0][idx], rng)] + [d[idx] for d in data[1:]]
            loss, grads = grad_fn(params, *[jnp.asarray(b) for b in batch])
            params, state = update(params, grads, state, lr)
            total += float(loss)
            steps += 1
        history.append(total / steps)
        bar.set_postfix(loss=f"{history[-1]:.4g}")
    return {k: np.asarray(v) for k, v in params.items()}, history


def train_autoencoder(cohort, *, epochs=40, batch_size=16, lr=2e-3, seed=0, crop=None,
                      n_jobs=1, progress=True):
    """Train the encoder as a 3D convolutional autoencoder on the cohort's ROI crops.

    Self-supervised: the network learns to rebuild each crop from its 32
    features, seeing images and masks only - never the outcome - so its
    features can enter a cross-validated model without leakage of the labels.

    Parameters
    ----------
    cohort : pandas.DataFrame
        Manifest rows to learn from (e.g. one row per patient: timepoint 1,
        reader 1). Unreadable rows are skipped (listed in ``model.info``).
    epochs : int, default 40
    batch_size : int, default 16
    lr : float, default 0.002
        Adam learning rate.
    seed : int, default 0
    crop : CropSpec, optional
        Input settings (see :func:`radnb.deep.crop_roi`).
    n_jobs : int, default 1
        Threads reading and cropping the scans.
    progress : bool, default True
        Progress bar over epochs with the current loss.

    Returns
    -------
    DeepModel
        ``name="ae"``, ``kind="autoencoder"``; ``history`` holds the mean
        squared reconstruction error per epoch. Save it with ``.save(path)``,
        reload with :func:`radnb.deep.load_model`.

    References
    ----------
    Hinton GE, Salakhutdinov RR. Reducing the dimensionality of data with
    neural networks. Science 2006;313:504-7. Kingma DP, Ba J. Adam. ICLR 2015.

    Examples
    --------
    >>> model = train_autoencoder(manifest, epochs=20)  # doctest: +SKIP
    >>> model.save("ae.npz")  # doctest: +SKIP
    """
    check_range("epochs", epochs, 1, 100_000)
    check_range("batch_size", batch_size, 1, 100_000)
    crop = crop if crop is not None else CropSpec()
    t0 = time.perf_counter()
    crops, ok, errors = cohort_crops(cohort, crop, n_jobs=n_jobs, progress=progress)
    if not len(crops):
        raise ValueError("no row of the cohort could be cropped; see the causes: "
                         + "; ".join(errors["message"].head(3)))
    n = crop.n_voxels
    params = {**init_encoder(crop.channels, seed), **init_decoder(crop.channels, n, seed)}

    params, history = fit_loop(ae_loss, params, [crops], epochs=epochs, batch_size=batch_size,
                               lr=lr, seed=seed, progress=progress, desc="autoencoder")
    info = {"seed": int(seed), "epochs": int(epochs), "n_train": int(len(crops)),
            "skipped": errors["case_id"].tolist(), "seconds": time.perf_counter() - t0}
    return DeepModel("ae", "autoencoder", params, crop, history, info)
