"""3D view through itkwidgets, with an offline fallback to the 2D viewer.

itkwidgets 1.0a55 fetches its viewer (JavaScript) from an IPFS gateway at run
time, so it renders only when the browser is online (Binder is). Offline it
would show an empty cell, so radnb checks first and falls back.
"""
from __future__ import annotations

import os
import threading

# The host itkwidgets 1.0a55 loads its viewer from (itkwidgets/viewer_config.py).
VIEWER_HOST = "bafybeieiqiiwvdq66e2bndws5nwojbe4wwerbxyua6u37axxivi2rwf7wy.ipfs.dweb.link"


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


def view3d(image, mask=None, *, online=None):
    """Show an image and its mask in 3D (itkwidgets), or the 2D viewer when offline.

    Parameters
    ----------
    image : SimpleITK.Image, str or Path
    mask : SimpleITK.Image, str or Path, optional
    online : bool, optional
        Skip the network check (True: use itkwidgets, False: 2D fallback).
        By default radnb tries to reach the itkwidgets viewer host for at most
        2 s; set ``RADNB_OFFLINE=1`` to never try.

    Returns
    -------
    widget
        The itkwidgets viewer, or an ``ipywidgets.VBox`` with a message
        explaining why 3D is unavailable and :func:`radnb.view.browse` below it.

    Examples
    --------
    >>> view3d("lung1_image.nrrd", "lung1_label.nrrd")  # doctest: +SKIP
    """
    import ipywidgets as W

    from radnb._cases import read_image
    from radnb.view import browse

    reason = None
    if online is None:
        online = is_online()
    if not online:
        reason = (f"the 3D viewer's code is downloaded from {VIEWER_HOST} when shown, and that "
                  "host cannot be reached (offline, or RADNB_OFFLINE is set)")
    else:
        try:
            from itkwidgets import view
        except ImportError as exc:
            reason = f"itkwidgets is not installed ({exc}); install radnb with its dependencies"
        else:
            img = read_image(image)
            kwargs = {"image": img}
            if mask is not None:
                kwargs["label_image"] = read_image(mask)
            return view(**kwargs)
    note = W.HTML(f"<b>3D view not available</b>: {reason}. Showing the 2D viewer instead; "
                  "on Binder (online) this cell shows the 3D rendering.")
    return W.VBox([note, browse(image, mask, validation=False)])
