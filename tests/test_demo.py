"""The synthetic demo cohort: files, geometry, planted effects, determinism.

The scenario: deep soft-tissue masses of the limbs and trunk wall on venous-phase CT,
histopathology as the reference standard (outcome 1 = sarcoma). Fast tests use an 8-patient cohort; the slow test extracts the default
120-patient cohort with plain pyradiomics and checks that the planted outcome
signal and site effects are there, with the strength the tutorials rely on.
"""
from __future__ import annotations

import gzip
import logging
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from radnb.datasets._demo import make_demo_cohort

MANIFEST_COLUMNS = {
    "case_id", "image", "mask", "label", "reader", "timepoint", "site", "modality",
    "kvp", "kernel", "slice_mm", "outcome", "age", "sex", "location", "suspicion", "diameter_mm",
    "diagnosis_year", "stage", "grade", "time", "event",
}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo8")
    manifest = make_demo_cohort(folder, n_patients=8, n_sites=3, seed=3)
    return folder, manifest


def _read(path):
    import SimpleITK as sitk

    return sitk.ReadImage(str(path))


def _array(path):
    import SimpleITK as sitk

    return sitk.GetArrayFromImage(_read(path))


def _dice(a, b):
    a, b = a.astype(bool), b.astype(bool)
    return 2.0 * (a & b).sum() / (a.sum() + b.sum())


def test_manifest_rows_and_columns(small):
    folder, manifest = small
    assert MANIFEST_COLUMNS <= set(manifest.columns)
    assert not manifest.duplicated(["case_id", "timepoint", "reader"]).any()
    assert manifest["case_id"].nunique() == 8
    assert sorted(manifest["site"].unique()) == ["A", "B", "C"]
    assert set(manifest["modality"]) == {"CT"} and set(manifest["label"]) == {1}
    # every patient: timepoint 1 read by two readers; 2 of 8 (25%) rescanned, also read twice
    counts = manifest.groupby(["timepoint", "reader"]).size().to_dict()
    assert counts == {(1, 1): 8, (1, 2): 8, (2, 1): 2, (2, 2): 2}
    assert all(Path(p).is_absolute() and Path(p).exists() for p in manifest["image"])
    assert all(Path(p).is_absolute() and Path(p).exists() for p in manifest["mask"])
    # the CSV itself holds relative paths, so the folder can be moved
    raw = pd.read_csv(folder / "manifest.csv")
    assert raw["image"].str.startswith("images/").all() and raw["mask"].str.startswith("masks/").all()
    clinical = manifest.groupby("case_id")[
        ["outcome", "age", "sex", "location", "suspicion", "diameter_mm", "site", "kvp"]].nunique()
    assert (clinical == 1).all().all(), "clinical values must be constant within a patient"


def test_folder_can_be_moved(small, tmp_path):
    from radnb.cohort import load_manifest

    folder, _ = small
    moved = tmp_path / "elsewhere"
    shutil.copytree(folder, moved)
    manifest = load_manifest(moved / "manifest.csv")
    assert all(str(p).startswith(str(moved)) and Path(p).exists() for p in manifest["image"])


