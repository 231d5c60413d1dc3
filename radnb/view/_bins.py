"""Intensity discretisation: ROI histograms and choosing a bin width for a cohort."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import radnb.view._render as _render
from radnb._utils.i18n import tr
from radnb._utils.validation import check_range

# Candidate bin widths: "nice" numbers, as people choose them by hand.
_NICE = np.array([m * 10.0 ** e for e in range(-3, 5) for m in (1, 2, 2.5, 5)])


def roi_values(image, mask, label=1):
    """Intensities of the voxels of ``image`` where ``mask == label`` (1-D float array)."""
    import SimpleITK as sitk

    from radnb.view._cases import read_display_mask, read_image

    img = read_image(image)
    m = read_display_mask(mask, img)
    values = sitk.GetArrayViewFromImage(img)[sitk.GetArrayViewFromImage(m) == label]
    if values.size == 0:
        raise ValueError(f"the mask has no voxel with label {label}; pass the ROI's label= value.")
    return values.astype(np.float64)


def roi_histogram(image, mask, *, label=1, bin_width=None, bin_count=None, ax=None):
    """Histogram of the intensities inside the ROI, with pyradiomics' bins drawn.

    Parameters
    ----------
    image, mask : SimpleITK.Image, str or Path
    label : int, default 1
        ROI value in the mask.
    bin_width : float, optional
        pyradiomics ``binWidth`` (default 25 when ``bin_count`` is not given).
    bin_count : int, optional
        pyradiomics ``binCount`` (fixed number of bins; overrides ``bin_width``).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        The histogram has one bar per discretisation bin (edges exactly as
        ``radiomics.imageoperations.getBinEdges`` computes them); the title
        gives the number of grey levels.

    References
    ----------
    Leijenaar RTH et al. The effect of SUV discretization in quantitative FDG-PET
    radiomics. Sci Rep 2015;5:11075. pyradiomics documentation, "Image
    discretisation".

    Examples
    --------
    >>> ax = roi_histogram("lung1_image.nrrd", "lung1_label.nrrd", bin_width=25)  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    if bin_width is not None:
        check_range("bin_width", bin_width, 0, None, inclusive=False)
    if bin_count is not None:
        check_range("bin_count", bin_count, 1, None)
    values = roi_values(image, mask, label)
    edges = _render.bin_edges(values, bin_width=bin_width, bin_count=bin_count)
    n = _render.n_grey_levels(values, bin_width=bin_width, bin_count=bin_count)
    if ax is None:
        _, ax = plt.subplots()
    ax.hist(values, bins=edges, color="#56b4e9", edgecolor="#0072b2", linewidth=0.6)
    if bin_count is not None:
        title = tr("bin count {bins}: {n} grey levels, {voxels} ROI voxels").format(
            bins=bin_count, n=n, voxels=values.size)
    else:
        title = tr("bin width {width:g}: {n} grey levels, {voxels} ROI voxels").format(
            width=bin_width or 25, n=n, voxels=values.size)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(tr("intensity (image units, HU for CT)"))
    ax.set_ylabel(tr("voxels"))
    return ax


@dataclass
class BinWidthSuggestion:
    """Result of :func:`suggest_bin_width`.

    Attributes
    ----------
    bin_width : float or None
        Proposed width (if no width keeps every readable case in range, the one
        with fewest cases out of range: see ``cases.in_range``). None when no
        case could be read.
    cases : pandas.DataFrame
        Per case: ``case_id``, ``timepoint``, ``reader``, ``min``, ``max``,
        ``n_voxels``, ``n_bins`` (with the proposed width), ``n_bins_current``
        (with the width you passed, if any), ``in_range``, ``error``.
    summary : pandas.DataFrame
        One row per candidate width tried: ``bin_width``, ``min_bins``,
        ``median_bins``, ``max_bins``, ``n_out_of_range``.
    """

    bin_width: float | None
    cases: object
    summary: object

    def __repr__(self):
        bad = int((~self.cases["in_range"] & self.cases["error"].isna()).sum())
        err = int(self.cases["error"].notna().sum())
        return (f"BinWidthSuggestion(bin_width={self.bin_width}, cases={len(self.cases)}, "
                f"out_of_range={bad}, unreadable={err})")


