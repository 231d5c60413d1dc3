"""A small 3D CNN in JAX (CPU): layers, initialisation, Adam, and the saved model.

The encoder is three 3x3x3 convolutions with stride 2 and ReLU (8, 16, 32
channels), then a global average: a 32-number description of the crop. The
decoder (autoencoder only) is a small dense network back to the crop. No
Flax/Optax: the layers are ``jax.lax.conv_general_dilated`` calls and Adam is
written out (Kingma & Ba, ICLR 2015), which keeps the dependency to ``jax``.
"""
from __future__ import annotations

import numpy as np

from radnb.deep._jaxops import conv3d, jax_modules

__all__ = ["init_encoder", "init_decoder", "encode", "decode", "half_resolution",
           "adam_init", "adam_step", "ENCODER_CHANNELS"]

ENCODER_CHANNELS = (8, 16, 32)


def _he(rng, shape):
    fan_in = int(np.prod(shape[:-1]))
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


def init_encoder(channels_in, seed=0, channels=ENCODER_CHANNELS):
    """He-initialised encoder weights (a dict of numpy arrays)."""
    rng = np.random.default_rng(seed)
    params, c_in = {}, channels_in
    for i, c in enumerate(channels):
        params[f"enc{i}_w"] = _he(rng, (3, 3, 3, c_in, c))
        params[f"enc{i}_b"] = np.zeros(c, np.float32)
        c_in = c
    return params


def init_decoder(channels_out, n_voxels, seed=0, channels=ENCODER_CHANNELS, hidden=256):
    """Decoder weights: two dense layers from the features to the half-resolution crop.

    The decoder rebuilds the crop at half resolution (``n_voxels / 2`` a side):
    enough to force informative features. It is dense rather than
    convolutional because transposed 3D convolutions are slow to train on a
    CPU; only the encoder is kept after training.
    """
    rng = np.random.default_rng(seed + 1)
    half = n_voxels // 2
    return {"dec0_w": _he(rng, (channels[-1], hidden)), "dec0_b": np.zeros(hidden, np.float32),
            "dec1_w": _he(rng, (hidden, half ** 3 * channels_out)) * 0.5,
            "dec1_b": np.zeros(half ** 3 * channels_out, np.float32)}


def channels_last(x):
    """(N, C, D, H, W) crops -> (N, D, H, W, C)."""
    return x.transpose(0, 2, 3, 4, 1)


def encode(params, x, *, maps=False):
    """Features ``(N, 32)`` of crops ``x`` ``(N, C, n, n, n)``; ``maps=True`` also the last map."""
    jax, jnp = jax_modules()
    h = channels_last(x)
    i = 0
    while f"enc{i}_w" in params:
        h = jax.nn.relu(conv3d(h, params[f"enc{i}_w"], 2) + params[f"enc{i}_b"])
        i += 1
    feats = jnp.mean(h, axis=(1, 2, 3))
    return (feats, h) if maps else feats


def half_resolution(x):
    """2x2x2 average of (N, C, n, n, n) crops, channels last: the autoencoder's target."""
    _, jnp = jax_modules()
    h = channels_last(x)
    n, d, hh, w, c = h.shape
    h = h[:, :d // 2 * 2, :hh // 2 * 2, :w // 2 * 2]
    return h.reshape(n, d // 2, 2, hh // 2, 2, w // 2, 2, c).mean(axis=(2, 4, 6))


def decode(params, feats, n_voxels):
    """Rebuild the half-resolution crops ``(N, n/2, n/2, n/2, C)`` from features."""
    jax, _ = jax_modules()
    half = n_voxels // 2
    h = jax.nn.relu(feats @ params["dec0_w"] + params["dec0_b"])
    h = h @ params["dec1_w"] + params["dec1_b"]
    return h.reshape(feats.shape[0], half, half, half, -1)


def adam_init(params):
    """Adam state: step count and first/second moments (zeros)."""
    _, jnp = jax_modules()
    zeros = {k: jnp.zeros_like(v) for k, v in params.items()}
    return {"t": 0, "m": zeros, "v": dict(zeros)}


def adam_step(params, grads, state, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    """One Adam update (Kingma & Ba 2015, Algorithm 1); returns new params and state."""
    _, jnp = jax_modules()
    t = state["t"] + 1
    m = {k: b1 * state["m"][k] + (1 - b1) * g for k, g in grads.items()}
    v = {k: b2 * state["v"][k] + (1 - b2) * g * g for k, g in grads.items()}
    new = {k: p - lr * (m[k] / (1 - b1 ** t)) / (jnp.sqrt(v[k] / (1 - b2 ** t)) + eps)
           for k, p in params.items()}
    return new, {"t": t, "m": m, "v": v}
