"""radnb.extract: exact pyradiomics values, content-addressed cache, failures, resume, Dask.

Reference implementation: pyradiomics itself
(``radiomics.featureextractor.RadiomicsFeatureExtractor(...).execute``; van Griethuysen
et al., Cancer Res 2017) and its published baseline values (``baseline/*.csv`` of the
pyradiomics repository, in ../shared/data/pyradiomics).
"""
from __future__ import annotations

import ast
import logging
import math
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from radnb.extract import (
    ExtractionWarning, cache_info, clear_cache, extract_features, list_presets, load_params,
)

ROOT = Path(__file__).resolve().parents[1]
IDS = ["case_id", "reader", "timepoint", "site"]


# ----------------------------------------------------------------------------- helpers
def write_tiny_cases(folder, n=4, seed=0):
    """n small CT-like cases (7 x 8 x 9 voxels, anisotropic spacing) as NRRD; return a manifest."""
    import SimpleITK as sitk

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(n):
        arr = rng.normal(40, 10, size=(9, 8, 7)).astype(np.int16)
        mask = np.zeros(arr.shape, dtype=np.uint8)
        mask[2 + k % 2:7, 2:6, 1:5 + k % 3] = 1
        arr[mask == 1] += rng.integers(30, 90, size=int(mask.sum())).astype(np.int16)
        image = sitk.GetImageFromArray(arr)
        image.SetSpacing((0.8, 0.9, 2.5))
        image.SetOrigin((-10.0, 20.0, 5.0))
        m = sitk.GetImageFromArray(mask)
        m.CopyInformation(image)
        paths = folder / f"c{k}_image.nrrd", folder / f"c{k}_mask.nrrd"
        sitk.WriteImage(image, str(paths[0]))
        sitk.WriteImage(m, str(paths[1]))
        rows.append({"case_id": f"c{k}", "image": str(paths[0]), "mask": str(paths[1]), "label": 1,
                     "reader": 1, "timepoint": 1, "site": "A" if k % 2 else "B"})
    return pd.DataFrame(rows)


def pyradiomics_reference(params, image, mask, label=1):
    import radiomics
    from radiomics.featureextractor import RadiomicsFeatureExtractor

    radiomics.setVerbosity(logging.ERROR)
    out = RadiomicsFeatureExtractor(params).execute(str(image), str(mask), label=int(label))
    return {k: float(v) for k, v in out.items() if not k.startswith("diagnostics_")}


def assert_exactly_pyradiomics(result, manifest, params):
    """Every value, and the column order, equal pyradiomics' own execute()."""
    assert len(result.features) == len(manifest)
    for row, (_, got) in zip(manifest.itertuples(), result.features.iterrows()):
        ref = pyradiomics_reference(params, row.image, row.mask, row.label)
        assert [c for c in result.features.columns if c not in IDS] == list(ref)
        for name, value in ref.items():
            assert got[name] == value or (math.isnan(value) and math.isnan(got[name])), (
                row.case_id, name, got[name], value)


TINY = {"setting": {"binWidth": 10, "resampledPixelSpacing": [1, 1, 1], "interpolator": "sitkBSpline"},
        "imageType": {"Original": {}}, "featureClass": {"shape": None, "firstorder": None, "glcm": None}}


@pytest.fixture
def tiny(tmp_path):
    return write_tiny_cases(tmp_path / "data")


# ----------------------------------------------------------------------------- settings
def test_presets_follow_published_settings():
    assert {"ct", "ct-full", "mr", "mr-full"} <= set(list_presets())
    ct = load_params("ct")
    # pyradiomics exampleCT.yaml / IBSI: 1 mm isotropic B-spline, fixed bin width 25 HU
    assert ct["setting"]["resampledPixelSpacing"] == [1, 1, 1]
    assert ct["setting"]["binWidth"] == 25 and ct["setting"]["interpolator"] == "sitkBSpline"
    assert list(ct["imageType"]) == ["Original"]
    assert list(ct["featureClass"]) == ["shape", "firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm"]
    full = load_params("ct-full")
    assert full["imageType"] == {"Original": {}, "LoG": {"sigma": [1.0, 2.0, 3.0]}, "Wavelet": {}}
    mr = load_params("mr")  # pyradiomics exampleMR_3mm.yaml
    assert mr["setting"]["normalize"] is True and mr["setting"]["normalizeScale"] == 100
    assert mr["setting"]["binWidth"] == 5
    # pyradiomics' own defaults are filled in
    assert ct["setting"]["padDistance"] == 5


