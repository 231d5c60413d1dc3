"""Tests of radnb.preprocess: every step keeps the patient coordinate system."""
from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from radnb import preprocess as pp

ROTATED = (0, 1, 0, -1, 0, 0, 0, 0, 1)  # patient axes rotated 90 degrees in-plane


def _arr(img):
    return sitk.GetArrayFromImage(img)


def _keeps_grid(out, ref):
    assert out.GetSize() == ref.GetSize()
    assert np.allclose(out.GetSpacing(), ref.GetSpacing())
    assert np.allclose(out.GetOrigin(), ref.GetOrigin())
    assert np.allclose(out.GetDirection(), ref.GetDirection())


@pytest.fixture
def rotated(anisotropic_image):
    image, mask = anisotropic_image
    image.SetDirection(ROTATED)
    mask.CopyInformation(image)
    return image, mask


@pytest.mark.parametrize("interpolator", ["bspline", "linear", "nearest", "lanczos"])
def test_resample_spacing_exact_origin_direction_kept(rotated, interpolator):
    image, _ = rotated
    out = pp.resample(image, (1.0, 1.0, 1.0), interpolator)
    assert out.GetSpacing() == (1.0, 1.0, 1.0)
    assert out.GetOrigin() == image.GetOrigin() and out.GetDirection() == image.GetDirection()
    # same physical extent, rounded to whole voxels: 7*0.8, 8*0.9, 9*2.5 mm
    assert out.GetSize() == (6, 7, 23)  # 5.6, 7.2, 22.5 rounded half up
    assert out.GetPixelID() == image.GetPixelID()
    # a voxel centre of the new grid lies at the same physical place as the old one
    assert out.TransformIndexToPhysicalPoint((0, 0, 0)) == image.TransformIndexToPhysicalPoint((0, 0, 0))


def test_resample_mask_stays_a_label_and_keeps_volume(rotated):
    image, mask = rotated
    mask = sitk.Cast(mask * 3, sitk.sitkUInt8)
    out = pp.resample(mask, 0.5, "bspline", is_mask=True)  # bspline is overridden for masks
    assert set(np.unique(_arr(out))) == {0, 3}
    vol = lambda m: (_arr(m) > 0).sum() * np.prod(m.GetSpacing())  # noqa: E731
    assert vol(out) == pytest.approx(vol(mask), rel=0.25)
    lg = pp.resample(mask, 0.5, "label_gaussian", is_mask=True)
    assert set(np.unique(_arr(lg))) <= {0, 3}
    # 0 / None keep an axis
    keep_z = pp.resample(image, (0.4, 0.45, None))
    assert keep_z.GetSpacing() == (0.4, 0.45, 2.5) and keep_z.GetSize() == (14, 16, 9)


def test_resample_checks_arguments(anisotropic_image):
    image, _ = anisotropic_image
    with pytest.raises(ValueError, match="interpolator must be one of"):
        pp.resample(image, 1.0, "cubic")
    with pytest.raises(ValueError, match="one number or 3"):
        pp.resample(image, (1.0, 1.0))
    with pytest.raises(TypeError, match="SimpleITK image"):
        pp.resample(_arr(image), 1.0)


def test_resample_to_reference_grid(rotated):
    image, mask = rotated
    fine = pp.resample(image, 0.5, "linear")
    back = pp.resample_to(fine, image, "linear")
    _keeps_grid(back, image)
    fine_mask = pp.resample(mask, 0.5, is_mask=True)
    back_mask = pp.resample_to(fine_mask, image, is_mask=True)
    _keeps_grid(back_mask, mask)
    assert np.array_equal(_arr(back_mask), _arr(mask))


def test_zscore_gives_mean_0_sd_1_inside_mask(rotated):
    image, mask = rotated
    out = pp.normalize(image, mask, "zscore")
    _keeps_grid(out, image)
    inside = _arr(out)[_arr(mask) == 1]
    assert inside.mean() == pytest.approx(0.0, abs=1e-5)
    assert inside.std() == pytest.approx(1.0, abs=1e-5)
    whole = _arr(pp.normalize(image, scale=100))
    assert whole.mean() == pytest.approx(0.0, abs=1e-3) and whole.std() == pytest.approx(100, rel=1e-5)


def test_percentile_normalisation_maps_percentiles_to_0_and_1(rotated):
    image, mask = rotated
    out = _arr(pp.normalize(image, mask, "percentile", percentiles=(5, 95)))
    inside = out[_arr(mask) == 1]
    lo, hi = np.percentile(inside, [5, 95])
    assert lo == pytest.approx(0.0, abs=1e-5) and hi == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(ValueError, match="constant"):
        pp.normalize(sitk.Cast(mask, sitk.sitkFloat32), mask)
    with pytest.raises(ValueError, match="method must be one of"):
        pp.normalize(image, method="minmax")


