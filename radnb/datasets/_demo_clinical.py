"""Demo cohort, part 1: the patients' hidden truth and their clinical table.

Everything observable in the demo cohort is driven by one latent variable per
patient, the *latent risk* (standard normal; higher = more aggressive tumour).
This module draws it, the three imaging traits it drives (texture
heterogeneity, necrotic core, margin irregularity), the outcome, survival,
clinical covariates and the gene-expression table. The images are drawn from
these values by :mod:`radnb.datasets._demo_image`; the strengths are documented in
``docs/demo-cohort.md``.
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "SITE_PRESETS", "site_table", "draw_patients", "draw_genes", "GENE_MODULE", "draw_immune",
    "IMMUNE_MODULE", "IMMUNE_SUBTYPES",
]

# Scanner settings per site: in-plane pixel size and slice thickness (mm), the
# reconstruction blur (FWHM in mm, in-plane / along z), the noise SD (HU), a
# calibration error (HU = scale * true HU + offset) and a shift of the case mix
# (added to the latent risk, so the outcome is mildly imbalanced across sites).
SITE_PRESETS = (
    dict(site="A", pixel_mm=0.85, slice_mm=2.0, fwhm_xy=1.0, fwhm_z=2.0, noise_hu=10.0,
         hu_scale=1.00, hu_offset=0.0, risk_shift=0.0, weight=0.40),
    dict(site="B", pixel_mm=0.98, slice_mm=3.0, fwhm_xy=1.6, fwhm_z=3.2, noise_hu=18.0,
         hu_scale=1.06, hu_offset=12.0, risk_shift=0.30, weight=0.35),
    dict(site="C", pixel_mm=0.75, slice_mm=2.5, fwhm_xy=0.8, fwhm_z=2.5, noise_hu=14.0,
         hu_scale=0.95, hu_offset=-8.0, risk_shift=-0.25, weight=0.25),
)

# Genes of the imaging-linked module (their expression follows heterogeneity).
GENE_MODULE = tuple(f"GENE{i:02d}" for i in (3, 7, 11, 14, 19, 23, 28, 33, 41, 46))
# Genes of the immune (CD8+ T-cell) module; drawn from their own random stream.
IMMUNE_MODULE = tuple(f"IMMUNE{i:02d}" for i in range(1, 9))
IMMUNE_SUBTYPES = ("inflamed", "excluded", "desert")
_N_GENES = 50
_PREVALENCE = 0.40


def site_table(n_sites: int, rng) -> list[dict]:
    """Return ``n_sites`` scanner settings: the presets, then random ones."""
    sites = [dict(p) for p in SITE_PRESETS[:n_sites]]
    for k in range(len(sites), n_sites):
        sites.append(dict(
            site=_site_name(k), pixel_mm=float(rng.uniform(0.7, 1.0)),
            slice_mm=float(rng.choice([1.5, 2.0, 2.5, 3.0])), fwhm_xy=float(rng.uniform(0.8, 1.6)),
            fwhm_z=float(rng.uniform(1.5, 3.2)), noise_hu=float(rng.uniform(9, 20)),
            hu_scale=float(rng.uniform(0.94, 1.06)), hu_offset=float(rng.uniform(-12, 12)),
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
    """Draw the latent truth, outcome, survival and clinical covariates.

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

    e = rng.standard_normal((n, 9))
    risk = e[:, 0] + np.array([sites[k]["risk_shift"] for k in site_idx])
    het = ndtr(0.80 * risk + 0.60 * e[:, 1])
    nec = ndtr(0.70 * risk + 0.71 * e[:, 2])
    irr = ndtr(0.60 * risk + 0.80 * e[:, 3])
    volume = np.exp(np.log(60.0) * ndtr(0.35 * risk + 0.94 * e[:, 4]))  # 1-60 cm3

    # Outcome: the top 40% of a noisy risk score are malignant (exact prevalence).
    score = risk + 0.45 * e[:, 5]
    n_pos = int(round(_PREVALENCE * n))
    outcome = np.zeros(n, dtype=int)
    outcome[np.argsort(-score, kind="stable")[:n_pos]] = 1

    age = np.clip(np.round(63 + 4.0 * risk + 9.0 * e[:, 6]), 35, 89).astype(int)
    sex = np.where(rng.random(n) < ndtr(0.15 + 0.15 * risk), "M", "F")
    smoke_p = np.column_stack([np.full(n, 0.0), 0.3 + 0.4 * risk, -0.6 + 0.8 * risk])
    smoke_p = np.exp(smoke_p) / np.exp(smoke_p).sum(axis=1, keepdims=True)
    smoking = np.array(["never", "former", "current"])[
        (rng.random(n)[:, None] > np.cumsum(smoke_p, axis=1)).sum(axis=1)
    ]
    stage_score = 0.9 * risk + 0.5 * np.log(volume) / np.log(60) * 2 - 0.5 + 0.6 * e[:, 7]
    stage = np.array(["I", "II", "III", "IV"])[np.digitize(stage_score, [-0.6, 0.1, 0.8])]

    # Survival (months): Weibull proportional hazards, log-HR 0.9 per SD of latent
    # risk; administrative censoring after 24-84 months of follow-up.
    shape, median0 = 1.3, 40.0
    lam = median0 / np.log(2) ** (1 / shape)
    t_event = lam * (-np.log(rng.random(n)) / np.exp(0.9 * risk + 0.02 * (age - 63))) ** (1 / shape)
    t_cens = rng.uniform(24, 84, n)
    event = (t_event <= t_cens).astype(int)
    time = np.maximum(np.round(np.minimum(t_event, t_cens), 1), 0.5)

    return pd.DataFrame({
        "case_id": [f"P{i + 1:03d}" for i in range(n)],
        "site": [sites[k]["site"] for k in site_idx],
        "site_index": site_idx,
        "latent_risk": risk, "heterogeneity": het, "necrosis": nec, "irregularity": irr,
        "target_volume_cm3": volume,
        "outcome": outcome, "time": time, "event": event,
        "age": age, "sex": sex, "smoking": smoking, "stage": stage,
    })


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
