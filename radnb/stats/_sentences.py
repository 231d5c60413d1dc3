"""Sentences built from results: a screen of many tests, a comparison, an AUC's direction,
where a confidence interval lies.

A tutorial or a report that types "ComBat improves the AUC" can be contradicted by
its own output the day the data change. These helpers write the sentence from the
numbers instead, and never read a missing significance as "no relation".
"""
from __future__ import annotations

import numpy as np

from radnb._utils.i18n import tidy_sentence, tr
from radnb._utils.validation import check_range
from radnb.stats._phrases import known_phrase as _phrase
from radnb.stats._reporting import interpret_p

__all__ = ["describe_screen", "compare_values", "describe_auc", "describe_interval"]


def _text(name, value):
    if not isinstance(value, str) or not value.strip():
        raise ValueError(tr("{name} must be a short non-empty text; got {value!r}.").format(
            name=name, value=value))
    return value.strip()


@tidy_sentence
def describe_screen(q, what, *, items="features", fdr=0.05):
    """One sentence reading a screen of many tests corrected by the false discovery rate.

    The false discovery rate (FDR) is the expected share of false findings
    among the tests called significant; the Benjamini-Hochberg q-value of a
    test is the smallest FDR at which it would be called significant
    (Benjamini & Hochberg, J R Stat Soc B 1995;57:289-300). Tests that do not
    reach the threshold are *not* shown to be unrelated.

    Parameters
    ----------
    q : array-like of float
        Benjamini-Hochberg adjusted p-values (q-values), one per test; missing
        values (a test that could not be computed) are counted separately.
    what : str
        What a significant test shows, phrased to follow "evidence that they",
        e.g. ``"differ between sites"``.
    items : str, default "features"
        What was tested, plural (``"features"``, ``"feature-gene pairs"``).
    fdr : float, default 0.05
        The false discovery rate at which tests are called significant.

    Returns
    -------
    str

    Examples
    --------
    >>> describe_screen([0.001, 0.02, 0.3, 0.9], "differ between sites")
    '2 of 4 features show evidence at a false discovery rate of 5% that they differ between sites (Benjamini-Hochberg q < 0.05: on average at most 5% of such findings are false); for the other 2 the screen found no evidence, which does not show that there is no difference or no relation for them.'
    """
    what, items = _phrase(_text("what", what)), _phrase(_text("items", items))
    check_range("fdr", fdr, 0, 1, inclusive=False)
    q = np.asarray(q, dtype=float).ravel()
    if q.size == 0:
        raise ValueError(tr("q is empty; pass the q-values (adjusted p-values) of the screen."))
    finite = np.isfinite(q)
    n, k = int(finite.sum()), int((q[finite] < fdr).sum())
    level = f"{100 * fdr:g}%"
    s = tr("{k} of {n} {items} show evidence at a false discovery rate of {level} that they "
           "{what} (Benjamini-Hochberg q < {fdr}: on average at most {level} of such findings "
           "are false)").format(k=k, n=n, items=items, level=level, what=what, fdr=f"{fdr:g}")
    if k < n:
        s += tr("; for the other {m} the screen found no evidence, which does not show that "
                "there is no difference or no relation for them").format(m=n - k)
    if not finite.all():
        s += tr("; {m} could not be tested").format(m=int((~finite).sum()))
    return tr("{sentence}.").format(sentence=s)


@tidy_sentence
def compare_values(a, b, name_a, name_b, *, what="AUC", p=None, digits=2, alpha=0.05):
    """A comparison of two numbers in words: which is higher and by how much, read with its p-value.

    Parameters
    ----------
    a, b : float
        The two values (e.g. two AUCs on the same patients).
    name_a, name_b : str
        What each value belongs to (``"with ComBat"``, ``"the Rad-score"``).
    what : str, default "AUC"
        The quantity compared.
    p : float, optional
        p-value of a test of the difference (e.g. :func:`radnb.evaluate.delong_test`);
        when given, the sentence ends with :func:`interpret_p`.
    digits : int, default 2
        Decimals shown; a difference that rounds to zero is written "by less
        than 0.01" (for 2 digits), never "equal", since the two rounded values
        may still differ on screen.
    alpha : float, default 0.05

    Returns
    -------
    str

    Examples
    --------
    >>> compare_values(0.82, 0.78, "with ComBat", "without ComBat")
    'AUC 0.82 (with ComBat) vs 0.78 (without ComBat): higher with ComBat, by 0.04.'
    >>> compare_values(0.70, 0.75, "deep features", "the Rad-score", p=0.3)  # doctest: +ELLIPSIS
    'AUC 0.70 (deep features) vs 0.75 (the Rad-score): higher for the Rad-score, by 0.05. p = 0.300: no evidence ...'
    """
    raw_a, raw_b = _text("name_a", name_a), _text("name_b", name_b)
    name_a, name_b, what = _phrase(raw_a), _phrase(raw_b), _phrase(_text("what", what))
    a, b = float(a), float(b)
    if not (np.isfinite(a) and np.isfinite(b)):
        raise ValueError(tr("both values must be numbers; got {a!r} and {b!r}. Were they "
                            "computed?").format(a=a, b=b))
    diff = round(a - b, int(digits))

    def higher(first, by):
        raw, name = (raw_a, name_a) if first else (raw_b, name_b)
        # "with ComBat" reads as is; a noun ("the Rad-score") needs "for"
        if raw.split()[0].lower() in {"with", "without", "after", "before", "in", "on", "at", "for"}:
            return tr("higher {name}, by {by}.").format(name=name, by=by)
        return tr("higher for {name}, by {by}.").format(name=name, by=by)

    s = tr("{what} {a} ({name_a}) vs {b} ({name_b}): ").format(
        what=what, a=f"{a:.{digits}f}", name_a=name_a, b=f"{b:.{digits}f}", name_b=name_b)
    if a == b:
        s += tr("equal.")
    elif diff == 0:  # e.g. 0.846 vs 0.843: shown as 0.85 vs 0.84, so never call them "equal"
        s += higher(a > b, tr("less than {step}").format(step=f"{10 ** -digits:.{digits}f}"))
    else:
        s += higher(diff > 0, f"{abs(diff):.{digits}f}")
    if p is not None:
        s += " " + interpret_p(p, tr("the {what} differs ({name_a} vs {name_b})").format(
            what=what, name_a=name_a, name_b=name_b), alpha=alpha)
    return s


