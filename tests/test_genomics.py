"""radnb.genomics: the feature-by-gene screen, gene sets, molecular models, the immune demo."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from radnb import genomics as gx


def _tables(rng, n=37, n_feat=6, n_genes=40, ties=False):
    f = pd.DataFrame(rng.normal(size=(n, n_feat)), columns=[f"original_glcm_F{i}" for i in
                                                             range(n_feat)])
    g = pd.DataFrame(rng.normal(size=(n, n_genes)), columns=[f"G{i:02d}" for i in range(n_genes)])
    g.iloc[:, :5] += 0.8 * f.iloc[:, [0]].to_numpy()
    if ties:
        f = f.round(0)
        g = g.round(1)
    ids = [f"P{i:03d}" for i in range(n)]
    return f.assign(case_id=ids), g.assign(case_id=ids)


@pytest.mark.parametrize("ties", [False, True])
def test_spearman_and_bh_equal_scipy_and_statsmodels(rng, ties):
    f, g = _tables(rng, ties=ties)
    g = g.sample(frac=1, random_state=1)  # matched on case_id, not on row order
    res = gx.associate(f, g, fdr=0.1)
    assert len(res) == 6 * 40 and res.attrs["n_tests"] == 240
    ref = []
    for fc in [c for c in f.columns if c != "case_id"]:
        for gc in [c for c in g.columns if c != "case_id"]:
            r, p = stats.spearmanr(f[fc], g.set_index("case_id").loc[f["case_id"], gc])
            ref.append((fc, gc, r, p))
    ref = pd.DataFrame(ref, columns=["feature", "gene", "rho_ref", "p_ref"])
    ref["q_ref"] = multipletests(ref["p_ref"], method="fdr_bh")[1]
    m = res.astype({"feature": str, "gene": str}).merge(ref, on=["feature", "gene"])
    np.testing.assert_allclose(m["rho"], m["rho_ref"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(m["p"], m["p_ref"], rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(m["q"], m["q_ref"], rtol=1e-9)
    assert (m["significant"] == (m["q_ref"] < 0.1)).all()
    assert res["p"].is_monotonic_increasing


def test_pearson_equals_scipy(rng):
    f, g = _tables(rng, n=25, n_feat=3, n_genes=10)
    res = gx.associate(f, g, method="pearson").astype({"feature": str, "gene": str})
    for row in res.sample(8, random_state=0).itertuples():
        r, p = stats.pearsonr(f[row.feature], g[row.gene])
        assert row.rho == pytest.approx(r, abs=1e-12) and row.p == pytest.approx(p, rel=1e-9)


def test_bh_qvalues_function(rng):
    p = rng.uniform(size=500) ** 3
    np.testing.assert_allclose(gx.bh_qvalues(p), multipletests(p, method="fdr_bh")[1], rtol=1e-12)
    q = gx.bh_qvalues(np.array([0.01, np.nan, 0.02]))
    assert np.isnan(q[1]) and q[0] == pytest.approx(0.02)


def test_associate_clear_errors(rng):
    f, g = _tables(rng)
    with pytest.raises(ValueError, match="several rows for case_id"):
        gx.associate(pd.concat([f, f]), g)
    g2 = g.copy()
    g2.loc[3, "G01"] = np.nan
    with pytest.raises(ValueError, match="missing values"):
        gx.associate(f, g2)
    with pytest.raises(ValueError, match="share 0 case_id"):
        gx.associate(f, g.assign(case_id=[f"X{i}" for i in range(len(g))]))
    with pytest.raises(ValueError, match="method must be one of"):
        gx.associate(f, g, method="kendal")
    with pytest.raises(ValueError, match="missing column"):
        gx.associate(f.drop(columns="case_id"), g)


def test_constant_gene_gives_nan_not_a_discovery(rng):
    f, g = _tables(rng)
    res = gx.associate(f, g.assign(G00=1.0))
    const = res[res["gene"] == "G00"]
    assert const["p"].isna().all() and not const["significant"].any()
    assert res.attrs["n_tests"] == 6 * 39


def test_permutation_null_shows_multiplicity(rng):
    f, g = _tables(rng, n=60, n_feat=20, n_genes=100)
    null = gx.permutation_null(f, g, n_perm=10, seed=3)
    shuffled, observed = null[null["shuffled"]], null[~null["shuffled"]].iloc[0]
    # ~5 % of 2,000 null tests pass p < 0.05 by chance; FDR control keeps that near 0
    assert 50 < shuffled["raw_hits"].mean() < 150
    assert shuffled["fdr_hits"].mean() < 2
    assert observed["fdr_hits"] >= 4  # the planted links survive
    ax = gx.plot_permutation_null(null)
    assert len(ax.collections) == 4


def test_plot_association_top_k(rng):
    f, g = _tables(rng, n=50, n_feat=12, n_genes=60)
    res = gx.associate(f, g)
    grid = gx.plot_association(res, top_features=5, top_genes=8)
    assert grid.data2d.shape == (5, 8)
    marks = [t.get_text() for t in grid.ax_heatmap.texts]
    assert marks.count("*") == int(res.loc[res["feature"].isin(grid.data2d.index)
                                           & res["gene"].isin(grid.data2d.columns), "significant"].sum())


# -- gene sets -------------------------------------------------------------------------------

def test_demo_gmt_matches_the_planted_truth():
    from radnb.datasets._demo_clinical import GENE_MODULE, IMMUNE_MODULE

    sets = gx.read_gmt(gx.DEMO_GMT)
    assert tuple(sets["RADNB_DEMO_HETEROGENEITY_MODULE"]) == GENE_MODULE
    assert tuple(sets["RADNB_DEMO_IMMUNE_CD8_MODULE"]) == IMMUNE_MODULE
    names = [f"GENE{i + 1:02d}" for i in range(50)]
    assert sets["RADNB_DEMO_DECOY_MODULE"] == [g for g in names if g not in GENE_MODULE][5:10]
    assert (Path(gx.DEMO_GMT).parent / "README.md").read_text().count("CC BY") == 0  # spelled out
    assert "Creative Commons Attribution 4.0" in (Path(gx.DEMO_GMT).parent / "README.md").read_text()


def test_read_gmt_errors(tmp_path):
    bad = tmp_path / "x.gmt"
    bad.write_text("ONLY_A_NAME\n")
    with pytest.raises(ValueError, match="line 1 is not GMT"):
        gx.read_gmt(bad)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        gx.read_gmt(tmp_path / "missing.gmt")


def test_module_scores_zscore_and_ssgsea(rng):
    f, g = _tables(rng, n=40, n_genes=30)
    sets = {"LINKED": [f"G{i:02d}" for i in range(5)], "NOISE": [f"G{i:02d}" for i in range(10, 16)],
            "ABSENT": ["NOPE1", "NOPE2", "NOPE3"]}
    z = gx.module_scores(g, sets)
    X = g.set_index("case_id")[sets["LINKED"]]
    manual = ((X - X.mean()) / X.std()).mean(axis=1)
    np.testing.assert_allclose(z["LINKED"], manual.to_numpy(), rtol=1e-12)
    assert z.attrs["skipped"] == ["ABSENT"] and list(z.columns) == ["case_id", "LINKED", "NOISE"]
    ss = gx.module_scores(g, sets, method="ssgsea")
    assert list(ss["case_id"]) == list(g["case_id"])
    # both scores rank the patients alike on the coherent module
    assert stats.spearmanr(ss["LINKED"], z["LINKED"])[0] > 0.8
    gsva = gx.module_scores(g, sets, method="gsva")
    assert stats.spearmanr(gsva["LINKED"], z["LINKED"])[0] > 0.8


def _enrichment_score(ranking, genes):
    """Weighted (p = 1) Kolmogorov-Smirnov running sum of Subramanian et al., PNAS 2005."""
    hit = ranking.index.isin(genes)
    w = np.abs(ranking.to_numpy()) * hit
    step = np.where(hit, w / w.sum(), -1.0 / (len(ranking) - hit.sum()))
    run = np.cumsum(step)
    return run[np.argmax(np.abs(run))]


def test_gsea_prerank_es_matches_the_published_definition(rng):
    f, g = _tables(rng, n=60, n_feat=2, n_genes=80)
    sets = {"LINKED": [f"G{i:02d}" for i in range(5)] + ["G40", "G41"],
            "OTHER": [f"G{i:02d}" for i in range(50, 62)]}
    res = gx.gsea_prerank(f, g, "original_glcm_F0", sets, n_perm=200, seed=1)
    ranking = gx.rank_genes(f, g, "original_glcm_F0")
    for row in res.itertuples():
        assert row.ES == pytest.approx(_enrichment_score(ranking, sets[row.term]), abs=1e-4)
    top = res.iloc[0]
    assert top.term == "LINKED" and top.NES > 1.5 and top.p < 0.05 and top.n_genes == 7


# -- molecular models -----------------------------------------------------------------------

def _subtype_data(rng, n=150):
    X = rng.normal(size=(n, 6))
    logits = np.column_stack([2 * X[:, 0], -2 * X[:, 0] + 1.5 * X[:, 1], np.zeros(n)])
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = np.array(["inflamed", "excluded", "desert"])[(rng.random(n)[:, None] >
                                                      p.cumsum(axis=1)).sum(axis=1)]
    df = pd.DataFrame(X, columns=[f"original_firstorder_F{i}" for i in range(6)])
    return df.assign(case_id=[f"P{i}" for i in range(n)], subtype=y)


def test_subtype_model_macro_auc_and_confusion(rng):
    from sklearn.metrics import roc_auc_score

    df = _subtype_data(rng)
    res = gx.subtype_model(df, "subtype", n_boot=200)
    prob = res.oof[[f"p_{c}" for c in res.classes]].to_numpy()
    ref = roc_auc_score(res.oof["observed"], prob, multi_class="ovr", average="macro",
                        labels=res.classes)
    m = res.metrics.set_index("metric")
    assert m.loc["macro AUC (one-vs-rest)", "value"] == pytest.approx(ref, abs=1e-12)
    assert m.loc["macro AUC (one-vs-rest)", "ci_low"] < ref < m.loc["macro AUC (one-vs-rest)",
                                                                    "ci_high"]
    assert ref > 0.7
    assert res.confusion.to_numpy().sum() == len(df)
    assert np.trace(res.confusion.to_numpy()) / len(df) == pytest.approx(m.loc["accuracy", "value"])
    np.testing.assert_allclose(prob.sum(axis=1), 1.0)
    ax = gx.plot_confusion(res)
    assert len(ax.texts) == 9
    with pytest.raises(ValueError, match="rarest class"):
        gx.subtype_model(df.iloc[:12], "subtype", outer_cv=5)


def test_radscore_regression_r2_and_calibration(rng):
    from sklearn.metrics import r2_score

    X = rng.normal(size=(120, 8))
    df = pd.DataFrame(X, columns=[f"original_glcm_F{i}" for i in range(8)])
    df["cd8"] = 1.0 * X[:, 0] - 0.5 * X[:, 1] + rng.normal(scale=0.7, size=120)
    df["case_id"] = range(120)
    res = gx.radscore_regression(df, "cd8", n_boot=200)
    m = res.metrics.set_index("metric")["value"]
    assert m["R2 (out-of-fold)"] == pytest.approx(r2_score(res.oof["observed"],
                                                           res.oof["predicted"]), abs=1e-12)
    assert 0.5 < m["R2 (out-of-fold)"] < 0.8  # the truth: 1.25 / (1.25 + 0.49) = 0.72
    assert 0.8 < m["calibration slope"] < 1.3
    assert {"original_glcm_F0", "original_glcm_F1"} <= set(res.coefficients.index)
    assert gx.plot_regression_calibration(res).get_title().startswith("R²")


# -- demo cohort: immune microenvironment ---------------------------------------------------

# sha256 of a 5-patient, 2-site, seed-3 cohort: images + masks, manifest.csv,
# ground_truth.csv, genes.csv. The immune extension (commit 1e51501) left the files
# of the generator before it unchanged; the demo was then redesigned on purpose (issue
# 18: soft-tissue sarcoma scenario, protocol effects, anatomy), and these hashes were
# re-taken from that generator. A later extension must keep them.
_OTHER_FILES = {
    "images": "4cfbcda1973425e6d4eeea655520a4503843e0ba8dd80e71934b809714544e1d",
    "manifest.csv": "90b07f8ae55f172a570807a9143f5b2e618a3bf281e8ee06a68d1db9aad9ba25",
    "ground_truth.csv": "df540fa383cae9f2296b00d9f5a70bbf42052195058de208c04e3b17ce9c9573",
    "genes.csv": "801478e9602d01999af96091c33b9b426d7aa1daaa34311955114363f6c8c886",
}


def _other_file_hashes(folder):
    h = hashlib.sha256()
    for p in sorted(list((folder / "images").glob("*")) + list((folder / "masks").glob("*"))):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return {"images": h.hexdigest(), **{n: hashlib.sha256((folder / n).read_bytes()).hexdigest()
                                        for n in ("manifest.csv", "ground_truth.csv", "genes.csv")}}


@pytest.mark.slow
def test_immune_extension_is_strictly_additive(tmp_path, monkeypatch):
    from radnb.datasets import _demo_clinical
    from radnb.datasets._demo import make_demo_cohort

    make_demo_cohort(tmp_path / "with", n_patients=5, n_sites=2, seed=3)
    assert _other_file_hashes(tmp_path / "with") == _OTHER_FILES
    # the same cohort with an immune draw that eats its stream differently: nothing else moves
    real = _demo_clinical.draw_immune

    def greedy(patients, rng):
        rng.standard_normal(12345)
        return real(patients, rng)

    monkeypatch.setattr(_demo_clinical, "draw_immune", greedy)
    make_demo_cohort(tmp_path / "other", n_patients=5, n_sites=2, seed=3)
    assert _other_file_hashes(tmp_path / "other") == _OTHER_FILES
    assert ((tmp_path / "with" / "immune.csv").read_bytes()
            != (tmp_path / "other" / "immune.csv").read_bytes())
    tmp_path = tmp_path / "with"
    immune = pd.read_csv(tmp_path / "immune.csv")
    assert list(immune.columns) == ["case_id", "cd8_score", "immune_subtype", "infiltration",
                                    "stromal"]
    assert pd.read_csv(tmp_path / "immune_genes.csv").shape == (5, 9)


def test_immune_draw_follows_the_documented_model():
    from radnb.datasets._demo_clinical import (IMMUNE_MODULE, draw_immune, draw_patients,
                                               site_table)

    rng = np.random.default_rng([5, 0])
    p = draw_patients(3000, site_table(3, rng), rng)
    imm, genes = draw_immune(p, np.random.default_rng([5, 2]))
    imm2, genes2 = draw_immune(p, np.random.default_rng([5, 2]))
    pd.testing.assert_frame_equal(imm, imm2)
    pd.testing.assert_frame_equal(genes, genes2)
    counts = imm["immune_subtype"].value_counts()
    assert counts["inflamed"] == 1000 and abs(counts["excluded"] - counts["desert"]) <= 1
    rho = stats.spearmanr(imm["infiltration"], p["heterogeneity"])[0]
    assert 0.68 < rho < 0.8  # 0.75 by construction (Pearson of the probit scale)
    assert 0.68 < stats.spearmanr(imm["stromal"], p["irregularity"])[0] < 0.8
    assert 0.9 < np.corrcoef(imm["cd8_score"], imm["infiltration"])[0, 1] < 0.97
    by = imm.assign(h=p["heterogeneity"], r=p["irregularity"]).groupby("immune_subtype")
    assert by["h"].mean()["inflamed"] > by["h"].mean()["desert"]
    assert by["r"].mean()["excluded"] > by["r"].mean()["desert"]
    r_gene = genes[list(IMMUNE_MODULE)].corrwith(imm["infiltration"])
    assert r_gene.between(0.6, 0.8).all()


@pytest.mark.slow
def test_screen_recovers_the_planted_module_on_the_demo_cohort(data_home):
    from radnb.datasets import load_demo_features, load_demo_genes

    features = load_demo_features(data_home, progress=False)
    genes = load_demo_genes(data_home)
    module = set(gx.load_gene_sets("demo")["RADNB_DEMO_HETEROGENEITY_MODULE"])
    res = gx.associate(features, genes, fdr=0.05)
    hits = res[res["significant"]]
    planted = hits["gene"].astype(str).isin(module)
    assert set(hits.loc[planted, "gene"].astype(str)) == module  # all 10 found
    # few false positives: 50 of 759 significant pairs (6.6 %) with seed 0 when written
    assert (~planted).mean() < 0.10


# -- real data: EGFR from the NSCLC Radiogenomics radMLBench table ---------------------------

@pytest.mark.data
@pytest.mark.slow
def test_egfr_radscore_on_real_radmlbench_table(shared_data):
    from radnb.evaluate import roc_auc_ci
    from radnb.stats import radscore_model

    path = shared_data / "radmlbench" / "NSCLC-Radiogenomics.gz"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    table = pd.read_csv(path).rename(columns={"ID": "case_id"})
    assert table.shape == (144, 107) and int(table["Target"].sum()) == 23
    cols = [c for c in table.columns if c not in ("case_id", "Target")]
    res = radscore_model(table, "Target", columns=cols, outer_cv=5, inner_cv=3, seed=0)
    assert len(res.oof) == 144 and len(res.folds) == 5
    auc = roc_auc_ci(res.oof["outcome"], res.oof["probability"]).iloc[0]
    assert 0.3 < auc["AUC"] < 0.95 and auc["ci_low"] < auc["AUC"] < auc["ci_high"]


def test_hallmark_gene_sets_read_locally_and_offline_message(tmp_path, monkeypatch):
    """fetch_hallmark_gene_sets reads <data home>/msigdb, downloads atomically, says where offline."""
    import urllib.error
    import urllib.request

    from radnb.genomics import HALLMARK_VERSION, fetch_hallmark_gene_sets

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(FileNotFoundError, match=r"msigdb.*h\.all\.v2023\.2\.Hs\.symbols\.gmt"):
        fetch_hallmark_gene_sets(tmp_path)
    assert not list((tmp_path / "msigdb").glob("*")), "a failed download must leave no file behind"
    with pytest.raises(FileNotFoundError, match="Download https://"):
        fetch_hallmark_gene_sets(tmp_path, download=False)

    gmt = tmp_path / "msigdb" / f"h.all.v{HALLMARK_VERSION}.symbols.gmt"
    gmt.write_text("HALLMARK_HYPOXIA\thttps://x\tADM\tADORA2B\tAK4\n"
                   "HALLMARK_INTERFERON_GAMMA_RESPONSE\thttps://x\tCXCL9\tCXCL10\tSTAT1\n")
    sets = fetch_hallmark_gene_sets(tmp_path)
    assert sets == {"HALLMARK_HYPOXIA": ["ADM", "ADORA2B", "AK4"],
                    "HALLMARK_INTERFERON_GAMMA_RESPONSE": ["CXCL9", "CXCL10", "STAT1"]}

    gmt.write_text("RADNB_DEMO_X\tdesc\tA\tB\n")
    with pytest.raises(ValueError, match="not the MSigDB Hallmark collection"):
        fetch_hallmark_gene_sets(tmp_path)
    with pytest.raises(ValueError, match="human MSigDB release"):
        fetch_hallmark_gene_sets(tmp_path, version="2023.2.Mm")
