"""The interactive viewers (browse, compare) and the static slice figure.

Public names are re-exported by :mod:`radnb.view`, which documents the step.
"""
from __future__ import annotations

import numpy as np

import radnb.view._render as _render
from radnb._utils.i18n import tr
from radnb._utils.validation import check_option, check_range


CT_PRESETS = _render.CT_PRESETS


def browse(cohort_or_image, mask=None, *, validation=None, plane="axial", window=None,
           level=None, mode="fill", opacity=0.4, size=512, modality=None, heatmap=None,
           heatmap_cmap="viridis"):
    """Browse a cohort or one image with its mask, slice by slice.

    Parameters
    ----------
    cohort_or_image : pandas.DataFrame, SimpleITK.Image, str or Path
        A manifest (see :mod:`radnb.cohort`; a ``.csv`` path is read with
        :func:`radnb.cohort.load_manifest`), or one image (object or file).
    mask : SimpleITK.Image, str, Path or dict, optional
        Mask of a single image; all its labels are drawn, each in its own colour.
    validation : pandas.DataFrame or False, optional
        Output of :func:`radnb.cohort.validate`, shown next to each case. By
        default it is computed; ``False`` skips it (faster for big cohorts).
    plane : {"axial", "coronal", "sagittal"}
    window, level : float, optional
        Initial window width and level. Default: the "mediastinum" preset for
        CT (HU), the 1st-99th percentile range for MR.
    mode : {"fill", "contour"}
    opacity : float in [0, 1]
    size : int
        Longest side of the picture in screen pixels.
    modality : {"CT", "MR"}, optional
        For a single image: CT gets the HU presets. Default: the manifest's
        ``modality`` column, else a guess (integer image with values below
        -50 = CT).
    heatmap : SimpleITK.Image, optional
        A float map on the grid of a single image (e.g. from
        :func:`radnb.extract.feature_map`), drawn as a colour overlay where it
        is finite (NaN = not drawn), with a colour bar next to the legend.
    heatmap_cmap : str, default "viridis"
        matplotlib colour map of ``heatmap``.

    Returns
    -------
    radnb.view._viewer.Viewer
        An ``ipywidgets.VBox``; display it in a notebook. Its state can be read
        and set from Python: ``case``, ``plane``, ``slice``, ``window``,
        ``level``, ``opacity``, ``mode``, ``zoom``, ``preset``, ``point``
        (and ``state`` as a dict, ``pick()`` for the picked voxel).

    Notes
    -----
    Hover over the picture to read the voxel index, position (mm) and value
    (HU for CT) under the cursor; click it to pick a point (also settable with
    the two Point sliders or ``viewer.point = (row, col)``). After a click,
    Arrow Up/Down step one slice and Page Up/Down ten. The slider opens on the
    ROI's centre.

    See Also
    --------
    plot_slice : the same picture as a static matplotlib figure.

    Examples
    --------
    >>> from radnb.datasets import load_demo_cohort
    >>> viewer = browse(load_demo_cohort())  # doctest: +SKIP
    >>> viewer.plane, viewer.preset = "coronal", "lung"  # doctest: +SKIP
    >>> viewer  # doctest: +SKIP
    """
    from radnb.view._cases import cases_from
    from radnb.view._viewer import Viewer

    _check_display(plane, mode, opacity)
    check_option("modality", modality, (None, "CT", "MR"))
    cases = cases_from(cohort_or_image, mask, validation=validation, modality=modality)
    heat = None
    if heatmap is not None:
        if len(cases) != 1 or not hasattr(heatmap, "GetSize"):
            raise ValueError("heatmap= needs one image (not a cohort) and a SimpleITK image on its "
                             f"grid, e.g. radnb.extract.feature_map(image, mask); got "
                             f"{type(heatmap).__name__} with {len(cases)} cases.")
        import matplotlib

        if heatmap_cmap not in matplotlib.colormaps:
            raise ValueError(f"heatmap_cmap {heatmap_cmap!r} is not a matplotlib colour map; use "
                             "e.g. 'viridis', 'magma' or 'coolwarm'.")
        name = heatmap.GetMetaData("radnb_feature") if heatmap.HasMetaDataKey("radnb_feature") else "map"
        heat = {"image": heatmap, "name": name, "cmap": heatmap_cmap}
    return Viewer(cases, size=size, window=window, level=level, mode=mode, opacity=opacity,
                  plane=plane, heatmap=heat)


