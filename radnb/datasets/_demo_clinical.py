"""Demo cohort, part 1: the patients' hidden truth and their clinical table.

The scenario: deep soft-tissue masses of the limbs and trunk wall, contrast-
enhanced CT in the venous phase, consecutive patients of a sarcoma referral
network, histopathology as the reference standard (``outcome`` 1 = soft-tissue
sarcoma, 0 = benign soft-tissue tumour). Everything observable is driven by one
latent variable per patient, the *latent risk* (standard normal; higher = more
aggressive tumour). This module draws it, the three imaging traits it drives
(texture heterogeneity, necrotic core, margin irregularity), the outcome, the
radiologist's suspicion score, grade, sarcoma-specific survival, clinical
covariates and the gene-expression table. The images are drawn from these
values by :mod:`radnb.datasets._demo_image`; the strengths are documented in
``docs/demo-cohort.md``.
"""
from __future__ import annotations

import numpy as np
from radnb._utils.i18n import N_

__all__ = [
    "SITE_PRESETS", "site_table", "draw_patients", "ajcc_stage", "draw_genes", "GENE_MODULE",
    "draw_immune", "IMMUNE_MODULE", "IMMUNE_SUBTYPES", "LOCATIONS",
]

# Scanner protocol per site: in-plane pixel size and slice thickness (mm), the
# reconstruction kernel (blur FWHM in mm in-plane / along z, noise SD in HU and
# the grain of the noise in pixels), the tube voltage (kVp), the mean contrast
# delay after injection (s), a water-calibration drift (HU) and the case mix
# (a shift added to the latent risk: the tertiary referral centre sees more sarcomas).
SITE_PRESETS = (
    dict(site="A", role=N_("university hospital"), pixel_mm=0.85, slice_mm=2.0, kernel="soft",
         fwhm_xy=1.3, fwhm_z=2.0, noise_hu=10.0, noise_grain=1.0, kvp=120, delay_s=70.0,
         hu_offset=0.0, risk_shift=0.0, weight=0.40),
    dict(site="B", role=N_("tertiary sarcoma referral centre"), pixel_mm=0.98, slice_mm=3.0,
         kernel="sharp", fwhm_xy=0.7, fwhm_z=3.2, noise_hu=20.0, noise_grain=0.45, kvp=100,
         delay_s=70.0, hu_offset=4.0, risk_shift=0.30, weight=0.35),
    dict(site="C", role=N_("regional hospital"), pixel_mm=0.75, slice_mm=2.5, kernel="standard",
         fwhm_xy=1.0, fwhm_z=2.5, noise_hu=14.0, noise_grain=0.7, kvp=120, delay_s=55.0,
         hu_offset=-3.0, risk_shift=-0.25, weight=0.25),
)
LOCATIONS = ("lower limb", "upper limb", "trunk")

# Genes of the imaging-linked module (their expression follows heterogeneity).
GENE_MODULE = tuple(f"GENE{i:02d}" for i in (3, 7, 11, 14, 19, 23, 28, 33, 41, 46))
# Genes of the immune (CD8+ T-cell) module; drawn from their own random stream.
IMMUNE_MODULE = tuple(f"IMMUNE{i:02d}" for i in range(1, 9))
IMMUNE_SUBTYPES = ("inflamed", "excluded", "desert")
_N_GENES = 50
_PREVALENCE = 0.40
_LOCK_YEAR = 2026.0  # data lock: 1 January 2026 (administrative censoring)


def site_table(n_sites: int, rng) -> list[dict]:
    """Return ``n_sites`` scanner protocols: the presets, then random ones."""
    sites = [dict(p) for p in SITE_PRESETS[:n_sites]]
    for k in range(len(sites), n_sites):
        kernel = str(rng.choice(["soft", "standard", "sharp"]))
        grain = {"soft": 1.0, "standard": 0.7, "sharp": 0.45}[kernel]
        sites.append(dict(
            site=_site_name(k), role=N_("regional hospital"), pixel_mm=float(rng.uniform(0.7, 1.0)),
            slice_mm=float(rng.choice([1.5, 2.0, 2.5, 3.0])), kernel=kernel,
            fwhm_xy={"soft": 1.3, "standard": 1.0, "sharp": 0.7}[kernel],
            fwhm_z=float(rng.uniform(1.5, 3.2)), noise_hu=float(rng.uniform(9, 20)),
            noise_grain=grain, kvp=int(rng.choice([100, 120])),
            delay_s=float(rng.uniform(55, 85)), hu_offset=float(rng.uniform(-5, 5)),
            risk_shift=float(rng.uniform(-0.3, 0.3)), weight=0.25,
        ))
    return sites


def _site_name(k: int) -> str:
    name = ""
    k += 1
    while k:
        k, r = divmod(k - 1, 26)
        name = chr(65 + r) + name
    return name


