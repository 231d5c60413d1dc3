"""radnb's one-pass pyradiomics run per case: the same values and diagnostics as pyradiomics.

radnb reads, resamples and checks each case once for all image types and feature
classes (``radnb.extract._engine.CaseExtractor``: pyradiomics' extractor with a faster
``loadImage`` and one discretisation shared by the feature classes of an image).
Reference implementation: pyradiomics 3 itself, ``RadiomicsFeatureExtractor.execute``
with its default ``additionalInfo`` (van Griethuysen et al., Cancer Res 2017), compared
with ``==`` (no tolerance), diagnostics included.
"""
from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd
import pytest

from radnb.extract import ExtractionWarning, cache_info, extract_features, load_params

IDS = ["case_id", "reader", "timepoint", "site"]


def _same(a, b) -> bool:
    """Equal values: the same repr (numpy prints the shortest round-trip digits) or both NaN."""
    if repr(a) == repr(b):
        return True
    try:
        return math.isnan(float(a)) and math.isnan(float(b))
    except (TypeError, ValueError):
        return False


def _pyradiomics(settings, image, mask, label=1):
    import radiomics
    from radiomics.featureextractor import RadiomicsFeatureExtractor

    radiomics.setVerbosity(logging.ERROR)
    return RadiomicsFeatureExtractor(settings).execute(str(image), str(mask), label=int(label))


def _images(pixel, seed=0):
    """A 20 x 18 x 12 image of ``pixel`` type and a mask with label 2 in two pieces."""
    import SimpleITK as sitk

    rng = np.random.default_rng(seed)
    arr = rng.normal(300, 80, size=(12, 18, 20))
    if np.dtype(pixel).kind in "iu":
        arr = np.clip(arr, 0, None)
    image = sitk.GetImageFromArray(arr.astype(pixel))
    image.SetSpacing((0.7, 0.8, 2.0))
    image.SetOrigin((3.0, -4.0, 10.0))
    labels = np.zeros(arr.shape, dtype=np.uint8)
    labels[3:8, 4:12, 5:14] = 2
    labels[9:11, 14:17, 15:18] = 2
    labels[1:3, 1:3, 1:3] = 1
    mask = sitk.GetImageFromArray(labels)
    mask.CopyInformation(image)
    return image, mask


SMALL = {"imageType": {"Original": {}, "LoG": {"sigma": [1.0, 2.0]}, "Wavelet": {}},
         "featureClass": {"shape": None, "firstorder": None, "glcm": None, "glszm": None,
                          "ngtdm": None},
         "setting": {"binWidth": 25, "resampledPixelSpacing": [1, 1, 1],
                     "interpolator": "sitkBSpline", "label": 2}}


@pytest.mark.parametrize("pixel", ["int16", "uint16", "int32", "float32", "float64"])
def test_case_extractor_equals_pyradiomics_with_diagnostics(pixel):
    import radiomics
    from radiomics.featureextractor import RadiomicsFeatureExtractor

    from radnb.extract._engine import CaseExtractor

    radiomics.setVerbosity(logging.ERROR)
    image, mask = _images(pixel)
    ref = RadiomicsFeatureExtractor(SMALL).execute(image, mask, label=2)
    got = CaseExtractor(SMALL).execute(image, mask, label=2)
    assert list(got) == list(ref)  # same features and diagnostics, same order
    differ = [k for k in ref if not _same(got[k], ref[k])]
    assert differ == []
    assert got["diagnostics_Mask-original_VolumeNum"] == 2


@pytest.mark.parametrize("labels, label", [("empty", 1), ("full", 1), ("other", 3)])
def test_case_extractor_refuses_masks_with_pyradiomics_messages(labels, label):
    import SimpleITK as sitk
    from radiomics.featureextractor import RadiomicsFeatureExtractor

    from radnb.extract._engine import CaseExtractor

    image, mask = _images("int16")
    if labels != "other":
        arr = np.full(sitk.GetArrayViewFromImage(mask).shape, 0 if labels == "empty" else 1, np.uint8)
        mask = sitk.GetImageFromArray(arr)
        mask.CopyInformation(image)
    messages = []
    for extractor in (RadiomicsFeatureExtractor(SMALL), CaseExtractor(SMALL)):
        with pytest.raises(ValueError) as err:
            extractor.execute(image, mask, label=label)
        messages.append(str(err.value))
    assert messages[0] == messages[1]


