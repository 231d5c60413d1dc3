"""3D view: niivue (offline, JavaScript in the wheel), itkwidgets (online) or 2D.

* ``niivue`` (ipyniivue, an anywidget) ships its viewer JavaScript inside the
  Python wheel, so it renders without internet access. The image and mask are
  sent to it as NIfTI files written by SimpleITK, which carry the voxel-to-world
  (RAS) transform, so niivue places them in true patient space.
* ``itkwidgets`` 1.0a55 fetches its viewer from an IPFS gateway at run time,
  so it renders only when the browser is online (Binder is). radnb checks first
  and falls back to the 2D viewer instead of showing an empty cell.
"""
from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

from radnb._utils.i18n import tr
from radnb._utils.validation import check_option

# The host itkwidgets 1.0a55 loads its viewer from (itkwidgets/viewer_config.py).
VIEWER_HOST = "bafybeieiqiiwvdq66e2bndws5nwojbe4wwerbxyua6u37axxivi2rwf7wy.ipfs.dweb.link"
BACKENDS = ("auto", "niivue", "itkwidgets", "2d")


def is_online(host=VIEWER_HOST, port=443, timeout=2.0):
    """True if ``https://host:port/`` answers within ``timeout`` seconds.

    ``RADNB_OFFLINE=1`` short-cuts to False. The request runs in a daemon
    thread, so neither a slow name lookup nor a server that accepts the
    connection but never answers can hang the notebook longer than ``timeout``.
    Any HTTP answer (even an error status) counts as online.
    """
    import urllib.error
    import urllib.request

    if os.environ.get("RADNB_OFFLINE", "").strip().lower() in ("1", "true", "yes"):
        return False
    result = []

    def probe():
        try:
            urllib.request.urlopen(f"https://{host}:{port}/", timeout=timeout).close()
            result.append(True)
        except urllib.error.HTTPError:
            result.append(True)
        except (OSError, ValueError):
            result.append(False)

    t = threading.Thread(target=probe, daemon=True)
    t.start()
    t.join(timeout)
    return bool(result and result[0])


def view3d(image, mask=None, *, backend="auto", online=None, height=600):
    """Show an image and its mask in 3D: slices in three planes plus a rendering.

    Parameters
    ----------
    image : SimpleITK.Image, str or Path
    mask : SimpleITK.Image, str or Path, optional
        Every voxel > 0 is drawn in semi-transparent red (all labels alike).
    backend : {"auto", "niivue", "itkwidgets", "2d"}
        ``"auto"`` and ``"niivue"``: ipyniivue, which works offline (its
        JavaScript is part of the installed package). ``"itkwidgets"``: only
        when asked for, and only if its viewer host can be reached (its
        JavaScript is downloaded when shown). ``"2d"``: :func:`radnb.view.browse`.
        If the chosen 3D viewer cannot be used, the 2D viewer is shown with a
        message saying why.
    online : bool, optional
        For ``backend="itkwidgets"`` only: skip the network check (True: use
        itkwidgets, False: 2D fallback). By default radnb tries to reach the
        itkwidgets viewer host for at most 2 s; ``RADNB_OFFLINE=1`` never tries.
    height : int
        Height of the niivue viewer in screen pixels.

    Returns
    -------
    widget
        ``ipyniivue.NiiVue`` (its ``volumes`` are the image, then the mask), the
        itkwidgets viewer, :class:`radnb.view._viewer.Viewer` for ``"2d"``, or an
        ``ipywidgets.VBox`` with a message and the 2D viewer when 3D failed.

    Notes
    -----
    The niivue view is a 2 x 2 grid: axial, coronal and sagittal slices and a
    3D volume rendering. Click a slice to move the crosshair (all planes follow),
    scroll over a slice to step through it, drag in the rendering to rotate it,
    and right-drag on a slice to change window/level. Slices are shown the
    radiological way, like :func:`radnb.view.browse`: patient left on the right
    of the screen, with orientation letters at the edges. CT images open with
    the mediastinum window (W 350 / L 50 HU), others with their 1st-99th
    percentile range.

    Examples
    --------
    >>> view3d("lung1_image.nrrd", "lung1_label.nrrd")  # doctest: +SKIP
    >>> view3d("lung1_image.nrrd", "lung1_label.nrrd", backend="2d")  # doctest: +SKIP
    """
    from radnb.view._cases import read_display_mask, read_image
    from radnb.view._widgets import browse

    check_option("backend", backend, BACKENDS)
    if backend == "2d":
        return browse(image, mask, validation=False)
    img = read_image(image)
    msk = None if mask is None else read_display_mask(mask, img)  # label image, RTSTRUCT or SEG
    if backend == "itkwidgets":
        viewer, reason = _itkwidgets(img, msk, online)
    else:
        viewer, reason = _niivue(img, msk, height)
    if viewer is not None:
        return viewer
    import ipywidgets as W

    note = W.HTML(tr("<b>3D view not available</b>: {reason}. Showing the 2D viewer instead.").format(
        reason=reason))
    return W.VBox([note, browse(img, msk, validation=False)])


