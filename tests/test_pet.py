"""PET: body-weight SUV from DICOM (QIBA vendor-neutral definition) and the "pet" preset.

SUVbw = Bq/mL x weight (g) / (injected dose x 2^(-t / half-life)), QIBA FDG-PET/CT Technical
Committee, "Vendor-neutral pseudo-code for SUV calculation"; Kinahan & Fletcher, Semin
Ultrasound CT MR 2010;31:496-505. The expected values below are computed by hand from the
tags written into the test series, not by radnb.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from radnb.io import read_pet_suv

F18_HALF_LIFE = 6586.2  # s (109.77 min)
SHAPE = (3, 4, 5)  # slices, rows, columns
SPACING = (4.0, 4.0, 3.0)  # x, y, z in mm


def _stored(k):
    rng = np.random.default_rng(k)
    return rng.integers(0, 30000, size=SHAPE[1:], dtype=np.uint16)


def write_pet(folder, *, drop=(), **tags):
    """Write a 3-slice PET series (one file per slice, Units BQML) with pydicom."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    pet_storage = "1.2.840.10008.5.1.4.1.1.128"
    folder.mkdir(parents=True, exist_ok=True)
    series_uid, study_uid, frame_uid = generate_uid(), generate_uid(), generate_uid()
    defaults = {
        "Units": "BQML", "DecayCorrection": "START", "CorrectedImage": ["ATTN", "DECY"],
        "PatientWeight": "72.5", "SeriesDate": "20240315", "SeriesTime": "110130",
        "AcquisitionDate": "20240315",
        "AcquisitionTime": ["110130", "110130", "110130"],
        "RescaleSlope": ["0.5", "1.25", "2"], "RescaleIntercept": "0",
        "RadionuclideTotalDose": "370000000", "RadionuclideHalfLife": str(F18_HALF_LIFE),
        "RadiopharmaceuticalStartDateTime": "20240315095830",
        "RadiopharmaceuticalStartTime": None,
    }
    tags = {**defaults, **tags}
    for k in range(SHAPE[0]):
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = pet_storage
        ds.file_meta.MediaStorageSOPInstanceUID = sop = generate_uid()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.SOPClassUID, ds.SOPInstanceUID = pet_storage, sop
        ds.Modality = "PT"
        ds.PatientID, ds.PatientName = "PET1", "PET1^"
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, series_uid
        ds.FrameOfReferenceUID = frame_uid
        ds.InstanceNumber = k + 1
        ds.ImagePositionPatient = ["0", "0", str(k * SPACING[2])]
        ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
        ds.PixelSpacing = [str(SPACING[1]), str(SPACING[0])]
        ds.SliceThickness = str(SPACING[2])
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.Rows, ds.Columns = SHAPE[1:]
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.PixelData = _stored(k).astype("<u2").tobytes()
        item = Dataset()
        for name in ("RadionuclideTotalDose", "RadionuclideHalfLife",
                     "RadiopharmaceuticalStartDateTime", "RadiopharmaceuticalStartTime"):
            if tags[name] is not None and name not in drop:
                setattr(item, name, tags[name])
        if "RadiopharmaceuticalInformationSequence" not in drop:
            ds.RadiopharmaceuticalInformationSequence = Sequence([item])
        if tags.get("SUVType"):
            ds.SUVType = tags["SUVType"]
        for name in ("Units", "DecayCorrection", "CorrectedImage", "PatientWeight", "SeriesDate",
                     "SeriesTime", "AcquisitionDate", "AcquisitionTime", "RescaleSlope",
                     "RescaleIntercept"):
            value = tags[name]
            if name in drop or value is None:
                continue
            if name in ("AcquisitionTime", "RescaleSlope"):
                value = value[k]
            setattr(ds, name, value)
        # write slices in reverse file-name order: the reader must sort them by position
        ds.save_as(str(folder / f"img{SHAPE[0] - k:03d}.dcm"), enforce_file_format=True)
    return folder


def _bq_ml(slopes):
    return np.stack([_stored(k) * float(s) for k, s in enumerate(slopes)])


