"""Business hours: when the shop answers, in its own time zone, Friday weekend and Jalali holidays.

Written like ``sat-wed 09:00-18:00; thu 09:00-13:00`` in settings.toml (days not named are
closed: Friday here); a day may have two periods, for a shop that closes at midday:
``sat-wed 09:00-13:00, 16:00-20:00``. A period closing at ``00:00`` runs to midnight; one that
closes before it opens (``18:00-02:00``) is refused with the way to say it: close at 00:00 and
open the next day at 00:00 (a swapped pair, 18:00-09:00, is far likelier than a night shift, and
would otherwise be taken as fifteen hours open). The admin edits the same text as seven days,
Saturday first (``week``, ``spec``). Holidays are Jalali dates (``1405-01-01``). Used to tell a
customer honestly when a person will reply."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import jdatetime

from appliance.text.textnorm import ascii_digits

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]  # Python's weekday() order
WEEK = ["sat", "sun", "mon", "tue", "wed", "thu", "fri"]  # the Iranian week, as the owner edits it
MAX_PERIODS = 2  # a morning and an afternoon: what the admin's form offers for a day
MIDNIGHT = 24 * 60
_RULE = re.compile(r"^\s*([a-z]{3})(?:\s*-\s*([a-z]{3}))?\s+(.+)$")
_PERIOD = re.compile(r"^\s*(\S+?)\s*-\s*(\S+?)\s*$")
_TIME = re.compile(r"^(\d{1,2})[:٫.](\d{2})$|^(\d{1,2})$")

Period = tuple[int, int]  # minutes after midnight: opens, closes (closes may be MIDNIGHT)


class HoursError(ValueError):
    """Business hours, holidays or a time zone that can't be read; ``key`` and ``params`` say it
    in the owner's language (i18n.refusal)."""

    def __init__(self, message: str, key: str = "", **params: object):
        super().__init__(message)
        self.key = key
        self.params = params


def minutes(text: str) -> int:
    """A time of day as typed: ``09:30``, ``9:30``, ``۰۹:۳۰``, ``9``; HoursError otherwise
    (``25:00``, ``9:75``, ``noon``)."""
    written = ascii_digits(str(text).strip())
    found = _TIME.match(written)
    if found:
        hour = int(found.group(1) or found.group(3))
        minute = int(found.group(2) or 0)
        if hour < 24 and minute < 60:
            return hour * 60 + minute
    raise HoursError(f"{text!r} is not a time of day (00:00 to 23:59)", "hours.bad_time", time=str(text)[:20])


def clock(value: int) -> str:
    """Minutes after midnight as ``HH:MM`` (midnight at the end of a day as ``00:00``)."""
    return f"{value // 60 % 24:02d}:{value % 60:02d}"


def day_periods(periods: Sequence[tuple[str, str]], part: str = "") -> tuple[Period, ...]:
    """One day's periods from their written times, checked: each closes after it opens (00:00
    is midnight), the second starts after the first ends, at most MAX_PERIODS."""
    out: list[Period] = []
    for opens_text, closes_text in periods:
        opens, closes = minutes(opens_text), minutes(closes_text)
        closes = closes or MIDNIGHT
        if opens >= closes:
            raise HoursError(
                f"{part or opens_text + '-' + closes_text!r}: closing time before opening time "
                "(past midnight: close at 00:00 and open the next day at 00:00)",
                "hours.backwards",
                part=part or f"{clock(opens)}-{clock(closes)}",
            )
        if out and opens < out[-1][1]:
            raise HoursError(f"{part!r}: the periods overlap", "hours.overlap", part=part or clock(opens))
        out.append((opens, closes))
    if len(out) > MAX_PERIODS:
        raise HoursError(f"{part!r}: at most {MAX_PERIODS} periods a day", "hours.too_many", part=part)
    return tuple(out)


