"""Tests of radnb.segment: segmentation helpers, perturbations, agreement measures."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
from scipy.spatial.distance import directed_hausdorff

from radnb import segment as sg

SPACING = (0.8, 0.9, 2.5)  # x, y, z in mm: anisotropic like clinical CT


def _image(arr, spacing=SPACING, origin=(-10.0, 20.0, 5.0), direction=None):
    img = sitk.GetImageFromArray(arr)
    img.SetSpacing(spacing)
    img.SetOrigin(origin)
    if direction is not None:
        img.SetDirection(direction)
    return img


def _sphere(radius_mm, size=(60, 56, 24), spacing=SPACING, centre=None):
    """Boolean array (z, y, x) of a ball of ``radius_mm`` on an anisotropic grid."""
    zz, yy, xx = np.indices(size[::-1])
    c = np.array(size) / 2 if centre is None else np.asarray(centre)
    r = np.sqrt(((xx - c[0]) * spacing[0]) ** 2 + ((yy - c[1]) * spacing[1]) ** 2
                + ((zz - c[2]) * spacing[2]) ** 2)
    return r <= radius_mm


def _equivalent_radius(mask):
    n = sitk.GetArrayViewFromImage(mask).astype(bool).sum()
    return (3 * n * np.prod(mask.GetSpacing()) / (4 * np.pi)) ** (1 / 3)


def _arr(img):
    return sitk.GetArrayFromImage(img)


def _same_grid(a, b):
    assert a.GetSize() == b.GetSize()
    assert np.allclose(a.GetSpacing(), b.GetSpacing())
    assert np.allclose(a.GetOrigin(), b.GetOrigin())
    assert np.allclose(a.GetDirection(), b.GetDirection())


# --------------------------------------------------------------------------- overlap
def test_dice_jaccard_hand_counted():
    a = np.array([[1, 1, 0, 0], [1, 1, 0, 0]])
    b = np.array([[0, 1, 1, 0], [0, 1, 1, 0]])
    # |A| = 4, |B| = 4, |A and B| = 2, |A or B| = 6
    assert sg.dice(a, b) == pytest.approx(2 * 2 / 8)
    assert sg.jaccard(a, b) == pytest.approx(2 / 6)
    # 3D, one mask inside the other: |A| = 8, |B| = 27, overlap 8, union 27
    big = np.zeros((5, 5, 5), int)
    big[1:4, 1:4, 1:4] = 1
    small = np.zeros_like(big)
    small[1:3, 1:3, 1:3] = 1
    assert sg.dice(small, big) == pytest.approx(16 / 35)
    assert sg.jaccard(small, big) == pytest.approx(8 / 27)
    assert sg.dice(big, big) == 1.0 and sg.jaccard(big, 0 * big) == 0.0
    assert np.isnan(sg.dice(0 * big, 0 * big))


def test_dice_jaccard_match_simpleitk_label_overlap(rng):
    """Reference: ITK's LabelOverlapMeasuresImageFilter (Tustison & Gee, Insight Journal 2009)."""
    a = _sphere(9.0)
    b = _sphere(8.0, centre=(33, 30, 13)) | (rng.random(a.shape) < 0.02)
    ia, ib = _image(a.astype(np.uint8)), _image(b.astype(np.uint8))
    ref = sitk.LabelOverlapMeasuresImageFilter()
    ref.Execute(ia, ib)
    assert sg.dice(ia, ib) == pytest.approx(ref.GetDiceCoefficient(), rel=1e-12)
    assert sg.jaccard(ia, ib) == pytest.approx(ref.GetJaccardCoefficient(), rel=1e-12)
    d = sg.dice(ia, ib)
    assert sg.jaccard(ia, ib) == pytest.approx(d / (2 - d))


def test_label_selects_one_value():
    a = np.array([[1, 2, 2, 0]])
    b = np.array([[1, 2, 0, 0]])
    assert sg.dice(a, b, label=2) == pytest.approx(2 / 3)
    assert sg.dice(a, b, label=1) == 1.0


