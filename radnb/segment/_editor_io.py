"""Reading masks into the editor and writing what was drawn (file, DICOM-SEG, manifest row).

The editor holds its labels in the viewer's LPS array order; these helpers move
masks between that order and the image's own grid.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from radnb.view import _render
from radnb.view._cases import mask_on_image

__all__ = ["to_lps", "read_any_mask", "reference_arrays", "save", "FORMATS", "agreement_table",
           "compare_html"]

#: File endings :func:`save` writes, and what it writes for each.
FORMATS = {".nii.gz": "NIfTI", ".nii": "NIfTI", ".nrrd": "NRRD", ".nhdr": "NRRD",
           ".mha": "MetaImage", ".mhd": "MetaImage", ".dcm": "DICOM-SEG"}


def to_lps(mask, image):
    """A mask (SimpleITK) on ``image``'s grid, as the editor's LPS uint8 array (z, y, x)."""
    arr = _render.to_canonical(mask_on_image(mask, image))[0]
    if arr.size and (arr.min() < 0 or arr.max() > 255):
        raise ValueError(
            f"mask values must lie in 0-255 (one value per label); got {arr.min()} to {arr.max()}.")
    return np.array(arr, dtype=np.uint8, order="C")


def read_any_mask(obj, image, label=None):
    """SimpleITK mask from an image or a path (label image, DICOM-SEG, RTSTRUCT) on ``image``'s grid."""
    import SimpleITK as sitk

    if isinstance(obj, sitk.Image):
        out = obj if label is None else sitk.Cast(obj == int(label), sitk.sitkUInt8)
        return mask_on_image(out, image)
    from radnb.io import read_mask

    return read_mask(obj, image, label=label)


def reference_arrays(editor, reference):
    """{name: boolean LPS array} for :meth:`Editor.compare` (see there for what is accepted)."""
    known = editor._context.get("references", {})
    original = editor._data["original"]
    if reference is None:
        if not known:
            raise ValueError(
                "reference is needed: pass a reader's mask (SimpleITK image or file path), "
                "or open the editor from a manifest to compare with its readers.")
        reference = dict(known)
    elif isinstance(reference, (int, np.integer)) and not isinstance(reference, bool):
        name = f"reader {int(reference)}"
        if name not in known:
            raise ValueError(f"reference={reference} names a reader, but this case has "
                             f"{sorted(known) or 'no readers'}; pass a mask instead.")
        reference = {name: known[name]}
    elif not isinstance(reference, dict):
        name = Path(str(reference)).name if isinstance(reference, (str, Path)) else "reference"
        reference = {name: reference}
    out = {}
    for name, value in reference.items():
        value, lab = value if isinstance(value, tuple) else (value, None)
        out[str(name)] = _render.to_canonical(read_any_mask(value, original, label=lab))[0] != 0
    return out


def _atomic_target(path: Path) -> Path:
    """A temporary name beside ``path`` that keeps its ending (the writer is chosen by it)."""
    return path.with_name(f".partial-{os.getpid()}-{path.name}")


def save(editor, path, *, label=None):
    """Write the editor's mask to ``path`` atomically; see :meth:`Editor.save`."""
    import SimpleITK as sitk

    from radnb._utils.validation import check_option

    path = Path(str(path)).expanduser()
    ending = next((e for e in FORMATS if path.name.lower().endswith(e)), None)
    if ending is None:
        check_option("path ending", "".join(path.suffixes) or path.name, tuple(FORMATS))
    path.parent.mkdir(parents=True, exist_ok=True)
    mask = editor.mask
    value = editor.label if label is None else int(label)
    tmp = _atomic_target(path)
    try:
        if ending == ".dcm":
            folder = editor._context.get("series_folder")
            if folder is None:
                raise ValueError(
                    f"{path.name!r} asks for a DICOM-SEG, which must reference the image's DICOM "
                    "series; this image was not read from a DICOM folder. Save as .nii.gz instead.")
            from radnb.io import write_dicom_seg

            if not (sitk.GetArrayViewFromImage(mask) == value).any():
                raise ValueError(f"label {value} is empty: draw it first (a SEG needs voxels).")
            write_dicom_seg(sitk.Cast(mask == value, sitk.sitkUInt8), folder, tmp,
                            segment_label=editor.labels.get(value, f"label {value}"))
        else:
            if label is not None:
                mask = sitk.Cast(mask == int(label), sitk.sitkUInt8)
            sitk.WriteImage(mask, str(tmp), True)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    row = editor._context.get("row")
    if row is None:
        return path
    import pandas as pd

    new = row.copy()
    new["mask"] = str(path.resolve())
    new["reader"] = int(editor._context["new_reader"])
    new["label"] = 1 if (label is not None or ending == ".dcm") else int(editor.label)
    if "roi" in new.index:  # the SEG's segment name; a label image has no ROI name
        new["roi"] = editor.labels.get(value, None) if ending == ".dcm" else None
    return pd.DataFrame([new]).reset_index(drop=True)


def agreement_table(mine, references, spacing):
    """Agreement of a boolean LPS mask with each reference, computed on their bounding box.

    Overlap and surface distances only depend on the voxels near the two
    masks, so cropping to their joint bounding box (plus a margin) gives the
    values of :func:`radnb.segment.agreement` on the whole volume, fast enough
    to follow every edit.
    """
    import pandas as pd

    from radnb.segment._metrics import AGREEMENT_COLUMNS, agreement

    rows = {}
    for name, ref in references.items():
        box = _render.roi_bbox(mine | ref, margin=2)
        if box is None:
            rows[name] = pd.Series(np.nan, index=list(AGREEMENT_COLUMNS))
            continue
        rows[name] = agreement(ref[box], mine[box], spacing=spacing).iloc[0]
    return pd.DataFrame(rows).T.rename_axis("reference")


def compare_html(table):
    """The live agreement table shown under the editor's tools."""
    import html

    rows = "".join(f"<tr><td>{html.escape(str(name))}</td><td>{r.dice:.3f}</td>"
                   f"<td>{r.hd95_mm:.1f}</td><td>{r.volume_a_ml:.2f}</td><td>{r.volume_b_ml:.2f}</td></tr>"
                   for name, r in table.iterrows())
    return ("<table><tr><th>vs</th><th>Dice</th><th>HD95 mm</th><th>their ml</th>"
            f"<th>your ml</th></tr>{rows}</table>")
