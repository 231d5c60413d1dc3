"""JAX on the CPU: import, compilation cache, a fast 3D convolution, fixed-shape batching."""
from __future__ import annotations

import os

import numpy as np

__all__ = ["jax_modules", "cached_jit", "conv3d", "batched"]


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
