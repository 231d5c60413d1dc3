"""radnb's messages in English or Chinese (stdlib :mod:`gettext`, catalogues compiled with Babel).

The language is, first to last: :func:`set_language`; the ``RADNB_LANG``
environment variable; a ``radnb.toml`` file in the current working directory
holding ``language = "zh"`` (the Chinese tutorials' folder has one, so a kernel
started there speaks Chinese, like a ``matplotlibrc``); the system locale
(``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG`` starting with ``zh``);
else English.

Messages are marked in the code with :func:`tr` (translated now, values filled in
when given; :func:`_` is the same lookup without values), :func:`N_` (a constant
translated later with :func:`tr`) or :func:`ngettext`. ``radnb.tr`` and
``radnb.say`` are the same functions for notebooks. English
messages are the catalogue's keys, so English output is the source text as it
is. The catalogue is ``radnb/locale/zh/LC_MESSAGES/radnb.po``; the compiled
``radnb.mo`` next to it is committed and regenerated with
``./dev.sh messages`` (Babel), and a test checks both agree with the code.
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["LANGUAGES", "N_", "_", "get_language", "ngettext", "say", "set_language", "tidy",
           "tidy_sentence", "tr", "translate_finished"]

#: The languages radnb speaks, with their names for messages.
LANGUAGES = {"en": "English", "zh": "中文 (Chinese)"}
LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
DOMAIN = "radnb"
SETTINGS_FILE = "radnb.toml"
_LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

_chosen: str | None = None
_env_before: str | None = None
_catalogues: dict = {}
_settings_cache: dict = {}


def set_language(language: str | None) -> None:
    """Choose the language of radnb's messages, tables and widget labels.

    Parameters
    ----------
    language : {"zh", "en"} or None
        ``"zh"`` for Chinese (简体中文), ``"en"`` for English; ``None`` goes back
        to the automatic choice (``RADNB_LANG``, ``radnb.toml``, system locale).
        The choice also sets ``RADNB_LANG`` for worker processes started later
        (e.g. by parallel feature extraction).

    Raises
    ------
    ValueError
        For any other value.

    Examples
    --------
    >>> import radnb
    >>> radnb.set_language("zh")
    >>> radnb.get_language()
    'zh'
    >>> radnb.set_language(None)
    """
    global _chosen, _env_before
    if language is not None and language not in LANGUAGES:
        allowed = ", ".join(repr(k) for k in LANGUAGES)
        raise ValueError(
            f"language must be one of {allowed} (or None for the automatic choice); got "
            f"{language!r}. Use radnb.set_language('zh') for Chinese or 'en' for English."
        )
    if _chosen is None:
        _env_before = os.environ.get("RADNB_LANG")
    _chosen = language
    _fonts_for(get_language())
    if language is not None:
        os.environ["RADNB_LANG"] = language
    elif _env_before is None:
        os.environ.pop("RADNB_LANG", None)
    else:
        os.environ["RADNB_LANG"] = _env_before


def get_language() -> str:
    """The language radnb speaks now: ``"zh"`` or ``"en"`` (see the module's order).

    Examples
    --------
    >>> get_language() in ("en", "zh")
    True
    """
    if _chosen is not None:
        return _chosen
    for source in (_from_env, _from_settings_file, _from_locale):
        language = source()
        if language is not None:
            return language
    return "en"


def _normalise(value: str) -> str | None:
    value = value.strip().lower().replace("-", "_")
    for code in LANGUAGES:
        if value == code or value.startswith(code + "_") or value.startswith(code + "."):
            return code
    return None


def _from_env():
    value = os.environ.get("RADNB_LANG", "").strip()
    if not value:
        return None
    language = _normalise(value)
    if language is None:
        _warn_once(f"RADNB_LANG={value!r} is not a language radnb speaks ({', '.join(LANGUAGES)}); "
                   "ignoring it. Set RADNB_LANG=zh or RADNB_LANG=en.")
    return language


def _from_settings_file():
    path = Path.cwd() / SETTINGS_FILE
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return None
    key = str(path)
    if _settings_cache.get(key, (None,))[0] != stamp:
        _settings_cache[key] = (stamp, _read_settings(path))
    return _settings_cache[key][1]


def _read_settings(path):
    import tomllib

    try:
        value = tomllib.loads(path.read_text(encoding="utf-8")).get("language")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        _warn_once(f"{path} could not be read as TOML ({exc}); ignoring it. It should hold a "
                   "line such as: language = \"zh\"")
        return None
    if value is None:
        return None
    language = _normalise(str(value))
    if language is None:
        _warn_once(f"{path} sets language = {value!r}, which radnb does not speak "
                   f"({', '.join(LANGUAGES)}); ignoring it.")
    return language


def _from_locale():
    for name in _LOCALE_VARIABLES:
        value = os.environ.get(name, "")
        if value:  # the first variable set decides, as in gettext (LANGUAGE may list several)
            return "zh" if value.split(":")[0].lower().startswith("zh") else None
    return None


_warned: set = set()


def _warn_once(text):
    if text not in _warned:
        import warnings

        _warned.add(text)
        warnings.warn(text, UserWarning, stacklevel=4)


def _catalogue(language):
    if language not in _catalogues:
        import gettext

        _catalogues[language] = gettext.translation(
            DOMAIN, localedir=str(LOCALE_DIR), languages=[language], fallback=True)
    return _catalogues[language]


def _(message: str) -> str:
    """``message`` in the current language (the English text itself when none applies).

    Examples
    --------
    >>> set_language("zh"); _("Case")
    '病例'
    >>> set_language(None)
    """
    language = get_language()
    if language == "en":
        return message
    _fonts_for(language)
    return _catalogue(language).gettext(message)


def tr(text: str, /, **values) -> str:
    """``text`` in radnb's current language, with ``values`` filled into its ``{fields}``.

    For the words a notebook shows itself: plot titles, axis labels, legend entries, column
    names. The English text is the key into radnb's catalogue; the tutorials' texts are
    translated there, so the same code cell speaks English or Chinese. A text radnb does not
    know is returned in English. Pass the text as a plain string, never an f-string: the
    values go in as keywords and are formatted like in an f-string (``{auc:.3f}``).

    Parameters
    ----------
    text : str
        The English text, with ``{name}`` or ``{name:format}`` fields.
    **values
        The value of each field.

    Returns
    -------
    str

    Raises
    ------
    KeyError
        When a field of the text has no value; the message names the fields to pass.

    Examples
    --------
    >>> tr("AUC {auc:.3f}", auc=0.81234)
    'AUC 0.812'
    >>> set_language("zh"); tr("Before ComBat")
    'ComBat 之前'
    >>> set_language(None)
    """
    translated = _(text)
    if not values:
        return translated
    try:
        return tidy(translated.format(**values))
    except KeyError as exc:
        fields = sorted({f for _lit, f, _spec, _conv in _parse(text) if f})
        raise KeyError(f"the text {text!r} needs a value for {exc.args[0]!r}; pass "
                       + ", ".join(f"{f}=..." for f in fields)) from None


_CJK_CHARS = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"  # ideographs and CJK / full-width punctuation
_SPACE_IN_CJK = None


def tidy(text: str) -> str:
    """Chinese text without the spaces that filling values into a template leaves between two
    Chinese characters ("有证据表明 它" -> "有证据表明它"); spaces next to Latin letters and
    numbers stay. Other languages' text is returned as it is.

    Examples
    --------
    >>> set_language("zh"); tidy("有证据表明 它更高，高出 0.14")
    '有证据表明它更高，高出 0.14'
    >>> set_language(None)
    """
    global _SPACE_IN_CJK
    if get_language() != "zh" or not isinstance(text, str):
        return text
    if _SPACE_IN_CJK is None:
        import re

        _SPACE_IN_CJK = re.compile(f"(?<=[{_CJK_CHARS}]) +(?=[{_CJK_CHARS}])")
    return _SPACE_IN_CJK.sub("", text)


def tidy_sentence(func):
    """Decorate a function that returns a sentence built from translated pieces with :func:`tidy`."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return tidy(func(*args, **kwargs))

    return wrapper


def say(text: str, /, **values) -> None:
    """Print ``text`` in radnb's current language, with ``values`` filled in (see :func:`tr`).

    The tutorials print their explanations with it, so the Chinese notebooks, which run the
    same code, print Chinese.

    Examples
    --------
    >>> say("{n} patients, {events} sarcomas", n=120, events=48)
    120 patients, 48 sarcomas
    """
    print(tr(text, **values))


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural message for ``n`` in the current language.

    Examples
    --------
    >>> ngettext("{n} case", "{n} cases", 2).format(n=2)
    '2 cases'
    """
    language = get_language()
    if language == "en":
        return singular if n == 1 else plural
    _fonts_for(language)
    return _catalogue(language).ngettext(singular, plural, n)


def translate_finished(text: str) -> str:
    """A message already filled in, in the current language (if radnb knows the message).

    Worker processes keep the language of their start (e.g. English, and the user
    calls :func:`set_language` later), so a message they made is matched against
    the catalogue, in either direction, and the current language's text is filled
    with the same values (sentences among them translated in turn). Unknown text is
    returned as it is.

    Examples
    --------
    >>> set_language("zh"); translate_finished("origin shifted by 3 mm")
    '原点偏移 3 mm'
    >>> set_language("en"); translate_finished("原点偏移 3 mm")
    'origin shifted by 3 mm'
    >>> set_language(None)
    """
    if not text:
        return text
    return _translate_finished(text, _pairs(get_language()), depth=0)


def _translate_finished(text, pairs, depth):
    plain, patterns = pairs
    if text in plain:  # a message without placeholders
        return plain[text]
    best = None
    for target, pattern, fields, fixed in patterns:
        found = pattern.fullmatch(text)
        if found and (best is None or fixed > best[3]):  # the most specific entry wins
            best = (target, found, fields, fixed)
    if best is None:
        if depth < 2 and "; " in text:  # a list of details joined by "; "
            return "; ".join(_translate_finished(part, pairs, depth + 1) for part in text.split("; "))
        return text
    target, found, fields, _fixed = best
    values = {name: found.group(group) for group, name in fields}
    if depth < 2:
        values = {k: _translate_finished(v, pairs, depth + 1) for k, v in values.items()}
    return "".join(literal + (values.get(name, "") if name is not None else "")
                   for literal, name, _spec, _conv in _parse(target))


_pairs_cache: dict = {}


def _pairs(language):
    """``({source: target}, [(target, regex, fields, n_fixed_chars)])`` into ``language``."""
    import re

    if language not in _pairs_cache:
        if language == "en":  # from every other language back to the English source texts
            entries = [(s, i) for code in LANGUAGES if code != "en"
                       for i, s in _catalogue(code)._catalog.items()]  # noqa: SLF001
        else:
            entries = list(_catalogue(language)._catalog.items())  # noqa: SLF001
        entries = [(a, b) for a, b in entries if isinstance(a, str) and isinstance(b, str) and a and b]
        plain = {a: b for a, b in entries if "{" not in a}
        patterns = []
        for source, target in entries:
            if "{" not in source:
                continue
            regex, fields, fixed = "", [], 0
            for literal, name, _spec, _conv in _parse(source):
                regex += re.escape(literal)
                fixed += len(literal) + sum(ord(c) > 0x2E80 for c in literal)  # a CJK sign says more
                if name is not None:
                    group = f"g{len(fields)}"
                    fields.append((group, name))
                    regex += f"(?P<{group}>.*?)"
            if fixed >= 5:  # "{done} of {total}" would match almost any sentence
                patterns.append((target, re.compile(regex, re.S), fields, fixed))
        _pairs_cache[language] = (plain, patterns)
    return _pairs_cache[language]


def _parse(text):
    import string

    return list(string.Formatter().parse(text))


def _fonts_for(language):
    """Chinese text in plots needs a CJK font: make one matplotlib's fallback as soon as radnb
    speaks Chinese, before any figure exists (a figure's title and axis labels keep the fonts
    of the moment the figure was made, so adding the font when the text is set is too late)."""
    if language == "zh":
        from radnb._utils.fonts import add_cjk_fallback

        add_cjk_fallback()


def N_(message: str) -> str:
    """Mark a constant for translation without translating it yet (translate it with :func:`_`)."""
    return message
