"""Semi-automatic segmentation, mask clean-up, mask perturbation and agreement.

The steps a reader follows to outline a lesion with help from the computer:

1. pick a seed inside the lesion and let :func:`region_grow` (or
   :func:`threshold`) find the voxels that look alike;
2. clean up: keep the :func:`largest_component`, :func:`fill_holes`,
   :func:`smooth` the outline;
3. compare with another outline: :func:`dice`, :func:`jaccard`,
   :func:`hausdorff95`, :func:`volume_difference`, or all at once with
   :func:`agreement`; a whole cohort with :func:`cohort_agreement`.

Perturbations (:func:`erode_dilate`, :func:`perturb_contour`,
:func:`translate_mask`, :func:`randomize_supervoxels`, :func:`perturb_mask`)
mimic a second reader, to test which features survive small outline changes
(see :mod:`radnb.reproducibility`).

Regions derived from a mask: :func:`split_lesions` (one mask per connected
lesion) and :func:`peritumoral_ring` (a shell of a given width in mm around the
lesion, optionally inside a body mask); :mod:`radnb.extract` turns a manifest
into one row per lesion or per ring with these.

Interactive: :func:`edit` opens an image (or a case of a cohort) in the slice
viewer with a brush, region growing from a click, a box threshold, clean-up,
slice interpolation and undo, and saves the mask (NIfTI, NRRD, DICOM-SEG) or
the manifest row of a new reader.

All functions take and return SimpleITK images on the input's voxel grid.
"""

from radnb.segment._tools import (
    threshold,
    region_grow,
    largest_component,
    fill_holes,
    smooth,
    cohort_agreement,
)
from radnb.segment._perturb import (
    erode_dilate,
    perturb_contour,
    translate_mask,
    randomize_supervoxels,
    perturb_mask,
    PERTURBATIONS,
)
from radnb.segment._editor_open import edit
from radnb.segment._regions import split_lesions, peritumoral_ring
from radnb.segment._metrics import (
    dice,
    jaccard,
    hausdorff95,
    volume_difference,
    VolumeDifference,
    agreement,
    AGREEMENT_COLUMNS,
    plot_agreement,
)

__all__ = [
    "threshold",
    "region_grow",
    "largest_component",
    "fill_holes",
    "smooth",
    "erode_dilate",
    "perturb_contour",
    "translate_mask",
    "randomize_supervoxels",
    "perturb_mask",
    "PERTURBATIONS",
    "dice",
    "jaccard",
    "hausdorff95",
    "volume_difference",
    "VolumeDifference",
    "agreement",
    "AGREEMENT_COLUMNS",
    "cohort_agreement",
    "plot_agreement",
    "edit",
    "split_lesions",
    "peritumoral_ring",
]
