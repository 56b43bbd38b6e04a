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
