"""radnb.stats checked against scipy, statsmodels, scikit-learn, pingouin, tableone and pROC."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from scipy import stats as ss

from radnb import stats


# --------------------------------------------------------------------------- data
@pytest.fixture(scope="module")
def asah(reference_dir):
    """pROC's aSAH data (113 patients): outcome Poor = 1."""
    df = pd.read_csv(reference_dir / "delong" / "aSAH.csv")
    return df.assign(poor=(df["outcome"] == "Poor").astype(int))


@pytest.fixture(scope="module")
def ramella(shared_data):
    df = pd.read_csv(shared_data / "cohorts" / "Ramella2018.gz")
    return df.drop(columns=["ID"])


def _planted(n=120, p=40, seed=0):
    """Noise features plus two informative ones (``sig_a`` up, ``sig_b`` down)."""
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n) % 2)
    X = pd.DataFrame(rng.normal(size=(n, p)), columns=[f"noise{i}" for i in range(p)])
    X["sig_a"] = 1.2 * y + rng.normal(size=n)
    X["sig_b"] = -1.0 * y + rng.normal(size=n)
    return X, y


# --------------------------------------------------------------------------- table_one
@pytest.fixture(scope="module")
def clinical():
    rng = np.random.default_rng(3)
    n = 90
    return pd.DataFrame({
        "age": rng.normal(62, 9, n),
        "psa": rng.lognormal(1, 1, n),
        "sex": rng.choice(["M", "F"], n),
        "stage": rng.choice([1, 2, 3, 4], n),
        "rare": rng.choice(["yes", "no"], n, p=[0.06, 0.94]),
        "group": rng.choice(["A", "B"], n),
        "site": rng.choice(["s1", "s2", "s3"], n),
    })


def test_table_one_default_is_rank_based_without_a_pretest(clinical):
    # No Shapiro-Wilk pretest by default (Rochon et al. BMC Med Res Methodol 2012;12:81):
    # every continuous variable -> median [Q1,Q3] and Mann-Whitney U (scipy.stats.mannwhitneyu),
    # even the normal-looking age.
    t1 = stats.table_one(clinical, groupby="group", columns=["age", "psa", "sex"])
    g = [clinical[clinical.group == k] for k in ("A", "B")]
    assert ss.shapiro(g[0].age).pvalue > 0.05  # a pretest would have picked the t-test here
    for col in ("age", "psa"):
        assert t1.tests.loc[col, "summary"] == "median [Q1,Q3]"
        assert t1.tests.loc[col, "test"] == "Mann-Whitney U"
        assert t1.tests.loc[col, "p-val"] == pytest.approx(
            ss.mannwhitneyu(g[0][col], g[1][col], alternative="two-sided").pvalue, rel=1e-12)
    # 3 groups -> Kruskal-Wallis (scipy.stats.kruskal)
    t3 = stats.table_one(clinical, groupby="site", columns=["age"])
    assert t3.tests.loc["age", "test"] == "Kruskal-Wallis"
    assert t3.tests.loc["age", "p-val"] == pytest.approx(
        ss.kruskal(*[clinical[clinical.site == k].age for k in ("s1", "s2", "s3")]).pvalue, rel=1e-12)
    # nonnormal=[] -> mean (SD) and Welch's t-test for every continuous variable
    tw = stats.table_one(clinical, groupby="group", columns=["age", "psa"], nonnormal=[])
    assert set(tw.tests["summary"]) == {"mean (SD)"}
    assert tw.tests.loc["psa", "p-val"] == pytest.approx(
        ss.ttest_ind(g[0].psa, g[1].psa, equal_var=False).pvalue, rel=1e-12)
    with pytest.raises(ValueError, match="nonnormal must be one of 'shapiro'"):
        stats.table_one(clinical, groupby="group", columns=["age"], nonnormal="normality")


def test_table_one_two_groups_pvalues_match_scipy(clinical):
    # the (discouraged) Shapiro-Wilk pretest, on request
    t1 = stats.table_one(clinical, groupby="group", columns=["age", "psa", "sex", "stage", "rare"],
                         nonnormal="shapiro")
    g = [clinical[clinical.group == k] for k in ("A", "B")]
    tests = t1.tests
    # normal-looking age -> Welch's t-test (scipy.stats.ttest_ind, equal_var=False)
    assert tests.loc["age", "summary"] == "mean (SD)"
    assert tests.loc["age", "p-val"] == pytest.approx(
        ss.ttest_ind(g[0].age, g[1].age, equal_var=False).pvalue, rel=1e-12)
    # log-normal PSA is flagged non-normal by Shapiro-Wilk -> Mann-Whitney U
    assert ss.shapiro(g[0].psa).pvalue < 0.05
    assert tests.loc["psa", "summary"] == "median [Q1,Q3]"
    assert tests.loc["psa", "p-val"] == pytest.approx(
        ss.mannwhitneyu(g[0].psa, g[1].psa, alternative="two-sided").pvalue, rel=1e-12)
    # categorical -> chi-square on the contingency table (scipy, Yates for 2x2)
    for col in ("sex", "stage"):
        table = pd.crosstab(clinical[col], clinical.group)
        assert tests.loc[col, "test"] == "Chi-squared"
        assert tests.loc[col, "p-val"] == pytest.approx(ss.chi2_contingency(table)[1], rel=1e-12)
    # 2x2 with an expected count < 5 -> Fisher's exact test
    table = pd.crosstab(clinical.rare, clinical.group)
    assert ss.chi2_contingency(table)[3].min() < 5
    assert tests.loc["rare", "test"] == "Fisher's exact"
    assert tests.loc["rare", "p-val"] == pytest.approx(ss.fisher_exact(table)[1], rel=1e-12)
    # the displayed summary is the plain mean (SD)
    text = t1.table.loc[("age, mean (SD)", ""), ("Grouped by group", "Overall")]
    assert text == f"{clinical.age.mean():.1f} ({clinical.age.std():.1f})"
    html = t1.style(caption="Table 1").to_html()
    assert "Table 1" in html and "Fisher" in html
    flat = t1.to_frame()
    assert {"variable", "level", "Overall", "P-Value"} <= set(flat.columns)