def test_clip_hu_keeps_type_and_grid(rotated):
    image, _ = rotated
    arr = _arr(image)
    arr[0, 0, :3] = (-3000, 2000, 50)
    img = sitk.GetImageFromArray(arr)
    img.CopyInformation(image)
    out = pp.clip_hu(img, -1000, 400)
    _keeps_grid(out, image)
    assert out.GetPixelID() == image.GetPixelID()
    assert _arr(out)[0, 0, :3].tolist() == [-1000, 400, 50]
    assert np.array_equal(_arr(out), np.clip(arr, -1000, 400))
    with pytest.raises(ValueError, match="below upper"):
        pp.clip_hu(img, 400, -1000)


@pytest.fixture
def biased_mr():
    """Two-tissue MR phantom multiplied by a planted smooth bias field (up to +/-25 %)."""
    rng = np.random.default_rng(3)
    z, y, x = np.mgrid[0:32, 0:48, 0:40].astype(float)
    ellipsoid = (x - 20) ** 2 / 300 + (y - 24) ** 2 / 450 + (z - 16) ** 2 / 180 < 1
    tissue = np.where(ellipsoid, 100.0, 0.0)
    tissue[(x - 20) ** 2 + (y - 24) ** 2 + (z - 16) ** 2 < 60] = 150.0
    bias = np.exp(0.35 * (x / 40 - 0.5) + 0.25 * (y / 48 - 0.5) - 0.3 * (z / 32 - 0.5) ** 2)
    arr = tissue * bias + rng.normal(0, 2, tissue.shape) + 5.0
    image = sitk.GetImageFromArray(arr.astype(np.float32))
    image.SetSpacing((1.1, 0.9, 2.0))
    image.SetOrigin((3.0, -4.0, 10.0))
    image.SetDirection(ROTATED)
    return image, tissue, bias


def test_n4_removes_planted_bias_field(biased_mr):
    image, tissue, bias = biased_mr
    corrected, field = pp.n4_correct(image, return_bias=True)
    _keeps_grid(corrected, image)
    _keeps_grid(field, image)
    before, after = _arr(image), _arr(corrected)
    for value in (100.0, 150.0):
        m = tissue == value
        cv_before = before[m].std() / before[m].mean()
        cv_after = after[m].std() / after[m].mean()
        assert cv_after < 0.5 * cv_before, (value, cv_before, cv_after)
    # the estimated field has the planted shape (N4's field has an arbitrary scale)
    m = tissue > 0
    r = np.corrcoef(np.log(_arr(field)[m]), np.log(bias[m]))[0, 1]
    assert r > 0.95


def test_n4_refuses_non_positive_images(anisotropic_image):
    image, mask = anisotropic_image
    negative = sitk.Cast(image, sitk.sitkFloat32) - 1000.0
    with pytest.raises(ValueError, match="intensities > 0"):
        pp.n4_correct(negative, mask)


@pytest.mark.parametrize("plane", ["axial", "coronal", "sagittal"])
def test_compare_before_after_shows_same_place_after_resampling(rotated, plane):
    import matplotlib

    matplotlib.use("Agg")
    image, mask = rotated
    after = pp.resample(image, 0.5, "linear")
    fig = pp.compare_before_after(image, after, mask, plane=plane)
    axes = fig.get_axes()
    assert len(axes) >= 4  # two slices + two histograms (+ legends)
    assert "mm" in axes[0].get_xlabel()
    titles = [a.get_title() for a in axes]
    assert any(t.startswith("Before") for t in titles) and any(t.startswith("After") for t in titles)
    fig2 = pp.compare_before_after(image, pp.clip_hu(image, 0, 100), histogram=False, window=(0, 120))
    assert len(fig2.get_axes()) == 2
    import matplotlib.pyplot as plt

    plt.close("all")


def test_compare_before_after_slice_through_same_physical_point(anisotropic_image):
    from radnb.preprocess._compare import _matching_index, _slice_point

    image, mask = anisotropic_image
    after = pp.resample(image, (0.8, 0.9, 0.5), "nearest")
    i_before, point = _slice_point(image, mask, "axial", None)
    i_after = _matching_index(after, "axial", point)
    assert i_before == 4  # ROI spans slices 3-5
    assert i_after == 20  # 4 x 2.5 mm / 0.5 mm


