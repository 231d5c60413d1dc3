"""pyradiomics' own ``execute``, without its slow whole-image bookkeeping (runs in workers).

pyradiomics spends much of a call on the *original* (full-size) image and mask,
before resampling crops them to the ROI: ``getMask`` sorts every mask voxel to
list the labels, and the diagnostics (``additionalInfo``) hash image and mask
with ITK's SHA-1 and compute statistics, connected components and the centre of
mass over the whole volume. On a 512 x 512 x 61 CT this is about half of the
case's preprocessing time. :class:`CaseExtractor` is pyradiomics'
``RadiomicsFeatureExtractor`` with ``loadImage`` replaced by the same steps,
giving the same values and the same diagnostics (same keys, order and numbers),
computed without the full-volume copies, sorts and slow hashes. Resampling,
mask checks, filters and feature classes are pyradiomics' own code, run once
per case for all of its image types and feature classes.

``computeFeatures`` is also pyradiomics' loop over the feature classes of one
(filtered) image, except that the classes share one discretisation: each
pyradiomics class bins the same image with the same settings (in Python, voxel
by voxel for the bin edges), so the first class's binned image is handed to the
others after checking that their input is the same; and each class lists its
feature names once per process instead of once per image.
"""
from __future__ import annotations

import collections

import numpy as np
import SimpleITK as sitk
from radiomics import getFeatureClasses, imageoperations
from radiomics.base import RadiomicsFeaturesBase
from radiomics.featureextractor import RadiomicsFeatureExtractor

from radnb.extract._cache import sha1

__all__ = ["CaseExtractor"]

_PREFIX = "diagnostics_"