def test_table_one_html_escapes_less_than_but_table_keeps_it():
    rng = np.random.default_rng(0)
    g = rng.choice(["A", "B"], 200)
    df = pd.DataFrame({"age": rng.normal(60, 5, 200) + (g == "B") * 6, "group": g})
    t1 = stats.table_one(df, groupby="group", nonnormal=[])
    assert t1.tests.loc["age", "p-val"] < 0.001  # Welch t-test, checked against scipy above
    p_col = [c for c in t1.table.columns if c[-1] == "P-Value"][0]
    assert t1.table.loc[("age, mean (SD)", ""), p_col] == "<0.001"
    html = t1.style(caption="Table 1 <draft>").to_html()
    assert "&lt;0.001" in html and "<0.001" not in html
    assert "Table 1 &lt;draft&gt;" in html and t1._repr_html_().count("&lt;0.001") == 1


def test_format_p_as_journals_print_it():
    from radnb._utils.formatting import format_number, format_p

    assert format_p(0.000433) == "p < 0.001" and format_p(0.001) == "p = 0.001"
    assert format_p(0.04349) == "p = 0.043" and format_p(float("nan")) == "p = n/a"
    assert format_p(0.2, prefix="") == "0.200" and format_p(1e-9, prefix="") == "< 0.001"
    assert format_number(-1912.6) == "-1913" and format_number(0.012345) == "0.0123"


def test_table_one_three_groups_anova_and_kruskal(clinical):
    t1 = stats.table_one(clinical, groupby="site", columns=["age", "psa"], nonnormal=["psa"])
    g = [clinical[clinical.site == k] for k in ("s1", "s2", "s3")]
    assert t1.tests.loc["age", "test"] == "One-way ANOVA"
    assert t1.tests.loc["age", "p-val"] == pytest.approx(
        ss.f_oneway(*[x.age for x in g]).pvalue, rel=1e-12)
    assert t1.tests.loc["psa", "test"] == "Kruskal-Wallis"
    assert t1.tests.loc["psa", "p-val"] == pytest.approx(
        ss.kruskal(*[x.psa for x in g]).pvalue, rel=1e-12)


def test_table_one_real_asah_data(asah):
    t1 = stats.table_one(asah, groupby="outcome", columns=["age", "gender", "wfns", "s100b"],
                         nonnormal="shapiro")
    poor, good = asah[asah.poor == 1], asah[asah.poor == 0]
    # s100b is skewed (Shapiro-Wilk rejects) -> median [IQR] and Mann-Whitney U
    assert t1.tests.loc["s100b", "test"] == "Mann-Whitney U"
    assert t1.tests.loc["s100b", "p-val"] == pytest.approx(
        ss.mannwhitneyu(poor.s100b, good.s100b).pvalue, rel=1e-12)
    # WFNS grade 1-5 is treated as categorical
    assert t1.tests.loc["wfns", "type"] == "categorical"
    assert t1.tests.loc["wfns", "p-val"] == pytest.approx(
        ss.chi2_contingency(pd.crosstab(asah.wfns, asah.outcome))[1], rel=1e-12)


def test_table_one_rejects_single_group(clinical):
    with pytest.raises(ValueError, match="at least two groups"):
        stats.table_one(clinical.assign(g=1), groupby="g")


# --------------------------------------------------------------------------- univariate
def test_univariate_matches_scipy_statsmodels_sklearn_pingouin():
    import pingouin as pg
    from sklearn.metrics import roc_auc_score
    from statsmodels.stats.multitest import multipletests

    X, y = _planted()
    res = stats.univariate(X, y)
    p_ref = [ss.mannwhitneyu(X.loc[y == 1, c], X.loc[y == 0, c]).pvalue for c in X]
    np.testing.assert_allclose(res["p-val"], p_ref, rtol=1e-12)
    np.testing.assert_allclose(res["p-fdr"], multipletests(p_ref, method="fdr_bh")[1], rtol=1e-12)
    raw_auc = np.array([roc_auc_score(y, X[c]) for c in X])
    np.testing.assert_allclose(res["AUC"], np.maximum(raw_auc, 1 - raw_auc), rtol=1e-12)
    assert res.loc["sig_a", "direction"] == "higher" and res.loc["sig_b", "direction"] == "lower"
    # rank-biserial correlation: pingouin.mwu's RBC for x = positives, y = negatives
    for c in ("sig_a", "sig_b", "noise0"):
        rbc = pg.mwu(X.loc[y == 1, c], X.loc[y == 0, c])["RBC"].item()
        assert abs(res.loc[c, "effsize"]) == pytest.approx(abs(rbc), rel=1e-10)
        assert np.sign(res.loc[c, "effsize"]) == np.sign(raw_auc[list(X).index(c)] - 0.5)
    assert res.loc[["sig_a", "sig_b"], "significant"].all()
    assert res["significant"].sum() <= 4