def test_different_grids_are_refused():
    a = _image(np.ones((3, 4, 5), np.uint8))
    b = _image(np.ones((3, 4, 5), np.uint8), spacing=(1.0, 1.0, 1.0))
    with pytest.raises(ValueError, match="resample_to"):
        sg.dice(a, b)
    with pytest.raises(ValueError, match="same shape"):
        sg.dice(np.ones((2, 2)), np.ones((3, 3)))


# --------------------------------------------------------------------------- surface distance
def test_hausdorff_parallel_plates_by_hand():
    # two 1-voxel-thick plates 3 slices apart; every voxel is a surface voxel and
    # its nearest voxel on the other plate is straight above: 3 x 2.5 mm = 7.5 mm
    a = np.zeros((10, 9, 9), np.uint8)
    b = np.zeros_like(a)
    a[3, 2:7, 2:7] = 1
    b[6, 2:7, 2:7] = 1
    ia, ib = _image(a), _image(b)
    assert sg.hausdorff95(ia, ib) == pytest.approx(7.5)
    assert sg.hausdorff95(ia, ib, percentile=100) == pytest.approx(7.5)


def test_hausdorff95_ignores_a_single_outlier_voxel():
    # cube of 5^3 voxels (98 surface voxels); b adds one stray voxel 4 slices above
    # its top face. Directed distances a->b are all 0; b->a are 0 except 4 x 2.5 mm.
    a = np.zeros((14, 12, 12), np.uint8)
    a[2:7, 2:7, 2:7] = 1
    b = a.copy()
    b[10, 4, 4] = 1
    ia, ib = _image(a), _image(b)
    assert sg.hausdorff95(ia, ib) == 0.0
    assert sg.hausdorff95(ia, ib, percentile=100) == pytest.approx(10.0)
    table = sg.agreement(ia, ib)
    assert table.loc[0, "hausdorff_mm"] == pytest.approx(10.0) and table.loc[0, "hd95_mm"] == 0


def test_hausdorff_max_matches_scipy_directed_hausdorff(rng):
    """Reference: scipy.spatial.distance.directed_hausdorff (Taha & Hanbury 2015) on the surfaces."""
    from scipy import ndimage

    a = _sphere(8.0) | (rng.random((24, 56, 60)) < 0.001)
    b = _sphere(10.0, centre=(32, 27, 12))
    sp_zyx = np.array(SPACING[::-1])

    def surface_points(m):
        surf = m & ~ndimage.binary_erosion(m, ndimage.generate_binary_structure(3, 1))
        return np.argwhere(surf) * sp_zyx

    pa, pb = surface_points(a), surface_points(b)
    expected = max(directed_hausdorff(pa, pb)[0], directed_hausdorff(pb, pa)[0])
    ia, ib = _image(a.astype(np.uint8)), _image(b.astype(np.uint8))
    assert sg.hausdorff95(ia, ib, percentile=100) == pytest.approx(expected, rel=1e-9)
    assert sg.hausdorff95(ia, ib) <= expected


def test_hausdorff95_concentric_cubes_brute_force():
    """Concentric cubes (5^3 inside 11^3 voxels) on the anisotropic grid, checked against
    all pairwise surface distances (scipy.spatial.distance.cdist) and numpy's percentile."""
    from scipy.spatial.distance import cdist

    a = np.zeros((15, 15, 15), np.uint8)
    b = np.zeros_like(a)
    a[5:10, 5:10, 5:10] = 1
    b[2:13, 2:13, 2:13] = 1
    sp = np.array(SPACING[::-1])

    def surface(m):  # voxels of m with a face neighbour outside m (surface count by hand:
        inner = np.zeros_like(m)  # n^3 - (n - 2)^3 = 98 for n = 5, 602 for n = 11)
        inner[1:-1, 1:-1, 1:-1] = m[:-2, 1:-1, 1:-1] & m[2:, 1:-1, 1:-1] & m[1:-1, :-2, 1:-1] \
            & m[1:-1, 2:, 1:-1] & m[1:-1, 1:-1, :-2] & m[1:-1, 1:-1, 2:] & m[1:-1, 1:-1, 1:-1]
        return np.argwhere(m & ~inner) * sp

    pa, pb = surface(a), surface(b)
    assert (len(pa), len(pb)) == (98, 602)
    d = cdist(pa, pb)
    # by hand: the inner voxel farthest from the outer surface is the centre of an inner z face,
    # 5 columns (5 x 0.8 = 4.0 mm), 5 rows (4.5 mm) or 3 slices (7.5 mm) from the outer faces
    assert d.min(axis=1).max() == pytest.approx(4.0)
    assert sg.hausdorff95(_image(a), _image(b), percentile=100) == pytest.approx(d.min(axis=0).max())
    expected = max(np.percentile(d.min(axis=1), 95), np.percentile(d.min(axis=0), 95))
    assert sg.hausdorff95(_image(a), _image(b)) == pytest.approx(expected, rel=1e-12)


