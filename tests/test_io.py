"""radnb.io: image/mask readers and DICOM writers, with real SimpleITK, pydicom and highdicom."""
from __future__ import annotations

import math

import numpy as np
import pytest
import SimpleITK as sitk

from radnb.io import (
    list_rois, read_image, read_mask, write_dicom_seg, write_dicom_series, write_rtstruct,
)


def _rotation(alpha=20.0, beta=10.0):
    a, b = math.radians(alpha), math.radians(beta)
    rz = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
    return (rz @ rx).ravel().tolist()


@pytest.fixture
def lesion():
    """A 48 x 40 x 16 CT with an ellipsoid lesion (with a hole), rotated, anisotropic."""
    rng = np.random.default_rng(7)
    z, y, x = np.mgrid[:16, :40, :48]
    inside = ((x - 22) / 12.5) ** 2 + ((y - 19) / 9.5) ** 2 + ((z - 8) / 5.2) ** 2 <= 1
    core = ((x - 22) / 4.0) ** 2 + ((y - 19) / 3.0) ** 2 <= 1
    mask = inside & ~(core & (abs(z - 8) <= 1))  # a necrotic core cut out of 3 slices
    arr = rng.normal(-60, 25, size=mask.shape)
    arr[mask] = rng.normal(45, 15, size=int(mask.sum()))
    arr[:, :, :3] = -1000  # air
    image = sitk.GetImageFromArray(np.round(arr).astype(np.int16))
    image.SetSpacing((0.7, 0.8, 2.5))
    image.SetOrigin((-120.5, -80.25, 33.0))
    image.SetDirection(_rotation())
    m = sitk.GetImageFromArray(mask.astype(np.uint8))
    m.CopyInformation(image)
    return image, m


def _assert_same_image(a, b, *, atol=1e-6):
    np.testing.assert_array_equal(sitk.GetArrayFromImage(a), sitk.GetArrayFromImage(b))
    np.testing.assert_allclose(a.GetSpacing(), b.GetSpacing(), atol=atol)
    np.testing.assert_allclose(a.GetOrigin(), b.GetOrigin(), atol=atol)
    np.testing.assert_allclose(a.GetDirection(), b.GetDirection(), atol=atol)


def _dice(a, b):
    a, b = sitk.GetArrayFromImage(a) > 0, sitk.GetArrayFromImage(b) > 0
    return 2 * (a & b).sum() / (a.sum() + b.sum())


# ----------------------------------------------------------------------------- files
@pytest.mark.parametrize("suffix", [".nii.gz", ".nii", ".nrrd", ".mha"])
def test_file_round_trip_keeps_voxels_and_geometry(anisotropic_image, tmp_path, suffix):
    image, mask = anisotropic_image
    if suffix != ".nii" and suffix != ".nii.gz":  # NIfTI stores only rotations: keep identity there
        image.SetDirection(_rotation())
        mask.SetDirection(_rotation())
    path = tmp_path / f"image{suffix}"
    sitk.WriteImage(image, str(path))
    back = read_image(path)
    _assert_same_image(image, back, atol=1e-5)
    assert back.GetPixelID() == sitk.sitkInt16
    sitk.WriteImage(mask, str(tmp_path / f"mask{suffix}"))
    m = read_mask(tmp_path / f"mask{suffix}", reference=back)
    assert m.GetPixelID() == sitk.sitkUInt8
    assert int(sitk.GetArrayFromImage(m).sum()) == 3 * 4 * 3


def test_missing_and_unreadable_files_say_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_image(tmp_path / "nope.nii.gz")
    bad = tmp_path / "broken.nii.gz"
    bad.write_bytes(b"this is not an image")
    with pytest.raises(ValueError, match=r"cannot read .*broken.*Supported: NIfTI.*NRRD.*DICOM"):
        read_image(bad)
    with pytest.raises(ValueError, match="no DICOM image series"):
        read_image(tmp_path)


def test_label_selection_and_grid_check(anisotropic_image, tmp_path):
    image, mask = anisotropic_image
    two = sitk.GetArrayFromImage(mask) * 2
    two[0, 0, 0] = 3
    lab = sitk.GetImageFromArray(two)
    lab.CopyInformation(image)
    sitk.WriteImage(lab, str(tmp_path / "labels.nrrd"))
    kept = sitk.GetArrayFromImage(read_mask(tmp_path / "labels.nrrd"))
    assert np.unique(kept).tolist() == [0, 2, 3]
    only2 = sitk.GetArrayFromImage(read_mask(tmp_path / "labels.nrrd", label=2))
    assert only2.sum() == 36 and only2.max() == 1
    with pytest.raises(ValueError, match=r"label=5 does not occur.*\[0, 2, 3\]"):
        read_mask(tmp_path / "labels.nrrd", label=5)
    shifted = sitk.Image(image)
    shifted.SetOrigin((0.0, 0.0, 0.0))
    with pytest.raises(ValueError, match="not on the image.s voxel grid.*origin.*register the two scans"):
        read_mask(tmp_path / "labels.nrrd", reference=shifted)
    with pytest.raises(ValueError, match="label image; choose its label value with label="):
        read_mask(tmp_path / "labels.nrrd", roi="GTV")
    # missing values from a manifest column mean "not given"
    same = read_mask(tmp_path / "labels.nrrd", image, roi=float("nan"), label=2.0)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(same), only2)


