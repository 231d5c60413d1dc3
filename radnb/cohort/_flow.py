"""The patient flow of a study: assessed, excluded with one reason each, analysed.

Public names are re-exported by :mod:`radnb.cohort`, which documents the step.
"""
from __future__ import annotations

from radnb._utils.i18n import N_, _
from radnb._utils.validation import check_columns

#: What each check of :func:`radnb.cohort.validate` means as a reason for exclusion.
REASONS = {
    "image": N_("image missing or unreadable"),
    "mask": N_("mask missing or unreadable"),
    "roi": N_("ROI not found in the RTSTRUCT / DICOM-SEG"),
    "dimensionality": N_("image not 3D"),
    "image_values": N_("image with NaN or infinite values"),
    "mask_values": N_("mask is not a label image"),
    "geometry": N_("mask not on the image grid"),
    "mask_integer": N_("mask not whole numbers (a probability map?)"),
    "mask_empty": N_("empty mask"),
    "label": N_("label not in the mask"),
    "spacing": N_("implausible voxel size"),
    "roi_size": N_("ROI too small to measure"),
    "roi_volume": N_("ROI implausibly large"),
    "border": N_("ROI cut off at the image border"),
}
NO_PAIR = "no_pair"


def patient_flow(validation, *, timepoint=1, reader=1):
    """Count patients through the study: assessed, excluded (one reason each), analysed.

    The numbers of a STARD / TRIPOD flow diagram from the checks of
    :func:`validate`. Every patient of the table is *assessed*. A patient is
    *excluded* when the image + mask pair that counts (``timepoint`` and
    ``reader``) has an error, or when the patient has no such pair; each excluded
    patient is counted once, under the first error found, so the reasons add up to
    the total. Warnings do not exclude.

    Parameters
    ----------
    validation : pandas.DataFrame
        The output of :func:`validate`.
    timepoint, reader : int or None, default 1
        Which pair decides for each patient (e.g. the first scan, the first reader's
        mask). ``None`` uses every pair of the patient: one failing pair excludes
        the patient.

    Returns
    -------
    pandas.DataFrame
        One row per step: ``step`` (what a flow diagram says, in radnb's language),
        ``patients``, ``check`` (for exclusions: the check of
        :func:`validate` that failed; ``""`` otherwise). Rows: assessed, one per
        reason (most frequent first), excluded in total, analysed.
        ``attrs["excluded"]`` maps each excluded patient to its check.

    Raises
    ------
    ValueError
        When a column is missing, or no row has the ``timepoint`` / ``reader`` asked for.

    See Also
    --------
    validate : the checks.

    Examples
    --------
    >>> from radnb.datasets import make_problem_cases
    >>> problems = make_problem_cases("problem_cases")  # doctest: +SKIP
    >>> patient_flow(validate(problems))  # doctest: +SKIP
                                step  patients           check
    0                       assessed         8
    1  excluded: mask missing or ...         1            mask
    ...
    """
    import pandas as pd

    check_columns(validation, ["case_id", "check", "severity"], what="validation")
    rows = validation
    for name, value in (("timepoint", timepoint), ("reader", reader)):
        if value is None:
            continue
        check_columns(rows, [name], what="validation")
        if not (rows[name] == value).any():
            have = sorted(validation[name].dropna().unique().tolist())
            raise ValueError(_("no image + mask pair has {name} = {value!r}; the table has {have}. "
                               "Pass {name}=None to count every pair.").format(
                name=name, value=value, have=have))
        rows = rows[rows[name] == value]
    patients = pd.unique(validation["case_id"])
    errors = rows[rows["severity"] == "error"].drop_duplicates("case_id")
    reason = dict(zip(errors["case_id"], errors["check"]))
    for case in set(patients) - set(rows["case_id"]):
        reason[case] = NO_PAIR
    excluded = {case: reason[case] for case in patients if case in reason}  # manifest order
    counts = pd.Series(list(excluded.values()), dtype=object).value_counts(sort=True)
    steps = [(_("assessed"), len(patients), "")]
    for check, n in counts.items():
        label = _(REASONS[check]) if check in REASONS else (
            _("no image + mask pair for this timepoint and reader") if check == NO_PAIR else check)
        steps.append((_("excluded: {reason}").format(reason=label), int(n), check))
    steps.append((_("excluded in total"), len(excluded), ""))
    steps.append((_("analysed"), len(patients) - len(excluded), ""))
    flow = pd.DataFrame(steps, columns=["step", "patients", "check"])
    flow.attrs["excluded"] = excluded
    return flow
