"""Evaluation statistics against published values and established implementations."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radnb import evaluate as ev


@pytest.fixture(scope="module")
def asah(reference_dir):
    df = pd.read_csv(reference_dir / "delong" / "aSAH.csv")
    return df.assign(y=(df["outcome"] == "Poor").astype(int))


# --- ROC ---------------------------------------------------------------------------

@pytest.mark.data
@pytest.mark.parametrize("marker, auc, low, high", [
    ("s100b", 0.7314, 0.6301, 0.8326),  # pROC: roc(aSAH$outcome, aSAH$s100b); ci.auc (DeLong)
    ("ndka", 0.6120, 0.5012, 0.7227),   # pROC: roc(aSAH$outcome, aSAH$ndka)
])
def test_auc_delong_ci_matches_proc(asah, marker, auc, low, high):
    """Published with pROC (Robin et al. 2011, BMC Bioinformatics 12:77), aSAH data."""
    r = ev.roc_auc_ci(asah["y"], asah[marker]).iloc[0]
    assert r["AUC"] == pytest.approx(auc, abs=5e-5)
    assert r["ci_low"] == pytest.approx(low, abs=5e-5)
    assert r["ci_high"] == pytest.approx(high, abs=5e-5)
    assert list(r["CI95%"]) == [r["ci_low"], r["ci_high"]]


def test_delong_test_of_two_scores_that_rank_alike_gives_z_0_p_1():
    """pROC's delong.paired.test sets z = 0 when the AUCs are equal and the variance of their
    difference is 0 (its NaN special case), so roc.test reports p = 1: identical rankings (the same
    score, or a monotone transform, as a LASSO picking the same features produces) are no
    difference, not a failed test."""
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 80)
    s = rng.normal(size=80) + y
    for other in (s, 2 * s + 1, np.exp(s)):
        r = ev.delong_test(y, s, other).iloc[0]
        assert r["diff"] == 0 and r["SE"] == 0
        assert r["z"] == 0 and r["p-val"] == 1


@pytest.mark.data
@pytest.mark.parametrize("a, b, z, p", [
    ("ndka", "s100b", -1.3908, 0.1643),  # pROC roc.test(roc(ndka), roc(s100b)), DeLong paired
    ("wfns", "s100b", 2.2090, 0.0272),   # pROC roc.test(roc(wfns), roc(s100b))
])
def test_paired_delong_test_matches_proc(asah, a, b, z, p):
    r = ev.delong_test(asah["y"], asah[a], asah[b]).iloc[0]
    assert r["z"] == pytest.approx(z, abs=5e-5)
    assert r["p-val"] == pytest.approx(p, abs=5e-5)
    assert r["diff"] == pytest.approx(r["AUC_a"] - r["AUC_b"])


@pytest.mark.data
def test_auc_equals_sklearn_and_bootstrap_ci_is_close_to_delong(asah):
    from sklearn.metrics import roc_auc_score

    y, s = asah["y"], asah["s100b"]
    boot = ev.roc_auc_ci(y, s, method="bootstrap", n_boot=2000, seed=1).iloc[0]
    assert boot["AUC"] == pytest.approx(roc_auc_score(y, s))
    # the percentile interval of 2000 stratified resamples agrees with DeLong to ~0.02
    assert boot["ci_low"] == pytest.approx(0.6301, abs=0.025)
    assert boot["ci_high"] == pytest.approx(0.8326, abs=0.025)
    again = ev.roc_auc_ci(y, s, method="bootstrap", n_boot=2000, seed=1).iloc[0]
    assert again["ci_low"] == boot["ci_low"]  # seeded


def test_delong_variance_equals_brute_force_structural_components(rng):
    """DeLong (1988) eq. via the O(m n) placement values, against the fast Sun & Xu form."""
    from radnb._utils import roc as _roc

    y = rng.integers(0, 2, 60)
    s = np.round(rng.normal(size=60) + y, 1)  # ties on purpose
    pos, neg = s[y == 1], s[y == 0]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    var = v10.var(ddof=1) / pos.size + v01.var(ddof=1) / neg.size
    auc, cov = _roc.delong(pos[None], neg[None])
    assert auc[0] == pytest.approx(psi.mean())
    assert cov[0, 0] == pytest.approx(var)


def test_optimal_threshold_is_the_brute_force_youden_maximum(rng):
    y = rng.integers(0, 2, 80)
    s = rng.normal(size=80) + y
    best = max(((s[y == 1] >= t).mean() + (s[y == 0] < t).mean() - 1, t) for t in s)
    r = ev.optimal_threshold(y, s).iloc[0]
    assert r["youden_J"] == pytest.approx(best[0])
    assert r["sensitivity"] == pytest.approx((s[y == 1] >= r["threshold"]).mean())


@pytest.mark.parametrize("method, sm_method", [("wilson", "wilson"), ("clopper-pearson", "beta")])
def test_diagnostic_metrics_cis_match_statsmodels(rng, method, sm_method):
    """Wilson (1927) and Clopper-Pearson (1934) against statsmodels' proportion_confint."""
    from statsmodels.stats.proportion import proportion_confint

    y = rng.integers(0, 2, 70)
    s = rng.normal(size=70) + y
    dm = ev.diagnostic_metrics(y, s, 0.5, method=method).set_index("metric")
    tp = int(((s >= 0.5) & (y == 1)).sum())
    assert dm.loc["sensitivity", "count"] == tp and dm.loc["sensitivity", "n"] == y.sum()
    for metric, row in dm.iterrows():
        low, high = proportion_confint(row["count"], row["n"], alpha=0.05, method=sm_method)
        assert row["ci_low"] == pytest.approx(low, abs=1e-10), metric
        assert row["ci_high"] == pytest.approx(high, abs=1e-10), metric


