"""The owner's phone: a customer who waits for a person is told to the owner at once, by Web Push
on the devices they turned on (channels/webpush.py) and/or by the shop's bot in their own chat
(channels/telegram.py's ``notify_owner``), as the ``alerts_via`` setting says.

Three things make an alert: a hand-over (the ``conversation.handed_over`` event, read under the
name ``alerts``); a conversation still waiting ``alert_waiting_minutes`` after its last change
(checked each minute, once per waiting stretch); and the end of the quiet hours, when what was
held is told as one summary ("3 customers waited") instead of one buzz each. A conversation gets
at most one alert an hour (``owner_alerts`` remembers), so a customer writing five times, or
a reminder right after the hand-over, doesn't ring the phone five times.

What is owed is written before it is sent (with the reader's place, in one transaction): a crash
may lose an alert, never repeat one, and the phone stays quiet rather than noisy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import anyio
from py_vapid import Vapid  # type: ignore[import-untyped]

from appliance import i18n
from appliance.channels import telegram, webpush
from appliance.channels.context import Context
from appliance.conversations import events
from appliance.conversations.store import Conversations
from appliance.db import Store
from appliance.settings import Settings

log = logging.getLogger(__name__)

READER = "alerts"
TICK_S = 60.0  # how often the waiting-too-long reminders and the quiet hours' end are looked at
ONE_PER = timedelta(hours=1)
WORDS_CHARS = 200  # the customer's words on a lock screen: enough to know what it is about


@dataclass(frozen=True)
class Alert:
    text: str
    url: str
    tag: str  # a later alert with the same tag replaces the notification on the device


@dataclass(frozen=True)
class Delivered:
    """What an alert did, for the log and the test button: the push devices' result (None: not
    by push) and the bot's (None: not by the bot)."""

    push: webpush.Sent | None
    bot: bool | None


# -- when, and in which words ------------------------------------------------------------------------


def quiet(settings: Settings, now: datetime) -> bool:
    """Whether ``now`` is in the owner's quiet hours (in the shop's time zone; a range such as
    23:00-08:00 crosses midnight). Either end empty, or both the same: no quiet hours."""
    start, end = settings.quiet_hours_from, settings.quiet_hours_until
    if not start or not end or start == end:
        return False
    try:
        zone = ZoneInfo(settings.timezone)
    except (ValueError, KeyError):  # a zone written by hand and misspelt: the shop's default
        zone = ZoneInfo("Asia/Tehran")
    local = now.astimezone(zone).strftime("%H:%M")
    return start <= local < end if start < end else local >= start or local < end