def suggest_bin_width(cohort, *, bin_width=None, low=16, high=128):
    """Propose a pyradiomics ``binWidth`` that gives every case ``low``-``high`` grey levels.

    pyradiomics recommends a fixed bin width giving roughly 16-128 bins
    (documentation, "Customizing the extraction"; Tixier 2011, Leijenaar 2015).
    The number of grey levels of a case is ``floor(max/w) - floor(min/w) + 1``
    over the ROI intensities, as pyradiomics discretises them.

    Parameters
    ----------
    cohort : pandas.DataFrame
        Manifest with ``case_id``, ``image``, ``mask`` (and ``label``).
    bin_width : float, optional
        A width you are considering: reported per case as ``n_bins_current``.
    low, high : int
        Allowed range of grey levels.

    Returns
    -------
    BinWidthSuggestion
        ``bin_width`` (the proposal: the candidate "nice" width with every case
        in range whose median number of bins is closest to the geometric middle
        of ``low`` and ``high``; if none fits, the one with fewest cases out of
        range), ``cases`` and ``summary`` DataFrames. Unreadable cases become
        rows with ``error`` set; they never stop the run.

    Examples
    --------
    >>> result = suggest_bin_width(load_demo_cohort())  # doctest: +SKIP
    >>> result.bin_width, result.cases.n_bins.describe()  # doctest: +SKIP
    """
    import pandas as pd

    from radnb._utils.validation import check_columns

    check_columns(cohort, ["case_id", "image", "mask"], what="cohort manifest")
    check_range("low", low, 1, high)
    rows = []
    for rec in cohort.to_dict("records"):
        row = {"case_id": rec["case_id"], "timepoint": rec.get("timepoint", 1),
               "reader": rec.get("reader", 1), "min": np.nan, "max": np.nan, "n_voxels": 0,
               "error": None}
        try:
            v = roi_values(rec["image"], rec["mask"], int(rec.get("label", 1)))
            row.update(min=float(v.min()), max=float(v.max()), n_voxels=int(v.size))
        except Exception as exc:  # one bad case becomes an error row, the cohort goes on
            row["error"] = f"{type(exc).__name__}: {exc}"
        rows.append(row)
    cases = pd.DataFrame(rows)
    ok = cases["error"].isna()
    lo, hi = cases.loc[ok, "min"].to_numpy(), cases.loc[ok, "max"].to_numpy()

    def levels(w):
        return (np.floor(hi / w) - np.floor(lo / w) + 1).astype(int)

    target = np.sqrt(low * high)
    summ, best = [], None
    for w in _NICE:
        n = levels(w)
        if not n.size:
            break
        if np.median(n) > 10 * high or np.median(n) < 2:  # far outside: not worth listing
            continue
        out = int(((n < low) | (n > high)).sum())
        summ.append({"bin_width": float(w), "min_bins": int(n.min()), "median_bins": float(np.median(n)),
                     "max_bins": int(n.max()), "n_out_of_range": out})
        score = (out, abs(np.log(np.median(n) / target)))
        if best is None or score < best[0]:
            best = (score, float(w))
    proposal = best[1] if best is not None else None
    cases["n_bins"] = pd.array([pd.NA] * len(cases), dtype="Int64")
    if proposal is not None:
        cases.loc[ok, "n_bins"] = levels(proposal)
    cases["n_bins_current"] = pd.array([pd.NA] * len(cases), dtype="Int64")
    if bin_width is not None and ok.any():
        cases.loc[ok, "n_bins_current"] = levels(float(bin_width))
    cases["in_range"] = (cases["n_bins"] >= low).fillna(False) & (cases["n_bins"] <= high).fillna(False)
    cases = cases[["case_id", "timepoint", "reader", "min", "max", "n_voxels", "n_bins",
                   "n_bins_current", "in_range", "error"]]
    return BinWidthSuggestion(proposal, cases, pd.DataFrame(summ))
