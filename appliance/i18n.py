"""Choosing and showing UI strings in Persian and English.

The strings live in gettext catalogs, ``appliance/locale/{fa,en}/LC_MESSAGES/messages.po``: each
msgid is a symbolic key ("nav.inbox"), or the English text of a setting's help, and each catalog
has its own plural rules in its ``Plural-Forms`` header. pybabel extracts the msgids from the code
and the templates (babel.cfg); tests/test_i18n.py checks both catalogs against that extraction.
``install.sh`` compiles the ``.mo`` files; where one is missing or older than its ``.po`` (a fresh
checkout, a wheel), the catalog is compiled in memory at first use.

A value shown by its own label (a conversation's status, a decision's kind, a setting) goes
through ``LABELS``, the tables from value to key. A missing translation falls back to English with
one warning in the log, a missing key to the key itself: never an error page.
"""

from __future__ import annotations

import gettext
import logging
import re
import threading
from collections.abc import Callable, Mapping
from datetime import UTC
from io import BytesIO
from pathlib import Path
from typing import Any

from appliance.locale import LABELS as LABELS
from appliance.locale import N_ as N_
from appliance.locale import WIDGET as WIDGET

log = logging.getLogger(__name__)

LANGUAGES = ("fa", "en")
DIRECTION = {"fa": "rtl", "en": "ltr"}
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"


class _Missing(gettext.NullTranslations):
    """The end of each catalog's fallback chain: answers ``MISSING`` for a message the catalog
    lacks, so that t() can tell a missing translation from a translated one."""

    MISSING = "\0missing\0"

    def gettext(self, message: str) -> str:
        return self.MISSING

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return self.MISSING


_catalogs: dict[str, gettext.NullTranslations] = {}
_lock = threading.Lock()


def _read(lang: str) -> gettext.GNUTranslations:
    """The compiled catalog of ``lang``: its ``.mo`` when that is at least as new as the ``.po``,
    else the ``.po`` compiled in memory."""
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    mo = po.with_suffix(".mo")
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fh:
            return gettext.GNUTranslations(fh)
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as fh:
        parsed = read_po(fh, locale=lang, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, parsed)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def catalog(lang: str) -> gettext.NullTranslations:
    """The translations of ``lang`` (read once), ending in ``_Missing``."""
    found = _catalogs.get(lang)
    if found is None:
        with _lock:
            found = _catalogs.get(lang)
            if found is None:
                try:
                    found = _read(lang)
                except OSError as exc:  # no catalog at all: the keys are shown, not an error page
                    log.error("i18n: no message catalog for %r (%s)", lang, exc)
                    found = gettext.NullTranslations()
                found.add_fallback(_Missing())
                _catalogs[lang] = found
    return found


_warned: set[tuple[str, str]] = set()


def _warn(key: str, lang: str, what: str) -> None:
    if (key, lang) not in _warned:  # once per key and language, not on every page view
        _warned.add((key, lang))
        log.warning("i18n: %s for %r in %r", what, key, lang)


def _lookup(lang: str, key: str, find: Callable[[gettext.NullTranslations], str], default: str) -> str:
    """``find`` in ``lang``'s catalog, then in English with a warning, then ``default``."""
    text = find(catalog(lang))
    if text != _Missing.MISSING:
        return text
    if lang != "en":
        text = find(catalog("en"))
        if text != _Missing.MISSING:
            _warn(key, lang, "no translation, English shown")
            return text
    _warn(key, lang, "no such string")
    return default


def t(lang: str, key: str) -> str:
    """The string ``key`` in ``lang``."""
    return _lookup(lang, key, lambda c: c.gettext(key), key)


def ngettext(lang: str, singular: str, plural: str, n: int) -> str:
    """The form of ``singular`` for a count ``n`` by ``lang``'s plural rules, not filled in."""
    return _lookup(lang, singular, lambda c: c.ngettext(singular, plural, n), singular if n == 1 else plural)


def tn(lang: str, key: str, n: int, **values: object) -> str:
    """The string ``key`` for a count ``n``, in its plural form, with ``{n}`` in the reader's
    digits and the other ``values`` filled in."""
    return ngettext(lang, key, key, n).format(n=digits(n, lang), **values)


def label(lang: str, group: str, value: object) -> str:
    """How ``value`` of ``group`` (a status, a decision's kind, ...) reads in ``lang``; an unknown
    value is shown as it is, with a warning in the log."""
    key = LABELS[group].get(str(value))
    if key is None:
        _warn(f"{group}:{value}", lang, "no label")
        return str(value)
    return t(lang, key)


