"""Hospital inputs (issue 11): validate and extraction agree, manifests keep IDs, viewers draw DICOM masks.

Every file is generated here, small. Reference for feature values: pyradiomics itself
(``RadiomicsFeatureExtractor.execute``) on the image with a mask on exactly its grid.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

from radnb.cohort import load_manifest, validate
from radnb.extract import extract_features
from radnb.io import read_image, read_mask, write_dicom_series, write_rtstruct

PARAMS = {"setting": {"binWidth": 10}, "imageType": {"Original": {}},
          "featureClass": {"shape": None, "firstorder": None, "glcm": None}}


def _case(folder, name="c", spacing=(0.8, 0.9, 2.5), seed=0):
    rng = np.random.default_rng(seed)
    arr = rng.normal(40, 10, size=(12, 14, 16)).astype(np.int16)
    mask = np.zeros(arr.shape, np.uint8)
    mask[3:9, 4:10, 4:12] = 1
    arr[mask == 1] += 40
    image = sitk.GetImageFromArray(arr)
    image.SetSpacing(spacing)
    image.SetOrigin((-10.0, 20.0, 5.0))
    m = sitk.GetImageFromArray(mask)
    m.CopyInformation(image)
    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / f"{name}_image.nrrd", folder / f"{name}_mask.nrrd"
    sitk.WriteImage(image, str(paths[0]))
    sitk.WriteImage(m, str(paths[1]))
    return image, m, str(paths[0]), str(paths[1])


def _row(image, mask, case_id="c", **extra):
    return pd.DataFrame([{"case_id": case_id, "image": str(image), "mask": str(mask), **extra}])


def _extract(manifest, tmp_path, params=PARAMS):
    """Extraction with failures kept as error rows (the warning is checked elsewhere)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return extract_features(manifest, params=params, cache_dir=tmp_path / "cache", n_jobs=1,
                                progress=False)


def _checks(table, severity=None):
    sel = table if severity is None else table[table["severity"] == severity]
    return dict(zip(sel["check"], sel["message"]))


def _plain(text):
    return ".cxx" not in text and "itk::" not in text and "Traceback" not in text


# ----------------------------------------------------------------------------- truncated files
@pytest.mark.parametrize("name, compress", [("x.nii.gz", True), ("x.nii", False),
                                            ("x.nrrd", True), ("x.mha", False)])
def test_truncated_image_is_refused_by_reader_validate_and_extraction(tmp_path, name, compress):
    image, _, _, mask_path = _case(tmp_path)
    whole = tmp_path / name
    sitk.WriteImage(image, str(whole), compress)
    read_image(whole)  # the complete file reads
    cut = tmp_path / f"cut_{name}"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="(?i)incomplete.*copy or export the file again"):
        read_image(cut)
    errors = _checks(validate(_row(cut, mask_path)), "error")
    assert "incomplete" in errors["image"] and _plain(errors["image"])
    result = _extract(_row(cut, mask_path), tmp_path)
    assert result.features.empty and "incomplete" in result.errors["message"].iloc[0]


def test_truncated_gzip_mask_that_simpleitk_reads_with_zeros(tmp_path):
    """The case of the issue: SimpleITK fills a cut .nii.gz with zeros, silently."""
    _, mask, image_path, _ = _case(tmp_path)
    noisy = sitk.GetImageFromArray(
        (np.random.default_rng(1).random((12, 14, 16)) > 0.5).astype(np.uint8))  # compresses little
    noisy.CopyInformation(mask)
    whole = tmp_path / "m.nii.gz"
    sitk.WriteImage(noisy, str(whole), True)
    cut = tmp_path / "m_cut.nii.gz"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    sitk.ReadImage(str(cut))  # SimpleITK itself does not complain
    with pytest.raises(ValueError, match="incomplete"):
        read_mask(cut)
    assert "incomplete" in _checks(validate(_row(image_path, cut)), "error")["mask"]


# ----------------------------------------------------------------------------- geometry policy
def test_header_rounding_is_aligned_the_same_way_in_read_validate_and_extraction(tmp_path):
    image, mask, image_path, mask_path = _case(tmp_path)
    rounded = sitk.Image(mask)
    rounded.SetOrigin(tuple(o + 1e-6 for o in mask.GetOrigin()))
    rounded.SetSpacing(tuple(s * (1 + 1e-7) for s in mask.GetSpacing()))
    off_path = tmp_path / "rounded.nrrd"
    sitk.WriteImage(rounded, str(off_path))
    aligned = read_mask(off_path, reference=image)
    assert aligned.GetOrigin() == image.GetOrigin() and aligned.GetSpacing() == image.GetSpacing()
    table = validate(_row(image_path, off_path))
    assert _checks(table, "error") == {}
    assert "within rounding" in _checks(table)["geometry"]
    exact = _extract(_row(image_path, mask_path), tmp_path / "a").features
    off = _extract(_row(image_path, off_path), tmp_path / "b")
    assert off.errors.empty
    feats = [c for c in exact.columns if c.startswith("original_")]
    assert len(feats) > 30
    np.testing.assert_allclose(off.features[feats].to_numpy(float), exact[feats].to_numpy(float),
                               rtol=1e-12)
    note = off.diagnostics["diagnostics_radnb_MaskGeometry"].iloc[0]
    assert "image geometry copied" in note and "origin" in note


