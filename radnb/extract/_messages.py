"""Error rows in a radiologist's words: what is wrong with the case and what to do.

pyradiomics and SimpleITK report problems in their own terms ("Bounding box of
ROI is larger than image space", "vector dimension mismatch" with a C++ source
path). :func:`explain` turns the known ones into a plain sentence; the original
text, without source paths and shortened, stays in the ``detail`` column for
whoever debugs it.
"""
from __future__ import annotations

import os
import re

from radnb._utils.i18n import N_, _, translate_finished

__all__ = ["explain", "technical_detail"]

_SOURCE_PATH = re.compile(r"\s*(/[^\s:]+|[A-Za-z]:\\[^\s:]+)\.(cxx|hxx|txx|cpp|cc|h|hpp)(:\d+)*:?")
_DETAIL_LENGTH = 300


def technical_detail(raw: str) -> str:
    """The library's message without C++ source paths, on one line, at most 300 characters.

    Examples
    --------
    >>> technical_detail("RuntimeError: Exception thrown in SimpleITK Execute: "
    ...                  "/src/Code/sitkImage.hxx:298:\\nsitk::ERROR: vector dimension mismatch")
    'RuntimeError: Exception thrown in SimpleITK Execute: sitk::ERROR: vector dimension mismatch'
    """
    text = _SOURCE_PATH.sub("", str(raw))
    text = " ".join(text.split())
    return text if len(text) <= _DETAIL_LENGTH else text[: _DETAIL_LENGTH - 3] + "..."


def _which_file(raw, row):
    for what in ("mask", "image"):
        path = row.get(what) or ""
        if path and (path in raw or os.path.basename(path) in raw):
            return what, os.path.basename(path.rstrip(os.sep))
    return "image or mask", ""


def _file_word(what):
    return {"image": _("image"), "mask": _("mask"), "image or mask": _("image or mask")}[what]


