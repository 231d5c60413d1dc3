"""Table 1, univariate screening, the Rad-score model and the nomogram: the public functions.

Public names are re-exported by :mod:`radnb.stats`, which documents the step.
"""
from __future__ import annotations

import numpy as np

from radnb.stats._nomogram import Nomogram
from radnb.stats._radscore import DEFAULT_CS, fit_radscore, leakage_table
from radnb.stats._selection import univariate as _univariate
from radnb.stats._tableone import make_table_one



def table_one(df, groupby=None, columns=None, categorical=None, nonnormal=None, *,
              normal_alpha=0.05, decimals=1, pval=True, labels=None):
    """Table 1: patient characteristics, overall and by group, with p-values.

    The test for each variable is chosen before looking at the data, not by a
    normality pretest. By default every continuous variable is summarised as
    median [Q1,Q3] and compared with a rank test (Mann-Whitney U for 2 groups,
    Kruskal-Wallis for 3+), which is valid whatever the shape of the
    distribution. Variables listed in ``nonnormal`` are the rank-based ones:
    pass ``nonnormal=[]`` to show every continuous variable as mean (SD) with
    Welch's t-test (2 groups) or one-way ANOVA, or a list to choose per
    variable. ``nonnormal="shapiro"`` restores the Shapiro-Wilk pretest at
    ``normal_alpha``; it is discouraged (the choice then depends on the sample
    size and the pretest changes the error rate of the second test; Rochon et
    al. 2012). Categorical variables are n (%), chi-square test, or Fisher's
    exact test for a 2x2 table with an expected count < 5. The test used is in
    ``.tests["test"]``: state it in the Methods.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per patient.
    groupby : str, optional
        Column defining the groups compared (e.g. ``"outcome"``).
    columns : list of str, optional
        Variables to show (default: all but ``groupby``).
    categorical : list of str, optional
        Default: text/boolean columns and whole numbers with at most 5 values.
    nonnormal : list of str or "shapiro", optional
        Continuous variables to summarise as median [Q1,Q3] and test rank-based
        (default: all of them; ``[]``: none, i.e. mean (SD) and Welch / ANOVA;
        ``"shapiro"``: decided by a Shapiro-Wilk pretest, discouraged).
    normal_alpha : float, default 0.05
        Level of the Shapiro-Wilk pretest; used only with ``nonnormal="shapiro"``.
    decimals : int, default 1
    pval : bool, default True
    labels : dict, optional
        Display names, e.g. ``{"age": "Age (years)"}``.

    Returns
    -------
    TableOneResult
        ``.table`` (formatted DataFrame), ``.tests`` (tidy: ``type``,
        ``summary``, ``test``, ``p-val``), ``.style()`` (Styler), ``.to_frame()``.

    References
    ----------
    Pollard TJ et al. tableone: an open source Python package for producing
    summary statistics for research papers. JAMIA Open 2018;1:26-31.
    Rochon J, Gondan M, Kieser M. To test or not to test: preliminary assessment
    of normality when comparing two independent samples. BMC Med Res Methodol
    2012;12:81.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"age": [61, 70, 55, 66, 59, 73], "sex": list("MFMFMM"),
    ...                    "outcome": [0, 1, 0, 1, 0, 1]})
    >>> t1 = table_one(df, groupby="outcome")
    >>> t1.tests.loc["age", "test"]
    'Mann-Whitney U'
    >>> table_one(df, groupby="outcome", nonnormal=[]).tests.loc["age", "test"]
    'Welch’s T-test'
    """
    result = make_table_one(df, groupby, columns, categorical, nonnormal, normal_alpha=normal_alpha,
                            decimals=decimals, pval=pval, labels=labels)
    from radnb._utils.provenance import record  # what radnb.Study reports (no-op outside one)
    flat = result.to_frame().astype(str)
    record("stats.table_one", groupby=groupby, n=len(df), variables=list(result.tests.index.astype(str)),
           tests=[str(v) for v in result.tests["test"]],
           columns=list(flat.columns), rows=flat.to_numpy().tolist())
    return result