def test_prevalence_and_clinical_values_plausible(small):
    _, manifest = small
    patients = manifest[(manifest.reader == 1) & (manifest.timepoint == 1)]
    assert patients["outcome"].mean() == pytest.approx(3 / 8)  # round(0.4 * 8) sarcomas
    assert set(patients["outcome"]) <= {0, 1}
    sarcoma, benign = patients[patients.outcome.eq(1)], patients[patients.outcome.eq(0)]
    # stage, grade and sarcoma-specific survival exist for sarcomas only
    for col in ("stage", "grade", "time", "event"):
        assert benign[col].isna().all(), f"a benign tumour has a {col}"
        assert sarcoma[col].notna().all(), f"a sarcoma lacks a {col}"
    assert set(sarcoma["stage"]) <= {"IA", "IB", "II", "IIIA", "IIIB", "IV"}
    assert set(sarcoma["grade"]) <= {1, 2, 3} and set(sarcoma["event"]) <= {0, 1}
    assert (sarcoma["time"] > 0).all()
    # diagnosed 2015-2023, data lock 1 January 2026: follow-up of a survivor is 24-132 months
    censored = sarcoma[sarcoma.event.eq(0)]
    assert censored["time"].between(24, 132).all()
    assert (censored["time"] <= (2026 - censored["diagnosis_year"]) * 12 + 1e-9).all()
    assert patients["diagnosis_year"].between(2015, 2023).all()
    assert patients["age"].between(18, 90).all()
    assert set(patients["sex"]) <= {"M", "F"}
    assert set(patients["location"]) <= {"lower limb", "upper limb", "trunk"}
    assert set(patients["suspicion"]) <= {1, 2, 3, 4, 5}
    # one protocol per site
    assert (patients.groupby("site")[["kvp", "kernel", "slice_mm"]].nunique() == 1).all().all()
    assert set(patients["kvp"]) <= {100, 120} and set(patients["kernel"]) <= {"soft", "standard", "sharp"}


def test_diameter_is_the_longest_in_plane_distance(small):
    """diameter_mm: brute force over every pair of voxels on each slice (+ one pixel)."""
    from scipy.spatial.distance import pdist

    _, manifest = small
    for row in manifest[manifest.reader.eq(1) & manifest.timepoint.eq(1)].itertuples():
        img = _read(row.mask)
        arr = _array(row.mask)
        sx, sy = img.GetSpacing()[:2]
        longest = max(pdist(np.argwhere(sl) * [sy, sx]).max() for sl in arr if sl.sum() > 1)
        assert row.diameter_mm == pytest.approx(longest + sx, abs=0.051), row.case_id
        assert arr.sum() > 0


def test_ajcc_stage_follows_the_8th_edition_rules():
    """AJCC 8th ed., trunk and extremity: T1 <= 5 cm, T2 <= 10, T3 <= 15, T4 > 15 cm;
    IA T1 G1, IB T2-4 G1, II T1 G2-3, IIIA T2 G2-3, IIIB T3-4 G2-3, IV N1 or M1."""
    from radnb.datasets._demo_clinical import ajcc_stage

    d = [50.0, 50.1, 100.0, 120.0, 160.0, 40.0, 80.0, 101.0, 151.0, 20.0, 30.0]
    g = [1, 1, 1, 1, 1, 2, 3, 2, 3, 3, np.nan]
    m = [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, np.nan]
    assert ajcc_stage(d, g, m).tolist() == [
        "IA", "IB", "IB", "IB", "IB", "II", "IIIA", "IIIB", "IIIB", "IV", None]


def test_protocol_changes_attenuation_like_real_ct():
    """At 100 kVp iodine reads higher and fat lower than at 120 kVp; an earlier scan enhances less.

    Renders one patient twice with the same random stream: only the tube voltage differs.
    """
    from radnb.datasets._demo_clinical import SITE_PRESETS
    from radnb.datasets._demo_image import protocol_hu, render_case

    low, ref, early = protocol_hu(100, 70), protocol_hu(120, 70), protocol_hu(120, 55)
    assert low["iodine"] > ref["iodine"] > early["iodine"] and ref["iodine"] == pytest.approx(1.0)
    assert low["fat"] < ref["fat"] and low["bone"] > ref["bone"]
    patient = {"irregularity": 0.5, "heterogeneity": 0.5, "necrosis": 0.2,
               "target_volume_cm3": 8.0, "location": "lower limb"}
    site = {**SITE_PRESETS[0], "noise_hu": 0.0}
    imgs = {kvp: render_case(patient, {**site, "kvp": kvp}, np.random.default_rng(4), retest=False)
            for kvp in (100, 120)}
    a100, a120 = (imgs[k]["images"][1].astype(float) for k in (100, 120))
    lesion = imgs[120]["masks"][(1, 1)].astype(bool)
    assert a100[lesion].mean() > a120[lesion].mean() + 5  # enhancing lesion reads higher
    fat = a120 < -60
    assert fat.sum() > 50 and a100[fat].mean() < a120[fat].mean() - 3  # fat reads lower
    muscle = (a120 > 40) & (a120 < 70) & ~lesion
    assert a120[muscle].mean() == pytest.approx(55, abs=5)  # muscle, venous phase


