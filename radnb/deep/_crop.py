"""The network input: a fixed-size cube of tissue around the ROI, resampled and windowed.

Every deep model in :mod:`radnb.deep` sees the same kind of input, built by
:func:`crop_roi`:

1. the **centre** is the ROI's centroid in physical space (mm), so the crop
   follows the tumour whatever the scanner's grid;
2. a cube of ``size_mm`` is **resampled** (linear interpolation; nearest
   neighbour for the mask) onto an isotropic grid of ``spacing_mm``, axis-aligned
   in the patient's LPS frame, so every case has the same voxel size and
   orientation; outside the scan the cube is filled with air (-1024 HU);
3. intensities are **windowed**: ``window=(low, high)`` is mapped to [0, 1] and
   clipped (CT HU; as a radiologist's window, without the display).

The result is a ``(channels, n, n, n)`` float32 array in numpy (z, y, x) order:
channel 0 is the image, channel 1 (``with_mask=True``) the ROI mask.
"""
from __future__ import annotations

import numpy as np

from radnb._utils.validation import check_range

__all__ = ["CropSpec", "crop_roi", "crop_grid", "roi_centroid"]

AIR_HU = -1024.0


class CropSpec(dict):
    """Crop settings (a dict): ``size_mm``, ``spacing_mm``, ``window``, ``with_mask``."""

    def __init__(self, size_mm=48.0, spacing_mm=2.0, window=(-160.0, 240.0), with_mask=True):
        check_range("size_mm", size_mm, 1, 1000)
        check_range("spacing_mm", spacing_mm, 0.05, 50)
        low, high = (float(w) for w in window)
        if not high > low:
            raise ValueError(f"window must be (low, high) with high > low, got {tuple(window)}; "
                             "e.g. window=(-160, 240) for soft tissue (W 400 / L 40 HU).")
        super().__init__(size_mm=float(size_mm), spacing_mm=float(spacing_mm),
                         window=(low, high), with_mask=bool(with_mask))

    @property
    def n_voxels(self) -> int:
        """Voxels along each side of the cube."""
        return int(round(self["size_mm"] / self["spacing_mm"]))

    @property
    def channels(self) -> int:
        return 2 if self["with_mask"] else 1


def roi_centroid(mask, label=1):
    """Physical centre (x, y, z in mm, LPS) of the voxels of ``mask`` equal to ``label``."""
    import SimpleITK as sitk

    arr = sitk.GetArrayViewFromImage(mask)
    idx = np.argwhere(arr == label)
    if not len(idx):
        present = sorted(int(v) for v in np.unique(arr) if v != 0)
        raise ValueError(f"the mask has no voxel with label {label} (labels present: {present}); "
                         "set the manifest's 'label' column to the ROI's value.")
    centre = idx.mean(axis=0)[::-1]  # (x, y, z) continuous index
    return mask.TransformContinuousIndexToPhysicalPoint([float(c) for c in centre])


def crop_grid(centre, spec):
    """An empty SimpleITK image: the crop's grid (identity direction, LPS) centred on ``centre``."""
    import SimpleITK as sitk

    n, sp = spec.n_voxels, spec["spacing_mm"]
    ref = sitk.Image([n, n, n], sitk.sitkFloat32)
    ref.SetSpacing([sp] * 3)
    ref.SetOrigin([float(c) - sp * (n - 1) / 2 for c in centre])
    return ref


def crop_roi(image, mask, *, label=1, size_mm=48.0, spacing_mm=2.0, window=(-160.0, 240.0),
             with_mask=True, spec=None):
    """Cut the network input out of one scan: a resampled, windowed cube around the ROI.

    Parameters
    ----------
    image, mask : SimpleITK.Image
        The scan (CT in HU) and its ROI mask (any grid: the mask is mapped
        through physical space).
    label : int, default 1
        ROI value in the mask; the cube is centred on its centroid.
    size_mm : float, default 48
        Side of the cube in mm (large enough for the tumour and its margin).
    spacing_mm : float, default 2
        Isotropic voxel size after resampling (48 / 2 = 24 voxels a side).
    window : (float, float), default (-160, 240)
        Intensities mapped to [0, 1] and clipped: W 400 / L 40 HU (soft tissue).
    with_mask : bool, default True
        Add the ROI mask as a second channel (the network sees the outline).
    spec : CropSpec, optional
        All the above at once (as stored in a model); overrides them.

    Returns
    -------
    numpy.ndarray
        ``(channels, n, n, n)`` float32, numpy (z, y, x) order, LPS.

    Examples
    --------
    >>> import SimpleITK as sitk
    >>> img = sitk.Image(40, 40, 20, sitk.sitkInt16) + 40
    >>> img.SetSpacing((0.8, 0.8, 2.5))
    >>> roi = sitk.Image(40, 40, 20, sitk.sitkUInt8)
    >>> roi[15:25, 15:25, 8:12] = 1
    >>> crop_roi(img, roi).shape
    (2, 24, 24, 24)
    """
    import SimpleITK as sitk

    spec = spec if spec is not None else CropSpec(size_mm, spacing_mm, window, with_mask)
    ref = crop_grid(roi_centroid(mask, label), spec)
    img = sitk.Resample(sitk.Cast(image, sitk.sitkFloat32), ref, sitk.Transform(), sitk.sitkLinear,
                        AIR_HU, sitk.sitkFloat32)
    low, high = spec["window"]
    arr = (sitk.GetArrayFromImage(img) - low) / (high - low)
    channels = [np.clip(arr, 0.0, 1.0)]
    if spec["with_mask"]:
        roi = sitk.Cast(sitk.Equal(mask, int(label)), sitk.sitkUInt8)
        roi = sitk.Resample(roi, ref, sitk.Transform(), sitk.sitkNearestNeighbor, 0, sitk.sitkUInt8)
        channels.append(sitk.GetArrayFromImage(roi).astype(np.float32))
    return np.stack(channels).astype(np.float32)
