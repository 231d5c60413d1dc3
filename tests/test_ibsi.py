"""IBSI compliance: the feature-code table and the digital-phantom check.

Reference: Zwanenburg A et al., The Image Biomarker Standardization Initiative, Radiology
2020;295:328-338; the IBSI 1 consensus values of the digital phantom (../shared/data/ibsi).
"""
from __future__ import annotations

import shutil

import pytest

from radnb.extract import ibsi_check, ibsi_codes, load_params, list_presets


@pytest.fixture(scope="module")
def ibsi_dir(shared_data):
    path = shared_data / "ibsi"
    if not (path / "phantom.nii.gz").is_file():
        pytest.skip(f"IBSI digital phantom not found in {path}")
    return path


@pytest.fixture(scope="module")
def phantom_check(ibsi_dir, tmp_path_factory):
    return ibsi_check(ibsi_dir, cache_dir=tmp_path_factory.mktemp("ibsi-cache"), verbose=False)


def test_codes_table_is_complete_and_unique():
    codes = ibsi_codes()
    assert len(codes) == 108
    assert codes["ibsi_tag"].is_unique and codes["ibsi_code"].is_unique
    assert codes["ibsi_code"].str.fullmatch(r"[0-9A-Z]{4}").all()
    # IBSI permanent identifiers (IBSI reference manual, arXiv:1612.07003)
    by_feature = codes.drop_duplicates("feature").set_index("feature")["ibsi_code"]
    assert by_feature["original_firstorder_Kurtosis"] == "IPH6"
    assert by_feature["original_shape_MeshVolume"] == "RNU0"
    assert by_feature["original_glcm_SumSquares"] == "UR99"  # IBSI joint variance
    assert by_feature["original_gldm_SmallDependenceEmphasis"] == "SODN"
    # every feature with a documented conversion names it in its note
    assert (codes.loc[codes["convert"] != 0, "note"] != "").all()


def test_mapped_names_are_real_pyradiomics_features():
    import radiomics
    from radiomics import getFeatureClasses

    classes = getFeatureClasses()
    for name in ibsi_codes()["feature"]:
        _, cls, feature = name.split("_", 2)
        assert feature in classes[cls].getFeatureNames(), (name, radiomics.__version__)


def test_ibsi_preset_is_the_phantom_configuration():
    assert "ibsi" in list_presets()
    s = load_params("ibsi")["setting"]
    assert s["binWidth"] == 1 and s["voxelArrayShift"] == 0
    assert s["resampledPixelSpacing"] is None and not s["normalize"]


def test_phantom_matches_ibsi_reference(phantom_check):
    table = phantom_check
    assert len(table) == 108
    assert table["match"].sum() >= 105
    misses = set(table.loc[~table["match"], "feature"])
    # the documented deviations (1/N covariance; deprecated GLDM feature not returned)
    assert misses <= {"original_shape_MinorAxisLength", "original_shape_LeastAxisLength",
                      "original_gldm_GrayLevelNonUniformityNormalized"}
    assert (table.loc[~table["match"], "note"] != "").all()


def test_phantom_values_against_published_numbers(phantom_check):
    t = phantom_check.set_index("feature")
    # README of the phantom: 74 ROI voxels of 2 mm, ROI mean 2.1486
    assert t.loc["original_shape_VoxelVolume", "pyradiomics"] == 74 * 8
    assert t.loc["original_firstorder_Mean", "pyradiomics"] == pytest.approx(2.1486, abs=1e-4)
    # kurtosis: pyradiomics = IBSI excess kurtosis (-0.355) + 3
    assert t.loc["original_firstorder_Kurtosis", "pyradiomics"] == pytest.approx(2.645, abs=5e-4)
    assert t.loc["original_firstorder_Kurtosis", "match"]
    # axis lengths differ by sqrt((N-1)/N) with N = 74 voxels (1/N vs 1/(N-1) covariance)
    ratio = t.loc["original_shape_MinorAxisLength", "pyradiomics"] / 9.31
    assert ratio == pytest.approx((73 / 74) ** 0.5, abs=5e-4)


def test_study_preset_departs_from_ibsi(ibsi_dir, tmp_path):
    table = ibsi_check(ibsi_dir, params="ct", cache_dir=tmp_path, verbose=False)
    assert table["match"].sum() < 20  # resampling to 1 mm and bins of 25 HU change almost all


def test_prints_summary_and_reasons(ibsi_dir, tmp_path, capsys):
    ibsi_check(ibsi_dir, cache_dir=tmp_path)
    out = capsys.readouterr().out
    assert "of 108 mapped IBSI features match" in out
    assert "1/N covariance" in out and "excess kurtosis" in out


def test_default_folder_is_data_home(data_home, ibsi_dir, tmp_path):
    # conftest links the shared phantom into RADNB_DATA/ibsi, as a user would copy it there
    table = ibsi_check(cache_dir=tmp_path, verbose=False)
    assert table["match"].sum() >= 105


def test_missing_phantom_says_where_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="theibsi/data_sets") as err:
        ibsi_check(tmp_path / "nowhere")
    assert "data_dir=" in str(err.value)


def test_finds_files_in_subfolders_and_names_missing_reference(ibsi_dir, tmp_path):
    (tmp_path / "nifti" / "image").mkdir(parents=True)
    (tmp_path / "nifti" / "mask").mkdir(parents=True)
    shutil.copy(ibsi_dir / "phantom.nii.gz", tmp_path / "nifti" / "image")
    shutil.copy(ibsi_dir / "mask.nii.gz", tmp_path / "nifti" / "mask")
    with pytest.raises(FileNotFoundError, match="has no ibsi1_digital_phantom_reference.csv"):
        ibsi_check(tmp_path)
    shutil.copy(ibsi_dir / "ibsi1_digital_phantom_reference.csv", tmp_path)
    table = ibsi_check(tmp_path, cache_dir=tmp_path / "cache", verbose=False)
    assert table["match"].sum() >= 105