def test_univariate_ttest_and_cohens_d():
    import pingouin as pg

    X, y = _planted(seed=1)
    res = stats.univariate(X, y, test="ttest")
    for c in ("sig_a", "noise3"):
        a, b = X.loc[y == 1, c], X.loc[y == 0, c]
        assert res.loc[c, "p-val"] == pytest.approx(ss.ttest_ind(a, b, equal_var=False).pvalue,
                                                    rel=1e-12)
        assert res.loc[c, "effsize"] == pytest.approx(pg.compute_effsize(a, b, eftype="cohen"),
                                                      rel=1e-10)


def test_univariate_auc_matches_published_proc_values(asah):
    # pROC (Robin et al. 2011), aSAH data, case = Poor: AUC(s100b) = 0.7314, AUC(ndka) = 0.6120
    res = stats.univariate(asah, "poor", columns=["s100b", "ndka"])
    assert res.loc["s100b", "AUC"] == pytest.approx(0.7314, abs=5e-5)
    assert res.loc["ndka", "AUC"] == pytest.approx(0.6120, abs=5e-5)


def test_univariate_constant_feature_and_bad_outcome():
    X, y = _planted(n=40, p=3)
    X["flat"] = 1.0
    res = stats.univariate(X, y)
    assert np.isnan(res.loc["flat", "p-val"]) and not res.loc["flat", "significant"]
    assert res["p-fdr"].notna().sum() == X.shape[1] - 1
    with pytest.raises(ValueError, match="only 0 and 1"):
        stats.univariate(X, np.arange(40))
    with pytest.raises(ValueError, match="test must be one of"):
        stats.univariate(X, y, test="wilcoxon")


def test_plot_volcano_returns_labelled_axes():
    X, y = _planted()
    ax = stats.plot_volcano(stats.univariate(X, y))
    assert "log10" in ax.get_ylabel() and "effect size" in ax.get_xlabel()
    assert len(ax.collections) == 2


def test_plot_volcano_labels_inside_apart_and_legend_off_the_data():
    import matplotlib.pyplot as plt

    X, y = _planted()
    # long names and several strong features crowded at the top, on both sides
    for i in range(4):
        X[f"a_very_long_feature_name_{i}"] = (1.5 if i % 2 else -1.5) * y + np.random.default_rng(i).normal(size=len(y))
    table = stats.univariate(X, y)
    ax = stats.plot_volcano(table, n_labels=5)
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = [a for a in ax.texts if a.get_text()]
    assert [a.get_text() for a in texts] == list(table["p-val"].nsmallest(5).index)
    box = ax.get_window_extent(renderer)
    extents = [a.get_window_extent(renderer) for a in texts]
    for e in extents:  # fully inside the axes
        assert box.x0 <= e.x0 and e.x1 <= box.x1 and box.y0 <= e.y0 and e.y1 <= box.y1
    for i in range(len(extents)):
        for j in range(i):
            assert not extents[i].overlaps(extents[j])
    legend = ax.get_legend().get_window_extent(renderer)
    assert legend.x0 >= box.x1  # outside, right of the axes: hides no point
    assert not any(a.get_text() for a in stats.plot_volcano(table, n_labels=0).texts)
    with pytest.raises(ValueError, match="n_labels"):
        stats.plot_volcano(table, n_labels=-1)
    plt.close("all")


# --------------------------------------------------------------------------- selection
def _clustered(seed=0):
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(80) % 2)
    base = {"a": y + rng.normal(size=80), "b": rng.normal(size=80), "c": rng.normal(size=80)}
    cols = {}
    for name, v in base.items():
        for k, noise in enumerate((0.0, 0.1, 0.2)):
            cols[f"{name}{k}"] = v + noise * rng.normal(size=80)
    return pd.DataFrame(cols), y


def test_correlation_filter_keeps_most_relevant_per_cluster():
    from sklearn.metrics import roc_auc_score

    X, y = _clustered()
    cf = stats.CorrelationFilter(threshold=0.9).fit(X, y)
    kept = list(cf.get_feature_names_out())
    assert len(kept) == 3 and cf.clusters_.nunique() == 3
    for lab, members in cf.clusters_.groupby(cf.clusters_):
        names = list(members.index)
        rho = X[names].corr(method="spearman").abs().to_numpy()
        assert rho.min() >= 0.9  # complete linkage: every pair in a cluster
        rel = {n: abs(roc_auc_score(y, X[n]) - 0.5) for n in names}
        assert max(rel, key=rel.get) in kept
    out = cf.set_output(transform="pandas").transform(X)
    assert list(out.columns) == kept
    by_var = stats.CorrelationFilter(relevance="variance").fit(X)
    assert len(by_var.get_feature_names_out()) == 3
    with pytest.raises(ValueError, match="relevance='variance'"):
        stats.CorrelationFilter().fit(X)