# (pattern in the raw message, plain message; {label}, {labels}, {what}, {name}, {limit} filled in)
_RULES = [
    (r"^ManifestError: (\w+) (.*) of case .* is not a whole number",
     N_("The manifest's {g[0]} column holds {g[1]} for this case, not a whole number. "
        "Correct the cell (labels are mask values such as 1; reader and timepoint count "
        "from 1).")),
    (r"^WorkerDied",
     N_("The extraction of this case stopped its worker process (out of memory or a crash "
        "in the imaging library). Check the image and mask sizes, or run again with fewer "
        "parallel jobs (n_jobs) or a coarser resampling.")),
    (r"^Timeout",
     N_("The extraction took longer than the time limit ({limit}). A very large ROI or a "
        "very small resampled voxel size makes pyradiomics slow: check the mask and the "
        "voxel spacing, or raise time_limit.")),
    (r"^(FileNotFoundError|NotADirectoryError)|does not exist",
     N_("The {what} file was not found{at}. Fix the path in the manifest, or drop the row.")),
    (r"No labels found in this mask|nothing is segmented",
     N_("The mask holds a single value: nothing is segmented (an empty mask) or everything "
        "is (no background). Check that the manifest lists the right mask, or redo the "
        "segmentation.")),
    (r"^ManifestError: label (\S+) .*below 1",
     N_("The manifest's label is {g[0]} for this case, but 0 is the background and labels "
        "are positive. Set the label column to the lesion's value in the mask (usually 1).")),
    (r"Label \((-?\d+)\) not present in mask\. Choose from \[\s*(\S+\s+){20}",
     N_("The mask holds many different values: it looks like an image listed as the mask. "
        "Check the manifest's mask column.")),
    (r"Label \((-?\d+)\) not present in mask\. Choose from \[(.*)\]",
     N_("The mask has no voxel with label {label} (labels present: {labels}). Set the "
        "manifest's label column to the label of the lesion.")),
    (r"only contains 1 segmented voxel",
     N_("The ROI is a single voxel (after resampling to the voxel size of the settings); "
        "features need a larger ROI. Check the segmentation, or that the mask belongs to "
        "this image.")),
    (r"Bounding box of ROI is larger than image space|ROI .*outside",
     N_("The ROI lies (partly) outside the image: the mask belongs to another image or "
        "series, or its position in the file header differs. Check that image and mask come "
        "from the same series.")),
    (r"[Gg]eometry mismatch|geometryTolerance|[Mm]ask .*(spacing|origin|direction)",
     N_("The mask's grid (position, voxel size or orientation) does not match the image's. "
        "Check that image and mask come from the same series; if the mask was resampled, "
        "resample it back to the image grid.")),
    (r"[Ww]rong dimensionality|dimension mismatch|[Dd]imension.*(differ|mismatch)|"
     r"TransformPhysicalPointToContinuousIndex",
     N_("Image and mask do not have the same number of dimensions (e.g. a 2D slice and a 3D "
        "mask). Use 3D volumes for both.")),
    (r"several components|multi-?component|RGB",
     N_("The {what} is a colour (RGB) image, not a label image. Export the segmentation as "
        "labels (0 = background, 1 = lesion).")),
    (r"outside the whole numbers|not a (label|mask)|is it an image rather than a mask",
     N_("The mask holds values that are not labels (fractions or large numbers): it may be "
        "an image listed as the mask. Check the manifest's mask column.")),
    (r"mask has too few dimensions",
     N_("The ROI is too flat: it is one voxel thick in more than one direction, and "
        "pyradiomics needs it at least 2 voxels thick in 2 directions. Check the "
        "segmentation.")),
    (r"NaN|[Ii]nfinite|\binf\b|arange: cannot compute length",
     N_("The {what} contains missing (NaN) or infinite voxel values. Re-export it from the "
        "scanner or PACS, or replace the missing voxels before extraction.")),
    (r"MemoryError|bad_alloc|[Oo]ut of memory|[Cc]annot allocate",
     N_("There was not enough memory for this case. Use fewer parallel jobs (n_jobs) or a "
        "coarser resampling, or run it on a computer with more memory.")),
    (r"cannot read|[Cc]ould not (read|open)|[Uu]nable to (read|open)|ImageFileReader|"
     r"[Tt]runcated|incomplete|[Uu]nexpected end",
     N_("The {what} file{at} cannot be read: it is damaged or incomplete (e.g. an "
        "interrupted copy), or not NIfTI, NRRD, MHA or DICOM. Copy it again from the "
        "source.")),
    (r"no DICOM|DICOM series|series_uid",
     N_("The {what} folder{at} does not hold one readable DICOM series. Point the manifest "
        "at the series folder (one file per slice), or add a series_uid column.")),
]


def explain(stage: str, raw: str, row: dict | None = None, time_limit=None) -> str:
    """A plain message for an error row (falls back to the library text, cleaned up).

    Examples
    --------
    >>> explain("extract", "ValueError: Label (2) not present in mask. Choose from [1]")
    "The mask has no voxel with label 2 (labels present: 1). Set the manifest's label column to the label of the lesion."
    """
    row = row or {}
    raw = str(raw)
    plain = re.match(r"^(InputError|GeometryMismatchError|IncompleteFileError): (.*)$", raw, re.S)
    if plain:  # radnb's own checks already speak plainly (in English if the worker started so)
        return translate_finished(" ".join(plain.group(2).split()))
    what, name = _which_file(raw, row)
    for pattern, message in _RULES:
        found = re.search(pattern, raw)
        if found is None:
            continue
        groups = found.groups()
        label = groups[0] if groups and groups[0] and groups[0].lstrip("-").isdigit() \
            else row.get("label")
        labels = groups[1] if len(groups) >= 2 and groups[1] is not None else "none"
        return _(message).format(
            what=_file_word(what), at=f" ({name})" if name else "", label=label,
            labels=labels if labels != "none" else _("none"),
            limit=f"{time_limit:g} s" if time_limit else _("the time limit"), name=name,
            g=[x or "" for x in groups])
    detail = technical_detail(re.sub(r"^\w+(Error|Exception): ", "", raw))
    if stage == "read":
        return _("Reading the image and mask failed: {detail} Check this case's files; see the "
                 "detail column.").format(detail=detail)
    return _("Computing the features failed: {detail} Check this case's files; see the detail "
             "column.").format(detail=detail)
