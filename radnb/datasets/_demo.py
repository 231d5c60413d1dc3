"""radnb's synthetic multi-centre CT demo cohort (:func:`make_demo_cohort`).

The scenario: deep soft-tissue masses of the limbs and trunk wall on
contrast-enhanced CT (venous phase), consecutive patients of a sarcoma referral
network, histopathology as the reference standard; does radiomics separate
soft-tissue sarcoma from benign soft-tissue tumours beyond the radiologist's
suspicion score and lesion size? A cohort with known ground truth, so every
tutorial can show a real lesson and check it: planted outcome signal (texture
heterogeneity, necrotic core, margin irregularity, all driven by one latent
risk), site effects that confound features until harmonised (reconstruction
kernel, slice thickness, tube voltage, contrast timing, case mix), a
test-retest subset, a second reader, a gene-expression table and a DICOM copy
of one patient. The model is documented in ``docs/demo-cohort.md``;
the drawing lives in :mod:`radnb.datasets._demo_clinical` and :mod:`radnb.datasets._demo_image`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from radnb._utils.validation import check_range

__all__ = ["make_demo_cohort", "RETEST_FRACTION"]

RETEST_FRACTION = 0.25
_PROTOCOL = ["kvp", "kernel", "slice_mm"]
_CLINICAL = ["outcome", "age", "sex", "location", "suspicion", "diameter_mm", "diagnosis_year",
             "stage", "grade", "time", "event"]
_TRUTH = [
    "case_id", "site", "latent_risk", "heterogeneity", "necrosis", "irregularity", "outcome",
    "location", "metastatic",
]
_DICOM_DIR = "dicom"
_ROI = "GTV"
_SITE_TRUTH = ["role", "kernel", "kvp", "delay_s", "noise_hu", "noise_grain", "fwhm_xy", "fwhm_z",
               "hu_offset", "risk_shift"]


def make_demo_cohort(directory, n_patients: int = 120, n_sites: int = 3, seed: int = 0):
    """Generate the synthetic multi-centre CT demo cohort and return its manifest.

    Writes into ``directory``: ``images/<case>_t<timepoint>.nii.gz`` (int16 HU),
    ``masks/<case>_t<timepoint>_r<reader>.nii.gz`` (uint8, label 1),
    ``manifest.csv`` (paths relative to ``directory``), ``ground_truth.csv``,
    ``genes.csv``, ``immune.csv``, ``immune_genes.csv`` and, when :mod:`radnb.io` can write DICOM, ``dicom/`` with
    ``dicom_manifest.csv``. The same ``seed`` gives byte-identical files.

    Parameters
    ----------
    directory : str or Path
        Folder to write into (created if needed).
    n_patients : int, default 120
        Number of patients (at least 4).
    n_sites : int, default 3
        Number of centres; the first three have fixed, documented scanner
        settings, further ones are drawn at random.
    seed : int, default 0
        Seed of the random generator.

    Returns
    -------
    pandas.DataFrame
        The manifest as :func:`radnb.cohort.load_manifest` returns it: one row per
        (``case_id``, ``timepoint``, ``reader``) with absolute ``image`` / ``mask``
        paths, ``label``, ``site``, ``modality``, the site's protocol ``kvp``,
        ``kernel``, ``slice_mm`` and the clinical columns ``outcome`` (1 =
        sarcoma), ``age``, ``sex``, ``location``, ``suspicion`` (1-5),
        ``diameter_mm``, ``diagnosis_year`` and, for sarcomas only, ``stage``,
        ``grade``, ``time`` and ``event`` (sarcoma-specific survival).

    Examples
    --------
    >>> import tempfile
    >>> from radnb.datasets._demo import make_demo_cohort
    >>> manifest = make_demo_cohort(tempfile.mkdtemp(), n_patients=4, n_sites=2)
    >>> manifest[["case_id", "timepoint", "reader"]].drop_duplicates().shape[0] == len(manifest)
    True
    >>> sorted(manifest["site"].unique())
    ['A', 'B']
    """
    import pandas as pd

    from radnb.datasets._demo_clinical import (ajcc_stage, draw_genes, draw_immune,
                                               draw_patients, site_table)
    from radnb.datasets._demo_image import longest_axial_diameter, render_case
    from radnb.cohort import load_manifest

    n_patients = _check_int("n_patients", n_patients, 4, 9999)
    n_sites = _check_int("n_sites", n_sites, 1, min(26, n_patients))
    seed = _check_int("seed", seed, 0, None)
    directory = Path(directory)
    for sub in ("images", "masks"):
        (directory / sub).mkdir(parents=True, exist_ok=True)

    rng = np.random.default_rng([seed, 0])
    sites = site_table(n_sites, rng)
    patients = draw_patients(n_patients, sites, rng)
    genes = draw_genes(patients, rng)
    n_retest = int(round(RETEST_FRACTION * n_patients))
    retest = np.zeros(n_patients, dtype=bool)
    retest[rng.choice(n_patients, n_retest, replace=False)] = True

    rows, truth_rows, dicom_rows = [], [], []
    for i, patient in enumerate(patients.to_dict("records")):
        site = sites[patient["site_index"]]
        case_rng = np.random.default_rng([seed, 1, i])
        case = render_case(patient, site, case_rng, retest=bool(retest[i]))
        origin = _origin(case_rng, case["spacing"], next(iter(case["images"].values())).shape)
        cid = patient["case_id"]
        patient["diameter_mm"] = longest_axial_diameter(case["masks"][(1, 1)], case["spacing"])
        patient["stage"] = ajcc_stage([patient["diameter_mm"]], [patient["grade"]],
                                      [patient["metastatic"]])[0]
        for tp, arr in case["images"].items():
            image_rel = f"images/{cid}_t{tp}.nii.gz"
            _write(arr, case["spacing"], origin, directory / image_rel)
            for reader in (1, 2):
                mask_rel = f"masks/{cid}_t{tp}_r{reader}.nii.gz"
                _write(case["masks"][(tp, reader)], case["spacing"], origin, directory / mask_rel)
                rows.append({
                    "case_id": cid, "image": image_rel, "mask": mask_rel, "label": 1,
                    "reader": reader, "timepoint": tp, "site": patient["site"], "modality": "CT",
                    "kvp": site["kvp"], "kernel": site["kernel"], "slice_mm": site["slice_mm"],
                    **{c: patient[c] for c in _CLINICAL},
                })
        if i == 0:  # the first patient also as DICOM (CT series, RTSTRUCT, SEG)
            dicom_rows = _write_dicom(
                directory, [r for r in rows if r["case_id"] == cid and r["timepoint"] == 1],
                case, origin, seed, site,
            )
        truth_rows.append({
            **{c: patient[c] for c in _TRUTH}, **case["truth"],
            **{f"site_{k}": site[k] for k in _SITE_TRUTH},
        })

    manifest = pd.DataFrame(rows).sort_values(["case_id", "timepoint", "reader"])
    manifest.to_csv(directory / "manifest.csv", index=False, float_format="%.10g")
    pd.DataFrame(truth_rows).to_csv(directory / "ground_truth.csv", index=False, float_format="%.6g")
    genes.to_csv(directory / "genes.csv", index=False, float_format="%.3f")
    pd.DataFrame(dicom_rows).to_csv(directory / "dicom_manifest.csv", index=False,
                                    float_format="%.10g")
    # The immune microenvironment comes last, from a stream of its own: adding it
    # changed none of the files above.
    immune, immune_genes = draw_immune(patients, np.random.default_rng([seed, 2]))
    immune.to_csv(directory / "immune.csv", index=False, float_format="%.4f")
    immune_genes.to_csv(directory / "immune_genes.csv", index=False, float_format="%.3f")
    return load_manifest(directory / "manifest.csv")


def _add_protocol_tags(series: Path, site: dict, delay_s: float):
    """Tags a real CT header carries about the protocol: kVp, kernel, contrast."""
    import pydicom

    for path in sorted(series.glob("*.dcm")):
        ds = pydicom.dcmread(path)
        ds.KVP = str(site["kvp"])
        ds.ConvolutionKernel = site["kernel"].upper()
        ds.ContrastBolusAgent = "iodinated contrast, venous phase"
        ds.ContrastBolusRoute = "IV"
        ds.ImageComments = f"scan {delay_s:.0f} s after contrast injection"
        ds.save_as(path)


def _check_int(name, value, low, high):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer; got {value!r} ({type(value).__name__}).")
    return int(check_range(name, value, low, high))


def _origin(rng, spacing, shape):
    """A plausible position (mm, x/y/z) of the first voxel inside a chest-abdomen CT."""
    centre = np.array([rng.uniform(-120, 120), rng.uniform(-100, 60), rng.uniform(-350, 50)])
    extent = np.array(shape[::-1]) * spacing[::-1]
    return np.round(centre - extent / 2, 2)


def _to_image(arr, spacing, origin):
    import SimpleITK as sitk

    img = sitk.GetImageFromArray(arr)
    img.SetSpacing(tuple(float(s) for s in spacing[::-1]))
    img.SetOrigin(tuple(float(o) for o in origin))
    return img


def _write(arr, spacing, origin, path: Path):
    import SimpleITK as sitk

    sitk.WriteImage(_to_image(arr, spacing, origin), str(path), True)


def _write_dicom(directory: Path, rows: list[dict], case: dict, origin, seed: int, site: dict):
    """Write a case's first scan as DICOM: CT series, one RTSTRUCT per reader, a SEG.

    Returns the rows of ``dicom_manifest.csv`` (paths relative to ``directory``).
    """
    from radnb.io import write_dicom_series, write_dicom_seg, write_rtstruct

    cid = rows[0]["case_id"]
    folder = directory / _DICOM_DIR / cid
    series = folder / "ct"
    write_dicom_series(_to_image(case["images"][1], case["spacing"], origin), series,
                       patient_id=cid, series_description="radnb demo CT venous phase",
                       seed=seed)
    _add_protocol_tags(series, site, case["truth"]["delay_s"])
    out = []
    for row in rows:
        mask = _to_image(case["masks"][(1, row["reader"])], case["spacing"], origin)
        name = "rtstruct.dcm" if row["reader"] == 1 else f"rtstruct_reader{row['reader']}.dcm"
        write_rtstruct(mask, series, folder / name, roi_name=_ROI)
        if row["reader"] == 1:
            write_dicom_seg(mask, series, folder / "seg.dcm", segment_label=_ROI)
        out.append({**row, "image": f"{_DICOM_DIR}/{cid}/ct",
                    "mask": f"{_DICOM_DIR}/{cid}/{name}", "roi": _ROI})
    return out