def test_compare_before_after_without_radnb_view(anisotropic_image, monkeypatch):
    import sys

    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.setitem(sys.modules, "radnb.view", None)  # import fails: plain matplotlib
    image, mask = anisotropic_image
    fig = pp.compare_before_after(image, pp.normalize(image, mask), mask, plane="coronal")
    assert fig.get_axes()[0].get_xlabel() == "mm"


def test_compare_before_after_units_and_mask_on_another_grid(anisotropic_image):
    import matplotlib
    import matplotlib.pyplot as plt

    matplotlib.use("Agg")
    image, mask = anisotropic_image
    after = pp.resample(image, (0.8, 0.9, 0.5), "nearest")
    after_mask = pp.resample_to(mask, after, is_mask=True)
    same = pp.compare_before_after(image, after, mask, units="HU")
    other = pp.compare_before_after(image, after, after_mask, units="HU")  # mask on the grid of after
    for fig in (same, other):
        hists = fig.get_axes()[-2:]
        assert all(a.get_xlabel() == "intensity (HU) inside mask" for a in hists)
    # nearest-neighbour back onto before recovers the same ROI: identical histograms
    assert [a.get_title() for a in same.get_axes()[-2:]] == [a.get_title() for a in other.get_axes()[-2:]]
    plain = pp.compare_before_after(image, after)
    assert plain.get_axes()[-1].get_xlabel() == "intensity"
    far = sitk.Image(mask)
    far.SetOrigin((500.0, 500.0, 500.0))
    with pytest.raises(ValueError, match="does not overlap"):
        pp.compare_before_after(image, after, far)
    with pytest.raises(TypeError, match="units"):
        pp.compare_before_after(image, after, units=1)
    plt.close("all")


def test_resample_leaves_no_blank_rim():
    # 9 slices of 2.5 mm resampled to 1 mm: 23 slices, the last centre lies 0.5 mm beyond
    # the last old centre but still inside the old voxel, so it takes the edge value
    img = sitk.GetImageFromArray(np.full((9, 8, 7), 7, np.int16))
    img.SetSpacing((0.8, 0.9, 2.5))
    out = pp.resample(img, 1.0, "linear", default_value=-999)
    assert out.GetSize() == (6, 7, 23)
    assert (_arr(out) == 7).all()


@pytest.mark.data
def test_zscore_matches_pyradiomics_normalize_image(pyradiomics_dir):
    """Reference: pyradiomics 3.0.1 ``imageoperations.normalizeImage`` (whole-image z-score x scale).

    pyradiomics uses ITK's NormalizeImageFilter, whose SD has the n - 1 denominator; with
    ~1.3 million voxels that differs from ours (n) by less than 1e-6 relative.
    """
    from radiomics import imageoperations

    image = sitk.ReadImage(str(pyradiomics_dir / "brain1_image.nrrd"))
    ours = pp.normalize(image, method="zscore", scale=100)
    _keeps_grid(ours, image)
    theirs = imageoperations.normalizeImage(image, normalizeScale=100)
    np.testing.assert_allclose(_arr(ours), _arr(theirs), rtol=1e-5, atol=1e-3)


def test_compare_before_after_uses_one_ct_window_for_hu():
    # Clipped CT has no value below -50 HU, which the viewer would window like MR (percentiles):
    # with units="HU" both panels must use the same soft-tissue window (issue 18).
    import matplotlib
    import matplotlib.pyplot as plt

    from radnb.view import CT_PRESETS

    matplotlib.use("Agg")
    arr = np.full((8, 20, 20), 50, dtype=np.int16)  # 50 HU = the mediastinal level
    arr[:, :, :5] = -1000  # air on one side
    arr[:, :, 15:] = 300  # bone-like on the other
    image = sitk.GetImageFromArray(arr)
    image.SetSpacing((0.8, 0.8, 2.5))
    clipped = pp.clip_hu(image, lower=0, upper=300)
    width, level = CT_PRESETS["mediastinum"]
    assert level == 50.0
    for units, expected in (("HU", 0.5), (None, 50 / 300)):  # None: percentiles 0-300 HU
        fig = pp.compare_before_after(image, clipped, plane="axial", units=units, histogram=False)
        rgb = np.asarray(fig.get_axes()[1].get_images()[0].get_array(), dtype=float)
        h, w = rgb.shape[:2]
        centre = rgb[h // 2, w // 2, 0] / (255.0 if rgb.max() > 1.5 else 1.0)
        assert abs(centre - expected) < 0.03, (units, centre)
    plt.close("all")