def test_lasso_selector_matches_sklearn_and_fits_in_pipeline():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = _planted()
    sel = stats.LassoSelector(C=0.1).fit(X, y)
    ref = LogisticRegression(C=0.1, l1_ratio=1.0, solver="liblinear", intercept_scaling=10.0,
                             max_iter=1000).fit(StandardScaler().fit_transform(X), y)
    assert list(sel.get_feature_names_out()) == list(X.columns[ref.coef_.ravel() != 0])
    assert {"sig_a", "sig_b"} <= set(sel.get_feature_names_out())
    assert stats.LassoSelector(C=0.1, max_features=1).fit(X, y).get_feature_names_out().size == 1
    enet = stats.LassoSelector(C=0.1, l1_ratio=0.5, random_state=0).fit(X, y)
    assert {"sig_a", "sig_b"} <= set(enet.get_feature_names_out())
    pipe = make_pipeline(stats.CorrelationFilter(), stats.LassoSelector(C=0.1),
                         LogisticRegression()).set_output(transform="pandas")
    auc = cross_val_score(pipe, X, y, cv=5, scoring="roc_auc")
    assert auc.mean() > 0.75


def test_plot_correlation_is_a_clustermap():
    X, _ = _clustered()
    grid = stats.plot_correlation(X)
    assert grid.data2d.shape == (9, 9) and hasattr(grid, "figure")


# --------------------------------------------------------------------------- rad-score
@pytest.fixture(scope="module")
def planted_model():
    X, y = _planted(n=120, p=30)
    return X, y, stats.radscore_model(X, y, outer_cv=4, inner_cv=3, Cs=np.logspace(-2, 0, 5))


def test_radscore_recovers_planted_signal(planted_model):
    X, y, res = planted_model
    assert res.auc_mean > 0.75 and res.auc_ci[0] < res.auc < res.auc_ci[1]
    assert res.auc_fold_interval[0] < res.auc_mean < res.auc_fold_interval[1]
    # the fold summary is the plain range of fold AUCs, never a t-interval posing as a CI
    assert res.auc_fold_interval == (res.folds["AUC"].min(), res.folds["AUC"].max())
    assert "not a confidence interval" in repr(res) and "DeLong CI" in repr(res)
    assert {"sig_a", "sig_b"} <= set(res.selected)
    assert res.coefficients.loc["sig_a", "coef"] > 0 > res.coefficients.loc["sig_b", "coef"]
    assert res.selection_frequency[["sig_a", "sig_b"]].min() == 1.0
    assert len(res.folds) == 4 and res.oof["probability"].notna().all()
    assert sorted(res.oof["fold"].unique()) == [0, 1, 2, 3]


def test_radscore_formula_and_summary_agree_with_model_and_statsmodels(planted_model):
    import re

    import statsmodels.api as sm

    X, y, res = planted_model
    terms = dict(re.findall(r"([+-] [0-9.]+) \* z\(([^)]+)\)", res.formula(digits=8)))
    coefs = {name: float(sign.replace(" ", "")) for sign, name in terms.items()}
    assert set(coefs) == set(res.selected)
    scaler = res.model.named_steps["scale"]
    z = (X - scaler.mean_) / scaler.scale_
    manual = res.intercept + sum(c * z[name] for name, c in coefs.items())
    np.testing.assert_allclose(manual, res.radscore(X), atol=1e-6)
    # OR table = statsmodels Logit on the standardised selected features
    ref = sm.Logit(y, sm.add_constant(z[res.selected])).fit(disp=0)
    table = res.summary()
    np.testing.assert_allclose(table["OR"], np.exp(ref.params), rtol=1e-6)
    np.testing.assert_allclose(table["p-val"], ref.pvalues, rtol=1e-6)
    np.testing.assert_allclose(table["OR_low"], np.exp(ref.conf_int()[0]), rtol=1e-6)
    # the printed means and SDs are the training mean and population SD (ddof=0) of each feature,
    # so a reader can recompute the Rad-score from raw values (and so does coef_raw)
    text = res.formula(digits=8)
    rows = dict(re.findall(r"^  (\S+)\s+(\S+\s+\S+)$", text, flags=re.M)[1:])
    assert set(rows) == set(res.selected)
    for name, pair in rows.items():
        mean, sd = map(float, pair.split())
        assert mean == pytest.approx(X[name].mean(), rel=1e-5)
        assert sd == pytest.approx(X[name].std(ddof=0), rel=1e-5)
    tab = res.scaling
    raw = tab.attrs["intercept_raw"] + X[res.selected] @ tab["coef_raw"]
    np.testing.assert_allclose(raw, res.radscore(X), atol=1e-6)


def test_radscore_on_noise_is_honest():
    rng = np.random.default_rng(5)
    X = pd.DataFrame(rng.normal(size=(80, 60)), columns=[f"f{i}" for i in range(60)])
    y = rng.permutation(np.arange(80) % 2)
    res = stats.radscore_model(X, y, outer_cv=4, inner_cv=3, Cs=np.logspace(-2, 0, 4))
    assert 0.3 < res.auc_mean < 0.7
    leak = stats.leakage_demo(X, y, k=10, seed=1).set_index("selection")["AUC"]
    assert leak["outside CV (leaky)"] > 0.7 and abs(leak["inside CV (honest)"] - 0.5) < 0.15


