"""The shop's webhook endpoints and their deliveries: the one module that writes
``webhook_endpoints`` and ``webhook_deliveries`` (migration 0023).

A delivery row is both the queue and the log. Per endpoint the queue is strict: only its oldest
pending delivery (``heads``) may be sent, and nothing after it until it is delivered or, a day
after it was queued, given up as failed. So a receiver that was down gets everything afterwards,
in order. A failed one stays in the log until the owner retries it or its event is gone.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from appliance.channels.addresses import loopback
from appliance.conversations import events
from appliance.db import Store, inserted_id
from appliance.locale import N_
from appliance.text.textnorm import ascii_digits

# What the owner can pick, in the order the page shows them. The bot's own answers and notices
# (message.bot, message.system) are left out: they are the shop's texts said back, many per
# conversation, and a shop's system acts on what customers and the owner say and on the
# conversation's turns, not on every answer the bot gave.
KINDS = (
    events.STARTED,
    events.CUSTOMER_MESSAGE,
    events.HANDED_OVER,
    events.OWNER_MESSAGE,
    events.RESOLVED,
    events.RATED,
)
PING = "ping"
MAX_ENDPOINTS = 10
MAX_URL_CHARS = 2000
RETRY_FOR = timedelta(hours=24)
FIRST_PAUSE_S = 10.0
MAX_PAUSE_S = 600.0  # a receiver back after an hour down is tried again within ten minutes
LOG_ROWS = 50
RESPONSE_CHARS = 500  # the start of a receiver's answer kept for the log

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


class WebhookError(ValueError):
    """Why the owner's input was refused; ``key`` says it in the owner's language."""

    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class Endpoint:
    id: int
    url: str
    secret: str
    kinds: tuple[str, ...]
    enabled: bool
    after_event: int
    created_at: str


@dataclass(frozen=True)
class Delivery:
    id: int
    endpoint_id: int
    event_id: int | None
    kind: str
    body: str
    status: str
    attempts: int
    next_attempt_at: str
    give_up_at: str
    last_attempt_at: str | None
    response_code: int | None
    response_body: str | None
    error: str | None
    delivered_at: str | None
    created_at: str


@dataclass(frozen=True)
class Outcome:
    """What one attempt got: ``ok`` for a 2xx; else ``error`` (timeout, refused, redirect,
    status, tls, network) and what the receiver answered, if it did."""

    ok: bool
    code: int | None = None
    body: str = ""
    error: str | None = None


def _endpoint(row: Any) -> Endpoint:
    return Endpoint(
        id=row["id"],
        url=row["url"],
        secret=row["secret"],
        kinds=tuple(k for k in json.loads(row["kinds"] or "[]") if k in KINDS),
        enabled=bool(row["enabled"]),
        after_event=row["after_event"],
        created_at=row["created_at"],
    )


def _delivery(row: Any) -> Delivery:
    return Delivery(**{name: row[name] for name in Delivery.__dataclass_fields__})


# -- endpoints ---------------------------------------------------------------------------------


def check_url(url: str) -> str:
    """The address as stored, or WebhookError: https only, except http to this machine (the
    shop's own program beside the appliance, and tests): anything else would carry the
    conversations and the signature in clear over the network."""
    url = url.strip()
    if not url:
        raise WebhookError(N_("wh.no_url"))
    if len(url) > MAX_URL_CHARS or any(c.isspace() or ord(c) < 32 for c in url):
        raise WebhookError(N_("wh.bad_url"))
    try:
        parts = urlsplit(url)
        # A port typed with Persian digits (":۸۴۴۳") is the port the owner meant; the host and
        # the path keep theirs (a Persian domain or path is a real address).
        host_part, colon, port = parts.netloc.rpartition(":")
        if colon and port and ascii_digits(port) != port and "]" not in port:
            parts = parts._replace(netloc=f"{host_part}:{ascii_digits(port)}")
            url = urlunsplit(parts)
        host = (parts.hostname or "").lower()
        if parts.port is not None and not parts.netloc.rpartition(":")[2].isascii():
            raise ValueError("not a port")
    except ValueError:
        raise WebhookError(N_("wh.bad_url")) from None
    if not host or parts.scheme.lower() not in ("https", "http"):
        raise WebhookError(N_("wh.bad_url"))
    if parts.username or parts.password:
        raise WebhookError(N_("wh.bad_url"))  # credentials in the address would be shown on the page
    if parts.scheme.lower() == "http" and not loopback(host):
        raise WebhookError(N_("wh.not_https"))
    return url


def check_kinds(kinds: list[str]) -> tuple[str, ...]:
    picked = tuple(k for k in KINDS if k in kinds)
    if not picked:
        raise WebhookError(N_("wh.no_events"))
    return picked


def endpoints(store: Store) -> list[Endpoint]:
    rows = store.read().execute("SELECT * FROM webhook_endpoints ORDER BY id").fetchall()
    return [_endpoint(r) for r in rows]


def get_endpoint(store: Store, endpoint_id: int) -> Endpoint | None:
    row = store.read().execute("SELECT * FROM webhook_endpoints WHERE id = ?", [endpoint_id]).fetchone()
    return _endpoint(row) if row is not None else None


def add_endpoint(store: Store, url: str, kinds: list[str], now: str) -> Endpoint:
    """A new endpoint with a secret of its own; it gets the events from now on."""
    url, picked = check_url(url), check_kinds(kinds)
    with store.write() as db:
        if db.execute("SELECT count(*) FROM webhook_endpoints").fetchone()[0] >= MAX_ENDPOINTS:
            raise WebhookError(N_("wh.too_many"))
        last = db.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]
        endpoint_id = inserted_id(
            db.execute(
                "INSERT INTO webhook_endpoints (url, secret, kinds, enabled, after_event, created_at, updated_at) "
                "VALUES (?, ?, ?, 1, ?, ?, ?)",
                [url, secrets.token_urlsafe(32), json.dumps(picked), last, now, now],
            )
        )
    found = get_endpoint(store, endpoint_id)
    assert found is not None
    return found


def set_kinds(store: Store, endpoint_id: int, kinds: list[str], now: str) -> None:
    picked = check_kinds(kinds)
    with store.write() as db:
        db.execute(
            "UPDATE webhook_endpoints SET kinds = ?, updated_at = ? WHERE id = ?",
            [json.dumps(picked), now, endpoint_id],
        )


def set_enabled(store: Store, endpoint_id: int, on: bool, now: str) -> None:
    """Off: nothing more is queued for it and its queue waits; on again, the queue goes on with
    what happens from then on (what happened while it was off is never sent: the owner turned it
    off to stop it)."""
    with store.write() as db:
        db.execute("UPDATE webhook_endpoints SET enabled = ?, updated_at = ? WHERE id = ?", [int(on), now, endpoint_id])
        if on:
            db.execute(
                "UPDATE webhook_endpoints SET after_event = max(after_event, ?) WHERE id = ?",
                [events.last_id(db), endpoint_id],
            )


def delete_endpoint(store: Store, endpoint_id: int) -> None:
    """The endpoint and its deliveries (the foreign key's cascade)."""
    with store.write() as db:
        db.execute("DELETE FROM webhook_endpoints WHERE id = ?", [endpoint_id])


# -- the queue ---------------------------------------------------------------------------------


def queue(store: Store, bodies: list[tuple[events.Event, dict[int, str]]], last_id: int, reader: str, now: str) -> int:
    """Queue each event's body for the endpoints it is for (``{endpoint id: body}``), and move
    ``reader``'s place to ``last_id`` in the same transaction: an event is queued exactly once
    (the unique (endpoint, event) also holds if it were offered twice)."""
    give_up = (datetime.fromisoformat(now) + RETRY_FOR).isoformat()
    queued = 0
    with store.write() as db:
        for event, by_endpoint in bodies:
            for endpoint_id, body in by_endpoint.items():
                queued += db.execute(
                    "INSERT OR IGNORE INTO webhook_deliveries (endpoint_id, event_id, kind, body, status, "
                    "next_attempt_at, give_up_at, created_at) "
                    "SELECT ?, ?, ?, ?, 'pending', ?, ?, ? WHERE EXISTS (SELECT 1 FROM events WHERE id = ?) "
                    "AND EXISTS (SELECT 1 FROM webhook_endpoints WHERE id = ?)",
                    [endpoint_id, event.id, event.kind, body, now, give_up, now, event.id, endpoint_id],
                ).rowcount
        events.advance(db, reader, last_id, now)
    return queued


def heads(store: Store) -> list[Delivery]:
    """Each enabled endpoint's oldest pending delivery: the only one of its queue that may go."""
    rows = (
        store.read()
        .execute(
            "SELECT d.* FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id "
            "WHERE e.enabled = 1 AND d.id IN (SELECT min(id) FROM webhook_deliveries WHERE status = ? "
            "GROUP BY endpoint_id) ORDER BY d.next_attempt_at, d.id",
            [PENDING],
        )
        .fetchall()
    )
    return [_delivery(r) for r in rows]


def pause_after(attempts: int) -> timedelta:
    """The pause before the next try after ``attempts`` failed ones: 10 s, 20 s, 40 s ... 10 min."""
    return timedelta(seconds=min(FIRST_PAUSE_S * 2 ** max(attempts - 1, 0), MAX_PAUSE_S))


def note(store: Store, delivery_id: int, outcome: Outcome, now: datetime) -> str:
    """Write down an attempt's outcome; returns the delivery's status after it."""
    at = now.isoformat()
    body = outcome.body[:RESPONSE_CHARS]
    with store.write() as db:
        row = db.execute("SELECT attempts, give_up_at, status FROM webhook_deliveries WHERE id = ?", [delivery_id])
        found = row.fetchone()
        if found is None:
            return FAILED  # erased while it was being sent
        attempts = found["attempts"] + 1
        if outcome.ok:
            status, next_at, delivered = DELIVERED, found["give_up_at"], at
        else:
            status = FAILED if at >= found["give_up_at"] else PENDING
            next_at, delivered = (now + pause_after(attempts)).isoformat(), None
        db.execute(
            "UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_attempt_at = ?, "
            "response_code = ?, response_body = ?, error = ?, delivered_at = ? WHERE id = ?",
            [status, attempts, next_at, at, outcome.code, body, outcome.error, delivered, delivery_id],
        )
    return status


def retry(store: Store, delivery_id: int, now: datetime) -> bool:
    """A failed delivery back at the head of its endpoint's queue, tried at once and for another
    day; False when there is no such failed delivery."""
    with store.write() as db:
        return (
            db.execute(
                "UPDATE webhook_deliveries SET status = ?, next_attempt_at = ?, give_up_at = ? "
                "WHERE id = ? AND status = ? AND event_id IS NOT NULL",
                [PENDING, now.isoformat(), (now + RETRY_FOR).isoformat(), delivery_id, FAILED],
            ).rowcount
            == 1
        )


def log_ping(store: Store, endpoint_id: int, body: str, outcome: Outcome, now: str) -> None:
    """The test event's record in the log (never queued: the owner saw its result at once)."""
    with store.write() as db:
        db.execute(
            "INSERT INTO webhook_deliveries (endpoint_id, event_id, kind, body, status, attempts, next_attempt_at, "
            "give_up_at, last_attempt_at, response_code, response_body, error, delivered_at, created_at) "
            "VALUES (?, NULL, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                endpoint_id,
                PING,
                body,
                DELIVERED if outcome.ok else FAILED,
                now,
                now,
                now,
                outcome.code,
                outcome.body[:RESPONSE_CHARS],
                outcome.error,
                now if outcome.ok else None,
                now,
            ],
        )


def get_delivery(store: Store, delivery_id: int) -> Delivery | None:
    row = store.read().execute("SELECT * FROM webhook_deliveries WHERE id = ?", [delivery_id]).fetchone()
    return _delivery(row) if row is not None else None


def deliveries(store: Store, endpoint_id: int | None = None, limit: int = LOG_ROWS) -> list[Delivery]:
    """The log, newest first (by the latest thing that happened to each)."""
    sql, params = "SELECT * FROM webhook_deliveries", []
    if endpoint_id is not None:
        sql, params = sql + " WHERE endpoint_id = ?", [endpoint_id]
    rows = (
        store.read()
        .execute(sql + " ORDER BY coalesce(last_attempt_at, created_at) DESC, id DESC LIMIT ?", [*params, limit])
        .fetchall()
    )
    return [_delivery(r) for r in rows]


def counts(store: Store) -> dict[int, dict[str, int]]:
    """Each endpoint's deliveries by status."""
    out: dict[int, dict[str, int]] = {}
    for row in store.read().execute(
        "SELECT endpoint_id, status, count(*) FROM webhook_deliveries WHERE event_id IS NOT NULL "
        "GROUP BY endpoint_id, status"
    ):
        out.setdefault(row[0], {})[row[1]] = row[2]
    return out
