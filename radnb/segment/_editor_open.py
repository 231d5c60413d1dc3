"""``radnb.segment.edit``: open an image, or a case of a cohort, in the mask editor."""
from __future__ import annotations

from pathlib import Path

from radnb.segment._editor_io import read_any_mask, to_lps

__all__ = ["edit"]


def edit(image, case_id=None, *, mask=None, label=1, timepoint=1, reader=1, new_reader=None,
         radius_mm=3.0, tolerance=None, plane="axial", size=512, label_names=None):
    """Contour, correct and save a mask in the notebook: the slice viewer with editing tools.

    Tools (buttons above the picture, and methods of the returned editor):
    paint / erase brush (radius in mm, drawn as a circle), region growing from a
    click with a tolerance slider (moving it re-grows: a live preview), threshold
    inside a drawn box, fill holes, keep the largest component, interpolate the
    slices between contoured ones, undo / redo (50 steps), several labels in
    their own colours. All three planes work, with anisotropic and rotated
    images shown the radiological way (as in :func:`radnb.view.browse`).

    Parameters
    ----------
    image : SimpleITK.Image, path, DICOM folder, or manifest (DataFrame or ``.csv``)
        The image to contour; or a cohort manifest, then ``case_id`` picks the case.
    case_id : str, optional
        With a manifest: the case to open (its ``timepoint``).
    mask : SimpleITK.Image or path, optional
        A mask to start from (label image, DICOM-SEG or RTSTRUCT on the image).
    label : int, default 1
        Label value to draw first (1-255); more labels with ``editor.add_label()``.
    timepoint : int, default 1
        With a manifest: the scan of ``case_id``.
    reader : int or None, default 1
        With a manifest: start from this reader's mask; ``None`` starts empty
        (an independent outline, e.g. for an inter-reader study).
    new_reader : int, optional
        With a manifest: reader number of what you draw (default: one more
        than the case's readers); ``editor.save()`` returns its manifest row.
    radius_mm : float, default 3.0
        Brush radius.
    tolerance : float, optional
        Region growing: seed value +/- tolerance (default 40 HU for CT).
    plane : {"axial", "coronal", "sagittal"}, default "axial"
    size : int, default 512
        Largest side of the picture in screen pixels.
    label_names : dict, optional
        ``{value: name}`` shown in the label list (and used as the SEG segment label).

    Returns
    -------
    Editor
        A widget (display it as the last line of a cell). ``editor.mask`` is
        the current label image on the image's grid; ``editor.save(path)``
        writes it (``.nii.gz``, ``.nrrd``, or ``.dcm`` DICOM-SEG for a DICOM
        series); ``editor.compare(reference)`` shows Dice and HD95 live.

    See Also
    --------
    radnb.segment.region_grow, radnb.segment.agreement, radnb.view.browse

    Examples
    --------
    >>> import numpy as np, SimpleITK as sitk
    >>> image = sitk.GetImageFromArray(np.pad(np.full((4, 9, 9), 80, np.int16), 3))
    >>> editor = edit(image)
    >>> editor.grow((6, 6, 4), tolerance=30)  # a voxel index (x, y, z) inside the bright box
    324
    >>> editor.paint([(1, 1), (1, 8)], radius_mm=1)  # (row, col) on the displayed slice
    26
    >>> editor.undo()
    'paint'
    >>> int(sitk.GetArrayFromImage(editor.mask).sum())
    324
    """
    import pandas as pd

    from radnb._utils.validation import check_option, check_range

    check_range("label", label, 1, 255)
    check_option("plane", plane, ("axial", "coronal", "sagittal"))
    context, names = {}, dict(label_names or {})
    if isinstance(image, (str, Path)) and str(image).lower().endswith(".csv"):
        from radnb.cohort import load_manifest

        image = load_manifest(image)
    if isinstance(image, pd.DataFrame):
        image, mask, context = _from_manifest(image, case_id, timepoint, reader, new_reader, int(label))
    elif case_id is not None:
        raise ValueError("case_id is only used with a manifest; pass the manifest as the first argument.")
    if context.get("roi_name"):  # a DICOM-SEG keeps the ROI name the manifest uses
        names.setdefault(int(label), str(context["roi_name"]))
    original, key, folder = _read(image)
    if folder is not None:
        context.setdefault("series_folder", folder)
        context.setdefault("default_path", str(Path(folder).parent / "seg_edited.dcm"))
    labels = None
    if mask is not None:
        obj, lab = mask if isinstance(mask, tuple) else (mask, None)
        start = read_any_mask(obj, original, label=lab)
        labels = to_lps(start, original)
        if context.get("relabel") and labels.any():
            labels[labels > 0] = int(label)
    case = {"key": key, "image": original, "masks": {}, "label": None, "modality": None,
            "status": "unknown", "problems": ""}
    from radnb.segment._editor import Editor

    return Editor(case, labels_lps=labels, label=int(label), label_names=names,
                  radius_mm=radius_mm, tolerance=tolerance, size=size, plane=plane,
                  context=context)


