"""ComBat against the neuroCombat reference outputs, and the transformer's contract."""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from radnb.harmonize import ComBat, combat, plot_site_pca, site_effect

def _variants(reference_dir):
    return sorted((reference_dir / "combat" / "expected").glob("testdata_combat_*_r.csv"))


def _reference_files():
    # same location rule as the ``reference_dir`` fixture (conftest.py)
    shared = Path(os.environ.get("RADNB_SHARED_DATA", Path(__file__).resolve().parents[2]
                                 / "shared" / "data"))
    folder = shared / "reference" / "combat" / "expected"
    return sorted(p.name for p in folder.glob("testdata_combat_*_r.csv")) or ["missing"]


def _testdata(reference_dir):
    # neuroCombat's test data: 200 features (rows) x 10 scans (columns)
    raw = pd.read_csv(reference_dir / "combat" / "testdata.csv")
    features = raw.T.set_axis([f"feature{i}" for i in range(raw.shape[0])], axis=1)
    batch = np.array([1] * 5 + [2] * 5)
    gender = pd.Series(pd.Categorical([1, 2] * 5), index=features.index, name="gender")
    return features, batch, gender


@pytest.mark.data
@pytest.mark.parametrize("name", _reference_files())
def test_combat_matches_neurocombat_reference(reference_dir, name):
    """Every variant agrees with the R neuroCombat output (Fortin et al. 2018) to 1e-6.

    Reference: github.com/Jfortin1/neuroCombat testdata + R outputs (MIT), where R
    and Python neuroCombat agree to 1e-12.
    """
    path = reference_dir / "combat" / "expected" / name
    if not path.exists():
        pytest.skip(f"{path} not found")
    features, batch, gender = _testdata(reference_dir)
    expected = pd.read_csv(path).T.to_numpy()
    kwargs = dict(
        parametric="_parametric" in name,
        eb="noeb" not in name,
        mean_only="meanonl" in name,
        ref_batch=1 if "batchref" in name else None,
        covariates=gender if "_adjusted" in name else None,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = combat(features, batch, **kwargs)
    assert out.shape == features.shape
    assert out.index.equals(features.index) and out.columns.equals(features.columns)
    np.testing.assert_allclose(out.to_numpy(), expected, atol=1e-6, rtol=0)
    # the positivity guard speaks exactly when a strictly positive feature went <= 0
    went_negative = ((features > 0).all() & (out <= 0).any()).any()
    warned = any("strictly positive" in str(w.message) for w in caught)
    assert warned == bool(went_negative)


@pytest.mark.data
def test_all_reference_variants_are_covered(reference_dir):
    names = {p.name for p in _variants(reference_dir)}
    assert len(names) >= 32  # 2 EB kinds x adjusted/not x eb/noeb x meanonly x batchref


@pytest.mark.data
def test_transformer_fit_transform_equals_function(reference_dir):
    features, batch, gender = _testdata(reference_dir)
    df = features.assign(site=batch, gender=gender, case_id=[f"c{i}" for i in range(10)])
    cb = ComBat(covariate_cols=("gender",)).set_output(transform="pandas")
    out = cb.fit_transform(df)
    expected = combat(features, batch, covariates=gender)
    np.testing.assert_allclose(out[features.columns].to_numpy(), expected.to_numpy(), atol=1e-12)
    # non-feature columns pass through in place
    assert list(out.columns) == list(df.columns)
    assert (out["case_id"] == df["case_id"]).all() and (out["site"] == df["site"]).all()
    assert list(cb.get_feature_names_out()) == list(df.columns)
    assert cb.gamma_star_.shape == (2, 200) and cb.beta_covariates_.index.tolist() == ["gender[2]"]


def _sites(rng, n_per_site=40, n_feat=6):
    site = np.repeat(["A", "B", "C"], n_per_site)
    age = rng.normal(60, 10, site.size)
    shift = pd.Series({"A": 0.0, "B": 3.0, "C": -2.0})[site].to_numpy()
    scale = pd.Series({"A": 1.0, "B": 2.0, "C": 0.5})[site].to_numpy()
    data = {
        f"original_firstorder_F{j}": 10 + 0.1 * age + (rng.normal(size=site.size) * scale + shift)
        for j in range(n_feat)
    }
    return pd.DataFrame({"case_id": [f"p{i:03d}" for i in range(site.size)], "site": site,
                         "age": age, **data})


def test_transformer_learns_from_training_rows_only(rng):
    df = _sites(rng)
    train, test = df.iloc[::2], df.iloc[1::2]
    cb = ComBat(covariate_cols=("age",)).fit(train)
    refit = ComBat(covariate_cols=("age",)).fit(train)
    out_a = cb.transform(test)
    # transform does not depend on which other rows are transformed with it
    out_b = pd.concat([cb.transform(test.iloc[:10]), cb.transform(test.iloc[10:])])
    np.testing.assert_allclose(out_a.iloc[:, 3:], out_b.iloc[:, 3:])
    pd.testing.assert_frame_equal(cb.gamma_star_, refit.gamma_star_)
    # the site effect is gone on the held-out half, the age effect kept
    feats = [c for c in df.columns if c.startswith("original")]
    means = out_a.groupby("site")[feats].mean().mean(axis=1)
    assert means.max() - means.min() < 0.6
    sds = (out_a[feats].to_numpy() - 0.1 * test[["age"]].to_numpy())
    site_sd = pd.DataFrame(sds).groupby(test["site"].to_numpy()).std().mean(axis=1)
    assert site_sd.max() / site_sd.min() < 1.5
    slope = np.polyfit(out_a["age"], out_a[feats[0]], 1)[0]
    assert abs(slope - 0.1) < 0.05


def test_unknown_site_is_named_and_add_site_learns_it(rng):
    df = _sites(rng)
    cb = ComBat().fit(df[df.site != "C"])
    with pytest.raises(ValueError, match="'C'.*add_site"):
        cb.transform(df[df.site == "C"])
    new = df[df.site == "C"]
    out = cb.add_site(new).transform(new)
    assert "C" in list(cb.sites_)
    with pytest.raises(ValueError, match="already known"):
        cb.add_site(new)
    # refitting forgets the added site
    cb.fit(df[df.site != "C"])
    assert list(cb.sites_) == ["A", "B"] and list(cb.gamma_star_.index) == ["A", "B"]
    feats = [c for c in df.columns if c.startswith("original")]
    train_mean = cb.transform(df[df.site != "C"])[feats].mean().mean()
    assert abs(out[feats].mean().mean() - train_mean) < 0.5


def test_reference_site_unchanged_and_validation(rng):
    df = _sites(rng)
    out = ComBat(ref_batch="A").fit(df).transform(df)
    pd.testing.assert_frame_equal(out[df.site == "A"], df[df.site == "A"])
    with pytest.raises(ValueError, match="one row per row"):
        combat(df[["original_firstorder_F0", "original_firstorder_F1"]], df["site"],
               covariates=df[["age"]].iloc[:10])
    with pytest.raises(ValueError, match="ref_batch 'Z'"):
        ComBat(ref_batch="Z").fit(df)
    with pytest.raises(ValueError, match="at least 2 cases"):
        ComBat().fit(df.iloc[:41])
    bad = df.copy()
    bad.iloc[0, 3] = np.nan
    with pytest.raises(ValueError, match="missing values"):
        ComBat().fit(bad)
    conf = df.assign(scanner=df.site.map({"A": "x", "B": "y", "C": "y"}))
    with pytest.raises(ValueError, match="confounded"):
        ComBat(covariate_cols=("scanner",)).fit(conf)


def test_numeric_columns_used_when_no_pyradiomics_names(rng):
    df = pd.DataFrame({"site": np.repeat(["A", "B"], 10), "x": rng.normal(size=20),
                       "label": ["t"] * 20})
    df.loc[df.site == "B", "x"] += 5
    with pytest.warns(UserWarning, match="at least 2 features"):
        cb = ComBat().fit(df)
    assert cb.features_ == ["x"]
    out = cb.transform(df)
    assert (out["label"] == "t").all()


def test_in_pipeline_with_set_output(rng):
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    df = _sites(rng)
    y = (df["original_firstorder_F0"] > df["original_firstorder_F0"].median()).astype(int)
    feats = [c for c in df.columns if c.startswith("original")]
    pipe = make_pipeline(
        ComBat(), ColumnTransformer([("f", "passthrough", feats)]), LogisticRegression()
    ).set_output(transform="pandas")
    pipe.fit(df, y)
    assert pipe.predict_proba(df).shape == (len(df), 2)


def test_site_effect_before_after_and_against_scipy(rng):
    from scipy.stats import kruskal

    df = _sites(rng)
    before = site_effect(df.drop(columns="age"), "site")
    f = "original_firstorder_F0"
    h, p = kruskal(*[g[f] for _, g in df.groupby("site")])
    row = before.set_index("feature").loc[f]
    assert row["H"] == pytest.approx(h) and row["p-val"] == pytest.approx(p)
    assert (before["p-adj"] >= before["p-val"]).all() and (before["p-adj"] < 1e-6).all()
    after = site_effect(combat(df.drop(columns=["case_id", "site", "age"]), df["site"]),
                        df["site"])
    assert (after["p-adj"] > 0.05).all()


def test_plot_site_pca(rng):
    import matplotlib

    matplotlib.use("Agg")
    df = _sites(rng)
    ax = plot_site_pca(df.drop(columns=["age"]), "site")
    assert "PC1" in ax.get_xlabel() and len(ax.collections) == 3


def test_mean_only_parametric_eb_removes_a_large_shift_only_partly(rng):
    # documented in combat's Notes: as in sva ComBat(mean.only=TRUE) / neuroCombat (whose
    # output this mode matches, see test_combat_matches_neurocombat_reference), the
    # posterior shift uses n = 1, so a 3-SD shift in 1 of 10 features keeps about 2 SD.
    n, p = 40, 10
    X = pd.DataFrame(rng.normal(size=(2 * n, p)), columns=[f"original_firstorder_F{i}" for i in range(p)])
    site = np.repeat(["A", "B"], n)
    X.loc[n:, "original_firstorder_F0"] += 3.0

    def gap(out):
        return float(out[site == "B"].iloc[:, 0].mean() - out[site == "A"].iloc[:, 0].mean())

    assert 1.5 < gap(combat(X, site, mean_only=True)) < 2.7
    assert abs(gap(combat(X, site))) < 0.5
    assert abs(gap(combat(X, site, mean_only=True, eb=False))) < 1e-8


# --- issue 10: harmonisation guards -------------------------------------------------------

def _two_sites(rng, n=60, prevalence=(0.3, 0.8)):
    site = np.repeat(["A", "B"], n)
    y = np.r_[rng.random(n) < prevalence[0], rng.random(n) < prevalence[1]].astype(int)
    X = pd.DataFrame(rng.normal(size=(2 * n, 4)) + 0.8 * y[:, None],
                     columns=[f"original_firstorder_F{i}" for i in range(4)])
    X.loc[site == "B"] += 1.0
    return X.assign(site=site), y


def test_combat_warns_when_outcome_rate_differs_by_site(rng):
    from scipy.stats import chi2_contingency

    X, y = _two_sites(rng)
    with pytest.warns(UserWarning, match=r"outcome rate differs between sites \(A: \d+%, B: \d+%"):
        ComBat().fit(X, y)
    # the p-value is Pearson's chi-square of the site x outcome table (scipy)
    from radnb.harmonize._guards import site_outcome_association

    p, rate = site_outcome_association(X["site"], y)
    assert p == pytest.approx(chi2_contingency(pd.crosstab(X["site"], y), correction=False)[1])
    assert rate["B"] > rate["A"]
    balanced, yb = _two_sites(rng, prevalence=(0.5, 0.5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if site_outcome_association(balanced["site"], yb)[0] >= 0.05:
            ComBat().fit(balanced, yb)  # no warning without association
    with pytest.warns(UserWarning, match="outcome rate differs"):
        combat(X.drop(columns="site"), X["site"], outcome=y)


def test_combat_warns_on_positive_features_made_negative_and_log_transform_fixes_it(rng):
    n = 40
    site = np.repeat(["A", "B"], n)
    # all > 0; site A narrow, site B wide and skewed: ComBat stretches A below 0
    X = pd.DataFrame({f"original_shape_F{i}": np.r_[rng.normal(10, 1, n),
                                                    rng.lognormal(2, 0.8, n)] for i in range(8)})
    feats = list(X.columns)
    X["site"] = site
    with pytest.warns(UserWarning, match=r"strictly positive .*original_shape_F"):
        out = ComBat().fit(X).transform(X)
    assert (out[feats] <= 0).any().any()  # the finding: negative volumes
    cb = ComBat(log_transform=True).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        logged = cb.transform(X)
    assert (logged[feats] > 0).all().all() and cb.log_features_.all()
    # on the log scale it is ComBat of log(feature), transformed back
    ref = combat(np.log(X[feats]), site)
    np.testing.assert_allclose(np.log(logged[feats]), ref, rtol=1e-10)


def test_site_pca_is_not_flattened_by_one_outlier(rng):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    site = np.repeat(["A", "B"], 40)
    X = pd.DataFrame(rng.normal(size=(80, 10)), columns=[f"f{i}" for i in range(10)])
    X.loc[site == "B"] += 1.5
    X.iloc[0] = 1e4  # one broken case
    ax = plot_site_pca(X, site)
    pts = np.vstack([c.get_offsets() for c in ax.collections])
    a, b = pts[1:40], pts[40:]
    gap = np.linalg.norm(a.mean(axis=0) - b.mean(axis=0))
    spread = np.sqrt((a.var(axis=0).sum() + b.var(axis=0).sum()) / 2)
    assert gap > spread  # the two sites stay apart; the outlier does not own the axes
    assert "robust" in ax.get_xlabel()
    plt.close("all")


def test_radscore_harmonize_reuses_combat_and_warns_once(rng):
    from radnb import stats
    from radnb.stats._radscore import fit_radscore

    X, y = _two_sites(rng, n=45)
    with pytest.warns(UserWarning, match="radscore_model\\(harmonize=...\\): ComBat: the outcome"):
        res = stats.radscore_model(X, y, harmonize="site", outer_cv=3, inner_cv=3,
                                   Cs=[0.1, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = fit_radscore(X, y, harmonize="site", outer_cv=3, inner_cv=3, Cs=[0.1, 1.0],
                             cache=False)
    # the cache changes the cost, not the result
    np.testing.assert_allclose(res.oof["probability"], plain.oof["probability"], rtol=1e-12)


def test_combat_warnings_point_at_the_users_line():
    """A warning names the line of the notebook or script that called radnb, not radnb's own
    (through scikit-learn's fit_transform / set_output wrappers and a Pipeline too)."""
    import warnings

    from sklearn.pipeline import make_pipeline

    from radnb.harmonize import ComBat, combat

    rng = np.random.default_rng(0)
    site_a = np.where(rng.random(30) < 0.1, 10.0, 0.01)  # skewed, wide: site B's values are
    table = pd.DataFrame({"original_shape_VoxelVolume": np.r_[site_a, rng.normal(1, 0.01, 30)],
                          "site": ["A"] * 30 + ["B"] * 30})  # stretched below zero by ComBat
    calls = [
        lambda: ComBat(batch_col="site").fit_transform(table),
        lambda: ComBat(batch_col="site", eb=False).fit(table).transform(table),
        lambda: make_pipeline(ComBat(batch_col="site", eb=False)).fit_transform(table),
        lambda: combat(table[["original_shape_VoxelVolume"]], table["site"]),
    ]
    for call in calls:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call()
        assert any("strictly positive" in str(w.message) for w in caught)
        assert {w.filename for w in caught} == {__file__}, [(w.filename, w.lineno) for w in caught]
