"""The saved model: weights + input settings, reloadable from one ``.npz`` file."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from radnb.deep._crop import CropSpec
from radnb.deep._fmcib import FMCIB_CROP, fmcib_state, resnet_features
from radnb.deep._jaxops import batched, cached_jit, jax_modules
from radnb.deep._nets import encode

__all__ = ["DeepModel", "load_model", "load_fmcib"]


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


def load_fmcib(weights=None):
    """Load FMCIB's weights from disk as a radnb model (no download, no PyTorch).

    Parameters
    ----------
    weights : str or Path
        FMCIB's checkpoint ``model_weights.torch`` (about 740 MB), downloaded
        once from Zenodo (record 10528450, ``radnb.deep.FMCIB_URL``) and kept anywhere,
        e.g. ``~/radnb_data/models/fmcib/model_weights.torch``.

    Returns
    -------
    DeepModel
        ``name="fmcib"``, its input settings FMCIB's (50 mm cube at 1 mm,
        -1024..3072 HU scaled to [0, 1], image only); features: the network's
        global average pool (4096 for the published model).

    References
    ----------
    Pai S, Bontempi D, Hadzic I, et al. Foundation model for cancer imaging
    biomarkers. Nat Mach Intell 2024;6:354-367.

    Examples
    --------
    >>> model = load_fmcib("~/radnb_data/models/fmcib/model_weights.torch")  # doctest: +SKIP
    """
    params, info = fmcib_state(weights)
    return DeepModel("fmcib", "fmcib", params, CropSpec(**FMCIB_CROP), info=info)
