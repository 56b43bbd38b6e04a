"""The settings page: the settings an owner changes, in sections, in words, in their language.

Every value is checked on save by the settings object itself (the same coercion as settings.toml
and the environment: numbers and times in Persian or Latin digits, a choice only among its
choices), one field at a time, so each refusal is said next to its field; nothing is written
when one is wrong, and the page comes back with what was typed. The business hours are asked as
seven days (Saturday first) and written back in settings.toml's text (hours.spec). What is saved
is applied at once where that is safe (shop, widget, answers, e-mail, schedules read at their
next run); model settings and the times of day say they take effect at the next start. An
environment variable or a flag still wins over the file: the page says which fields are fixed
that way.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import get, post
from litestar.response import Template

from appliance import i18n
from appliance import settings as settings_mod
from appliance.answering.shop_calibration import Keeper, dial_on_history
from appliance.conversations import hours
from appliance.conversations.store import Conversations
from appliance.documents import fetch
from appliance.llm import files as model_files
from appliance.settings import Settings
from appliance.text.textnorm import ascii_digits
from appliance.web import widget
from appliance.web.admin import core
from appliance.web.admin.core import Form, Page, owner_router
from appliance.web.services import AppServices, Inject

# Each field says itself whether the page shows it, in which group, whether it is secret and
# whether it applies only at the next start (settings._doc).
EDITABLE = {f.name for _, group in settings_mod.owner_fields() for f in group}
SECRET = {f.name for _, group in settings_mod.owner_fields() for f in group if f.metadata["secret"]}
# Each group's icon on the page (Bootstrap Icons).
ICONS = {
    "shop": "shop",
    "hours": "clock",
    "widget": "chat-square-text",
    "answers": "robot",
    "email": "envelope",
    "channels": "broadcast",
    "operations": "archive",
}
# The time zones offered by name (the shop's own, if another, is offered too): where the shops
# that use the appliance are. Any IANA name is taken from settings.toml.
TIMEZONES = (
    "Asia/Tehran",
    "Asia/Kabul",
    "Asia/Dubai",
    "Europe/Istanbul",
    "Europe/London",
    "Europe/Berlin",
    "America/Toronto",
    "UTC",
)
NEW_DAY = [("09:00", "18:00")]  # what a closed day's boxes hold, ready for a tick on "open"


def _hour_rows(business_hours: str, typed: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The seven days as the form shows them: from the saved text, or as typed when refused."""
    if typed is not None and "hours" in typed:
        return typed["hours"]
    try:
        days = hours.week(business_hours)
    except hours.HoursError:  # unreadable in settings.toml: shown closed, the error says why
        days = [(d, []) for d in hours.WEEK]
    return [
        {
            "day": day,
            "open": bool(periods),
            "periods": [list(p) for p in (periods or NEW_DAY)]
            + [["", ""]] * (hours.MAX_PERIODS - len(periods or NEW_DAY)),
        }
        for day, periods in days
    ]


def _value(f: Any, value: Any, lang: str) -> Any:
    if f.metadata["secret"]:
        return ""
    if isinstance(value, list | tuple):
        if f.metadata["input"] == "dates":
            return "\n".join(i18n.digits(v, lang) for v in value)
        return "\n".join(str(v) for v in value)
    return value


def _sections(
    settings: Settings, lang: str, typed: dict[str, Any] | None, errors: dict[str, str]
) -> list[dict[str, Any]]:
    """The form's sections with their fields and help in ``lang``; ``typed``: what the owner
    sent, shown again when something was refused."""
    current = {**settings.to_dict(), **(typed or {})}
    if not current.get(f"greeting_{settings.default_language}") and settings.greeting.strip():
        # The one greeting of older versions was written for the default language: shown there.
        current[f"greeting_{settings.default_language}"] = settings.greeting
    docs = {name: (kind, doc) for name, kind, doc in settings_mod.describe(lang)}
    out = []
    for group, group_fields in settings_mod.owner_fields():
        rows = []
        for f in group_fields:
            kind, doc = docs[f.name]
            rows.append(
                {
                    "name": f.name,
                    "kind": kind,
                    "input": f.metadata["input"] or ("choice" if f.metadata["choices"] else ""),
                    "choices": f.metadata["choices"],
                    "doc": doc,
                    "value": _value(f, current[f.name], lang),
                    "fixed": f"{settings_mod.ENV_PREFIX}{f.name.upper()}" in os.environ,
                    "restart": f.metadata["restart"],
                    "secret": f.metadata["secret"],
                    "error": errors.get(f.name),
                }
            )
        out.append({"group": group, "icon": ICONS.get(group, "gear"), "rows": rows})
    return out


