"""Request bodies that arrive too slowly, or stop arriving: a clear error, one log line, no
connection held for ever.

granian times out a request's headers but not its body: a client sending a byte a minute held a
connection (and a worker's attention) for as long as it liked. Here each piece of a body must
arrive within ``idle_s`` of the last and the whole within ``total_s``, or the request is answered
408. A client that disconnects halfway was a 500 with a traceback in the log (Litestar's "client
disconnected prematurely"); it is one line now. Only the body is timed: once it is complete,
``receive`` is left alone (a streamed reply waits on it to learn that the client has gone).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from litestar.exceptions import HTTPException
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

log = logging.getLogger(__name__)


class SlowBody(HTTPException):
    status_code = 408


class ClientGone(HTTPException):
    status_code = 400


def body_guard(idle_s: float, total_s: float) -> Any:
    """ASGI middleware (Litestar's ``middleware=[...]``) with these limits."""

    def wrap(app: ASGIApp) -> ASGIApp:
        async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            loop = asyncio.get_running_loop()
            deadline = loop.time() + total_s
            complete = False

            async def timed_receive() -> ReceiveMessage:
                nonlocal complete
                if complete:
                    return await receive()
                timeout = min(idle_s, deadline - loop.time())
                try:
                    async with asyncio.timeout(max(timeout, 0.0)):  # no task per call, unlike wait_for
                        message = await receive()
                except TimeoutError:
                    log.info("request body too slow, refused: %s %s", scope.get("method"), scope.get("path"))
                    raise SlowBody(detail="the request body arrived too slowly") from None
                if message["type"] == "http.request" and not message.get("more_body", False):
                    complete = True
                elif message["type"] == "http.disconnect":
                    complete = True
                    log.info("client went away during its request: %s %s", scope.get("method"), scope.get("path"))
                    raise ClientGone(detail="the client disconnected before sending the whole request")
                return message

            await app(scope, timed_receive, send)

        return guarded

    return wrap
