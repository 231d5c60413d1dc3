"""The editing tools of :class:`radnb.segment._editor.Editor` as methods (paint, grow, ...).

A mixin: it works on the editor's label volume (``_labels``, LPS order), its
``history`` and the viewer's state (plane, slice, ``_data``). Each tool turns
its region into flat voxel indices with :mod:`radnb.segment._editor_ops` and
hands them to ``_apply``, one undo step per call.
"""
from __future__ import annotations

import numpy as np

from radnb._utils.i18n import tr
import radnb.segment._editor_ops as ops
from radnb.segment._tools import region_grow
from radnb.view import _render

__all__ = ["EditorTools"]


class EditorTools:
    """Paint, erase, grow, box threshold, clean-up, interpolation, undo / redo."""


    def paint(self, points, *, radius_mm=None, erase=False):
        """Paint (or erase) a stroke on the displayed slice; return the number of changed voxels.

        ``points`` are (row, column) of the displayed slice, as :attr:`point`;
        the brush is a disk of ``radius_mm`` (default: the slider) in mm.
        """
        d = self._data
        radius = self.radius_mm if radius_mm is None else float(radius_mm)
        shape2d = _render.n_rows_cols(d["image"].shape, self.plane)
        pixel_mm = _render.pixel_spacing(d["spacing"], self.plane)
        region = ops.brush_disk(points, radius, pixel_mm, shape2d)
        flat, value = ops.paint(self._labels, self.plane, self.slice, region, self.label, erase=erase)
        return self._apply(flat, value, "erase" if erase else "paint")

    def erase(self, points, *, radius_mm=None):
        """Erase the active label along a stroke (see :meth:`paint`)."""
        return self.paint(points, radius_mm=radius_mm, erase=True)

    def show(self, point, *, seed_space="auto"):
        """Go to the slice through ``point`` and pick it; return its (row, column) on the picture.

        ``point`` is a voxel index (integers, x, y, z) or a point in mm (floats)
        of the image, as for :func:`radnb.segment.region_grow`.
        """
        z, y, x = self._lps_index(point, seed_space)
        plane = self.plane
        rc = {"axial": (y, x), "coronal": (self._data["image"].shape[0] - 1 - z, x),
              "sagittal": (self._data["image"].shape[0] - 1 - z, y)}[plane]
        with self._batch():
            self.slice = {"axial": z, "coronal": y, "sagittal": x}[plane]
        self.point = rc
        return rc

    def grow(self, seed, *, tolerance=None, seed_space="auto"):
        """Region growing in 3D from ``seed``: connected voxels within seed value +/- tolerance.

        ``seed`` is a voxel index (integers, x, y, z) or a point in mm (floats)
        of the image, as for :func:`radnb.segment.region_grow`. The view moves
        to the seed's slice. Moving the 'Tolerance' slider afterwards re-grows
        from the same seed (live preview). Returns the number of changed voxels.
        """
        if tolerance is not None:
            with self._batch():
                self.tolerance = tolerance
        zyx = self._lps_index(seed, seed_space)
        self.show(seed, seed_space=seed_space)
        return self._grow_zyx(zyx)

    def _lps_index(self, point, seed_space):
        """(z, y, x) of the LPS array at an index or mm point of the original image."""
        from radnb.segment._tools import _seed_index

        d = self._data
        index = _seed_index(d["original"], point, seed_space)
        x, y, z = d["oriented"].TransformPhysicalPointToIndex(
            d["original"].TransformIndexToPhysicalPoint(index))
        return z, y, x

    def threshold_box(self, box, lower=None, upper=None):
        """Label the voxels of the displayed slice in ``box`` = (row0, row1, col0, col1) whose
        intensity lies in [lower, upper] (default: the 'Box range' slider)."""
        lo, hi = self.box_range
        lo, hi = (lo if lower is None else lower), (hi if upper is None else upper)
        flat = ops.threshold_box(self._data["image"], self.plane, self.slice, box, lo, hi)
        return self._apply(flat, self.label, "box threshold")

    def fill_holes(self):
        """Close the holes of the active label, slice by slice in the displayed plane."""
        return self._apply(ops.fill_holes_in_plane(self._labels, self.label, self.plane),
                           self.label, "fill holes")

    def keep_largest(self):
        """Remove every part of the active label except its largest 3D component."""
        return self._apply(ops.keep_largest(self._labels, self.label), 0, "keep largest")

    def interpolate(self):
        """Fill the slices between contoured slices of the active label (displayed plane)."""
        flat = ops.interpolate_slices(self._labels, self.label, self.plane, self._data["spacing"])
        return self._apply(flat, self.label, "interpolate")

    def undo(self):
        """Undo the last edit; return its name, or None."""
        what = self.history.undo()
        self._after_edit(tr("undid {what}").format(what=tr(what)) if what else tr("nothing to undo"))
        return what

    def redo(self):
        """Redo the last undone edit; return its name, or None."""
        what = self.history.redo()
        self._after_edit(tr("redid {what}").format(what=tr(what)) if what else tr("nothing to redo"))
        return what

    def _grow_zyx(self, zyx):
        """Grow from an LPS voxel: connected voxels within the window, enclosed holes filled."""
        import SimpleITK as sitk
        from scipy import ndimage

        d = self._data
        z, y, x = (int(v) for v in zyx)
        lower, upper = ops.grow_window(d["image"], (z, y, x), self.tolerance)
        grown = sitk.GetArrayFromImage(region_grow(  # a copy, not a view of a temporary
            d["oriented"], (x, y, z), lower=lower, upper=upper, seed_space="index")).astype(bool)
        box = _render.roi_bbox(grown, margin=1)  # fill holes on the region's box only: fast
        region = np.zeros(grown.shape, dtype=bool)
        region[box] = ndimage.binary_fill_holes(grown[box])
        self._grow_seed = (z, y, x)
        return self._apply(np.flatnonzero(region), self.label, "grow")