def words(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= WORDS_CHARS else text[: WORDS_CHARS - 1].rstrip() + "…"


def link(settings: Settings, path: str) -> str:
    """An admin page's address: whole with the appliance's public address, else the path only
    (http://127.0.0.1:8750 is no use on a phone)."""
    return settings.base_url + path if settings.public_url else path


def alert_text(lang: str, channel: str, said: str | None, waited: int | None = None) -> str:
    """A customer waits: where, for how long (a reminder), and in their own words."""
    where = i18n.label(lang, "channel", channel)
    if waited is None:
        head = i18n.t(lang, "alert.waiting").format(channel=where)
    else:
        head = i18n.tn(lang, "alert.still_waiting", waited, channel=where)
    said = words(said)
    return f"{head}\n«{said}»" if said else head


def summary_text(lang: str, count: int) -> str:
    return i18n.tn(lang, "alert.summary", count)


# -- what is owed (on the writer thread) ---------------------------------------------------------------


def _waiting(conversations: Conversations) -> dict[str, Any]:
    """Every conversation waiting for the owner (not the inbox's first 200: behind 200 unanswered
    e-mails a new hand-over was taken for one already answered, and never told)."""
    return {row["id"]: row for row in conversations.inbox("waiting", limit=-1)}


def _recent(row: Any, now: datetime) -> bool:
    return row is not None and row["sent_at"] is not None and datetime.fromisoformat(row["sent_at"]) > now - ONE_PER


def _state(db: Any, conversation_id: str) -> Any:
    return db.execute("SELECT * FROM owner_alerts WHERE conversation_id = ?", [conversation_id]).fetchone()


def _mark(db: Any, conversation_id: str, column: str, value: str, reminded_for: str | None = None) -> None:
    db.execute(
        f"INSERT INTO owner_alerts (conversation_id, {column}, reminded_for) VALUES (?, ?, ?) "
        f"ON CONFLICT(conversation_id) DO UPDATE SET {column} = excluded.{column}, "
        "reminded_for = coalesce(excluded.reminded_for, reminded_for)",
        [conversation_id, value, reminded_for],
    )


def owed(store: Store, conversations: Conversations, settings: Settings, now: datetime) -> list[Alert]:
    """The alerts to send now (and, written down in the same transaction, that they were sent or
    held): the new hand-overs, the reminders due, the summary at the end of the quiet hours."""
    lang = settings.default_language
    at = now.isoformat()
    # A burst at once (the worker restarted after failing a while): each is a row or two.
    handed = events.pending(store, READER, kinds=[events.HANDED_OVER], limit=1000)
    waiting = _waiting(conversations)
    hush = quiet(settings, now)
    off = not settings.alerts_via
    out: list[Alert] = []
    with store.write() as db:
        for event in handed:
            row = waiting.get(event.conversation_id or "")
            if off or row is None:  # alerts off, or someone already answered: nothing to say
                continue
            if _recent(_state(db, row["id"]), now):
                continue
            # A hand-over counts as the stretch's alert: the reminder comes only if it still waits.
            if hush:
                _mark(db, row["id"], "held_at", at)
                continue
            _mark(db, row["id"], "sent_at", at)
            said = row["last"] or event.data.get("question")
            out.append(Alert(alert_text(lang, event.channel, said), _conversation_link(settings, row["id"]), row["id"]))
        if handed:
            events.advance(db, READER, handed[-1].id, at)
        if off:
            db.execute("UPDATE owner_alerts SET held_at = NULL WHERE held_at IS NOT NULL")
            return []
        if not hush:  # before the reminders: a customer in the summary isn't reminded of at once
            out += _summary(db, settings, waiting, now)
        if settings.alert_waiting_minutes > 0:
            out += _reminders(db, conversations, settings, waiting, now, hush)
    return out


def _conversation_link(settings: Settings, conversation_id: str) -> str:
    return link(settings, f"/admin/conversations/{conversation_id}")


def _reminders(
    db: Any, conversations: Conversations, settings: Settings, waiting: dict[str, Any], now: datetime, hush: bool
) -> list[Alert]:
    """Conversations waiting longer than ``alert_waiting_minutes`` since their last change, told
    once per waiting stretch (its ``updated_at``); one alerted within the hour waits its turn."""
    out = []
    at = now.isoformat()
    for row in waiting.values():
        if row["waited_minutes"] is None or row["waited_minutes"] < settings.alert_waiting_minutes:
            continue
        state = _state(db, row["id"])
        if state is not None and state["reminded_for"] == row["updated_at"]:
            continue
        if _recent(state, now):
            continue  # a later minute's check sends it, once the hour is up
        if hush:
            _mark(db, row["id"], "held_at", at, reminded_for=row["updated_at"])
            continue
        _mark(db, row["id"], "sent_at", at, reminded_for=row["updated_at"])
        found = conversations.get(row["id"])
        channel = found["channel"] if found is not None else "widget"
        text = alert_text(settings.default_language, channel, row["last"], int(row["waited_minutes"]))
        out.append(Alert(text, _conversation_link(settings, row["id"]), row["id"]))
    return out


def _summary(db: Any, settings: Settings, waiting: dict[str, Any], now: datetime) -> list[Alert]:
    """The quiet hours are over: the customers held and still waiting, in one alert."""
    held = [r[0] for r in db.execute("SELECT conversation_id FROM owner_alerts WHERE held_at IS NOT NULL")]
    if not held:
        return []
    db.execute("UPDATE owner_alerts SET held_at = NULL WHERE held_at IS NOT NULL")
    still = [c for c in held if c in waiting]
    for conversation_id in still:
        _mark(db, conversation_id, "sent_at", now.isoformat())
    if not still:
        return []
    return [Alert(summary_text(settings.default_language, len(still)), link(settings, "/admin/inbox"), "summary")]


# -- sending ---------------------------------------------------------------------------------------------


def payload(settings: Settings, alert: Alert) -> dict[str, Any]:
    """What the service worker shows (static/sw: title, body, the page a tap opens)."""
    title = settings.shop_name or i18n.t(settings.default_language, "bot.the_shop")
    return {"title": title, "body": alert.text, "url": alert.url, "tag": alert.tag}


async def deliver(context: Context, settings: Settings, alert: Alert, key: Vapid | None) -> Delivered:
    """Send ``alert`` the ways the owner chose (``alerts_via``)."""
    pushed: webpush.Sent | None = None
    bot: bool | None = None
    if settings.alerts_via in ("push", "both") and key is not None:
        contact = settings.owner_email or settings.smtp_from or settings.public_url
        pushed = await anyio.to_thread.run_sync(
            webpush.send_all, context.store, key, payload(settings, alert), context.clock().isoformat(), contact
        )
    if settings.alerts_via in ("bot", "both"):
        bot = await telegram.notify_owner(context, alert.text, alert.url)
    return Delivered(pushed, bot)


async def turn(context: Context, key: Vapid | None) -> list[Delivered]:
    """One look: what is owed now, sent."""
    settings = context.settings()
    now = context.clock()
    conversations = Conversations(context.store, context.clock)
    alerts = await context.store.run(owed, context.store, conversations, settings, now)
    done = []
    for alert in alerts:
        # One alert failing in an unforeseen way (the bot's server, a push service) mustn't cost
        # the others: they are already written down as sent, and a restart wouldn't send them.
        try:
            done.append(await deliver(context, settings, alert, key))
        except Exception:
            log.exception("an alert to the owner could not be sent")
    return done


async def run(context: Context) -> None:
    """Runs until cancelled (channels/runner.py): woken by the bell after each hand-over, and
    each minute for the reminders and the end of the quiet hours."""
    await context.store.run(events.start_at_present, context.store, READER, context.clock().isoformat())
    key = await anyio.to_thread.run_sync(webpush.load_or_create_key, context.settings().data_dir)
    rung = context.bell.subscribe()
    try:
        while True:
            rung.clear()
            started = time.monotonic()
            await turn(context, key)
            # A burst of messages rings often; the reminders' query needn't run at each ring.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(rung.wait(), TICK_S)
            await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
    finally:
        context.bell.unsubscribe(rung)
