"""FMCIB, the CT foundation model of Pai et al. (Nat Mach Intell 2024), run without PyTorch.

FMCIB is MONAI's 3D ResNet-50 (bottleneck blocks, widen factor 2, stride-2
first convolution, no classifier): 4096 features from a 50 x 50 x 50 mm cube
at 1 mm around a seed point, intensities -1024..3072 HU scaled to [0, 1] and
clipped, LPS orientation (the preprocessing of its ``fmcib.preprocessing``).

Its published weights are a PyTorch checkpoint (``torch.save``: a zip file
holding a pickle and one raw file per tensor). :func:`read_torch_checkpoint`
reads such a file with the standard library and numpy only - the pickle is
unpickled with a restricted loader that rebuilds tensors and refuses to run
any other code - and :func:`resnet_features` runs the network in JAX.
"""
from __future__ import annotations

import collections
import io
import pickle
import re
import zipfile
from pathlib import Path

import numpy as np

from radnb.deep._jaxops import batched, cached_jit, conv3d, jax_modules

__all__ = ["FMCIB_URL", "FMCIB_CROP", "read_torch_checkpoint", "fmcib_state", "resnet_features"]

FMCIB_URL = "https://zenodo.org/records/10528450"
FMCIB_CROP = dict(size_mm=50.0, spacing_mm=1.0, window=(-1024.0, 3072.0), with_mask=False)
_BN_EPS = 1e-5

_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}


class _Storage:
    def __init__(self, name):
        self.name = name

    @property
    def dtype(self):
        if self.name == "BFloat16Storage":
            import ml_dtypes

            return ml_dtypes.bfloat16
        return _DTYPES[self.name]


class _Inert:
    """Stand-in for any other pickled object (optimizer, trainer state): never executed."""

    def __init__(self, *args, **kwargs):
        self.args = args

    def __setstate__(self, state):
        self.state = state

    def __call__(self, *args, **kwargs):
        return _Inert(*args)


def _rebuild_tensor(storage, offset, size, stride, *args):
    arr = storage
    itemsize = arr.dtype.itemsize
    if not len(size):
        return arr[offset].copy()
    view = np.lib.stride_tricks.as_strided(arr[offset:], shape=tuple(size),
                                           strides=tuple(s * itemsize for s in stride))
    return np.array(view)


def _rebuild_parameter(data, *args):
    return data


class _Unpickler(pickle.Unpickler):
    def __init__(self, fh, archive, prefix):
        super().__init__(fh)
        self.archive, self.prefix = archive, prefix

    def find_class(self, module, name):
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor
        if module == "torch._utils" and name.startswith("_rebuild_parameter"):
            return _rebuild_parameter
        if module == "torch" and name.endswith("Storage"):
            return _Storage(name)
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        return _Inert

    def persistent_load(self, pid):
        kind, storage, key, _location, numel = pid[:5]
        if kind != "storage" or not isinstance(storage, _Storage):
            raise pickle.UnpicklingError(f"unsupported storage record {pid[:2]!r}")
        raw = self.archive.read(f"{self.prefix}data/{key}")
        return np.frombuffer(raw, dtype=storage.dtype, count=int(numel)).copy()


def read_torch_checkpoint(path):
    """Read a ``torch.save`` file (zip format, PyTorch >= 1.6) into numpy arrays, without torch.

    Returns the unpickled object with every tensor as a ``numpy.ndarray``;
    objects other than tensors and dicts are replaced by inert placeholders.
    """
    path = Path(path)
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not a PyTorch zip checkpoint (torch.save since PyTorch 1.6); "
                         "re-save it with a recent PyTorch: torch.save(torch.load(p), p).")
    with zipfile.ZipFile(path) as archive:
        pkl = [n for n in archive.namelist() if n.endswith("data.pkl")]
        if not pkl:
            raise ValueError(f"{path} has no data.pkl: not a torch.save checkpoint.")
        prefix = pkl[0][: -len("data.pkl")]
        order = archive.read(prefix + "byteorder").decode() if prefix + "byteorder" in \
            archive.namelist() else "little"
        if order.strip() != "little":
            raise ValueError(f"{path} was saved on a big-endian machine; not supported.")
        return _Unpickler(io.BytesIO(archive.read(pkl[0])), archive, prefix).load()