def test_radscore_missing_value_is_imputed_in_folds_not_dropped():
    X, y = _planted(n=80, p=10)
    X.loc[7, "noise3"] = np.nan
    res = stats.radscore_model(X, y, outer_cv=3, inner_cv=3, Cs=[0.1, 1.0])
    assert len(res.oof) == 80 and res.errors.empty  # before: patient 7 was dropped
    assert res.counts["n_used"] == res.counts["n_given"] == 80
    assert res.missing["impute"] == "median" and res.missing["n_imputed"] == 1
    # the complete-case analysis is still available, and says what it drops
    with pytest.warns(UserWarning, match="left out 1 of 80"):
        cc = stats.radscore_model(X, y, outer_cv=3, inner_cv=3, Cs=[0.1, 1.0], impute=None)
    assert cc.errors["row"].tolist() == [7] and "noise3" in cc.errors["cause"].item()
    assert len(cc.oof) == 79 and cc.counts["n_used"] == 79


def test_radscore_missing_outcome_rows_are_counted():
    X, y = _planted(n=80, p=10)
    X["outcome"] = y.astype(float)
    X.loc[[3, 4], "outcome"] = np.nan
    with pytest.warns(UserWarning, match=r"left out 2 of 80 patients \(missing outcome: 2\)"):
        res = stats.radscore_model(X, "outcome", outer_cv=3, inner_cv=3, Cs=[0.1, 1.0])
    assert res.errors["row"].tolist() == [3, 4] and res.counts["n_used"] == 78
    assert "78 of 80 patients used" in repr(res)


def test_missingness_per_feature_and_patient():
    df = pd.DataFrame({"a": [1, np.nan, 3, 4], "b": [np.nan] * 3 + [1.0], "c": [1, 2, 3, 4]})
    res = stats.missingness(df)
    assert res.features.loc["b", "n_missing"] == 3 and res.features.index[0] == "b"
    assert res.features.loc["a", "fraction"] == pytest.approx(0.25)
    assert res.patients["n_missing"].tolist() == [1, 2, 1, 0] and res.complete_rows == 1
    assert "1 of 4 rows are complete" in repr(res)
    ax = res.plot()
    assert "missing" in ax.get_xlabel()


def test_missing_value_filter_learns_on_training_rows_only():
    train = pd.DataFrame({"a": [1.0, 2.0, np.nan, 10.0], "b": [np.nan, np.nan, np.nan, 1.0],
                          "site": ["A", "A", "B", "B"]})
    f = stats.MissingValueFilter(max_missing=0.5, passthrough=["site"]).fit(train)
    assert f.dropped_ == ["b"] and f.fill_values_["a"] == 2.0  # median of 1, 2, 10
    test = pd.DataFrame({"a": [np.nan, 100.0], "b": [5.0, 6.0], "site": ["C", "C"]})
    out = f.transform(test)
    assert list(out.columns) == ["a", "site"] and out["a"].tolist() == [2.0, 100.0]
    assert list(f.get_feature_names_out()) == ["a", "site"]


@pytest.mark.data
def test_radscore_on_real_table_with_two_mostly_empty_columns(ramella):
    """The issue's finding: rows, not columns, were dropped (32 of 210 kept)."""
    table = ramella.copy()
    rng = np.random.default_rng(0)
    cols = list(table.columns[:2])
    for c in cols:  # two filter columns about 85% empty, as in the published table
        table.loc[rng.random(len(table)) < 0.85, c] = np.nan
    stats.missingness(table)  # no error on a real table
    res = stats.radscore_model(table, "Target", outer_cv=3, inner_cv=3,
                               Cs=np.logspace(-2, 0, 4))
    assert res.counts["n_used"] >= 0.95 * len(table)
    assert set(cols) <= set(res.missing["dropped_features"])
    assert res.counts["features_kept"] == res.counts["features_in"] - 2
    text = repr(res)
    assert f"{len(table)} of {len(table)} patients used" in text and "features in" in text
    assert "DeLong" in res._repr_html_()


def test_pooled_out_of_fold_auc_and_delong_ci(planted_model):
    from sklearn.metrics import roc_auc_score

    from radnb import evaluate

    X, y, res = planted_model
    assert res.auc == pytest.approx(roc_auc_score(res.oof["outcome"], res.oof["probability"]))
    # the same DeLong interval as roc_auc_ci, which tests/test_evaluate.py checks against pROC
    ref = evaluate.roc_auc_ci(res.oof["outcome"], res.oof["probability"]).iloc[0]
    assert res.auc_ci == pytest.approx((ref["ci_low"], ref["ci_high"]), rel=1e-12)
    assert "not a confidence interval" in repr(res) and "DeLong CI" in repr(res)


def test_predict_proba_selects_columns_by_name(planted_model):
    X, y, res = planted_model
    shuffled = X[X.columns[::-1]].assign(extra="x", age=1.0)
    np.testing.assert_allclose(res.predict_proba(shuffled), res.model.predict_proba(X)[:, 1])
    assert set(np.unique(res.predict(shuffled))) <= {0, 1}
    with pytest.raises(ValueError, match=r"lacks 1 of the model's .*sig_a"):
        res.predict_proba(X.drop(columns="sig_a"))