@dataclass(frozen=True)
class Schedule:
    windows: dict[int, tuple[Period, ...]]  # weekday() -> the day's periods
    holidays: frozenset[str]  # Jalali YYYY-MM-DD
    tz: ZoneInfo

    def _open_on(self, day: datetime) -> tuple[Period, ...]:
        jalali = jdatetime.date.fromgregorian(date=day.date()).strftime("%Y-%m-%d")
        if jalali in self.holidays:
            return ()
        return self.windows.get(day.weekday(), ())

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(self.tz)
        at = local.hour * 60 + local.minute
        return any(opens <= at < closes for opens, closes in self._open_on(local))

    def next_opening(self, now: datetime) -> datetime | None:
        """The next moment the shop opens (None if it never does)."""
        local = now.astimezone(self.tz)
        for ahead in range(0, 60):
            day = local + timedelta(days=ahead)
            for opens, _ in self._open_on(day):
                opening = day.replace(hour=opens // 60, minute=opens % 60, second=0, microsecond=0)
                if opening > local:
                    return opening
        return None


def _read(spec: str) -> dict[str, tuple[Period, ...]]:
    """The written hours by day name."""
    days: dict[str, tuple[Period, ...]] = {}
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        m = _RULE.match(ascii_digits(part).lower())
        pairs = [_PERIOD.match(p) for p in m.group(3).split(",")] if m else []
        if not m or m.group(1) not in DAYS or (m.group(2) and m.group(2) not in DAYS) or not all(pairs):
            raise HoursError(f"can't read {part!r}: write e.g. 'sat-wed 09:00-18:00'", "hours.unreadable", part=part)
        try:
            periods = day_periods([(p.group(1), p.group(2)) for p in pairs if p], part)
        except HoursError as exc:
            if exc.key == "hours.bad_time":
                raise HoursError(f"can't read {part!r}: {exc}", "hours.unreadable", part=part) from None
            raise
        start, end = DAYS.index(m.group(1)), DAYS.index(m.group(2) or m.group(1))
        day = start
        while True:  # ranges wrap around the week: sat-wed is sat, sun, mon, tue, wed
            days[DAYS[day]] = periods
            if day == end:
                break
            day = (day + 1) % 7
    return days


def parse(spec: str, holidays: tuple[str, ...] = (), tz: str = "Asia/Tehran") -> Schedule:
    days = _read(spec)
    for h in holidays:
        if not re.match(r"^\d{4}-\d{2}-\d{2}$", h):
            raise HoursError(
                f"holiday {h!r}: write Jalali dates as YYYY-MM-DD, e.g. 1405-01-01", "hours.bad_holiday", day=h
            )
    try:
        zone = ZoneInfo(tz)
    except Exception:
        raise HoursError(f"unknown time zone {tz!r}", "hours.bad_tz", tz=tz) from None
    return Schedule({DAYS.index(d): p for d, p in days.items() if p}, frozenset(holidays), zone)


def week(spec: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """The written hours as the admin's seven days, Saturday first: (day, [(opens, closes)]),
    an empty list for a closed day. HoursError when the text can't be read."""
    days = _read(spec)
    return [(day, [(clock(o), clock(c)) for o, c in days.get(day, ())]) for day in WEEK]


def spec(days: Mapping[str, Sequence[Period]]) -> str:
    """The seven days back as the text settings.toml keeps: consecutive days (Saturday first)
    with the same periods share a range, closed days are left out.
    {"sat": [(540, 1080)], ..., "thu": [(540, 780)]} -> "sat-wed 09:00-18:00; thu 09:00-13:00"."""
    runs: list[tuple[str, str, tuple[Period, ...]]] = []
    for day in WEEK:
        periods = tuple(days.get(day, ()))
        if runs and periods and runs[-1][2] == periods and WEEK.index(runs[-1][1]) == WEEK.index(day) - 1:
            runs[-1] = (runs[-1][0], day, periods)
        elif periods:
            runs.append((day, day, periods))
    return "; ".join(
        (first if first == last else f"{first}-{last}") + " " + ", ".join(f"{clock(o)}-{clock(c)}" for o, c in p)
        for first, last, p in runs
    )


def promise(schedule: Schedule, now: datetime, lang: str) -> str:
    """When a person will reply, in the customer's language."""
    from appliance import i18n

    if schedule.is_open(now):
        return i18n.t(lang, "hours.promise.open")
    opening = schedule.next_opening(now)
    if opening is None:
        return i18n.t(lang, "hours.promise.soon")
    day = i18n.label(lang, "weekday_long", DAYS[opening.weekday()])
    at = i18n.digits(opening.strftime("%H:%M"), lang)
    return i18n.t(lang, "hours.promise.when_open").format(day=day, clock=at)