def test_small_origin_shift_is_not_an_error(tmp_path):
    """0.01 mm (about 1% of a voxel) is header noise: aligned, not an error (the old 1e-3 mm was)."""
    image, mask, image_path, _ = _case(tmp_path)
    shifted = sitk.Image(mask)
    shifted.SetOrigin(tuple(np.add(mask.GetOrigin(), (0.01, 0.0, 0.0))))
    path = tmp_path / "shift.nrrd"
    sitk.WriteImage(shifted, str(path))
    assert _checks(validate(_row(image_path, path)), "error") == {}
    assert _extract(_row(image_path, path), tmp_path).errors.empty


def test_larger_geometry_differences_are_errors_in_validate_and_extraction(tmp_path):
    """No silent resampling by pyradiomics (correctMask) any more: both refuse, with the same advice."""
    image, mask, image_path, _ = _case(tmp_path)
    shifted = sitk.Image(mask)
    shifted.SetOrigin(tuple(np.add(mask.GetOrigin(), (0.2, 0.0, 0.0))))
    path = tmp_path / "shift.nrrd"
    sitk.WriteImage(shifted, str(path))
    error = _checks(validate(_row(image_path, path)), "error")["geometry"]
    # a quarter voxel on the same grid: the same scan, so resampling is the advice
    assert "origin shifted by 0.2 mm" in error and "resample the mask" in error
    params = {**PARAMS, "setting": {**PARAMS["setting"], "correctMask": True}}
    result = _extract(_row(image_path, path), tmp_path, params)  # pyradiomics would resample
    assert result.features.empty
    message = result.errors["message"].iloc[0]
    assert "not on the image's voxel grid" in message and _plain(message)
    with pytest.raises(ValueError, match="not on the image's voxel grid"):
        read_mask(path, reference=image)


def test_mask_from_another_series_is_never_called_safe(tmp_path):
    """Problem case X04 (issue 18): another series means register or re-segment."""
    from radnb.datasets import make_problem_cases

    cases = make_problem_cases(tmp_path)
    table = validate(cases)
    msg = table[(table.case_id == "X04") & (table.check == "geometry")]["message"].iloc[0]
    assert "safe" not in msg.lower() and "register the two scans" in msg
    assert "segment the lesion again" in msg


def test_dicom_frame_of_reference_decides_the_advice(tmp_path):
    """An RTSTRUCT drawn on another series (other Frame of Reference UID) is refused everywhere."""
    image, mask, _, _ = _case(tmp_path)
    image.SetDirection((1, 0, 0, 0, 1, 0, 0, 0, 1))
    mask.CopyInformation(image)
    write_dicom_series(image, tmp_path / "ct", patient_id="p1")
    write_dicom_series(image, tmp_path / "ct_other", patient_id="p1", seed=7)  # another scan
    write_rtstruct(mask, tmp_path / "ct", tmp_path / "rs.dcm", roi_name="GTV")
    good = read_mask(tmp_path / "rs.dcm", tmp_path / "ct", roi="GTV")
    assert int(sitk.GetArrayFromImage(good).sum()) == int(sitk.GetArrayFromImage(mask).sum())
    with pytest.raises(ValueError, match="Frame of Reference UID differs.*Register the two scans"):
        read_mask(tmp_path / "rs.dcm", read_image(tmp_path / "ct_other"), roi="GTV")
    row = _row(tmp_path / "ct_other", tmp_path / "rs.dcm", roi="GTV")
    msg = _checks(validate(row), "error")["geometry"]
    assert "another series" in msg and "safe" not in msg
    result = _extract(row, tmp_path)
    assert result.features.empty and "Frame of Reference" in result.errors["message"].iloc[0]
    assert _extract(_row(tmp_path / "ct", tmp_path / "rs.dcm", roi="GTV"), tmp_path).errors.empty


# ----------------------------------------------------------------------------- values
def _write(img, path):
    sitk.WriteImage(img, str(path))
    return path