def test_radscore_with_combat_inside_folds():
    X, y = _planted(n=90, p=10, seed=2)
    site = np.repeat(["A", "B", "C"], 30)
    X.loc[site == "B", ["sig_a", "noise0"]] += 3.0
    X.insert(0, "site", site)
    res = stats.radscore_model(X, y, harmonize="site", outer_cv=3, inner_cv=3, Cs=[0.1, 1.0])
    assert "site" not in res.selected and "combat" in res.model.named_steps
    assert "sig_a" in res.selected and res.auc_mean > 0.65


def test_one_se_rule_uses_the_glmnet_standard_error():
    from radnb.stats._radscore import one_se_rule

    # fold scores of 4 penalties over 4 folds
    splits = np.array([[0.55, 0.70, 0.72, 0.66], [0.65, 0.72, 0.74, 0.84],
                       [0.60, 0.73, 0.73, 0.74], [0.60, 0.71, 0.73, 0.76]])
    mean = splits.mean(axis=0)
    cv = {"mean_test_score": mean, "std_test_score": splits.std(axis=0),  # sklearn: ddof 0
          "param_model__C": [0.01, 0.1, 1.0, 10.0]}
    cv.update({f"split{i}_test_score": splits[i] for i in range(4)})
    # glmnet (cv.glmnet, R package glmnet 4.1): cvsd = sqrt(mean((cvraw - cvm)^2) / (N - 1)),
    # i.e. the ddof=1 standard deviation over sqrt(N folds)
    best = int(np.argmax(mean))
    cvsd = np.sqrt(((splits - mean) ** 2).mean(axis=0) / (4 - 1))
    ok = np.flatnonzero(mean >= mean[best] - cvsd[best])
    assert one_se_rule(cv) == int(ok.min()) == 1
    # the ddof=0 SE of the old code excluded C = 0.1 here
    se0 = splits.std(axis=0)[best] / 2
    assert mean[1] < mean[best] - se0 and mean[2] >= mean[best] - se0


@pytest.mark.slow
@pytest.mark.data
def test_radscore_end_to_end_on_ramella2018(ramella):
    res = stats.radscore_model(ramella, "Target", seed=0)
    # a sensible range for this real cohort: clearly above chance, far from perfect
    assert 0.6 < res.auc_mean < 0.85 and len(res.oof) == 91
    assert 0 < len(res.selected) < 60
    # selection happens inside the folds: it varies between folds ...
    assert (res.selection_frequency < 1).any()
    # ... and with the outcome shuffled the honest estimate collapses to chance
    shuffled = np.random.default_rng(0).permutation(ramella["Target"].to_numpy())
    null = stats.radscore_model(ramella.drop(columns="Target"), shuffled, seed=0)
    assert abs(null.auc_mean - 0.5) < 0.15


# --------------------------------------------------------------------------- nomogram
@pytest.fixture(scope="module")
def combined():
    rng = np.random.default_rng(7)
    n = 300
    d = pd.DataFrame({"radscore": rng.normal(size=n), "age": rng.normal(65, 8, n),
                      "female": rng.integers(0, 2, n)})
    lp = -0.3 + 1.3 * d.radscore - 0.05 * (d.age - 65) + 0.6 * d.female
    d["outcome"] = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    return d


def test_nomogram_points_reproduce_statsmodels_probabilities(combined):
    model = stats.fit_logistic(combined, "outcome", ["radscore", "age", "female"])
    nom = stats.Nomogram(model, combined)
    pts = nom.points(combined)
    np.testing.assert_allclose(nom.probability(pts["total"]), model.predict(), atol=1e-12)
    # the widest predictor spans exactly 0-100 points, the others less
    span = (nom.scales["high"] - nom.scales["low"]) * nom.scales["points_per_unit"]
    assert span.max() == pytest.approx(100) and span.idxmax() == "radscore"
    assert (pts[["radscore", "age", "female"]].quantile(0.5) >= 0).all()
    p = nom.probability(nom.total_for_probability([0.1, 0.5, 0.9]))
    np.testing.assert_allclose(p, [0.1, 0.5, 0.9])


def test_nomogram_matches_sklearn_predict_proba_and_plots(combined):
    from sklearn.linear_model import LogisticRegression

    X = combined[["radscore", "age", "female"]]
    model = LogisticRegression(C=1e6).fit(X, combined["outcome"])
    nom = stats.Nomogram(model, combined)
    np.testing.assert_allclose(nom.probability(nom.points(X)["total"]),
                               model.predict_proba(X)[:, 1], atol=1e-12)
    ax = stats.plot_nomogram(model, combined, labels={"age": "Age (years)"})
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "Points" and "Age (years)" in labels and labels[-2] == "Total points"
    with pytest.raises(ValueError, match="not numeric"):
        stats.fit_logistic(combined.assign(sex="F"), "outcome", ["sex"])


