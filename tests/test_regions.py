"""Regions: per-lesion masks and extraction, peritumoral ring in mm (issue 17, item 4)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

from radnb.extract import extract_features, extract_lesions, lesion_manifest, ring_manifest
from radnb.segment import peritumoral_ring, split_lesions

SPACING = (0.8, 1.1, 3.0)  # x, y, z in mm: anisotropic on purpose


def _image(arr, spacing=SPACING):
    img = sitk.GetImageFromArray(arr)
    img.SetSpacing(spacing)
    img.SetOrigin((-10.0, 5.0, 2.5))
    return img


def _two_blobs():
    """A textured image and a mask with two separate blobs (sizes 3*6*6=108 and 2*4*5=40)."""
    rng = np.random.default_rng(17)
    image = rng.normal(40, 30, size=(10, 24, 24)).round().astype(np.int16)
    mask = np.zeros(image.shape, np.uint8)
    mask[2:5, 3:9, 3:9] = 1
    mask[5:7, 15:19, 14:19] = 1
    return _image(image), _image(mask)


def test_split_lesions_counts_and_order():
    _, mask = _two_blobs()
    lesions = split_lesions(mask)
    assert [int(sitk.GetArrayFromImage(m).sum()) for m in lesions] == [108, 40]
    assert lesions[0].GetSpacing() == mask.GetSpacing()
    assert lesions[0].GetOrigin() == mask.GetOrigin()
    assert [int(sitk.GetArrayFromImage(m).sum()) for m in split_lesions(mask, min_voxels=50)] == [108]


def test_split_lesions_connectivity():
    a = np.zeros((3, 5, 5), np.uint8)
    a[1, 1, 1] = a[1, 2, 2] = 1  # touch only at an edge
    assert len(split_lesions(_image(a))) == 1
    assert len(split_lesions(_image(a), fully_connected=False)) == 2


def test_missing_label_is_a_clear_error():
    _, mask = _two_blobs()
    with pytest.raises(ValueError, match="no voxel with label 3"):
        split_lesions(mask, label=3)


@pytest.mark.parametrize("width", [2.0, 3.5, 6.0])
def test_ring_width_in_mm_on_anisotropic_voxels(width):
    _, mask = _two_blobs()
    lesion = split_lesions(mask)[0]
    ring = sitk.GetArrayFromImage(peritumoral_ring(lesion, width))
    # SimpleITK's own distance map (mm, image spacing) to the lesion, independent of scipy
    dist = sitk.GetArrayFromImage(sitk.SignedMaurerDistanceMap(
        lesion, insideIsPositive=False, squaredDistance=False, useImageSpacing=True))
    inside = sitk.GetArrayFromImage(lesion).astype(bool)
    assert not (ring.astype(bool) & inside).any()
    assert ring.sum() > 0
    assert dist[ring == 1].max() <= width + 1e-6
    outside_ring = ~inside & (ring == 0)
    assert dist[outside_ring].min() > width
    # the ring reaches further in-plane (0.8 mm voxels) than through slices (3 mm)
    zs, ys, xs = np.nonzero(ring)
    iz, iy, ix = np.nonzero(inside)
    assert (ix.min() - xs.min()) == min(int(width // 0.8 + 1e-9), ix.min())  # cut by the edge
    assert (iz.min() - zs.min()) == min(int(width // 3.0 + 1e-9), iz.min())


def test_ring_clipped_to_body_and_checked_against_image():
    image, mask = _two_blobs()
    lesion = split_lesions(mask)[0]
    body = np.zeros(sitk.GetArrayFromImage(mask).shape, np.uint8)
    body[:, :, 5:] = 1
    ring = sitk.GetArrayFromImage(peritumoral_ring(lesion, 4.0, image=image, body_mask=_image(body)))
    assert ring.sum() > 0 and ring[:, :, :5].sum() == 0
    other = sitk.Image(5, 5, 5, sitk.sitkInt16)
    with pytest.raises(ValueError, match="share one voxel grid"):
        peritumoral_ring(lesion, 4.0, image=other)
    with pytest.raises(ValueError, match="width_mm"):
        peritumoral_ring(lesion, 0)


@pytest.fixture
def cohort(tmp_path):
    image, mask = _two_blobs()
    sitk.WriteImage(image, str(tmp_path / "img.nrrd"))
    sitk.WriteImage(mask, str(tmp_path / "mask.nrrd"))
    empty = sitk.Image(mask.GetSize(), sitk.sitkUInt8)
    empty.CopyInformation(mask)
    sitk.WriteImage(empty, str(tmp_path / "empty.nrrd"))
    return pd.DataFrame({"case_id": ["a", "b"], "image": [str(tmp_path / "img.nrrd")] * 2,
                         "mask": [str(tmp_path / "mask.nrrd"), str(tmp_path / "empty.nrrd")]})


SETTINGS = {"setting": {"binWidth": 25, "label": 1}, "imageType": {"Original": {}},
            "featureClass": {"firstorder": [], "glcm": [], "shape": []}}


def test_per_lesion_rows_equal_each_lesion_alone(cohort, tmp_path):
    cache = tmp_path / "cache"
    with pytest.warns(UserWarning, match="1 of 2 rows gave no lesion"):
        man = lesion_manifest(cohort, cache_dir=cache)
    assert man["lesion"].tolist() == [1, 2]
    assert man["lesion_voxels"].tolist() == [108, 40]
    assert man.attrs["region_errors"]["case_id"].tolist() == ["b"]
    again = lesion_manifest(cohort.iloc[:1], cache_dir=cache)  # content-addressed: same files
    assert again["mask"].tolist() == man["mask"].tolist()
    assert not list(cache.rglob("*.part"))

    result = extract_lesions(cohort, SETTINGS, cache_dir=cache, n_jobs=1, progress=False)
    f = result.features
    assert f[["case_id", "lesion"]].values.tolist() == [["a", 1], ["a", 2]]
    assert f["original_shape_VoxelVolume"].tolist() == pytest.approx(
        [108 * np.prod(SPACING), 40 * np.prod(SPACING)])
    assert result.errors["case_id"].tolist() == ["b"]
    assert result.errors["stage"].tolist() == ["regions"]

    # each lesion's row equals pyradiomics on that lesion's mask alone, written by hand
    from radiomics.featureextractor import RadiomicsFeatureExtractor

    image = sitk.ReadImage(cohort["image"][0])
    for k, lesion in enumerate(split_lesions(sitk.ReadImage(cohort["mask"][0])), start=1):
        ext = RadiomicsFeatureExtractor(**SETTINGS["setting"])
        ext.enabledImagetypes = {"Original": {}}
        ext.enabledFeatures = {"firstorder": [], "glcm": [], "shape": []}
        alone = ext.execute(image, lesion, label=1)
        row = f[f["lesion"] == k].iloc[0]
        for name in ("original_firstorder_Mean", "original_glcm_Contrast",
                     "original_shape_Sphericity"):
            assert row[name] == pytest.approx(float(alone[name]), rel=1e-12)


def test_union_is_one_row(cohort, tmp_path):
    result = extract_lesions(cohort.iloc[:1], SETTINGS, lesions="union", min_voxels=50,
                             cache_dir=tmp_path / "c", n_jobs=1, progress=False)
    assert result.features["lesion"].tolist() == [0]
    assert result.features["original_shape_VoxelVolume"].iloc[0] == pytest.approx(
        108 * np.prod(SPACING))


def test_ring_manifest_extracts(cohort, tmp_path):
    rings = ring_manifest(cohort.iloc[:1], 3.0, cache_dir=tmp_path / "c")
    assert rings["region"].tolist() == ["ring_3mm"]
    ring = sitk.ReadImage(rings["mask"][0])
    expected = peritumoral_ring(sitk.ReadImage(cohort["mask"][0]), 3.0)
    assert np.array_equal(sitk.GetArrayFromImage(ring), sitk.GetArrayFromImage(expected))
    res = extract_features(rings, SETTINGS, cache_dir=tmp_path / "c", n_jobs=1, progress=False)
    assert res.features["original_shape_VoxelVolume"].iloc[0] == pytest.approx(
        sitk.GetArrayFromImage(expected).sum() * np.prod(SPACING))


def test_ring_manifest_body_mask_column_and_broken_row(cohort, tmp_path):
    mask = sitk.ReadImage(cohort["mask"][0])
    body = np.zeros(sitk.GetArrayFromImage(mask).shape, np.uint8)
    body[:, :, 5:] = 1
    body_img = sitk.GetImageFromArray(body)
    body_img.CopyInformation(mask)
    sitk.WriteImage(body_img, str(tmp_path / "body.nrrd"))
    rows = cohort.iloc[[0, 0]].reset_index(drop=True)
    rows["case_id"] = ["a", "gone"]
    rows.loc[1, "image"] = str(tmp_path / "missing.nrrd")
    rows["body"] = str(tmp_path / "body.nrrd")
    with pytest.warns(UserWarning, match="1 of 2 rows gave no 4 mm ring: gone"):
        rings = ring_manifest(rows, 4.0, body_mask_column="body", cache_dir=tmp_path / "c")
    assert rings["case_id"].tolist() == ["a"]
    assert "does not exist" in rings.attrs["region_errors"]["message"][0]
    got = sitk.GetArrayFromImage(sitk.ReadImage(rings["mask"][0]))
    want = sitk.GetArrayFromImage(peritumoral_ring(mask, 4.0, body_mask=body_img))
    assert np.array_equal(got, want) and got[:, :, :5].sum() == 0 and got.sum() > 0
    with pytest.raises(ValueError, match="body_mask_column 'nope' is not a column"):
        ring_manifest(rows, 4.0, body_mask_column="nope")
