"""Feature maps (issue 17, item 5): pyradiomics' voxel-based mode, cached, on the image grid."""
from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from radnb.extract import FeatureMapWarning, feature_map, plot_feature_map

PARAMS = {"setting": {"binWidth": 10}, "imageType": {"Original": {}}}


@pytest.fixture
def case():
    rng = np.random.default_rng(5)
    image = sitk.GetImageFromArray(rng.normal(50, 20, (7, 14, 13)).round().astype(np.float32))
    image.SetSpacing((0.7, 0.9, 2.0))
    image.SetOrigin((3.0, -4.0, 10.0))
    m = np.zeros((7, 14, 13), np.uint8)
    m[1:6, 3:11, 2:10] = 1
    mask = sitk.GetImageFromArray(m)
    mask.CopyInformation(image)
    return image, mask


def _pyradiomics(image, mask, feature_class, name, voxel_based, **extra):
    from radiomics.featureextractor import RadiomicsFeatureExtractor

    ext = RadiomicsFeatureExtractor(binWidth=10, **extra)
    ext.enabledImagetypes = {"Original": {}}
    ext.enabledFeatures = {feature_class: [name]}
    return ext.execute(image, mask, label=1, voxelBased=voxel_based)


@pytest.mark.parametrize("feature", ["original_glcm_Contrast", "original_firstorder_Mean",
                                     "original_glrlm_RunEntropy"])
def test_map_equals_pyradiomics_voxel_based(case, tmp_path, feature):
    image, mask = case
    fmap = feature_map(image, mask, feature, params=PARAMS, cache_dir=tmp_path)
    assert fmap.GetSize() == image.GetSize() and fmap.GetSpacing() == image.GetSpacing()
    assert fmap.GetOrigin() == image.GetOrigin()
    _, fclass, name = feature.split("_")
    direct = _pyradiomics(image, mask, fclass, name, True, kernelRadius=1, maskedKernel=True)
    ref = sitk.Resample(direct[feature], image, sitk.Transform(), sitk.sitkNearestNeighbor, 0.0,
                        sitk.sitkFloat32)
    got, want = sitk.GetArrayFromImage(fmap), sitk.GetArrayFromImage(ref)
    roi = sitk.GetArrayFromImage(mask) == 1
    assert np.isnan(got[~roi]).all()
    np.testing.assert_array_equal(got[roi], want[roi])
    # the cache returns the same values, read from its file
    again = feature_map(image, mask, feature, params=PARAMS, cache_dir=tmp_path)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(again)[roi], got[roi])
    assert len(list(tmp_path.rglob("*.nrrd"))) == 1 and not list(tmp_path.rglob("*.part"))


@pytest.mark.parametrize("feature", ["original_glcm_Contrast", "original_firstorder_Mean"])
def test_centre_voxel_equals_feature_of_its_neighbourhood(case, tmp_path, feature):
    image, mask = case
    fmap = sitk.GetArrayFromImage(feature_map(image, mask, feature, params=PARAMS,
                                              cache_dir=tmp_path))
    z, y, x = 3, 6, 5  # inside the ROI, its 3 x 3 x 3 neighbourhood too
    cube = np.zeros(fmap.shape, np.uint8)
    cube[z - 1:z + 2, y - 1:y + 2, x - 1:x + 2] = 1
    roi = sitk.GetImageFromArray(cube)
    roi.CopyInformation(image)
    _, fclass, name = feature.split("_")
    alone = _pyradiomics(image, roi, fclass, name, False)[feature]
    assert fmap[z, y, x] == pytest.approx(float(alone), rel=1e-5)  # map stored as float32


def test_long_run_warns_with_estimate(case, tmp_path):
    image, mask = case
    with pytest.warns(FeatureMapWarning, match=r"320 ROI voxels will take about \d+ s"):
        feature_map(image, mask, params=PARAMS, cache_dir=tmp_path, warn_seconds=0)


def test_bad_feature_and_grid(case, tmp_path):
    image, mask = case
    with pytest.raises(ValueError, match="shape has no voxel-based map"):
        feature_map(image, mask, "original_shape_Sphericity", cache_dir=tmp_path)
    with pytest.raises(ValueError, match="not a pyradiomics feature name"):
        feature_map(image, mask, "contrast", cache_dir=tmp_path)
    with pytest.raises(ValueError, match="share one voxel grid"):
        feature_map(image, sitk.Image(4, 4, 4, sitk.sitkUInt8), cache_dir=tmp_path)
    with pytest.raises(ValueError, match="whole number of voxels"):
        feature_map(image, mask, kernel_radius=1.5, cache_dir=tmp_path)


def test_plot_has_overlay_and_colour_bar(case, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    image, mask = case
    fmap = feature_map(image, mask, params=PARAMS, cache_dir=tmp_path)
    ax = plot_feature_map(image, fmap, mask)
    assert len(ax.images) == 2  # grey slice + colour overlay
    colourbar = ax.figure.axes[1]
    assert colourbar.get_ylabel() == "original_glcm_Contrast"
    shown = ax.images[1].get_array()
    assert shown.count() == 8 * 8  # the ROI voxels of the centre slice carry colour


def test_browse_draws_the_map_with_a_colour_bar(case, tmp_path):
    from radnb.view import browse

    image, mask = case
    fmap = feature_map(image, mask, params=PARAMS, cache_dir=tmp_path)
    plain, heat = browse(image, mask), browse(image, mask, heatmap=fmap)
    values = sitk.GetArrayFromImage(fmap)
    assert "original_glcm_Contrast" in heat._legend_w.value
    assert f"{np.nanmax(values):.4g}" in heat._legend_w.value
    for v in (plain, heat):
        v.plane, v.slice = "axial", 3  # through the ROI
    changed = np.any(plain.render_array() != heat.render_array(), axis=-1)
    assert changed.any() and not changed.all()  # coloured inside the ROI only
    for v in (plain, heat):
        v.slice = 0  # no ROI voxel in this slice: the map draws nothing
    np.testing.assert_array_equal(plain.render_array(), heat.render_array())
    with pytest.raises(ValueError, match="not a matplotlib colour map"):
        browse(image, mask, heatmap=fmap, heatmap_cmap="rainbowish")
