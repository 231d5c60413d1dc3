"""Where radnb keeps data: an argument, else ``RADNB_DATA``, else ``~/radnb_data``.

The same order as scikit-learn's and nilearn's ``data_home``. Lives here, low in the
package, because every step that caches or generates data needs it.
"""
from __future__ import annotations

import os
from pathlib import Path


def get_data_home(data_home=None) -> Path:
    """Return the folder where radnb keeps data, creating it if needed.

    Parameters
    ----------
    data_home : str or Path, optional
        Explicit folder. Default: the ``RADNB_DATA`` environment variable, else
        ``~/radnb_data``.

    Examples
    --------
    >>> get_data_home("/tmp/radnb-example").name
    'radnb-example'
    """
    if data_home is None:
        data_home = os.environ.get("RADNB_DATA") or Path.home() / "radnb_data"
    path = Path(data_home).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path