def test_rgb_ct_and_big_labels_as_masks(tmp_path):
    image, mask, image_path, _ = _case(tmp_path)
    arr = sitk.GetArrayFromImage(mask)
    rgb = sitk.GetImageFromArray(np.stack([arr * 255] * 3, -1).astype(np.uint8), isVector=True)
    rgb.CopyInformation(image)
    big = sitk.GetImageFromArray(arr.astype(np.int16) * 300)
    big.CopyInformation(image)
    cases = {
        "rgb": (_write(rgb, tmp_path / "rgb.nrrd"), "colour (RGB)"),
        "ct": (_write(image - 1000, tmp_path / "ct.nrrd"), "looks like an image"),  # HU: air
        "big": (_write(big, tmp_path / "big.nrrd"), "labels 0..255"),
    }
    for name, (path, words) in cases.items():
        msg = _checks(validate(_row(image_path, path, case_id=name)), "error")["mask_values"]
        assert words in msg and _plain(msg), (name, msg)
        result = _extract(_row(image_path, path, case_id=name), tmp_path / name)
        assert result.features.empty and words in result.errors["message"].iloc[0], name


def test_nan_image_and_roi_on_label_image(tmp_path):
    image, _, _, mask_path = _case(tmp_path)
    arr = sitk.GetArrayFromImage(image).astype(np.float32)
    arr[5, 6, 7] = np.nan
    nan = sitk.GetImageFromArray(arr)
    nan.CopyInformation(image)
    nan_path = _write(nan, tmp_path / "nan.nrrd")
    msg = _checks(validate(_row(nan_path, mask_path)), "error")["image_values"]
    assert "NaN" in msg
    assert "NaN" in _extract(_row(nan_path, mask_path), tmp_path / "n").errors["message"].iloc[0]
    _, _, image_path, _ = _case(tmp_path / "b")
    row = _row(image_path, mask_path, roi="GTV")
    assert "label image" in _checks(validate(row), "error")["roi"]
    assert "label image" in _extract(row, tmp_path / "r").errors["message"].iloc[0]


def test_implausible_spacing_and_volume_warn(tmp_path):
    _, _, image_path, mask_path = _case(tmp_path, spacing=(20.0, 20.0, 20.0))
    warnings = _checks(validate(_row(image_path, mask_path)), "warning")
    assert "cm instead of mm" in warnings["spacing"]
    assert "litres" in warnings["roi_volume"]


# ----------------------------------------------------------------------------- manifests
MANIFEST = ("case_id;image;mask;age;dose;sex\n000123;a.nrrd;b.nrrd;61;1,5;F\xe9\n"
            "007;a.nrrd;b.nrrd;NA;2;M\n7;a.nrrd;b.nrrd;45;0,25;NA\nNA;a.nrrd;b.nrrd;50;3;F\n")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16", "utf-16-le"])
def test_manifest_ids_encodings_and_decimal_commas(tmp_path, encoding):
    path = tmp_path / "m.csv"
    path.write_bytes(MANIFEST.encode(encoding))
    m = load_manifest(path)
    assert m["case_id"].tolist() == ["000123", "007", "7", "NA"]
    assert m["dose"].tolist() == [1.5, 2.0, 0.25, 3.0]
    assert m["age"].iloc[0] == 61 and np.isnan(m["age"].iloc[1])
    assert m["sex"].iloc[0] == "F\xe9" and pd.isna(m["sex"].iloc[2])


def test_manifest_from_a_dataframe_keeps_ids_readable():
    df = pd.DataFrame({"case_id": [123.0, 7.0], "image": ["a", "a"], "mask": ["b", "b"],
                       "patient_id": ["0042", None]})
    m = load_manifest(df, root="/data")
    assert m["case_id"].tolist() == ["123", "7"] and m["patient_id"].iloc[0] == "0042"


def test_manifest_bad_encoding_and_empty_file_say_what_to_do(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"case_id,image,mask\n\x81\x8d\x90,a,b\n")
    with pytest.raises(ValueError, match="encoding.*save it as 'CSV UTF-8'"):
        load_manifest(bad)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="is empty"):
        load_manifest(empty)
    (tmp_path / "header.csv").write_text("case_id,image,mask\n")
    with pytest.raises(ValueError, match="no rows"):
        load_manifest(tmp_path / "header.csv")


def test_manifest_excel_keeps_ids(tmp_path):
    pytest.importorskip("openpyxl")
    pd.DataFrame({"case_id": ["000123", "7"], "image": ["a", "a"], "mask": ["b", "b"],
                  "patient_id": ["0042", "NA"], "age": [61, 62]}).to_excel(tmp_path / "m.xlsx",
                                                                          index=False)
    m = load_manifest(tmp_path / "m.xlsx")
    assert m["case_id"].tolist() == ["000123", "7"] and m["patient_id"].tolist() == ["0042", "NA"]
    assert m["age"].tolist() == [61, 62]