def test_nomogram_ticks_few_whole_number_predictors_at_their_values(combined):
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(3)
    data = combined.assign(stage=rng.integers(1, 5, len(combined)))
    model = stats.fit_logistic(data, "outcome", ["radscore", "age", "female", "stage"])
    nom = stats.Nomogram(model, data)
    np.testing.assert_array_equal(nom.levels["stage"], [1, 2, 3, 4])
    np.testing.assert_array_equal(nom.levels["female"], [0, 1])
    assert "age" not in nom.levels and "radscore" not in nom.levels
    assert (nom.scales.loc["stage", "low"], nom.scales.loc["stage", "high"]) == (1, 4)
    # still the statsmodels probabilities
    np.testing.assert_allclose(nom.probability(nom.points(data)["total"]), model.predict(), atol=1e-12)
    ax = stats.plot_nomogram(model, data, labels={"stage": "Stage"})
    rows = {t.get_text(): y for t, y in zip(ax.get_yticklabels(), ax.get_yticks())}

    def ticks(row):
        return [t.get_text() for t in ax.texts if abs(t.get_position()[1] - rows[row] - 0.18) < 1e-9]

    assert ticks("Stage") == ["1", "2", "3", "4"]
    assert ticks("female") == ["0", "1"]
    assert len(ticks("age")) >= 3
    plt.close("all")


def test_univariate_counts_missing_values_and_tests_complete_cases():
    from scipy.stats import mannwhitneyu

    X, y = _planted(n=60, p=3)
    X.loc[[1, 2, 3], "sig_a"] = np.nan
    with pytest.warns(UserWarning, match=r"1 of 5 features have missing values; 3 values"):
        res = stats.univariate(X, y)
    assert res.loc["sig_a", "n"] == 57
    keep = X["sig_a"].notna().to_numpy()
    ref = mannwhitneyu(X.loc[keep & (y == 1), "sig_a"], X.loc[keep & (y == 0), "sig_a"])
    assert res.loc["sig_a", "p-val"] == pytest.approx(ref.pvalue, rel=1e-12)


def test_plot_nomogram_warns_for_a_penalised_sklearn_model(combined):
    from sklearn.linear_model import LogisticRegression

    cols = ["radscore", "age", "female"]
    model = LogisticRegression().fit(combined[cols], combined["outcome"])  # L2, C=1: penalised
    with pytest.warns(UserWarning, match="penalised .*fit_logistic"):
        stats.plot_nomogram(model, combined)
    import matplotlib.pyplot as plt

    plt.close("all")


# --------------------------------------------------------------------------- sample size
def test_sample_size_matches_published_worked_example():
    # Riley et al., Stat Med 2019;38:1276-1296 (part II), Chagas disease example also used
    # by the pmsampsize documentation: 24 parameters, prevalence 0.174, Cox-Snell R^2 0.288.
    # Published results: criteria 1/2/3/final = 623 / 662 / 221 / 662 patients (pmsampsize
    # package test suite: expected = [623, 662, 221, 662]); the paper's abstract: "requires an
    # EPP of at least 4.8".
    table = stats.sample_size(24, 0.174, r2_cox_snell=0.288).set_index("criterion")
    assert table["n"].tolist() == [623, 662, 221, 662]
    assert table.loc["final", "epp"] == pytest.approx(4.8, abs=0.005)
    # Max Cox-Snell R^2 at prevalence 0.174, from the null log-likelihood (closed form).
    p = 0.174
    assert table.attrs["max_r2_cox_snell"] == pytest.approx(
        1 - np.exp(2 * (p * np.log(p) + (1 - p) * np.log(1 - p))), rel=1e-12)


def test_sample_size_criteria_hold_at_the_returned_n():
    # Independent closed-form checks of the three criteria (Riley et al. BMJ 2020, box 1).
    p, r2, params = 0.3, 0.15, 12
    table = stats.sample_size(params, p, r2_cox_snell=r2).set_index("criterion")
    max_r2 = table.attrs["max_r2_cox_snell"]
    # criterion 1: shrinkage S = 1 + params / (n ln(1 - R2/S)) ... at n1 the expected S >= 0.9
    n1 = table.loc["1 shrinkage", "n"]
    s_at = table.loc["1 shrinkage", "shrinkage"]
    assert s_at >= 0.9 - 1e-9
    assert s_at == pytest.approx(1 + params / (n1 * np.log(1 - r2 / s_at)), abs=1e-3)
    # one patient fewer would fail criterion 1
    assert params / ((0.9 - 1) * np.log(1 - r2 / 0.9)) > n1 - 1
    # criterion 2: optimism in Nagelkerke R^2 = (R2/S - R2) / maxR2 <= 0.05 at n2
    s2 = table.loc["2 optimism in R2", "shrinkage"]
    assert (r2 / s2 - r2) / max_r2 <= 0.05 + 1e-3
    # criterion 3: 95% CI half-width of the prevalence <= 0.05 at n3
    n3 = table.loc["3 overall risk", "n"]
    assert 1.96 * np.sqrt(p * (1 - p) / n3) <= 0.05
    assert 1.96 * np.sqrt(p * (1 - p) / (n3 - 1)) > 0.05
    assert table.loc["final", "n"] == table["n"].iloc[:3].max()
    # Nagelkerke input gives the same answer
    nag = stats.sample_size(params, p, r2_nagelkerke=r2 / max_r2)
    assert nag["n"].tolist() == table["n"].tolist()


@pytest.mark.parametrize("kwargs, match", [
    (dict(parameters=0, prevalence=0.2, r2_cox_snell=0.1), "parameters"),
    (dict(parameters=5, prevalence=1.2, r2_cox_snell=0.1), "prevalence"),
    (dict(parameters=5, prevalence=0.2), "exactly one"),
    (dict(parameters=5, prevalence=0.2, r2_cox_snell=0.9), "r2_cox_snell"),
])
def test_sample_size_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        stats.sample_size(**kwargs)


