"""A small 3D CNN trained on the outcome, honestly: inside cross-validation folds only."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

from radnb._utils.validation import check_range
from radnb.deep._crop import CropSpec
from radnb.deep._data import cohort_crops
from radnb.deep._jaxops import jax_modules
from radnb.deep._model import DeepModel
from radnb.deep._nets import encode, init_encoder
from radnb.deep._train import fit_loop

__all__ = ["cross_validate_cnn", "CNNResult", "train_cnn", "predict_cnn", "cnn_loss"]

WEIGHT_DECAY = 1e-3


def cnn_loss(p, x, y):
    """Logistic loss of the encoder + linear head, plus L2 weight decay."""
    jax, jnp = jax_modules()
    logit = encode(p, x) @ p["head_w"] + p["head_b"]
    loss = jnp.mean(jax.nn.softplus(logit) - y * logit)
    decay = sum(jnp.sum(v ** 2) for k, v in p.items() if k.endswith("_w"))
    return loss + WEIGHT_DECAY * decay


def train_cnn(crops, y, *, epochs=30, batch_size=16, lr=2e-3, seed=0, crop=None, progress=False,
              desc="CNN"):
    """Fit encoder + logistic head on ``crops`` with 0/1 labels ``y``; returns a DeepModel."""
    crop = crop if crop is not None else CropSpec()
    params = init_encoder(crop.channels, seed)
    params["head_w"] = np.zeros(params[max(k for k in params if k.endswith("_w"))].shape[-1],
                                np.float32)
    params["head_b"] = np.zeros((), np.float32)
    params, history = fit_loop(cnn_loss, params, [crops, np.asarray(y, np.float32)],
                               epochs=epochs, batch_size=batch_size, lr=lr, seed=seed,
                               progress=progress, desc=desc)
    return DeepModel("cnn", "supervised", params, crop, history,
                     {"seed": int(seed), "epochs": int(epochs), "n_train": int(len(crops))})


def predict_cnn(model, crops):
    """Predicted probability of outcome = 1 for ``crops`` from a supervised model."""
    feats = model.transform(crops)
    logit = feats @ model.params["head_w"] + model.params["head_b"]
    return 1.0 / (1.0 + np.exp(-logit))


class CNNResult:
    """Result of :func:`cross_validate_cnn`.

    Attributes
    ----------
    oof : pandas.DataFrame
        One row per cropped manifest row: identifiers, ``outcome``, ``fold``
        and ``probability`` from the fold's network, which never saw that row.
    folds : pandas.DataFrame
        ``fold``, ``n_train``, ``n_test``, ``AUC``, ``final_loss``.
    auc_mean : float
        Mean of the fold AUCs (how the folds went; report the AUC of the
        pooled ``oof`` predictions with its DeLong interval instead).
    errors : pandas.DataFrame
        Rows that could not be read or cropped.
    seconds : float
    """

    def __init__(self, **fields):
        self.__dict__.update(fields)

    def __repr__(self):
        return (f"CNNResult(mean of {len(self.folds)} fold AUCs {self.auc_mean:.3f}, not a pooled "
                "estimate: report radnb.evaluate.roc_auc_ci(oof['outcome'], oof['probability']); "
                f"{len(self.oof)} rows, {self.seconds:.0f} s)")


def cross_validate_cnn(cohort, outcome="outcome", *, cv=5, epochs=30, batch_size=16, lr=2e-3,
                       seed=0, crop=None, n_jobs=1, progress=True):
    """Train the CNN on the outcome inside each cross-validation fold and predict the held-out fold.

    For each of ``cv`` folds a new network is trained from scratch on the
    other folds' rows only and predicts the fold's rows; the rows of one
    patient (``case_id``) always stay in one fold (grouped, stratified folds).
    The out-of-fold probabilities are therefore an honest estimate: the
    network that scored a patient never saw that patient - with pure-noise
    labels the AUC stays near 0.5 (see the tests).

    Parameters
    ----------
    cohort : pandas.DataFrame
        Manifest with the outcome column (0/1).
    outcome : str, default "outcome"
    cv : int, default 5
    epochs, batch_size, lr, seed
        Training settings (Adam).
    crop : CropSpec, optional
    n_jobs : int, default 1
        Threads reading the scans.
    progress : bool, default True
        A bar over folds (and epochs within).

    Returns
    -------
    CNNResult
        ``oof``, ``folds``, ``auc_mean``, ``errors``.

    Examples
    --------
    >>> res = cross_validate_cnn(manifest, "outcome", cv=5)  # doctest: +SKIP
    >>> res.auc_mean  # doctest: +SKIP
    """
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedGroupKFold
    from tqdm.auto import tqdm

    check_range("cv", cv, 2, 1000)
    crop = crop if crop is not None else CropSpec()
    t0 = time.perf_counter()
    crops, rows, errors = cohort_crops(cohort, crop, n_jobs=n_jobs, progress=progress)
    if outcome not in rows.columns:
        raise KeyError(f"outcome column {outcome!r} is not in the cohort; columns: "
                       f"{list(rows.columns)}")
    y = pd.to_numeric(rows[outcome], errors="coerce").to_numpy()
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"outcome {outcome!r} must be 0/1 for every row (found "
                         f"{sorted(set(np.unique(y[~np.isnan(y)])) - {0, 1})[:5]} or missing).")
    splitter = StratifiedGroupKFold(n_splits=cv, shuffle=True, random_state=seed)
    prob = np.full(len(y), np.nan)
    fold_of = np.zeros(len(y), int)
    folds = []
    splits = list(splitter.split(crops, y, groups=rows["case_id"]))
    for k, (train, test) in enumerate(tqdm(splits, desc="CV folds", disable=not progress,
                                          leave=False), start=1):
        model = train_cnn(crops[train], y[train], epochs=epochs, batch_size=batch_size, lr=lr,
                          seed=seed + k, crop=crop, progress=progress, desc=f"fold {k}")
        prob[test] = predict_cnn(model, crops[test])
        fold_of[test] = k
        auc = roc_auc_score(y[test], prob[test]) if len(set(y[test])) == 2 else np.nan
        folds.append({"fold": k, "n_train": len(train), "n_test": len(test), "AUC": auc,
                      "final_loss": model.history[-1]})
    ids = [c for c in ("case_id", "timepoint", "reader", "site") if c in rows.columns]
    oof = rows[ids].copy()
    oof["outcome"], oof["fold"], oof["probability"] = y.astype(int), fold_of, prob
    folds = pd.DataFrame(folds)
    return CNNResult(oof=oof, folds=folds, auc_mean=float(folds["AUC"].mean()), errors=errors,
                     seconds=time.perf_counter() - t0)