def test_hausdorff95_concentric_spheres():
    # radii 10 and 14 mm: every surface point is ~4 mm from the other surface,
    # up to the voxel staircase (at most about half the 2.5 mm slice thickness)
    ia = _image(_sphere(10.0).astype(np.uint8))
    ib = _image(_sphere(14.0).astype(np.uint8))
    assert sg.hausdorff95(ia, ib) == pytest.approx(4.0, abs=1.3)
    assert np.isnan(sg.hausdorff95(ia, _image(np.zeros((24, 56, 60), np.uint8))))


def test_volume_difference_and_agreement_row():
    a = np.zeros((10, 10, 10), np.uint8)
    a[2:6, 2:6, 2:6] = 1  # 64 voxels
    b = np.zeros_like(a)
    b[2:6, 2:6, 2:8] = 1  # 96 voxels
    vox_ml = np.prod(SPACING) / 1000
    ia, ib = _image(a), _image(b)
    vd = sg.volume_difference(ia, ib)
    assert vd.ml == pytest.approx(32 * vox_ml) and vd.percent == pytest.approx(50.0)
    row = sg.agreement(ia, ib)
    assert list(row.columns) == ["dice", "jaccard", "hd95_mm", "hausdorff_mm", "volume_a_ml",
                                 "volume_b_ml", "volume_diff_ml", "volume_diff_pct"]
    assert len(row) == 1
    assert row.loc[0, "dice"] == pytest.approx(2 * 64 / 160)
    assert row.loc[0, "volume_a_ml"] == pytest.approx(64 * vox_ml)
    # b is 2 columns (x, 0.8 mm each) longer: farthest surface point is 1.6 mm away
    assert row.loc[0, "hausdorff_mm"] == pytest.approx(1.6)


# --------------------------------------------------------------------------- segmentation
@pytest.fixture
def lesion():
    """CT-like image: a 60 HU ball of radius 8 mm in 0 HU tissue, noise SD 10."""
    rng = np.random.default_rng(7)
    truth = _sphere(8.0)
    arr = np.where(truth, 60.0, 0.0) + rng.normal(0, 10, truth.shape)
    return _image(arr.astype(np.float32)), _image(truth.astype(np.uint8))


def test_region_grow_from_index_or_physical_point(lesion):
    image, truth = lesion
    index = (30, 28, 12)
    point = image.TransformIndexToPhysicalPoint(index)
    grown_idx = sg.region_grow(image, index, lower=30, upper=200)
    grown_mm = sg.region_grow(image, point, lower=30, upper=200)
    assert np.array_equal(_arr(grown_idx), _arr(grown_mm))
    _same_grid(grown_idx, image)
    clean = sg.fill_holes(sg.largest_component(grown_idx))
    assert sg.dice(clean, truth) > 0.9
    confident = sg.fill_holes(sg.largest_component(sg.region_grow(image, index, multiplier=2.0)))
    assert sg.dice(confident, truth) > 0.8
    # on a noisier image, smoothing first stops leaks and holes
    noisy = _arr(truth) * 60.0 + np.random.default_rng(1).normal(0, 25, truth.GetSize()[::-1])
    noisy = _image(noisy.astype(np.float32))
    raw = sg.region_grow(noisy, index, lower=30)
    smoothed = sg.region_grow(noisy, index, lower=30, smoothing_mm=1.5)
    assert sg.dice(smoothed, truth) > sg.dice(raw, truth) + 0.02
    with pytest.raises(ValueError, match="outside the image"):
        sg.region_grow(image, (100, 0, 0), lower=0, upper=1)
    with pytest.raises(ValueError, match="outside the image"):
        sg.region_grow(image, (5000.0, 0.0, 0.0), lower=0, upper=1)