@pytest.mark.data
def test_reads_real_pyradiomics_case(pyradiomics_dir):
    image = read_image(pyradiomics_dir / "brain1_image.nrrd")
    np.testing.assert_allclose(image.GetSpacing(), (0.78125, 0.78125, 6.5))
    mask = read_mask(pyradiomics_dir / "brain1_label.nrrd", image, label=1)
    # 4,137 ROI voxels: pyradiomics' sample data description (shared/data/README.md)
    assert int(sitk.GetArrayFromImage(mask).sum()) == 4137


# ----------------------------------------------------------------------------- DICOM series
@pytest.mark.parametrize("rotated", [False, True], ids=["axis-aligned", "rotated"])
def test_dicom_series_round_trip(anisotropic_image, tmp_path, rotated):
    image, _ = anisotropic_image
    if rotated:
        image.SetDirection(_rotation())
    files = write_dicom_series(image, tmp_path / "ct", patient_id="P001")
    assert len(files) == image.GetSize()[2]
    back = read_image(tmp_path / "ct")
    _assert_same_image(image, back)
    assert back.GetPixelID() == sitk.sitkInt16
    # one slice file reads the whole series
    _assert_same_image(image, read_image(files[3]))


def test_dicom_series_of_lesion_and_wide_hu_range(lesion, tmp_path):
    image, _ = lesion
    write_dicom_series(image, tmp_path / "ct", patient_id="P002")
    _assert_same_image(image, read_image(tmp_path / "ct"))
    wide = sitk.Cast(image, sitk.sitkInt16) * 20  # -20000..: outside 12-bit CT storage
    write_dicom_series(wide, tmp_path / "wide", patient_id="P002")
    _assert_same_image(wide, read_image(tmp_path / "wide"))


def test_mr_series_round_trip(anisotropic_image, tmp_path):
    image, _ = anisotropic_image
    mr = image * 20 + 500  # MR-like intensities, stored as signed 16 bit without HU encoding
    files = write_dicom_series(mr, tmp_path / "mr", patient_id="P9", modality="MR")
    _assert_same_image(mr, read_image(tmp_path / "mr"))
    import pydicom

    assert pydicom.dcmread(files[0]).SOPClassUID == pydicom.uid.MRImageStorage
    with pytest.raises(ValueError, match="modality must be one of 'CT', 'MR'; got 'PET'"):
        write_dicom_series(mr, tmp_path / "pet", patient_id="P9", modality="PET")


def test_dicom_header_is_hu_encoded(anisotropic_image, tmp_path):
    import pydicom

    image, _ = anisotropic_image
    files = write_dicom_series(image, tmp_path / "ct", patient_id="P001")
    ds = pydicom.dcmread(files[2])
    assert ds.SOPClassUID == pydicom.uid.CTImageStorage and ds.Modality == "CT"
    assert [float(v) for v in ds.PixelSpacing] == [0.9, 0.8]  # row spacing (y), column spacing (x)
    assert float(ds.SliceThickness) == 2.5 and ds.RescaleType == "HU"
    np.testing.assert_allclose([float(v) for v in ds.ImagePositionPatient], (-10.0, 20.0, 10.0))
    # pydicom applies RescaleSlope/Intercept itself: an independent check of the HU encoding
    hu = pydicom.pixels.apply_rescale(ds.pixel_array, ds)
    np.testing.assert_array_equal(hu, sitk.GetArrayFromImage(image)[2])


def test_dicom_output_is_deterministic(anisotropic_image, tmp_path):
    image, _ = anisotropic_image
    a = write_dicom_series(image, tmp_path / "a", patient_id="P001", seed=3)
    b = write_dicom_series(image, tmp_path / "b", patient_id="P001", seed=3)
    c = write_dicom_series(image, tmp_path / "c", patient_id="P001", seed=4)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    assert a[0].read_bytes() != c[0].read_bytes()