DIAL_HISTORY_DAYS = 30  # the dial says what each position would have done with these days' questions


def _calibration(calibration: Keeper, conversations: Conversations) -> dict[str, Any] | None:
    """The shop's calibration report, each dial position with what it would have done with the
    shop's own recent questions (shop_calibration.dial_on_history)."""
    if not calibration.enabled or not calibration.report:
        return None
    since = (datetime.now(UTC) - timedelta(days=DIAL_HISTORY_DAYS)).isoformat()
    history = conversations.recent_confidences(since)
    return {**calibration.report, "dial": dial_on_history(calibration.report.get("dial") or [], history)}


def _settings_page(
    page: Page,
    settings: Settings,
    calibration: Keeper,
    conversations: Conversations,
    typed: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    **ctx: Any,
) -> Template:
    errors = errors or {}
    models = [m.name for m in model_files.list_models(settings.models_dirs)]
    zones = list(TIMEZONES)
    shown_zone = (typed or {}).get("timezone", settings.timezone)
    if shown_zone not in zones:
        zones.append(shown_zone)
    return page(
        "admin/settings.html",
        sections=_sections(settings, page.lang, typed, errors),
        days=_hour_rows(settings.business_hours, typed),
        errors=errors,
        models=models,
        zones=zones,
        snippet=widget.snippet(settings),
        calibration=_calibration(calibration, conversations),
        history_days=DIAL_HISTORY_DAYS,
        **ctx,
    )


@get("/settings", sync_to_thread=True)
def settings_page(
    page: Inject[Page], settings: Inject[Settings], calibration: Inject[Keeper], conversations: Inject[Conversations]
) -> Template:
    errors: dict[str, str] = {}
    try:
        hours.parse(settings.business_hours, settings.holidays, settings.timezone)
    except hours.HoursError as exc:  # written by hand in settings.toml: said, not hidden
        errors["business_hours"] = i18n.refusal(page.lang, exc)
    return _settings_page(page, settings, calibration, conversations, errors=errors)


_BARE_TIME = re.compile(r"^(\d{1,2})(\d{2})$")
TIME_FIELDS = {f.name for _, group in settings_mod.owner_fields() for f in group if f.metadata["input"] == "time"}


def _typed_time(text: str) -> str:
    """A time of day as typed in the text box: Persian or Latin digits, and "1030" or "۹۳۰" (a
    phone's number pad has no colon) as "10:30"; anything else as it is, for the check to say."""
    written = ascii_digits(text.strip())
    found = _BARE_TIME.match(written)
    return f"{found[1]}:{found[2]}" if found else text.strip()


