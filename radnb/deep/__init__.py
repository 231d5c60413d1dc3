"""Deep learning next to radiomics: deep features, a small 3D CNN, fusion and saliency.

Everything runs on a laptop CPU with JAX (no GPU, no download at run time):

* :func:`deep_features` - a manifest in, a tidy table of ``deep_<model>_<i>``
  features out, with the same content-addressed cache, resume and errors
  table as :func:`radnb.extract.extract_features`. Input: a fixed-size,
  resampled, windowed cube around the ROI (:func:`crop_roi`).
* Models: :func:`random_model` (the untrained baseline),
  :func:`train_autoencoder` (self-supervised: never sees the outcome),
  :func:`cross_validate_cnn` (supervised, trained inside CV folds only) and
  :func:`load_fmcib` (the FMCIB foundation model from its checkpoint on disk);
  :func:`load_model` reloads a saved model.
* Fusion and checks: :func:`fusion_scores` (deep + Rad-score + clinical, early
  and late fusion in cross-validation), :func:`deep_icc` (test-retest and
  inter-reader ICC of deep features).
* Explanation: :func:`occlusion_saliency` and :func:`plot_saliency` (where the
  network looks), :func:`saliency_mask` for the slice viewer.
"""

from radnb.deep._crop import CropSpec, crop_roi
from radnb.deep._model import DeepModel, load_model, load_fmcib
from radnb.deep._train import random_model, train_autoencoder
from radnb.deep._supervised import cross_validate_cnn, CNNResult
from radnb.deep._features import deep_features, DeepExtraction, DeepFeatureWarning
from radnb.deep._fmcib import FMCIB_URL
from radnb.deep._compare import deep_icc, fusion_scores
from radnb.deep._saliency import occlusion_saliency, saliency_mask, plot_saliency

__all__ = [
    "CropSpec",
    "crop_roi",
    "DeepModel",
    "load_model",
    "random_model",
    "train_autoencoder",
    "cross_validate_cnn",
    "CNNResult",
    "deep_features",
    "DeepExtraction",
    "DeepFeatureWarning",
    "load_fmcib",
    "FMCIB_URL",
    "deep_icc",
    "fusion_scores",
    "occlusion_saliency",
    "saliency_mask",
    "plot_saliency",
]
