"""Business hours: when the shop answers, in its own time zone, Friday weekend and Jalali holidays.

Written like ``sat-wed 09:00-18:00; thu 09:00-13:00`` (days not named are closed: Friday here).
Holidays are Jalali dates (``1405-01-01``). Used to tell a customer honestly when a person will
reply."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import jdatetime

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]  # Python's weekday() order
_RULE = re.compile(r"^\s*([a-z]{3})(?:\s*-\s*([a-z]{3}))?\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class HoursError(ValueError):
    """Business hours, holidays or a time zone that can't be read; ``key`` and ``params`` say it
    in the owner's language (i18n.refusal)."""

    def __init__(self, message: str, key: str = "", **params: object):
        super().__init__(message)
        self.key = key
        self.params = params


@dataclass(frozen=True)
class Schedule:
    windows: dict[int, tuple[time, time]]
    holidays: frozenset[str]  # Jalali YYYY-MM-DD
    tz: ZoneInfo

    def _open_on(self, day: datetime) -> tuple[time, time] | None:
        jalali = jdatetime.date.fromgregorian(date=day.date()).strftime("%Y-%m-%d")
        if jalali in self.holidays:
            return None
        return self.windows.get(day.weekday())

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(self.tz)
        window = self._open_on(local)
        return bool(window and window[0] <= local.time() < window[1])

    def next_opening(self, now: datetime) -> datetime | None:
        """The next moment the shop opens (None if it never does)."""
        local = now.astimezone(self.tz)
        for ahead in range(0, 60):
            day = local + timedelta(days=ahead)
            window = self._open_on(day)
            if not window:
                continue
            opening = day.replace(hour=window[0].hour, minute=window[0].minute, second=0, microsecond=0)
            if opening > local:
                return opening
        return None


def parse(spec: str, holidays: tuple[str, ...] = (), tz: str = "Asia/Tehran") -> Schedule:
    windows: dict[int, tuple[time, time]] = {}
    for part in filter(None, (p.strip() for p in spec.lower().split(";"))):
        m = _RULE.match(part)
        if not m or m.group(1) not in DAYS or (m.group(2) and m.group(2) not in DAYS):
            raise HoursError(f"can't read {part!r}: write e.g. 'sat-wed 09:00-18:00'", "hours.unreadable", part=part)
        start, end = DAYS.index(m.group(1)), DAYS.index(m.group(2) or m.group(1))
        opens, closes = time(int(m.group(3)), int(m.group(4))), time(int(m.group(5)), int(m.group(6)))
        if opens >= closes:
            raise HoursError(f"{part!r}: closing time before opening time", "hours.backwards", part=part)
        day = start
        while True:  # ranges wrap around the week: sat-wed is sat, sun, mon, tue, wed
            windows[day] = (opens, closes)
            if day == end:
                break
            day = (day + 1) % 7
    for h in holidays:
        if not re.match(r"^\d{4}-\d{2}-\d{2}$", h):
            raise HoursError(
                f"holiday {h!r}: write Jalali dates as YYYY-MM-DD, e.g. 1405-01-01", "hours.bad_holiday", day=h
            )
    try:
        zone = ZoneInfo(tz)
    except Exception:
        raise HoursError(f"unknown time zone {tz!r}", "hours.bad_tz", tz=tz) from None
    return Schedule(windows, frozenset(holidays), zone)


def promise(schedule: Schedule, now: datetime, lang: str) -> str:
    """When a person will reply, in the customer's language."""
    from appliance import i18n

    if schedule.is_open(now):
        return i18n.t(lang, "hours.promise.open")
    opening = schedule.next_opening(now)
    if opening is None:
        return i18n.t(lang, "hours.promise.soon")
    day = i18n.label(lang, "weekday_long", DAYS[opening.weekday()])
    clock = i18n.digits(opening.strftime("%H:%M"), lang)
    return i18n.t(lang, "hours.promise.when_open").format(day=day, clock=clock)
