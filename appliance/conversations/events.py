"""What happened in the customers' conversations, in order: one table that every reader outside
the chat follows.

``record`` is called by conversations/store.py inside the transaction that makes the change (a
customer's message, the bot's or the owner's reply, a hand-over, a resolve, a rating), so an
event exists exactly when its change does. Readers, each under its own name, take what is new
after their place (``pending``) and move their place when they are done with it (``advance``):

- the channels (channels/telegram.py, channels/email_in.py) send the shop's side of their own
  conversations from ``message.bot``, ``message.owner`` and ``message.system``;
- webhooks (channels/webhooks.py) deliver the events the owner picked to the shop's systems;
- the owner's phone (channels/alerts.py) is told of a hand-over.

A restart loses nothing (the events are in the database, the places too) and repeats only what a
reader had not marked done. The ``Bell`` wakes readers as soon as a write with events commits,
so none has to poll often. Events are kept ``KEEP_DAYS`` (webhook retries last a day) and go
with their conversation when it is erased.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from appliance.db import Store, inserted_id

# The kinds, as webhooks name them (docs/WEBHOOKS.md).
STARTED = "conversation.started"
CUSTOMER_MESSAGE = "message.customer"
BOT_MESSAGE = "message.bot"
OWNER_MESSAGE = "message.owner"
SYSTEM_MESSAGE = "message.system"  # a notice to the customer ("the owner has joined")
HANDED_OVER = "conversation.handed_over"
RESOLVED = "conversation.resolved"
RATED = "conversation.rated"
KINDS = (STARTED, CUSTOMER_MESSAGE, BOT_MESSAGE, OWNER_MESSAGE, SYSTEM_MESSAGE, HANDED_OVER, RESOLVED, RATED)
# What the shop's shown to the customer: what a channel sends back on its side.
SHOP_SIDE = (BOT_MESSAGE, OWNER_MESSAGE, SYSTEM_MESSAGE)

KEEP_DAYS = 3


@dataclass(frozen=True)
class Event:
    id: int
    kind: str
    conversation_id: str | None
    message_id: int | None
    channel: str
    data: dict[str, Any]
    created_at: str


def record(
    db: Any,
    kind: str,
    conversation_id: str,
    *,
    channel: str,
    now: str,
    message_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> int:
    """Note an event, inside the caller's write transaction (conversations/store.py, which knows
    the conversation's channel: copied onto the event so that a channel reads only its own)."""
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    return inserted_id(
        db.execute(
            "INSERT INTO events (kind, conversation_id, message_id, channel, data, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [kind, conversation_id, message_id, channel, json.dumps(data or {}, ensure_ascii=False), now],
        )
    )


def _event(row: Any) -> Event:
    return Event(
        id=row["id"],
        kind=row["kind"],
        conversation_id=row["conversation_id"],
        message_id=row["message_id"],
        channel=row["channel"],
        data=json.loads(row["data"] or "{}"),
        created_at=row["created_at"],
    )


# Every reader's place is at least this one's: set by a restore (``continue_after``), so that a
# reader with no place in the restored file (it began after the backup was taken) doesn't read
# the file's events from the start.
FLOOR = "*floor"


def place(db: Any, reader: str) -> int:
    """The id of the last event ``reader`` is done with (0: none yet)."""
    row = db.execute("SELECT max(last_id) FROM event_cursors WHERE reader IN (?, ?)", [reader, FLOOR]).fetchone()
    return int(row[0]) if row is not None and row[0] is not None else 0


def pending(
    store: Store,
    reader: str,
    *,
    kinds: Iterable[str] | None = None,
    channels: Iterable[str] | None = None,
    limit: int = 100,
) -> list[Event]:
    """The events after ``reader``'s place, oldest first (only of ``kinds``/``channels``, when
    given). A reader that has never read starts at the present: it isn't handed the history of
    conversations from before it was set up (``start_at_present``)."""
    db = store.read()
    after = place(db, reader)
    sql = "SELECT * FROM events WHERE id > ?"
    params: list[Any] = [after]
    if kinds is not None:
        kinds = list(kinds)
        sql += " AND kind IN ({})".format(", ".join("?" * len(kinds)))
        params += kinds
    if channels is not None:
        channels = list(channels)
        sql += " AND channel IN ({})".format(", ".join("?" * len(channels)))
        params += channels
    rows = db.execute(sql + " ORDER BY id LIMIT ?", [*params, limit]).fetchall()
    return [_event(r) for r in rows]


