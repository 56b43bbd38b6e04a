"""Webhooks: the shop's own systems told of what happens in customers' conversations.

The worker follows the conversations' events under the reader name ``webhooks``, from the first
one kept (an endpoint takes only those after it was added: ``after_event``, so no history). Each new event
of a kind an endpoint picked is queued for it (webhook_store.queue: the body built once, the
reader's place moved in the same transaction), then sent in the background, per endpoint oldest
first and nothing after it until it gets a 2xx: a receiver down for an hour gets every event
afterwards, in order. A failed attempt is tried again after a pause that doubles from 10 s up
to 10 min, for a day; then the delivery is marked failed (the owner may retry it) and the queue
goes on. The queue is in the database, so a restart sends what was pending.

The chat never waits for any of it: events are written by the chat's own transaction, and all
the reading, sending (up to 10 s an attempt) and noting happens here, in worker threads. A crash
between a receiver's 2xx and noting it sends that delivery again after the restart, with the
same event id: receivers dedupe on it (docs/WEBHOOKS.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

import anyio
import httpx

from appliance.channels import webhook_send, webhook_store
from appliance.channels.context import Context
from appliance.channels.webhook_store import Endpoint, Outcome
from appliance.clock import Clock
from appliance.conversations import events
from appliance.conversations.store import Conversations
from appliance.db import Store

log = logging.getLogger(__name__)

READER = "webhooks"
BATCH = 100
IDLE_S = 60.0  # a look at the queue at least this often, even with no bell (a clock moved on)


def fan_out(store: Store, conversations: Conversations, now: datetime) -> int:
    """Queue the events since the reader's place for the endpoints that picked them; the number
    of deliveries queued."""
    queued = 0
    while True:
        live = [e for e in webhook_store.endpoints(store) if e.enabled]
        if not live:
            # Most shops have none: then nothing is read or written at each event (the writer
            # is the chat's too). The place stays behind; an endpoint added later skips those
            # events anyway (``after_event``), once, here.
            return queued
        got = events.pending(store, READER, kinds=webhook_store.KINDS, limit=BATCH)
        if not got:
            return queued
        bodies = []
        for event in got:
            targets = [e.id for e in live if event.kind in e.kinds and event.id > e.after_event]
            if targets:
                row = conversations.get(event.conversation_id) if event.conversation_id else None
                body = webhook_send.encode(webhook_send.payload(event, row))
                bodies.append((event, dict.fromkeys(targets, body)))
        queued += webhook_store.queue(store, bodies, got[-1].id, READER, now.isoformat())
        if len(got) < BATCH:
            return queued


def deliver_next(store: Store, http: httpx.Client, clock: Clock) -> bool:
    """Send the first due delivery at the head of an endpoint's queue; False when none is due.
    One at a time, so that stopping the app waits for one attempt at most."""
    now = clock().isoformat()
    for head in webhook_store.heads(store):
        if head.next_attempt_at > now:
            continue
        endpoint = webhook_store.get_endpoint(store, head.endpoint_id)
        if endpoint is None:
            continue
        outcome = webhook_send.send(http, endpoint.url, endpoint.secret, head.kind, head.id, head.body)
        status = webhook_store.note(store, head.id, outcome, clock())
        if not outcome.ok:
            # The reason only: never the secret, the body, nor the receiver's answer.
            log.info(
                "webhook %s to endpoint %s: %s (%s), now %s", head.id, endpoint.id, outcome.error, outcome.code, status
            )
        return True
    return False


def deliver_due(store: Store, http: httpx.Client, clock: Clock, limit: int = 10_000) -> int:
    """Everything due now, in order (tests and the catch-up after a receiver came back)."""
    sent = 0
    while sent < limit and deliver_next(store, http, clock):
        sent += 1
    return sent


def seconds_to_next(store: Store, now: datetime) -> float | None:
    """Until the earliest head is due (0: now), or None when every queue is empty."""
    times = [h.next_attempt_at for h in webhook_store.heads(store)]
    if not times:
        return None
    return max((datetime.fromisoformat(min(times)) - now).total_seconds(), 0.0)


def send_test(store: Store, endpoint: Endpoint, clock: Clock) -> Outcome:
    """The owner's "send a test event": a ``ping``, sent now and written in the log (blocking:
    the admin calls it in a worker thread)."""
    now = clock().isoformat()
    body = webhook_send.encode(webhook_send.ping_payload(endpoint.id, now))
    with webhook_send.client() as http:
        outcome = webhook_send.send(http, endpoint.url, endpoint.secret, webhook_store.PING, 0, body)
    webhook_store.log_ping(store, endpoint.id, body, outcome, clock().isoformat())
    return outcome


async def run(context: Context) -> None:
    """Runs until cancelled (channels/runner.py): queue what happened, send what is due, sleep
    until the bell rings (a new event; the admin's retry) or the next retry is due."""
    store, clock = context.store, context.clock
    conversations = Conversations(store, clock)
    ring = context.bell.subscribe()
    http = webhook_send.client()
    try:
        while True:
            ring.clear()
            await anyio.to_thread.run_sync(fan_out, store, conversations, clock())
            while await anyio.to_thread.run_sync(deliver_next, store, http, clock):
                if ring.is_set():  # events that came during a catch-up join the queue at once
                    ring.clear()
                    await anyio.to_thread.run_sync(fan_out, store, conversations, clock())
            wait = await anyio.to_thread.run_sync(seconds_to_next, store, clock())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ring.wait(), timeout=IDLE_S if wait is None else min(max(wait, 0.05), IDLE_S))
    finally:
        context.bell.unsubscribe(ring)
        http.close()
