"""Tests of radnb.reproducibility: ICC, CCC, Bland-Altman, ICCFilter, plots, perturbation study.

Reference values:
* Shrout & Fleiss (1979), Psychol Bull 86:420, Table 2 data (6 targets x 4 judges); ICCs and
  CIs as published with R psych::ICC (values in ../shared/data/README.md).
* pingouin.intraclass_corr (established implementation, test-only dependency).
* Bland & Altman (1986), Lancet i:307, Table 1: peak expiratory flow rate (l/min), Wright
  large meter vs mini meter, first measurements of 17 subjects; published bias -2.1, SD 38.8,
  limits of agreement (2 SD) -79.7 and 75.5, SE of bias 9.4, SE of the limits 16.3.
* Lin (1989), Biometrics 45:255, eq. 2-3 (CCC), with the SE of Lin (2000), Biometrics 56:324.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

from radnb import reproducibility as rep
from radnb.reproducibility._icc import ICC_TYPES

matplotlib.use("Agg")

PG_LABELS = {"ICC(1,1)": "ICC1", "ICC(A,1)": "ICC2", "ICC(C,1)": "ICC3",
             "ICC(1,k)": "ICC1k", "ICC(A,k)": "ICC2k", "ICC(C,k)": "ICC3k"}

# Bland & Altman (1986), Table 1, first reading of each meter (l/min)
PEFR_LARGE = [494, 395, 516, 434, 476, 557, 413, 442, 650, 433, 417, 656, 267, 478, 178, 423, 427]
PEFR_MINI = [512, 430, 520, 428, 500, 600, 364, 380, 658, 445, 432, 626, 260, 477, 259, 350, 451]


@pytest.fixture
def pingouin_full_precision(monkeypatch):
    pg = pytest.importorskip("pingouin")
    monkeypatch.setitem(pg.options, "round", None)
    monkeypatch.setitem(pg.options, "round.column.CI95", None)
    return pg


def _pingouin_icc(pg, data, t, r, y):
    out = pg.intraclass_corr(data, t, r, y, nan_policy="omit")
    out["Type"] = out["Type"].map(lambda s: PG_LABELS.get(s, s))
    ci = "CI95" if "CI95" in out else "CI95%"
    return out.set_index("Type").rename(columns={ci: "CI95%"})


def _compare_to_pingouin(ours, ref):
    for t in ICC_TYPES:
        np.testing.assert_allclose(ours.loc[t, "ICC"], ref.loc[t, "ICC"], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ours.loc[t, "F"], ref.loc[t, "F"], rtol=1e-10)
        # radnb calls the p-value "p-val" everywhere; pingouin's intraclass_corr calls it "pval"
        np.testing.assert_allclose(ours.loc[t, "p-val"], ref.loc[t, "pval"], rtol=1e-8, atol=1e-300)
        assert ours.loc[t, "df1"] == ref.loc[t, "df1"] and ours.loc[t, "df2"] == ref.loc[t, "df2"]
        np.testing.assert_allclose(ours.loc[t, "CI95%"], np.asarray(ref.loc[t, "CI95%"], float),
                                   rtol=1e-8, atol=1e-10)


# ---------------------------------------------------------------- icc


def test_icc_reproduces_shrout_fleiss_1979(reference_dir):
    data = pd.read_csv(reference_dir / "icc" / "shrout_fleiss_long.csv")
    res = rep.icc(data, "target", "rater", "rating")
    assert list(res.columns) == ["Type", "Description", "ICC", "F", "df1", "df2", "p-val", "CI95%"]
    assert list(res["Type"]) == ["ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"]
    # published (Shrout & Fleiss 1979; R psych::ICC): ICC, CI low (3 dp), CI high (2 dp)
    published = {"ICC1": (0.17, -0.133, 0.72), "ICC2": (0.29, 0.019, 0.76),
                 "ICC3": (0.71, 0.342, 0.95), "ICC1k": (0.44, -0.884, 0.91),
                 "ICC2k": (0.62, 0.071, 0.93), "ICC3k": (0.91, 0.676, 0.99)}
    for t, (value, low, high) in published.items():
        assert round(res.loc[t, "ICC"], 2) == pytest.approx(value, abs=1e-9), t
        assert round(res.loc[t, "CI95%"][0], 3) == pytest.approx(low, abs=1e-9), t
        assert round(res.loc[t, "CI95%"][1], 2) == pytest.approx(high, abs=1e-9), t
    for t in ("ICC1", "ICC1k"):
        assert round(res.loc[t, "F"], 1) == 1.8 and (res.loc[t, "df1"], res.loc[t, "df2"]) == (5, 18)
    for t in ("ICC2", "ICC3", "ICC2k", "ICC3k"):
        assert round(res.loc[t, "F"], 2) == 11.03 and (res.loc[t, "df1"], res.loc[t, "df2"]) == (5, 15)


def test_icc_wide_file_gives_same_result(reference_dir):
    long = pd.read_csv(reference_dir / "icc" / "shrout_fleiss_long.csv")
    wide = pd.read_csv(reference_dir / "icc" / "shrout_fleiss_wide.csv")
    melted = wide.melt(id_vars="target", var_name="rater", value_name="rating")
    a = rep.icc(long, "target", "rater", "rating")
    b = rep.icc(melted.sample(frac=1, random_state=0), "target", "rater", "rating")
    np.testing.assert_allclose(a["ICC"], b["ICC"], rtol=1e-12)


def test_icc_matches_pingouin_on_wine(reference_dir, pingouin_full_precision):
    data = pd.read_csv(reference_dir / "icc" / "pingouin_wine_icc.csv")
    ours = rep.icc(data, "Wine", "Judge", "Scores")
    assert round(ours.loc["ICC1", "ICC"], 3) == 0.728  # pingouin documentation value
    _compare_to_pingouin(ours, _pingouin_icc(pingouin_full_precision, data, "Wine", "Judge", "Scores"))


@pytest.mark.parametrize("n, k, signal", [(10, 2, 1.0), (25, 3, 0.3), (7, 5, 0.0), (40, 2, 5.0)])
def test_icc_matches_pingouin_on_random_data(n, k, signal, pingouin_full_precision):
    rng = np.random.default_rng(n * k)
    truth = rng.normal(0, signal, n)
    bias = rng.normal(0, 0.5, k)
    y = truth[:, None] + bias[None, :] + rng.normal(0, 1, (n, k))
    data = pd.DataFrame({"t": np.repeat(np.arange(n), k), "r": np.tile([f"r{j}" for j in range(k)], n),
                         "y": y.ravel()})
    ours = rep.icc(data, "t", "r", "y")
    _compare_to_pingouin(ours, _pingouin_icc(pingouin_full_precision, data, "t", "r", "y"))


def test_icc_drops_incomplete_targets_with_warning(reference_dir, pingouin_full_precision):
    data = pd.read_csv(reference_dir / "icc" / "shrout_fleiss_long.csv")
    gappy = data.drop(index=data.index[(data.target == 3) & (data.rater == "J2")])
    gappy.loc[(gappy.target == 5) & (gappy.rater == "J4"), "rating"] = np.nan
    with pytest.warns(UserWarning, match=r"left out 2 of 6 targets"):
        res = rep.icc(gappy, "target", "rater", "rating")
    complete = data[~data.target.isin([3, 5])]
    np.testing.assert_allclose(res["ICC"], rep.icc(complete, "target", "rater", "rating")["ICC"])
    _compare_to_pingouin(res, _pingouin_icc(pingouin_full_precision, gappy.dropna(), "target",
                                            "rater", "rating"))


def test_icc_rejects_bad_input_with_advice():
    df = pd.DataFrame({"t": [1, 1, 2, 2], "r": [1, 1, 1, 2], "y": [1.0, 2, 3, 4]})
    with pytest.raises(ValueError, match="exactly one value per rater"):
        rep.icc(df, "t", "r", "y")
    with pytest.raises(ValueError, match="at least 2 levels"):
        rep.icc(pd.DataFrame({"t": [1, 2], "r": [1, 1], "y": [1.0, 2]}), "t", "r", "y")
    with pytest.raises(ValueError, match="must be numeric"):
        rep.icc(pd.DataFrame({"t": [1, 2], "r": [1, 2], "y": ["a", "b"]}), "t", "r", "y")
    with pytest.raises(ValueError, match="missing column"):
        rep.icc(df, "case", "r", "y")


# ---------------------------------------------------------------- feature_icc

FEATURES = ["original_shape_MeshVolume", "original_firstorder_Mean", "original_glcm_Contrast",
            "wavelet-LLH_glrlm_RunEntropy", "log-sigma-2-0-mm-3D_firstorder_Energy"]


def _feature_table(rng, n=30, readers=(1, 2), noise=(0.05, 0.3, 1.0, 2.0, 0.1)):
    rows = []
    truth = rng.normal(size=(n, len(FEATURES)))
    for r in readers:
        vals = truth + rng.normal(size=truth.shape) * np.asarray(noise)
        for i in range(n):
            rows.append({"case_id": f"c{i:03d}", "timepoint": 1, "reader": r, "site": "A",
                         **dict(zip(FEATURES, vals[i]))})
    df = pd.DataFrame(rows)
    df["log-sigma-2-0-mm-3D_firstorder_Energy"] = 1e10 + 1e8 * df["log-sigma-2-0-mm-3D_firstorder_Energy"]
    return df


@pytest.mark.parametrize("icc_type, label", [("ICC(2,1)", "ICC2"), ("ICC(3,1)", "ICC3"),
                                             ("ICC(1,1)", "ICC1"), ("ICC(2,k)", "ICC2k")])
def test_feature_icc_equals_icc_of_each_feature(rng, icc_type, label):
    df = _feature_table(rng, readers=(1, 2, 3))
    table = rep.feature_icc(df, by="reader", icc_type=icc_type)
    assert list(table.columns) == ["feature", "image_type", "feature_class", "ICC", "CI95%",
                                   "ci_low", "ci_high", "n_targets", "n_raters"]
    assert table["feature"].tolist() == FEATURES
    assert table.loc[3, ["image_type", "feature_class"]].tolist() == ["wavelet-LLH", "glrlm"]
    for _, row in table.iterrows():
        one = rep.icc(df, "case_id", "reader", row["feature"]).loc[label]
        np.testing.assert_allclose(row["ICC"], one["ICC"], rtol=1e-8)
        np.testing.assert_allclose([row["ci_low"], row["ci_high"]], one["CI95%"], rtol=1e-7)
        np.testing.assert_allclose(row["CI95%"], one["CI95%"], rtol=1e-7)
    assert (table["n_targets"] == 30).all() and (table["n_raters"] == 3).all()
    # less measurement noise, higher ICC (noise levels of _feature_table)
    by_name = table.set_index("feature")["ICC"]
    assert by_name[FEATURES[0]] > by_name[FEATURES[3]]


def test_feature_icc_is_scale_invariant(rng):
    df = _feature_table(rng)
    table = rep.feature_icc(df).set_index("feature")
    scaled = df.assign(original_firstorder_Mean=df["original_firstorder_Mean"] * 1e9 + 1e12)
    np.testing.assert_allclose(rep.feature_icc(scaled).set_index("feature")["ICC"], table["ICC"],
                               rtol=1e-6)


def test_feature_icc_missing_rows_and_values(rng):
    df = _feature_table(rng)
    df = df.drop(index=df.index[(df.case_id == "c001") & (df.reader == 2)])
    df.loc[(df.case_id == "c005") & (df.reader == 1), "original_glcm_Contrast"] = np.nan
    with pytest.warns(UserWarning) as record:
        table = rep.feature_icc(df, by="reader").set_index("feature")
    text = " ".join(str(w.message) for w in record)
    assert "left out 1 of 30 targets" in text and "1 features have missing values" in text
    assert table.loc["original_glcm_Contrast", "n_targets"] == 28
    assert table.loc["original_firstorder_Mean", "n_targets"] == 29
    keep = df[~df.case_id.isin(["c001", "c005"])]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ref = rep.icc(keep, "case_id", "reader", "original_glcm_Contrast").loc["ICC2", "ICC"]
    np.testing.assert_allclose(table.loc["original_glcm_Contrast", "ICC"], ref, rtol=1e-8)


@pytest.mark.parametrize("column", ["reader", "case_id"])
def test_feature_icc_rows_without_rater_or_target_are_an_error(rng, column):
    """Before: pd.factorize coded NaN as -1, which indexed the last rater/target (0.948 -> -0.029)."""
    df = _feature_table(rng)
    df[column] = df[column].astype(object)
    df.loc[5, column] = np.nan
    with pytest.raises(ValueError, match=rf"1 row\(s\) have a missing identifier in column\(s\) "
                                         rf"\['{column}'\] \(row labels \[5\]\)"):
        rep.feature_icc(df, by="reader")
    with pytest.raises(ValueError, match="missing identifier"):
        rep.icc(df, "case_id", "reader", "original_firstorder_Mean")
    # dropping the row, as the message says, gives the ICC of the complete targets
    clean = df.dropna(subset=[column])
    with pytest.warns(UserWarning, match="left out 1 of 30 targets"):
        table = rep.feature_icc(clean, by="reader").set_index("feature")
    assert table["n_targets"].eq(29).all() and table["ICC"].between(0, 1).all()


def test_ccc_and_bland_altman_count_dropped_pairs():
    x = np.array(PEFR_LARGE, float)
    y = np.array(PEFR_MINI, float)
    x[2], y[5] = np.nan, np.nan
    with pytest.warns(UserWarning, match=r"ccc: left out 2 of 17 pairs .*x: 1, y: 1"):
        res = rep.ccc(x, y)
    assert res.loc["CCC", "n"] == 15
    with pytest.warns(UserWarning, match=r"bland_altman: left out 2 of 17 pairs"):
        assert rep.bland_altman(x, y).loc["bland_altman", "n"] == 15
    assert "CI90%" in rep.ccc(PEFR_LARGE, PEFR_MINI, confidence=0.9)


def test_feature_icc_by_timepoint_uses_reader_as_target(rng):
    df = _feature_table(rng).rename(columns={"reader": "timepoint", "timepoint": "reader"})
    table = rep.feature_icc(df, by="timepoint", icc_type="ICC2")
    ref = rep.icc(df, "case_id", "timepoint", FEATURES[1]).loc["ICC2", "ICC"]
    np.testing.assert_allclose(table.loc[1, "ICC"], ref, rtol=1e-8)
    with pytest.raises(ValueError, match="icc_type must be one of"):
        rep.feature_icc(df, by="timepoint", icc_type="ICC(4,1)")
    with pytest.raises(ValueError, match="no pyradiomics feature columns"):
        rep.feature_icc(df[["case_id", "timepoint", "reader"]], by="timepoint")


# ---------------------------------------------------------------- CCC and Bland-Altman


def test_ccc_hand_computed_case():
    # x = 1..5, y = x + 1: means 3 and 4, variances (1/n) 2 and 2, covariance 2, r = 1
    # CCC = 2*2 / (2 + 2 + 1) = 0.8 (Lin 1989, eq. 2). SE (Lin 2000) with u = -1/sqrt(2):
    # var = (0 + 2*0.8^3*0.2*0.5 - 0.5*0.8^4*0.25) / (5 - 2) = 0.0512 / 3
    res = rep.ccc([1, 2, 3, 4, 5], [2, 3, 4, 5, 6]).loc["CCC"]
    assert res["CCC"] == pytest.approx(0.8, abs=1e-12)
    assert res["r"] == pytest.approx(1.0) and res["C_b"] == pytest.approx(0.8)
    se_z = np.sqrt(0.0512 / 3) / (1 - 0.8 ** 2)
    z = np.arctanh(0.8)
    expected = np.tanh([z - 1.959963984540054 * se_z, z + 1.959963984540054 * se_z])
    np.testing.assert_allclose([res["ci_low"], res["ci_high"]], expected, rtol=1e-10)
    assert rep.ccc([1, 2, 3], [1, 2, 3]).loc["CCC", "CCC"] == pytest.approx(1.0)


def test_ccc_agrees_with_alternative_formula_on_pefr_data():
    # Lin (1989) eq. 3: CCC = 1 - E[(X - Y)^2] / (s_x^2 + s_y^2 + (m_x - m_y)^2), variances /n
    x, y = np.array(PEFR_LARGE, float), np.array(PEFR_MINI, float)
    direct = 1 - np.mean((x - y) ** 2) / (x.var() + y.var() + (x.mean() - y.mean()) ** 2)
    res = rep.ccc(x, y).loc["CCC"]
    assert res["CCC"] == pytest.approx(direct, rel=1e-12)
    assert res["r"] == pytest.approx(np.corrcoef(x, y)[0, 1], rel=1e-12)
    assert res["ci_low"] < res["CCC"] < res["ci_high"] < 1
    # symmetric in x and y; a pair with a missing value is left out
    assert rep.ccc(y, x).loc["CCC", "CCC"] == pytest.approx(res["CCC"])
    assert rep.ccc(np.r_[x, np.nan], np.r_[y, 3.0]).loc["CCC", "n"] == 17


def test_bland_altman_reproduces_1986_lancet_example():
    res = rep.bland_altman(PEFR_LARGE, PEFR_MINI, loa=2).loc["bland_altman"]
    assert res["n"] == 17
    assert round(res["bias"], 1) == -2.1 and round(res["sd"], 1) == 38.8
    # the paper rounds bias and SD before computing the limits: -2.1 -/+ 2 * 38.8
    assert res["loa_low"] == pytest.approx(-79.7, abs=0.1)
    assert res["loa_high"] == pytest.approx(75.5, abs=0.1)
    t16 = 2.1199052992210112  # scipy.stats.t.ppf(0.975, 16); the paper uses 2.12
    assert (res["bias_ci_high"] - res["bias"]) / t16 == pytest.approx(9.4, abs=0.05)
    # 1999 standard error of the limits vs the 1986 approximation sqrt(3 s^2 / n) = 16.3
    se = (res["loa_high_ci_high"] - res["loa_high"]) / t16
    assert se == pytest.approx(res["sd"] * np.sqrt(1 / 17 + 4 / 32), rel=1e-12)
    assert se == pytest.approx(16.3, rel=0.03)
    assert res["p-val"] > 0.8  # no systematic difference between the meters


def test_plot_bland_altman_and_errors():
    import matplotlib.pyplot as plt

    ax = rep.plot_bland_altman(PEFR_LARGE, PEFR_MINI, units="l/min")
    assert ax.get_xlabel() == "Mean of the two measurements (l/min)"
    assert len(ax.collections[0].get_offsets()) == 17
    plt.close("all")
    with pytest.raises(ValueError, match="same number"):
        rep.bland_altman([1, 2, 3], [1, 2])


def test_plot_bland_altman_labels_and_readable_limits():
    import matplotlib.pyplot as plt

    large = pd.Series(PEFR_LARGE, name="Wright large")
    mini = pd.Series(PEFR_MINI, name="mini Wright")
    ax = rep.plot_bland_altman(large, mini, units="l/min")
    assert ax.get_ylabel() == "Difference Wright large - mini Wright (l/min)"
    ax = rep.plot_bland_altman(PEFR_LARGE, PEFR_MINI, labels=("large", "mini"), loa=2)
    assert ax.get_ylabel() == "Difference large - mini"
    # limits of Bland & Altman (1986), -79.6 and 75.4 l/min unrounded (-79.7 and 75.5 in the
    # paper, which rounds bias and SD first; see the test above), 3 significant digits
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["bias: -2.12", "-2 SD: -79.6", "+2 SD: 75.4"]
    ax = rep.plot_bland_altman(np.array(PEFR_LARGE) * 100, np.array(PEFR_MINI) * 100)
    assert ax.get_ylabel() == "Difference x - y"
    assert not any("e+" in t.get_text() for t in ax.texts) and "-212" in ax.get_title()
    with pytest.raises(ValueError, match="two names"):
        rep.plot_bland_altman(PEFR_LARGE, PEFR_MINI, labels="large")
    plt.close("all")


# ---------------------------------------------------------------- ICCFilter and summaries


def test_icc_filter_in_pipeline(rng):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    repro = _feature_table(rng)
    table = rep.feature_icc(repro)
    X = repro[repro.reader == 1].drop(columns=["case_id", "timepoint", "reader", "site"])
    X.insert(0, "age", rng.normal(60, 10, len(X)))
    y = (X["original_firstorder_Mean"] > 0).astype(int)

    filt = rep.ICCFilter(table, threshold=0.75, ci="point").fit(X)
    expected = table.loc[table["ICC"] >= 0.75, "feature"].tolist()
    assert filt.robust_features_ == expected and 0 < len(expected) < len(FEATURES)
    assert filt.get_feature_names_out().tolist() == ["age"] + expected

    strict = rep.ICCFilter(table, threshold=0.75, ci="lower").fit(X)
    assert set(strict.robust_features_) <= set(expected)
    assert strict.robust_features_ == table.loc[table["ci_low"] >= 0.75, "feature"].tolist()

    pipe = make_pipeline(rep.ICCFilter(table, ci="point", passthrough=False), StandardScaler(),
                         LogisticRegression()).set_output(transform="pandas")
    pipe.fit(X, y)
    assert pipe[:-1].get_feature_names_out().tolist() == expected
    assert list(pipe[:-1].transform(X).columns) == expected
    assert pipe.score(X, y) > 0.5
    # clonable (parameters stored unchanged), so it runs inside cross-validation
    from sklearn.model_selection import cross_val_score

    assert len(cross_val_score(pipe, X, y, cv=3)) == 3
    # plain arrays after fitting on a DataFrame
    np.testing.assert_array_equal(filt.transform(X.to_numpy()), X[["age"] + expected].to_numpy())


def test_icc_filter_learns_from_x_and_warns_on_unknown(rng):
    repro = _feature_table(rng)
    own = rep.ICCFilter(ci="point").fit(repro)
    ref = rep.feature_icc(repro)
    assert own.robust_features_ == ref.loc[ref["ICC"] >= 0.75, "feature"].tolist()
    assert "case_id" in own.get_feature_names_out()
    with pytest.warns(UserWarning, match="1 of 5 features have no ICC"):
        rep.ICCFilter(ref.iloc[1:]).fit(repro)
    with pytest.raises(TypeError, match="DataFrame"):
        rep.ICCFilter(ref).fit(repro[FEATURES].to_numpy())
    with pytest.raises(ValueError, match="ci must be one of"):
        rep.ICCFilter(ref, ci="upper").fit(repro)


def test_robust_summary_and_plots(rng):
    import matplotlib.pyplot as plt

    table = rep.feature_icc(_feature_table(rng))
    summary = rep.robust_summary(table, 0.75, ci="point")
    assert summary["n_features"].sum() == len(FEATURES)
    assert summary["n_robust"].sum() == int((table["ICC"] >= 0.75).sum())
    assert set(summary["filter"]) == {"original", "wavelet", "log"}
    ax = rep.plot_icc(table)
    assert ax.get_ylabel().startswith("ICC") and ax.get_xlabel() == "Feature class"
    ax = rep.plot_robust_fraction(table, 0.5, ci="point")
    assert ax.get_ylabel() == "Robust features (%)"
    heights = sorted(p.get_height() for p in ax.patches if p.get_height() > 0)
    expected = sorted(100 * summary.assign(f=rep.robust_summary(table, 0.5, ci="point")
                                           ["fraction_robust"])["f"].loc[lambda s: s > 0])
    np.testing.assert_allclose(heights, expected)
    plt.close("all")


def test_feature_icc_perfect_and_constant_features(rng):
    df = _feature_table(rng)
    first = df[df.reader == 1].set_index("case_id")
    same = df["case_id"].map(first["original_firstorder_Mean"])
    df["original_firstorder_Maximum"] = same                      # identical for both readers
    df["original_firstorder_Minimum"] = same + 5.0 * (df["reader"] == 2)  # constant offset only
    df["original_firstorder_Range"] = 3.0                          # no spread at all
    tiny = same + 5.0 * (df["reader"] == 2) + rng.normal(0, 1e-7, len(df))
    df["original_firstorder_Median"] = tiny
    table = rep.feature_icc(df).set_index("feature")
    assert table.loc["original_firstorder_Maximum", ["ICC", "ci_low", "ci_high"]].tolist() == [1, 1, 1]
    assert np.isnan(table.loc["original_firstorder_Range", "ICC"])
    # the offset-only case is the limit of the general Satterthwaite interval (McGraw & Wong 1996)
    cols = ["ICC", "ci_low", "ci_high"]
    np.testing.assert_allclose(table.loc["original_firstorder_Minimum", cols].astype(float),
                               table.loc["original_firstorder_Median", cols].astype(float), rtol=1e-3)


# ---------------------------------------------------------------- perturbation study (real pyradiomics)


@pytest.mark.slow
def test_perturbation_study_on_demo_cases(small_demo, tmp_path):
    import SimpleITK as sitk

    from radnb.reproducibility._perturbation import _plan
    from radnb.extract import load_params

    params = load_params("ct")
    params["featureClass"] = {"shape": None, "firstorder": None}
    cohort = small_demo[(small_demo.reader == 1) & (small_demo.timepoint == 1)].head(4).copy()
    broken = cohort.iloc[[0]].assign(case_id="broken", mask=str(tmp_path / "missing_mask.nii.gz"))
    cohort = pd.concat([cohort, broken], ignore_index=True)

    with pytest.warns(UserWarning, match="see result.errors"):
        res = rep.perturbation_study(cohort, n=3, params=params, seed=3, cache_dir=tmp_path,
                                     n_jobs=1, progress=False, include_original=True)
    # the broken case becomes error rows naming it; the four good cases are all kept
    # (perturbations 1-3 fail when perturbing; the original, index 0, fails in the extractor)
    assert set(res.errors["case_id"]) == {"broken"}
    perturb_errors = res.errors[res.errors["stage"] == "perturb"]
    assert sorted(perturb_errors["reader"]) == [1, 2, 3]
    assert perturb_errors["message"].str.contains("missing_mask.nii.gz").all()
    assert res.errors.loc[res.errors["stage"] != "perturb", "reader"].tolist() == [0]
    readers = res.features.groupby("case_id")["reader"].apply(sorted).map(tuple)
    assert readers.unique().tolist() == [(0, 1, 2, 3)] and len(readers) == 4
    assert len(res.perturbations) == 3 and set(res.perturbations["volume"]) <= {"dilate", "erode"}

    # perturbed masks are real files on the image grid, and differ from the original
    original = sitk.ReadImage(cohort["mask"].iloc[0])
    n_orig = int(sitk.GetArrayViewFromImage(original).astype(bool).sum())
    counts = []
    for path in res.manifest.query("case_id == @cohort.case_id.iloc[0] and reader > 0")["mask"]:
        m = sitk.ReadImage(path)
        assert m.GetSize() == original.GetSize() and m.GetSpacing() == pytest.approx(original.GetSpacing())
        counts.append(int(sitk.GetArrayViewFromImage(m).astype(bool).sum()))
    assert all(c > 0 for c in counts) and any(c != n_orig for c in counts)

    # the ICC table is feature_icc over the perturbation index
    ref = rep.feature_icc(res.features, by="reader")
    pd.testing.assert_series_equal(res.icc["ICC"], ref["ICC"])
    assert (res.icc["n_raters"] == 4).all() and (res.icc["n_targets"] == 4).all()
    # volume and its perturbed versions: still highly correlated between cases
    assert res.icc.set_index("feature").loc["original_shape_VoxelVolume", "ICC"] > 0.5

    # same seed: cached masks are reused, not rewritten
    mtimes = {p: Path(p).stat().st_mtime_ns for p in res.manifest.query("reader > 0")["mask"]}
    again = rep.perturbation_study(cohort.iloc[:4], n=3, params=params, seed=3, cache_dir=tmp_path,
                                   n_jobs=1, progress=False, include_original=True)
    assert {p: Path(p).stat().st_mtime_ns for p in mtimes} == mtimes
    pd.testing.assert_frame_equal(again.icc, res.icc)
    # another seed draws other perturbations
    assert not _plan(3, ("dilate", "erode", "contour"), 4, (0.5, 2.0)).equals(
        res.perturbations)


def test_perturbation_study_checks_input(small_demo):
    with pytest.raises(ValueError, match="pass one reader's rows"):
        rep.perturbation_study(small_demo[small_demo.timepoint == 1], n=2, progress=False)
    with pytest.raises(ValueError, match="kinds must be one of"):
        rep.perturbation_study(small_demo.head(2), kinds=("rotate",), progress=False)