def _read_hours(data: dict[str, str], lang: str) -> tuple[str, list[dict[str, Any]], dict[str, str]]:
    """The seven days from the form: the text settings.toml keeps, the days as typed (shown
    again if anything is refused), and each refused day's reason (``hours_<day>``)."""
    days: dict[str, tuple[hours.Period, ...]] = {}
    typed: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    for day in hours.WEEK:
        is_open = data.get(f"hours_{day}_open") == "on"
        periods = [
            [_typed_time(data.get(f"hours_{day}_from{n}", "")), _typed_time(data.get(f"hours_{day}_to{n}", ""))]
            for n in range(1, hours.MAX_PERIODS + 1)
        ]
        typed.append({"day": day, "open": is_open, "periods": periods})
        if not is_open:
            continue
        filled = [(a, b) for a, b in periods if a or b]
        try:
            if not filled:
                raise hours.HoursError("open with no times", "hours.no_times")
            if any(not a or not b for a, b in filled):
                raise hours.HoursError("a period needs both times", "hours.half_period")
            # Said in words ("از ۱۸:۰۰ تا ۰۹:۰۰"): "18:00-09:00" in a Persian sentence reads backwards;
            # each time as HH:MM in the reader's digits, however it was typed ("۹:۳۰" on an English page).
            filled = [(hours.clock(hours.minutes(a)), hours.clock(hours.minutes(b))) for a, b in filled]
            said = i18n.t(lang, "set.hours.and").join(
                i18n.t(lang, "set.hours.period").format(opens=i18n.digits(a, lang), closes=i18n.digits(b, lang))
                for a, b in filled
            )
            days[day] = hours.day_periods(filled, said)
        except hours.HoursError as exc:
            errors[f"hours_{day}"] = i18n.refusal(lang, exc)
    return hours.spec(days), typed, errors


def _read_form(data: dict[str, str]) -> dict[str, Any]:
    """What the form sends, by field: a box not ticked is off, an empty password box keeps the
    stored password, a field fixed by the environment isn't the form's to change."""
    values: dict[str, Any] = {}
    kinds = {name: kind for name, kind, _ in settings_mod.describe()}
    for name in EDITABLE:
        if f"{settings_mod.ENV_PREFIX}{name.upper()}" in os.environ:
            continue
        if kinds[name] == "bool":
            values[name] = data.get(name) == "on"
        elif name in data:
            if name in SECRET and not data[name]:
                continue
            values[name] = _typed_time(data[name]) if name in TIME_FIELDS else data[name]
    return values


@post("/settings", sync_to_thread=True, status_code=200)
def save(data: Form, page: Inject[Page], services: Inject[AppServices]) -> Template:
    lang = page.lang
    values = _read_form(data)
    typed: dict[str, Any] = dict(values)
    errors: dict[str, str] = {}
    if any(k.startswith("hours_") for k in data) and "business_hours" in EDITABLE:
        spec, typed["hours"], errors = _read_hours(data, lang)
        if not errors:
            values["business_hours"] = spec
    checked, refused = core.check_settings(values, lang)
    errors.update(refused)
    current = services.settings
    if not errors:
        updated = current.replace(**checked)
        try:
            hours.parse(updated.business_hours, updated.holidays, updated.timezone)
        except hours.HoursError as exc:
            field = {"hours.bad_tz": "timezone", "hours.bad_holiday": "holidays"}.get(exc.key, "business_hours")
            errors[field] = i18n.refusal(lang, exc)
        if updated.catalog_feed_url.strip():
            # Said now, not at the first fetch in half an hour: the feed must be on the shop's own
            # sites (whether its name resolves to a public address is checked when it is read).
            feed = updated.catalog_feed_url.strip()
            try:
                fetch.check(feed, fetch.shop_origins(updated.public_url, updated.allowed_origins), allow_private=True)
            except fetch.FetchError as exc:
                errors["catalog_feed_url"] = i18n.refusal(lang, exc)
    if errors:
        return _settings_page(
            page,
            current,
            services.calibration,
            services.chat.conversations,
            typed=typed,
            errors=errors,
            status=422,
        )
    if "greeting_fa" in checked or "greeting_en" in checked:
        # The one greeting of older versions was shown in its language's box: it lives there now.
        values["greeting"] = ""
    settings_mod.write_file(current.data_dir, values)
    updated = current.replace(**{**checked, **({"greeting": ""} if "greeting" in values else {})})
    services.apply_settings(updated)
    response = _settings_page(page, updated, services.calibration, services.chat.conversations, saved=True)
    return core.toast(response, i18n.t(lang, "set.saved"))


router = owner_router([settings_page, save])
