"""Look at images and masks: interactive widgets and static figures.

Interactive (ipywidgets, for JupyterLab and Binder):

* :func:`browse` - page through a cohort or one image, with window/level,
  mask overlay, zoom to ROI and a picked point;
* :func:`compare` - several masks of one image (two readers, manual vs
  automatic) with their Dice agreement;
* :func:`view3d` - three planes and a 3D rendering (niivue, works offline;
  itkwidgets on request, online only; or the 2D viewer).

Static (for quality control and reports):

* :func:`plot_slice` - one slice with its mask (matplotlib);
* :func:`gallery` - one thumbnail per case through the ROI centre;
* :func:`roi_histogram` and :func:`suggest_bin_width` - the intensity
  discretisation pyradiomics will use.

Images are shown the radiological way (see :mod:`radnb.view._render`): axial
slices seen from the feet with the patient's left on the right of the screen,
anterior at the top, and pixels drawn with their true size in mm.
"""

from radnb.view._widgets import browse, compare, plot_slice, CT_PRESETS
from radnb.view._gallery import gallery
from radnb.view._viewer3d import view3d
from radnb.view._bins import roi_histogram, suggest_bin_width

__all__ = [
    "browse",
    "compare",
    "plot_slice",
    "gallery",
    "view3d",
    "roi_histogram",
    "suggest_bin_width",
    "CT_PRESETS",
]
