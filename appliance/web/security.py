"""Request checks shared by every router that changes state, and the headers every response
carries."""

from __future__ import annotations

from collections.abc import Callable

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.types import Message, Scope

# Strict by default; pages that need more (the widget iframe) widen it for themselves.
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; "
        "frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}
HSTS = "max-age=31536000"


def security_headers(*, hsts: bool) -> Callable[[Message, Scope], None]:
    """A ``before_send`` hook: the security headers on every response, as it starts. An
    ``after_request`` hook saw only what a route handler returned, so Litestar's own answers
    (a routing 404 or 405, an exception handler's) went out without them. A response that sets its
    own CSP (the widget, framed by the shop's site; an attachment) decides framing itself.
    ``hsts``: the owner serves the appliance over TLS (public_url is https), and browsers keep to
    it for a year; sent over plain HTTP it is ignored (RFC 6797), so it can't lock anyone out."""
    defaults = [(name.encode(), value.encode()) for name, value in SECURITY_HEADERS.items()]
    if hsts:
        defaults.append((b"strict-transport-security", HSTS.encode()))

    def add(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = list(message.get("headers") or [])
        present = {bytes(name).lower() for name, _ in headers}
        own_csp = b"content-security-policy" in present
        for name, value in defaults:
            if name not in present and not (own_csp and name == b"x-frame-options"):
                headers.append((name, value))
        message["headers"] = headers

    return add


def is_same_origin(request: ASGIConnection) -> bool:
    """Reject cross-site form posts (CSRF) using what browsers send on every unsafe request.

    Sec-Fetch-Site is set by all current browsers and can't be forged by a page; Origin is the
    fallback for older ones. A request with neither comes from a non-browser client, which has no
    ambient cookies to abuse.
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in {"same-origin", "none"}
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


# Methods that change state: checked for their origin (admin CSRF, the public API's guard).
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def forwarded(request: Request, header: str, trusted_proxies: tuple[str, ...] | list[str]) -> list[str] | None:
    """The hops a trusted proxy reports in ``header`` (X-Forwarded-For, -Proto), in order, from
    every line of it: a client can send a line of its own first, and reading only the first line
    believed it. The last hop is the one our proxy added. None when the peer is not a trusted proxy."""
    peer = request.client.host if request.client else ""
    if peer not in trusted_proxies:
        return None
    values = ",".join(request.headers.getall(header, []))
    return [h.strip() for h in values.split(",") if h.strip()]


def is_https(request: Request) -> bool:
    """Did the browser reach us over TLS? Directly, or through a trusted proxy that says so
    (X-Forwarded-Proto, its own last value), or the owner's public_url is https."""
    if request.url.scheme == "https":
        return True
    settings = request.app.state.services.settings
    if settings.public_url.lower().startswith("https://"):
        return True
    hops = forwarded(request, "x-forwarded-proto", settings.trusted_proxies)
    return hops is not None and len(hops) > 0 and hops[-1].lower() == "https"
