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
    from radnb.evaluate import _roc

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
    table = ev.external_validation(df, "outcome", test_site="C")
    assert set(table.columns) >= {"test_site", "harmonized", "validation", "n", "AUC",
                                  "ci_low", "ci_high", "error"}
    assert len(table) == 4 and (table["error"] == "").all()
    ext = table[table.validation == "external"].set_index("harmonized")["AUC"]
    internal = table[table.validation != "external"]["AUC"]
    assert (internal > 0.7).all()
    assert ext[True] > 0.7 and ext[True] > ext[False] + 0.1
    cal = table[table.validation == "external"].set_index("harmonized")["calibration_intercept"]
    assert abs(cal[True]) < abs(cal[False])  # a shifted site is miscalibrated
    loso = ev.external_validation(df, "outcome", harmonize=True)
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
