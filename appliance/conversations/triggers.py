"""Proactive messages: the shop speaks first ("Looking for a gift? Ask me.") on the pages and at
the moments the owner chooses.

This module is the only owner of ``triggers`` (what the owner set) and ``trigger_events`` (what
happened to each: shown, opened, closed, replied). The widget decides *when* (the page's address,
time on the page, scroll depth, new or returning visitor: it is the one that sees them) from the
list this module gives it; the server decides *whether*: a trigger is shown to a visitor no more
often than the owner allows, and never again that day to a visitor who closed one. Visitors are
counted by a random id the widget keeps (not the chat's token: most visitors never chat), which
proves nothing and needs to prove nothing: clearing it only shows a message again.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from appliance.db import Store, inserted_id
from appliance.text.textnorm import ascii_digits, without_controls

VISITORS = ("all", "new", "returning")
LANGS = ("", "fa", "en")
HOURS = ("any", "open", "closed")
EVERY_DAYS = (1, 7, 30, 0)  # at most once a day, a week, a month; 0: only once
EVENTS = ("shown", "opened", "closed", "replied")
MAX_MESSAGE = 300
MAX_TRIGGERS = 50
_SCRIPT_NAME = re.compile(r"^[A-Za-z0-9_-]{0,40}$")
_VISITOR = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class TriggerError(ValueError):
    """The owner's trigger can't be saved; ``key`` says why in their language."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key


@dataclass
class Trigger:
    name: str
    message_fa: str = ""
    message_en: str = ""
    page: str = ""  # the page's path, * for any text (the query too if it has a ?); empty: every page
    script_name: str = ""  # set: shown only when the shop's page calls SupportWidget.trigger(name)
    seconds: int = 0  # on the page at least this long
    scroll: int = 0  # scrolled at least this far down the page, in per cent
    visitors: str = "all"
    lang: str = ""  # the chat's language; empty: both
    hours: str = "any"  # while the shop is open, closed, or any time
    every_days: int = 1
    enabled: bool = True
    id: int | None = None

    def message(self, lang: str) -> str:
        return self.message_fa if lang == "fa" else self.message_en


def _text(value: Any, limit: int) -> str:
    return without_controls(str(value or ""))[:limit]


def _whole(value: Any, low: int, high: int, key: str) -> int:
    try:
        number = int(ascii_digits(str(value).strip() or "0"))
    except ValueError:
        raise TriggerError(key, "not a whole number") from None
    if not low <= number <= high:
        raise TriggerError(key, f"must be between {low} and {high}")
    return number


def from_form(form: dict[str, str]) -> Trigger:
    """A trigger from the admin's form, checked (Persian digits accepted). Raises TriggerError."""
    trigger = Trigger(
        name=_text(form.get("name"), 80),
        message_fa=_text(form.get("message_fa"), MAX_MESSAGE + 1),
        message_en=_text(form.get("message_en"), MAX_MESSAGE + 1),
        page=_text(form.get("page"), 200),
        script_name=_text(form.get("script_name"), 41),
        seconds=_whole(form.get("seconds", "0"), 0, 3600, "trigger.bad_seconds"),
        scroll=_whole(form.get("scroll", "0"), 0, 100, "trigger.bad_scroll"),
        visitors=form.get("visitors", "all"),
        lang=form.get("lang", ""),
        hours=form.get("hours", "any"),
        every_days=_whole(form.get("every_days", "1"), 0, 30, "trigger.bad_every"),
        enabled=form.get("enabled") == "on",
    )
    if not trigger.name:
        raise TriggerError("trigger.no_name", "give the trigger a name")
    wanted = [lang for lang in ("fa", "en") if trigger.lang in ("", lang)]
    if not any(trigger.message(lang) for lang in wanted):
        raise TriggerError("trigger.no_message", "write the message in the visitors' language")
    if any(len(trigger.message(lang)) > MAX_MESSAGE for lang in ("fa", "en")):
        raise TriggerError("trigger.too_long", f"a message is at most {MAX_MESSAGE} characters")
    if not _SCRIPT_NAME.match(trigger.script_name):
        raise TriggerError("trigger.bad_script_name", "letters, digits, - and _ only")
    if (
        trigger.visitors not in VISITORS
        or trigger.lang not in LANGS
        or trigger.hours not in HOURS
        or trigger.every_days not in EVERY_DAYS
    ):
        raise TriggerError("trigger.bad_choice", "not one of the choices")
    return trigger


# -- the owner's triggers -------------------------------------------------------------------------

_COLUMNS = [f.name for f in fields(Trigger) if f.name != "id"]


def _row(row: Any) -> Trigger:
    values = {name: row[name] for name in _COLUMNS}
    values["enabled"] = bool(values["enabled"])
    return Trigger(**values, id=row["id"])


def all_triggers(db: Database) -> list[Trigger]:
    return [_row(r) for r in db.execute("SELECT * FROM triggers ORDER BY id").fetchall()]


def get(db: Database, trigger_id: int) -> Trigger | None:
    row = db.execute("SELECT * FROM triggers WHERE id = ?", [trigger_id]).fetchone()
    return _row(row) if row else None


