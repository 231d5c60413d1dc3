"""A small 3D CNN in JAX (CPU): layers, initialisation, Adam, and the saved model.

The encoder is three 3x3x3 convolutions with stride 2 and ReLU (8, 16, 32
channels), then a global average: a 32-number description of the crop. The
decoder (autoencoder only) is a small dense network back to the crop. No
Flax/Optax: the layers are ``jax.lax.conv_general_dilated`` calls and Adam is
written out (Kingma & Ba, ICLR 2015), which keeps the dependency to ``jax``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

__all__ = ["jax_modules", "conv3d", "half_resolution", "init_encoder", "init_decoder", "encode", "decode", "adam_init",
           "adam_step", "DeepModel", "load_model", "ENCODER_CHANNELS"]

ENCODER_CHANNELS = (8, 16, 32)


def jax_modules():
    """Import JAX on the CPU (no accelerator probing), with a clear message if missing.

    Compiled programs are kept in ``<data home>/cache/jax`` (JAX's persistent
    compilation cache) unless the user set their own, so a re-run of a
    notebook does not wait for XLA again.
    """
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    try:
        import jax
        import jax.numpy as jnp
    except ImportError as exc:  # pragma: no cover - jax is a dependency
        raise ImportError("radnb.deep needs JAX (CPU): pip install jax") from exc
    if not _STATE.get("configured"):
        _STATE["configured"] = True
        if not jax.config.jax_compilation_cache_dir:
            from radnb._utils.data_home import get_data_home

            try:
                jax.config.update("jax_compilation_cache_dir",
                                  str(get_data_home() / "cache" / "jax"))
            except Exception:  # a read-only home: compile every time
                pass
    return jax, jnp


_STATE = {}


def cached_jit(key, make):
    """One jitted function per ``key`` for the whole session (no re-tracing per call)."""
    fn = _STATE.get(("jit", key))
    if fn is None:
        jax, _ = jax_modules()
        fn = _STATE[("jit", key)] = jax.jit(make())
    return fn


def _he(rng, shape):
    fan_in = int(np.prod(shape[:-1]))
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


def conv3d(x, w, stride=1, padding=None):
    """3D convolution of channels-last ``x`` (N, D, H, W, I) with ``w`` (k, k, k, I, O).

    Written as patch extraction + one matrix product ("im2col"), which XLA runs
    about ten times faster on a CPU than its generic 3D convolution. Zero
    padding ``padding`` (default ``k // 2``) on each side, as ``torch.nn.Conv3d``.
    """
    _, jnp = jax_modules()
    k = w.shape[0]
    pad = k // 2 if padding is None else int(padding)
    if k == 1 and pad == 0:
        return x[:, ::stride, ::stride, ::stride, :] @ w.reshape(w.shape[-2], w.shape[-1])
    h = jnp.pad(x, ((0, 0), (pad, pad), (pad, pad), (pad, pad), (0, 0)))
    # patches axis by axis (3 x k slices instead of k^3: a smaller graph, faster to compile)
    for axis in (1, 2, 3):
        n_out = (x.shape[axis] + 2 * pad - k) // stride + 1
        index = [slice(None)] * 5
        cols = []
        for a in range(k):
            index[axis] = slice(a, a + stride * (n_out - 1) + 1, stride)
            cols.append(h[tuple(index)])
        h = jnp.concatenate(cols, axis=-1) if k > 1 else cols[0]
    # h's last axis is ordered (kd, kh, kw, I) in reverse nesting: (kw, kh, kd) outermost first
    c_in = x.shape[-1]
    w2 = jnp.transpose(w, (2, 1, 0, 3, 4)).reshape(k * k * k * c_in, w.shape[-1])
    return h @ w2


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


def batched(fn, x, batch_size, n_out):
    """``fn`` over ``x`` in batches of one fixed shape (the last one padded): one compilation."""
    x = np.asarray(x, np.float32)
    out = []
    for i in range(0, len(x), batch_size):
        b = x[i:i + batch_size]
        k = len(b)
        if k < batch_size and len(x) > batch_size:
            b = np.concatenate([b, np.zeros((batch_size - k,) + b.shape[1:], b.dtype)])
        out.append(np.asarray(fn(b))[:k])
    return np.concatenate(out) if out else np.zeros((0, n_out), np.float32)


class DeepModel:
    """A network that turns ROI crops into deep features; save / reload it as a file.

    Attributes
    ----------
    name : str
        Short name used in the feature columns ``deep_<name>_<i>``.
    kind : {"random", "autoencoder", "supervised", "fmcib"}
    params : dict of numpy.ndarray
        The weights.
    crop : radnb.deep.CropSpec
        The input the network was built for (size, spacing, window, channels).
    history : list of float
        Training loss per epoch (empty for an untrained network).
    info : dict
        Free-form facts (seed, epochs, training rows, seconds).
    """

    def __init__(self, name, kind, params, crop, history=(), info=None):
        self.name, self.kind = str(name), str(kind)
        self.params = {k: np.asarray(v, dtype=np.float32) for k, v in params.items()}
        self.crop = crop
        self.history = [float(h) for h in history]
        self.info = dict(info or {})

    @property
    def n_features(self) -> int:
        if self.kind == "fmcib":
            return int(self.info["n_features"])
        last = max(int(k[3:-2]) for k in self.params if k.startswith("enc") and k.endswith("_w"))
        return int(self.params[f"enc{last}_w"].shape[-1])

    def fingerprint(self) -> str:
        """Content hash of the weights and input settings (the cache key of the model)."""
        from radnb.extract._cache import digest

        parts = [self.kind, json.dumps(self.crop, sort_keys=True)]
        for k in sorted(self.params):
            parts += [k, str(self.params[k].shape), self.params[k].tobytes()]
        return digest("deep-model", *parts)

    def transform(self, crops, batch_size=32):
        """Deep features ``(N, n_features)`` of crops ``(N, C, n, n, n)``."""
        if self.kind == "fmcib":
            from radnb.deep._fmcib import resnet_features

            return resnet_features(self.params, crops, self.info, batch_size=batch_size)
        jax, jnp = jax_modules()
        fn = cached_jit("encode", lambda: encode)
        p = {k: jnp.asarray(v) for k, v in self.params.items() if k.startswith("enc")}
        return batched(lambda b: fn(p, jnp.asarray(b)), crops, batch_size, self.n_features)

    def save(self, path):
        """Write the model to ``path`` (``.npz``: weights + settings), atomically."""
        import tempfile

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {"name": self.name, "kind": self.kind, "crop": dict(self.crop),
                "history": self.history, "info": self.info, "format": "radnb-deep-1"}
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, __meta__=np.frombuffer(json.dumps(meta).encode(), np.uint8), **self.params)
        os.replace(tmp, path)
        return path

    def __repr__(self):
        loss = f", final loss {self.history[-1]:.4g}" if self.history else ""
        return (f"DeepModel(name={self.name!r}, kind={self.kind!r}, {self.n_features} features, "
                f"crop {self.crop['size_mm']:g} mm at {self.crop['spacing_mm']:g} mm{loss})")


def load_model(path):
    """Reload a model written by :meth:`DeepModel.save`.

    Examples
    --------
    >>> from radnb.deep import random_model
    >>> import tempfile, os
    >>> path = random_model(seed=1).save(os.path.join(tempfile.mkdtemp(), "m.npz"))
    >>> load_model(path).kind
    'random'
    """
    from radnb.deep._crop import CropSpec

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}; save one with model.save(path).")
    with np.load(path) as data:
        if "__meta__" not in data:
            raise ValueError(f"{path} is not a radnb deep model (no settings inside); "
                             "models are written by DeepModel.save().")
        meta = json.loads(bytes(data["__meta__"]).decode())
        params = {k: data[k] for k in data.files if k != "__meta__"}
    crop = CropSpec(**meta["crop"])
    return DeepModel(meta["name"], meta["kind"], params, crop, meta["history"], meta["info"])