def test_params_accepts_dict_and_yaml_path(tmp_path):
    import yaml

    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(TINY))
    assert load_params(str(path)) == load_params(TINY) == load_params(path)


@pytest.mark.parametrize("bad, error, text", [
    ("cta", ValueError, "preset"),
    ("missing.yaml", FileNotFoundError, "does not exist"),
    ({"setting": {"binWidth": -3}}, ValueError, "pyradiomics rejected"),
    ({"imageTyp": {}}, ValueError, "unknown section"),
])
def test_params_errors_say_what_to_do(bad, error, text):
    with pytest.raises(error, match=text):
        load_params(bad)


def test_input_validation(tiny, tmp_path):
    with pytest.raises(ValueError, match="missing column"):
        extract_features(tiny.drop(columns="mask"), params=TINY, cache_dir=tmp_path / "c")
    with pytest.raises(ValueError, match="duplicate"):
        extract_features(pd.concat([tiny, tiny.head(1)]), params=TINY, cache_dir=tmp_path / "c")
    with pytest.raises(ValueError, match="n_jobs"):
        extract_features(tiny, params=TINY, cache_dir=tmp_path / "c", n_jobs=0)


# ----------------------------------------------------------------------------- exact values
def test_exactly_pyradiomics_on_tiny_cases(tiny, tmp_path):
    result = extract_features(tiny, params=TINY, cache_dir=tmp_path / "c", n_jobs=1, progress=False)
    assert_exactly_pyradiomics(result, tiny, TINY)
    assert list(result.features.columns[:4]) == IDS
    assert not any(c.startswith("diagnostics_") for c in result.features.columns)
    assert result.diagnostics["diagnostics_Mask-original_VoxelNum"].gt(0).all()


@pytest.mark.slow
def test_exactly_pyradiomics_on_small_demo(small_demo, tmp_path):
    manifest = small_demo[(small_demo.reader == 1) & (small_demo.timepoint == 1)].head(6)
    result = extract_features(manifest, params="ct", cache_dir=tmp_path / "c", n_jobs=2, progress=False)
    assert_exactly_pyradiomics(result, manifest, load_params("ct"))
    assert list(result.features.case_id) == list(manifest.case_id)


@pytest.mark.slow
@pytest.mark.data
def test_exactly_pyradiomics_on_sample_cases_with_filters(pyradiomics_dir, tmp_path):
    from radnb.datasets import fetch_pyradiomics_cases

    cases = fetch_pyradiomics_cases(pyradiomics_dir, download=False)
    cases = cases[cases.case_id.isin(["brain1", "breast1"])]
    params = load_params("ct-full")
    params["setting"]["resampledPixelSpacing"] = [2, 2, 2]  # quicker, still resampled
    result = extract_features(cases, params=params, cache_dir=tmp_path / "c", n_jobs=2, progress=False)
    assert_exactly_pyradiomics(result, cases, params)
    assert any(c.startswith("wavelet-HLH_glcm") for c in result.features.columns)


@pytest.mark.data
def test_matches_pyradiomics_published_baseline(pyradiomics_dir, tmp_path):
    """pyradiomics' published baseline (column brain1), compared as pyradiomics' own tests do:
    within 3 % relative difference, exactly where the baseline is 0."""
    cases = pd.DataFrame([{"case_id": "brain1", "image": str(pyradiomics_dir / "brain1_image.nrrd"),
                           "mask": str(pyradiomics_dir / "brain1_label.nrrd")}])
    checked = 0
    for path in sorted((pyradiomics_dir / "baseline").glob("baseline_*.csv")):
        cls = path.stem.split("_", 1)[1]
        if cls == "shape2D":  # needs 2D label files that are not shipped
            continue
        column = pd.read_csv(path, index_col=0)["brain1"]
        config = ast.literal_eval(column["diagnostics_Configuration_Settings"])
        setting = {k: v for k, v in config.items() if v is not None}
        params = {"setting": setting, "imageType": {"Original": {}}, "featureClass": {cls: None}}
        got = extract_features(cases, params=params, cache_dir=tmp_path / "c", n_jobs=1,
                               progress=False).features.iloc[0]
        for name, ref in column.items():
            if name.startswith("diagnostics") or name not in got.index:
                continue
            ref = float(ref)
            checked += 1
            if ref == 0:
                assert got[name] == 0, name
            else:
                assert abs(got[name] - ref) / abs(ref) < 0.03, (name, got[name], ref)
    assert checked > 80