def univariate(features, outcome, *, test="mannwhitney", columns=None, alpha=0.05):
    """Test every feature against a binary outcome, with Benjamini-Hochberg FDR.

    Parameters
    ----------
    features : pandas.DataFrame
        Feature table (pyradiomics columns are found automatically; for other
        tables, every numeric non-identifier column, or ``columns``).
    outcome : str or array-like
        Name of the 0/1 outcome column, or the values (1 = event/positive).
    test : {"mannwhitney", "ttest"}, default "mannwhitney"
        Mann-Whitney U (effect size: rank-biserial correlation ``2*AUC - 1``)
        or Welch's t-test (effect size: Cohen's d with pooled SD).
    columns : list of str, optional
    alpha : float, default 0.05
        FDR level for the ``significant`` column.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``feature``: ``n``, ``test``, ``statistic``, ``p-val``,
        ``p-fdr`` (BH-adjusted), ``significant`` (``p-fdr < alpha``), ``AUC``
        (>= 0.5, with ``direction``: "higher"/"lower" values in outcome 1),
        ``effsize`` (signed: > 0 = higher in outcome 1), ``effsize_type``.
        Constant features get NaN and are left out of the FDR correction.

    Warns
    -----
    UserWarning
        When features have missing values: each is tested on its complete
        cases (column ``n``), and the warning counts the values left out.

    References
    ----------
    Benjamini Y, Hochberg Y. Controlling the false discovery rate. J R Stat Soc B
    1995;57:289-300. Kerby DS. The simple difference formula: an approach to
    teaching nonparametric correlation. Compr Psychol 2014;3:11.IT.3.1.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 30)
    >>> X = pd.DataFrame({"signal": y + rng.normal(size=60), "noise": rng.normal(size=60)})
    >>> univariate(X, y).loc["signal", "significant"]
    np.True_
    """
    return _univariate(features, outcome, test=test, columns=columns, alpha=alpha)


def plot_volcano(table, *, ax=None, alpha=0.05, n_labels=5):
    """Volcano plot of a :func:`univariate` table: effect size vs -log10(p).

    Features passing the FDR threshold are highlighted; the dashed line is the
    uncorrected p = ``alpha``, so the points above it but not highlighted are the
    "discoveries" that FDR control throws out.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`univariate` (``p-val``, ``p-fdr``, ``effsize``).
    ax : matplotlib.axes.Axes, optional
    alpha : float, default 0.05
    n_labels : int, default 5
        Name the features with the smallest p-values (0: no labels). Labels
        are small, kept apart and inside the axes; the legend sits to the
        right of the axes, outside the data.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_volcano(univariate(X, y), n_labels=3)  # doctest: +SKIP
    """
    from radnb.stats._volcano import volcano

    return volcano(table, ax=ax, alpha=alpha, n_labels=n_labels)


def plot_correlation(features, *, method="spearman", columns=None, max_features=200, **kwargs):
    """Clustered heat map of absolute feature correlations (seaborn ``clustermap``).

    Features are ordered by average-linkage clustering of ``1 - |rho|`` (the
    distance :class:`CorrelationFilter` uses). Figure-level: returns the seaborn
    ``ClusterGrid`` (its ``.figure`` goes into a report); at most
    ``max_features`` constant-free features are shown. Clusters of dark squares
    are groups of redundant features that
    :class:`CorrelationFilter` reduces to one representative each.

    Examples
    --------
    >>> grid = plot_correlation(features)  # doctest: +SKIP
    """
    import seaborn as sns
    from scipy.cluster.hierarchy import linkage
    from scipy.spatial.distance import squareform

    from radnb.stats._selection import split_xy

    X, _ = split_xy(features, np.zeros(len(features), dtype=int), columns)
    X = X.loc[:, X.std() > 0].iloc[:, :max_features]
    rho = X.corr(method=method).abs()
    dist = (1 - rho.to_numpy()).clip(0, 1)
    np.fill_diagonal(dist, 0)
    tree = linkage(squareform(dist, checks=False), method="average")  # same distance as the filter
    kwargs = {"cmap": "rocket_r", "vmin": 0, "vmax": 1, "figsize": (8, 8),
              "xticklabels": len(rho) <= 40, "yticklabels": len(rho) <= 40,
              "cbar_kws": {"label": f"|{method} correlation|"}, **kwargs}
    return sns.clustermap(rho, row_linkage=tree, col_linkage=tree, **kwargs)


