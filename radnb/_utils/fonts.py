"""A CJK font as matplotlib's fallback, so plots with Chinese labels show real glyphs.

matplotlib's default font (DejaVu Sans) has no Chinese characters: a Chinese
title comes out as empty boxes with a "Glyph ... missing from font(s)" warning.
:func:`add_cjk_fallback` appends an installed CJK font to ``font.family``:
Latin text keeps its font and only the missing glyphs come from the CJK one
(matplotlib >= 3.6 falls back per glyph). It finds fonts installed after
matplotlib built its font cache too (e.g. ``apt-get install fonts-noto-cjk`` on
a machine where matplotlib had already run). radnb calls it whenever it speaks
Chinese with matplotlib loaded.
"""
from __future__ import annotations

__all__ = ["CJK_FAMILIES", "INSTALL_HINT", "add_cjk_fallback", "cjk_font"]

#: Font families with Chinese glyphs, most preferred first (Debian's fonts-noto-cjk first).
CJK_FAMILIES = (
    "Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans SC", "Source Han Sans SC",
    "Source Han Sans CN", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Microsoft YaHei",
    "PingFang SC", "Hiragino Sans GB", "SimHei", "Arial Unicode MS",
)
INSTALL_HINT = ("install a CJK font: on Debian/Ubuntu `apt-get install fonts-noto-cjk` (Binder "
                "does this from binder/apt.txt); on Windows and macOS one comes with the system")
_FILE_HINTS = ("cjk", "sourcehan", "wqy", "wenquanyi", "simhei", "msyh", "pingfang", "notosanssc")
_found: list = []  # [family or None] once searched


def cjk_font() -> str | None:
    """The first installed family of :data:`CJK_FAMILIES`, or None.

    Examples
    --------
    >>> cjk_font() in CJK_FAMILIES + (None,)
    True
    """
    if _found:
        return _found[0]
    from matplotlib import font_manager

    family = _first_known(font_manager)
    if family is None:  # installed after matplotlib cached its font list: register the files
        for path in font_manager.findSystemFonts():
            if any(hint in path.lower().replace("-", "").replace("_", "") for hint in _FILE_HINTS):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):  # an unreadable font file is skipped
                    continue
        family = _first_known(font_manager)
    _found.append(family)
    return family


def _first_known(font_manager):
    names = {entry.name for entry in font_manager.fontManager.ttflist}
    return next((family for family in CJK_FAMILIES if family in names), None)


def add_cjk_fallback() -> str | None:
    """Append an installed CJK font to matplotlib's ``font.family``; return its name or None.

    Idempotent and cheap after the first call; it leaves the fonts chosen for
    Latin text first.

    Examples
    --------
    >>> import matplotlib
    >>> family = add_cjk_fallback()
    >>> family is None or family in matplotlib.rcParams["font.family"]
    True
    """
    family = cjk_font()
    if family is None:
        return None
    import matplotlib

    current = list(matplotlib.rcParams["font.family"])
    if family not in current:
        matplotlib.rcParams["font.family"] = current + [family]
    return family