def test_mask_off_the_image_grid_is_an_error_row_not_resampled(tiny, tmp_path):
    """Extraction follows radnb.io's geometry policy (as validate does): a mask 0.52 mm off the
    image grid is refused, even with pyradiomics' correctMask, instead of silently resampled."""
    import SimpleITK as sitk

    mask = sitk.ReadImage(tiny["mask"][0])
    mask.SetOrigin(tuple(o + 0.3 for o in mask.GetOrigin()))
    sitk.WriteImage(mask, tiny["mask"][0])
    params = {**TINY, "setting": {**TINY["setting"], "correctMask": True}}
    with pytest.warns(ExtractionWarning):
        result = extract_features(tiny.head(2), params=params, cache_dir=tmp_path / "c", n_jobs=1,
                                  progress=False)
    assert result.features["case_id"].tolist() == ["c1"]
    assert result.errors["case_id"].tolist() == ["c0"]
    assert "not on the image's voxel grid" in result.errors["message"].iloc[0]


def test_rtstruct_masks_are_read_with_radnb_io(tmp_path, anisotropic_image):
    """An RTSTRUCT ROI (``roi`` column) gives pyradiomics' values for the rasterised mask."""
    import radiomics
    from radiomics.featureextractor import RadiomicsFeatureExtractor

    from radnb.io import read_image, read_mask, write_dicom_series, write_rtstruct

    image, mask = anisotropic_image
    image.SetDirection((1, 0, 0, 0, 1, 0, 0, 0, 1))
    mask.CopyInformation(image)
    write_dicom_series(image, tmp_path / "ct", patient_id="rt-001")
    write_rtstruct(mask, tmp_path / "ct", tmp_path / "rtstruct.dcm", roi_name="GTV")
    manifest = pd.DataFrame([{"case_id": "rt-001", "image": str(tmp_path / "ct"),
                              "mask": str(tmp_path / "rtstruct.dcm"), "roi": "GTV"}])
    result = extract_features(manifest, params=TINY, cache_dir=tmp_path / "c", n_jobs=1, progress=False)
    assert result.errors.empty, result.errors.message.tolist()
    ct = read_image(tmp_path / "ct")
    radiomics.setVerbosity(logging.ERROR)
    ref = RadiomicsFeatureExtractor(TINY).execute(ct, read_mask(tmp_path / "rtstruct.dcm", ct, roi="GTV"))
    for name, value in ref.items():
        if not name.startswith("diagnostics_"):
            assert result.features.loc[0, name] == float(value), name


# ----------------------------------------------------------------------------- cache
def test_warm_call_serves_everything_from_cache(tiny, tmp_path):
    cold = extract_features(tiny, params=TINY, cache_dir=tmp_path / "c", n_jobs=1, progress=False)
    assert cold.cache_stats["misses"] == 4 * 3 and cold.cache_stats["hits"] == 0
    warm = extract_features(tiny, params=TINY, cache_dir=tmp_path / "c", n_jobs=1, progress=False)
    assert warm.cache_stats == {"hits": 12, "misses": 0, "cases_cached": 4, "cases_computed": 0,
                                "cases_failed": 0}
    pd.testing.assert_frame_equal(warm.features, cold.features)
    pd.testing.assert_frame_equal(warm.diagnostics, cold.diagnostics)
    info = cache_info(tmp_path / "c")
    assert info["entries"] > 0 and info["size_mb"] > 0 and info["temporary_files"] == 0
    assert clear_cache(tmp_path / "c") == info["entries"]
    assert cache_info(tmp_path / "c")["entries"] == 0


