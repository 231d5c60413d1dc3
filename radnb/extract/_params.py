"""Extraction settings: presets, validation, and the cache "units" they imply.

A *unit* is the smallest piece of work radnb caches: one feature class on the
images of one filter (``("LoG", {"sigma": [2.0]}, "glcm")``), or the shape
class (computed once, on the original image). Enabling one more class or one
more LoG sigma therefore only computes the new units.
"""
from __future__ import annotations

import contextlib
import copy
import functools
import json
from pathlib import Path

from radnb._utils.i18n import tr

__all__ = ["PARAMS_DIR", "list_presets", "load_params", "plan_units", "image_type_of", "canonical"]

PARAMS_DIR = Path(__file__).resolve().parent / "params"
SHAPE_CLASSES = ("shape", "shape2D")

# first token of a pyradiomics feature name -> image type (filter) that made it
_PREFIX_TYPES = (
    ("original", "Original"), ("log-sigma-", "LoG"), ("wavelet", "Wavelet"),
    ("squareroot", "SquareRoot"), ("square", "Square"), ("logarithm", "Logarithm"),
    ("exponential", "Exponential"), ("gradient", "Gradient"), ("lbp-2D", "LBP2D"),
    ("lbp-3D", "LBP3D"),
)


def canonical(obj) -> str:
    """Stable JSON text of ``obj`` (sorted keys), used in cache keys."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_json_default)


def _json_default(obj):
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (tuple, set)):
        return list(obj)
    raise TypeError(tr("cannot use {kind} {value!r} in extraction settings").format(
        kind=type(obj).__name__, value=obj))


def list_presets() -> list[str]:
    """Names of the settings presets shipped with radnb (``radnb/params/*.yaml``)."""
    return sorted(p.stem for p in PARAMS_DIR.glob("*.yaml"))


def load_params(params="ct") -> dict:
    """Return the effective pyradiomics settings for ``params``.

    Parameters
    ----------
    params : str, dict or path
        A preset name (see :func:`list_presets`: ``"ct"``, ``"ct-full"``,
        ``"mr"``, ``"mr-full"``, ``"pet"`` (SUV, bin width 0.25 SUV),
        ``"ibsi"`` (the IBSI digital-phantom configuration, for
        :func:`radnb.extract.ibsi_check`)), a pyradiomics settings dict (keys
        ``imageType``, ``featureClass``, ``setting``), or the path of a
        pyradiomics YAML/JSON parameter file.

    Returns
    -------
    dict
        ``{"imageType": {...}, "featureClass": {...}, "setting": {...}}`` with
        pyradiomics' defaults filled in, validated by pyradiomics itself.

    Raises
    ------
    ValueError
        Unknown preset, or settings pyradiomics rejects.
    FileNotFoundError
        A path that does not exist.

    Examples
    --------
    >>> settings = load_params("ct")
    >>> settings["setting"]["binWidth"], settings["setting"]["resampledPixelSpacing"]
    (25, [1, 1, 1])
    >>> list(settings["imageType"])
    ['Original']
    """
    raw = _read_params(params)
    # order-preserving JSON as memo key: pyradiomics' output order follows the settings' order
    return copy.deepcopy(_effective(json.dumps(raw, default=_json_default)))


def _read_params(params) -> dict:
    import yaml

    if isinstance(params, dict):
        return copy.deepcopy(params)
    if isinstance(params, (str, Path)):
        text = str(params)
        if isinstance(params, str) and text in list_presets():
            path = PARAMS_DIR / f"{text}.yaml"
        else:
            path = Path(text).expanduser()
            if path.suffix.lower() not in (".yaml", ".yml", ".json"):
                raise ValueError(tr(
                    "params must be a preset name ({presets}), a settings dict or a pyradiomics "
                    ".yaml/.json file; got {value!r}.").format(
                    presets=", ".join(map(repr, list_presets())), value=params))
            if not path.is_file():
                raise FileNotFoundError(tr(
                    "params file {path!r} does not exist; pass an existing pyradiomics YAML file "
                    "or a preset name ({presets}).").format(
                    path=str(path), presets=", ".join(map(repr, list_presets()))))
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
        if not isinstance(data, dict):
            raise ValueError(tr("params file {path!r} must hold a mapping (imageType, featureClass, "
                                "setting).").format(path=str(path)))
        return data
    raise TypeError(tr("params must be a preset name, a dict or a path; got {kind}.").format(
        kind=type(params).__name__))


@functools.lru_cache(maxsize=64)
def _effective(raw_json: str) -> dict:
    import logging

    import radiomics
    from radiomics import imageoperations
    from radiomics.featureextractor import RadiomicsFeatureExtractor

    raw = json.loads(raw_json)
    unknown = set(raw) - {"imageType", "featureClass", "setting", "voxelSetting"}
    if unknown:
        raise ValueError(tr(
            "params has unknown section(s) {sections}; pyradiomics settings have "
            "'imageType', 'featureClass' and 'setting'.").format(sections=sorted(unknown)))
    try:
        with quiet_radiomics(logging.CRITICAL):  # pykwalify reports through radiomics' logger
            extractor = RadiomicsFeatureExtractor(raw)
    except Exception as exc:  # pykwalify's SchemaError does not subclass ValueError
        raise ValueError(tr("pyradiomics rejected these settings: {error}. See "
                            "https://pyradiomics.readthedocs.io/en/latest/customization.html").format(
            error=exc)) from exc
    settings = dict(extractor.settings)
    features = dict(extractor.enabledFeatures)
    if not raw.get("featureClass") and not settings.get("force2D"):
        features.pop("shape2D", None)  # pyradiomics skips it (with a warning) for 3D input
    image_types = {k: dict(v or {}) for k, v in extractor.enabledImagetypes.items()}
    for name in image_types:
        if not hasattr(imageoperations, f"get{name}Image"):
            raise ValueError(tr("unknown image type {name!r}; pyradiomics has {types}.").format(
                name=name, types=sorted(radiomics.getImageTypes())))
    return {"imageType": image_types, "featureClass": features, "setting": settings}


@contextlib.contextmanager
def quiet_radiomics(level):
    """Temporarily raise the level of pyradiomics' stderr handler (its ``setVerbosity``)."""
    import radiomics

    handler = radiomics.handler
    old = handler.level
    handler.setLevel(level)
    try:
        yield
    finally:
        handler.setLevel(old)


def plan_units(settings: dict) -> list[dict]:
    """Split effective settings into cache units, in pyradiomics' output order.

    Each unit is ``{"type": image type or "shape", "kwargs": custom filter
    settings, "class": feature class, "features": names or None}``. LoG is split
    per sigma so adding a sigma computes only that sigma.

    Examples
    --------
    >>> units = plan_units(load_params({"imageType": {"LoG": {"sigma": [1.0, 2.0]}},
    ...                                 "featureClass": {"shape": None, "glcm": None}}))
    >>> [(u["type"], u["kwargs"], u["class"]) for u in units]
    [('shape', {}, 'shape'), ('LoG', {'sigma': [1.0]}, 'glcm'), ('LoG', {'sigma': [2.0]}, 'glcm')]
    """
    general = settings["setting"]
    classes = settings["featureClass"]
    units = [
        {"type": "shape", "kwargs": {}, "class": c, "features": _names(classes[c])}
        for c in classes if c in SHAPE_CLASSES
    ]
    for itype, kwargs in settings["imageType"].items():
        variants = [kwargs]
        if itype == "LoG":
            sigmas = kwargs.get("sigma", general.get("sigma", []))
            variants = [{**kwargs, "sigma": [s]} for s in sigmas]
        for variant in variants:
            for c in classes:
                if c not in SHAPE_CLASSES:
                    units.append({"type": itype, "kwargs": variant, "class": c,
                                  "features": _names(classes[c])})
    return units


def _names(value):
    return list(value) if value else None


def image_type_of(prefix: str) -> str:
    """Return the pyradiomics image type that produced feature-name prefix ``prefix``.

    Examples
    --------
    >>> image_type_of("log-sigma-1-0-mm-3D"), image_type_of("wavelet-LLH")
    ('LoG', 'Wavelet')
    """
    for start, itype in _PREFIX_TYPES:
        if prefix == start or (prefix.startswith(start) and start not in ("square", "original")):
            return itype
    raise ValueError(tr("unknown pyradiomics image type prefix {prefix!r}").format(prefix=prefix))


def log_prefix(sigma) -> str:
    """pyradiomics' name for the LoG image of ``sigma`` (``imageoperations.getLoGImage``)."""
    return "log-sigma-%s-mm-3D" % (str(sigma).replace(".", "-"))
