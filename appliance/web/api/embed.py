"""May the chat be shown on this page? Asked by the loader (static/widget-loader-*.js) before it
shows anything on a shop's page, and told when the answer was no.

The widget's frame is refused on a site that is not one of ``allowed_origins`` (its CSP's
frame-ancestors): the button opened a grey "refused" page with no way to close it on a phone.
So the loader asks first, and shows nothing where the chat would be refused; it reports that
once, and the owner's home page offers to allow the site.

A yes on one of the shop's own sites is noted too (owner/checklist.py): the guided start ticks
"put the chat on your site" from a chat really shown there, not from the settings.

Trust boundary: anyone. The site is the request's Origin header (a browser sets it; a page
can't), checked as a site's origin (never a path or a query is kept). Reports are capped per
address and in all, their body is ignored (at most ``REPORT_BODY_BYTES`` are accepted), and the
store keeps at most ``checklist.MAX_REFUSED`` sites. Not under /api/v1's browser guard: the
whole point is a page of a site the shop hasn't allowed (yet).
"""

from __future__ import annotations

from litestar import Request, Response, Router, get, post

from appliance.clock import Clock
from appliance.db import Store
from appliance.owner import checklist
from appliance.settings import Settings
from appliance.web.api.common import network_of
from appliance.web.limits import RateLimiter
from appliance.web.services import Inject

REPORT_BODY_BYTES = 256
REPORTS_PER_ADDRESS_PER_HOUR = 6  # a visitor's browser reports once a session; an office, a few
REPORTS_PER_HOUR = 300  # in all: a crowd of addresses can't keep the writer busy either
_HOUR = 3600
_CORS = {"access-control-allow-origin": "*", "cache-control": "no-store", "vary": "Origin"}


def _page_origin(request: Request) -> str | None:
    return request.headers.get("origin")


def _allowed(request: Request, settings: Settings) -> bool:
    origin = _page_origin(request)
    if origin is None:  # not a cross-site browser request: the appliance's own page, or a program
        return True
    if origin.split("://", 1)[-1].lower() == request.headers.get("host", "").lower():
        return True  # the appliance's own page, at the address the browser used
    return checklist.framing_allowed(origin, settings.allowed_origins, settings.base_url)


@get("/status", sync_to_thread=True)
def status(request: Request, settings: Inject[Settings], store: Inject[Store], clock: Inject[Clock]) -> Response:
    """``{"allowed": true}`` when the chat may be shown on the asking page's site. A yes to a page
    of one of the shop's sites is noted for the guided start ("shown on https://…"): at most once
    per site an hour (a read otherwise), only for a site the owner allowed, so what is written is
    bounded by the owner's own list. In a worker thread: the read and the rare write stay off the
    event loop."""
    allowed = _allowed(request, settings)
    if allowed:
        origin = checklist.reported_origin(_page_origin(request))
        if origin is not None and checklist.is_shop_site(origin, settings.allowed_origins):
            now = clock()
            if checklist.shown_due(store.read(), origin, now):
                checklist.record_shown(store, origin, now)
    return Response({"allowed": allowed}, headers=_CORS)


@post("/refusals", status_code=202, request_max_body_size=REPORT_BODY_BYTES)
async def refused(
    request: Request,
    settings: Inject[Settings],
    store: Inject[Store],
    clock: Inject[Clock],
    limiter: Inject[RateLimiter],
) -> Response:
    """The loader was told no on its page: the site is kept for the owner's home page. Always
    204 (or 429): a caller learns nothing from it."""
    await request.body()  # read to its cap (413 past it), and not looked at: the Origin says it all
    done = Response(None, status_code=204, headers=_CORS)
    origin = checklist.reported_origin(_page_origin(request))
    if origin is None or _allowed(request, settings):
        return done
    wait = limiter.hit(f"refused:ip:{network_of(request, settings)}", REPORTS_PER_ADDRESS_PER_HOUR, _HOUR)
    if wait is None:
        wait = limiter.hit("refused:all", REPORTS_PER_HOUR, _HOUR)
    if wait is not None:
        return Response(None, status_code=429, headers={**_CORS, "retry-after": str(int(wait))})
    await store.run(checklist.record_refusal, store, origin, clock().isoformat(timespec="seconds"))
    return done


router = Router(path="/api/v1/embed", route_handlers=[status, refused], include_in_schema=False)
