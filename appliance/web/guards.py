"""Request bodies that arrive too slowly, or stop arriving, and clients holding too many requests
open: a clear error, one log line, no connection held for ever.

granian times out a request's headers but not its body: a client sending a byte a minute held a
connection (and a worker's attention) for as long as it liked. Here each piece of a body must
arrive within ``idle_s`` of the last, the whole within ``total_s``, and after ``RATE_GRACE_S`` at
``min_rate`` bytes a second on average, or the request is answered 408 (a byte every 10 s passed
the idle limit and lasted 300 s). A client that disconnects halfway was a 500 with a traceback in
the log (Litestar's "client disconnected prematurely"); it is one line now. Only the body is
timed: once it is complete, ``receive`` is left alone (a streamed reply waits on it to learn that
the client has gone).

granian holds a bounded number of requests at once (``cli.serve`` sizes it); 1,030 trickling
bodies from one address filled it and every other client waited. ``in_progress_cap`` counts the
requests in progress per network address (behind a trusted proxy, per the client it names) and
answers those past the cap at once, 429, before reading their bodies.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from typing import Any

from litestar import Request
from litestar.exceptions import HTTPException
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

from appliance.web.visitors import client_ip, network

log = logging.getLogger(__name__)

RATE_GRACE_S = 10.0  # a body's first seconds are free of the rate (a phone waking its radio)


class SlowBody(HTTPException):
    status_code = 408


class ClientGone(HTTPException):
    status_code = 400


def body_guard(idle_s: float, total_s: float, min_rate: float = 0.0) -> Any:
    """ASGI middleware (Litestar's ``middleware=[...]``) with these limits."""

    def wrap(app: ASGIApp) -> ASGIApp:
        async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            loop = asyncio.get_running_loop()
            began = loop.time()
            deadline = began + total_s
            complete = False
            received = 0

            async def timed_receive() -> ReceiveMessage:
                nonlocal complete, received
                if complete:
                    return await receive()
                now = loop.time()
                timeout = min(idle_s, deadline - now)
                if min_rate > 0:  # when what has come stops being enough
                    timeout = min(timeout, began + RATE_GRACE_S + received / min_rate - now)
                try:
                    async with asyncio.timeout(max(timeout, 0.0)):  # no task per call, unlike wait_for
                        message = await receive()
                except TimeoutError:
                    log.info("request body too slow, refused: %s %s", scope.get("method"), scope.get("path"))
                    raise SlowBody(detail="the request body arrived too slowly") from None
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if not message.get("more_body", False):
                        complete = True
                elif message["type"] == "http.disconnect":
                    complete = True
                    log.info("client went away during its request: %s %s", scope.get("method"), scope.get("path"))
                    raise ClientGone(detail="the client disconnected before sending the whole request")
                return message

            await app(scope, timed_receive, send)

        return guarded

    return wrap


def in_progress_cap(limit: int, trusted_proxies: tuple[str, ...]) -> Any:
    """ASGI middleware: at most ``limit`` requests in progress (open streams included) from one
    network address; the next is answered 429 before its body is read."""
    counts: Counter[str] = Counter()
    warned: set[str] = set()

    def wrap(app: ASGIApp) -> ASGIApp:
        async def capped(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            address = network(client_ip(Request(scope), trusted_proxies))
            if counts[address] >= limit:
                if address not in warned:  # once per burst, not a line per request
                    warned.add(address)
                    log.warning("%s has %d requests in progress: more are refused", address, limit)
                await _too_many(scope, send)
                return
            counts[address] += 1
            try:
                await app(scope, receive, send)
            finally:
                counts[address] -= 1
                if counts[address] <= 0:
                    del counts[address]
                    warned.discard(address)

        return capped

    return wrap


async def _too_many(scope: Scope, send: Send) -> None:
    message = "too many requests in progress from your address; try again shortly"
    if scope.get("path", "").startswith("/api/"):
        body, kind = json.dumps({"error": "too_many_in_progress", "message": message}).encode(), b"application/json"
    else:
        body, kind = message.encode(), b"text/plain; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", kind),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", b"10"),
                (b"cache-control", b"no-store"),
                (b"x-content-type-options", b"nosniff"),
                # The body it didn't read is not waited for: the connection goes.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