def test_folder_with_two_series_lists_them(anisotropic_image, tmp_path):
    image, _ = anisotropic_image
    write_dicom_series(image, tmp_path / "mixed", patient_id="P1", series_description="venous")
    arterial = image[:, :, :5]
    files = write_dicom_series(arterial, tmp_path / "tmp", patient_id="P1",
                               series_description="arterial")
    for f in files:
        f.rename(tmp_path / "mixed" / f"art_{f.name}")
    with pytest.raises(ValueError, match=r"(?s)2 DICOM image series.*'venous'.*9 slices") as err:
        read_image(tmp_path / "mixed")
    assert "'arterial'" in str(err.value) and "5 slices" in str(err.value)
    import pydicom

    uid = pydicom.dcmread(tmp_path / "mixed" / "art_slice_0001.dcm").SeriesInstanceUID
    assert read_image(tmp_path / "mixed", series_uid=uid).GetSize() == (7, 8, 5)
    with pytest.raises(ValueError, match="is not in folder"):
        read_image(tmp_path / "mixed", series_uid="1.2.3")


# ----------------------------------------------------------------------------- RTSTRUCT
@pytest.fixture
def dicom_case(lesion, tmp_path):
    image, mask = lesion
    write_dicom_series(image, tmp_path / "ct", patient_id="P003")
    rt = write_rtstruct(mask, tmp_path / "ct", tmp_path / "rtstruct.dcm", roi_name="GTV")
    seg = write_dicom_seg(mask, tmp_path / "ct", tmp_path / "seg.dcm", segment_label="GTV")
    return image, mask, tmp_path / "ct", rt, seg


def test_rtstruct_round_trip_recovers_mask(dicom_case):
    image, mask, ct, rt, _ = dicom_case
    assert list_rois(rt) == ["GTV"]
    back = read_mask(rt, ct, roi="GTV")  # reference given as the series folder
    assert back.GetPixelID() == sitk.sitkUInt8
    assert back.GetSize() == image.GetSize()
    np.testing.assert_allclose(back.GetSpacing(), image.GetSpacing(), atol=1e-9)
    np.testing.assert_allclose(back.GetOrigin(), image.GetOrigin(), atol=1e-9)
    np.testing.assert_allclose(back.GetDirection(), image.GetDirection(), atol=1e-9)
    assert _dice(back, mask) >= 0.9
    # the necrotic core (an inner contour) stays empty after the XOR fill
    assert sitk.GetArrayFromImage(back)[8, 19, 22] == 0
    assert sitk.GetArrayFromImage(mask)[8, 19, 22] == 0


def test_masks_beside_the_slices_do_not_disturb_reading(dicom_case):
    image, mask, ct, rt, _ = dicom_case
    write_rtstruct(mask, ct, ct / "rtstruct.dcm")
    write_dicom_seg(mask, ct, ct / "seg.dcm")
    _assert_same_image(image, read_image(ct), atol=1e-9)
    with pytest.raises(ValueError, match="is a DICOM RTSTRUCT object, not an image.*read_mask"):
        read_image(rt)


