"""Several modalities per patient: a `modality` column, settings per modality, the wide table.

Real data: CT (DICOM + RTSTRUCT) and FDG-PET (SUV) of two IBSI soft-tissue sarcoma patients
(../shared/data/ibsi_sts; Vallieres et al., Phys Med Biol 2015).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radnb.cohort import load_manifest, summarize, validate
from radnb.extract import extract_features, feature_columns, split_feature_name, wide_by_modality

CASES = ["STS_002", "STS_003"]


@pytest.fixture(scope="module")
def ct_pet_manifest(shared_data):
    root = shared_data / "ibsi_sts"
    if not all((root / "dicom" / c / "CT" / "mask" / "RS.dcm").is_file() for c in CASES):
        pytest.skip(f"IBSI STS DICOM CT not found in {root}")
    rows = []
    for case in CASES:
        rows.append({"case_id": case, "modality": "CT", "image": str(root / "dicom" / case / "CT" / "image"),
                     "mask": str(root / "dicom" / case / "CT" / "mask" / "RS.dcm"), "roi": "GTV_Mass_CT"})
        rows.append({"case_id": case, "modality": "pet",  # any case: stored upper-case
                     "image": str(root / "nifti" / case / "PET_image.nii.gz"),
                     "mask": str(root / "nifti" / case / "PET_mask.nii.gz")})
    return load_manifest(pd.DataFrame(rows))


@pytest.fixture(scope="module")
def ct_pet(ct_pet_manifest, tmp_path_factory):
    cache = tmp_path_factory.mktemp("ct-pet-cache")
    result = extract_features(ct_pet_manifest, params={"CT": "ct", "PET": "pet"}, cache_dir=cache,
                              n_jobs=1, progress=False)
    return result, cache


def test_manifest_rows_are_identified_with_modality(ct_pet_manifest):
    assert list(ct_pet_manifest["modality"]) == ["CT", "PET", "CT", "PET"]
    status = summarize(validate(ct_pet_manifest))
    assert len(status) == 4 and set(status["modality"]) == {"CT", "PET"}
    assert (status["n_errors"] == 0).all(), status
    with pytest.raises(ValueError, match="add a 'modality' column"):
        load_manifest(ct_pet_manifest.drop(columns="modality"))
    with pytest.raises(ValueError, match="'modality' is empty"):
        load_manifest(ct_pet_manifest.assign(modality=["CT", None, "CT", "PET"]))


def test_each_modality_gets_its_own_settings(ct_pet, ct_pet_manifest):
    result, cache = ct_pet
    assert len(result.errors) == 0 and len(result.features) == 4
    assert list(result.features.columns[:2]) == ["case_id", "modality"]
    assert result.settings["CT"]["setting"]["binWidth"] == 25
    assert result.settings["PET"]["setting"]["binWidth"] == 0.25
    # the same numbers as extracting each modality alone with its preset (served from the cache)
    for modality, preset in (("CT", "ct"), ("PET", "pet")):
        alone = extract_features(ct_pet_manifest[ct_pet_manifest["modality"] == modality].drop(columns="modality"),
                                 params=preset, cache_dir=cache, n_jobs=1, progress=False)
        assert alone.cache_stats["misses"] == 0
        mine = result.features[result.features["modality"] == modality]
        cols = feature_columns(alone.features)
        np.testing.assert_array_equal(mine[cols].to_numpy(float), alone.features[cols].to_numpy(float))
    # FDG SUV is a few g/mL, CT soft tissue tens of HU: the presets really differed
    by = result.features.set_index(["case_id", "modality"])["original_firstorder_Maximum"]
    assert by[("STS_002", "PET")] < 50 < by[("STS_002", "CT")]


def test_wide_table_has_one_row_per_patient(ct_pet):
    result, _ = ct_pet
    wide = wide_by_modality(result.features)
    assert list(wide["case_id"]) == CASES
    feats = feature_columns(wide)
    n_long = len(feature_columns(result.features))
    assert len(feats) == 2 * n_long  # every feature once per modality
    assert {f.split("_", 1)[0] for f in feats} == {"CT", "PET"}
    assert split_feature_name("PET_original_glcm_Contrast") == ("original", "glcm", "Contrast")
    long = result.features.set_index(["case_id", "modality"])
    row = wide.set_index("case_id").loc["STS_003"]
    assert row["PET_original_firstorder_Mean"] == long.loc[("STS_003", "PET"), "original_firstorder_Mean"]
    assert row["CT_original_shape_VoxelVolume"] == long.loc[("STS_003", "CT"), "original_shape_VoxelVolume"]
    only_pet = wide_by_modality(result.features, modalities=["pet"])
    assert {f.split("_", 1)[0] for f in feature_columns(only_pet)} == {"PET"}


def test_wide_keeps_clinical_columns_and_marks_missing_modality():
    long = pd.DataFrame({"case_id": ["1", "1", "2"], "modality": ["CT", "PET", "CT"],
                         "age": [61, 61, 70], "original_firstorder_Mean": [40.0, 3.5, 35.0]})
    wide = wide_by_modality(long)
    assert list(wide.columns) == ["case_id", "age", "CT_original_firstorder_Mean",
                                  "PET_original_firstorder_Mean"]
    assert wide["age"].tolist() == [61, 70]
    assert np.isnan(wide.loc[1, "PET_original_firstorder_Mean"])
    with pytest.raises(ValueError, match="one row per patient and modality"):
        wide_by_modality(pd.concat([long, long.head(1)]))
    with pytest.raises(ValueError, match="missing column"):
        wide_by_modality(long.drop(columns="modality"))


def test_modality_map_errors_say_what_to_do(ct_pet_manifest, tmp_path):
    with pytest.raises(ValueError, match="no settings for modality \\['PET'\\]"):
        extract_features(ct_pet_manifest, params={"CT": "ct"}, cache_dir=tmp_path, progress=False)
    with pytest.raises(ValueError, match="no 'modality' column"):
        extract_features(ct_pet_manifest.drop(columns="modality"), params={"CT": "ct", "PET": "pet"},
                         cache_dir=tmp_path, progress=False)