def _read(image):
    """(SimpleITK image, name to show, DICOM series folder or None)."""
    import SimpleITK as sitk

    if isinstance(image, sitk.Image):
        return image, "image", None
    from radnb.io import read_image

    path = Path(str(image)).expanduser()
    original = read_image(path)
    if original.GetDimension() != 3:
        raise ValueError(f"the editor needs a 3D image; {path.name!r} is {original.GetDimension()}D.")
    folder = path if path.is_dir() else (path.parent if path.suffix.lower() == ".dcm" else None)
    return original, path.name, folder


def _from_manifest(manifest, case_id, timepoint, reader, new_reader, label):
    """(image path, starting mask or None, editor context) for one case of a manifest."""
    import pandas as pd

    from radnb._utils.validation import check_columns

    check_columns(manifest, ["case_id", "image", "mask"], what="manifest")
    if case_id is None:
        raise ValueError("case_id is required with a manifest, e.g. edit(manifest, 'P001').")
    df = manifest.copy()
    for col, default in (("timepoint", 1), ("reader", 1), ("label", 1)):
        if col not in df:
            df[col] = default
    rows = df[(df["case_id"].astype(str) == str(case_id)) & (df["timepoint"] == timepoint)]
    if rows.empty:
        ids = df["case_id"].astype(str).unique().tolist()
        raise ValueError(f"case_id {case_id!r} with timepoint {timepoint} is not in the manifest; "
                         f"it has case ids {ids[:6]}{'...' if len(ids) > 6 else ''}.")
    readers = sorted(int(r) for r in rows["reader"])
    if reader is not None and reader not in readers:
        raise ValueError(f"reader {reader} has no mask for case {case_id!r}; readers: {readers}. "
                         "Pass reader=None to start from an empty mask.")
    row = rows[rows["reader"] == (readers[0] if reader is None else reader)].iloc[0]
    new = int(new_reader) if new_reader is not None else max(readers) + 1
    if new in readers:
        raise ValueError(f"new_reader={new} already has a mask for case {case_id!r}; "
                         f"pick a number other than {readers}.")

    def _label(r):
        return int(r["label"]) if pd.notna(r["label"]) else None

    refs = {f"reader {int(r['reader'])}": (r["mask"], _label(r)) for _, r in rows.iterrows()}
    mask_path = Path(str(row["mask"]))
    if mask_path.name.lower().endswith(".dcm"):
        default = mask_path.parent / f"seg_reader{new}.dcm"
    else:
        default = mask_path.parent / f"{case_id}_t{timepoint}_r{new}.nii.gz"
    start = None if reader is None else (str(row["mask"]), _label(row))
    roi = row["roi"] if "roi" in row.index and pd.notna(row["roi"]) and row["roi"] != "" else None
    context = {"row": row, "new_reader": new, "references": refs, "default_path": str(default),
               "relabel": True, "roi_name": roi}
    return row["image"], start, context