def test_suv_start_decay_matches_hand_calculation(tmp_path):
    series = write_pet(tmp_path / "pet")
    suv, info = read_pet_suv(series, details=True)
    # injection 09:58:30, series start 11:01:30 -> 63 min = 3780 s of decay
    decayed = 370e6 * 2 ** (-3780 / F18_HALF_LIFE)  # Bq at scan start
    expected = _bq_ml(["0.5", "1.25", "2"]) * 72.5 * 1000 / decayed
    import SimpleITK as sitk

    np.testing.assert_allclose(sitk.GetArrayFromImage(suv), expected, rtol=1e-6)
    assert info["decay_time_s"] == 3780
    # by hand: 3780 / 6586.2 = 0.573927; x ln 2 = 0.397818; exp(-0.397818) = 0.67179
    assert info["decay_factor"] == pytest.approx(0.67179, abs=1e-5)
    assert info["suv_factor"] == pytest.approx(72500 / (370e6 * 0.67179), rel=2e-5)
    assert suv.GetSpacing() == pytest.approx(SPACING)
    assert suv.GetOrigin() == pytest.approx((0.0, 0.0, 0.0))
    assert suv.GetPixelIDTypeAsString() == "32-bit float"


def test_one_file_reads_its_whole_series(tmp_path):
    series = write_pet(tmp_path / "pet")
    import SimpleITK as sitk

    whole = sitk.GetArrayFromImage(read_pet_suv(series))
    one = sitk.GetArrayFromImage(read_pet_suv(series / "img002.dcm"))
    np.testing.assert_array_equal(whole, one)


def test_admin_decay_correction_uses_the_injected_dose(tmp_path):
    import SimpleITK as sitk

    suv = read_pet_suv(write_pet(tmp_path / "pet", DecayCorrection="ADMIN"))
    expected = _bq_ml(["0.5", "1.25", "2"]) * 72500 / 370e6
    np.testing.assert_allclose(sitk.GetArrayFromImage(suv), expected, rtol=1e-6)


def test_no_decay_correction_decays_to_each_slice_time(tmp_path):
    import SimpleITK as sitk

    times = ["110130", "110630", "111130"]  # 63, 68 and 73 min after injection
    suv, info = read_pet_suv(write_pet(tmp_path / "pet", DecayCorrection="NONE",
                                       AcquisitionTime=times), details=True)
    minutes = np.array([63, 68, 73])
    decayed = 370e6 * 2 ** (-minutes * 60 / F18_HALF_LIFE)
    expected = _bq_ml(["0.5", "1.25", "2"]) * 72500 / decayed[:, None, None]
    np.testing.assert_allclose(sitk.GetArrayFromImage(suv), expected, rtol=1e-6)
    assert info["decay_time_s"] == [3780, 4080, 4380]


def test_start_time_without_date_and_resaved_series(tmp_path):
    import SimpleITK as sitk

    # only RadiopharmaceuticalStartTime; SeriesTime after the acquisition (a re-saved series):
    # QIBA takes the earliest AcquisitionTime (11:01:30) as the scan start
    series = write_pet(tmp_path / "pet", RadiopharmaceuticalStartDateTime=None,
                       RadiopharmaceuticalStartTime="095830", SeriesTime="143000")
    suv, info = read_pet_suv(series, details=True)
    assert info["scan_time"] == dt.datetime(2024, 3, 15, 11, 1, 30)
    assert info["injection_time"] == dt.datetime(2024, 3, 15, 9, 58, 30)
    expected = _bq_ml(["0.5", "1.25", "2"]) * 72500 / (370e6 * 2 ** (-3780 / F18_HALF_LIFE))
    np.testing.assert_allclose(sitk.GetArrayFromImage(suv), expected, rtol=1e-6)


def test_series_already_in_suv_is_only_rescaled(tmp_path):
    import SimpleITK as sitk

    # Units GML (g/mL = SUVbw), as in the IBSI's DICOM PET: no weight or dose needed
    series = write_pet(tmp_path / "pet", Units="GML", drop=("PatientWeight", "RadionuclideTotalDose"))
    suv, info = read_pet_suv(series, details=True)
    np.testing.assert_allclose(sitk.GetArrayFromImage(suv), _bq_ml(["0.5", "1.25", "2"]), rtol=1e-6)
    assert info == {"units": "GML", "suv_factor": 1.0}


@pytest.mark.parametrize("drop, words", [
    (("PatientWeight",), ["PatientWeight", "weight"]),
    (("RadionuclideTotalDose",), ["RadionuclideTotalDose", "injected activity"]),
    (("RadionuclideHalfLife",), ["RadionuclideHalfLife", "6586.2"]),
    (("RadiopharmaceuticalStartDateTime",), ["RadiopharmaceuticalStartDateTime", "injection"]),
    (("RadiopharmaceuticalInformationSequence",), ["RadiopharmaceuticalInformationSequence"]),
    (("Units",), ["Units"]),
    (("DecayCorrection",), ["DecayCorrection", "START"]),
    (("RescaleSlope",), ["RescaleSlope"]),
    (("SeriesDate", "SeriesTime", "AcquisitionDate", "AcquisitionTime"), ["SeriesDate", "AcquisitionDate"]),
])
def test_missing_tag_names_the_tag_and_what_to_do(tmp_path, drop, words):
    series = write_pet(tmp_path / "pet", drop=drop)
    with pytest.raises(ValueError) as err:
        read_pet_suv(series)
    for word in words:
        assert word in str(err.value)


