"""radnb.cohort: manifests and validation (each failure mode gets a clear message)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

from radnb.cohort import from_folder, load_manifest, summarize, validate


def _write(img, path):
    sitk.WriteImage(img, str(path))
    return str(path)


@pytest.fixture
def pair(tmp_path, anisotropic_image):
    image, mask = anisotropic_image
    return _write(image, tmp_path / "ct.nrrd"), _write(mask, tmp_path / "gtv.nrrd"), image, mask


def _one(table, check):
    row = table[table["check"] == check]
    assert len(row) == 1, f"expected one {check!r} row, got {table[['check', 'severity']]}"
    return row.iloc[0]


def _manifest(image, mask, **extra):
    return pd.DataFrame([{"case_id": "c1", "image": image, "mask": mask, **extra}])


# --- load_manifest / from_folder -------------------------------------------------------------

def test_load_manifest_resolves_relative_paths_and_fills_defaults(tmp_path):
    (tmp_path / "sub").mkdir()
    csv = tmp_path / "sub" / "manifest.csv"
    pd.DataFrame({"case_id": [7, 8], "image": ["a.nrrd", "/abs/b.nrrd"], "mask": ["m.nrrd", "n.nrrd"],
                  "age": [60, 70]}).to_csv(csv, index=False)
    m = load_manifest(csv)
    assert m["image"].tolist() == [str(tmp_path / "sub" / "a.nrrd"), "/abs/b.nrrd"]
    assert m["case_id"].tolist() == ["7", "8"]
    assert m[["label", "reader", "timepoint"]].to_numpy().tolist() == [[1, 1, 1], [1, 1, 1]]
    assert m["site"].tolist() == ["unknown", "unknown"]
    assert "age" in m.columns
    m2 = load_manifest(csv, root="/data")
    assert m2["image"].iloc[0] == "/data/a.nrrd"


def test_load_manifest_reads_excel(tmp_path):
    path = tmp_path / "m.xlsx"
    pd.DataFrame({"case_id": ["x"], "image": ["i.nii.gz"], "mask": ["m.nii.gz"], "reader": [2]}).to_excel(
        path, index=False)
    m = load_manifest(path)
    assert m.loc[0, "reader"] == 2 and m.loc[0, "mask"] == str(tmp_path / "m.nii.gz")


def test_load_manifest_rejects_missing_columns():
    with pytest.raises(ValueError, match=r"missing column\(s\) \['mask'\]"):
        load_manifest(pd.DataFrame({"case_id": ["a"], "image": ["x"]}))


def test_load_manifest_rejects_duplicate_rows():
    df = pd.DataFrame({"case_id": ["a", "a"], "image": ["x", "y"], "mask": ["m", "n"]})
    with pytest.raises(ValueError, match="sharing \\(case_id, timepoint, reader\\)"):
        load_manifest(df)
    df["reader"] = [1, 2]
    assert len(load_manifest(df)) == 2


def test_from_folder_pairs_by_case(tmp_path, anisotropic_image):
    image, mask = anisotropic_image
    for case in ("p1", "p2"):
        _write(image, tmp_path / f"{case}_image.nrrd")
        _write(mask, tmp_path / f"{case}_label.nrrd")
    _write(image, tmp_path / "p3_image.nrrd")  # no mask
    with pytest.warns(UserWarning, match="p3"):
        m = from_folder(tmp_path, site="A")
    assert m["case_id"].tolist() == ["p1", "p2"]
    assert m["mask"].iloc[1].endswith("p2_label.nrrd") and (m["site"] == "A").all()


def test_from_folder_nested_pattern(tmp_path, anisotropic_image):
    image, mask = anisotropic_image
    for case in ("A01", "B02"):
        (tmp_path / case).mkdir()
        _write(image, tmp_path / case / "ct.nrrd")
        _write(mask, tmp_path / case / "gtv.nrrd")
    m = from_folder(tmp_path, "*/ct.nrrd", "*/gtv.nrrd")
    assert m["case_id"].tolist() == ["A01", "B02"]


def test_from_folder_real_pyradiomics_cases(pyradiomics_dir):
    m = from_folder(pyradiomics_dir, "*_image.nrrd", "*_label.nrrd")
    assert sorted(m["case_id"]) == ["brain1", "brain2", "breast1", "lung1", "lung2"]
    table = validate(m)
    assert (table["severity"] != "error").all(), table[table["severity"] == "error"]
    roi = table[(table["case_id"] == "brain1") & (table["check"] == "roi_size")]["message"].iloc[0]
    assert roi.startswith("4137 voxels")  # documented in ../shared/data/README.md


# --- validate: every failure mode -----------------------------------------------------------

def test_validate_good_pair_is_ok(pair):
    image_path, mask_path, _, _ = pair
    table = validate(_manifest(image_path, mask_path), min_voxels=10)
    assert set(table["check"]) >= {"image", "mask", "dimensionality", "geometry", "mask_integer",
                                   "mask_empty", "label", "roi_size", "border"}
    assert (table["severity"] == "ok").all(), table
    assert int(_one(table, "roi_size")["message"].split()[0]) == 3 * 4 * 3


def test_validate_missing_file(pair):
    image_path, _, _, _ = pair
    row = _one(validate(_manifest(image_path, "/nowhere/gtv.nrrd")), "mask")
    assert row["severity"] == "error" and "does not exist" in row["message"]
    assert "/nowhere/gtv.nrrd" in row["message"]


def test_validate_unreadable_file(pair, tmp_path):
    _, mask_path, _, _ = pair
    bad = tmp_path / "broken.nrrd"
    bad.write_bytes(b"this is not an image")
    row = _one(validate(_manifest(str(bad), mask_path)), "image")
    assert row["severity"] == "error" and "could not be read" in row["message"]


def test_validate_geometry_mismatch_reports_amounts(pair, tmp_path):
    image_path, _, image, mask = pair
    shifted = sitk.Image(mask)
    shifted.SetOrigin(tuple(np.add(mask.GetOrigin(), (0.0, 0.0, 2.5))))
    shifted.SetSpacing((0.8, 0.9, 2.4))
    row = _one(validate(_manifest(image_path, _write(shifted, tmp_path / "s.nrrd"))), "geometry")
    assert row["severity"] == "error"
    assert "origin shifted by 2.5 mm" in row["message"]
    assert "spacing" in row["message"] and "0.1" in row["message"]
    # another grid: never called "safe"; register or re-segment (issue 18)
    assert "safe" not in row["message"] and "register the two scans" in row["message"]
    far = sitk.Image(mask)
    far.SetOrigin((500.0, 500.0, 500.0))
    row = _one(validate(_manifest(image_path, _write(far, tmp_path / "far.nrrd"))), "geometry")
    assert "reaches outside this image" in row["message"] and "safe" not in row["message"]


def test_validate_size_mismatch(pair, tmp_path):
    image_path, _, _, mask = pair
    small = mask[:, :, :6]
    row = _one(validate(_manifest(image_path, _write(small, tmp_path / "small.nrrd"))), "geometry")
    assert row["severity"] == "error" and "size (7, 8, 6) vs image (7, 8, 9)" in row["message"]


def test_validate_empty_mask(pair, tmp_path):
    image_path, _, _, mask = pair
    empty = sitk.Image(mask) * 0
    row = _one(validate(_manifest(image_path, _write(empty, tmp_path / "e.nrrd"))), "mask_empty")
    assert row["severity"] == "error" and "no non-zero voxel" in row["message"]


def test_validate_absent_label_lists_and_suggests(pair, tmp_path):
    image_path, _, _, mask = pair
    arr = sitk.GetArrayFromImage(mask) * 2
    arr[0, 0, 0] = 5
    relabel = sitk.GetImageFromArray(arr)
    relabel.CopyInformation(mask)
    row = _one(validate(_manifest(image_path, _write(relabel, tmp_path / "r.nrrd"))), "label")
    assert row["severity"] == "error"
    assert "label 1 is not in the mask" in row["message"]
    assert "2 (36 voxels), 5 (1 voxels)" in row["message"] and "label=2" in row["message"]


def test_validate_non_integer_mask(pair, tmp_path):
    image_path, _, _, mask = pair
    prob = sitk.Cast(mask, sitk.sitkFloat32) * 0.7
    row = _one(validate(_manifest(image_path, _write(prob, tmp_path / "p.nrrd"))), "mask_integer")
    assert row["severity"] == "error" and "non-integer" in row["message"]


def test_validate_2d_image(tmp_path):
    img = sitk.GetImageFromArray(np.zeros((10, 12), np.int16))
    m = sitk.GetImageFromArray(np.pad(np.ones((4, 4), np.uint8), 3)[:10, :12])
    row = _one(validate(_manifest(_write(img, tmp_path / "i.nrrd"), _write(m, tmp_path / "m.nrrd"))),
               "dimensionality")
    assert row["severity"] == "error" and "2D" in row["message"]


def test_validate_border_and_thin_roi(pair, tmp_path):
    image_path, _, _, mask = pair
    arr = np.zeros(sitk.GetArrayFromImage(mask).shape, np.uint8)
    arr[0, 2:6, 2:5] = 1  # one slice thick, on the first slice
    thin = sitk.GetImageFromArray(arr)
    thin.CopyInformation(mask)
    table = validate(_manifest(image_path, _write(thin, tmp_path / "t.nrrd")))
    assert _one(table, "border")["severity"] == "warning"
    assert _one(table, "roi_size")["severity"] == "warning"  # 12 voxels < 64
    arr[:] = 0
    arr[4, 3, 2:6] = 1  # a line: one voxel thick in two directions
    line = sitk.GetImageFromArray(arr)
    line.CopyInformation(mask)
    row = _one(validate(_manifest(image_path, _write(line, tmp_path / "l.nrrd"))), "roi_size")
    assert row["severity"] == "error"


def test_validate_never_raises_and_summarize(pair, tmp_path):
    image_path, mask_path, _, _ = pair
    df = pd.DataFrame([
        {"case_id": "good", "image": image_path, "mask": mask_path},
        {"case_id": "bad", "image": "/missing.nrrd", "mask": mask_path},
    ])
    summary = summarize(validate(df, min_voxels=10)).set_index("case_id")
    assert summary.loc["good", "status"] == "ok" and summary.loc["bad", "status"] == "error"
    assert "does not exist" in summary.loc["bad", "problems"]


def test_validate_demo_cohort(small_demo):
    summary = summarize(validate(small_demo))
    assert len(summary) == len(small_demo)
    assert (summary["status"] != "error").all(), summary[summary["status"] == "error"]


def test_validate_messages_are_plain(tmp_path):
    """No numpy reprs or ITK source paths in messages; a probability map gets one clear error."""
    from radnb.datasets import make_problem_cases

    cases = make_problem_cases(tmp_path)
    table = validate(cases).merge(cases[["case_id", "problem"]])
    text = " ".join(table["message"])
    assert "np.float64" not in text and ".cxx" not in text and "SimpleITK ImageFileReader" not in text
    prob = table[(table["problem"] == "probability_mask") & (table["severity"] == "error")]
    assert prob["check"].tolist() == ["mask_integer"]


# --- patient flow ------------------------------------------------------------------------------

def _checks(rows):
    """A validate()-shaped table from (case, timepoint, reader, check, severity) tuples."""
    return pd.DataFrame(rows, columns=["case_id", "timepoint", "reader", "check", "severity"]).assign(
        message="")


def test_patient_flow_counts_each_excluded_patient_once_under_its_first_error():
    from radnb.cohort import patient_flow

    checks = _checks([
        ("007", 1, 1, "image", "ok"), ("007", 1, 1, "border", "warning"),      # a warning: analysed
        ("008", 1, 1, "mask", "error"), ("008", 1, 1, "label", "error"),       # two errors: "mask"
        ("009", 1, 1, "geometry", "error"),
        ("010", 1, 1, "image", "ok"), ("010", 2, 1, "mask_empty", "error"),    # only the rescan fails
        ("011", 1, 2, "image", "ok"),                                           # reader 2 only
        ("012", 1, 1, "mask", "error"),
    ])
    flow = patient_flow(checks)
    assert flow["step"].tolist() == [
        "assessed", "excluded: mask missing or unreadable", "excluded: mask not on the image grid",
        "excluded: no image + mask pair for this timepoint and reader", "excluded in total", "analysed"]
    assert flow["patients"].tolist() == [6, 2, 1, 1, 4, 2]
    assert flow.attrs["excluded"] == {"008": "mask", "009": "geometry", "011": "no_pair", "012": "mask"}
    # every pair counts: the failed rescan excludes 010 as well, reader 2's pair includes 011
    every = patient_flow(checks, timepoint=None, reader=None)
    assert every.set_index("step").loc[["excluded in total", "analysed"], "patients"].tolist() == [4, 2]
    assert every.attrs["excluded"]["010"] == "mask_empty"


def test_patient_flow_of_the_problem_cases_adds_up(tmp_path):
    from radnb.cohort import patient_flow
    from radnb.datasets import make_problem_cases

    problems = make_problem_cases(tmp_path / "problems")
    flow = patient_flow(validate(problems))
    reasons = flow[flow["check"] != ""]
    assert flow["patients"].iloc[0] == problems["case_id"].nunique()
    assert reasons["patients"].sum() == flow.set_index("step").loc["excluded in total", "patients"]
    assert flow["patients"].iloc[-1] == 1  # X01, the one good case
    wrong_label = problems.loc[problems["problem"] == "wrong_label", "case_id"].item()
    assert flow.attrs["excluded"][wrong_label] == "label"


def test_patient_flow_names_a_timepoint_that_is_not_there():
    from radnb.cohort import patient_flow

    with pytest.raises(ValueError, match=r"no image \+ mask pair has timepoint = 3; the table has \[1\]"):
        patient_flow(_checks([("001", 1, 1, "image", "ok")]), timepoint=3)
    with pytest.raises(ValueError, match="missing column"):
        patient_flow(pd.DataFrame({"case_id": ["001"]}))
