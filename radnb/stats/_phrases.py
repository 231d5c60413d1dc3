"""Phrases the tutorials pass to the sentence helpers, translated like radnb's own messages.

The tutorials' code cells are the same in both languages, so a phrase such as
``"differ between sites"`` arrives in English even in a Chinese notebook. The
phrases below are in the message catalogue (``{name}`` stands for any feature or
variable name); :func:`known_phrase` gives the current language's text for them
and returns any other text as it is. English output never changes.
"""
from __future__ import annotations

from radnb._utils.i18n import N_, get_language, translate_finished

__all__ = ["PHRASES", "known_phrase"]

PHRASES = (
    # describe_screen: what was tested and what a finding shows
    N_("features"), N_("deep features"), N_("feature-gene pairs"), N_("gene sets"),
    N_("differ between sites"), N_("differ between the two outcome groups"),
    N_("are correlated"), N_("gather at one end of the ranking"),
    # describe_auc / compare_values: outcomes, quantities and what is compared
    N_("the outcome"), N_("malignancy"), N_("separation |AUC - 0.5|"),
    N_("median inter-reader ICC"), N_("with ComBat"), N_("without ComBat"),
    N_("with ComBat in each fold"), N_("after ComBat"), N_("before ComBat"),
    N_("the Rad-score"), N_("the autoencoder"), N_("the random network"), N_("size + age"),
    N_("suspicion + size"),
    # describe_interval: what the reference value is
    N_("chance"), N_("the no-information rate"),
    # interpret_p: what the test looks for
    N_("{name} differs between benign and malignant lesions"),
    N_("{name} differs between benign and malignant lesions (FDR-corrected)"),
    N_("{name} differs between the groups (FDR-corrected)"),
    N_("{name} differs between benign tumours and sarcomas"),
    N_("{name} differs between benign tumours and sarcomas (FDR-corrected)"),
    N_("{name} is associated with death from sarcoma (adjusted)"),
    N_("adding the radiomics features changes the AUC of suspicion + size"),
    N_("the radiomics model alone and suspicion + size differ in AUC"),
    N_("sarcoma-specific survival differs between the high and low Rad-score groups"),
    N_("{name} differs between the two outcome groups"),
    N_("{name} adds information to the other predictors"),
    N_("{name} is associated with the event rate (adjusted)"),
    N_("it adds to the other selected features (descriptive, after selection)"),
    N_("the radiomics model and the size + age model differ in AUC"),
    N_("the risks are too high or too low on average"),
    N_("the calibration slope differs from 1"),
    N_("observed and predicted rates differ in the {n} groups (Hosmer-Lemeshow)"),
    N_("observed and predicted rates differ in the {n} risk groups (Hosmer-Lemeshow)"),
    N_("survival differs between the high and low Rad-score groups"),
)


def known_phrase(text: str) -> str:
    """``text`` in the current language when it is one of radnb's phrases, else as given.

    Examples
    --------
    >>> known_phrase("differ between sites")
    'differ between sites'
    >>> import radnb; radnb.set_language("zh"); known_phrase("age differs between the two outcome groups")
    'age 在两个结局组之间存在差异'
    >>> radnb.set_language(None)
    """
    return text if get_language() == "en" else translate_finished(text)