def test_cache_key_is_content_not_path(tiny, tmp_path):
    extract_features(tiny, params=TINY, cache_dir=tmp_path / "c", n_jobs=1, progress=False)
    moved = tmp_path / "moved"
    moved.mkdir()
    renamed = tiny.copy()
    for col in ("image", "mask"):
        renamed[col] = [shutil.copy(p, moved / f"renamed_{Path(p).name}") for p in tiny[col]]
    again = extract_features(renamed, params=TINY, cache_dir=tmp_path / "c", n_jobs=1, progress=False)
    assert again.cache_stats["misses"] == 0 and again.cache_stats["cases_cached"] == 4


def test_editing_a_voxel_or_a_setting_misses(tiny, tmp_path):
    import SimpleITK as sitk

    first = extract_features(tiny, params=TINY, cache_dir=tmp_path / "c", n_jobs=1, progress=False)
    image = sitk.ReadImage(tiny.image[0])
    image[3, 4, 4] = image[3, 4, 4] + 500  # inside the ROI
    time.sleep(0.01)
    sitk.WriteImage(image, tiny.image[0])
    edited = extract_features(tiny, params=TINY, cache_dir=tmp_path / "c", n_jobs=1, progress=False)
    assert edited.cache_stats["cases_computed"] == 1 and edited.cache_stats["misses"] == 3
    assert edited.features.original_firstorder_Maximum[0] != first.features.original_firstorder_Maximum[0]
    assert_exactly_pyradiomics(edited, tiny, TINY)
    other = {**TINY, "setting": {**TINY["setting"], "binWidth": 5}}
    changed = extract_features(tiny, params=other, cache_dir=tmp_path / "c", n_jobs=1, progress=False)
    assert changed.cache_stats["misses"] == 12 and changed.cache_stats["hits"] == 0
    assert_exactly_pyradiomics(changed, tiny, other)


def test_adding_a_feature_class_or_sigma_computes_only_that(tiny, tmp_path):
    base = {**TINY, "imageType": {"Original": {}, "LoG": {"sigma": [1.0]}}}
    extract_features(tiny, params=base, cache_dir=tmp_path / "c", n_jobs=1, progress=False)
    more = {**base, "featureClass": {**base["featureClass"], "glrlm": None}}
    res = extract_features(tiny, params=more, cache_dir=tmp_path / "c", n_jobs=1, progress=False)
    # units per case: shape + (Original, LoG-1) x (firstorder, glcm, glrlm); new: 2 glrlm units
    assert res.cache_stats["misses"] == 4 * 2 and res.cache_stats["hits"] == 4 * 5
    assert_exactly_pyradiomics(res, tiny, more)
    sigma = {**more, "imageType": {"Original": {}, "LoG": {"sigma": [1.0, 2.0]}}}
    res = extract_features(tiny, params=sigma, cache_dir=tmp_path / "c", n_jobs=1, progress=False)
    assert res.cache_stats["misses"] == 4 * 3  # one new sigma x three classes
    assert_exactly_pyradiomics(res, tiny, sigma)


def test_cases_computed_counts_rows_with_at_least_one_miss(tiny, tmp_path):
    # definition (Extraction.cache_stats): a row is "computed" if >= 1 cache unit missed
    extract_features(tiny, params=TINY, cache_dir=tmp_path / "c", n_jobs=1, progress=False)
    again = extract_features(tiny, params=TINY, cache_dir=tmp_path / "c", n_jobs=1, progress=False)
    assert again.cache_stats["cases_computed"] == 0 and again.cache_stats["cases_cached"] == 4
    more = {**TINY, "featureClass": {**TINY["featureClass"], "glrlm": None}}
    res = extract_features(tiny, params=more, cache_dir=tmp_path / "c", n_jobs=1, progress=False)
    assert res.cache_stats["misses"] == 4 and res.cache_stats["hits"] == 4 * 3
    assert res.cache_stats["cases_computed"] == 4 and res.cache_stats["cases_cached"] == 0
    # a new combination of already cached units (no whole-row entry yet) computes nothing
    fewer = {**more, "featureClass": {k: v for k, v in more["featureClass"].items() if k != "glcm"}}
    res = extract_features(tiny, params=fewer, cache_dir=tmp_path / "c", n_jobs=1, progress=False)
    assert res.cache_stats["misses"] == 0 and res.cache_stats["hits"] == 4 * 3
    assert res.cache_stats["cases_computed"] == 0 and res.cache_stats["cases_cached"] == 4
    assert "4 rows from cache, 0 computed" in repr(res)
    assert_exactly_pyradiomics(res, tiny, fewer)


