"""The public chat API (/api/v1): what the widget uses, and what integrations may use.

Trust boundary: anyone on the internet. A visitor proves who they are with the bearer token
they were given when their first conversation started, and sees only their own conversations
(anything else is a 404, never a 403, so ids can't be probed). Every unsafe call is rate limited
per visitor and per IP before it reaches the pipeline or the model; bodies are size-capped.

One module a concern: ``conversations`` (messages, replies and the event stream), ``photos``,
``triggers`` (proactive messages) and ``contact`` (contact details, rating, seen); what they share
(the error, the visitor, the limits) is in ``common``; ``telegram_hook`` is Telegram's server
posting the shop's bot's updates (webhook mode). ``make_router`` puts them under /api/v1.
"""

from __future__ import annotations

from litestar import Request, Response, Router
from litestar.connection import ASGIConnection
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.handlers import BaseRouteHandler

from appliance.settings import Settings
from appliance.web.api.common import ApiError, provide_limits, provide_own_conversation, provide_visitor
from appliance.web.api.contact import contact, rate, seen
from appliance.web.api.conversations import choose, events, handoff, history, list_conversations, send, start
from appliance.web.api.photos import attachment, send_photo
from appliance.web.api.telegram_hook import telegram_update
from appliance.web.api.triggers import list_triggers, proactive, trigger_event, trigger_shown
from appliance.web.security import UNSAFE
from appliance.web.services import Inject

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def _error_response(request: Request, exc: HTTPException) -> Response:
    code = (exc.extra or {}).get("code") if isinstance(exc.extra, dict) else None
    if code is None and exc.status_code == 400 and "utf-8" in f"{exc.detail} {exc.extra}".lower():
        # msgspec >= 0.23 reports a body that isn't UTF-8 as a decode error (older ones raised
        # UnicodeDecodeError, answered by app._bad_encoding): the same answer either way.
        return Response({"error": "bad_encoding", "message": "the request body is not valid UTF-8"}, status_code=400)
    body = {"error": code or _CODES.get(exc.status_code, "error"), "message": exc.detail}
    return Response(body, status_code=exc.status_code, headers=exc.headers or {})


def _browser_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Only the shop's own pages may drive a visitor's browser here: any site could start
    conversations from its visitors' browsers with a `text/plain` POST (a "simple" request that
    needs no CORS preflight). So a body must be JSON, and a browser's Origin must be this
    appliance or one of the shop's sites (`allowed_origins`). Other programs send no Origin."""
    if connection.scope.get("method") not in UNSAFE:
        return
    kind = connection.headers.get("content-type", "").split(";")[0].strip().lower()
    # A photo is a form; it needs the visitor's bearer token, which no other site's page can send
    # without the browser asking this appliance first (CORS), and the Origin check below.
    photo = connection.scope["path"].endswith("/attachments") and kind == "multipart/form-data"
    if kind != "application/json" and not photo:
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    origin = connection.headers.get("origin")
    if origin is None:
        return
    settings = connection.app.state.services.settings
    # Ours: the host the browser asked for (whatever the scheme at a TLS proxy), or the configured
    # address; theirs: the shop's sites.
    if origin.split("://", 1)[-1].lower() == connection.headers.get("host", "").lower():
        return
    if origin.rstrip("/").lower() not in {
        settings.base_url.rstrip("/").lower(),
        *(o.rstrip("/").lower() for o in settings.allowed_origins),
    }:
        raise ApiError(403, "forbidden_origin", "this site may not use the shop's chat")


def make_router(settings: Inject[Settings]) -> Router:
    return Router(
        path="/api/v1",
        guards=[_browser_guard],
        route_handlers=[
            start,
            list_conversations,
            history,
            events,
            send,
            choose,
            handoff,
            send_photo,
            attachment,
            list_triggers,
            trigger_shown,
            trigger_event,
            proactive,
            contact,
            rate,
            seen,
            telegram_update,
        ],
        request_max_body_size=settings.max_request_bytes,
        dependencies={
            "visitor": Provide(provide_visitor, sync_to_thread=False),
            "own": Provide(provide_own_conversation, sync_to_thread=False),
            "limits": Provide(provide_limits, sync_to_thread=False),
        },
        exception_handlers={HTTPException: _error_response},
        tags=["chat"],
    )