def radscore_model(features, outcome, *, columns=None, harmonize=None, outer_cv=5, inner_cv=5,
                   seed=0, threshold=0.9, l1_ratio=1.0, Cs=DEFAULT_CS, rule="1se", n_jobs=None,
                   max_missing=0.5, impute="median", confidence=0.95):
    """Build a Rad-score (LASSO logistic regression) and estimate its AUC honestly.

    The whole pipeline - missing-value filter -> [ComBat ->] standardisation ->
    :class:`CorrelationFilter` -> L1/elastic-net logistic regression - is fitted
    inside every fold of a
    nested cross-validation: the inner CV (``inner_cv`` folds) picks the penalty
    ``C`` from ``Cs`` (``rule="1se"``: the sparsest model within one SE of the
    best inner AUC), the outer CV (``outer_cv`` folds) measures the AUC on
    patients the whole procedure never saw. Finally the procedure is repeated
    on all patients to give the model to report.

    Parameters
    ----------
    features : pandas.DataFrame
    outcome : str or array-like
        0/1 outcome column name or values.
    columns : list of str, optional
        Feature columns (default as in :func:`univariate`).
    harmonize : None, str or radnb.harmonize.ComBat
        Site column name or a ComBat instance: ComBat is then fitted inside
        every fold (the site/covariate columns must be in ``features``).
    outer_cv, inner_cv : int, default 5
    seed : int, default 0
    threshold : float, default 0.9
        Correlation threshold of the redundancy filter.
    l1_ratio : float, default 1.0
        1 = LASSO; < 1 = elastic net.
    Cs : sequence of float
        Candidate inverse penalties (default 10 values from 0.01 to 10).
    rule : {"1se", "best"}
    n_jobs : int, optional
        Parallel inner-CV fits (keep None on Binder).
    max_missing : float, default 0.5
        Features missing in more than this fraction of the *training* rows are
        dropped (:class:`MissingValueFilter`, refitted in every fold).
    impute : {"median", "mean", None}, default "median"
        How the remaining missing values are filled, with training-fold values.
        ``None``: no missing-data step; every patient with a missing feature
        value is dropped (complete-case analysis), with a warning.
    confidence : float, default 0.95
        Level of the DeLong interval of the out-of-fold AUC.

    Returns
    -------
    RadscoreResult
        ``auc`` with ``auc_ci`` (pooled out-of-fold predictions, DeLong),
        ``auc_mean`` (mean fold AUC), ``folds``, ``oof`` (out-of-fold
        predictions), ``counts`` (patients given / used, events, features in /
        kept / selected), ``missing`` (settings and dropped features),
        ``selection_frequency``, ``model`` (refitted on all data),
        ``coefficients``, ``predict_proba(table)``, ``formula()``,
        ``summary()`` (odds ratios), ``errors`` (patients left out and why).

    Warns
    -----
    UserWarning
        When patients are left out (missing outcome, or site when harmonising;
        with ``impute=None`` any missing value): how many and why.

    Notes
    -----
    The transformers before the penalised regression do not depend on the
    penalty, so they are fitted once per training set and reused across
    ``Cs`` (a joblib cache in a temporary folder): ComBat costs one fit per
    fold, not one per penalty value.

    References
    ----------
    Varma S, Simon R. Bias in error estimation when using cross-validation for
    model selection. BMC Bioinformatics 2006;7:91. Tibshirani R. J R Stat Soc B
    1996;58:267-88. Huang YQ et al. Development and validation of a radiomics
    nomogram... J Clin Oncol 2016;34:2157-64 (Rad-score).

    Examples
    --------
    >>> res = radscore_model(features, "outcome")  # doctest: +SKIP
    >>> res.auc, res.auc_ci  # doctest: +SKIP
    >>> p_external = res.predict_proba(external_table)  # doctest: +SKIP
    >>> print(res.formula())  # doctest: +SKIP
    """
    res = fit_radscore(features, outcome, columns=columns, harmonize=harmonize,
                       outer_cv=outer_cv, inner_cv=inner_cv, seed=seed, threshold=threshold,
                       l1_ratio=l1_ratio, Cs=Cs, rule=rule, n_jobs=n_jobs,
                       max_missing=max_missing, impute=impute, confidence=confidence)
    from radnb._utils.provenance import record  # what radnb.Study reports (no-op outside one)
    from radnb.stats._radscore import _as_combat

    cb = None if harmonize is None else _as_combat(harmonize)
    record("stats.radscore_model", model="L1-penalised (LASSO) logistic regression" if l1_ratio == 1
           else f"elastic-net logistic regression (l1_ratio {l1_ratio})", outer_cv=outer_cv,
           inner_cv=inner_cv, seed=seed, correlation_threshold=threshold, Cs=[float(c) for c in Cs],
           rule=rule, harmonize=None if cb is None else cb.batch_col, n_given=len(features),
           n_used=len(res.y), n_excluded=len(res.errors), n_events=int(np.sum(res.y)),
           n_candidates=res.X.shape[1] - (0 if cb is None else 1 + len(cb.covariate_cols)),
           auc=res.auc, auc_ci=[float(v) for v in res.auc_ci], auc_mean=res.auc_mean,
           confidence=confidence, max_missing=max_missing, impute=impute, fold_auc=res.folds["AUC"].tolist(),
           best_C=float(res.best_C), selected=res.selected, intercept=res.intercept,
           coefficients=res.coefficients["coef"].astype(float).to_dict(),
           oof_outcome=res.oof["outcome"].astype(int).tolist(),
           oof_probability=res.oof["probability"].tolist())
    return res