def test_invalid_values_are_refused(tmp_path):
    with pytest.raises(ValueError, match="PatientWeight is 0 kg"):
        read_pet_suv(write_pet(tmp_path / "w", PatientWeight="0"))
    with pytest.raises(ValueError, match="CNTS.*private"):
        read_pet_suv(write_pet(tmp_path / "u", Units="CNTS"))
    with pytest.raises(ValueError, match="SUVType is 'LBM'"):
        read_pet_suv(write_pet(tmp_path / "g", Units="GML", SUVType="LBM"))
    with pytest.raises(ValueError, match="not attenuation"):
        read_pet_suv(write_pet(tmp_path / "a", CorrectedImage=["DECY"]))
    with pytest.raises(ValueError, match="injection time .* after the scan"):
        read_pet_suv(write_pet(tmp_path / "t", RadiopharmaceuticalStartDateTime="20240315120000"))


def test_non_pet_series_is_refused(anisotropic_image, tmp_path):
    from radnb.io import write_dicom_series

    image, _ = anisotropic_image
    write_dicom_series(image, tmp_path / "ct", patient_id="C1")
    with pytest.raises(ValueError, match="0 PET"):
        read_pet_suv(tmp_path / "ct")
    with pytest.raises(FileNotFoundError):
        read_pet_suv(tmp_path / "nowhere")


# ----------------------------------------------------------------------------- pet preset
def test_pet_preset_bins_in_suv():
    from radnb.extract import list_presets, load_params

    assert "pet" in list_presets()
    s = load_params("pet")["setting"]
    assert s["binWidth"] == 0.25 and s["voxelArrayShift"] == 0 and not s["normalize"]
    assert s["interpolator"] == "sitkLinear"


@pytest.fixture(scope="module")
def sts_manifest(shared_data):
    import pandas as pd

    from radnb.cohort import load_manifest

    root = shared_data / "ibsi_sts" / "nifti"
    cases = ["STS_001", "STS_002", "STS_003"]
    if not all((root / c / "PET_image.nii.gz").is_file() for c in cases):
        pytest.skip(f"IBSI soft-tissue sarcoma PET crops not found in {root}")
    return load_manifest(pd.DataFrame({
        "case_id": cases,
        "image": [str(root / c / "PET_image.nii.gz") for c in cases],
        "mask": [str(root / c / "PET_mask.nii.gz") for c in cases],
        "site": "IBSI-STS",
    }))


def test_real_pet_through_the_pipeline(sts_manifest, tmp_path):
    """IBSI STS PET crops (already SUV): manifest -> validate -> extract_features("pet")."""
    import SimpleITK as sitk
    from radiomics.featureextractor import RadiomicsFeatureExtractor

    from radnb.cohort import summarize, validate
    from radnb.extract import extract_features, load_params

    status = summarize(validate(sts_manifest))
    assert (status["n_errors"] == 0).all(), status
    result = extract_features(sts_manifest, params="pet", cache_dir=tmp_path, n_jobs=1, progress=False)
    assert len(result.errors) == 0 and len(result.features) == 3
    row = result.features.set_index("case_id").loc["STS_002"]
    # the same numbers as pyradiomics itself with the preset's settings
    first = sts_manifest.set_index("case_id").loc["STS_002"]
    direct = RadiomicsFeatureExtractor(load_params("pet")).execute(first["image"], first["mask"], 1)
    for name in ("original_firstorder_Mean", "original_glcm_Contrast", "original_shape_MeshVolume"):
        assert row[name] == pytest.approx(float(direct[name]), rel=1e-12)
    # SUVmean inside the tumour lies between its raw SUV minimum and maximum
    image = sitk.GetArrayFromImage(sitk.ReadImage(first["image"]))
    mask = sitk.GetArrayFromImage(sitk.ReadImage(first["mask"])) > 0
    assert image[mask].min() < row["original_firstorder_Mean"] < image[mask].max()
    assert row["original_firstorder_Mean"] == pytest.approx(image[mask].mean(), rel=0.1)