def advance(db: Any, reader: str, last_id: int, now: str) -> None:
    """``reader`` is done with every event up to ``last_id`` (inside the caller's write
    transaction, with whatever it wrote about them: both or neither)."""
    db.execute(
        "INSERT INTO event_cursors (reader, last_id, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT(reader) DO UPDATE SET last_id = max(last_id, excluded.last_id), updated_at = excluded.updated_at",
        [reader, last_id, now],
    )


def last_id(db: Any) -> int:
    """The newest event's id (0: none)."""
    return int(db.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0])


def start_at_present(store: Store, reader: str, now: str) -> None:
    """A new reader begins after the last event there is (nothing from before it existed)."""
    with store.write() as db:
        if db.execute("SELECT 1 FROM event_cursors WHERE reader = ?", [reader]).fetchone() is None:
            advance(db, reader, last_id(db), now)


def get(store: Store, event_id: int) -> Event | None:
    row = store.read().execute("SELECT * FROM events WHERE id = ?", [event_id]).fetchone()
    return _event(row) if row is not None else None


def prune(store: Store, now: datetime, days: int = KEEP_DAYS) -> int:
    """Forget events older than ``days`` (the nightly retention job)."""
    with store.write() as db:
        return int(
            db.execute("DELETE FROM events WHERE created_at < ?", [(now - timedelta(days=days)).isoformat()]).rowcount
        )


def high_water(conn: sqlite3.Connection) -> int:
    """The highest event id this database file has handed out (0: none, or no events table)."""
    try:
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
    except sqlite3.OperationalError:  # no AUTOINCREMENT table yet: a database from before events
        return 0
    return int(row[0]) if row else 0


def continue_after(conn: sqlite3.Connection, top: int) -> None:
    """A backup is being restored over a database that had handed out event ids up to ``top``:
    the restored file goes on after them (a webhook receiver drops an id it has seen, so a reused
    id would be a lost event) and every reader's place moves to the present (what the restored
    file holds was read, sent and delivered before the restore; read again, it would be sent to
    customers a second time). A database from before events has nothing to carry."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").fetchone() is None:
        return
    top = max(top, int(conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]))
    if not conn.execute("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'events'", [top]).rowcount:
        conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('events', ?)", [top])
    conn.execute("UPDATE event_cursors SET last_id = max(last_id, ?)", [top])
    conn.execute(
        "INSERT INTO event_cursors (reader, last_id) VALUES (?, ?) "
        "ON CONFLICT(reader) DO UPDATE SET last_id = max(last_id, excluded.last_id)",
        [FLOOR, top],
    )


class Bell:
    """Rung after a write that recorded events has committed; readers in threads wait on it
    (``wait``), readers on an event loop on an ``asyncio.Event`` of their own (``subscribe``)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._rings = 0
        self._loops: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    def ring(self) -> None:
        with self._cond:
            self._rings += 1
            self._cond.notify_all()
            waiting = list(self._loops)
        for loop, event in waiting:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)

    def rings(self) -> int:
        with self._cond:
            return self._rings

    def wait(self, seen: int, timeout: float) -> int:
        """Block until rung after ``seen`` (a ``rings()`` value) or ``timeout`` seconds."""
        with self._cond:
            self._cond.wait_for(lambda: self._rings != seen, timeout)
            return self._rings

    def subscribe(self) -> asyncio.Event:
        """An event set at each ring, for a reader on the running loop (clear it before reading)."""
        event = asyncio.Event()
        with self._cond:
            self._loops.append((asyncio.get_running_loop(), event))
        return event

    def unsubscribe(self, event: asyncio.Event) -> None:
        with self._cond:
            self._loops = [(loop, e) for loop, e in self._loops if e is not event]
