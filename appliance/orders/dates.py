"""A day as a shop's order system writes it, as the ISO Gregorian day the appliance keeps.

WooCommerce gives ISO times ("2026-12-01T10:20:30"); Persian WooCommerce and the Iranian post
plugins keep Jalali dates in an order's meta («۱۴۰۵/۰۹/۱۴», "1405-09-14"); a tracking extension
keeps a unix time ("1764892800"); an owner's spreadsheet holds either calendar, in either digits,
sometimes with the month's name («۱۴ آذر ۱۴۰۵»). A year before 1700 is a Solar Hijri one.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import jdatetime

from appliance.text.textnorm import ascii_digits

_JALALI_BEFORE = 1700  # a year below this is Solar Hijri (1405 = 2026)
_NUMERIC = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T\s].*)?$")
_DAY_FIRST = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?:\s.*)?$")
_UNIX = re.compile(r"^\d{9,11}$")
_MONTHS = {
    name: n
    for n, names in enumerate(
        [
            ("فروردین",),
            ("اردیبهشت",),
            ("خرداد",),
            ("تیر",),
            ("مرداد", "امرداد"),
            ("شهریور",),
            ("مهر",),
            ("آبان",),
            ("آذر",),
            ("دی",),
            ("بهمن",),
            ("اسفند",),
        ],
        start=1,
    )
    for name in names
}
_NAMED = re.compile(r"^(\d{1,2})\s+(\S+)\s+(\d{4})$")


def iso_day(text: object) -> str:
    """``text`` as yyyy-mm-dd (Gregorian), or "" when it isn't a day this can read for sure."""
    written = ascii_digits(str(text or "")).strip().replace("\u200c", " ")
    if not written:
        return ""
    if _UNIX.match(written):
        return datetime.fromtimestamp(int(written), UTC).date().isoformat()
    found = _NUMERIC.match(written)
    if found:
        return _day(*(int(g) for g in found.groups()))
    found = _DAY_FIRST.match(written)
    if found:  # 14/09/1405, or 04/12/2026 as Iranian and European sheets write it: day first
        day, month, year = (int(g) for g in found.groups())
        return _day(year, month, day)
    found = _NAMED.match(written)
    if found and found.group(2) in _MONTHS:
        return _day(int(found.group(3)), _MONTHS[found.group(2)], int(found.group(1)))
    return ""


def _day(year: int, month: int, day: int) -> str:
    try:
        if year < _JALALI_BEFORE:
            return jdatetime.date(year, month, day).togregorian().isoformat()
        return date(year, month, day).isoformat()
    except ValueError:
        return ""
