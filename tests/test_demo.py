"""The synthetic demo cohort: files, geometry, planted effects, determinism.

Fast tests use an 8-patient cohort; the slow test extracts the default
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
    "outcome", "time", "event", "age", "sex", "smoking", "stage",
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
    clinical = manifest.groupby("case_id")[["outcome", "age", "sex", "stage", "site"]].nunique()
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
    assert patients["outcome"].mean() == pytest.approx(3 / 8)  # round(0.4 * 8) malignant
    assert set(patients["event"]) <= {0, 1} and set(patients["outcome"]) <= {0, 1}
    assert (patients["time"] > 0).all() and (patients["time"] <= 84).all()
    # follow-up ends at 24-84 months: a patient censored earlier than 24 months is impossible
    assert (patients.loc[patients.event == 0, "time"] >= 24).all()
    assert patients["age"].between(35, 89).all()
    assert set(patients["sex"]) <= {"M", "F"}
    assert set(patients["smoking"]) <= {"never", "former", "current"}
    assert set(patients["stage"]) <= {"I", "II", "III", "IV"}


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
                "site_noise_hu", "site_hu_offset", "site_hu_scale", "pixel_mm", "slice_mm"):
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


def _array_of(image):
    import SimpleITK as sitk

    return sitk.GetArrayFromImage(image)


def test_latent_model_at_scale():
    """The planted clinical, survival and gene effects, checked on 3000 simulated patients.

    Cox model fitted with lifelines (an established implementation) must recover the
    planted log hazard ratios (0.9 per SD of latent risk, 0.02 per year of age).
    """
    from lifelines import CoxPHFitter
    from scipy.stats import spearmanr

    from radnb.datasets._demo_clinical import GENE_MODULE, draw_genes, draw_patients, site_table

    rng = np.random.default_rng(11)
    sites = site_table(3, rng)
    p = draw_patients(3000, sites, rng)
    cox = CoxPHFitter().fit(p[["time", "event", "latent_risk", "age"]], "time", "event")
    assert cox.params_["latent_risk"] == pytest.approx(0.9, abs=0.08)
    assert cox.params_["age"] == pytest.approx(0.02, abs=0.008)
    assert 0.3 < p["event"].mean() < 0.8
    assert p["outcome"].mean() == pytest.approx(0.4, abs=1e-3)
    # mild case-mix imbalance: B (risk +0.3) has more, C (risk -0.25) fewer malignant lesions
    prev = p.groupby("site")["outcome"].mean()
    assert prev["C"] < prev["A"] < prev["B"] and prev["B"] - prev["C"] < 0.3
    # clinical covariates follow the latent risk
    assert spearmanr(p["latent_risk"], p["stage"].map({"I": 1, "II": 2, "III": 3, "IV": 4}))[0] > 0.4
    assert spearmanr(p["latent_risk"], p["age"])[0] > 0.2
    assert p.loc[p.smoking.eq("current"), "latent_risk"].mean() > p.loc[p.smoking.eq("never"), "latent_risk"].mean()
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