def test_roc_input_validation():
    with pytest.raises(ValueError, match="only one class"):
        ev.roc_auc_ci([1, 1, 1], [0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match="method must be one of"):
        ev.roc_auc_ci([0, 1], [0.2, 0.3], method="hanley")
    with pytest.raises(ValueError, match="0 and 1"):
        ev.roc_auc_ci([0, 2], [0.2, 0.3])


# --- calibration -------------------------------------------------------------------

@pytest.fixture
def calib_data(rng):
    lp = rng.normal(-0.5, 1.5, 400)
    y = rng.binomial(1, 1 / (1 + np.exp(-(0.3 + 0.7 * lp))))  # miscalibrated on purpose
    return y, 1 / (1 + np.exp(-lp))


def test_calibration_intercept_slope_match_statsmodels(calib_data):
    """Logistic recalibration (Cox 1958; Van Calster 2016) against statsmodels Logit."""
    import statsmodels.api as sm

    y, p = calib_data
    lp = np.log(p / (1 - p))
    s = ev.calibration(y, p).summary.set_index("measure")
    slope_fit = sm.Logit(y, sm.add_constant(lp)).fit(disp=0)
    cal_large = sm.GLM(y, np.ones((y.size, 1)), family=sm.families.Binomial(), offset=lp).fit()
    assert s.loc["slope", "statistic"] == pytest.approx(slope_fit.params[1], rel=1e-8)
    assert s.loc["slope", "SE"] == pytest.approx(slope_fit.bse[1], rel=1e-6)
    assert s.loc["intercept", "statistic"] == pytest.approx(cal_large.params[0], rel=1e-8)
    assert s.loc["intercept", "SE"] == pytest.approx(cal_large.bse[0], rel=1e-6)
    lo, hi = slope_fit.conf_int()[1]
    assert (s.loc["slope", "ci_low"], s.loc["slope", "ci_high"]) == pytest.approx((lo, hi))
    assert s.loc["slope", "statistic"] == pytest.approx(0.7, abs=0.2)  # the planted slope


def test_brier_and_hosmer_lemeshow_against_independent_computation(calib_data):
    """Brier vs scikit-learn; HL = sum_g (O_g - E_g)^2 / (E_g (1 - E_g / n_g)), chi2 df g - 2
    (Hosmer & Lemeshow 1980; Hosmer, Lemeshow & Sturdivant 2013, eq. 5.8)."""
    from scipy.stats import chi2
    from sklearn.metrics import brier_score_loss

    y, p = calib_data
    res = ev.calibration(y, p, n_bins=10)
    s = res.summary.set_index("measure")
    assert s.loc["Brier", "statistic"] == pytest.approx(brier_score_loss(y, p))
    order = np.argsort(p)
    hl = 0.0
    for g in np.array_split(order, 10):  # 400 distinct risks: deciles of 40 patients
        o, e, n = y[g].sum(), p[g].sum(), g.size
        hl += (o - e) ** 2 / (e * (1 - e / n))
    assert s.loc["Hosmer-Lemeshow", "statistic"] == pytest.approx(hl, rel=1e-10)
    assert s.loc["Hosmer-Lemeshow", "p-val"] == pytest.approx(chi2.sf(hl, 8))
    c = res.curve
    assert c["n"].tolist() == [40] * 10
    assert (c["ci_low"] <= c["observed"]).all() and (c["observed"] <= c["ci_high"]).all()


def test_well_calibrated_predictions_have_slope_one(rng):
    p = rng.uniform(0.02, 0.98, 3000)
    y = rng.binomial(1, p)
    s = ev.calibration(y, p).summary.set_index("measure")
    assert s.loc["slope", "ci_low"] < 1 < s.loc["slope", "ci_high"]
    assert s.loc["intercept", "ci_low"] < 0 < s.loc["intercept", "ci_high"]


# --- decision curves ---------------------------------------------------------------

def _merge_r(ours, ref):
    ref = ref.replace({"variable": {"all": "Treat All", "none": "Treat None"}})
    ref = ref.assign(t=ref["threshold"].round(4))
    ours = ours.assign(t=ours["threshold"].round(4))
    m = ref.merge(ours, left_on=["variable", "t"], right_on=["model", "t"], suffixes=("_r", ""))
    assert len(m) == len(ref)
    return m


@pytest.mark.data
def test_decision_curve_matches_r_dcurves_famhistory(reference_dir):
    """R dcurves: dca(cancer ~ famhistory, df_binary, thresholds = seq(0, 0.99, 0.01))."""
    d = reference_dir / "dca"
    df = pd.read_csv(d / "df_binary.csv")
    ref = pd.read_csv(d / "r_case1_results.csv")
    y = df["cancer"].astype(str).str.upper().eq("TRUE").astype(int)
    ours = ev.decision_curve(y, {"famhistory": df["famhistory"]}, np.arange(0, 1, 0.01))
    m = _merge_r(ours, ref)
    for col in ("pos_rate", "test_pos_rate", "tp_rate", "fp_rate", "net_benefit"):
        np.testing.assert_allclose(m[col], m[f"{col}_r"], atol=1e-12, err_msg=col)
    finite = np.isfinite(m["net_intervention_avoided_r"])
    np.testing.assert_allclose(m.loc[finite, "net_intervention_avoided"],
                               m.loc[finite, "net_intervention_avoided_r"], atol=1e-10)
    at10 = ours[(ours.threshold.round(2) == 0.10)].set_index("model")["net_benefit"]
    assert at10["famhistory"] == pytest.approx(0.0185185, abs=1e-7)
    assert at10["Treat All"] == pytest.approx(0.0444444, abs=1e-7)


@pytest.mark.data
def test_decision_curve_with_harm_matches_r_dcurves(reference_dir):
    """R dcurves case 3: cancer ~ marker (logistic risk), harm = 0.0333."""
    import statsmodels.api as sm

    d = reference_dir / "dca"
    df = pd.read_csv(d / "df_cancer_dx.csv")
    ref = pd.read_csv(d / "r_case3_results.csv")
    risk = sm.Logit(df["cancer"], sm.add_constant(df["marker"])).fit(disp=0).predict()
    thresholds = np.sort(ref["threshold"].unique())
    ours = ev.decision_curve(df["cancer"], {"marker": risk}, thresholds, harm={"marker": 0.0333})
    m = _merge_r(ours, ref)
    for col in ("tp_rate", "fp_rate", "harm", "net_benefit"):
        np.testing.assert_allclose(m[col], m[f"{col}_r"], atol=1e-9, err_msg=col)


def test_decision_curve_validation():
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        ev.decision_curve([0, 1], [0.2, 0.3], thresholds=[0.5, 1.0])


# --- survival ----------------------------------------------------------------------

@pytest.fixture
def surv_data(rng):
    n = 150
    score = rng.normal(size=n)
    age = rng.normal(60, 8, n)
    t_event = rng.exponential(24 * np.exp(-0.7 * score))
    t_cens = rng.uniform(6, 60, n)
    return pd.DataFrame({"time": np.minimum(t_event, t_cens),
                         "event": (t_event <= t_cens).astype(int), "score": score, "age": age,
                         "group": np.where(score > np.median(score), "high", "low")})


def test_kaplan_meier_logrank_and_at_risk_match_lifelines(surv_data):
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import logrank_test

    d = surv_data
    km = ev.kaplan_meier(d["time"], d["event"], d["group"], times=[0, 12, 24])
    hi, lo = d[d.group == "high"], d[d.group == "low"]
    lr = logrank_test(hi.time, lo.time, hi.event, lo.event)
    assert km.logrank["p-val"].iloc[0] == pytest.approx(lr.p_value)
    assert km.logrank["p-val"].iloc[0] < 0.01  # planted HR exp(0.7 * score)
    ar = km.at_risk.set_index(["group", "time"])["at_risk"]
    assert ar["high", 12] == (hi.time >= 12).sum() and ar["low", 0] == len(lo)
    kmf = KaplanMeierFitter().fit(hi.time, hi.event)
    s = km.survival[km.survival.group == "high"]
    np.testing.assert_allclose(s["survival"], kmf.survival_function_.iloc[:, 0])
    # product-limit estimate by hand at the median time (Kaplan & Meier 1958)
    t_mid = np.median(hi.time)
    ev_times = np.sort(hi.time[(hi.event == 1) & (hi.time <= t_mid)].unique())
    hand = np.prod([1 - ((hi.time == u) & (hi.event == 1)).sum() / (hi.time >= u).sum()
                    for u in ev_times])
    assert s[s.time <= t_mid]["survival"].iloc[-1] == pytest.approx(hand)


def test_cox_model_hazard_ratio_and_c_index_by_hand(surv_data):
    """C-index = Harrell (1982): concordant / comparable pairs, ties in risk count 1/2."""
    res = ev.cox_model(surv_data, "time", "event", ["score", "age"])
    row = res.summary.set_index("covariate").loc["score"]
    assert row["HR"] == pytest.approx(np.exp(0.7), rel=0.35)
    assert row["ci_low"] < row["HR"] < row["ci_high"] and row["p-val"] < 1e-4
    assert row["HR"] == pytest.approx(np.exp(row["coef"]))
    risk = surv_data[["score", "age"]].to_numpy() @ res.summary["coef"].to_numpy()
    t, e = surv_data["time"].to_numpy(), surv_data["event"].to_numpy()
    conc = comp = 0.0
    for i in range(t.size):
        if not e[i]:
            continue
        later = t > t[i]
        comp += later.sum()
        conc += (risk[i] > risk[later]).sum() + 0.5 * (risk[i] == risk[later]).sum()
    assert res.c_index == pytest.approx(conc / comp, abs=1e-12)


def test_survival_validation(surv_data):
    with pytest.raises(ValueError, match="continuous"):
        ev.kaplan_meier(surv_data["time"], surv_data["event"], surv_data["score"])
    with pytest.raises(ValueError, match="missing column"):
        ev.cox_model(surv_data, "time", "event", ["nope"])


# --- plots -------------------------------------------------------------------------

def test_plots_are_axes_level_and_labelled(calib_data, surv_data):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    y, p = calib_data
    fig, axes = plt.subplots(1, 4)
    assert ev.plot_roc(y, {"model": p}, ax=axes[0], n_boot=50) is axes[0]
    assert ev.plot_calibration(y, p, ax=axes[1]) is axes[1]
    assert ev.plot_decision_curve(y, {"model": p}, ax=axes[2]) is axes[2]
    assert ev.plot_kaplan_meier(surv_data.time, surv_data.event, surv_data.group,
                                ax=axes[3]) is axes[3]
    for ax in axes:
        assert ax.get_xlabel() and ax.get_ylabel() and "(" in ax.get_xlabel()
    plt.close(fig)


def test_kaplan_meier_plot_prints_p_as_journals_do(surv_data):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = surv_data
    p = ev.kaplan_meier(d.time, d.event, d.group).logrank["p-val"].iloc[0]
    ax = ev.plot_kaplan_meier(d.time, d.event, d.group, at_risk=False)
    text = [t.get_text() for t in ax.texts if "log-rank" in t.get_text()]
    assert text == ["log-rank p < 0.001" if p < 0.001 else f"log-rank p = {p:.3f}"]
    # a weak split (first half vs second half of a random order): p >= 0.001, 3 decimals
    half = np.where(np.random.default_rng(1).permutation(len(d)) < len(d) // 2, "a", "b")
    p2 = ev.kaplan_meier(d.time, d.event, half).logrank["p-val"].iloc[0]
    ax = ev.plot_kaplan_meier(d.time, d.event, half, at_risk=False)
    assert p2 >= 0.001 and f"log-rank p = {p2:.3f}" in [t.get_text() for t in ax.texts]
    plt.close("all")


# --- external validation -----------------------------------------------------------

def _multisite(rng, n=80):
    rows = []
    for site, shift in (("A", 0.0), ("B", 1.5), ("C", -3.0)):
        y = rng.integers(0, 2, n)
        x = rng.normal(size=(n, 3))
        x[:, 0] += 1.2 * y
        # site C shrinks the signal feature and inflates a noise feature
        x = x * (np.array([0.3, 4.0, 1.0]) if site == "C" else 1.0) + shift
        rows.append(pd.DataFrame({"site": site, "outcome": y, **{
            f"original_firstorder_F{j}": x[:, j] for j in range(3)}}))
    return pd.concat(rows, ignore_index=True)


def test_external_validation_table_and_harmonisation_helps(rng):
    df = _multisite(rng)
    table = ev.external_validation(df, "outcome", test_site="C", model="logistic")
    assert set(table.columns) >= {"test_site", "harmonized", "validation", "n", "AUC",
                                  "ci_low", "ci_high", "error"}
    assert len(table) == 4 and (table["error"] == "").all()
    ext = table[table.validation == "external"].set_index("harmonized")["AUC"]
    internal = table[table.validation != "external"]["AUC"]
    assert (internal > 0.7).all()
    assert ext[True] > 0.7 and ext[True] > ext[False] + 0.1
    cal = table[table.validation == "external"].set_index("harmonized")["calibration_intercept"]
    assert abs(cal[True]) < abs(cal[False])  # a shifted site is miscalibrated
    loso = ev.external_validation(df, "outcome", harmonize=True, model="logistic")
    assert sorted(loso["test_site"].unique()) == ["A", "B", "C"]


def test_external_validation_error_row_names_cause(rng):
    df = _multisite(rng)
    df.loc[df.site == "B", "outcome"] = 1
    table = ev.external_validation(df, "outcome", test_site="B", harmonize=False)
    bad = table[table.validation == "external"].iloc[0]
    assert np.isnan(bad["AUC"]) and "one class" in bad["error"]
    assert table[table.validation != "external"]["AUC"].notna().all()
    with pytest.raises(ValueError, match="test_site 'Z'"):
        ev.external_validation(df, "outcome", test_site="Z")


# --- issue 10: edge cases found on real data ------------------------------------------

def test_auc_with_one_case_per_class_has_nan_ci_and_warns():
    with pytest.warns(UserWarning, match="1 positive and 1 negative"):
        r = ev.roc_auc_ci([0, 1], [0.2, 0.7]).iloc[0]
    assert r["AUC"] == 1.0 and np.isnan(r["SE"])
    assert np.isnan(r["ci_low"]) and np.isnan(r["ci_high"])  # before: [0, 1]
    with pytest.warns(UserWarning, match="at least 2 of each"):
        b = ev.roc_auc_ci([0, 1, 1], [0.2, 0.7, 0.1], method="bootstrap").iloc[0]
    assert b["AUC"] == 0.5 and np.isnan(b["ci_low"])


def test_bootstrap_ci_does_not_compute_delong_variance(monkeypatch, rng):
    from radnb.evaluate import _diagnostic

    def boom(*args):
        raise AssertionError("DeLong variance computed for method='bootstrap'")

    monkeypatch.setattr(_diagnostic.roc_core, "delong", boom)
    y = np.repeat([0, 1], 30)
    r = ev.roc_auc_ci(y, y + rng.normal(size=60), method="bootstrap", n_boot=200).iloc[0]
    assert r["SE"] > 0 and r["ci_low"] < r["AUC"] < r["ci_high"]


def test_one_convention_for_confidence_level_ci_column_and_p_value(rng):
    y = np.repeat([0, 1], 40)
    s = y + rng.normal(size=80)
    r90 = ev.roc_auc_ci(y, s, confidence=0.9)
    assert "CI90%" in r90 and isinstance(r90["CI90%"].iloc[0], np.ndarray)
    with pytest.warns(FutureWarning, match="confidence=0.9"):
        old = ev.roc_auc_ci(y, s, alpha=0.1)
    assert old["ci_low"].item() == pytest.approx(r90["ci_low"].item())
    assert "CI90%" in ev.delong_test(y, s, -s, confidence=0.9)
    dm = ev.diagnostic_metrics(y, s, 0.5, confidence=0.9)
    assert "CI90%" in dm and list(dm["CI90%"].iloc[0]) == [dm["ci_low"][0], dm["ci_high"][0]]
    cal = ev.calibration(y, np.clip(1 / (1 + np.exp(-s)), 0.01, 0.99), confidence=0.9).summary
    assert "CI90%" in cal and "p-val" in cal
    from radnb import reproducibility as rep

    icc = rep.icc(pd.DataFrame({"c": [1, 2, 3, 4] * 2, "r": [1] * 4 + [2] * 4,
                                "v": [1.0, 2, 3, 4.5, 1.1, 2.2, 2.9, 4.4]}), "c", "r", "v",
                  confidence=0.9)
    assert "p-val" in icc and "CI90%" in icc


def test_calibration_saturated_risks_are_clipped_with_a_note(rng):
    """Before: plain Newton steps diverged ("Singular matrix") when ~10% of risks were 0 or 1."""
    import statsmodels.api as sm

    n = 400
    lp = rng.normal(0, 3, n)
    y = rng.binomial(1, 1 / (1 + np.exp(-lp)))
    p = 1 / (1 + np.exp(-lp))
    p[:40] = np.where(y[:40] == 1, 1.0, 0.0)  # saturated, on the right side
    with pytest.warns(UserWarning, match="40 of 400 risks were 0 or 1"):
        s = ev.calibration(y, p).summary.set_index("measure")
    assert "clipped" in s.loc["slope", "note"]
    # same estimates as statsmodels' binomial GLM on the clipped risks
    pc = np.clip(p, 1e-8, 1 - 1e-8)
    lpc = np.log(pc / (1 - pc))
    glm = sm.GLM(y, sm.add_constant(lpc), family=sm.families.Binomial()).fit()
    assert s.loc["slope", "statistic"] == pytest.approx(glm.params[1], rel=1e-6)
    assert s.loc["slope", "SE"] == pytest.approx(glm.bse[1], rel=1e-5)
    off = sm.GLM(y, np.ones((n, 1)), family=sm.families.Binomial(), offset=lpc).fit()
    assert s.loc["intercept", "statistic"] == pytest.approx(off.params[0], rel=1e-6)


def test_calibration_separation_gives_nan_slope_and_warning_not_an_exception():
    y = np.array([0] * 20 + [1] * 20)
    p = np.r_[np.linspace(0.05, 0.4, 20), np.linspace(0.6, 0.95, 20)]
    with pytest.warns(UserWarning, match="separation"):
        s = ev.calibration(y, p).summary.set_index("measure")
    assert np.isnan(s.loc["slope", "statistic"]) and "separation" in s.loc["slope", "note"]
    assert np.isfinite(s.loc["intercept", "statistic"]) and np.isfinite(s.loc["Brier", "statistic"])


def test_hosmer_lemeshow_df_for_external_sample(calib_data):
    """Hosmer, Lemeshow & Sturdivant (2013), section 5.2.2: g df on a new sample, g - 2 on the
    development sample."""
    from scipy.stats import chi2

    y, p = calib_data
    dev = ev.calibration(y, p).summary.set_index("measure").loc["Hosmer-Lemeshow"]
    ext = ev.calibration(y, p, sample="external").summary.set_index("measure")
    ext = ext.loc["Hosmer-Lemeshow"]
    assert dev["df"] == 8 and ext["df"] == 10 and ext["statistic"] == dev["statistic"]
    assert ext["p-val"] == pytest.approx(chi2.sf(ext["statistic"], 10))
    with pytest.raises(ValueError, match="sample must be one of"):
        ev.calibration(y, p, sample="validation")


def test_decision_curve_rejects_scores_and_counts_missing_risks():
    y = np.array([0, 1, 0, 1, 1, 0])
    with pytest.raises(ValueError, match=r"risks in \[0, 1\]"):
        ev.decision_curve(y, np.array([0.1, 2.0, 0.2, 0.9, 0.8, 0.3]))
    p = np.array([0.1, 0.9, np.nan, 0.7, 0.8, 0.3])
    with pytest.warns(UserWarning, match="left out 1 of 6"):
        dc = ev.decision_curve(y, p, thresholds=[0.5])
    ref = ev.decision_curve(np.delete(y, 2), np.delete(p, 2), thresholds=[0.5])
    pd.testing.assert_frame_equal(dc, ref)
    assert (dc["n"] == 5).all()


def test_kaplan_meier_without_groups_matches_lifelines(surv_data):
    from lifelines import KaplanMeierFitter

    d = surv_data
    km = ev.kaplan_meier(d.time, d.event)
    ref = KaplanMeierFitter().fit(d.time, d.event)
    np.testing.assert_allclose(km.survival["survival"], ref.survival_function_.iloc[:, 0])
    assert (km.survival["group"] == "all").all() and np.isnan(km.logrank["p-val"].iloc[0])
    ax = ev.plot_kaplan_meier(d.time, d.event, at_risk=False)
    assert not [t for t in ax.texts if "log-rank" in t.get_text()]


def test_cox_model_one_hot_encodes_text_covariates(surv_data):
    from lifelines import CoxPHFitter

    d = surv_data.assign(arm=np.where(np.arange(len(surv_data)) % 3 == 0, "b", "a"))
    with pytest.warns(UserWarning, match=r"one-hot encoded .*arm_b.*arm=a"):
        res = ev.cox_model(d, "time", "event", ["score", "arm"])
    manual = d.assign(arm_b=(d.arm == "b").astype(float))[["time", "event", "score", "arm_b"]]
    ref = CoxPHFitter().fit(manual, "time", "event")
    got = res.summary.set_index("covariate")
    np.testing.assert_allclose(got.loc[["score", "arm_b"], "coef"], ref.params_, rtol=1e-6)
    assert "CI95%" in res.summary


def test_external_validation_keeps_auc_with_saturated_predictions(rng):
    from sklearn.linear_model import LogisticRegression

    df = _multisite(rng)
    df["original_firstorder_F0"] *= 60  # huge log-odds: many predicted risks are exactly 0 or 1
    model = LogisticRegression(C=1e6, max_iter=5000)
    table = ev.external_validation(df, "outcome", test_site="C", model=model, harmonize=False)
    assert table["AUC"].notna().all()  # before: "Singular matrix" blanked the row
    ext = table[table.validation == "external"].iloc[0]
    assert "calibration" in ext["error"] or np.isfinite(ext["calibration_slope"])


def test_external_validation_of_a_fitted_radscore(rng):
    from radnb import stats

    df = _multisite(rng)
    train = df[df.site != "C"]
    res = stats.radscore_model(train, "outcome", outer_cv=3, inner_cv=3, Cs=[0.1, 1.0])
    table = ev.external_validation(df, "outcome", test_site="C", model=res, harmonize=False)
    assert table["AUC"].notna().all() and (table["n"] > 0).all()
    # the same Rad-score refitted on the training sites predicts site C as res would
    ext = df[df.site == "C"]
    direct = ev.roc_auc_ci(ext["outcome"], res.predict_proba(ext)).iloc[0]["AUC"]
    got = table[table.validation == "external"]["AUC"].item()
    assert got == pytest.approx(direct)
    with pytest.raises(TypeError, match="model must be"):
        ev.external_validation(df, "outcome", model=object())


def test_external_validation_warns_when_sites_differ_in_outcome_rate(rng):
    df = _multisite(rng)
    df.loc[(df.site == "C") & (np.arange(len(df)) % 3 == 0), "outcome"] = 1  # C: more events
    df.loc[(df.site == "A") & (np.arange(len(df)) % 2 == 0), "outcome"] = 0  # A: fewer
    with pytest.warns(UserWarning, match="outcome rate differs between sites"):
        ev.external_validation(df, "outcome", test_site="C", model="logistic", harmonize=True)