# --------------------------------------------------------------------------- reporting
def test_interpret_p_never_reads_a_large_p_as_no_relation():
    s = stats.interpret_p(0.16, "the two AUCs differ")
    assert s.startswith("p = 0.160: no evidence at the 5% level that the two AUCs differ")
    assert "does not show that there is no difference or no relation" in s
    s = stats.interpret_p(0.003, "age differs", alpha=0.01)
    assert s.startswith("p = 0.003: evidence at the 1% level that age differs")
    assert stats.interpret_p(1e-7, "x").startswith("p < 0.001: evidence")
    for bad in (1.2, -0.1, float("nan")):
        with pytest.raises(ValueError, match="p must"):
            stats.interpret_p(bad, "x")
    with pytest.raises(ValueError, match="what must describe"):
        stats.interpret_p(0.2, "")


def test_interpret_p_reads_a_q_value_at_a_false_discovery_rate():
    # q-values from statsmodels' Benjamini-Hochberg (the established implementation)
    from statsmodels.stats.multitest import multipletests

    reject, q = multipletests([0.001, 0.01, 0.04, 0.3], alpha=0.05, method="fdr_bh")[:2]
    for called, value in zip(reject, q):
        s = stats.interpret_p(value, "x differs", label="q")
        assert s.startswith(f"q = {value:.3f}: ")
        assert s.split(": ", 1)[1].startswith(
            "evidence at a false discovery rate of 5%" if called else "no evidence at a false discovery rate of 5%")
    assert "the q-value says nothing about how large" in stats.interpret_p(0.001, "x", label="q")
    assert "does not show that there is no difference" in stats.interpret_p(0.4, "x", label="q")
    assert stats.interpret_p(0.2, "x", label="log-rank p").startswith(
        "log-rank p = 0.200: no evidence at the 5% level that x")
    assert stats.interpret_p(0.2, "x", label="p") == stats.interpret_p(0.2, "x")
    with pytest.raises(ValueError, match="label must be"):
        stats.interpret_p(0.2, "x", label=" ")


def test_bootstrap_optimism_matches_a_plain_reimplementation():
    # Harrell FE, Lee KL, Mark DB. Stat Med 1996;15:361-87 (steps as in Steyerberg, Clinical
    # Prediction Models 2019, ch. 5.3), written out directly with sklearn and statsmodels.
    import statsmodels.api as sm
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(1)
    n = 90
    X = pd.DataFrame(rng.normal(size=(n, 4)), columns=list("abcd"))
    y = (0.8 * X["a"] - 0.5 * X["b"] + rng.normal(size=n) > 0).astype(int).to_numpy()
    est = LogisticRegression(C=np.inf, max_iter=1000)
    tab = stats.bootstrap_optimism(est, X, y, n_boot=40, seed=7)

    def slope(yy, pp):
        lp = np.log(pp / (1 - pp))
        return sm.Logit(yy, sm.add_constant(lp)).fit(disp=0).params[1]

    full = LogisticRegression(C=np.inf, max_iter=1000).fit(X, y).predict_proba(X)[:, 1]
    draws = np.random.default_rng(7)
    opt = {"AUC": [], "slope": [], "Brier": []}
    for _ in range(40):
        i = draws.integers(0, n, n)
        m = LogisticRegression(C=np.inf, max_iter=1000).fit(X.iloc[i], y[i])
        pb, po = m.predict_proba(X.iloc[i])[:, 1], m.predict_proba(X)[:, 1]
        opt["AUC"].append(roc_auc_score(y[i], pb) - roc_auc_score(y, po))
        opt["slope"].append(slope(y[i], pb) - slope(y, po))
        opt["Brier"].append(np.mean((pb - y[i]) ** 2) - np.mean((po - y) ** 2))
    assert tab.attrs["n_boot"] == 40
    assert tab.loc["AUC", "apparent"] == pytest.approx(roc_auc_score(y, full), rel=1e-12)
    assert tab.loc["AUC", "corrected"] == pytest.approx(
        roc_auc_score(y, full) - np.mean(opt["AUC"]), rel=1e-9)
    assert tab.loc["calibration_slope", "optimism"] == pytest.approx(np.mean(opt["slope"]), rel=1e-6)
    assert tab.loc["Brier", "optimism"] == pytest.approx(np.mean(opt["Brier"]), rel=1e-9)
    # an unpenalised logistic model is perfectly calibrated on its own data: apparent slope 1
    assert tab.loc["calibration_slope", "apparent"] == pytest.approx(1.0, abs=1e-3)
    assert tab.loc["calibration_slope", "corrected"] < 1  # shrinkage needed out of sample


def test_bootstrap_optimism_removes_most_of_the_optimism_on_noise():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 15))
    y = np.arange(60) % 2
    tab = stats.bootstrap_optimism(LogisticRegression(C=np.inf, max_iter=2000), X, y,
                                   n_boot=60, seed=0)
    assert tab.loc["AUC", "apparent"] > 0.8  # 15 noise predictors, 60 patients: overfit
    assert tab.loc["AUC", "corrected"] < tab.loc["AUC", "apparent"] - 0.15
    with pytest.raises(ValueError, match="X has 60 rows but y has 59"):
        stats.bootstrap_optimism(LogisticRegression(), X, y[:59])
