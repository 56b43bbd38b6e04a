"""Request checks shared by every router that changes state."""

from __future__ import annotations

from litestar import Request
from litestar.connection import ASGIConnection


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
    settings = request.app.state.settings
    if settings.public_url.lower().startswith("https://"):
        return True
    hops = forwarded(request, "x-forwarded-proto", settings.trusted_proxies)
    return hops is not None and len(hops) > 0 and hops[-1].lower() == "https"
