"""Alerts in the admin (/admin/alerts): how a waiting customer reaches the owner's phone, the
devices that take Web Push alerts (turned on from this page's script, static/push-1.0.0.js, and
removed here), a test, and the service worker that shows them (/admin/sw.js: served from /admin/
so that its scope is the admin, and outside the owner's guard, since a browser fetches it again
on its own, session or not; it holds nothing of the shop's)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import anyio
from litestar import Request, Response, Router, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, JSONBody
from litestar.response import Template

from appliance import i18n, paths
from appliance.channels import alerts, webpush
from appliance.channels.context import Context
from appliance.db import Store, read_meta, write_meta
from appliance.settings import Settings
from appliance.web.admin.core import Page, owner_router, toast
from appliance.web.services import AppServices, Inject

SUBSCRIBE_BODY_BYTES = 8 * 1024  # a subscription is an address and two keys: about 500 bytes
# In static/ (installed with the package, whatever its suffix), served from /admin/ for its scope.
SERVICE_WORKER = "sw-1.0.0.js"
# A test goes to every device: a button pressed again and again isn't twenty pushes each time.
TEST_EVERY = timedelta(seconds=10)
TEST_META = "alerts_test_at"


def _how(settings: Settings, lang: str) -> dict[str, Any]:
    """The settings in force, said in words on the page."""
    quiet = ""
    if (
        settings.quiet_hours_from
        and settings.quiet_hours_until
        and settings.quiet_hours_from != settings.quiet_hours_until
    ):
        quiet = i18n.t(lang, "alerts.quiet_range").format(
            start=i18n.digits(settings.quiet_hours_from, lang), end=i18n.digits(settings.quiet_hours_until, lang)
        )
    minutes = settings.alert_waiting_minutes
    return {
        "via": settings.alerts_via,
        "via_label": i18n.label(lang, "alerts_via", settings.alerts_via),
        "quiet": quiet,
        "reminder": i18n.tn(lang, "alerts.reminder_after", minutes) if minutes > 0 else "",
        "public": bool(settings.public_url),
    }


def _page(page: Page, services: AppServices, **ctx: Any) -> Template:
    return page(
        "admin/alerts.html",
        partial="admin/_alert_devices.html",
        how=_how(services.settings, page.lang),
        devices=webpush.devices(services.store),
        max_devices=webpush.MAX_SUBSCRIPTIONS,
        **ctx,
    )


@get("/alerts", sync_to_thread=True)
def alerts_page(page: Inject[Page], services: Inject[AppServices]) -> Template:
    return _page(page, services)


@get("/alerts/key", sync_to_thread=True)
def public_key(settings: Inject[Settings]) -> Response:
    """The appliance's VAPID public key, for ``pushManager.subscribe`` (made on first use)."""
    key = webpush.load_or_create_key(settings.data_dir)
    return Response({"key": webpush.application_server_key(key)}, headers={"cache-control": "no-store"})


@post("/alerts/subscribe", sync_to_thread=True, status_code=200, request_max_body_size=SUBSCRIBE_BODY_BYTES)
def subscribe(
    request: Request, data: JSONBody[dict[str, Any]], services: Inject[AppServices], page: Inject[Page]
) -> Response:
    """This device's subscription, as the browser's ``PushSubscription.toJSON()`` gives it."""
    found = data.get("keys")
    keys: dict[str, Any] = found if isinstance(found, dict) else {}
    endpoint, p256dh, auth = (
        v if isinstance(v, str) else "" for v in (data.get("endpoint"), keys.get("p256dh"), keys.get("auth"))
    )
    device = webpush.device_name(request.headers.get("user-agent", ""))
    try:
        webpush.subscribe(services.store, endpoint, p256dh, auth, device, services.clock().isoformat())
    except webpush.SubscriptionError as exc:
        return Response(
            {
                "error": exc.key,
                "message": i18n.t(page.lang, exc.key).format(n=i18n.digits(webpush.MAX_SUBSCRIPTIONS, page.lang)),
            },
            status_code=422,
        )
    return Response({"ok": True, "message": i18n.t(page.lang, "alerts.device_on")})


