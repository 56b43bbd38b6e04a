"""Webhooks in the admin: the shop's endpoints (address, the events each gets, on/off, its
secret to copy), "send a test event" with what the receiver answered, and the delivery log with
"retry" for one that failed. Endpoints and deliveries are channels/webhook_store.py's; the
sending is channels/webhooks.py's, in the background (only the test is sent while the owner
waits, in a worker thread)."""

from __future__ import annotations

import anyio
from litestar import Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from appliance import i18n
from appliance.channels import webhook_send, webhook_store, webhooks
from appliance.channels.webhook_store import Endpoint, WebhookError
from appliance.clock import Clock
from appliance.conversations import events
from appliance.db import Store
from appliance.locale import N_
from appliance.web.admin.core import Form, Page, flash, owner_router
from appliance.web.services import AppServices, Inject

KIND_WORDS = {
    events.STARTED: N_("wh.ev.started"),
    events.CUSTOMER_MESSAGE: N_("wh.ev.customer"),
    events.HANDED_OVER: N_("wh.ev.handed_over"),
    events.OWNER_MESSAGE: N_("wh.ev.owner"),
    events.RESOLVED: N_("wh.ev.resolved"),
    events.RATED: N_("wh.ev.rated"),
    webhook_store.PING: N_("wh.ev.ping"),
}
STATUS_WORDS = {
    webhook_store.PENDING: N_("wh.st.pending"),
    webhook_store.DELIVERED: N_("wh.st.delivered"),
    webhook_store.FAILED: N_("wh.st.failed"),
}
WHY_WORDS = {
    "timeout": N_("wh.why.timeout"),
    "refused": N_("wh.why.refused"),
    "redirect": N_("wh.why.redirect"),
    "status": N_("wh.why.status"),
    "tls": N_("wh.why.tls"),
    "network": N_("wh.why.network"),
}
SHOWN_RESPONSE_CHARS = 160  # of the kept start of an answer, in the log's narrow column


def _field(data: dict[str, str]) -> list[str]:
    """The events ticked in a form (one box per kind: ``on_<kind>``)."""
    return [k for k in webhook_store.KINDS if data.get(f"on_{k}")]


def _page(
    page: Page, store: Store, status: int = 200, error: str = "", typed: dict | None = None, partial: str | None = None
) -> Template:
    endpoints = webhook_store.endpoints(store)
    return page(
        "admin/webhooks.html",
        partial=partial,
        status=status,
        endpoints=endpoints,
        urls={e.id: e.url for e in endpoints},
        counts=webhook_store.counts(store),
        log=webhook_store.deliveries(store),
        kinds=webhook_store.KINDS,
        kind_words=KIND_WORDS,
        status_words=STATUS_WORDS,
        why_words=WHY_WORDS,
        shown_chars=SHOWN_RESPONSE_CHARS,
        max_endpoints=webhook_store.MAX_ENDPOINTS,
        header=webhook_send.SIGNATURE_HEADER,
        error=error,
        typed=typed or {},
    )


def _found(store: Store, endpoint_id: int) -> Endpoint:
    found = webhook_store.get_endpoint(store, endpoint_id)
    if found is None:
        raise NotFoundException()
    return found


def _back(said: str) -> Response:
    """To the page, which says what was done (a toast on the page it lands on)."""
    return flash(Response("", status_code=200, headers={"hx-redirect": "/admin/webhooks"}), said)


@get("/webhooks", sync_to_thread=True)
def webhook_page(page: Inject[Page], store: Inject[Store]) -> Template:
    # htmx asks only for the log (it reloads itself); a form's refusal is a whole page (_page).
    return _page(page, store, partial="admin/_webhook_log.html")


@post("/webhooks/new", sync_to_thread=True, status_code=200)
def add_webhook(page: Inject[Page], store: Inject[Store], clock: Inject[Clock], data: Form) -> Response:
    try:
        webhook_store.add_endpoint(store, data.get("url", ""), _field(data), clock().isoformat())
    except WebhookError as exc:
        return _page(page, store, status=422, error=i18n.t(page.lang, exc.key), typed=data)
    return _back(N_("wh.added"))


@post("/webhooks/{endpoint_id:int}/events", sync_to_thread=True, status_code=200)
def set_events(
    page: Inject[Page], store: Inject[Store], clock: Inject[Clock], endpoint_id: FromPath[int], data: Form
) -> Response:
    _found(store, endpoint_id)
    try:
        webhook_store.set_kinds(store, endpoint_id, _field(data), clock().isoformat())
    except WebhookError as exc:
        return _page(page, store, status=422, error=i18n.t(page.lang, exc.key))
    return _back(N_("wh.saved"))


@post("/webhooks/{endpoint_id:int}/enabled", sync_to_thread=True, status_code=200)
def toggle_webhook(
    store: Inject[Store], clock: Inject[Clock], services: Inject[AppServices], endpoint_id: FromPath[int], data: Form
) -> Response:
    _found(store, endpoint_id)
    on = data.get("on") == "1"
    webhook_store.set_enabled(store, endpoint_id, on, clock().isoformat())
    services.bell.ring()  # its queue, waiting while it was off, goes on at once
    return _back(N_("wh.turned_on") if on else N_("wh.turned_off"))


@post("/webhooks/{endpoint_id:int}/delete", sync_to_thread=True, status_code=200)
def delete_webhook(store: Inject[Store], endpoint_id: FromPath[int]) -> Response:
    _found(store, endpoint_id)
    webhook_store.delete_endpoint(store, endpoint_id)
    return _back(N_("wh.deleted"))


@post("/webhooks/{endpoint_id:int}/test", status_code=200)
async def test_webhook(
    page: Inject[Page], store: Inject[Store], clock: Inject[Clock], endpoint_id: FromPath[int]
) -> Template:
    endpoint = await anyio.to_thread.run_sync(_found, store, endpoint_id)
    # Up to the send's timeout, in a worker thread: the event loop (the chat) never waits for it.
    outcome = await anyio.to_thread.run_sync(webhooks.send_test, store, endpoint, clock)
    return page(
        "admin/_webhook_test.html",
        endpoint=endpoint,
        outcome=outcome,
        why_words=WHY_WORDS,
        shown_chars=SHOWN_RESPONSE_CHARS,
    )


@post("/webhooks/deliveries/{delivery_id:int}/retry", sync_to_thread=True, status_code=200)
def retry_delivery(
    store: Inject[Store], clock: Inject[Clock], services: Inject[AppServices], delivery_id: FromPath[int]
) -> Response:
    if not webhook_store.retry(store, delivery_id, clock()):
        raise NotFoundException()
    services.bell.ring()  # the worker wakes and sends it now
    return _back(N_("wh.retrying"))


router = owner_router(
    [webhook_page, add_webhook, set_events, toggle_webhook, delete_webhook, test_webhook, retry_delivery]
)