def test_series_uid_column_picks_the_series_in_extract_and_cli(tmp_path):
    image, mask, _, _ = _case(tmp_path / "src")
    image.SetDirection((1, 0, 0, 0, 1, 0, 0, 0, 1))
    mask.CopyInformation(image)
    folder = tmp_path / "dicom"
    write_dicom_series(image, folder, patient_id="p1", series_description="venous")
    brighter = sitk.Cast(image, sitk.sitkInt16) + 100
    write_dicom_series(brighter, tmp_path / "tmp2", patient_id="p1", series_description="late")
    for f in (tmp_path / "tmp2").iterdir():
        f.rename(folder / f"late_{f.name}")
    from radnb.io._dicom import image_series

    uids = {str(read_image(folder, series_uid=u).GetPixel(0, 0, 0)): u for u in image_series(folder)}
    late_uid = uids[str(int(sitk.GetArrayViewFromImage(brighter)[0, 0, 0]))]
    sitk.WriteImage(mask, str(tmp_path / "mask.nrrd"))
    unchosen = validate(_row(folder, tmp_path / "mask.nrrd"))
    assert "add a series_uid column" in _checks(unchosen, "error")["image"]
    csv = tmp_path / "manifest.csv"
    csv.write_text(f"case_id;image;mask;series_uid\n001;{folder};{tmp_path / 'mask.nrrd'};{late_uid}\n")
    manifest = load_manifest(csv)
    assert manifest["series_uid"].iloc[0] == late_uid
    assert _checks(validate(manifest), "error") == {}
    result = _extract(manifest, tmp_path)
    assert result.errors.empty
    assert result.features["original_firstorder_Mean"].iloc[0] > 100  # the brighter series
    out = tmp_path / "f.csv"
    run = subprocess.run([sys.executable, "-m", "radnb", "extract", str(csv), "--out", str(out),
                          "--cache", str(tmp_path / "cli"), "--jobs", "1", "--no-progress"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    got = pd.read_csv(out, dtype={"case_id": str})
    assert got["case_id"].tolist() == ["001"]  # the CLI reads manifests with load_manifest
    assert got["original_firstorder_Mean"].iloc[0] > 100  # its own preset, the same series


# ----------------------------------------------------------------------------- viewers
def _dicom_manifest(small_demo):
    folder = Path(small_demo["image"].iloc[0]).parent
    while not (folder / "dicom_manifest.csv").exists():
        folder = folder.parent
    return load_manifest(folder / "dicom_manifest.csv")


def test_viewers_draw_rtstruct_and_seg_from_the_demo_dicom_manifest(small_demo):
    from radnb import view

    dm = _dicom_manifest(small_demo)
    assert "roi" in dm.columns and len(dm) >= 2
    viewer = view.browse(dm, validation=False)
    for key in viewer.cases:
        viewer.case = key
        assert viewer._data["layers"], (key, viewer._data["problems"])
        assert any(layer.any() for _, layer in viewer._data["layers"])
    g = view.gallery(dm, validation=False)
    assert (g.table["status"] != "error").all(), g.table
    first = dm.iloc[0]
    cmp = view.compare(first["image"], {r.mask.split("/")[-1]: (r.mask, r.roi) for r in dm.itertuples()})
    dice = cmp.agreement()
    assert len(dice) >= 1 and (dice.select_dtypes("number").to_numpy() > 0.5).any()
    one = view.browse(first["image"], (first["mask"], first["roi"]))  # one image, an RTSTRUCT ROI
    assert one._data["layers"] and one._data["layers"][0][1].any()
    fig_ax = view.roi_histogram(first["image"], (first["mask"], first["roi"]))
    assert fig_ax is not None


def test_rgb_mask_is_an_error_tile_not_an_exception(tmp_path):
    from radnb import view

    image, mask, image_path, _ = _case(tmp_path)
    arr = sitk.GetArrayFromImage(mask)
    rgb = sitk.GetImageFromArray(np.stack([arr * 255] * 3, -1).astype(np.uint8), isVector=True)
    rgb.CopyInformation(image)
    path = _write(rgb, tmp_path / "rgb.nrrd")
    manifest = _row(image_path, path)
    g = view.gallery(manifest, validation=False)
    assert g.table["status"].iloc[0] == "error" and "colour (RGB)" in g.table["error"].iloc[0]
    viewer = view.browse(manifest, validation=False)
    assert "colour (RGB)" in viewer._data["problems"]
    assert viewer.render_array().ndim == 3  # the image is still shown