def test_threshold_components_holes_smooth():
    arr = np.zeros((12, 14, 16), np.int16)
    arr[2:9, 2:9, 2:9] = 100  # big cube 7^3
    arr[4:7, 4:7, 4:7] = 0  # hole in it (27 voxels)
    arr[10:12, 11:13, 12:14] = 100  # small blob (8 voxels)
    img = _image(arr, spacing=(1.0, 1.0, 1.0))
    mask = sg.threshold(img, 50, 150)
    assert _arr(mask).sum() == 343 - 27 + 8
    big = sg.largest_component(mask)
    assert _arr(big).sum() == 343 - 27
    assert _arr(sg.fill_holes(big)).sum() == 343
    spur = _arr(sg.fill_holes(big)).copy()
    spur[5, 5, 9:12] = 1  # a 1-voxel-thin spur sticking out
    smoothed = sg.smooth(_image(spur, spacing=(1.0, 1.0, 1.0)), radius_mm=1.0)
    assert _arr(smoothed)[5, 5, 9:12].sum() == 0
    assert _arr(smoothed)[3:8, 3:8, 3:8].all()
    with pytest.raises(ValueError, match="swap"):
        sg.threshold(img, 10, 0)


# --------------------------------------------------------------------------- perturbations
KINDS = [("dilate", {}), ("erode", {}), ("contour", {"sigma_mm": 1.0}),
         ("translate", {"shift_mm": 2.0}), ("supervoxel", {"n": 10})]


@pytest.mark.parametrize("kind,kw", KINDS, ids=[k for k, _ in KINDS])
def test_perturbations_keep_geometry_and_label(anisotropic_image, kind, kw):
    image, mask = anisotropic_image
    image.SetDirection((0, 1, 0, -1, 0, 0, 0, 0, 1))  # rotated patient axes
    mask.CopyInformation(image)
    mask2 = sitk.Cast(mask * 2, sitk.sitkUInt8)  # label value 2
    out = sg.perturb_mask(mask2, image, kind=kind, seed=0, **kw)
    _same_grid(out, mask)
    assert set(np.unique(_arr(out))) <= {0, 2}


@pytest.mark.parametrize("kind,kw", KINDS[2:], ids=[k for k, _ in KINDS[2:]])
def test_random_perturbations_reproducible_per_seed(lesion, kind, kw):
    image, mask = lesion
    first = sg.perturb_mask(mask, image, kind=kind, seed=1, **kw)
    again = sg.perturb_mask(mask, image, kind=kind, seed=1, **kw)
    assert np.array_equal(_arr(first), _arr(again))
    others = [_arr(sg.perturb_mask(mask, image, kind=kind, seed=s, **kw)) for s in (2, 3)]
    assert any(not np.array_equal(_arr(first), o) for o in others)
    assert 0.6 < sg.dice(first, mask) < 1.0


@pytest.mark.parametrize("d", [1.0, 2.0, 3.0, -2.0, -3.0])
def test_erode_dilate_changes_sphere_radius_by_distance(d):
    mask = _image(_sphere(12.0).astype(np.uint8))
    out = sg.erode_dilate(mask, d)
    growth = _equivalent_radius(out) - _equivalent_radius(mask)
    # voxel staircase: within half a voxel of the 0.8 x 0.9 x 2.5 mm grid on average
    assert growth == pytest.approx(d, abs=0.6)
    assert np.array_equal(_arr(sg.erode_dilate(mask, 0)), _arr(mask))