class CaseExtractor(RadiomicsFeatureExtractor):
    """``RadiomicsFeatureExtractor`` without full-volume rework or repeated binning.

    Parameters
    ----------
    image_sha1 : str, optional
        ``SimpleITK.Hash`` of the image that will be passed to ``execute``
        (radnb hashes it for the cache already); computed when not given.
    **settings
        pyradiomics settings, as for ``RadiomicsFeatureExtractor``.

    Examples
    --------
    >>> import SimpleITK as sitk
    >>> image = sitk.GetImageFromArray(__import__("numpy").arange(64.0).reshape(4, 4, 4))
    >>> mask = sitk.GetImageFromArray((sitk.GetArrayFromImage(image) > 20).astype("uint8"))
    >>> out = CaseExtractor(binWidth=10).execute(image, mask)
    >>> out["diagnostics_Mask-original_VoxelNum"], round(float(out["original_firstorder_Mean"]), 1)
    (43, 42.0)
    """

    def __init__(self, *args, image_sha1=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.image_sha1 = image_sha1
        self._shared = {}

    def computeFeatures(self, image, mask, imageTypeName, **kwargs):  # noqa: N802, N803
        """pyradiomics' ``computeFeatures``, with one discretisation shared by the classes."""
        memo = {}
        features = collections.OrderedDict()
        classes = getFeatureClasses()
        for name, names in self.enabledFeatures.items():
            if name.startswith("shape") or name not in classes:
                continue
            shared = self._shared.get(name)
            if shared is None:  # one subclass per extractor (a case): no state across threads
                shared = self._shared[name] = type(classes[name].__name__, (classes[name],), {
                    "__module__": classes[name].__module__, "_applyBinning": _shared_binning,
                    "getFeatureNames": classmethod(_feature_names)})
            shared._binning = memo
            instance = shared(image, mask, **kwargs)
            for feature in names or ():
                instance.enableFeatureByName(feature)
            for feature, value in instance.execute().items():
                features[f"{imageTypeName}_{name}_{feature}"] = value
        return features

    def loadImage(self, ImageFilePath, MaskFilePath, generalInfo=None, **kwargs):  # noqa: N803
        """pyradiomics' ``loadImage`` for SimpleITK images (same steps, same results)."""
        if not isinstance(ImageFilePath, sitk.Image) or not isinstance(MaskFilePath, sitk.Image):
            return RadiomicsFeatureExtractor.loadImage(ImageFilePath, MaskFilePath, generalInfo, **kwargs)
        image, label = ImageFilePath, kwargs.get("label", 1)
        mask = _label_mask(MaskFilePath, **kwargs)
        if generalInfo is not None:
            _original_image_info(generalInfo, image, self.image_sha1)
            _original_mask_info(generalInfo, mask, label)
        if kwargs.get("normalize", False):
            image = imageoperations.normalizeImage(image, **kwargs)
        if kwargs.get("interpolator") is not None and kwargs.get("resampledPixelSpacing") is not None:
            image, mask = imageoperations.resampleImage(image, mask, **kwargs)
            if generalInfo is not None:  # small (cropped) images: pyradiomics' own code
                generalInfo.addImageElements(image, "interpolated")
                generalInfo.addMaskElements(image, mask, label, "interpolated")
        elif kwargs.get("preCrop", False):
            bb, corrected = imageoperations.checkMask(image, mask, **kwargs)
            if corrected is not None:
                mask = corrected
            if bb is None:
                raise ValueError("Mask checks failed during pre-crop")
            image, mask = imageoperations.cropToTumorMask(image, mask, bb, **kwargs)
        return image, mask


_NAMES = {}


def _feature_names(cls):
    """``getFeatureNames`` (which inspects every method) once per feature class and process."""
    base = cls.__mro__[1]
    if base not in _NAMES:
        _NAMES[base] = base.getFeatureNames()
    return dict(_NAMES[base])


def _shared_binning(self, matrix):
    """``RadiomicsFeaturesBase._applyBinning``, reusing the result for an identical input."""
    memo, setting = self._binning, (self.settings.get("binWidth", 25), self.settings.get("binCount"))
    if memo and memo["setting"] == setting and np.array_equal(memo["input"], matrix) and \
            np.array_equal(memo["mask"], self.maskArray):
        self.coefficients["grayLevels"] = memo["grayLevels"].copy()
        self.coefficients["Ng"] = memo["Ng"]
        return memo["binned"].copy()
    original = matrix.copy()
    binned = RadiomicsFeaturesBase._applyBinning(self, matrix)
    memo.update(setting=setting, input=original, mask=self.maskArray.copy(), binned=binned.copy(),
                grayLevels=self.coefficients["grayLevels"].copy(), Ng=self.coefficients["Ng"])
    return binned


def _label_mask(mask, **kwargs):
    """``imageoperations.getMask`` without sorting every voxel to list the labels."""
    if "vector" in mask.GetPixelIDTypeAsString().lower():
        return imageoperations.getMask(mask, **kwargs)
    mask = sitk.Cast(mask, sitk.sitkUInt32)
    arr = sitk.GetArrayViewFromImage(mask)
    if arr.size == 0 or arr.min() == arr.max() or not (arr == kwargs.get("label", 1)).any():
        return imageoperations.getMask(mask, **kwargs)  # raises pyradiomics' own message
    return mask


def _original_image_info(info, image, image_sha1):
    """``GeneralInfo.addImageElements(image)`` with the hash reused and exact integer sums."""
    p = f"{_PREFIX}Image-original_"
    info.generalInfo[p + "Hash"] = image_sha1 or sha1(image)
    info.generalInfo[p + "Dimensionality"] = "%iD" % image.GetDimension()
    info.generalInfo[p + "Spacing"] = image.GetSpacing()
    info.generalInfo[p + "Size"] = image.GetSize()
    arr = sitk.GetArrayViewFromImage(image)
    lo, hi = arr.min(), arr.max()
    if arr.dtype.kind in "iu" and arr.dtype.itemsize <= 4 and \
            arr.size * max(abs(int(lo)), abs(int(hi))) < 2 ** 53:
        # integers: pyradiomics' float64 pairwise sum never rounds (every partial sum is an
        # integer below 2**53), so it equals the exact integer sum; mean = sum / n as numpy
        mean = np.float64(int(arr.sum(dtype=np.int64))) / arr.size
        lo, hi = np.float64(lo), np.float64(hi)
    else:
        values = arr.astype("float")
        mean, lo, hi = np.mean(values), np.min(values), np.max(values)
    info.generalInfo[p + "Mean"] = mean
    info.generalInfo[p + "Minimum"] = lo
    info.generalInfo[p + "Maximum"] = hi


def _original_mask_info(info, mask, label):
    """``GeneralInfo.addMaskElements(None, mask, label)`` computed on the ROI's bounding box."""
    p = f"{_PREFIX}Mask-original_"
    info.generalInfo[p + "Hash"] = sha1(mask)
    info.generalInfo[p + "Spacing"] = mask.GetSpacing()
    info.generalInfo[p + "Size"] = mask.GetSize()
    inside = sitk.GetArrayViewFromImage(mask) == label  # z, y, x
    lows, highs = [], []
    for axis in range(inside.ndim):
        hit = np.flatnonzero(inside.any(axis=tuple(a for a in range(inside.ndim) if a != axis)))
        lows.append(int(hit[0]))
        highs.append(int(hit[-1]) + 1)
    crop = inside[tuple(slice(lo, hi) for lo, hi in zip(lows, highs))]
    info.generalInfo[p + "BoundingBox"] = tuple(lows[::-1]) + tuple(
        h - lo for lo, h in zip(lows[::-1], highs[::-1]))
    info.generalInfo[p + "VoxelNum"] = int(np.count_nonzero(crop))
    # the label's voxels all lie in the box, so its fully connected pieces are the same there
    ccif = sitk.ConnectedComponentImageFilter()
    ccif.FullyConnectedOn()
    ccif.Execute(sitk.GetImageFromArray(crop.astype(np.uint8)))
    info.generalInfo[p + "VolumeNum"] = ccif.GetObjectCount()
    # the same integer coordinates in the same order as np.where on the whole mask
    coords = np.array(np.where(crop)) + np.array(lows)[:, None]
    center_index = tuple(np.mean(coords, axis=1)[::-1])
    info.generalInfo[p + "CenterOfMassIndex"] = center_index
    info.generalInfo[p + "CenterOfMass"] = mask.TransformContinuousIndexToPhysicalPoint(center_index)