@post("/alerts/unsubscribe", sync_to_thread=True, status_code=200, request_max_body_size=SUBSCRIBE_BODY_BYTES)
def unsubscribe(data: JSONBody[dict[str, Any]], services: Inject[AppServices]) -> Response:
    endpoint = data.get("endpoint")
    removed = isinstance(endpoint, str) and webpush.unsubscribe(services.store, endpoint=endpoint)
    return Response({"ok": True, "removed": bool(removed)})


@get("/alerts/devices", sync_to_thread=True)
def device_list(page: Inject[Page], services: Inject[AppServices]) -> Template:
    return _page(page, services)


@post("/alerts/devices/{device_id:int}/delete", sync_to_thread=True, status_code=200)
def remove_device(page: Inject[Page], services: Inject[AppServices], device_id: FromPath[int]) -> Template:
    if not webpush.unsubscribe(services.store, subscription_id=device_id):
        raise NotFoundException()
    return toast(_page(page, services), i18n.t(page.lang, "alerts.device_removed"))


def _said(lang: str, via: str, delivered: alerts.Delivered) -> tuple[bool, list[str]]:
    """The test's result in words: whether anything arrived, and what happened on each way."""
    lines: list[str] = []
    if not via:
        return False, [i18n.t(lang, "alerts.test_off")]
    ok = False
    sent = delivered.push
    if sent is not None:
        if not (sent.delivered or sent.failed or sent.removed):
            lines.append(i18n.t(lang, "alerts.test_no_devices"))
        if sent.delivered:
            ok = True
            lines.append(i18n.tn(lang, "alerts.test_delivered", sent.delivered))
        if sent.failed:
            lines.append(i18n.tn(lang, "alerts.test_failed", sent.failed, why=", ".join(dict.fromkeys(sent.errors))))
        if sent.removed:
            lines.append(i18n.tn(lang, "alerts.test_removed", sent.removed))
    if delivered.bot is not None:
        ok = ok or delivered.bot
        lines.append(i18n.t(lang, "alerts.test_bot_sent") if delivered.bot else i18n.t(lang, "alerts.test_bot_failed"))
    return ok, lines


def _may_test(store: Store, now: datetime) -> bool:
    """Whether a test may go now (none in the last TEST_EVERY), noting it if so."""
    with store.write() as db:
        last = read_meta(db, TEST_META)
        if last and timedelta(0) <= now - datetime.fromisoformat(last) < TEST_EVERY:
            return False
        write_meta(db, TEST_META, now.isoformat())
        return True


@post("/alerts/test", status_code=200)
async def send_test(page: Inject[Page], services: Inject[AppServices]) -> Template:
    """A test alert the ways the owner chose, now (quiet hours or not): the result in words."""
    settings = services.settings
    lang = page.lang
    if not await services.store.run(_may_test, services.store, services.clock()):
        return page("admin/_alert_test.html", test_result={"ok": False, "lines": [i18n.t(lang, "alerts.test_wait")]})
    key = await anyio.to_thread.run_sync(webpush.load_or_create_key, settings.data_dir)
    context = Context(
        store=services.store,
        clock=services.clock,
        bell=services.bell,
        settings=lambda: services.settings,
        chat=lambda: services.chat,
        secret=services.secret,
    )
    test = alerts.Alert(i18n.t(settings.default_language, "alert.test"), alerts.link(settings, "/admin/alerts"), "test")
    delivered = (
        await alerts.deliver(context, settings, test, key) if settings.alerts_via else alerts.Delivered(None, None)
    )
    ok, lines = _said(lang, settings.alerts_via, delivered)
    return page("admin/_alert_test.html", test_result={"ok": ok, "lines": lines})


@get("/sw.js", sync_to_thread=True)
def service_worker() -> Response:
    """The service worker: shows an alert and opens its page when tapped. Never cached for
    long: a browser checks it again at most a day later anyway."""
    body = (paths.static_dir() / SERVICE_WORKER).read_bytes()
    return Response(
        body,
        media_type="text/javascript; charset=utf-8",
        headers={"cache-control": "no-cache", "service-worker-allowed": "/admin/"},
    )


router = Router(
    path="/",
    route_handlers=[
        owner_router([alerts_page, public_key, subscribe, unsubscribe, device_list, remove_device, send_test]),
        Router(path="/admin", route_handlers=[service_worker], include_in_schema=False),
    ],
)