def test_erode_dilate_uses_physical_distance():
    # a single-voxel layer is 0.8 mm in x but 2.5 mm in z: 1 mm adds a layer in x, not in z
    arr = np.zeros((9, 9, 9), np.uint8)
    arr[4, 4, 4] = 1
    out = _arr(sg.erode_dilate(_image(arr), 1.0))
    assert out[4, 4, 3] == 1 and out[4, 4, 5] == 1  # x neighbours (0.8 mm)
    assert out[3, 4, 4] == 0 and out[5, 4, 4] == 0  # z neighbours (2.5 mm)


def test_translate_mask_by_vector_moves_whole_voxels():
    arr = np.zeros((9, 10, 11), np.uint8)
    arr[3:5, 3:6, 3:7] = 1
    mask = _image(arr)
    moved = _arr(sg.translate_mask(mask, (1.6, 0.0, 2.5)))  # 2 voxels in x, 1 slice in z
    assert np.array_equal(moved, np.roll(np.roll(arr, 2, axis=2), 1, axis=0))
    random = sg.translate_mask(mask, 2.0, seed=5)
    assert _arr(random).sum() == arr.sum()


def test_perturb_mask_checks_arguments(lesion):
    image, mask = lesion
    with pytest.raises(ValueError, match="kind must be one of"):
        sg.perturb_mask(mask, kind="wobble")
    with pytest.raises(ValueError, match="needs the image"):
        sg.perturb_mask(mask, kind="supervoxel")
    with pytest.raises(TypeError, match="SimpleITK image"):
        sg.erode_dilate(_arr(mask), 1.0)
    eroded = sg.perturb_mask(mask, kind="erode", distance_mm=2.0)
    assert np.array_equal(_arr(eroded), _arr(sg.erode_dilate(mask, -2.0)))


# --------------------------------------------------------------------------- cohort
@pytest.fixture
def two_reader_manifest(tmp_path):
    rows = []
    for i, shift in enumerate([0, 1, 2]):
        a = _sphere(6.0, size=(30, 28, 12)).astype(np.uint8)
        b = np.roll(a, shift, axis=2)
        for reader, arr in ((1, a), (2, b)):
            path = tmp_path / f"c{i}_r{reader}.nrrd"
            sitk.WriteImage(_image(arr), str(path))
            rows.append({"case_id": f"c{i}", "image": "", "mask": str(path), "label": 1,
                         "reader": reader, "timepoint": 1, "site": "A" if i < 2 else "B"})
    return pd.DataFrame(rows)


def test_cohort_agreement_one_row_per_case_and_error_rows(two_reader_manifest):
    m = two_reader_manifest
    table = sg.cohort_agreement(m)
    assert list(table.case_id) == ["c0", "c1", "c2"] and (table.error == "").all()
    assert table.loc[0, "dice"] == 1.0 and table.loc[1, "dice"] < 1.0
    # c2 is shifted by two 0.8 mm columns: Hausdorff 1.6 mm
    assert table.loc[2, "hausdorff_mm"] == pytest.approx(1.6)
    broken = m.copy()
    broken.loc[(broken.case_id == "c1") & (broken.reader == 2), "mask"] = "/nonexistent/c1.nrrd"
    with pytest.warns(UserWarning, match="1 of 3 cases failed"):
        table = sg.cohort_agreement(broken)
    bad = table[table.case_id == "c1"].iloc[0]
    assert "c1" in bad.error and np.isnan(bad.dice)
    assert table[table.case_id != "c1"].dice.notna().all()
    with pytest.raises(ValueError, match="other_reader"):
        sg.cohort_agreement(m, other_reader=3)


def test_plot_agreement_returns_labelled_axes(two_reader_manifest):
    import matplotlib

    matplotlib.use("Agg")
    ax = sg.plot_agreement(sg.cohort_agreement(two_reader_manifest), metric="hd95_mm")
    assert ax.get_ylabel() == "HD95 (mm)"