def exists(key: str) -> bool:
    """Whether ``key`` is a msgid of the English catalog (every msgid is)."""
    return catalog("en").gettext(key) != _Missing.MISSING


_WHERE = re.compile(r"^(?P<file>.*) (?P<unit>line|row) (?P<n>\d+)$")
_UNIT = {"line": N_("entry.line"), "row": N_("entry.row")}


def refusal(lang: str, exc: Any, *, with_where: bool = True) -> str:
    """Why an entry, a file or a setting was refused, in the owner's language (the error's
    ``key`` and ``params``: EntryError, SettingsError, HoursError); its English text where it has
    no key. A ``setting`` parameter is shown by its label."""
    key = getattr(exc, "key", "")
    params = {k: digits(v, lang) if isinstance(v, int) else v for k, v in getattr(exc, "params", {}).items()}
    if "setting" in params:
        params["setting"] = label(lang, "setting", params["setting"])
    reason = t(lang, key).format(**params) if key and exists(key) else getattr(exc, "reason", str(exc))
    where = getattr(exc, "where", "") if with_where else ""
    found = _WHERE.match(where)
    if found:
        where = t(lang, _UNIT[found["unit"]]).format(file=found["file"], n=digits(int(found["n"]), lang))
    return f"{where}: {reason}" if where else reason


_PERSIAN_DIGITS = str.maketrans("0123456789.", "۰۱۲۳۴۵۶۷۸۹٫")


def digits(value: object, lang: str) -> str:
    """Numbers as the reader writes them: Persian digits on Persian pages."""
    text = str(value)
    return text.translate(_PERSIAN_DIGITS) if lang == "fa" else text


def day(value: object, lang: str) -> str:
    """A calendar day ("2026-11-22") as the reader writes it: "۱۴۰۵/۰۹/۰۱" on Persian pages."""
    from datetime import date

    import jdatetime

    try:
        d = date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    if lang == "fa":
        return digits(jdatetime.date.fromgregorian(date=d).strftime("%Y/%m/%d"), "fa")
    return d.isoformat()


def when(value: object, lang: str, tz: str = "UTC") -> str:
    """A stored ISO timestamp as the owner reads it: their time zone, and the Jalali calendar with
    Persian digits on Persian pages ("۱۴۰۵/۰۹/۰۱ ۱۱:۳۰"); "2026-11-22 11:30" on English ones."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import jdatetime

    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    try:
        at = at.astimezone(ZoneInfo(tz))
    except Exception:  # an unknown zone name: show UTC rather than fail the page
        at = at.astimezone(UTC)
    if lang == "fa":
        jalali = jdatetime.datetime.fromgregorian(datetime=at.replace(tzinfo=None))
        return digits(jalali.strftime("%Y/%m/%d %H:%M"), "fa")
    return at.strftime("%Y-%m-%d %H:%M")


def choose(query_lang: str | None, accept_language: str | None, default: str) -> str:
    """An explicit ?lang= wins, then the browser's first supported language, then the shop's default."""
    if query_lang in LANGUAGES:
        return query_lang
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return default if default in LANGUAGES else "fa"


def isolate(text: object) -> str:
    """``text`` as a bidi isolate (FIRST STRONG ISOLATE ... POP DIRECTIONAL ISOLATE), for a name
    put into a sentence of the other direction: a Persian title in an English sentence took the
    words and figures after it along (and the reverse)."""
    return f"\u2068{text}\u2069"


def context(lang: str) -> Mapping[str, object]:
    """What every template gets: the language, its direction, and the catalog of that language
    installed as jinja2.ext.i18n's callables. ``_``/``gettext`` return the string as it is;
    ``ngettext(singular, plural, n, **values)`` fills in ``{n}`` (in the reader's digits) and the
    ``values``, as the extension's "newstyle" gettext does, with str.format's placeholders."""

    def _gettext(key: str) -> str:
        return t(lang, key)

    def _ngettext(singular: str, plural: str, n: int, **values: object) -> str:
        return ngettext(lang, singular, plural, n).format(n=digits(n, lang), **values)

    return {
        "lang": lang,
        "dir": DIRECTION[lang],
        "_": _gettext,
        "gettext": _gettext,
        "ngettext": _ngettext,
        "label": lambda group, value: label(lang, group, value),
        "isolate": isolate,
    }