def compare(image, masks, *, plane="axial", mode="contour", opacity=0.9, size=512, modality=None):
    """Overlay several masks of one image and show their agreement (Dice).

    Parameters
    ----------
    image : SimpleITK.Image, str or Path
    masks : dict
        Name -> mask (image or path), e.g. ``{"reader 1": m1, "reader 2": m2}``.
        Every voxel > 0 counts as inside. RTSTRUCT and DICOM-SEG files are drawn on
        the image grid; give ``(path, roi_name)`` when the file holds several ROIs.
    plane, mode, opacity, size, modality
        As in :func:`browse` (contours by default, so overlapping masks stay visible).

    Returns
    -------
    radnb.view._viewer.Viewer
        The viewer, with a table of pairwise Dice coefficients for the whole
        volume and for the displayed slice (updated as you move).
        ``viewer.agreement()`` returns the whole-volume values as a DataFrame.

    Notes
    -----
    Dice = 2|A and B| / (|A| + |B|) (Dice 1945); 1 = identical, 0 = no overlap.

    Examples
    --------
    >>> m = load_demo_cohort()  # doctest: +SKIP
    >>> r1 = m[(m.case_id == m.case_id[0])]  # doctest: +SKIP
    >>> compare(r1.image.iloc[0], {"reader 1": r1.mask.iloc[0], "reader 2": r1.mask.iloc[1]})  # doctest: +SKIP
    """
    from radnb.view._viewer import Viewer

    _check_display(plane, mode, opacity)
    check_option("modality", modality, (None, "CT", "MR"))
    if not isinstance(masks, dict) or not masks:
        raise ValueError("masks must be a non-empty dict name -> mask, e.g. "
                         "{'reader 1': mask1, 'reader 2': mask2}; got " + type(masks).__name__ + ".")
    case = {"key": "image", "image": image, "masks": dict(masks), "label": None, "modality": modality,
            "status": "unknown", "problems": ""}
    viewer = Viewer([case], size=size, mode=mode, opacity=opacity, plane=plane, dice=len(masks) > 1)
    viewer.render()
    return viewer


def plot_slice(image, mask=None, *, plane="axial", index=None, window=None, level=None,
               mode="contour", opacity=0.8, ax=None):
    """Draw one slice (with its mask) as a static figure, e.g. for a report.

    Parameters
    ----------
    image : SimpleITK.Image, str or Path
    mask : SimpleITK.Image, str or Path, optional
        Each label value gets its own colour.
    plane : {"axial", "coronal", "sagittal"}
    index : int, optional
        Slice in that plane; default the slice through the ROI centre (or the middle).
    window, level : float, optional
        Default as in :func:`browse`.
    mode, opacity
        Mask drawing, as in :func:`browse`.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Axes with the slice drawn at its physical aspect ratio, axes in mm.

    Examples
    --------
    >>> import SimpleITK as sitk
    >>> img = sitk.Image(20, 20, 5, sitk.sitkInt16)
    >>> ax = plot_slice(img)
    >>> ax.get_xlabel()
    'patient right -> left (mm)'
    """
    import matplotlib.pyplot as plt

    from radnb.view._cases import cases_from, load_case

    _check_display(plane, mode, opacity)
    d = load_case(cases_from(image, mask)[0])
    roi = np.logical_or.reduce([m for _, m in d["layers"]]) if d["layers"] else None
    centre = _render.roi_centre(roi if roi is not None else np.zeros(d["image"].shape, bool))
    axis = _render._PLANE_AXIS[plane]
    index = centre[axis] if index is None else int(index)
    check_range("index", index, 0, d["image"].shape[axis] - 1)
    if window is None:
        window, level = (_render.CT_PRESETS["mediastinum"] if d["modality"] == "CT"
                         else _render.percentile_window(d["image"]))
    grey = _render.apply_window(_render.take_slice(d["image"], plane, index), window, level)
    layers = [(_render.take_slice(m, plane, index), _render.label_colour(i))
              for i, (_, m) in enumerate(d["layers"])]
    rgb = _render.overlay(grey, layers, opacity=opacity, mode=mode)
    row_mm, col_mm = _render.pixel_spacing(d["spacing"], plane)
    if ax is None:
        _, ax = plt.subplots()
    h, w = grey.shape
    ax.imshow(rgb, extent=(0, w * col_mm, h * row_mm, 0), interpolation="nearest")
    right_left, front_back, head_feet = (tr("patient right -> left"), tr("anterior -> posterior"),
                                         tr("superior -> inferior"))
    xlabel, ylabel = {"axial": (right_left, front_back), "coronal": (right_left, head_feet),
                      "sagittal": (front_back, head_feet)}[plane]
    ax.set_xlabel(f"{xlabel} (mm)")
    ax.set_ylabel(f"{ylabel} (mm)")
    unit = " HU" if d["modality"] == "CT" else ""
    title = {"axial": tr("axial slice {index}, W {window:g} / L {level:g}{unit}"),
             "coronal": tr("coronal slice {index}, W {window:g} / L {level:g}{unit}"),
             "sagittal": tr("sagittal slice {index}, W {window:g} / L {level:g}{unit}")}[plane]
    ax.set_title(title.format(index=index, window=window, level=level, unit=unit), fontsize=9)
    if d["layers"]:
        from matplotlib.patches import Patch

        ax.legend(handles=[Patch(color=np.array(_render.label_colour(i)) / 255, label=n)
                           for i, (n, _) in enumerate(d["layers"])], loc="lower right", fontsize=7)
    return ax


def _check_display(plane, mode, opacity):
    check_option("plane", plane, _render.PLANES)
    check_option("mode", mode, ("fill", "contour"))
    check_range("opacity", opacity, 0, 1)