def _itkwidgets(img, msk, online):
    """(viewer, None), or (None, reason) when itkwidgets cannot be shown."""
    if online is None:
        online = is_online()
    if not online:
        return None, tr("itkwidgets downloads its viewer from {host} when shown, and that "
                        "host cannot be reached (offline, or RADNB_OFFLINE is set); use "
                        "backend='niivue', which works offline").format(host=VIEWER_HOST)
    try:
        from itkwidgets import view
    except ImportError as exc:
        return None, tr("itkwidgets is not installed ({error}); install radnb with its "
                        "dependencies").format(error=exc)
    kwargs = {"image": img}
    if msk is not None:
        kwargs["label_image"] = msk
    return view(**kwargs), None


def _niivue(img, msk, height):
    """(NiiVue widget, None), or (None, reason) when ipyniivue cannot be used."""
    try:
        from ipyniivue import NiiVue, ShowRender, SliceType
    except ImportError as exc:
        return None, tr("ipyniivue could not be imported ({error}); install radnb with its "
                        "dependencies (uv sync) or pass backend='2d'").format(error=exc)
    volumes = [dict(_intensity_range(img), data=_nifti_bytes(img), name="image.nii.gz",
                    colormap="gray")]
    if msk is not None:
        import SimpleITK as sitk

        from radnb.view._cases import mask_on_image

        inside = sitk.Cast(mask_on_image(msk, img) > 0, sitk.sitkUInt8)
        volumes.append({"data": _nifti_bytes(inside), "name": "mask.nii.gz", "colormap": "red",
                        "opacity": 0.5, "cal_min": 0.0, "cal_max": 1.0})
    try:
        nv = NiiVue(height=int(height), slice_type=SliceType.MULTIPLANAR,
                    multiplanar_show_render=ShowRender.ALWAYS, is_radiological_convention=True,
                    is_colorbar=False)
        nv.load_volumes(volumes)
    except Exception as exc:  # a viewer problem must not cost the user the picture
        return None, tr("the niivue viewer could not be created ({error})").format(
            error=f"{type(exc).__name__}: {exc}")
    return nv, None


def _intensity_range(img):
    """Initial ``cal_min``/``cal_max``: CT mediastinum window, else 1st-99th percentile."""
    import SimpleITK as sitk

    import radnb.view._render as _render
    from radnb.view._cases import guess_modality

    array = sitk.GetArrayViewFromImage(img)
    if guess_modality(array) == "CT":
        window, level = _render.CT_PRESETS["mediastinum"]
    else:
        window, level = _render.percentile_window(array)
    return {"cal_min": float(level - window / 2), "cal_max": float(level + window / 2)}


def _nifti_bytes(img):
    """``img`` as gzipped NIfTI bytes (SimpleITK stores its direction as the RAS sform/qform)."""
    import SimpleITK as sitk

    with tempfile.TemporaryDirectory(prefix="radnb-view3d-") as tmp:
        path = Path(tmp) / "volume.nii.gz"
        sitk.WriteImage(img, str(path), useCompression=True)
        return path.read_bytes()