def draw_patients(n: int, sites: list[dict], rng):
    """Draw the latent truth, outcome, suspicion score, grade, survival and covariates.

    Grade, metastases at diagnosis and survival exist only for sarcomas (NaN for
    benign tumours); the AJCC stage needs the measured diameter and is set by
    :func:`ajcc_stage` after the images are drawn.

    Returns
    -------
    pandas.DataFrame
        One row per patient (``case_id``, ``site``, latent variables and clinical
        columns); images are drawn later from these values.
    """
    import pandas as pd
    from scipy.special import ndtr

    # every site gets one patient, the rest by weight (largest remainder)
    weights = np.array([s["weight"] for s in sites], dtype=float)
    share = weights / weights.sum() * (n - len(sites))
    counts = 1 + np.floor(share).astype(int)
    for k in np.argsort(-(share - np.floor(share)), kind="stable")[: n - counts.sum()]:
        counts[k] += 1
    site_idx = rng.permutation(np.repeat(np.arange(len(sites)), counts))

    e = rng.standard_normal((n, 11))
    u = rng.random((n, 4))
    risk = e[:, 0] + np.array([sites[k]["risk_shift"] for k in site_idx])
    het = ndtr(0.80 * risk + 0.60 * e[:, 1])
    nec = ndtr(0.70 * risk + 0.71 * e[:, 2])
    irr = ndtr(0.60 * risk + 0.80 * e[:, 3])
    size_z = 0.45 * risk + 0.89 * e[:, 4]
    volume = np.exp(np.log(60.0) * ndtr(size_z))  # 1-60 cm3

    # Outcome: the top 40% of a noisy risk score are sarcomas (exact prevalence).
    score = risk + 0.45 * e[:, 5]
    n_pos = int(round(_PREVALENCE * n))
    outcome = np.zeros(n, dtype=int)
    outcome[np.argsort(-score, kind="stable")[:n_pos]] = 1
    sarcoma = outcome == 1

    age = np.clip(np.round(52 + 5.0 * risk + 14.0 * e[:, 6]), 18, 90).astype(int)
    sex = np.where(u[:, 0] < ndtr(0.10 + 0.10 * risk), "M", "F")
    logits = np.column_stack([0.9 + 0.25 * risk, np.zeros(n), 0.5 - 0.10 * risk])
    prob = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    location = np.array(LOCATIONS)[(u[:, 1][:, None] > np.cumsum(prob, axis=1)[:, :2]).sum(axis=1)]

    # The radiologist's 5-point suspicion score, read before biopsy: a noisy
    # impression of the latent risk and of the lesion's size.
    impression = 0.70 * risk + 0.35 * size_z + 0.90 * e[:, 7]
    suspicion = 1 + np.digitize(impression, [-1.1, -0.35, 0.35, 1.1])

    # Sarcomas only: FNCLCC grade, metastases at diagnosis, sarcoma-specific survival.
    grade = np.where(sarcoma, 1 + np.digitize(0.8 * risk + 0.6 * e[:, 8], [0.35, 1.05]), np.nan)
    metastatic = np.where(sarcoma, (u[:, 2] < ndtr(-2.0 + 0.5 * risk)).astype(float), np.nan)
    diagnosed = 2015.0 + 9.0 * u[:, 3]  # consecutive patients diagnosed 2015-2023
    # Weibull proportional hazards, log-HR 0.9 per unit of latent risk and 0.02
    # per year of age; administrative censoring at the data lock.
    shape, median0 = 1.2, 250.0
    lam = median0 / np.log(2) ** (1 / shape)
    hazard = np.exp(0.9 * risk + 0.02 * (age - 52))
    t_event = lam * (-np.log(ndtr(e[:, 9])) / hazard) ** (1 / shape)
    t_cens = (_LOCK_YEAR - diagnosed) * 12.0
    event = np.where(sarcoma, (t_event <= t_cens).astype(float), np.nan)
    time = np.where(sarcoma, np.maximum(np.round(np.minimum(t_event, t_cens), 1), 0.5), np.nan)

    return pd.DataFrame({
        "case_id": [f"P{i + 1:03d}" for i in range(n)],
        "site": [sites[k]["site"] for k in site_idx],
        "site_index": site_idx,
        "latent_risk": risk, "heterogeneity": het, "necrosis": nec, "irregularity": irr,
        "target_volume_cm3": volume,
        "outcome": outcome, "age": age, "sex": sex, "location": location,
        "suspicion": suspicion.astype(int), "diagnosis_year": np.floor(diagnosed).astype(int),
        "grade": grade, "metastatic": metastatic, "time": time, "event": event,
    })


