"""radnb.view and its rendering logic (radnb.view._render), without a browser."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

from radnb.view import _render
from radnb import view

# ---------------------------------------------------------------- orientation


def _lps_phantom():
    """A 7 x 8 x 9 (x, y, z) LPS volume, spacing (0.8, 0.9, 2.5), with one marker.

    The marker sits towards the patient's LEFT (x high), ANTERIOR (y low) and
    SUPERIOR (z high) of the volume centre.
    """
    arr = np.zeros((9, 8, 7), dtype=np.int16)  # z, y, x
    arr[7, 1, 5] = 1000  # superior, anterior, left
    img = sitk.GetImageFromArray(arr)
    img.SetSpacing((0.8, 0.9, 2.5))
    img.SetOrigin((-10.0, 20.0, 5.0))
    return img


@pytest.mark.parametrize("orientation", ["LPS", "RAS", "RAI", "ASL", "SRP", "IPL"])
def test_anatomy_right_way_round_for_any_stored_orientation(orientation):
    # the same physical volume stored with another axis order / direction cosines
    stored = sitk.DICOMOrient(_lps_phantom(), orientation)
    assert orientation == "LPS" or stored.GetDirection() != (1, 0, 0, 0, 1, 0, 0, 0, 1)
    arr, spacing, _ = _render.to_canonical(stored)
    assert arr.shape == (9, 8, 7)
    assert spacing == pytest.approx((2.5, 0.9, 0.8))
    # axial, seen from the feet: anterior at the top, patient's left on the screen's right
    ax = _render.take_slice(arr, "axial", 7)
    r, c = np.argwhere(ax == 1000)[0]
    assert r < ax.shape[0] / 2 and c > ax.shape[1] / 2
    # coronal, seen from the front: superior at the top, patient's left on the right
    co = _render.take_slice(arr, "coronal", 1)
    r, c = np.argwhere(co == 1000)[0]
    assert r < co.shape[0] / 2 and c > co.shape[1] / 2
    # sagittal, seen from the patient's left: superior at the top, anterior on the left
    sa = _render.take_slice(arr, "sagittal", 5)
    r, c = np.argwhere(sa == 1000)[0]
    assert r < sa.shape[0] / 2 and c < sa.shape[1] / 2


def test_slice_to_voxel_inverts_take_slice():
    vol = np.arange(9 * 8 * 7).reshape(9, 8, 7)
    for plane in _render.PLANES:
        sl = _render.take_slice(vol, plane, 3)
        for r, c in [(0, 0), (sl.shape[0] - 1, 2), (4, sl.shape[1] - 1)]:
            assert vol[_render.slice_to_voxel(plane, 3, r, c, vol.shape)] == sl[r, c]


def test_physical_aspect_ratio():
    spacing = (2.5, 0.9, 0.8)  # z, y, x in mm
    vol = np.zeros((9, 8, 7, 3), dtype=np.uint8)
    for plane, (h_mm, w_mm) in {"axial": (8 * 0.9, 7 * 0.8), "coronal": (9 * 2.5, 7 * 0.8),
                                "sagittal": (9 * 2.5, 8 * 0.9)}.items():
        sl = _render.take_slice(vol, plane, 0)
        out = _render.fit_aspect(sl, *_render.pixel_spacing(spacing, plane), max_size=200)
        assert max(out.shape[:2]) == 200
        assert out.shape[0] / out.shape[1] == pytest.approx(h_mm / w_mm, rel=0.02)


# ---------------------------------------------------------------- window, overlay


def test_window_level_maps_edges_to_black_and_white():
    w, lv = _render.CT_PRESETS["lung"]
    vals = np.array([lv - w / 2 - 100, lv - w / 2, lv, lv + w / 2, 3000.0])
    out = _render.apply_window(vals, w, lv)
    assert out.tolist()[0:2] == [0, 0] and out.tolist()[3:] == [255, 255]
    assert out[2] in (127, 128)


def test_ct_presets_are_published_values():
    # Radiopaedia, "Windowing (CT)": lung W1500 L-600, mediastinum W350 L50, bone W1800 L400,
    # brain W80 L40, abdomen (soft tissue) W400 L40.
    assert _render.CT_PRESETS["lung"] == (1500, -600)
    assert _render.CT_PRESETS["brain"] == (80, 40)
    # Soft tissues W350-400 / L20-60 (same page); the musculoskeletal soft-tissue window W400 L50.
    assert _render.CT_PRESETS["soft_tissue"] == (400, 50)
    for name in ("mediastinum", "soft_tissue", "abdomen"):
        width, level = _render.CT_PRESETS[name]
        assert 350 <= width <= 400 and 20 <= level <= 60, name
    assert set(_render.CT_PRESETS) == {"lung", "mediastinum", "soft_tissue", "abdomen", "bone", "brain"}


def test_percentile_window_matches_numpy(rng):
    vol = rng.normal(300, 80, size=(20, 30, 30))
    w, lv = _render.percentile_window(vol, 1, 99)
    lo, hi = np.percentile(vol, [1, 99])
    assert w == pytest.approx(hi - lo) and lv == pytest.approx((hi + lo) / 2)


def test_overlay_colours_fill_and_contour():
    grey = np.full((10, 12), 100, dtype=np.uint8)
    mask = np.zeros((10, 12), bool)
    mask[2:8, 3:9] = True
    red, blue = (255, 0, 0), (0, 0, 255)
    opaque = _render.overlay(grey, [(mask, red)], opacity=1.0)
    assert (opaque[mask] == red).all() and (opaque[~mask] == 100).all()
    half = _render.overlay(grey, [(mask, blue)], opacity=0.5)
    assert half[4, 4].tolist() == [50, 50, 178]  # (100 + 0) / 2, (100 + 255) / 2 rounded
    outline = _render.overlay(grey, [(mask, red)], opacity=1.0, mode="contour")
    assert (outline[2, 3:9] == red).all() and (outline[5, 5] == 100).all()
    assert int((outline == red).all(axis=2).sum()) == 2 * 6 + 2 * 4  # perimeter pixels
    assert _render.label_colour(0) != _render.label_colour(1)


def test_roi_centre_and_bbox():
    m = np.zeros((9, 8, 7), bool)
    m[3:6, 2:6, 2:5] = True
    assert _render.roi_centre(m) == (4, 4, 3)  # centroid (4, 3.5, 3) rounded half to even
    assert _render.roi_bbox(m) == (slice(3, 6), slice(2, 6), slice(2, 5))
    assert _render.roi_bbox(np.zeros((3, 3))) is None


def test_dice_matches_scipy(rng):
    from scipy.spatial.distance import dice as dice_dissimilarity

    a, b = rng.random((6, 7, 8)) > 0.5, rng.random((6, 7, 8)) > 0.4
    assert _render.dice(a, b) == pytest.approx(1 - dice_dissimilarity(a.ravel(), b.ravel()))
    assert _render.dice(np.zeros(3), np.zeros(3)) == 1.0


def test_guess_modality():
    from radnb.view._cases import guess_modality

    assert guess_modality(np.array([-1000, 40], dtype=np.int16)) == "CT"
    assert guess_modality(np.array([-120, 60], dtype=np.int16)) == "CT"  # soft-tissue crop
    assert guess_modality(np.array([0, 900], dtype=np.uint16)) == "MR"
    assert guess_modality(np.array([-1.5, 2.0])) == "MR"  # z-scored MR


def test_encode_jpeg_roundtrip():
    from io import BytesIO

    from PIL import Image

    rgb = np.zeros((40, 30, 3), np.uint8)
    rgb[:, 15:] = 200
    img = Image.open(BytesIO(_render.encode(rgb)))
    assert img.format == "JPEG" and img.size == (30, 40)


# ---------------------------------------------------------------- discretisation


@pytest.mark.parametrize("kwargs", [{"bin_width": 25}, {"bin_width": 10}, {"bin_width": 2.5},
                                    {"bin_count": 16}, {"bin_count": 64}])
def test_bin_edges_match_pyradiomics(rng, kwargs):
    from radiomics import imageoperations

    values = rng.normal(40, 120, size=500).round()
    expected = imageoperations.getBinEdges(values, **{
        "binWidth" if "bin_width" in kwargs else "binCount": next(iter(kwargs.values()))})
    np.testing.assert_allclose(_render.bin_edges(values, **kwargs), expected)
    binned, _ = imageoperations.binImage(values, **{
        "binWidth" if "bin_width" in kwargs else "binCount": next(iter(kwargs.values()))})
    assert _render.n_grey_levels(values, **kwargs) == binned.max()


def test_bin_edges_flat_region_like_pyradiomics():
    from radiomics import imageoperations

    values = np.full(10, 50.0)
    np.testing.assert_allclose(_render.bin_edges(values, bin_width=25),
                               imageoperations.getBinEdges(values, binWidth=25))


@pytest.mark.data
@pytest.mark.slow
def test_roi_histogram_and_bin_width_on_pyradiomics_cases(pyradiomics_dir):
    import matplotlib

    matplotlib.use("Agg")
    from radiomics import imageoperations

    from radnb.datasets import fetch_pyradiomics_cases

    cases = fetch_pyradiomics_cases(pyradiomics_dir, download=False)
    ax = view.roi_histogram(cases.image[0], cases["mask"][0], bin_width=25)
    values = sitk.GetArrayFromImage(sitk.ReadImage(cases.image[0]))[
        sitk.GetArrayFromImage(sitk.ReadImage(cases["mask"][0])) == 1]
    assert len(ax.patches) == len(imageoperations.getBinEdges(values, binWidth=25)) - 1
    assert sum(p.get_height() for p in ax.patches) == 4137  # brain1 ROI voxels (shared README)
    # one broken row: it becomes an error row, the others are kept
    broken = pd.concat([cases, cases.iloc[[0]].assign(case_id="broken", image="/nope.nrrd")])
    res = view.suggest_bin_width(broken, bin_width=25)
    assert res.cases.set_index("case_id").loc["broken", "error"].startswith("FileNotFoundError")
    good = res.cases[res.cases.error.isna()]
    assert len(good) == 5 and res.bin_width is not None
    for rec, img, msk in zip(good.to_dict("records"), cases.image, cases["mask"]):
        v = sitk.GetArrayFromImage(sitk.ReadImage(img))[sitk.GetArrayFromImage(sitk.ReadImage(msk)) == 1]
        assert rec["n_bins"] == imageoperations.binImage(v, binWidth=res.bin_width)[0].max()
        assert rec["n_bins_current"] == imageoperations.binImage(v, binWidth=25)[0].max()
    assert good.in_range.all() == (res.summary.n_out_of_range.min() == 0)


# ---------------------------------------------------------------- widgets


def test_browse_single_image_state_and_rendering(anisotropic_image):
    image, mask = anisotropic_image
    v = view.browse(image, mask)
    assert v.plane == "axial" and v.slice == 4  # opens on the ROI centre (z 3..5)
    assert v.preset == "auto"  # not HU-like: percentile window
    # the automatic window sits on the sliders' step, so the browser does not round it
    assert (v.window / v._window_w.step).is_integer() and (v.level / v._level_w.step).is_integer()
    first = v.image_widget.value
    assert first[:2] == b"\xff\xd8"  # JPEG
    v.slice = 3
    assert v.image_widget.value != first
    v.plane = "coronal"
    assert v.slice == 4  # ROI centre y 2..5 -> 3.5 -> 4 (round half to even)
    assert v.render_array().shape[0] > v.render_array().shape[1]  # 9 x 2.5 mm tall, 7 x 0.8 wide
    v.window, v.level, v.opacity, v.mode = 500, 40, 0.7, "contour"
    assert v.state | {"case": None} == {
        "case": None, "plane": "coronal", "slice": 4, "window": 500, "level": 40,
        "opacity": 0.7, "mode": "contour", "zoom": False, "preset": "custom"}
    v.plane, v.slice = "axial", 4
    v.point = (3, 3)
    p = v.pick()
    arr = sitk.GetArrayFromImage(image)
    assert p["index"] == (3, 3, 4) and p["value"] == arr[4, 3, 3] and p["in_masks"] == ["label 1"]
    n = v.n_renders
    v.zoom = True
    assert v.n_renders == n + 1 and v.render_array().shape[0] <= 512


def test_several_labels_get_their_own_colour_and_legend(anisotropic_image):
    image, mask = anisotropic_image
    arr = sitk.GetArrayFromImage(mask)
    arr[4, 2:4, 2:5] = 2  # part of the ROI relabelled 2
    two = sitk.GetImageFromArray(arr)
    two.CopyInformation(mask)
    v = view.browse(image, two, opacity=1.0)
    assert v.slice == 4
    colours = {tuple(c) for c in v.render_array().reshape(-1, 3)}
    assert _render.label_colour(0) in colours and _render.label_colour(1) in colours
    assert "label 1" in v._legend_w.value and "label 2" in v._legend_w.value
    assert f"rgb{_render.label_colour(1)}" in v._legend_w.value


def test_browse_ct_cohort_with_broken_case(small_demo):
    cohort = small_demo[small_demo.timepoint == 1].head(4).copy()
    cohort.loc[cohort.index[1], "image"] = "/does/not/exist.nrrd"
    validation = pd.DataFrame({
        "case_id": cohort.case_id, "timepoint": cohort.timepoint, "reader": cohort.reader,
        "check": "image", "severity": ["ok", "error", "ok", "warning"], "message": "m"})
    v = view.browse(cohort, validation=validation)
    assert len(v.cases) == 4 and v.preset == "mediastinum"
    assert v.window == 350 and v.level == 50
    v.case = v.cases[1]
    assert v.last_error.startswith("FileNotFoundError") and "error" in v._status_w.value
    v.case = v.cases[2]
    assert v.last_error is None and len(v.image_widget.value) > 100
    v.preset = "lung"
    assert (v.window, v.level) == (1500, -600)
    assert "\u26a0" in v._case_w.options[3][0]  # warning marked in the case selector


def test_browse_without_validation_module(small_demo, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "radnb.cohort", None)  # as if cohort were missing
    v = view.browse(small_demo.head(2))
    assert "validation not available" in v._status_w.value and v.image_widget.value


def test_compare_dice(anisotropic_image):
    from scipy.spatial.distance import dice as dice_dissimilarity

    image, mask = anisotropic_image
    other = sitk.BinaryDilate(mask, (1, 1, 0))
    v = view.compare(image, {"reader 1": mask, "reader 2": other})
    a, b = sitk.GetArrayFromImage(mask) > 0, sitk.GetArrayFromImage(other) > 0
    expected = 1 - dice_dissimilarity(a.ravel(), b.ravel())
    assert v.agreement().dice.iloc[0] == pytest.approx(expected)
    assert f"{expected:.3f}" in v._dice_w.value
    assert v.mode == "contour"


def test_plot_slice_static(anisotropic_image):
    import matplotlib

    matplotlib.use("Agg")
    image, mask = anisotropic_image
    ax = view.plot_slice(image, mask, plane="sagittal")
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    assert abs(x1 - x0) == pytest.approx(8 * 0.9) and abs(y0 - y1) == pytest.approx(9 * 2.5)
    assert "sagittal slice 3" in ax.get_title()
    with pytest.raises(ValueError, match="plane must be one of"):
        view.plot_slice(image, plane="oblique")


def test_gallery_marks_failures(small_demo):
    cohort = small_demo.head(5).copy()
    cohort.loc[cohort.index[0], "mask"] = "/missing_mask.nrrd"
    cohort.loc[cohort.index[1], "image"] = "/missing_image.nrrd"
    start = time.perf_counter()
    g = view.gallery(cohort, validation=False, columns=5)
    assert time.perf_counter() - start < 5
    # a missing mask: the image is still shown, the tile is marked; a missing image: error tile
    assert g.table.status.tolist()[:2] == ["error", "error"]
    assert "missing_mask" in g.table.error.iloc[0] and "missing_image" in g.table.error.iloc[1]
    assert g.table.error.iloc[2:].isna().all() and g.table.slice.iloc[2:].notna().all()
    assert g.html.count("data:image/jpeg;base64,") == 4 and "could not show" in g.html
    assert "mask not shown" in g.html


def test_view3d_offline_falls_back(anisotropic_image, monkeypatch):
    monkeypatch.setenv("RADNB_OFFLINE", "1")
    image, mask = anisotropic_image
    start = time.perf_counter()
    w = view.view3d(image, mask, backend="itkwidgets")
    assert time.perf_counter() - start < 3
    assert "3D view not available" in w.children[0].value
    assert w.children[1].image_widget.value


def test_is_online_never_hangs():
    import socket

    from radnb.view._viewer3d import is_online

    # a local server that accepts connections but never answers (like a dead proxy)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        start = time.perf_counter()
        assert is_online("127.0.0.1", server.getsockname()[1], timeout=0.5) is False
        assert time.perf_counter() - start < 1.5
    assert is_online("host.invalid", timeout=0.5) is False  # RFC 2606: never resolves


def test_bad_arguments_say_what_is_allowed(anisotropic_image):
    image, mask = anisotropic_image
    with pytest.raises(ValueError, match="opacity must be in"):
        view.browse(image, mask, opacity=2)
    with pytest.raises(ValueError, match="masks must be a non-empty dict"):
        view.compare(image, mask)


def _nifti_sform(data):
    """The voxel -> world (RAS, mm) affine in gzipped NIfTI-1 bytes (header layout: nifti1.h)."""
    import gzip

    raw = gzip.decompress(data)
    assert np.frombuffer(raw, "<i4", 1, 0)[0] == 348  # sizeof_hdr: a little-endian NIfTI-1 file
    assert np.frombuffer(raw, "<i2", 1, 254)[0] > 0  # sform_code: the sform is valid
    return np.vstack([np.frombuffer(raw, "<f4", 12, 280).reshape(3, 4), [0, 0, 0, 1]])


def test_view3d_niivue_gets_image_and_mask_in_patient_space(anisotropic_image, monkeypatch,
                                                              tmp_path):
    from ipyniivue import NiiVue, ShowRender, SliceType

    monkeypatch.setenv("RADNB_OFFLINE", "1")  # niivue needs no network
    image, mask = anisotropic_image
    image, mask = sitk.Image(image), sitk.Image(mask)
    c, s = np.cos(np.radians(30)), np.sin(np.radians(30))
    direction = np.array([[c, -s, 0], [s, c, 0], [0, 0, -1]])  # oblique and feet-first
    for im in (image, mask):
        im.SetDirection(direction.ravel().tolist())
    start = time.perf_counter()
    w = view.view3d(image, mask)
    assert time.perf_counter() - start < 3
    assert isinstance(w, NiiVue) and len(w.volumes) == 2
    img_vol, mask_vol = w.volumes
    assert mask_vol.colormap == "red" and 0 < mask_vol.opacity < 1
    assert w.opts.slice_type == SliceType.MULTIPLANAR
    assert w.opts.multiplanar_show_render == ShowRender.ALWAYS
    assert w.opts.is_radiological_convention  # patient left on screen right, as in browse()
    arr = sitk.GetArrayFromImage(image)  # values near 40, no air: shown like MR (1st-99th pct)
    assert np.allclose((img_vol.cal_min, img_vol.cal_max), np.percentile(arr, [1, 99]))
    # NIfTI world space is RAS, ITK's is LPS: x and y change sign (NIfTI-1 standard, nifti1.h)
    lps = np.eye(4)
    lps[:3, :3] = direction @ np.diag(image.GetSpacing())
    lps[:3, 3] = image.GetOrigin()
    for vol in (img_vol, mask_vol):
        assert np.allclose(_nifti_sform(vol.data), np.diag([-1, -1, 1, 1]) @ lps, atol=1e-4)
    path = tmp_path / "mask.nii.gz"
    path.write_bytes(mask_vol.data)
    assert (sitk.GetArrayFromImage(sitk.ReadImage(str(path))) > 0).sum() == \
        (sitk.GetArrayFromImage(mask) > 0).sum()


def test_view3d_2d_backend_and_bad_backend(anisotropic_image):
    from radnb.view._viewer import Viewer

    image, mask = anisotropic_image
    assert isinstance(view.view3d(image, mask, backend="2d"), Viewer)
    allowed = "backend must be one of 'auto', 'niivue', 'itkwidgets', '2d'"
    with pytest.raises(ValueError, match=allowed):
        view.view3d(image, mask, backend="3d")


def test_view3d_itkwidgets_not_attempted_offline(anisotropic_image, monkeypatch):
    import sys

    monkeypatch.setenv("RADNB_OFFLINE", "1")
    monkeypatch.setitem(sys.modules, "itkwidgets", None)  # any import attempt would fail here
    image, mask = anisotropic_image
    w = view.view3d(image, mask, backend="itkwidgets")
    assert "cannot be reached" in w.children[0].value and "not installed" not in w.children[0].value
    assert "backend='niivue'" in w.children[0].value  # says what to do instead


def test_view3d_ct_opens_with_mediastinum_window(anisotropic_image):
    image, mask = anisotropic_image
    ct = sitk.Image(image) - 1000  # now with air-like values: guessed CT
    w = view.view3d(ct, mask)
    assert (w.volumes[0].cal_min, w.volumes[0].cal_max) == (50 - 175, 50 + 175)  # W350 / L50 HU


def test_view3d_falls_back_to_2d_when_niivue_unavailable(anisotropic_image, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ipyniivue", None)  # as if the package were missing
    image, mask = anisotropic_image
    w = view.view3d(image, mask)
    assert "3D view not available" in w.children[0].value
    assert "ipyniivue" in w.children[0].value
    assert w.children[1].image_widget.value


# ---------------------------------------------------------------- mouse on the picture


@pytest.mark.parametrize("plane", _render.PLANES)
@pytest.mark.parametrize("crop", [None, (1, 6, 2, 7)])
def test_display_to_voxel_inverts_the_displayed_picture(plane, crop):
    # every displayed pixel maps back to the voxel whose (unique) value it shows
    shape, spacing = (9, 8, 7), (2.5, 0.9, 0.8)  # anisotropic: pixels are stretched unevenly
    vol = np.arange(np.prod(shape)).reshape(shape)
    sl = _render.take_slice(vol, plane, 3)
    if crop is not None:
        sl = sl[crop[0]:crop[1], crop[2]:crop[3]]
    row_mm, col_mm = _render.pixel_spacing(spacing, plane)
    shown = _render.fit_aspect(sl[..., None], row_mm, col_mm, max_size=61)[..., 0]
    assert shown.shape != sl.shape
    for y in range(shown.shape[0]):
        for x in range(shown.shape[1]):
            zyx = _render.display_to_voxel(x + 0.7, y + 0.2, plane, 3, shape, spacing,
                                           crop=crop, max_size=61)
            assert vol[zyx] == shown[y, x]
    h, w = shown.shape
    for outside in [(-0.1, 0), (0, -0.1), (w, 0), (0, h)]:
        assert _render.display_to_voxel(*outside, plane, 3, shape, spacing, crop=crop,
                                        max_size=61) is None


@pytest.mark.parametrize("orientation", ["RAI", "ASL", "IPL"])
@pytest.mark.parametrize("plane", _render.PLANES)
def test_display_pixel_finds_marker_in_anisotropic_oblique_stored_image(orientation, plane):
    # the marker's displayed pixel maps to the marker's index in the file as stored,
    # through the LPS reorientation and the anisotropic aspect correction
    stored = sitk.DICOMOrient(_lps_phantom(), orientation)
    assert stored.GetDirection() != (1, 0, 0, 0, 1, 0, 0, 0, 1)
    arr, spacing, oriented = _render.to_canonical(stored)
    marker = tuple(int(i) for i in np.argwhere(arr == 1000)[0])
    index = marker[_render._PLANE_AXIS[plane]]
    shown = _render.fit_aspect(_render.take_slice(arr, plane, index)[..., None],
                               *_render.pixel_spacing(spacing, plane), max_size=100)[..., 0]
    ys, xs = np.nonzero(shown == 1000)
    assert len(ys) > 1  # stretched to several display pixels
    stored_arr = sitk.GetArrayFromImage(stored)
    expected = tuple(int(i) for i in np.argwhere(stored_arr == 1000)[0][::-1])  # (i, j, k)
    for y, x in zip(ys, xs):
        z, yy, xx = _render.display_to_voxel(x + 0.5, y + 0.5, plane, index, arr.shape, spacing,
                                             max_size=100)
        phys = oriented.TransformIndexToPhysicalPoint((int(xx), int(yy), int(z)))
        assert stored.TransformPhysicalPointToIndex(phys) == expected


def _display_xy(v, row, col):
    """Centre of the displayed pixel block showing slice pixel (row, col) (un-zoomed view)."""
    h, w = _render.n_rows_cols(v._data["image"].shape, v.plane)
    out_h, out_w = v.render_array().shape[:2]
    return {"x": (col + 0.5) * out_w / w, "y": (row + 0.5) * out_h / h}


def test_hover_click_and_keys_on_the_picture(anisotropic_image, small_demo):
    image, mask = anisotropic_image
    arr = sitk.GetArrayFromImage(image)
    v = view.browse(image, mask)
    v.plane, v.slice = "axial", 4
    canvas = v.image_widget
    assert canvas.value[:2] == b"\xff\xd8"  # the same JPEG as before
    canvas.hover = _display_xy(v, 2, 5)
    assert "voxel (5, 2, 4), " in v._hover_w.value and f"value {arr[4, 2, 5]:g}" in v._hover_w.value
    assert v.point != (2, 5)  # hovering does not pick
    v.slice = 3  # the cursor has not moved: the readout follows the slice
    assert "voxel (5, 2, 3), " in v._hover_w.value
    v.slice = 4
    canvas.click = dict(_display_xy(v, 3, 2), n=1)
    assert v.point == (3, 2) and (v._row_w.value, v._col_w.value) == (3, 2)
    assert v.pick()["index"] == (2, 3, 4) and v._point_on_w.value
    assert "Picked point: voxel (2, 3, 4)" in v._readout_w.value
    canvas.click = {"x": -5.0, "y": 1.0, "n": 2}  # outside the picture: nothing changes
    assert v.point == (3, 2)
    # zoomed: the same pixel of the picture now shows another voxel
    v.zoom = True
    r0, _, c0, _ = v._zoom_crop()
    canvas.click = {"x": 0.5, "y": 0.5, "n": 3}
    assert v.point == (r0, c0)
    # keys from the focused picture step slices, clamped at the ends
    canvas.press("ArrowUp")
    assert v.slice == 5
    canvas._handle_custom_msg({"event": "key", "key": "ArrowDown"}, [])  # as the browser sends it
    assert v.slice == 4
    canvas.press("PageUp")
    assert v.slice == v._slice_w.max == 8
    with pytest.raises(ValueError, match="key must be one of"):
        canvas.press("Enter")
    # a CT cohort reads out HU
    ct = view.browse(small_demo)
    ct.image_widget.hover = _display_xy(ct, 10, 12)
    p = ct._describe(_render.slice_to_voxel("axial", ct.slice, 10, 12, ct._data["image"].shape))
    assert "voxel (" in ct._hover_w.value and f"value {p['value']:g} HU" in ct._hover_w.value