def test_images_and_masks_share_geometry(small):
    import SimpleITK as sitk

    _, manifest = small
    for row in manifest.itertuples():
        image, mask = _read(row.image), _read(row.mask)
        assert image.GetPixelID() == sitk.sitkInt16, row.image
        assert mask.GetSize() == image.GetSize(), row.mask
        np.testing.assert_allclose(mask.GetSpacing(), image.GetSpacing())
        np.testing.assert_allclose(mask.GetOrigin(), image.GetOrigin())
        np.testing.assert_allclose(mask.GetDirection(), image.GetDirection())
        values = sitk.GetArrayViewFromImage(mask)
        assert set(np.unique(values).tolist()) == {0, 1}, row.mask
        assert values.sum() >= 100, f"{row.mask} has only {values.sum()} voxels"
        spacing = image.GetSpacing()
        assert spacing[2] > spacing[0], "slices are thicker than pixels (anisotropic)"


def test_sites_have_different_scanners(small):
    _, manifest = small
    spacing = {
        row.site: _read(row.image).GetSpacing()[2]
        for row in manifest[manifest.timepoint.eq(1) & manifest.reader.eq(1)].itertuples()
    }
    assert len(set(spacing.values())) == 3  # slice thickness differs between A, B, C


def test_second_reader_differs_but_overlaps(small):
    _, manifest = small
    wide = manifest.pivot_table(index=["case_id", "timepoint"], columns="reader", values="mask",
                                aggfunc="first")
    for (case, tp), paths in wide.iterrows():
        m1, m2 = _array(paths[1]), _array(paths[2])
        assert not np.array_equal(m1, m2), case
        assert 0.75 <= _dice(m1, m2) <= 0.97, f"{case} t{tp}: Dice {_dice(m1, m2):.3f}"


def test_second_reader_moves_shape_more_than_intensity(small):
    """Boundary variation (about one voxel) changes surface features more than mean HU."""
    import radiomics
    from radiomics.featureextractor import RadiomicsFeatureExtractor

    radiomics.setVerbosity(logging.ERROR)
    _, manifest = small
    extractor = RadiomicsFeatureExtractor(binWidth=25)
    extractor.disableAllFeatures()
    extractor.enableFeaturesByName(firstorder=["Mean", "Median"], shape=["SurfaceArea", "Sphericity"])
    rows = manifest[manifest.timepoint.eq(1)]
    values = pd.DataFrame([
        {"case_id": r.case_id, "reader": r.reader,
         **{k: float(v) for k, v in extractor.execute(r.image, r.mask).items() if k.startswith("original_")}}
        for r in rows.itertuples()
    ])
    r1 = values[values.reader.eq(1)].set_index("case_id").drop(columns="reader")
    r2 = values[values.reader.eq(2)].set_index("case_id").drop(columns="reader").loc[r1.index]
    rel = ((r1 - r2).abs() / ((r1.abs() + r2.abs()) / 2)).median()
    assert rel["original_shape_SurfaceArea"] > 2 * rel["original_firstorder_Mean"], rel
    assert rel["original_shape_Sphericity"] > rel["original_firstorder_Median"], rel
    assert rel.max() < 0.25, rel


