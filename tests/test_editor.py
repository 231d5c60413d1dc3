"""The mask editor's operations on small synthetic images (no browser; see test_browser_editor).

Geometry is checked in physical space with SimpleITK, independently of the
viewer's orientation code: a brush of radius r mm must paint exactly the voxels
of the slice whose centres lie within r mm of the stroke, on anisotropic and
rotated images.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from radnb import segment
from radnb.segment import _editor_ops as ops
from radnb.view import _render


def _arr(image):
    return sitk.GetArrayFromImage(image)


def _rotated(image, mask=None):
    """Same voxels, stored with a flipped / permuted direction (as an RAS or coronal scan)."""
    out = sitk.PermuteAxes(image, [2, 0, 1])
    out = sitk.Flip(out, [True, False, False])
    if mask is None:
        return out
    return out, sitk.Flip(sitk.PermuteAxes(mask, [2, 0, 1]), [True, False, False])


def _lesion_image(shape=(20, 40, 44), spacing=(0.7, 0.8, 2.0), radius_mm=9.0, seed=0):
    """Soft tissue (40 HU, noise 8) with a bright sphere (120 HU); returns image and true mask."""
    rng = np.random.default_rng(seed)
    z, y, x = np.indices(shape, dtype=float)
    c = [(n - 1) / 2 for n in shape]
    sx, sy, sz = spacing
    inside = ((x - c[2]) * sx) ** 2 + ((y - c[1]) * sy) ** 2 + ((z - c[0]) * sz) ** 2 <= radius_mm ** 2
    arr = np.where(inside, 120, 40) + rng.normal(0, 8, shape)
    image = sitk.GetImageFromArray(arr.astype(np.int16))
    image.SetSpacing(spacing)
    image.SetOrigin((-12.0, 30.0, 4.0))
    truth = sitk.GetImageFromArray(inside.astype(np.uint8))
    truth.CopyInformation(image)
    return image, truth


def test_brush_disk_is_round_in_mm_on_anisotropic_pixels():
    pixel_mm = (2.5, 0.8)
    disk = ops.brush_disk([(6, 10)], 5.0, pixel_mm, (13, 21))
    rr, cc = np.indices(disk.shape)
    expected = ((rr - 6) * 2.5) ** 2 + ((cc - 10) * 0.8) ** 2 <= 25.0
    np.testing.assert_array_equal(disk, expected)
    assert disk[:, 10].sum() == 5 and disk[6].sum() == 13  # +-2 rows of 2.5 mm, +-6 cols of 0.8 mm
    line = ops.brush_disk([(2, 2), (2, 15)], 1.0, (1.0, 1.0), (5, 20))
    assert line[2, 1:17].all() and line[[1, 3], 2:16].all() and line.sum() == 16 + 14 * 2


@pytest.mark.parametrize("plane", ["axial", "coronal", "sagittal"])
@pytest.mark.parametrize("rotated", [False, True])
def test_brush_paints_the_voxels_within_radius_in_every_plane(anisotropic_image, plane, rotated):
    image, _ = anisotropic_image
    if rotated:
        image = _rotated(image)
    editor = segment.edit(image, plane=plane)
    editor.slice = 3
    rc = (4, 3)
    assert editor.paint([rc], radius_mm=2.6) > 0
    # the brush centre in mm, from the viewer's own mapping of the picked point
    editor.point = rc
    centre = np.array(editor.pick()["physical_mm"])
    mask = editor.mask
    assert mask.GetSize() == image.GetSize() and mask.GetDirection() == image.GetDirection()
    painted = np.argwhere(_arr(mask) > 0)
    points = np.array([mask.TransformIndexToPhysicalPoint(tuple(int(i) for i in p[::-1]))
                       for p in painted])
    assert np.linalg.norm(points - centre, axis=1).max() <= 2.6 + 1e-6
    # every voxel of that slice within the radius is painted (physical check of completeness)
    all_idx = np.argwhere(np.ones(_arr(mask).shape, bool))
    phys = np.array([mask.TransformIndexToPhysicalPoint(tuple(int(i) for i in p[::-1]))
                     for p in all_idx])
    normal = {"axial": 2, "coronal": 1, "sagittal": 0}[plane]  # LPS axis across the plane
    same_slice = np.abs(phys[:, normal] - centre[normal]) < 1e-6
    near = same_slice & (np.linalg.norm(phys - centre, axis=1) <= 2.6)
    assert near.sum() == len(painted)


def test_mask_round_trips_on_rotated_image(anisotropic_image):
    image, mask = _rotated(*anisotropic_image)
    editor = segment.edit(image, mask=mask)
    out = editor.mask
    np.testing.assert_array_equal(_arr(out), _arr(mask))
    assert out.GetOrigin() == image.GetOrigin() and out.GetSpacing() == image.GetSpacing()


def test_region_grow_finds_the_lesion_and_tolerance_regrows_live():
    image, truth = _lesion_image()
    editor = segment.edit(image)
    centre = tuple(int(n // 2) for n in image.GetSize())
    editor.grow(centre, tolerance=35)
    assert segment.dice(truth, editor.mask) > 0.95
    assert len(editor.history) == 1
    editor.tolerance = 120  # the live preview: the same seed grown again, still one step
    assert len(editor.history) == 1
    leaked = int(_arr(editor.mask).sum())
    assert leaked > 2 * int(_arr(truth).sum())  # a wide window leaks into the soft tissue
    editor.tolerance = 35
    assert segment.dice(truth, editor.mask) > 0.95
    editor.undo()
    assert not _arr(editor.mask).any()


def test_grow_from_a_click_in_the_picture():
    image, truth = _lesion_image()
    editor = segment.edit(image)
    editor.tool = "grow"
    editor.tolerance = 35
    h, w = _render.fit_size(*_render.n_rows_cols(editor._data["image"].shape, "axial"),
                            *_render.pixel_spacing(editor._data["spacing"], "axial"), max_size=512)
    editor.image_widget.click = {"x": w / 2, "y": h / 2, "n": 1}
    assert segment.dice(truth, editor.mask) > 0.95


def test_interpolation_between_two_discs_is_shape_based():
    labels = np.zeros((9, 40, 40), np.uint8)
    yy, xx = np.indices((40, 40))
    labels[0] = (yy - 20) ** 2 + (xx - 20) ** 2 <= 4 ** 2
    labels[8] = (yy - 20) ** 2 + (xx - 20) ** 2 <= 12 ** 2
    flat = ops.interpolate_slices(labels, 1, "axial", (2.0, 1.0, 1.0))
    labels.reshape(-1)[flat] = 1
    radius = np.hypot(yy - 20, xx - 20)
    areas = labels.sum(axis=(1, 2))
    assert (np.diff(areas) > 0).all()
    # linear blending of the signed distances of discs of radius 4 and 12 mm gives discs of
    # radius 4 + k mm on slice k, up to half a pixel (the digital discs are not quite round)
    for k in range(1, 8):
        assert (radius <= 4 + k - 0.5).sum() <= areas[k] <= (radius <= 4 + k + 0.5).sum()
        wrong = labels[k] != (radius <= 4 + k)
        assert (np.abs(radius[wrong] - (4 + k)) <= 1.0).all()  # only pixels at the border differ


@pytest.mark.parametrize("plane", ["coronal", "sagittal"])
def test_interpolate_fills_gaps_in_the_displayed_plane(anisotropic_image, plane):
    image, _ = anisotropic_image
    editor = segment.edit(image, plane=plane)
    editor.slice = 1
    editor.paint([(3, 3)], radius_mm=2.5)
    first = ops.PLANE_AXIS[plane]
    editor.slice = 5
    editor.paint([(3, 3)], radius_mm=2.5)
    n = editor.interpolate()
    labels = editor._labels
    per_slice = labels.sum(axis=tuple(a for a in range(3) if a != first))
    assert n == 3 * per_slice[1] and (per_slice[1:6] == per_slice[1]).all()
    assert per_slice[0] == 0 and per_slice[6:].sum() == 0


def test_undo_redo_at_least_twenty_steps():
    image, _ = _lesion_image()
    editor = segment.edit(image)
    states = [editor._labels.copy()]
    for i in range(25):
        editor.paint([(2 + i, 3), (2 + i, 30)], radius_mm=0.5)
        states.append(editor._labels.copy())
    for k in range(24, -1, -1):
        assert editor.undo() == "paint"
        np.testing.assert_array_equal(editor._labels, states[k])
    assert editor.undo() is None
    for _ in range(25):
        editor.redo()
    np.testing.assert_array_equal(editor._labels, states[-1])
    history = ops.History(np.zeros(10, np.uint8), limit=20)
    for i in range(10):
        history.apply([i], 1)
    history.apply([0], 2)
    assert len(history) == 11 and history.undo() == "edit" and history.labels[0] == 1


def test_erase_removes_only_the_active_label_and_labels_have_colours():
    image, _ = _lesion_image()
    editor = segment.edit(image)
    editor.paint([(10, 10), (10, 30)], radius_mm=2)
    second = editor.add_label("vessel")
    assert second == 2 and editor.labels[2] == "vessel" and editor.label == 2
    assert editor.image_widget.brush_colour == "#%02x%02x%02x" % _render.label_colour(1)
    editor.paint([(14, 20)], radius_mm=3)
    editor.erase([(10, 10), (10, 30), (14, 20)], radius_mm=4)  # label 2 is erased, label 1 stays
    values = set(np.unique(_arr(editor.mask)).tolist())
    assert values == {0, 1}
    rgb = editor.render_array()
    assert (np.abs(rgb.astype(int) - _render.label_colour(0)).sum(axis=2) < 150).any()


def test_fill_holes_keep_largest_and_box_threshold():
    image, truth = _lesion_image()
    editor = segment.edit(image)
    angle = np.linspace(0, 2 * np.pi, 65)
    editor.paint(np.c_[20 + 7 * np.sin(angle), 20 + 7 * np.cos(angle)], radius_mm=0.8)  # a ring
    ring_voxels = int(editor._labels.sum())
    filled = editor.fill_holes()
    assert filled > 0 and int(editor._labels.sum()) == ring_voxels + filled
    editor.paint([(2, 2)], radius_mm=0.5)  # a small island
    removed = editor.keep_largest()
    assert removed == 1
    editor.undo(), editor.undo(), editor.undo(), editor.undo()
    assert not editor._labels.any()
    n = editor.threshold_box((0, 39, 0, 43), 80, 500)  # bright voxels of the displayed slice
    lesion_slice = _render.take_slice(_arr(truth), "axial", editor.slice)
    assert abs(n - int(lesion_slice.sum())) <= 0.05 * lesion_slice.sum()


def test_stroke_message_is_compact_and_maps_display_pixels(anisotropic_image):
    image, _ = anisotropic_image
    editor = segment.edit(image, plane="coronal", size=300)
    h, w = _render.fit_size(9, 7, 2.5, 0.8, max_size=300)  # coronal: z rows of 2.5 mm, x cols
    assert (h, w) == (300, 75)
    ys = np.linspace(20, 280, 60)
    message = {"event": "stroke", "points": [round(float(v), 1) for y in ys for v in (37.0, y)],
               "erase": False}
    n = editor.handle(message)
    assert n > 0 and editor.last_message_bytes == len(json.dumps(message, separators=(",", ":")))
    assert editor.last_message_bytes < 1000  # 60 points, not a 300 x 300 picture
    d = editor._data
    for y in (20, 150, 280):  # the pixel under each stroke point is painted
        r, c = _render.display_to_slice(37, y, "coronal", d["image"].shape, d["spacing"],
                                        max_size=300)
        assert _render.take_slice(editor._labels, "coronal", editor.slice)[r, c] == 1
    box = {"event": "box", "x0": 0, "y0": 0, "x1": 299, "y1": 299}
    editor.add_label()
    editor.box_range = (-1000, 1000)  # clipped to the image's range: every voxel of the slice
    assert editor.handle(box) == 9 * 7


def test_canvas_dispatches_draw_messages():
    from radnb.view._slice_canvas import SliceCanvas

    canvas = SliceCanvas()
    got = []
    canvas.on_draw(got.append)
    canvas._on_custom_msg(canvas, {"event": "stroke", "points": [1, 2], "erase": False}, [])
    canvas._on_custom_msg(canvas, {"event": "key", "key": "ArrowUp"}, [])
    assert got == [{"event": "stroke", "points": [1, 2], "erase": False}]


def test_compare_matches_segment_metrics():
    image, truth = _lesion_image()
    editor = segment.edit(image)
    editor.grow(tuple(int(n // 2) for n in image.GetSize()), tolerance=25)
    table = editor.compare({"truth": truth})
    row = table.loc["truth"]
    assert row["dice"] == pytest.approx(segment.dice(truth, editor.mask))
    assert row["hd95_mm"] == pytest.approx(segment.hausdorff95(truth, editor.mask))
    assert "Dice" in editor._compare_w.value
    before = editor._compare_w.value
    editor.paint([(3, 3)], radius_mm=2)  # live: the table follows every edit
    assert editor._compare_w.value != before


def test_save_nifti_nrrd_and_errors(tmp_path, anisotropic_image):
    image, mask = _rotated(*anisotropic_image)
    editor = segment.edit(image, mask=mask)
    for name in ("out.nii.gz", "out.nrrd"):
        path = editor.save(tmp_path / name)
        back = sitk.ReadImage(str(path))
        np.testing.assert_array_equal(_arr(back), _arr(mask))
        np.testing.assert_allclose(back.GetDirection(), image.GetDirection(), atol=1e-6)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.nii.gz", "out.nrrd"]  # no leftovers
    with pytest.raises(ValueError, match="path ending"):
        editor.save(tmp_path / "out.png")
    with pytest.raises(ValueError, match="DICOM-SEG"):
        editor.save(tmp_path / "seg.dcm")


def test_save_dicom_seg_for_a_dicom_series(tmp_path, anisotropic_image):
    from radnb.io import read_mask, write_dicom_series

    image, mask = anisotropic_image
    write_dicom_series(image, tmp_path / "ct", patient_id="edit-1")
    editor = segment.edit(tmp_path / "ct", mask=mask)
    editor.paint([(0, 0)], radius_mm=0.5)
    path = editor.save(tmp_path / "seg.dcm")
    back = read_mask(path, tmp_path / "ct")
    np.testing.assert_array_equal(_arr(back), _arr(editor.mask))


def test_edit_a_manifest_case_writes_a_new_reader(small_demo, tmp_path):
    case = small_demo["case_id"].iloc[0]
    editor = segment.edit(small_demo, case, reader=None)
    assert not editor._labels.any()
    rows = small_demo[(small_demo.case_id == case) & (small_demo.timepoint == 1)]
    reader1 = sitk.ReadImage(rows[rows.reader == 1]["mask"].iloc[0])
    shape = sitk.LabelShapeStatisticsImageFilter()
    shape.Execute(reader1)
    editor.grow(shape.GetCentroid(1), tolerance=40)
    table = editor.compare()
    assert list(table.index) == [f"reader {r}" for r in sorted(rows.reader)]
    assert table.loc["reader 1", "dice"] == pytest.approx(segment.dice(reader1, editor.mask))
    row = editor.save()
    new_reader = int(rows.reader.max()) + 1
    assert row["reader"].tolist() == [new_reader] and row["case_id"].tolist() == [case]
    assert list(row.columns) == list(small_demo.columns)
    saved = sitk.ReadImage(row["mask"].iloc[0])
    np.testing.assert_array_equal(_arr(saved), _arr(editor.mask))
    start = segment.edit(small_demo, case)  # default: starts from reader 1's mask
    np.testing.assert_array_equal(_arr(start.mask) > 0, _arr(reader1) > 0)
    with pytest.raises(ValueError, match="not in the manifest"):
        segment.edit(small_demo, "nobody")
    small_demo.to_csv(tmp_path / "cohort.csv", index=False)
    from_csv = segment.edit(tmp_path / "cohort.csv", case)
    np.testing.assert_array_equal(_arr(from_csv.mask), _arr(start.mask))
    with pytest.raises(ValueError, match="reader 7 has no mask"):
        segment.edit(small_demo, case, reader=7)
    with pytest.raises(ValueError, match="case_id is only used with a manifest"):
        segment.edit(reader1, case)
    with pytest.raises(ValueError, match="already has a mask"):
        segment.edit(small_demo, case, new_reader=1)


def test_show_and_grow_move_the_view_to_the_seed(anisotropic_image):
    image, _ = anisotropic_image
    image = _rotated(image)
    for plane in ("axial", "coronal", "sagittal"):
        editor = segment.edit(image, plane=plane)
        editor.show((1, 2, 3))  # a voxel index of the rotated image
        assert editor.pick()["index"] == (1, 2, 3)


def test_fill_overlay_equals_the_viewers_overlay(rng):
    grey = rng.integers(0, 256, (30, 40)).astype(np.uint8)
    labels = rng.integers(0, 4, (30, 40)).astype(np.uint8)
    layers = [(labels == v, _render.label_colour(v - 1)) for v in (1, 2, 3)]
    expected = _render.overlay(grey, layers, opacity=0.45, mode="fill")
    np.testing.assert_array_equal(ops.fill_overlay(grey, labels, 0.45), expected)


def test_brush_disk_long_stroke_equals_union_of_segments():
    rng = np.random.default_rng(3)
    pts = np.cumsum(rng.normal(0, 6, (40, 2)), axis=0) + 100
    whole = ops.brush_disk(pts, 3.0, (0.7, 1.3), (200, 200))
    union = np.zeros_like(whole)
    for p, q in zip(pts, pts[1:]):
        union |= ops.brush_disk([p, q], 3.0, (0.7, 1.3), (200, 200))
    np.testing.assert_array_equal(whole, union)
    assert whole.any()


def test_edit_a_dicom_manifest_case_saves_a_seg_row(small_demo):
    from radnb.cohort import load_manifest
    from radnb.io import read_mask

    csv = Path(small_demo["image"].iloc[0]).parents[1] / "dicom_manifest.csv"
    if not csv.exists():
        pytest.skip("the demo cohort was written without DICOM (radnb.io could not write it)")
    manifest = load_manifest(csv)
    case = manifest["case_id"].iloc[0]
    editor = segment.edit(manifest, case)  # starts from reader 1's RTSTRUCT
    editor.paint([(2, 2)], radius_mm=2)
    row = editor.save()
    assert row["mask"].iloc[0].endswith(".dcm")
    back = read_mask(row["mask"].iloc[0], row["image"].iloc[0], roi=row["roi"].iloc[0])
    np.testing.assert_array_equal(_arr(back), _arr(editor.mask))


def test_status_line_tools_and_readout_speak_chinese_while_values_stay():
    import radnb

    image, _ = _lesion_image()
    radnb.set_language("zh")
    try:
        editor = segment.edit(image)
        assert editor._tool_w.options[1] == ("涂画", "brush") and editor.tool == "look"
        assert editor._tool_w.tooltips[0] == "悬停读取数值，点击选取一个点"
        n = editor.paint([(2, 3), (2, 30)], radius_mm=0.5)
        assert editor.message == f"涂画：改变了 {n} 个体素"
        assert "（可撤销：1，可重做：0）" in editor._status_msg_w.value
        assert editor.undo() == "paint"  # the value code relies on stays English
        assert editor.message == "已撤销：涂画"
        editor.undo()
        assert editor.message == "没有可撤销的操作"
        p = editor._describe((5, 10, 12))
        assert editor._text(p).startswith("体素 (") and "数值" in editor._text(p)
    finally:
        radnb.set_language(None)
    editor = segment.edit(image)
    n = editor.paint([(2, 3), (2, 30)], radius_mm=0.5)
    assert editor.message == f"paint: {n} voxels changed"
    assert "(undo: 1, redo: 0)" in editor._status_msg_w.value