def test_damaged_or_half_written_entries_are_never_served(tiny, tmp_path):
    cache = tmp_path / "c"
    good = extract_features(tiny, params=TINY, cache_dir=cache, n_jobs=1, progress=False)
    entries = sorted((cache / "extract-v1" / "entries").rglob("*.json"))
    for path in entries:  # a torn write: truncated body, stale checksum
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    (entries[0].parent / ".tmp-leftover").write_bytes(b"RADNB1 abc\n{")  # a killed writer's temp file
    again = extract_features(tiny, params=TINY, cache_dir=cache, n_jobs=1, progress=False)
    assert again.cache_stats["hits"] == 0 and again.cache_stats["cases_computed"] == 4
    pd.testing.assert_frame_equal(again.features, good.features)
    assert cache_info(cache)["temporary_files"] == 1


def _script(manifest_csv, cache, params, n_jobs, out=None):
    return textwrap.dedent(f"""
        import pandas as pd, json
        from radnb.extract import extract_features
        m = pd.read_csv({str(manifest_csv)!r})
        r = extract_features(m, params={params!r}, cache_dir={str(cache)!r}, n_jobs={n_jobs},
                             progress=False)
        if {out!r}:
            r.features.to_parquet({out!r})
    """)


@pytest.mark.slow
def test_two_processes_sharing_a_cache_give_correct_results(tiny, tmp_path):
    csv = tmp_path / "m.csv"
    tiny.to_csv(csv, index=False)
    procs = [
        subprocess.Popen([sys.executable, "-c", _script(csv, tmp_path / "c", TINY, 1, str(tmp_path / f"o{i}.parquet"))])
        for i in range(2)
    ]
    assert all(p.wait(timeout=300) == 0 for p in procs)
    for i in range(2):
        out = pd.read_parquet(tmp_path / f"o{i}.parquet")
        ref = extract_features(tiny, params=TINY, cache_dir=tmp_path / "fresh", n_jobs=1, progress=False)
        for col in ref.features.columns[4:]:
            np.testing.assert_array_equal(out[col].to_numpy(), ref.features[col].to_numpy())
    warm = extract_features(tiny, params=TINY, cache_dir=tmp_path / "c", n_jobs=1, progress=False)
    assert warm.cache_stats["cases_cached"] == 4


# ----------------------------------------------------------------------------- failures, resume
def test_one_bad_case_becomes_an_error_row(tiny, tmp_path):
    bad = tiny.copy()
    bad.loc[1, "image"] = str(tmp_path / "nowhere.nrrd")
    bad.loc[2, "label"] = 7  # no voxel has label 7: pyradiomics refuses the mask
    with pytest.warns(ExtractionWarning, match="2 of 4 cases failed; see result.errors") as record:
        res = extract_features(bad, params=TINY, cache_dir=tmp_path / "c", n_jobs=2, progress=False)
    assert len([w for w in record if issubclass(w.category, ExtractionWarning)]) == 1
    assert list(res.features.case_id) == ["c0", "c3"]
    assert list(res.errors.columns) == ["case_id", "timepoint", "reader", "stage", "message",
                                        "detail"]
    errors = res.errors.set_index("case_id")
    assert errors.loc["c1", "stage"] == "read" and "nowhere.nrrd" in errors.loc["c1", "message"]
    assert errors.loc["c2", "stage"] == "extract" and "label" in errors.loc["c2", "message"].lower()
    assert res.cache_stats["cases_failed"] == 2
    assert "2" in repr(res) and "failed" in res._repr_html_()


def _count_case_entries(cache, n_units):
    files = list((cache / "extract-v1" / "entries").rglob("*.json")) if cache.exists() else []
    return len(files) // (n_units + 2)  # units + diagnostics + whole case, per finished case


