"""``deep_features``: a manifest in, a tidy table of deep features out, cached like extraction."""
from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd

from radnb._utils.errors import user_stacklevel
from radnb.deep._data import ERROR_COLUMNS, error_row, identifiers, read_row, run_rows
from radnb.deep._crop import crop_roi

__all__ = ["deep_features", "DeepExtraction", "DeepFeatureWarning", "resolve_model"]

_LAYOUT = "deep-v1"


class DeepFeatureWarning(UserWarning):
    """Some rows failed; the others were computed (see ``result.errors``)."""


class DeepExtraction:
    """Result of :func:`deep_features`.

    Attributes
    ----------
    features : pandas.DataFrame
        One row per manifest row that could be read: ``case_id``, ``timepoint``,
        ``reader``, ``site`` (and ``label``), then ``deep_<model>_<i>``.
    errors : pandas.DataFrame
        One row per failed manifest row: ``case_id``, ``timepoint``, ``reader``,
        ``stage`` (``"read"``, ``"crop"``) and ``message``.
    cache_stats : dict
        ``hits`` (rows read from the cache), ``misses`` (rows computed),
        ``failed``.
    model : DeepModel
    seconds : float
    """

    def __init__(self, features, errors, cache_stats, model, seconds):
        self.features, self.errors, self.cache_stats = features, errors, cache_stats
        self.model, self.seconds = model, seconds

    @property
    def feature_names(self):
        return [c for c in self.features.columns if str(c).startswith("deep_")]

    def __repr__(self):
        s = self.cache_stats
        return (f"DeepExtraction({len(self.features)} rows x {len(self.feature_names)} "
                f"deep_{self.model.name} features, {len(self.errors)} failed, "
                f"{s['hits']} from cache, {s['misses']} computed, {self.seconds:.1f} s)")


def resolve_model(model, weights=None, seed=0):
    """A DeepModel from a name, a file or a model."""
    from radnb.deep._model import DeepModel, load_model

    if isinstance(model, DeepModel):
        return model
    if model == "random":
        from radnb.deep._train import random_model

        return random_model(seed)
    if model == "fmcib":
        from radnb.deep._model import load_fmcib

        return load_fmcib(weights)
    if isinstance(model, str) and not str(model).endswith(".npz"):
        raise ValueError(f"model must be 'random', 'fmcib' (with weights=path), a DeepModel "
                         f"(e.g. from radnb.deep.train_autoencoder) or a saved .npz file; "
                         f"got {model!r}.")
    return load_model(model)


def _prepare(row, model_key, spec, cache):
    """Cache lookup for one row; on a miss, read and crop (or an error row)."""
    from radnb.extract._cache import digest, file_signature, image_digest

    sig_i, sig_m = file_signature(row["image"]), file_signature(row["mask"])
    ih = cache.memo_get(sig_i, "deep-image") if cache else None
    mh = cache.memo_get(sig_m, f"deep-mask|{row.get('roi')}|{ih}") if cache and ih else None
    label = int(row.get("label", 1))
    if ih and mh:
        hit = cache.get(digest(_LAYOUT, model_key, ih, mh, label))
        if hit is not None:
            return {"status": "hit", "values": hit["values"]}
    try:
        image, mask = read_row(row)
    except Exception as exc:  # one unreadable case never stops the cohort
        return {"status": "error", "error": error_row(row, "read", exc)}
    if cache is not None:
        ih, mh = image_digest(image), image_digest(mask)
        cache.memo_put(sig_i, ih, "deep-image")
        cache.memo_put(sig_m, mh, f"deep-mask|{row.get('roi')}|{ih}")
        hit = cache.get(digest(_LAYOUT, model_key, ih, mh, label))
        if hit is not None:
            return {"status": "hit", "values": hit["values"]}
    try:
        crop = crop_roi(image, mask, label=label, spec=spec)
    except Exception as exc:
        return {"status": "error", "error": error_row(row, "crop", exc)}
    key = digest(_LAYOUT, model_key, ih, mh, label) if cache is not None else None
    return {"status": "miss", "crop": crop, "key": key}