def _state_dict(ckpt):
    if isinstance(ckpt, dict) and "trunk_state_dict" in ckpt:
        sd = ckpt["trunk_state_dict"]
    elif isinstance(ckpt, dict) and "state_dict" in ckpt:
        sd = ckpt["state_dict"]
    else:
        sd = ckpt
    if not isinstance(sd, dict):
        raise ValueError("the checkpoint holds no state dict (expected 'trunk_state_dict' or "
                         "'state_dict' as in FMCIB's published weights).")
    out = {}
    for k, v in sd.items():
        k = re.sub(r"^(module\.|model\.trunk\.|model\.backbone\.|trunk\.)+", "", k)
        if isinstance(v, np.ndarray) and not k.startswith(("model.heads", "heads", "fc.")):
            out[k] = v
    return out


def fmcib_state(weights):
    """FMCIB's weights as numpy arrays and the network's shape: ``(params, info)``."""
    from radnb._utils.data_home import get_data_home

    where = get_data_home() / "models" / "fmcib" / "model_weights.torch"
    if weights is None and where.is_file():
        weights = where
    if weights is None or not Path(weights).expanduser().is_file():
        told = "" if weights is None else f"{weights} does not exist. "
        raise FileNotFoundError(
            f"{told}FMCIB's weights are not on this computer (radnb never downloads at run "
            f"time). Download model_weights.torch (about 740 MB) from {FMCIB_URL} , put it at "
            f"{where} (or anywhere), then call deep_features(cohort, model='fmcib', "
            "weights=path)."
        )
    sd = _state_dict(read_torch_checkpoint(Path(weights).expanduser()))
    if "conv1.weight" not in sd or not any(k.startswith("layer1.") for k in sd):
        raise ValueError(f"{weights} is not an FMCIB / MONAI ResNet checkpoint (no conv1 and "
                         f"layer1 weights; keys start with {sorted(sd)[:3]}).")
    layers = [len({k.split(".")[1] for k in sd if k.startswith(f"layer{i}.")}) for i in (1, 2, 3, 4)]
    last = f"layer4.{layers[3] - 1}.bn3.weight"
    params = {k: np.asarray(v, np.float32) for k, v in sd.items()
              if not k.endswith("num_batches_tracked")}
    return params, {"layers": layers, "n_features": int(sd[last].shape[0]),
                    "weights": str(weights)}


def _conv(p, name, x, stride, padding):
    w = p[f"{name}.weight"].transpose(2, 3, 4, 1, 0)  # torch (O, I, D, H, W) -> (D, H, W, I, O)
    y = conv3d(x, w, stride, padding)
    return y + p[f"{name}.bias"] if f"{name}.bias" in p else y


def _bn(p, name, x):
    _, jnp = _jax()
    scale = p[f"{name}.weight"] / jnp.sqrt(p[f"{name}.running_var"] + _BN_EPS)
    return (x - p[f"{name}.running_mean"]) * scale + p[f"{name}.bias"]


def _jax():
    return jax_modules()


def resnet_forward(p, x, layers):
    """MONAI ResNet (bottleneck) trunk in inference mode: crops (N, 1, D, H, W) -> (N, F)."""
    jax, jnp = _jax()
    h = x.transpose(0, 2, 3, 4, 1)
    k = p["conv1.weight"].shape[-1]
    h = jax.nn.relu(_bn(p, "bn1", _conv(p, "conv1", h, 2, k // 2)))
    h = jax.lax.reduce_window(h, -jnp.inf, jax.lax.max, (1, 3, 3, 3, 1), (1, 2, 2, 2, 1),
                              ((0, 0), (1, 1), (1, 1), (1, 1), (0, 0)))
    for i, n_blocks in enumerate(layers, start=1):
        for j in range(n_blocks):
            b = f"layer{i}.{j}"
            stride = 2 if (i > 1 and j == 0) else 1
            out = jax.nn.relu(_bn(p, f"{b}.bn1", _conv(p, f"{b}.conv1", h, 1, 0)))
            out = jax.nn.relu(_bn(p, f"{b}.bn2", _conv(p, f"{b}.conv2", out, stride, 1)))
            out = _bn(p, f"{b}.bn3", _conv(p, f"{b}.conv3", out, 1, 0))
            if f"{b}.downsample.0.weight" in p:
                h = _bn(p, f"{b}.downsample.1", _conv(p, f"{b}.downsample.0", h, stride, 0))
            h = jax.nn.relu(out + h)
    return jnp.mean(h, axis=(1, 2, 3))


def resnet_features(params, crops, info, batch_size=4):
    """FMCIB features of crops ``(N, 1, 50, 50, 50)`` (batched, one compilation)."""
    jax, jnp = _jax()
    layers = tuple(info["layers"])
    fn = cached_jit(("resnet", layers), lambda: lambda p, x: resnet_forward(p, x, layers))
    p = {k: jnp.asarray(v) for k, v in params.items()}
    return batched(lambda b: fn(p, jnp.asarray(b)), crops, min(batch_size, 4), info["n_features"])
