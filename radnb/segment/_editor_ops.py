"""The editing operations behind :func:`radnb.segment.edit`, on plain numpy arrays.

Everything works on the label volume in the viewer's LPS array order (z, y, x)
(see :mod:`radnb.view._render`) and on displayed slices addressed by
``(plane, index)``; distances are in mm, so a brush is round on anisotropic
voxels. Every edit is a :class:`Change` (changed voxels, old and new values),
which is what :class:`History` keeps for undo / redo.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from radnb.view import _render

__all__ = [
    "Change", "History", "plane_voxels", "brush_disk", "paint", "threshold_box", "grow_window",
    "fill_holes_in_plane", "keep_largest", "interpolate_slices", "signed_distance", "PLANE_AXIS",
    "fill_overlay",
]

#: numpy axis of the (z, y, x) volume that each displayed plane cuts through
PLANE_AXIS = {"axial": 0, "coronal": 1, "sagittal": 2}


@dataclass
class Change:
    """Voxels (flat indices of the label volume) an edit changed, their old and new values."""

    index: np.ndarray
    old: np.ndarray
    new: np.ndarray
    what: str = "edit"

    @property
    def nbytes(self):
        return self.index.nbytes + self.old.nbytes + self.new.nbytes


class History:
    """Undo / redo of label edits, storing only the changed voxels.

    Examples
    --------
    >>> labels = np.zeros((2, 3, 4), np.uint8)
    >>> history = History(labels, limit=20)
    >>> history.apply(np.array([0, 5]), 1, "paint")
    2
    >>> history.undo(), int(labels.sum())
    ('paint', 0)
    >>> history.redo(), int(labels.sum())
    ('paint', 2)
    """

    def __init__(self, labels, limit=50):
        self.labels, self.limit = labels, int(limit)
        self._undo, self._redo = [], []

    def apply(self, index, value, what="edit"):
        """Set the voxels ``index`` (flat) to ``value`` (scalar or array); return how many changed."""
        flat = self.labels.reshape(-1)
        index = np.asarray(index, dtype=np.intp).ravel()
        new = np.broadcast_to(np.asarray(value, dtype=self.labels.dtype), index.shape)
        old = flat[index]
        changed = old != new
        if not changed.any():
            return 0
        change = Change(index[changed], old[changed], np.array(new[changed]), what)
        flat[change.index] = change.new
        self._undo.append(change)
        del self._undo[:-self.limit]
        self._redo.clear()
        return int(changed.sum())

    def undo(self):
        """Revert the last edit; return its name (None when there is nothing to undo)."""
        if not self._undo:
            return None
        change = self._undo.pop()
        self.labels.reshape(-1)[change.index] = change.old
        self._redo.append(change)
        return change.what

    def redo(self):
        """Re-apply the last undone edit; return its name (None when there is nothing to redo)."""
        if not self._redo:
            return None
        change = self._redo.pop()
        self.labels.reshape(-1)[change.index] = change.new
        self._undo.append(change)
        return change.what

    @property
    def last(self):
        """The most recent edit (a :class:`Change`), or None."""
        return self._undo[-1] if self._undo else None

    def __len__(self):
        return len(self._undo)

    @property
    def n_redo(self):
        return len(self._redo)


def plane_voxels(plane, index, rows, cols, shape):
    """Flat indices into a (z, y, x) volume of pixels (rows, cols) of displayed slice ``index``."""
    rows, cols = np.asarray(rows, np.intp), np.asarray(cols, np.intp)
    zyx = _render.slice_to_voxel(plane, index, rows, cols, shape)
    zyx = [np.broadcast_to(np.asarray(a, np.intp), rows.shape) for a in zyx]
    return np.ravel_multi_index(zyx, shape)


def brush_disk(points, radius_mm, pixel_mm, shape2d):
    """Pixels of a slice within ``radius_mm`` of a stroke, in mm (round on anisotropic pixels).

    Parameters
    ----------
    points : sequence of (row, col)
        The stroke in pixel coordinates of the displayed slice (pixel centres
        at whole numbers); consecutive points are joined by straight segments,
        one point paints one disk.
    radius_mm : float
    pixel_mm : (row_mm, col_mm)
        Pixel size of the slice (:func:`radnb.view._render.pixel_spacing`).
    shape2d : (rows, cols)

    Returns
    -------
    ndarray of bool, shape ``shape2d``

    Examples
    --------
    >>> disk = brush_disk([(5, 5)], 2.0, (2.0, 0.5), (11, 11))
    >>> int(disk[:, 5].sum()), int(disk[5].sum())  # 1 pixel above/below, 4 left/right
    (3, 9)
    """
    out = np.zeros(shape2d, dtype=bool)
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    if not len(pts):
        return out
    sr, sc = (float(v) for v in pixel_mm)
    r = float(radius_mm)
    reach = np.array([r / sr, r / sc])
    lo = np.maximum(np.floor(pts.min(axis=0) - reach).astype(int), 0)
    hi = np.minimum(np.ceil(pts.max(axis=0) + reach).astype(int) + 1, shape2d)
    if np.any(hi <= lo):
        return out
    starts = pts if len(pts) == 1 else pts[:-1]
    ends = pts if len(pts) == 1 else pts[1:]
    area = int(np.prod(hi - lo))
    step = max(1, 2_000_000 // area)  # segments per chunk: bounded memory on long strokes
    rr, cc = np.mgrid[lo[0]:hi[0], lo[1]:hi[1]]
    ry, cx = rr * sr, cc * sc  # pixel centres in mm
    best = np.full(rr.shape, np.inf)
    for k in range(0, len(starts), step):
        p = starts[k:k + step] * (sr, sc)
        d = ends[k:k + step] * (sr, sc) - p
        dd = np.maximum((d * d).sum(axis=1), 1e-12)[:, None, None]
        vy, vx = ry[None] - p[:, 0, None, None], cx[None] - p[:, 1, None, None]
        t = np.clip((vy * d[:, 0, None, None] + vx * d[:, 1, None, None]) / dd, 0.0, 1.0)
        dist2 = (vy - t * d[:, 0, None, None]) ** 2 + (vx - t * d[:, 1, None, None]) ** 2
        best = np.minimum(best, dist2.min(axis=0))
    out[lo[0]:hi[0], lo[1]:hi[1]] = best <= r * r + 1e-9
    return out


def fill_overlay(grey, labels2d, opacity):
    """RGB of a grey slice with every label filled in its colour, blended by ``opacity``.

    The same numbers as :func:`radnb.view._render.overlay` in "fill" mode with
    one layer per label value, via a (label, grey) -> RGB look-up table.
    """
    table = _overlay_table(float(opacity))
    index = labels2d.astype(np.intp) * 256 + grey
    return np.take(table, index, axis=0)


@functools.lru_cache(maxsize=8)
def _overlay_table(opacity):
    a = np.float32(opacity)
    g = np.arange(256, dtype=np.float32)[:, None]
    colours = np.array([(0, 0, 0)] + [_render.label_colour(v - 1) for v in range(1, 256)],
                       dtype=np.float32)
    table = (g[None] * (np.float32(1.0) - a) + colours[:, None, :] * a + np.float32(0.5))
    table = table.astype(np.uint8)
    table[0] = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)
    return table.reshape(-1, 3)


def paint(labels, plane, index, region2d, label, *, erase=False):
    """(flat indices, value) that paint ``region2d`` of a slice with ``label`` (or erase it).

    Painting overwrites every label; erasing removes only ``label`` (other labels stay).
    """
    rows, cols = np.nonzero(region2d)
    flat = plane_voxels(plane, index, rows, cols, labels.shape)
    if erase:
        flat = flat[labels.reshape(-1)[flat] == label]
        return flat, 0
    return flat, label


def threshold_box(image, plane, index, box, lower, upper):
    """Flat indices of the voxels of slice ``index`` inside ``box`` with ``lower <= value <= upper``.

    ``box`` is (row0, row1, col0, col1) of the displayed slice, ends included.
    """
    r0, r1, c0, c1 = (int(v) for v in box)
    r0, r1 = sorted((r0, r1))
    c0, c1 = sorted((c0, c1))
    values = _render.take_slice(image, plane, index)
    h, w = values.shape
    r0, c0, r1, c1 = max(r0, 0), max(c0, 0), min(r1, h - 1), min(c1, w - 1)
    region = np.zeros(values.shape, dtype=bool)
    part = values[r0:r1 + 1, c0:c1 + 1]
    region[r0:r1 + 1, c0:c1 + 1] = (part >= lower) & (part <= upper)
    rows, cols = np.nonzero(region)
    return plane_voxels(plane, index, rows, cols, image.shape)


def grow_window(image, zyx, tolerance):
    """(lower, upper) intensity window of region growing: seed value +/- ``tolerance``.

    The seed value is the mean of the 3 x 3 x 3 voxels around the seed, so one
    noisy voxel does not decide the window.
    """
    sl = tuple(slice(max(i - 1, 0), i + 2) for i in zyx)
    centre = float(np.mean(image[sl]))
    return centre - float(tolerance), centre + float(tolerance)


def fill_holes_in_plane(labels, label, plane):
    """Flat indices of the holes of ``label`` closed slice by slice in ``plane``.

    A drawn outline (a ring) has no hole in 3D, since its inside touches the
    slices above and below; filling each displayed slice closes it.
    """
    from scipy import ndimage

    axis = PLANE_AXIS[plane]
    region = labels == label
    filled = np.zeros_like(region)
    for k in np.flatnonzero(region.any(axis=tuple(a for a in range(3) if a != axis))):
        sl = [slice(None)] * 3
        sl[axis] = k
        filled[tuple(sl)] = ndimage.binary_fill_holes(region[tuple(sl)])
    return np.flatnonzero(filled & ~region)


def keep_largest(labels, label):
    """Flat indices of the voxels of ``label`` outside its largest 3D component (26-connected)."""
    from scipy import ndimage

    region = labels == label
    parts, n = ndimage.label(region, structure=np.ones((3, 3, 3), bool))
    if n <= 1:
        return np.array([], dtype=np.intp)
    sizes = np.bincount(parts.ravel())
    sizes[0] = 0
    return np.flatnonzero(region & (parts != int(np.argmax(sizes))))


def signed_distance(mask2d, pixel_mm):
    """Signed distance (mm) to the border of a 2D mask: negative inside, positive outside.

    Distances between pixel centres are shortened by half a pixel, so the zero
    level lies half-way between the last pixel inside and the first outside.
    """
    from scipy import ndimage

    m = np.asarray(mask2d, dtype=bool)
    half = 0.5 * min(pixel_mm)
    outside = ndimage.distance_transform_edt(~m, sampling=pixel_mm) - half
    inside = ndimage.distance_transform_edt(m, sampling=pixel_mm) - half
    return np.where(m, -inside, outside)


def interpolate_slices(labels, label, plane, spacing_zyx):
    """Flat indices that fill the empty slices between contoured slices of ``label``.

    Shape-based interpolation (Raya & Udupa 1990; Herman et al. 1992): the
    signed distance maps of the two nearest contoured slices are blended
    linearly by slice position, and the pixels where the blend is <= 0 are
    inside. Only background pixels of the slices without ``label`` are filled.

    References
    ----------
    Raya SP, Udupa JK. Shape-based interpolation of multidimensional objects.
    IEEE Trans Med Imaging 1990;9:32-42.
    """
    axis = PLANE_AXIS[plane]
    n = labels.shape[axis]
    pixel_mm = _render.pixel_spacing(spacing_zyx, plane)
    present = [k for k in range(n) if (_render.take_slice(labels, plane, k) == label).any()]
    out = []
    for a, b in zip(present, present[1:]):
        if b - a < 2:
            continue
        da = signed_distance(_render.take_slice(labels, plane, a) == label, pixel_mm)
        db = signed_distance(_render.take_slice(labels, plane, b) == label, pixel_mm)
        for k in range(a + 1, b):
            w = (k - a) / (b - a)
            inside = ((1 - w) * da + w * db <= 0) & (_render.take_slice(labels, plane, k) == 0)
            rows, cols = np.nonzero(inside)
            out.append(plane_voxels(plane, k, rows, cols, labels.shape))
    return np.concatenate(out) if out else np.array([], dtype=np.intp)
