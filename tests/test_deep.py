"""radnb.deep: crops, JAX networks, cached deep features, FMCIB loading, no-leakage CV, fusion.

References used as oracles:
* FMCIB / MONAI ResNet: PyTorch + MONAI's own forward pass (tests/data/make_fmcib_tiny.py
  wrote a tiny FMCIB-shaped checkpoint and PyTorch's output for a seeded input).
* 3D convolution: ``jax.lax.conv_general_dilated`` (XLA's reference convolution).
* ICC: pingouin.intraclass_corr (established implementation) for one deep feature.
* Linear interpolation is exact on a linear intensity ramp (checks crop geometry).
"""
from __future__ import annotations

import os
import pickle
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

import radnb.deep as deep
from radnb.deep._jaxops import conv3d

DATA = Path(__file__).parent / "data"


def _ramp_case(tmp_path, spacing=(0.7, 0.7, 2.5), origin=(-30.0, 12.0, 40.0)):
    """An image whose HU value equals its physical x coordinate, and a box ROI."""
    size = (80, 80, 30)
    arr = np.zeros(size[::-1], np.float32)
    img = sitk.GetImageFromArray(arr)
    img.SetSpacing(spacing)
    img.SetOrigin(origin)
    x = origin[0] + np.arange(size[0]) * spacing[0]
    img = sitk.GetImageFromArray(np.broadcast_to(x, size[::-1]).astype(np.float32))
    img.SetSpacing(spacing)
    img.SetOrigin(origin)
    mask = sitk.Image(size, sitk.sitkUInt8)
    mask.CopyInformation(img)
    mask[30:50, 30:50, 10:20] = 1
    return img, mask


def test_crop_is_centred_resampled_and_windowed(tmp_path):
    img, mask = _ramp_case(tmp_path)
    from radnb.deep._crop import roi_centroid
    centre = roi_centroid(mask)
    crop = deep.crop_roi(img, mask, size_mm=20, spacing_mm=1.0, window=(-40, 40))
    assert crop.shape == (2, 20, 20, 20)
    # voxel centres of the crop along x, in mm; HU = x, window (-40, 40) -> (x + 40) / 80
    xs = centre[0] - 9.5 + np.arange(20)
    expected = np.clip((xs + 40) / 80, 0, 1)
    np.testing.assert_allclose(crop[0, 10, 10, :], expected, atol=1e-4)
    # the ROI (20 x 0.7 = 14 mm wide) sits in the middle of the mask channel
    prof = crop[1, 10, 10, :]
    assert prof[10] == 1 and prof[0] == 0 and prof[-1] == 0
    assert abs(np.nonzero(prof)[0].mean() - 9.5) <= 0.5


def test_crop_outside_scan_is_air_and_errors_are_clear(tmp_path):
    img, mask = _ramp_case(tmp_path)
    crop = deep.crop_roi(img, mask, size_mm=200, spacing_mm=4, window=(-1024, 3072),
                         with_mask=False)
    assert crop.shape == (1, 50, 50, 50)
    assert crop[0, 0, 0, 0] == 0.0          # -1024 HU outside the scan -> bottom of window
    with pytest.raises(ValueError, match="no voxel with label 3"):
        deep.crop_roi(img, mask, label=3)
    with pytest.raises(ValueError, match="window"):
        deep.crop_roi(img, mask, window=(10, -10))


@pytest.mark.parametrize("k,stride,pad", [(3, 1, 1), (3, 2, 1), (1, 2, 0), (7, 2, 3)])
def test_conv3d_equals_xla_convolution(k, stride, pad):
    import jax
    rng = np.random.default_rng(0)
    x = rng.random((2, 9, 10, 11, 3), dtype=np.float32)
    w = rng.standard_normal((k, k, k, 3, 4)).astype(np.float32)
    ref = jax.lax.conv_general_dilated(x, w, (stride,) * 3, [(pad, pad)] * 3,
                                       dimension_numbers=("NDHWC", "DHWIO", "NDHWC"))
    np.testing.assert_allclose(np.asarray(conv3d(x, w, stride, pad)), np.asarray(ref),
                               rtol=1e-4, atol=1e-4)


def _fmcib_checkpoint(tmp_path):
    """The tiny FMCIB-shaped checkpoint: made now with PyTorch + MONAI if installed."""
    try:
        import monai  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        return DATA / "fmcib_tiny.torch", np.load(DATA / "fmcib_tiny_reference.npz")["output"]
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_tiny", DATA / "make_fmcib_tiny.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main(tmp_path)
    return tmp_path / "fmcib_tiny.torch", np.load(tmp_path / "fmcib_tiny_reference.npz")["output"]


def test_fmcib_checkpoint_runs_as_in_pytorch(tmp_path):
    path, reference = _fmcib_checkpoint(tmp_path)
    model = deep.load_fmcib(path)
    assert model.crop["size_mm"] == 50 and model.crop["spacing_mm"] == 1
    assert model.crop["window"] == (-1024.0, 3072.0) and not model.crop["with_mask"]
    x = np.random.default_rng(0).random((2, 1, 50, 50, 50), dtype=np.float32)
    out = model.transform(x)
    assert out.shape == reference.shape
    np.testing.assert_allclose(out, reference, rtol=1e-4, atol=1e-5)