def test_retest_images_differ_but_show_the_same_lesion(small):
    _, manifest = small
    first = manifest[manifest.reader.eq(1)]
    for case in first.loc[first.timepoint.eq(2), "case_id"]:
        rows = first[first.case_id.eq(case)].set_index("timepoint")
        a1, a2 = _array(rows.loc[1, "image"]), _array(rows.loc[2, "image"])
        m1, m2 = _array(rows.loc[1, "mask"]).astype(bool), _array(rows.loc[2, "mask"]).astype(bool)
        assert a1.shape == a2.shape and not np.array_equal(a1, a2)
        assert abs(a1[m1].mean() - a2[m2].mean()) < 10  # same lesion, new noise and pose
        assert abs(int(m1.sum()) - int(m2.sum())) < 0.1 * m1.sum()


def test_ground_truth_table(small):
    folder, manifest = small
    truth = pd.read_csv(folder / "ground_truth.csv")
    assert sorted(truth["case_id"]) == sorted(manifest["case_id"].unique())
    for col in ("latent_risk", "heterogeneity", "necrosis", "irregularity", "volume_cm3",
                "site_noise_hu", "site_hu_offset", "site_kvp", "site_kernel", "delay_s",
                "core_radius_fraction", "pixel_mm", "slice_mm"):
        assert truth[col].notna().all(), col
    assert truth["volume_cm3"].between(0.8, 66).all()
    # the written masks hold exactly the documented volume
    for row in truth.itertuples():
        path = manifest.query("case_id == @row.case_id and timepoint == 1 and reader == 1")["mask"]
        img = _read(path.iloc[0])
        vol = _array(path.iloc[0]).sum() * np.prod(img.GetSpacing()) / 1000
        assert vol == pytest.approx(row.volume_cm3, rel=1e-4)


def test_genes_table_and_module(small):
    from radnb.datasets._demo_clinical import GENE_MODULE

    folder, _ = small
    genes = pd.read_csv(folder / "genes.csv")
    truth = pd.read_csv(folder / "ground_truth.csv").set_index("case_id").loc[genes["case_id"]]
    assert genes.shape == (8, 51) and genes.columns[0] == "case_id"
    z = (genes[list(GENE_MODULE)] - genes[list(GENE_MODULE)].mean()) / genes[list(GENE_MODULE)].std()
    r = np.corrcoef(z.mean(axis=1), truth["heterogeneity"].to_numpy())[0, 1]
    assert r > 0.6, f"module score vs heterogeneity r = {r:.2f}"


def test_dicom_copy_matches_nifti(small):
    """The first patient is also written as a DICOM CT series + RTSTRUCT (+ SEG) via radnb.io."""
    from radnb.cohort import load_manifest
    from radnb.io import list_rois, read_image, read_mask

    folder, manifest = small
    raw = pd.read_csv(folder / "dicom_manifest.csv")
    assert raw["image"].str.startswith("dicom/").all()  # relative, like manifest.csv
    dicom = load_manifest(folder / "dicom_manifest.csv")
    assert {"roi"} <= set(dicom.columns) and MANIFEST_COLUMNS <= set(dicom.columns)
    assert sorted(dicom["reader"]) == [1, 2] and set(dicom["timepoint"]) == {1}
    for row in dicom.itertuples():
        nifti = manifest.query(
            "case_id == @row.case_id and timepoint == 1 and reader == @row.reader").iloc[0]
        assert Path(row.image).is_dir() and Path(row.mask).name.startswith("rtstruct")
        assert nifti[["outcome", "site", "age"]].tolist() == [row.outcome, row.site, row.age]
        ct = read_image(row.image)
        np.testing.assert_array_equal(_array_of(ct), _array(nifti["image"]))
        np.testing.assert_allclose(ct.GetSpacing(), _read(nifti["image"]).GetSpacing(), atol=1e-5)
        np.testing.assert_allclose(ct.GetOrigin(), _read(nifti["image"]).GetOrigin(), atol=1e-3)
        assert list_rois(row.mask) == [row.roi]
        mask = _array_of(read_mask(row.mask, ct, roi=row.roi))
        assert _dice(mask, _array(nifti["mask"])) > 0.99
        if row.reader == 1:
            seg = _array_of(read_mask(Path(row.mask).with_name("seg.dcm"), ct))
            np.testing.assert_array_equal(seg, _array(nifti["mask"]))
    # the header carries the protocol, as a scanner's would
    import pydicom

    ds = pydicom.dcmread(sorted(Path(dicom["image"].iloc[0]).glob("*.dcm"))[0])
    first = manifest.iloc[0]
    assert float(ds.KVP) == first["kvp"] and ds.ConvolutionKernel == first["kernel"].upper()
    assert "venous" in ds.ContrastBolusAgent


