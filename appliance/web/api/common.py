"""What every part of the public API shares: its error (``ApiError``, with a stable code the widget
translates), the visitor a bearer token proves, the visitor's own conversation, and the rate
limits counted per visitor and per address (the numbers are in web/limits.py and the settings)."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Request
from litestar.exceptions import HTTPException
from litestar.params import FromPath

from appliance import i18n
from appliance.conversations.chat import MessageRejected
from appliance.conversations.store import Conversations
from appliance.db import Store
from appliance.settings import Settings
from appliance.web import visitors
from appliance.web.limits import RateLimiter
from appliance.web.services import Inject

DAY = 86_400
MAX_ID = 2**63 - 1  # SQLite's largest integer: a bigger one in a query would be a 500, not a 422


class ApiError(HTTPException):
    """An error with a stable code the widget translates, and a message for integrators."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(status_code=status, detail=message, headers=headers, extra={"code": code})


def client_ip(request: Request, settings: Settings) -> str:
    return visitors.client_ip(request, settings.trusted_proxies)


def chat_lang(asked: str, settings: Settings) -> str:
    """The language a client asked for, or the shop's default when it isn't one of ours."""
    return asked if asked in i18n.LANGUAGES else settings.default_language


def network_of(request: Request, settings: Settings) -> str:
    """What the per-address limits count (IPv6 by /64)."""
    return visitors.network(client_ip(request, settings))


def check_limit(limiter: RateLimiter, key: str, limit: int, window_s: int) -> None:
    retry = limiter.hit(key, limit, window_s)
    if retry is not None:
        raise ApiError(
            429, "rate_limited", "too many requests; try again shortly", headers={"retry-after": str(int(retry))}
        )


def rejected(exc: MessageRejected) -> ApiError:
    return ApiError(404 if exc.code in {"no_conversation", "no_entry"} else 422, exc.code, str(exc))


def provide_visitor(request: Request, store: Inject[Store]) -> str:
    """The visitor whose bearer token came with the request, or a 401."""
    visitor_id = visitors.find(store, visitors.bearer(request))
    if visitor_id is None:
        raise ApiError(
            401, "unknown_visitor", "missing or unknown visitor token", headers={"www-authenticate": "Bearer"}
        )
    return visitor_id


def provide_own_conversation(
    conversation_id: FromPath[str], visitor: Inject[str], conversations: Inject[Conversations]
) -> str:
    """The conversation in the path, if it is this visitor's; any other is a 404 (never a 403,
    so that ids can't be probed)."""
    if not conversations.belongs_to(conversation_id, visitor):
        raise ApiError(404, "no_conversation", "no such conversation")
    return conversation_id


@dataclass
class Limits:
    """The per-visitor and per-IP limits of the request's visitor."""

    request: Request
    settings: Settings
    limiter: RateLimiter
    visitor: str

    def message(self) -> None:
        check_limit(self.limiter, f"msg:v:{self.visitor}", self.settings.visitor_messages_per_minute, 60)
        check_limit(
            self.limiter, f"msg:ip:{network_of(self.request, self.settings)}", self.settings.ip_messages_per_minute, 60
        )

    def per_visitor(self, what: str, limit: int, window_s: int) -> None:
        check_limit(self.limiter, f"{what}:v:{self.visitor}", limit, window_s)

    def per_network(self, what: str, limit: int, window_s: int) -> None:
        check_limit(self.limiter, f"{what}:ip:{network_of(self.request, self.settings)}", limit, window_s)


def provide_limits(
    request: Request, settings: Inject[Settings], limiter: Inject[RateLimiter], visitor: Inject[str]
) -> Limits:
    return Limits(request, settings, limiter, visitor)
