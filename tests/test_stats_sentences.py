"""Sentences written from results (radnb.stats._sentences): they follow the numbers."""
from __future__ import annotations

import re

import numpy as np
import pytest

from radnb import stats


def test_describe_screen_counts_what_benjamini_hochberg_calls(rng):
    # q-values from statsmodels' Benjamini-Hochberg (the established implementation)
    from statsmodels.stats.multitest import multipletests

    p = np.concatenate([rng.uniform(0, 1e-3, 7), rng.uniform(0, 1, 40)])
    q = multipletests(p, alpha=0.05, method="fdr_bh")[1]
    k = int(multipletests(p, alpha=0.05, method="fdr_bh")[0].sum())
    text = stats.describe_screen(q, "differ between sites")
    assert text.startswith(f"{k} of {len(p)} features show evidence")
    assert f"for the other {len(p) - k} the screen found no evidence" in text
    assert "does not show that there is no difference or no relation" in text


def test_describe_screen_all_significant_and_untestable():
    text = stats.describe_screen([0.01, 0.02, np.nan], "follow the gene", items="pairs", fdr=0.1)
    assert text.startswith("2 of 2 pairs show evidence at a false discovery rate of 10%")
    assert "for the other" not in text and "1 could not be tested" in text


def test_compare_values_direction_follows_the_numbers():
    up = stats.compare_values(0.81, 0.74, "with ComBat", "without ComBat")
    assert "higher with ComBat, by 0.07" in up
    down = stats.compare_values(0.61, 0.74, "deep features", "the Rad-score")
    assert "higher for the Rad-score, by 0.13" in down
    close = stats.compare_values(0.846, 0.843, "early fusion", "the Rad-score")
    assert close.startswith("AUC 0.85 (early fusion) vs 0.84 (the Rad-score)")
    assert "higher for early fusion, by less than 0.01" in close
    assert stats.compare_values(0.8, 0.8, "A", "B").endswith("equal.")


def test_compare_values_never_reads_a_large_p_as_no_difference():
    text = stats.compare_values(0.70, 0.75, "A", "B", p=0.4)
    assert "no evidence at the 5% level" in text
    assert "does not show that there is no difference" in text
    assert "evidence at the 5% level that the AUC differs (A vs B)" in stats.compare_values(
        0.9, 0.6, "A", "B", p=0.001)


def test_describe_auc_direction_matches_roc(rng):
    from sklearn.metrics import roc_auc_score

    y = np.repeat([0, 1], 50)
    x = rng.normal(size=100) - 1.0 * y  # lower values in the positives
    auc = roc_auc_score(y, x)
    text = stats.describe_auc(auc, "Idm", outcome="malignancy")
    assert auc < 0.5 and text.startswith("lower values of Idm go with malignancy")
    assert f"|AUC - 0.5| = {abs(auc - 0.5):.2f}" in text
    assert stats.describe_auc(1 - auc, "Contrast").startswith("higher values of Contrast")
    shaky = stats.describe_auc(0.56, "Sphericity", ci=(0.44, 0.68))
    assert "even the direction is uncertain" in shaky
    assert "uncertain" not in stats.describe_auc(0.70, "Contrast", ci=(0.60, 0.80))


def test_describe_interval_places_the_interval_against_the_reference():
    # the three cases, and the edges: an interval touching the reference includes it
    assert stats.describe_interval((0.61, 0.83), 0.5).startswith("The interval (0.61-0.83) lies above")
    assert stats.describe_interval((0.20, 0.40), 0.5).startswith("The interval (0.20-0.40) lies below")
    for ci in [(0.41, 0.66), (0.5, 0.7), (0.3, 0.5)]:
        assert "includes chance (0.5): the data cannot tell the two apart" in stats.describe_interval(ci, 0.5)
    nir = stats.describe_interval((0.61, 0.83), 0.58, name="the no-information rate")
    assert nir == "The interval (0.61-0.83) lies above the no-information rate (0.58)."


@pytest.mark.parametrize("call, message", [
    (lambda: stats.describe_screen([], "differ"), "q is empty"),
    (lambda: stats.describe_screen([0.1], ""), "what must be"),
    (lambda: stats.compare_values(np.nan, 0.5, "a", "b"), "both values must be numbers"),
    (lambda: stats.describe_auc(1.3, "x"), "auc"),
    (lambda: stats.describe_interval((0.7, 0.6), 0.5), "ci must be (low, high) with low <= high"),
    (lambda: stats.describe_interval((0.6, 0.7), 0.5, name=""), "name must be"),
])
def test_sentence_helpers_reject_bad_input(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


def test_sentences_speak_chinese_with_the_same_numbers():
    import radnb

    english = [stats.describe_screen([0.001, 0.02, 0.3, np.nan], "differ between sites"),
               stats.compare_values(0.70, 0.75, "with ComBat", "the Rad-score", p=0.3),
               stats.describe_auc(0.30, "GLCM Idm", ci=(0.21, 0.39), outcome="malignancy")]
    radnb.set_language("zh")
    try:
        screen = stats.describe_screen([0.001, 0.02, 0.3, np.nan], "differ between sites")
        compare = stats.compare_values(0.70, 0.75, "with ComBat", "the Rad-score", p=0.3)
        auc = stats.describe_auc(0.30, "GLCM Idm", ci=(0.21, 0.39), outcome="malignancy")
        shaky = stats.describe_auc(0.55, "Sphericity", ci=(0.45, 0.65))
        q = stats.interpret_p(0.02, "x", label="q")
        interval = stats.describe_interval((0.52, 0.71), 0.58, name="the no-information rate")
    finally:
        radnb.set_language(None)
    assert screen.startswith("3 个特征中有 2 个") and "错误发现率" in screen and "中心" in screen
    assert "其余 1 个" in screen and "1 个无法检验" in screen and screen.endswith("。")
    assert compare.startswith("AUC 0.70（使用 ComBat）vs 0.75（影像组学评分）") and "0.05" in compare
    assert "p = 0.300：在 5% 水平上没有证据表明" in compare
    assert auc.startswith("GLCM Idm 的值越低越倾向于恶性") and "95% 置信区间 0.21-0.39" in auc
    assert "方向" in shaky and "结局" in shaky
    assert q.startswith("q = 0.020：在错误发现率 5% 下有证据表明")
    assert interval.startswith("区间（0.52-0.71）包含无信息率（0.58）")
    assert english == [stats.describe_screen([0.001, 0.02, 0.3, np.nan], "differ between sites"),
                       stats.compare_values(0.70, 0.75, "with ComBat", "the Rad-score", p=0.3),
                       stats.describe_auc(0.30, "GLCM Idm", ci=(0.21, 0.39), outcome="malignancy")]


def test_the_tutorials_phrases_read_in_chinese_any_other_text_as_given():
    import radnb

    english = stats.interpret_p(0.2, "Idm differs between benign and malignant lesions")
    radnb.set_language("zh")
    try:
        known = stats.interpret_p(0.2, "Idm differs between benign and malignant lesions")
        other = stats.interpret_p(0.2, "Idm rises after treatment")
        names = stats.compare_values(0.8, 0.7, "early_fusion", "the Rad-score")
    finally:
        radnb.set_language(None)
    assert english.startswith("p = 0.200: no evidence at the 5% level that Idm differs between benign")
    assert "没有证据表明 Idm 在良性与恶性病灶之间存在差异" in known
    assert "没有证据表明 Idm rises after treatment；" in other  # unknown text is printed as given
    assert names.startswith("AUC 0.80（early_fusion）vs 0.70（影像组学评分）：early_fusion更高")