@tidy_sentence
def describe_auc(auc, name, *, ci=None, outcome="the outcome", confidence=0.95):
    """Which direction of a single feature goes with the outcome, read from its AUC.

    An AUC above 0.5 means higher values go with the outcome, below 0.5 lower
    values do; how far it lies from 0.5 (in either direction) is how well the
    feature separates the groups. When the confidence interval includes 0.5,
    even the direction is uncertain.

    Parameters
    ----------
    auc : float
        AUC of the raw feature values for the outcome (``radnb.evaluate.roc_auc_ci``).
    name : str
        The feature.
    ci : tuple of float, optional
        ``(low, high)`` confidence interval of the AUC.
    outcome : str, default "the outcome"
    confidence : float, default 0.95
        Level of ``ci`` (only for the wording).

    Returns
    -------
    str

    Examples
    --------
    >>> describe_auc(0.30, "GLCM Idm", ci=(0.21, 0.39), outcome="malignancy")
    'lower values of GLCM Idm go with malignancy (AUC 0.30, 95% CI 0.21-0.39; separation |AUC - 0.5| = 0.20).'
    >>> describe_auc(0.55, "Sphericity", ci=(0.45, 0.65))
    'higher values of Sphericity go with the outcome (AUC 0.55, 95% CI 0.45-0.65; separation |AUC - 0.5| = 0.05); the interval includes 0.5, so even the direction is uncertain.'
    """
    name, outcome = _phrase(_text("name", name)), _phrase(_text("outcome", outcome))
    auc = float(auc)
    if not np.isfinite(auc):
        raise ValueError(tr("auc must be a number between 0 and 1; got {value!r}.").format(value=auc))
    check_range("auc", auc, 0, 1)
    if auc == 0.5:
        return tr("{name} does not rank the groups at all (AUC 0.50).").format(name=name)
    level = f"{100 * confidence:g}%"
    inside = f"AUC {auc:.2f}"
    if ci is not None:
        lo, hi = (float(v) for v in ci)
        inside = tr("AUC {auc}, {level} CI {low}-{high}").format(
            auc=f"{auc:.2f}", level=level, low=f"{lo:.2f}", high=f"{hi:.2f}")
    if auc > 0.5:
        s = tr("higher values of {name} go with {outcome} ({inside}; separation |AUC - 0.5| = "
               "{separation})")
    else:
        s = tr("lower values of {name} go with {outcome} ({inside}; separation |AUC - 0.5| = "
               "{separation})")
    s = s.format(name=name, outcome=outcome, inside=inside, separation=f"{abs(auc - 0.5):.2f}")
    if ci is not None and lo <= 0.5 <= hi:
        s += tr("; the interval includes 0.5, so even the direction is uncertain")
    return tr("{sentence}.").format(sentence=s)


@tidy_sentence
def describe_interval(ci, reference, *, name="chance"):
    """Where a confidence interval lies against a reference value, in one sentence.

    Above, below, or including the reference: for an AUC against 0.5 (chance), or an
    accuracy against the no-information rate. An interval that includes the
    reference does not show that the two are equal, only that the data cannot tell
    them apart.

    Parameters
    ----------
    ci : tuple of float
        ``(low, high)`` of the interval.
    reference : float
        The value to compare with.
    name : str, default "chance"
        What the reference value is, e.g. ``"the no-information rate"``.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        When ``low`` is above ``high``, or a value is not a number.

    Examples
    --------
    >>> describe_interval((0.61, 0.83), 0.5)
    'The interval (0.61-0.83) lies above chance (0.5).'
    >>> describe_interval((0.41, 0.66), 0.5)
    'The interval (0.41-0.66) includes chance (0.5): the data cannot tell the two apart.'
    >>> describe_interval((0.52, 0.71), 0.58, name="the no-information rate")
    'The interval (0.52-0.71) includes the no-information rate (0.58): the data cannot tell the two apart.'
    """
    low, high = (float(v) for v in ci)
    reference = float(reference)
    if not all(np.isfinite([low, high, reference])) or low > high:
        raise ValueError(tr("ci must be (low, high) with low <= high and reference a number; got "
                            "ci={ci!r}, reference={reference!r}.").format(ci=ci, reference=reference))
    values = {"low": f"{low:.2f}", "high": f"{high:.2f}", "name": _phrase(_text("name", name)),
              "reference": f"{reference:g}"}
    if low > reference:
        return tr("The interval ({low}-{high}) lies above {name} ({reference}).").format(**values)
    if high < reference:
        return tr("The interval ({low}-{high}) lies below {name} ({reference}).").format(**values)
    return tr("The interval ({low}-{high}) includes {name} ({reference}): the data cannot tell "
              "the two apart.").format(**values)