def leakage_demo(features=None, outcome=None, *, n_samples=100, n_features=500, k=10, cv=5,
                 seed=0):
    """Show how selecting features before cross-validation inflates the AUC.

    On data without any signal (pure noise, or your ``features`` with the
    ``outcome`` shuffled), the ``k`` features most associated with the outcome
    (ANOVA F-test) are chosen either once on all data and then cross-validated
    (leaky: optimistic AUC), or inside each training fold (honest: AUC ~ 0.5).

    Returns
    -------
    pandas.DataFrame
        Rows ``"outside CV (leaky)"`` and ``"inside CV (honest)"`` with mean
        ``AUC`` and ``AUC_sd`` over folds.

    References
    ----------
    Ambroise C, McLachlan GJ. Selection bias in gene extraction on the basis
    of microarray gene-expression data. PNAS 2002;99:6562-6.

    Examples
    --------
    >>> leakage_demo(n_samples=60, n_features=200)  # doctest: +SKIP
    """
    return leakage_table(features, outcome, n_samples=n_samples, n_features=n_features, k=k,
                         cv=cv, seed=seed)


def plot_nomogram(model, data, *, ax=None, labels=None, quantiles=(0.01, 0.99),
                  outcome="outcome"):
    """Draw a nomogram of a logistic regression model (e.g. clinical + Rad-score).

    Each predictor gets a points axis: the predictor whose effect spans the
    widest range of the linear predictor (between the ``quantiles`` of ``data``)
    gets 0-100 points; the others are scaled alike. Adding the points gives the
    total, read off against the probability axis. :class:`Nomogram` holds the
    same arithmetic (``points``, ``probability``) for checking by hand.

    Parameters
    ----------
    model : statsmodels Logit result or sklearn LogisticRegression
        Fitted with an intercept; sklearn models must be fitted on a DataFrame.
        :func:`fit_logistic` gives one. A penalised scikit-learn model (its
        default) draws shrunk effects and gives a warning.
    data : pandas.DataFrame
        Data holding the predictors (sets the axis ranges).
    ax : matplotlib Axes, optional
    labels : dict, optional
        Display names of the predictors.
    quantiles : (float, float), default (0.01, 0.99)
    outcome : str
        Name of the outcome for the probability axis.

    Returns
    -------
    matplotlib.axes.Axes

    References
    ----------
    Iasonos A, Schrag D, Raj GV, Panageas KS. How to build and interpret a
    nomogram for cancer prognosis. J Clin Oncol 2008;26:1364-70.

    Examples
    --------
    >>> model = fit_logistic(data, "outcome", ["radscore", "age"])  # doctest: +SKIP
    >>> ax = plot_nomogram(model, data, labels={"age": "Age (years)"})  # doctest: +SKIP
    """
    from radnb.stats._nomogram import warn_if_penalised

    warn_if_penalised(model)
    return Nomogram(model, data, quantiles=quantiles).plot(ax=ax, labels=labels, outcome=outcome)
