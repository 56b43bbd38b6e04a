"""Request checks shared by every router that changes state."""

from __future__ import annotations

from litestar import Request


def is_same_origin(request: Request) -> bool:
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


def is_https(request: Request) -> bool:
    """Did the browser reach us over TLS? Directly, or through a trusted proxy that says so
    (X-Forwarded-Proto, its own last value), or the owner's public_url is https."""
    if request.url.scheme == "https":
        return True
    settings = request.app.state.settings
    if settings.public_url.lower().startswith("https://"):
        return True
    peer = request.client.host if request.client else ""
    if peer in settings.trusted_proxies:
        proto = ",".join(request.headers.getall("x-forwarded-proto", []))
        hops = [p.strip().lower() for p in proto.split(",") if p.strip()]
        return bool(hops) and hops[-1] == "https"
    return False