def test_fmcib_missing_weights_say_where_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setenv("RADNB_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError) as err:
        deep.load_fmcib(tmp_path / "nowhere.torch")
    msg = str(err.value)
    assert "zenodo.org/records/10528450" in msg
    assert str(tmp_path / "models" / "fmcib" / "model_weights.torch") in msg
    with pytest.raises(FileNotFoundError, match="zenodo"):
        deep.deep_features(pd.DataFrame({"case_id": ["a"], "image": ["x"], "mask": ["y"]}),
                           model="fmcib", cache_dir=False, progress=False)


def test_checkpoint_reader_never_runs_pickled_code(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "evil.torch"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("evil/data.pkl", pickle.dumps({"state_dict": {"x": Evil()}}, protocol=2))
    from radnb.deep._fmcib import read_torch_checkpoint

    read_torch_checkpoint(path)
    assert not marker.exists()
    with pytest.raises(ValueError, match="not an FMCIB"):
        deep.load_fmcib(path)


def test_deep_features_table_cache_resume_and_errors(small_demo, tmp_path):
    rows = small_demo[small_demo.timepoint == 1].reset_index(drop=True)
    cache = tmp_path / "cache"
    half = deep.deep_features(rows.head(5), "random", cache_dir=cache, progress=False)
    assert half.cache_stats == {"hits": 0, "misses": 5, "failed": 0}
    full = deep.deep_features(rows, "random", cache_dir=cache, progress=False, n_jobs=2)
    assert full.cache_stats["hits"] == 5 and full.cache_stats["misses"] == len(rows) - 5
    feats = full.features
    assert len(feats) == len(rows)
    assert list(feats[["case_id", "timepoint", "reader"]].itertuples(index=False)) == \
        list(rows[["case_id", "timepoint", "reader"]].itertuples(index=False))
    names = [f"deep_random_{i}" for i in range(32)]
    assert [c for c in feats.columns if c.startswith("deep_")] == names
    # cached values equal freshly computed ones; renamed files still hit the cache
    fresh = deep.deep_features(rows, "random", cache_dir=False, progress=False)
    np.testing.assert_allclose(feats[names].to_numpy(), fresh.features[names].to_numpy(),
                               rtol=1e-6)
    moved = rows.head(2).copy()
    for i in range(2):
        for col in ("image", "mask"):
            new = tmp_path / f"{i}_{col}_{Path(moved.loc[i, col]).name}"
            shutil.copy(moved.loc[i, col], new)
            moved.loc[i, col] = str(new)
    again = deep.deep_features(moved, "random", cache_dir=cache, progress=False)
    assert again.cache_stats["hits"] == 2
    # another model (seed) misses; a broken row becomes an error row
    broken = rows.head(3).copy()
    broken.loc[1, "image"] = str(tmp_path / "missing.nii.gz")
    with pytest.warns(deep.DeepFeatureWarning, match="1 of 3 rows failed"):
        res = deep.deep_features(broken, "random", seed=1, cache_dir=cache, progress=False)
    assert len(res.features) == 2 and res.cache_stats["misses"] == 2
    assert res.errors.loc[0, "case_id"] == broken.loc[1, "case_id"]
    assert res.errors.loc[0, "stage"] == "read" and "missing.nii.gz" in res.errors.loc[0, "message"]


@pytest.mark.slow
def test_autoencoder_learns_saves_and_reloads(small_demo, tmp_path):
    rows = small_demo[(small_demo.timepoint == 1) & (small_demo.reader == 1)]
    model = deep.train_autoencoder(rows, epochs=8, batch_size=4, progress=False)
    assert model.kind == "autoencoder" and len(model.history) == 8
    assert model.history[-1] < 0.7 * model.history[0]
    path = model.save(tmp_path / "ae.npz")
    again = deep.load_model(path)
    assert again.fingerprint() == model.fingerprint() and again.history == model.history
    a = deep.deep_features(rows, model, cache_dir=False, progress=False).features
    b = deep.deep_features(rows, path, cache_dir=False, progress=False).features
    pd.testing.assert_frame_equal(a, b)
    assert a.filter(like="deep_ae_").shape == (len(rows), 32)
    # the learned model differs from the random-init baseline of the same shape
    base = deep.random_model(seed=0)
    assert {k: v.shape for k, v in base.params.items()} == \
        {k: v.shape for k, v in model.params.items() if k.startswith("enc")}


@pytest.mark.slow
def test_cnn_in_cv_folds_does_not_leak(demo_manifest):
    rows = demo_manifest[(demo_manifest.timepoint == 1) & (demo_manifest.reader == 1)].copy()
    rng = np.random.default_rng(42)
    rows["noise"] = rng.integers(0, 2, len(rows))
    res = deep.cross_validate_cnn(rows, "noise", cv=3, epochs=12, progress=False)
    # every row is scored once, by a network trained on the other folds' patients
    assert res.oof["probability"].notna().all() and len(res.oof) == len(rows)
    assert res.oof.groupby("case_id")["fold"].nunique().max() == 1
    from sklearn.metrics import roc_auc_score
    auc = roc_auc_score(res.oof["outcome"], res.oof["probability"])
    assert abs(auc - 0.5) < 0.15, auc       # noise labels: nothing to learn, nothing leaked
    # positive control: a label the crop does show (large ROI) is learned in the same folds
    vol = [sitk.GetArrayViewFromImage(sitk.ReadImage(p)).sum() for p in rows["mask"]]
    rows["large"] = (np.asarray(vol) > np.median(vol)).astype(int)
    res = deep.cross_validate_cnn(rows, "large", cv=3, epochs=12, progress=False)
    assert roc_auc_score(res.oof["outcome"], res.oof["probability"]) > 0.75
    # the summary names the mean fold AUC for what it is and points to the pooled estimate
    assert f"mean of 3 fold AUCs {res.auc_mean:.3f}, not a pooled estimate" in repr(res)


def test_deep_icc_matches_pingouin(small_demo, monkeypatch):
    pg = pytest.importorskip("pingouin")
    monkeypatch.setitem(pg.options, "round", None)
    rows = small_demo[small_demo.timepoint == 1]
    feats = deep.deep_features(rows, "random", cache_dir=False, progress=False).features
    table = deep.deep_icc(feats, by="reader")
    assert set(table["feature_class"]) == {"deep"} and set(table["image_type"]) == {"random"}
    col = table.dropna(subset=["ICC"]).iloc[0]["feature"]
    ref = pg.intraclass_corr(feats, targets="case_id", raters="reader", ratings=col)
    # pingouin labels the two-way random, absolute-agreement, single-rater form "ICC2"
    # (older releases) or "ICC(A,1)"
    expected = ref[ref["Type"].isin(["ICC2", "ICC(A,1)"])]["ICC"].item()
    assert table.set_index("feature").loc[col, "ICC"] == pytest.approx(expected, abs=1e-9)


@pytest.mark.slow
def test_fusion_compares_with_radscore_by_paired_delong():
    from radnb.evaluate import delong_test
    rng = np.random.default_rng(0)
    n = 90
    y = rng.integers(0, 2, n)
    data = pd.DataFrame({"case_id": [f"P{i}" for i in range(n)], "outcome": y,
                         "age": rng.normal(60, 8, n)})
    for i, name in enumerate(["Mean", "Energy", "Entropy", "Kurtosis"]):
        data[f"original_firstorder_{name}"] = y * (1.0 if i == 0 else 0) + rng.normal(0, 1, n)
    for i in range(4):
        data[f"deep_ae_{i}"] = y * (0.6 if i == 0 else 0) + rng.normal(0, 1, n)
    scores, summary = deep.fusion_scores(data, "outcome", clinical=["age"], cv=3, inner_cv=3)
    assert list(summary["model"]) == ["radscore", "deep", "early_fusion", "late_fusion"]
    assert len(scores) == n and scores[["radscore", "deep"]].notna().all().all()
    row = summary.set_index("model").loc["deep"]
    ref = delong_test(y, scores["deep"], scores["radscore"]).iloc[0]
    assert row["p-val"] == pytest.approx(ref["p-val"]) and 0 <= row["p-val"] <= 1
    assert summary.set_index("model").loc["radscore", "AUC"] > 0.6
    # ComBat inside the folds works on deep columns too
    data["site"] = np.repeat(["A", "B", "C"], n // 3)
    data[[c for c in data if c.startswith("deep_")]] += (data["site"] == "B").to_numpy()[:, None]
    scores_h, summary_h = deep.fusion_scores(data, "outcome", cv=3, inner_cv=3, harmonize="site")
    assert summary_h["AUC"].notna().all() and len(scores_h) == n


def test_occlusion_saliency_on_the_scan_grid(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    img, mask = _ramp_case(tmp_path)
    img = sitk.Cast(img * 0 + 40, sitk.sitkFloat32)
    arr = sitk.GetArrayFromImage(img)
    arr[12:18, 38:42, 38:42] = 200                   # a bright spot inside the ROI
    bright = sitk.GetImageFromArray(arr)
    bright.CopyInformation(img)
    model = deep.random_model(seed=3)
    sal = deep.occlusion_saliency(model, bright, mask)
    assert sal.GetSize() == bright.GetSize() and sal.GetSpacing() == bright.GetSpacing()
    s = sitk.GetArrayFromImage(sal)
    assert s[0, 0, 0] == 0 and s.max() > 0          # zero outside the crop
    # occluding the bright spot changes the features more than occluding flat tissue
    assert s[15, 40, 40] > np.median(s[s > 0])
    labels = sitk.GetArrayFromImage(deep.saliency_mask(sal, mask, quantile=0.9))
    assert set(np.unique(labels)) <= {0, 1, 2} and (labels == 2).any() and (labels == 1).any()
    ax = deep.plot_saliency(bright, sal, mask)
    assert len(ax.images) == 2 and "mm" in ax.get_xlabel()