def _array_of(image):
    import SimpleITK as sitk

    return sitk.GetArrayFromImage(image)


def test_latent_model_at_scale():
    """The planted clinical, survival and gene effects, checked on 3000 simulated patients.

    Cox model fitted with lifelines (an established implementation) on the sarcomas must
    recover the planted log hazard ratios (0.9 per SD of latent risk, 0.02 per year of age);
    AUCs with scikit-learn's roc_auc_score.
    """
    from lifelines import CoxPHFitter
    from scipy.stats import spearmanr
    from sklearn.metrics import roc_auc_score

    from radnb.datasets._demo_clinical import GENE_MODULE, draw_genes, draw_patients, site_table

    rng = np.random.default_rng(11)
    sites = site_table(3, rng)
    p = draw_patients(3000, sites, rng)
    sarcoma = p[p.outcome.eq(1)]
    assert p.loc[p.outcome.eq(0), ["time", "event", "grade", "metastatic"]].isna().all().all()
    cox = CoxPHFitter().fit(sarcoma[["time", "event", "latent_risk", "age"]], "time", "event")
    assert cox.params_["latent_risk"] == pytest.approx(0.9, abs=0.1)
    assert cox.params_["age"] == pytest.approx(0.02, abs=0.01)
    assert 0.25 < sarcoma["event"].mean() < 0.55
    assert p["outcome"].mean() == pytest.approx(0.4, abs=1e-3)
    # the tertiary referral centre B (risk +0.3) sees more, regional C (risk -0.25) fewer sarcomas
    prev = p.groupby("site")["outcome"].mean()
    assert prev["C"] < prev["A"] < prev["B"] and prev["B"] - prev["C"] < 0.3
    # the radiologist's score alone: AUC about 0.75-0.8 (radiomics has room to add)
    assert 0.74 < roc_auc_score(p["outcome"], p["suspicion"]) < 0.82
    assert 0.62 < roc_auc_score(p["outcome"], p["target_volume_cm3"]) < 0.76
    assert p["suspicion"].value_counts(normalize=True).between(0.1, 0.3).all()
    # grade follows the latent risk; age too; location only weakly
    assert spearmanr(sarcoma["latent_risk"], sarcoma["grade"])[0] > 0.4
    assert spearmanr(p["latent_risk"], p["age"])[0] > 0.2
    by_site = p.groupby("location")["outcome"].mean()
    assert by_site["lower limb"] > by_site["trunk"] and by_site.max() - by_site.min() < 0.2
    genes = draw_genes(p, rng)
    r = genes.drop(columns="case_id").corrwith(p["heterogeneity"], method="spearman")
    assert r[list(GENE_MODULE)].between(0.45, 0.8).all()
    assert r.drop(list(GENE_MODULE)).abs().max() < 0.1


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a, b, c = (tmp_path / n for n in "abc")
    make_demo_cohort(a, n_patients=4, n_sites=2, seed=5)
    make_demo_cohort(b, n_patients=4, n_sites=2, seed=5)
    make_demo_cohort(c, n_patients=4, n_sites=2, seed=6)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert len(files) >= 12
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f"{f} differs between two runs"
    gz = a / "images" / "P001_t1.nii.gz"
    assert gz.read_bytes()[4:8] == b"\0\0\0\0", "gzip header must not carry a timestamp"
    with gzip.open(gz) as fh:
        assert len(fh.read()) > 0
    assert (a / "images/P001_t1.nii.gz").read_bytes() != (c / "images/P001_t1.nii.gz").read_bytes()
    assert (a / "genes.csv").read_bytes() != (c / "genes.csv").read_bytes()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_patients": 2}, ValueError, "n_patients"),
        ({"n_sites": 0}, ValueError, "n_sites"),
        ({"n_sites": 27}, ValueError, "n_sites"),
        ({"seed": -1}, ValueError, "seed"),
        ({"seed": 1.5}, TypeError, "seed"),
        ({"n_patients": "120"}, TypeError, "n_patients"),
    ],
)
def test_invalid_arguments_are_rejected(tmp_path, kwargs, error, match):
    with pytest.raises(error, match=match):
        make_demo_cohort(tmp_path, **kwargs)