def ajcc_stage(diameter_mm, grade, metastatic):
    """AJCC 8th edition stage of a trunk / extremity soft-tissue sarcoma.

    T from the longest diameter (T1 <= 50 mm, T2 <= 100, T3 <= 150, T4 larger),
    FNCLCC ``grade`` 1-3, ``metastatic`` 1 for N1 or M1. Benign tumours (grade
    NaN) get an empty stage.

    Examples
    --------
    >>> ajcc_stage([42.0, 63.0, 63.0, 30.0], [1, 1, 3, 2], [0, 0, 0, 1]).tolist()
    ['IA', 'IB', 'IIIA', 'IV']
    """
    d = np.asarray(diameter_mm, dtype=float)
    g = np.asarray(grade, dtype=float)
    m = np.asarray(metastatic, dtype=float)
    t = 1 + np.digitize(d, [50.0, 100.0, 150.0], right=True)
    stage = np.where(g == 1, np.where(t == 1, "IA", "IB"),
                     np.where(t == 1, "II", np.where(t == 2, "IIIA", "IIIB")))
    stage = np.where(m == 1, "IV", stage).astype(object)
    stage[np.isnan(g)] = None
    return stage


def draw_genes(patients, rng):
    """Return a log2 expression table: ``case_id`` + ``GENE01`` ... ``GENE50``.

    The ten genes of :data:`GENE_MODULE` follow the (probit) heterogeneity with
    correlation about 0.6 each; five further genes form a second module linked to
    nothing in the images, the rest are independent.
    """
    import pandas as pd
    from scipy.special import ndtri

    n = len(patients)
    het_z = ndtri(np.clip(patients["heterogeneity"].to_numpy(), 1e-6, 1 - 1e-6))
    het_z = (het_z - het_z.mean()) / (het_z.std() or 1.0)
    other = rng.standard_normal(n)
    base = rng.uniform(5, 11, _N_GENES)
    sd = rng.uniform(0.5, 1.5, _N_GENES)
    names = [f"GENE{i + 1:02d}" for i in range(_N_GENES)]
    other_module = [g for g in names if g not in GENE_MODULE][5:10]
    data = {"case_id": patients["case_id"].to_numpy()}
    for j, g in enumerate(names):
        noise = rng.standard_normal(n)
        if g in GENE_MODULE:
            z = 0.65 * het_z + 0.76 * noise
        elif g in other_module:
            z = 0.6 * other + 0.8 * noise
        else:
            z = noise
        data[g] = np.round(base[j] + sd[j] * z, 3)
    return pd.DataFrame(data)


def _probit_z(values):
    from scipy.special import ndtri

    z = ndtri(np.clip(np.asarray(values, dtype=float), 1e-6, 1 - 1e-6))
    return (z - z.mean()) / (z.std() or 1.0)


def draw_immune(patients, rng):
    """Draw the immune microenvironment: CD8+ score, immune subtype and immune genes.

    Called with its own random stream, after everything else, so the rest of
    the cohort does not change. Intratumoral CD8+ infiltration follows texture
    heterogeneity, T cells held at the margin (stroma) follow margin
    irregularity; the top third by infiltration is *inflamed*, the rest
    *excluded* (stromal score above their median) or *desert*.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        ``immune`` (``case_id``, ``cd8_score``, ``immune_subtype``,
        ``infiltration``, ``stromal``) and ``immune_genes`` (``case_id`` +
        :data:`IMMUNE_MODULE`).
    """
    import pandas as pd

    n = len(patients)
    e = rng.standard_normal((n, 3))
    infiltration = 0.75 * _probit_z(patients["heterogeneity"]) + 0.66 * e[:, 0]
    stromal = 0.75 * _probit_z(patients["irregularity"]) + 0.66 * e[:, 1]
    cd8 = np.round(7.0 + infiltration + 0.3 * e[:, 2], 3)  # log2 CD8+ cells / mm2, measured
    subtype = np.full(n, IMMUNE_SUBTYPES[2], dtype=object)
    inflamed = np.zeros(n, dtype=bool)
    inflamed[np.argsort(-infiltration, kind="stable")[: int(round(n / 3))]] = True
    rest = np.flatnonzero(~inflamed)
    subtype[inflamed] = IMMUNE_SUBTYPES[0]
    subtype[rest[stromal[rest] > np.median(stromal[rest])]] = IMMUNE_SUBTYPES[1]
    ids = patients["case_id"].to_numpy()
    immune = pd.DataFrame({"case_id": ids, "cd8_score": cd8, "immune_subtype": subtype,
                           "infiltration": np.round(infiltration, 4),
                           "stromal": np.round(stromal, 4)})
    base = rng.uniform(6, 10, len(IMMUNE_MODULE))
    sd = rng.uniform(0.5, 1.2, len(IMMUNE_MODULE))
    z_inf = (infiltration - infiltration.mean()) / (infiltration.std() or 1.0)
    genes = {"case_id": ids}
    for j, g in enumerate(IMMUNE_MODULE):
        genes[g] = np.round(base[j] + sd[j] * (0.7 * z_inf + 0.71 * rng.standard_normal(n)), 3)
    return immune, pd.DataFrame(genes)