def test_fast_hash_is_simpleitk_hash():
    """The cache key and the diagnostics use SimpleITK's SHA-1, computed with hashlib."""
    import SimpleITK as sitk

    from radnb.extract._cache import sha1

    image, mask = _images("int16")
    for im in (image, mask, sitk.Cast(mask, sitk.sitkUInt32), sitk.Cast(image, sitk.sitkFloat64),
               sitk.Compose(image, image)):
        assert sha1(im) == sitk.Hash(im)


def test_cases_are_scheduled_largest_first(tmp_path):
    """Image + mask bytes on disk, a DICOM folder counted as the sum of its files."""
    from radnb.extract._pool import order_largest_first

    def write(name, n):
        path = tmp_path / name
        path.write_bytes(b"x" * n)
        return str(path)

    series = tmp_path / "series"
    series.mkdir()
    for k in range(3):
        (series / f"{k}.dcm").write_bytes(b"x" * 400)
    rows = [{"image": write("a.nrrd", 100), "mask": write("am.nrrd", 10)},
            {"image": str(series), "mask": write("bm.nrrd", 10)},  # 1200 bytes in 3 files
            {"image": write("c.nrrd", 500), "mask": write("cm.nrrd", 600)},
            {"image": str(tmp_path / "missing.nrrd"), "mask": write("dm.nrrd", 5)}]
    assert order_largest_first([0, 1, 2, 3], rows) == [1, 2, 0, 3]
    assert order_largest_first([3, 0], rows) == [0, 3]


@pytest.mark.slow
@pytest.mark.data
def test_multi_unit_extraction_equals_pyradiomics_and_keeps_cache_behaviour(pyradiomics_dir, tmp_path):
    """Original + LoG + wavelet x several classes, with a broken case in the cohort:
    values and diagnostics == pyradiomics' execute, an error row for the broken case only,
    a warm call serving identical tables from an intact cache."""
    from radnb.datasets import fetch_pyradiomics_cases
    from radnb.extract._worker import _diagnostics

    cases = fetch_pyradiomics_cases(pyradiomics_dir, download=False)
    cases = cases[cases.case_id.isin(["brain1", "lung2", "breast1"])].reset_index(drop=True)
    cases = cases.drop(columns=["modality"], errors="ignore")  # one run, CT and MR alike
    cases.loc[cases.case_id == "breast1", "label"] = 7  # no voxel has label 7
    params = load_params("ct-full")
    params["imageType"]["LoG"] = {"sigma": [1.0, 3.0]}
    params["featureClass"] = {c: None for c in ("shape", "firstorder", "glcm", "glrlm", "gldm")}
    params["setting"]["resampledPixelSpacing"] = [2, 2, 2]  # quicker, still resampled
    with pytest.warns(ExtractionWarning, match="1 of 3 cases failed"):
        result = extract_features(cases, params=params, cache_dir=tmp_path / "c", n_jobs=2,
                                  progress=False)
    assert list(result.features.case_id) == ["brain1", "lung2"]
    error = result.errors.iloc[0]
    assert error.case_id == "breast1" and error.stage == "extract" and "7" in error.message

    for row in cases[cases.case_id != "breast1"].itertuples():
        ref = _pyradiomics(params, row.image, row.mask, row.label)
        values = {k: v for k, v in ref.items() if not k.startswith("diagnostics_")}
        got = result.features.set_index("case_id").loc[row.case_id]
        assert [c for c in result.features.columns if c not in IDS] == list(values)
        assert [k for k, v in values.items() if not _same(float(got[k]), float(v))] == []
        shown = result.diagnostics.set_index("case_id").loc[row.case_id]
        expected = _diagnostics(ref)
        expected.pop("diagnostics_Configuration_EnabledImageTypes")  # radnb's own text
        assert [k for k, v in expected.items() if shown[k] != v] == []
        assert any(c.startswith("wavelet-HLH_glcm") for c in values)

    with pytest.warns(ExtractionWarning, match="1 of 3 cases failed"):  # failures are not cached
        warm = extract_features(cases, params=params, cache_dir=tmp_path / "c", n_jobs=2,
                                progress=False)
    assert warm.cache_stats["cases_cached"] == 2 and warm.cache_stats["cases_computed"] == 0
    pd.testing.assert_frame_equal(warm.features, result.features)
    pd.testing.assert_frame_equal(warm.diagnostics, result.diagnostics)
    assert cache_info(tmp_path / "c")["temporary_files"] == 0