@pytest.mark.slow
def test_planted_effects_visible_with_plain_pyradiomics(demo_manifest):
    """Plain pyradiomics (Original image, binWidth 25, defaults otherwise) on reader 1, time point 1.

    AUC with scikit-learn's roc_auc_score (max(AUC, 1 - AUC)); site differences with
    SciPy's Kruskal-Wallis H test.
    """
    import radiomics
    from radiomics.featureextractor import RadiomicsFeatureExtractor
    from scipy.stats import kruskal
    from sklearn.metrics import roc_auc_score

    radiomics.setVerbosity(logging.ERROR)
    rows = demo_manifest[demo_manifest.reader.eq(1) & demo_manifest.timepoint.eq(1)]
    assert len(rows) == 120
    extractor = RadiomicsFeatureExtractor(binWidth=25)
    extractor.disableAllFeatures()
    extractor.enableFeatureClassByName("firstorder")
    extractor.enableFeatureClassByName("glcm")
    features = pd.DataFrame([
        {k: float(v) for k, v in extractor.execute(r.image, r.mask).items()
         if k.startswith(("original_firstorder_", "original_glcm_"))}
        for r in rows.itertuples()
    ])
    assert features.shape[1] >= 40
    y = rows["outcome"].to_numpy()
    site = rows["site"].to_numpy()
    auc = {c: roc_auc_score(y, features[c]) for c in features}
    auc = pd.Series({c: max(a, 1 - a) for c, a in auc.items()})
    p_site = pd.Series({
        c: kruskal(*[features[c][site == s] for s in np.unique(site)]).pvalue for c in features
    })
    assert auc.max() >= 0.75, auc.sort_values().tail()
    assert auc.max() <= 0.95, auc.sort_values().tail()  # a lesson, not a giveaway
    assert (p_site < 0.01).mean() >= 0.10, p_site.sort_values().head()
    # the comparators: the radiologist's score and size carry signal, less than the best feature
    auc_suspicion = roc_auc_score(y, rows["suspicion"])
    assert 0.7 <= auc_suspicion < auc.max(), auc_suspicion
    assert 0.6 <= roc_auc_score(y, rows["diameter_mm"]) < auc.max()


def test_an_old_demo_folder_is_regenerated(tmp_path):
    """A cohort cached by radnb before the sarcoma scenario (lung-style columns) is replaced."""
    from radnb.datasets import load_demo_cohort

    old = tmp_path / "demo_cohort-n4-s2-seed0"
    old.mkdir()
    (old / "manifest.csv").write_text("case_id,image,mask,outcome,smoking,stage\n", encoding="utf-8")
    manifest = load_demo_cohort(tmp_path, n_patients=4, n_sites=2)
    assert {"suspicion", "diameter_mm", "location"} <= set(manifest.columns)
    assert "smoking" not in manifest.columns and manifest["case_id"].nunique() == 4
