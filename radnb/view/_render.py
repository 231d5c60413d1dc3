"""Rendering logic behind radnb's viewers, testable without a kernel or a browser.

Everything here works on numpy arrays, except :func:`to_canonical`, which uses
SimpleITK to bring a volume into one fixed anatomical orientation first.

Display conventions (radiological, as on a PACS workstation):

* volumes are reoriented to **LPS** (``sitk.DICOMOrient(image, "LPS")``): numpy
  axis 0 runs inferior -> superior, axis 1 anterior -> posterior, axis 2
  right -> left of the patient;
* **axial**: seen from the feet, anterior at the top, patient's left on the
  right of the screen;
* **coronal**: seen from the front, superior at the top, patient's left on the
  right of the screen;
* **sagittal**: seen from the patient's left, superior at the top, anterior on
  the left of the screen.
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "PLANES", "CT_PRESETS", "LABEL_COLOURS", "to_canonical", "orient_lps", "n_slices", "take_slice",
    "pixel_spacing", "apply_window", "percentile_window", "label_colour", "overlay",
    "contour", "roi_centre", "roi_bbox", "fit_aspect", "encode", "bin_edges", "n_grey_levels",
    "dice", "slice_to_voxel", "fit_size", "display_to_voxel",
    "display_to_slice", "n_rows_cols",
]

PLANES = ("axial", "coronal", "sagittal")

#: CT window presets as (window width, level) in HU, from Radiopaedia "Windowing (CT)"
#: ("soft tissues: W 350-400, L 20-60"; soft_tissue is the musculoskeletal W 400 / L 50).
CT_PRESETS = {
    "lung": (1500.0, -600.0),
    "mediastinum": (350.0, 50.0),
    "soft_tissue": (400.0, 50.0),
    "abdomen": (400.0, 40.0),
    "bone": (1800.0, 400.0),
    "brain": (80.0, 40.0),
}

#: Distinct colours for labels / masks (Okabe-Ito colour-blind-safe palette), RGB 0-255.
LABEL_COLOURS = (
    (230, 159, 0), (86, 180, 233), (0, 158, 115), (240, 228, 66),
    (0, 114, 178), (213, 94, 0), (204, 121, 167), (255, 255, 255),
)

# numpy axis of the LPS array (z, y, x) that a plane cuts through
_PLANE_AXIS = {"axial": 0, "coronal": 1, "sagittal": 2}


def to_canonical(image):
    """Reorient a SimpleITK image to LPS; return ``(array, spacing_zyx, oriented)``.

    ``array`` is numpy order (z, y, x) = (inferior->superior, anterior->posterior,
    right->left); ``spacing_zyx`` the voxel size in mm along those axes.
    Nearest-neighbour permutation/flip only: no interpolation, labels stay exact.
    Oblique directions are snapped to the closest axes (as DICOMOrient does).
    """
    import SimpleITK as sitk

    oriented = orient_lps(image)
    array = sitk.GetArrayFromImage(oriented)
    spacing = tuple(float(s) for s in reversed(oriented.GetSpacing()))
    return array, spacing, oriented


def orient_lps(image):
    """``sitk.DICOMOrient(image, "LPS")``, skipped when the image is already LPS (fast path)."""
    import SimpleITK as sitk

    if np.allclose(image.GetDirection(), np.eye(image.GetDimension()).ravel()):
        return image
    return sitk.DICOMOrient(image, "LPS")


def n_slices(shape, plane):
    """Number of slices of a (z, y, x) volume in ``plane``."""
    return int(shape[_PLANE_AXIS[plane]])


def take_slice(volume, plane, index):
    """Return slice ``index`` of an LPS (z, y, x) volume, oriented for display.

    Row 0 is the top of the screen, column 0 its left (see module docstring).
    """
    if plane == "axial":
        return volume[index]  # rows anterior->posterior, cols right->left of patient
    if plane == "coronal":
        return volume[::-1, index, :]  # rows superior->inferior
    return volume[::-1, :, index]  # sagittal: rows superior->inferior, cols anterior->posterior


def slice_to_voxel(plane, index, row, col, shape):
    """Map (slice, row, col) of a displayed slice back to the (z, y, x) LPS voxel."""
    nz = shape[0]
    if plane == "axial":
        return (index, row, col)
    if plane == "coronal":
        return (nz - 1 - row, index, col)
    return (nz - 1 - row, col, index)


def pixel_spacing(spacing_zyx, plane):
    """(row, column) pixel size in mm of a displayed slice."""
    sz, sy, sx = spacing_zyx
    return {"axial": (sy, sx), "coronal": (sz, sx), "sagittal": (sz, sy)}[plane]


def apply_window(values, window, level):
    """Map intensities to 0-255 with a linear window (DICOM PS3.3 C.11.2.1.2 style).

    ``level - window/2`` becomes black, ``level + window/2`` white.
    """
    window = max(float(window), 1e-6)
    lower = float(level) - window / 2.0
    out = (np.asarray(values, dtype=np.float32) - np.float32(lower)) * np.float32(255.0 / window)
    np.clip(out, 0, 255, out=out)
    return out.astype(np.uint8)


def percentile_window(volume, low=1.0, high=99.0, *, mask=None, max_samples=200_000):
    """(window, level) spanning the ``low``-``high`` percentiles (MR default).

    Uses a regular subsample of at most ``max_samples`` voxels for speed; with a
    mask, only voxels inside it.
    """
    values = np.asarray(volume)
    values = values[np.asarray(mask) > 0] if mask is not None else values.ravel()
    if values.size == 0:
        return 1.0, 0.0
    step = max(1, values.size // max_samples)
    lo, hi = np.percentile(values[::step].astype(np.float64), [low, high])
    if hi <= lo:
        hi = lo + 1.0
    return float(hi - lo), float((hi + lo) / 2.0)


def label_colour(i):
    """RGB colour (0-255) of the ``i``-th label or mask (cycles through the palette)."""
    return LABEL_COLOURS[i % len(LABEL_COLOURS)]


def contour(mask2d):
    """Boolean array: inner boundary pixels of a 2D mask (4-connectivity)."""
    m = np.asarray(mask2d, dtype=bool)
    if not m.any():
        return m
    inner = m.copy()
    inner[1:, :] &= m[:-1, :]
    inner[:-1, :] &= m[1:, :]
    inner[:, 1:] &= m[:, :-1]
    inner[:, :-1] &= m[:, 1:]
    inner[0, :] = inner[-1, :] = False
    inner[:, 0] = inner[:, -1] = False
    return m & ~inner


def overlay(grey, layers, *, opacity=0.4, mode="fill"):
    """Blend coloured layers onto a greyscale uint8 slice; return RGB uint8 (H, W, 3).

    Parameters
    ----------
    grey : ndarray (H, W) uint8
    layers : list of (mask2d, (r, g, b))
        Boolean masks drawn in order (later ones on top).
    opacity : float
        0 = invisible, 1 = opaque colour.
    mode : {"fill", "contour"}
        Colour the whole region or only its outline.
    """
    rgb = np.repeat(np.asarray(grey, dtype=np.uint8)[:, :, None], 3, axis=2)
    a = float(opacity)
    for mask2d, colour in layers:
        region = contour(mask2d) if mode == "contour" else np.asarray(mask2d, dtype=bool)
        if not region.any():
            continue
        col = np.asarray(colour, dtype=np.float32)
        pix = rgb[region].astype(np.float32)
        rgb[region] = (pix * (1.0 - a) + col * a + 0.5).astype(np.uint8)
    return rgb


def roi_bbox(mask, *, margin=0):
    """Tuple of slices bounding the non-zero voxels (with ``margin``), or None if empty."""
    m = np.asarray(mask)
    if not m.any():
        return None
    out = []
    for axis in range(m.ndim):
        other = tuple(i for i in range(m.ndim) if i != axis)
        hits = np.flatnonzero(m.any(axis=other))
        out.append(slice(max(0, hits[0] - margin), min(m.shape[axis], hits[-1] + 1 + margin)))
    return tuple(out)


def roi_centre(mask):
    """Voxel index (rounded centroid) of the non-zero voxels, or the volume centre if empty."""
    m = np.asarray(mask)
    idx = np.nonzero(m)
    if not idx[0].size:
        return tuple(s // 2 for s in m.shape)
    return tuple(int(round(float(i.mean()))) for i in idx)


def fit_aspect(rgb, row_mm, col_mm, *, max_size=None):
    """Resample a slice (nearest neighbour) so each pixel is square in mm.

    Without ``max_size`` only one axis is stretched; with it, the output fits
    in ``max_size`` x ``max_size`` pixels.
    """
    h, w = rgb.shape[:2]
    out_h, out_w = fit_size(h, w, row_mm, col_mm, max_size=max_size)
    if (out_h, out_w) == (h, w):
        return rgb
    rows = np.minimum((np.arange(out_h) + 0.5) * h / out_h, h - 1).astype(np.intp)
    cols = np.minimum((np.arange(out_w) + 0.5) * w / out_w, w - 1).astype(np.intp)
    return np.ascontiguousarray(rgb[rows][:, cols])


def fit_size(h, w, row_mm, col_mm, *, max_size=None):
    """(height, width) in pixels that :func:`fit_aspect` gives an ``h`` x ``w`` slice."""
    height_mm, width_mm = h * row_mm, w * col_mm
    if max_size is None:
        px = min(row_mm, col_mm)
        out_h, out_w = round(height_mm / px), round(width_mm / px)
    else:
        scale = max_size / max(height_mm, width_mm)
        out_h, out_w = round(height_mm * scale), round(width_mm * scale)
    return max(1, int(out_h)), max(1, int(out_w))


def display_to_voxel(x, y, plane, index, shape, spacing_zyx, *, crop=None, max_size=None):
    """Map a pixel of the displayed picture back to the (z, y, x) LPS voxel it shows.

    The inverse of :func:`take_slice`, an optional ``crop`` (zoom) and
    :func:`fit_aspect`, using the same nearest-neighbour rule.

    Parameters
    ----------
    x, y : float
        Column and row in displayed-picture pixels (0, 0 = top-left corner).
    plane, index : str, int
        Displayed plane and slice.
    shape, spacing_zyx : tuple
        Shape and voxel size (mm) of the LPS volume.
    crop : (row0, row1, col0, col1), optional
        Part of the slice that is displayed (zoom), as half-open ranges.
    max_size : int, optional
        As passed to :func:`fit_aspect`.

    Returns
    -------
    (z, y, x) voxel index, or None when the pixel is outside the picture.

    Examples
    --------
    >>> display_to_voxel(10.5, 3.2, "axial", 4, (9, 8, 7), (2.5, 0.9, 0.8), max_size=70)
    (4, 0, 1)
    """
    rc = display_to_slice(x, y, plane, shape, spacing_zyx, crop=crop, max_size=max_size)
    return None if rc is None else slice_to_voxel(plane, index, *rc, shape)


def display_to_slice(x, y, plane, shape, spacing_zyx, *, crop=None, max_size=None):
    """(row, column) of the whole displayed slice under displayed pixel (x, y), or None.

    The first step of :func:`display_to_voxel` (same parameters, no slice index).
    """
    h, w = n_rows_cols(shape, plane)
    r0, r1, c0, c1 = crop if crop is not None else (0, h, 0, w)
    h, w = r1 - r0, c1 - c0
    out_h, out_w = fit_size(h, w, *pixel_spacing(spacing_zyx, plane), max_size=max_size)
    if not (0 <= x < out_w and 0 <= y < out_h):
        return None
    row = min(int((int(y) + 0.5) * h / out_h), h - 1)  # the rule fit_aspect resamples with
    col = min(int((int(x) + 0.5) * w / out_w), w - 1)
    return r0 + row, c0 + col


def n_rows_cols(shape, plane):
    """(rows, columns) of a displayed slice of a (z, y, x) volume."""
    nz, ny, nx = shape
    return {"axial": (ny, nx), "coronal": (nz, nx), "sagittal": (nz, ny)}[plane]


def encode(rgb, fmt="jpeg", *, quality=90):
    """Encode an (H, W[, 3]) uint8 array as JPEG (default, fast) or PNG bytes."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    img = Image.fromarray(np.ascontiguousarray(rgb))
    if fmt == "jpeg":
        img.save(buf, format="JPEG", quality=quality, subsampling=0)
    else:
        img.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def bin_edges(values, *, bin_width=None, bin_count=None):
    """Discretisation bin edges, following pyradiomics' ``getBinEdges`` rule.

    Fixed bin width ``w`` (pyradiomics 3.0.1, ``imageoperations.getBinEdges``):
    edges start at ``min - (min mod w)`` and step by ``w`` up to
    ``max + 2w`` (exclusive); a single edge is widened to ``min +/- 0.5``.
    Fixed bin count ``n``: ``numpy.histogram`` edges with the last edge
    raised by 1 so the maximum falls in the last bin.
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    if bin_count is not None:
        edges = np.histogram(values, int(bin_count))[1]
        edges[-1] += 1
        return edges
    w = 25.0 if bin_width is None else float(bin_width)
    lo, hi = float(values.min()), float(values.max())
    low = lo - (lo % w)
    edges = np.arange(low, hi + w * 2, w)
    if len(edges) == 1:
        edges = np.array([edges[0] - 0.5, edges[0] + 0.5])
    return edges


def n_grey_levels(values, *, bin_width=None, bin_count=None):
    """Number of grey levels after discretisation (pyradiomics' ``Ng`` range).

    The highest discretised level ``numpy.digitize(max, edges)``, as
    ``imageoperations.binImage`` computes it; for a fixed bin width this is
    ``floor(max / w) - floor(min / w) + 1``.
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    edges = bin_edges(values, bin_width=bin_width, bin_count=bin_count)
    return int(np.digitize(values.max(), edges))


def dice(a, b):
    """Dice for display: :func:`radnb.segment.dice`, but 1.0 when both masks are empty.

    On a slice where neither reader drew anything the readers agree, so the
    viewer shows 1.0 rather than ``nan``.
    """
    from radnb._utils.overlap import dice_arrays

    value = dice_arrays(np.asarray(a) != 0, np.asarray(b) != 0)
    return 1.0 if value != value else value


def heat_overlay(rgb, values, vmin, vmax, *, cmap="viridis", alpha=0.6):
    """Blend a colour-mapped float slice over ``rgb`` where ``values`` is finite."""
    import matplotlib

    shown = np.isfinite(values)
    if not shown.any():
        return rgb
    scale = (np.clip(values, vmin, vmax) - vmin) / (vmax - vmin if vmax > vmin else 1.0)
    colours = matplotlib.colormaps[cmap](np.where(shown, scale, 0))[..., :3] * 255
    out = rgb.astype(np.float32)
    out[shown] = (1 - alpha) * out[shown] + alpha * colours[shown]
    return out.round().astype(np.uint8)


def colour_bar_html(name, vmin, vmax, *, cmap="viridis"):
    """A horizontal colour bar (CSS gradient) labelled with ``name`` and its range."""
    import html

    import matplotlib

    stops = ", ".join("rgb(%d,%d,%d)" % tuple(int(255 * c) for c in matplotlib.colormaps[cmap](t)[:3])
                      for t in np.linspace(0, 1, 9))
    return (f"<div>{html.escape(name)}: <small>{vmin:.4g}</small> "
            f"<span style='display:inline-block;width:160px;height:12px;vertical-align:middle;"
            f"background:linear-gradient(to right, {stops})'></span> <small>{vmax:.4g}</small></div>")