def deep_features(cohort, model="random", *, weights=None, cache_dir=None, n_jobs=1,
                  batch_size=16, progress=True, seed=0):
    """Deep features of every manifest row: crop around the ROI, run a network, keep its features.

    Parameters
    ----------
    cohort : pandas.DataFrame
        A manifest (see :mod:`radnb.cohort`): ``case_id``, ``image``, ``mask``,
        optionally ``label``, ``reader``, ``timepoint``, ``site``, ``roi``.
    model : str, path or DeepModel, default "random"
        * ``"random"``: the untrained encoder (random weights, ``seed``) - the
          baseline every learned model must beat;
        * a :class:`DeepModel`, e.g. from :func:`train_autoencoder`, or the
          ``.npz`` file it was saved to;
        * ``"fmcib"``: the FMCIB foundation model (Pai et al. 2024) from its
          PyTorch checkpoint ``weights`` (see :func:`load_fmcib`).
    weights : str or Path, optional
        The checkpoint file for ``model="fmcib"``.
    cache_dir : str or Path, optional
        Cache folder (default ``get_data_home() / "cache"``, shared with
        :func:`radnb.extract.extract_features`). ``False`` disables the cache.
    n_jobs : int, default 1
        Threads reading and cropping the scans (-1: all cores).
    batch_size : int, default 16
        Crops per network call.
    progress : bool, default True
    seed : int, default 0
        Seed of the random network (``model="random"``).

    Returns
    -------
    DeepExtraction
        ``.features`` (one row per readable manifest row, identifiers kept,
        columns ``deep_<model>_<i>``), ``.errors``, ``.cache_stats``.

    Notes
    -----
    **Input.** Each row becomes a cube of fixed physical size centred on the
    ROI's centroid, resampled to isotropic voxels and windowed
    (:func:`crop_roi`; the model stores its own settings: 48 mm at 2 mm,
    W 400 / L 40 HU, image + mask for radnb's networks; 50 mm at 1 mm,
    -1024..3072 HU, image only for FMCIB).

    **Cache.** A row's features are stored under a key made of the model's
    weights and input settings, and the image and mask *content* (as in
    :mod:`radnb.extract`): a re-run reads them, renamed files still hit, a
    retrained model or an edited mask misses. Every row is stored as soon as
    its batch is done, so an interrupted run resumes where it stopped.

    Examples
    --------
    >>> from radnb.datasets import load_demo_cohort
    >>> res = deep_features(load_demo_cohort(), "random")  # doctest: +SKIP
    >>> res.features.filter(like="deep_").shape  # doctest: +SKIP
    (300, 32)
    """
    from tqdm.auto import tqdm

    from radnb.extract._cache import Cache

    t0 = time.perf_counter()
    df = identifiers(cohort)
    model = resolve_model(model, weights, seed)
    cache = None
    if cache_dir is not False:
        if cache_dir is None:
            from radnb._utils.data_home import get_data_home

            cache_dir = get_data_home() / "cache"
        cache = Cache(cache_dir)
    model_key = model.fingerprint()
    rows = [r for _, r in df.iterrows()]
    prepared = run_rows(lambda r: _prepare(r, model_key, model.crop, cache), rows, n_jobs,
                        progress, "reading")
    values = [p.get("values") for p in prepared]
    misses = [i for i, p in enumerate(prepared) if p["status"] == "miss"]
    bar = tqdm(total=len(misses), desc=f"deep_{model.name}", disable=not progress, leave=False)
    for start in range(0, len(misses), batch_size):
        chunk = misses[start:start + batch_size]
        feats = model.transform(np.stack([prepared[i]["crop"] for i in chunk]), batch_size)
        for i, f in zip(chunk, feats):
            values[i] = [float(v) for v in f]
            if cache is not None:
                cache.put(prepared[i]["key"], {"values": values[i]})
            prepared[i].pop("crop")
        bar.update(len(chunk))
    bar.close()
    ok = [i for i, v in enumerate(values) if v is not None]
    ids = [c for c in ("case_id", "timepoint", "reader", "site", "label") if c in df.columns]
    names = [f"deep_{model.name}_{j}" for j in range(model.n_features)]
    feats = pd.DataFrame(np.array([values[i] for i in ok], dtype=float).reshape(len(ok), -1),
                         columns=names)
    out = pd.concat([df.iloc[ok][ids].reset_index(drop=True), feats], axis=1)
    errors = pd.DataFrame([p["error"] for p in prepared if p["status"] == "error"],
                          columns=ERROR_COLUMNS)
    stats = {"hits": sum(p["status"] == "hit" for p in prepared), "misses": len(misses),
             "failed": len(errors)}
    if len(errors):
        warnings.warn(f"{len(errors)} of {len(df)} rows failed; see result.errors",
                      DeepFeatureWarning, stacklevel=user_stacklevel())
    return DeepExtraction(out, errors, stats, model, time.perf_counter() - t0)