@pytest.mark.slow
@pytest.mark.parametrize("how, n_jobs", [("kill", 1), ("interrupt", 2)])
def test_killed_or_interrupted_run_resumes_unfinished_cases_only(tmp_path, how, n_jobs):
    manifest = write_tiny_cases(tmp_path / "data", n=24, seed=3)
    params = {**TINY, "imageType": {"Original": {}, "Wavelet": {}}}  # ~0.5 s per case
    csv = tmp_path / "m.csv"
    manifest.to_csv(csv, index=False)
    cache = tmp_path / "c"
    proc = subprocess.Popen([sys.executable, "-c", _script(csv, cache, params, n_jobs)])
    deadline = time.time() + 120
    while _count_case_entries(cache, 5) < 3 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be interrupted"
    proc.send_signal(signal.SIGKILL if how == "kill" else signal.SIGINT)
    proc.wait(timeout=60)
    assert proc.returncode != 0
    res = extract_features(manifest, params=params, cache_dir=cache, n_jobs=1, progress=False)
    stats = res.cache_stats
    assert stats["cases_cached"] >= 3 and stats["cases_computed"] >= 1
    assert stats["cases_cached"] + stats["cases_computed"] == 24
    ref = extract_features(manifest, params=params, cache_dir=tmp_path / "fresh", n_jobs=1, progress=False)
    pd.testing.assert_frame_equal(res.features, ref.features)


# ----------------------------------------------------------------------------- parallel
@pytest.mark.slow
def test_dask_cluster_gives_identical_values(tiny, tmp_path):
    from distributed import Client, LocalCluster

    local = extract_features(tiny, params=TINY, cache_dir=tmp_path / "a", n_jobs=2, progress=False)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        remote = extract_features(tiny, params=TINY, cache_dir=tmp_path / "b", client=client, progress=False)
        used = client.run(lambda: os.getpid())
        from radnb.extract._pool import threads_per_case

        # 2 workers x 1 thread on this machine: the cores are shared, no thread oversubscription
        assert threads_per_case(None, client) == max(1, len(os.sched_getaffinity(0)) // 2)
    assert len(used) == 2
    pd.testing.assert_frame_equal(remote.features, local.features)
    assert remote.cache_stats["cases_computed"] == 4


def test_progress_bar_can_be_switched_off(tiny, tmp_path, capsys):
    extract_features(tiny, params=TINY, cache_dir=tmp_path / "c", n_jobs=1, progress=True)
    assert "extracting" in capsys.readouterr().err
    extract_features(tiny, params=TINY, cache_dir=tmp_path / "c", n_jobs=1, progress=False)
    assert capsys.readouterr().err == ""


def test_repr_summarises(tiny, tmp_path):
    res = extract_features(tiny, params=TINY, cache_dir=tmp_path / "c", n_jobs=1, progress=False)
    text = repr(res)
    assert "4 of 4" in text and "features per row" in text
    assert "<table>" in res._repr_html_()
    assert set(res.feature_names) == set(res.features.columns[4:])


def test_compare_settings_stacks_variants_with_the_same_values_as_single_calls(small_demo, tmp_path):
    from radnb.extract import compare_settings

    cases = small_demo[(small_demo["reader"] == 1) & (small_demo["timepoint"] == 1)].head(3)
    classes = {"glcm": ["Contrast"], "firstorder": ["Mean"]}
    variants = {"bin 10": {"binWidth": 10}, "original voxels": {"resampledPixelSpacing": None}}
    table = compare_settings(cases, variants, feature_classes=classes, cache_dir=tmp_path, n_jobs=1)
    assert table["setting"].unique().tolist() == list(variants)
    assert list(table.columns[:5]) == ["case_id", "reader", "timepoint", "site", "setting"]
    base = load_params("ct")
    for name, change in variants.items():
        params = {**base, "featureClass": classes, "setting": {**base["setting"], **change}}
        single = extract_features(cases, params=params, cache_dir=tmp_path / "single", n_jobs=1,
                                  progress=False).features
        got = table[table["setting"] == name].reset_index(drop=True)
        for col in ("original_glcm_Contrast", "original_firstorder_Mean"):
            assert got[col].tolist() == single[col].tolist(), (name, col)
    with pytest.raises(ValueError, match="variants must be a non-empty dict"):
        compare_settings(cases, {})