def test_rtstruct_contours_enclose_the_mask_area(dicom_case):
    """Shoelace area of the written polygons (mm^2), checked against the voxel area per slice.

    An independent check of the contour geometry: points are projected on the image
    axes with the direction matrix, so wrong spacing or orientation would change the
    area. Outer and inner contours have opposite orientation (skimage find_contours),
    so the signed sum is the area with holes removed; marching squares cuts a quarter
    triangle off each corner voxel, hence the tolerance.
    """
    import pydicom

    image, mask, _, rt, _ = dicom_case
    arr = sitk.GetArrayFromImage(mask)
    d = np.array(image.GetDirection()).reshape(3, 3)
    sx, sy, sz = image.GetSpacing()
    area = np.zeros(arr.shape[0])
    for c in pydicom.dcmread(rt).ROIContourSequence[0].ContourSequence:
        local = (np.array(c.ContourData, float).reshape(-1, 3) - image.GetOrigin()) @ d  # mm
        k = int(round(local[:, 2].mean() / sz))
        np.testing.assert_allclose(local[:, 2], k * sz, atol=1e-6)  # planar, on slice k
        x, y = local[:, 0], local[:, 1]
        area[k] += 0.5 * (np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
    voxels = arr.reshape(arr.shape[0], -1).sum(axis=1) * sx * sy
    big = voxels > 40 * sx * sy
    np.testing.assert_allclose(np.abs(area[big]), voxels[big], rtol=0.05)
    assert np.all((area == 0) == (voxels == 0))


def test_rtstruct_wrong_roi_lists_names_and_needs_reference(dicom_case):
    image, _, _, rt, _ = dicom_case
    with pytest.raises(ValueError, match=r"ROI 'Tumour' is not in .*'GTV'"):
        read_mask(rt, image, roi="Tumour")
    with pytest.raises(ValueError, match="pass reference="):
        read_mask(rt)
    assert _dice(read_mask(rt, image, roi="gtv"), read_mask(rt, image, label=1)) == 1.0


def test_rtstruct_and_seg_are_deterministic(dicom_case, tmp_path):
    _, mask, ct, rt, seg = dicom_case
    rt2 = write_rtstruct(mask, ct, tmp_path / "again" / "rt.dcm")
    seg2 = write_dicom_seg(mask, ct, tmp_path / "again" / "seg.dcm")
    assert rt2.read_bytes() == rt.read_bytes()
    assert seg2.read_bytes() == seg.read_bytes()


def test_two_readers_masks_get_their_own_uids(dicom_case, tmp_path):
    import pydicom

    _, mask, ct, rt, seg = dicom_case
    other = sitk.BinaryErode(mask, (1, 1, 0))  # a second reader's tighter outline
    rt2 = write_rtstruct(other, ct, tmp_path / "rt_reader2.dcm")
    seg2 = write_dicom_seg(other, ct, tmp_path / "seg_reader2.dcm")
    for a, b in ((rt, rt2), (seg, seg2)):
        da, db = pydicom.dcmread(a), pydicom.dcmread(b)
        assert da.SOPInstanceUID != db.SOPInstanceUID
        assert da.SeriesInstanceUID != db.SeriesInstanceUID
        assert da.StudyInstanceUID == db.StudyInstanceUID


def test_writers_refuse_a_mask_off_the_series_grid(dicom_case, tmp_path):
    _, mask, ct, _, _ = dicom_case
    moved = sitk.Image(mask)
    moved.SetOrigin((0.0, 0.0, 0.0))
    with pytest.raises(ValueError, match="does not lie on the grid.*origin"):
        write_rtstruct(moved, ct, tmp_path / "x.dcm")


# ----------------------------------------------------------------------------- DICOM-SEG
def test_seg_round_trip_is_exact(dicom_case):
    image, mask, ct, _, seg = dicom_case
    assert list_rois(seg) == ["GTV"]
    back = read_mask(seg, image, roi="GTV")
    _assert_same_image(mask, back)


def test_seg_reader_agrees_with_highdicom(dicom_case):
    """Cross-check our frame placement against highdicom's own volume reconstruction."""
    import highdicom as hd

    image, mask, ct, _, seg_path = dicom_case
    seg = hd.seg.segread(seg_path)
    volume = seg.get_volume(
        segment_numbers=[1], combine_segments=True, allow_missing_positions=True
    )
    ours = read_mask(seg_path, image)
    # highdicom orders the volume along its own slice axis; compare in physical space
    ref = sitk.GetImageFromArray(volume.array.astype(np.uint8))
    aff = volume.affine
    spacing = np.linalg.norm(aff[:3, :3], axis=0)
    ref.SetSpacing(tuple(spacing[::-1]))
    ref.SetDirection(tuple((aff[:3, :3] / spacing)[:, ::-1].ravel()))
    ref.SetOrigin(tuple(aff[:3, 3]))
    resampled = sitk.Resample(ref, ours, sitk.Transform(), sitk.sitkNearestNeighbor, 0)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(resampled), sitk.GetArrayFromImage(ours))


def test_seg_wrong_segment_lists_labels(dicom_case):
    image, _, _, _, seg = dicom_case
    with pytest.raises(ValueError, match=r"segment 'Liver' is not in .*1: 'GTV'"):
        read_mask(seg, image, roi="Liver")
    with pytest.raises(ValueError, match=r"segment number label=2 is not in"):
        read_mask(seg, image, label=2)


def test_polygon_fill_matches_skimage():
    """Our scan-line fill gives the voxels of skimage.draw.polygon (established implementation)."""
    from skimage.draw import polygon

    from radnb.io._dicom_masks import fill_polygon

    rng = np.random.default_rng(3)
    for n in (3, 5, 12, 40):
        angles = np.sort(rng.uniform(0, 2 * np.pi, n))
        radius = rng.uniform(3, 14, n)
        x, y = 15.3 + radius * np.cos(angles), 11.7 + radius * np.sin(angles) * 0.8
        expected = np.zeros((24, 30), dtype=bool)
        expected[polygon(y, x, shape=expected.shape)] = True
        np.testing.assert_array_equal(fill_polygon(x, y, expected.shape), expected)
    # a self-intersecting bow-tie: both follow the even-odd rule
    x, y = np.array([2.2, 20.1, 20.3, 2.4]), np.array([2.1, 15.2, 2.3, 15.4])
    expected = np.zeros((24, 30), dtype=bool)
    expected[polygon(y, x, shape=expected.shape)] = True
    np.testing.assert_array_equal(fill_polygon(x, y, expected.shape), expected)