def save(store: Store, trigger: Trigger, now: str) -> int:
    values = {k: v for k, v in asdict(trigger).items() if k != "id"}
    values["enabled"] = int(trigger.enabled)
    with store.write() as db:
        if trigger.id is None:
            if db.execute("SELECT count(*) FROM triggers").fetchone()[0] >= MAX_TRIGGERS:
                raise TriggerError("trigger.too_many", f"at most {MAX_TRIGGERS} triggers")
            cols = [*values, "created_at", "updated_at"]
            return inserted_id(
                db.execute(
                    f"INSERT INTO triggers ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
                    [*values.values(), now, now],
                )
            )
        sets = ", ".join(f"{k} = ?" for k in values)
        db.execute(f"UPDATE triggers SET {sets}, updated_at = ? WHERE id = ?", [*values.values(), now, trigger.id])
        return trigger.id


def set_enabled(store: Store, trigger_id: int, on: bool, now: str) -> None:
    with store.write() as db:
        db.execute("UPDATE triggers SET enabled = ?, updated_at = ? WHERE id = ?", [int(on), now, trigger_id])


def delete(store: Store, trigger_id: int) -> None:
    with store.write() as db:
        db.execute("DELETE FROM triggers WHERE id = ?", [trigger_id])


# -- what the widget gets -------------------------------------------------------------------------


def for_widget(db: Database, lang: str, shop_open: bool) -> list[dict[str, Any]]:
    """The triggers that may fire now in a chat in ``lang``: their conditions (the message comes
    with ``may_show``'s yes)."""
    out = []
    for t in all_triggers(db):
        if not t.enabled or t.lang not in ("", lang) or not t.message(lang):
            continue
        if (t.hours == "open" and not shop_open) or (t.hours == "closed" and shop_open):
            continue
        out.append(
            {
                "id": t.id,
                "page": t.page,
                "script": t.script_name,
                "seconds": t.seconds,
                "scroll": t.scroll,
                "visitors": t.visitors,
            }
        )
    return out


def valid_visitor(visitor: str) -> bool:
    return bool(_VISITOR.match(visitor))


def start_of_day(now: datetime, tz: str) -> str:
    """Midnight of the shop's today, as stored times are written (UTC ISO)."""
    local = now.astimezone(ZoneInfo(tz))
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(now.tzinfo).isoformat()


def may_show(store: Store, trigger: Trigger, visitor: str, now: datetime, tz: str) -> bool:
    """Record that the trigger is shown to this visitor now, if the owner's limit allows it and
    the visitor hasn't closed one today; False (nothing recorded) if not."""
    today = start_of_day(now, tz)
    since = "" if trigger.every_days == 0 else (now - timedelta(days=trigger.every_days)).isoformat()
    with store.write() as db:
        closed = db.execute(
            "SELECT 1 FROM trigger_events WHERE visitor = ? AND event = 'closed' AND at >= ? LIMIT 1", [visitor, today]
        ).fetchone()
        shown = db.execute(
            "SELECT 1 FROM trigger_events WHERE trigger_id = ? AND visitor = ? AND event = 'shown' AND at >= ? LIMIT 1",
            [trigger.id, visitor, since],
        ).fetchone()
        if closed or shown:
            return False
        _record(db, trigger.id, visitor, "shown", now.isoformat())
        return True


def record(
    store: Store, trigger_id: int, visitor: str, event: str, now: str, conversation_id: str | None = None
) -> bool:
    """An event after the trigger was shown to this visitor (and only then: False otherwise)."""
    if event not in EVENTS:
        raise ValueError(event)
    with store.write() as db:
        last_shown = db.execute(
            "SELECT max(at) FROM trigger_events WHERE trigger_id = ? AND visitor = ? AND event = 'shown'",
            [trigger_id, visitor],
        ).fetchone()[0]
        if last_shown is None:
            return False
        done = db.execute(
            "SELECT 1 FROM trigger_events WHERE trigger_id = ? AND visitor = ? AND event = ? AND at >= ? LIMIT 1",
            [trigger_id, visitor, event, last_shown],
        ).fetchone()
        if done:
            return False
        _record(db, trigger_id, visitor, event, now, conversation_id)
        return True


def _record(
    db: Database, trigger_id: int | None, visitor: str, event: str, at: str, conversation_id: str | None = None
) -> None:
    db.execute(
        "INSERT INTO trigger_events (trigger_id, visitor, event, conversation_id, at) VALUES (?, ?, ?, ?, ?)",
        [trigger_id, visitor, event, conversation_id, at],
    )


def counts(db: Database, since: str) -> dict[int, dict[str, int]]:
    """Each trigger's events since ``since``: {trigger id: {"shown": n, ...}}."""
    out: dict[int, dict[str, int]] = {}
    for row in db.execute(
        "SELECT trigger_id, event, count(*) AS n FROM trigger_events WHERE at >= ? GROUP BY trigger_id, event",
        [since],
    ).fetchall():
        out.setdefault(row["trigger_id"], dict.fromkeys(EVENTS, 0))[row["event"]] = row["n"]
    return out


def replied_in(db: Database, since: str) -> list[tuple[int, str, str]]:
    """(trigger id, conversation id, when) of each conversation a trigger started."""
    return [
        (r["trigger_id"], r["conversation_id"], r["at"])
        for r in db.execute(
            "SELECT trigger_id, conversation_id, at FROM trigger_events "
            "WHERE event = 'replied' AND conversation_id IS NOT NULL AND at >= ?",
            [since],
        ).fetchall()
    ]


def forget_before(store: Store, cutoff: str) -> int:
    """Retention: events older than ``cutoff`` (the figures they fed are gone with them)."""
    with store.write() as db:
        return db.execute("DELETE FROM trigger_events WHERE at < ?", [cutoff]).rowcount
