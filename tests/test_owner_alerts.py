"""The owner's phone: a customer handed over to a person reaches the owner's subscribed devices by
Web Push (a real push service on loopback checks the VAPID signature and decrypts the payload)
and/or the shop's bot in the owner's chat (a Telegram Bot API server on loopback), with the
customer's words and a link to the conversation; at most once an hour per conversation; held in
the quiet hours and summed up after them; a reminder for one still waiting. The Alerts page
subscribes, lists, removes and tests devices; /admin/sw.js is the service worker."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from appliance import i18n
from appliance import settings as settings_mod
from appliance.answering.compose import Reply
from appliance.answering.decide import Decision
from appliance.app import create_app
from appliance.channels import alerts, telegram, webpush
from appliance.channels.context import Context
from appliance.conversations import events
from appliance.conversations.store import Channel
from appliance.db import write_meta
from appliance.owner import account as owner
from appliance.settings import Settings

from . import push_service
from .helpers import SAME, SETTINGS_FORM, Clock, csrf, password_hash, send, sign_in, start_chat

SHOP = "کتاب‌فروشی نوک"
ASKED = "سفارش ۱۲۳۴ من هنوز نرسیده و خیلی نگرانم، لطفاً یک نفر جواب بدهد"


@pytest.fixture
def push() -> Iterator[push_service.PushService]:
    service = push_service.start()
    yield service
    service.close()


def _app(data_dir: Path, clock: Clock, *, channels: bool = False, **overrides: Any) -> TestClient:
    # As the settings page or settings.toml give them: checked and written as kept (۲۳:۰۰ is 23:00).
    settings = Settings(data_dir=data_dir, model="none", shop_name=SHOP, public_url="https://shop.example").replace(
        **overrides
    )
    # Served at its public https address: the session cookie is Secure there.
    return TestClient(create_app(settings, clock=clock, with_channels=channels), base_url="https://shop.example")


def _owner(c: TestClient, clock: Clock) -> None:
    owner.set_password(c.app.state.services.store, password_hash(), clock)
    sign_in(c)


def _subscribe(c: TestClient, device: push_service.Device, **headers: str) -> Any:
    return c.post(
        "/admin/alerts/subscribe", json=device.subscription(), headers={**SAME, "x-csrf-token": csrf(c), **headers}
    )


def _hand_over(c: TestClient, text: str = ASKED) -> str:
    """A Persian customer whose question the (empty) knowledge base can't answer: handed over."""
    conv, token, _ = start_chat(c, "fa")
    _customer_writes(c, conv, token, text)
    return conv


def _customer_writes(c: TestClient, conv: str, token: str, text: str) -> None:
    assert send(c, conv, token, text).status_code == 200
    assert c.app.state.services.chat.conversations.status(conv) == "waiting"


def _context(c: TestClient) -> Context:
    s = c.app.state.services
    return Context(
        store=s.store, clock=s.clock, bell=s.bell, settings=lambda: s.settings, chat=lambda: s.chat, secret=s.secret
    )


def _start_reading(c: TestClient) -> None:
    s = c.app.state.services
    events.start_at_present(s.store, alerts.READER, s.clock().isoformat())


def _turn(c: TestClient) -> list[alerts.Delivered]:
    """One look of the alerts' worker, as it runs each minute and at each hand-over."""
    key = webpush.load_or_create_key(c.app.state.services.settings.data_dir)
    return asyncio.run(alerts.turn(_context(c), key))


@pytest.mark.slow  # the app's start and the owner's sign-in (argon2): about 4 s
def test_a_persian_hand_over_reaches_the_owners_phone_with_the_words_and_the_link(
    data_dir: Path, clock: Clock, push: push_service.PushService
) -> None:
    with _app(data_dir, clock, channels=True) as c:
        _owner(c, clock)
        assert _subscribe(c, push.device()).json()["ok"] is True
        page_key = c.get("/admin/alerts/key").json()["key"]
        conv = _hand_over(c)
        got = push.wait_for(1)
    assert push.refused == []
    assert len(got) == 1, got
    alert = got[0]
    assert alert.payload["title"] == SHOP
    assert ASKED in alert.payload["body"] and "منتظر شماست" in alert.payload["body"]
    assert i18n.label("fa", "channel", "widget") in alert.payload["body"]
    assert alert.payload["url"] == f"https://shop.example/admin/conversations/{conv}"
    assert alert.payload["tag"] == conv
    assert alert.vapid_key == page_key and alert.claims["aud"] == push.origin
    assert alert.ttl == webpush.TTL_S


def test_long_words_are_cut_and_the_link_is_a_path_without_a_public_address() -> None:
    settings = Settings(model="none", public_url="")
    assert alerts.link(settings, "/admin/inbox") == "/admin/inbox"
    said = alerts.words("کتاب " * 100)
    assert len(said) == alerts.WORDS_CHARS and said.endswith("…")


@pytest.mark.slow  # the app's start and the owner's sign-in (argon2): about 4 s
def test_one_alert_per_conversation_an_hour(data_dir: Path, clock: Clock, push: push_service.PushService) -> None:
    with _app(data_dir, clock, alert_waiting_minutes=0) as c:
        _owner(c, clock)
        _subscribe(c, push.device())
        _start_reading(c)
        conv, token, _ = start_chat(c, "fa")
        _customer_writes(c, conv, token, ASKED)
        assert [d.push.delivered for d in _turn(c) if d.push] == [1]
        conversations = c.app.state.services.chat.conversations
        # The owner answers; ten minutes later the customer is handed over again: no second buzz.
        conversations.add_owner_reply(conv, "سلام، بررسی می‌کنم.")
        clock.now += timedelta(minutes=10)
        _customer_writes(c, conv, token, "هنوز خبری نشد؟ کی می‌رسد؟")
        assert _turn(c) == []
        # Past the hour, a new hand-over is told again.
        conversations.add_owner_reply(conv, "فردا می‌رسد.")
        clock.now += timedelta(minutes=55)
        _customer_writes(c, conv, token, "باز هم نرسید، لطفاً پیگیری کنید")
        assert [d.push.delivered for d in _turn(c) if d.push] == [1]
    got = push.wait_for(2)
    assert len(got) == 2 and "باز هم نرسید" in got[1].payload["body"]


@pytest.mark.slow  # the app's start and the owner's sign-in (argon2): about 4 s
def test_quiet_hours_hold_the_alerts_and_one_summary_comes_after(
    data_dir: Path, push: push_service.PushService
) -> None:
    # 23:30 in Tehran; quiet from 23:00 to 08:00 (across midnight).
    clock = Clock(datetime(2026, 11, 22, 20, 0, tzinfo=UTC))
    with _app(data_dir, clock, quiet_hours_from="۲۳:۰۰", quiet_hours_until="08:00", alert_waiting_minutes=30) as c:
        assert c.app.state.services.settings.quiet_hours_from == "23:00"
        _owner(c, clock)
        _subscribe(c, push.device())
        _start_reading(c)
        _hand_over(c), _hand_over(c)
        third = _hand_over(c, "یک سؤال دیگر دارم")
        assert _turn(c) == []
        clock.now += timedelta(hours=3)  # 02:30: still quiet, and the reminders are held too
        assert _turn(c) == []
        # The owner answered one of them in the night from the inbox: it isn't in the summary.
        c.app.state.services.chat.conversations.add_owner_reply(third, "پاسخ شما")
        clock.now += timedelta(hours=5, minutes=31)  # 08:01
        delivered = _turn(c)
        assert [d.push.delivered for d in delivered if d.push] == [1]
        assert _turn(c) == []  # told once; no reminder on the summary's heels
    got = push.wait_for(1)
    assert len(got) == 1
    assert got[0].payload["body"] == i18n.tn("fa", "alert.summary", 2) and "۲" in got[0].payload["body"]
    assert got[0].payload["url"] == "https://shop.example/admin/inbox"
    assert got[0].payload["tag"] == "summary"


def test_quiet_hours_across_midnight_and_empty() -> None:
    night = Settings(model="none", quiet_hours_from="23:00", quiet_hours_until="08:00", timezone="Asia/Tehran")
    at = datetime(2026, 11, 22, tzinfo=UTC)
    assert alerts.quiet(night, at.replace(hour=20))  # 23:30 Tehran
    assert alerts.quiet(night, at.replace(hour=1))  # 04:30
    assert not alerts.quiet(night, at.replace(hour=5))  # 08:30
    day = night.replace(quiet_hours_from="13:00", quiet_hours_until="14:00")
    assert alerts.quiet(day, at.replace(hour=9, minute=45)) and not alerts.quiet(day, at.replace(hour=11))
    assert not alerts.quiet(night.replace(quiet_hours_from=""), at.replace(hour=20))


@pytest.mark.slow  # the app's start and the owner's sign-in (argon2): about 4 s
def test_a_customer_still_waiting_is_reminded_once(
    data_dir: Path, clock: Clock, push: push_service.PushService
) -> None:
    with _app(data_dir, clock, alert_waiting_minutes=30) as c:
        _owner(c, clock)
        _subscribe(c, push.device())
        _start_reading(c)
        _hand_over(c)
        assert len(_turn(c)) == 1  # the hand-over
        clock.now += timedelta(minutes=31)
        assert _turn(c) == []  # due, but the hour since the hand-over's alert isn't up
        clock.now += timedelta(minutes=30)
        assert len(_turn(c)) == 1
        clock.now += timedelta(hours=3)
        assert _turn(c) == []  # once for this waiting stretch
    got = push.wait_for(2)
    assert len(got) == 2
    reminder = got[1].payload["body"]
    assert "۶۱ دقیقه" in reminder and "منتظر شماست" in reminder and ASKED in reminder


@pytest.mark.slow  # the app's start and the owner's sign-in (argon2): about 4 s
def test_alerts_turned_off_send_nothing(data_dir: Path, clock: Clock, push: push_service.PushService) -> None:
    with _app(data_dir, clock, alerts_via="") as c:
        _owner(c, clock)
        _subscribe(c, push.device())
        _start_reading(c)
        _hand_over(c)
        clock.now += timedelta(hours=2)
        assert _turn(c) == []
    assert push.received == []


@pytest.mark.slow  # the app's start and the owner's sign-in (argon2): about 4 s
def test_a_device_the_push_service_forgot_is_removed(
    data_dir: Path, clock: Clock, push: push_service.PushService
) -> None:
    with _app(data_dir, clock) as c:
        _owner(c, clock)
        kept, gone = push.device(), push.device()
        _subscribe(c, kept)
        _subscribe(c, gone)
        gone.answer = 410
        _start_reading(c)
        _hand_over(c)
        (delivered,) = _turn(c)
        assert delivered.push is not None and (delivered.push.delivered, delivered.push.removed) == (1, 1)
        assert [d["endpoint"] for d in webpush.devices(c.app.state.services.store)] == [kept.endpoint]
    assert [r.token for r in push.received] == [kept.token]


@pytest.mark.slow  # the app's start and the owner's sign-in (argon2): about 4 s
def test_the_bot_tells_the_owner_in_their_own_chat(data_dir: Path, clock: Clock) -> None:
    from .telegram_server import TOKEN, BotApiServer

    with BotApiServer() as bot:
        with _app(
            data_dir, clock, alerts_via="bot", bot_platform="telegram", bot_token=TOKEN, bot_api_base=bot.base
        ) as c:
            store = c.app.state.services.store
            with store.write() as db:
                write_meta(db, telegram.OWNER_CHAT_KEY, "1302")
            _start_reading(c)
            conv = _hand_over(c)
            (delivered,) = _turn(c)
            assert delivered.bot is True and delivered.push is None
        (message,) = bot.sent(1302)
    assert ASKED in message.params["text"]
    button = message.params["reply_markup"]
    button = button if isinstance(button, dict) else json.loads(button)
    assert button["inline_keyboard"][0][0]["url"] == f"https://shop.example/admin/conversations/{conv}"


# -- the Alerts page ----------------------------------------------------------------------------------


@pytest.mark.slow  # the app's start and the owner's sign-in (argon2): about 4 s
def test_subscribing_needs_the_csrf_token_and_stops_at_twenty(
    data_dir: Path, clock: Clock, push: push_service.PushService
) -> None:
    with _app(data_dir, clock) as c:
        store = c.app.state.services.store
        signed_out = c.post(
            "/admin/alerts/subscribe", json=push.device().subscription(), headers=SAME, follow_redirects=False
        )
        assert signed_out.status_code in (401, 303) and webpush.devices(store) == []
        _owner(c, clock)
        refused = c.post("/admin/alerts/subscribe", json=push.device().subscription(), headers=SAME)
        assert refused.status_code == 403 and webpush.devices(store) == []
        other_site = _subscribe(c, push.device(), **{"sec-fetch-site": "cross-site", "origin": "https://evil.example"})
        assert other_site.status_code == 403 and webpush.devices(store) == []
        plain = push.device().subscription() | {"endpoint": "http://push.example.com/x"}
        r = c.post("/admin/alerts/subscribe", json=plain, headers={**SAME, "x-csrf-token": csrf(c)})
        assert r.status_code == 422 and r.json()["error"] == "push.bad_endpoint"
        assert r.json()["message"] == i18n.t("fa", "push.bad_endpoint")
        devices = [push.device() for _ in range(webpush.MAX_SUBSCRIPTIONS)]
        for device in devices:
            assert _subscribe(c, device).status_code == 200
        past = _subscribe(c, push.device())
        assert past.status_code == 422 and past.json()["error"] == "push.too_many"
        assert "۲۰" in past.json()["message"]
        assert _subscribe(c, devices[0]).status_code == 200  # the same device again: its keys renewed
        assert len(webpush.devices(store)) == webpush.MAX_SUBSCRIPTIONS
        # Turned off on a device: the page's script tells the appliance, which forgets it.
        off = c.post(
            "/admin/alerts/unsubscribe",
            json={"endpoint": devices[3].endpoint},
            headers={**SAME, "x-csrf-token": csrf(c)},
        )
        assert off.json() == {"ok": True, "removed": True}
        assert devices[3].endpoint not in {d["endpoint"] for d in webpush.devices(store)}
        assert _subscribe(c, push.device()).status_code == 200  # its place is free again
        huge = c.post(
            "/admin/alerts/subscribe",
            json={"endpoint": "https://p.example/" + "x" * 20_000, "keys": {}},
            headers={**SAME, "x-csrf-token": csrf(c)},
        )
        assert huge.status_code == 413


@pytest.mark.slow  # the app's start and the owner's sign-in (argon2): about 4 s
def test_the_page_lists_devices_sends_a_test_and_removes_one(
    data_dir: Path, clock: Clock, push: push_service.PushService
) -> None:
    with _app(data_dir, clock) as c:
        _owner(c, clock)
        device = push.device()
        ua = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36"
        assert _subscribe(c, device, **{"user-agent": ua}).status_code == 200
        page = c.get("/admin/alerts")
        assert page.status_code == 200 and 'dir="rtl"' in page.text
        assert "Chrome · Android" in page.text and "/admin/channels/telegram" in page.text
        assert "/static/push-1.0.0.js" in page.text and i18n.t("fa", "alerts.turn_on") in page.text
        english = c.get("/admin/alerts?lang=en").text
        assert 'dir="ltr"' in english and "Turn on alerts on this device" in english and "Chrome · Android" in english
        test = c.post("/admin/alerts/test", headers={**SAME, "x-csrf-token": csrf(c), "hx-request": "true"})
        assert test.status_code == 200 and i18n.tn("fa", "alerts.test_delivered", 1) in test.text
        (got,) = push.wait_for(1)
        assert got.payload["body"] == i18n.t("fa", "alert.test") and got.payload["title"] == SHOP
        (row,) = webpush.devices(c.app.state.services.store)
        removed = c.post(
            f"/admin/alerts/devices/{row['id']}/delete", headers={**SAME, "x-csrf-token": csrf(c), "hx-request": "true"}
        )
        assert removed.status_code == 200 and i18n.t("fa", "alerts.no_devices") in removed.text
        assert webpush.devices(c.app.state.services.store) == []
        again = c.post("/admin/alerts/test", headers={**SAME, "x-csrf-token": csrf(c), "hx-request": "true"})
        assert i18n.t("fa", "alerts.test_wait") in again.text  # pressed again at once: not sent again
        clock.now += timedelta(seconds=11)
        nothing = c.post("/admin/alerts/test", headers={**SAME, "x-csrf-token": csrf(c), "hx-request": "true"})
        assert i18n.t("fa", "alerts.test_no_devices") in nothing.text


@pytest.mark.slow  # the app's start and the owner's sign-in (argon2): about 4 s
def test_the_service_worker_and_the_pages_script_are_served(data_dir: Path, clock: Clock) -> None:
    with _app(data_dir, clock) as c:
        sw = c.get("/admin/sw.js")  # fetched by the browser on its own, signed in or not
        assert sw.status_code == 200 and sw.headers["content-type"].startswith("text/javascript")
        assert "showNotification" in sw.text and "notificationclick" in sw.text
        script = c.get("/static/push-1.0.0.js")
        assert script.status_code == 200 and "/admin/alerts/subscribe" in script.text
        assert c.get("/admin/alerts", follow_redirects=False).status_code == 303  # the page is the owner's


def test_the_vapid_key_is_made_once_and_kept_private(data_dir: Path) -> None:
    first = webpush.load_or_create_key(data_dir)
    again = webpush.load_or_create_key(data_dir)
    assert webpush.application_server_key(first) == webpush.application_server_key(again)
    assert (data_dir / webpush.KEY_NAME).stat().st_mode & 0o777 == 0o600
    assert len(push_service.unb64(webpush.application_server_key(first))) == 65


def test_quiet_hours_are_times_or_empty_and_other_times_are_still_required() -> None:
    assert settings_mod.check({"quiet_hours_from": "", "quiet_hours_until": "۸:۰۰"}) == {
        "quiet_hours_from": "",
        "quiet_hours_until": "08:00",
    }
    with pytest.raises(settings_mod.SettingsError):
        settings_mod.check({"quiet_hours_until": "۲۵:۰۰"})
    with pytest.raises(settings_mod.SettingsError):
        settings_mod.check({"backup_time": ""})  # no default of "": a time it can't do without
    assert settings_mod.check({"alerts_via": ""}) == {"alerts_via": ""}
    with pytest.raises(settings_mod.SettingsError):
        settings_mod.check({"alerts_via": "sms"})


@pytest.mark.slow  # the app's start and the owner's sign-in (argon2): about 4 s
def test_the_settings_page_takes_quiet_hours_in_persian_and_the_alerts_page_says_them(admin: TestClient) -> None:
    sign_in(admin)
    page = admin.get("/admin/settings?lang=fa").text
    assert 'id="set-quiet_hours_from"' in page and 'name="alerts_via"' in page
    persian = {**SAME, "hx-request": "true", "hx-current-url": "http://testserver/admin/settings?lang=fa"}
    typed = {
        "alerts_via": "push",
        "quiet_hours_from": "۲۳:۰۰",
        "quiet_hours_until": "۸۰۰",
        "alert_waiting_minutes": "۴۵",
    }
    r = admin.post("/admin/settings", data={**SETTINGS_FORM, **typed}, headers={**persian, "x-csrf-token": csrf(admin)})
    assert r.status_code == 200, r.text[:300]
    settings = admin.app.state.services.settings
    assert (settings.quiet_hours_from, settings.quiet_hours_until, settings.alert_waiting_minutes) == (
        "23:00",
        "08:00",
        45,
    )
    alerts_page = admin.get("/admin/alerts?lang=fa").text
    assert i18n.t("fa", "alerts.quiet_range").format(start="۲۳:۰۰", end="۰۸:۰۰") in alerts_page
    assert i18n.tn("fa", "alerts.reminder_after", 45) in alerts_page
    cleared = {**typed, "quiet_hours_from": "", "quiet_hours_until": ""}
    r = admin.post(
        "/admin/settings", data={**SETTINGS_FORM, **cleared}, headers={**persian, "x-csrf-token": csrf(admin)}
    )
    assert r.status_code == 200 and admin.app.state.services.settings.quiet_hours_from == ""
    assert i18n.t("fa", "alerts.no_quiet") in admin.get("/admin/alerts?lang=fa").text


# -- in a real browser ----------------------------------------------------------------------------------

BROWSER_PASSWORD = "the owner's alerts password"


@pytest.mark.browser
def test_the_page_registers_the_service_worker_which_shows_a_pushed_alert(browser: Any, tmp_path: Path) -> None:
    """Real headless Chromium on a phone's width: the page's script registers /admin/sw.js for
    /admin/ and says this device is off (no permission asked unprompted); a push delivered to the
    worker (DevTools' ServiceWorker.deliverPushMessage) is shown with the shop, the words and the
    link, tagged by conversation."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from .helpers import demo_server

    with demo_server(tmp_path / "data", BROWSER_PASSWORD) as base:
        browser.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}
        )
        browser.get(f"{base}/admin/alerts?lang=fa")
        WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.ID, "password"))
        browser.find_element(By.ID, "password").send_keys(BROWSER_PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        WebDriverWait(browser, 20).until(lambda d: "/admin/alerts" in d.current_url)
        off = i18n.t("fa", "alerts.this_off")
        WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "push-state").text == off)
        assert browser.find_element(By.ID, "push-on").is_displayed()
        assert not browser.find_element(By.ID, "push-off").is_displayed()
        assert browser.execute_script("return Notification.permission") == "default"  # not asked unprompted
        width = browser.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], width
        registration = browser.execute_async_script(
            "const done = arguments[0]; navigator.serviceWorker.getRegistration('/admin/')"
            ".then(r => done([r.scope, r.active && r.active.scriptURL]))"
        )
        assert registration == [f"{base}/admin/", f"{base}/admin/sw.js"]
        browser.execute_cdp_cmd("Browser.grantPermissions", {"origin": base, "permissions": ["notifications"]})
        browser.execute_cdp_cmd("ServiceWorker.enable", {})
        pushed = {"title": SHOP, "body": ASKED, "url": "https://shop.example/admin/conversations/c1", "tag": "c1"}

        def delivered(driver: Any) -> Any:
            # DevTools names the one registration by an id it doesn't tell selenium: each of the
            # first few is tried (a missing one is ignored), again until the worker has shown it.
            for registration_id in range(10):
                try:
                    driver.execute_cdp_cmd(
                        "ServiceWorker.deliverPushMessage",
                        {"origin": base, "registrationId": str(registration_id), "data": json.dumps(pushed)},
                    )
                except Exception:
                    continue
            return driver.execute_async_script(
                "const done = arguments[0]; navigator.serviceWorker.ready.then(r => r.getNotifications())"
                ".then(ns => done(ns.map(n => [n.title, n.body, n.tag, n.data.url])))"
            )

        shown = WebDriverWait(browser, 20, poll_frequency=1).until(delivered)
    assert shown == [[SHOP, ASKED, "c1", pushed["url"]]]


@pytest.mark.slow  # the app's start and the owner's sign-in (argon2): about 4 s
def test_both_ways_the_phone_gets_it_when_the_bot_is_unreachable(
    data_dir: Path, clock: Clock, push: push_service.PushService
) -> None:
    from .helpers import free_port

    nobody = f"http://127.0.0.1:{free_port()}"  # the bot's server down: nothing listens there
    with _app(data_dir, clock, alerts_via="both", bot_platform="telegram", bot_token="1:x", bot_api_base=nobody) as c:
        _owner(c, clock)
        _subscribe(c, push.device())
        with c.app.state.services.store.write() as db:
            write_meta(db, telegram.OWNER_CHAT_KEY, "1302")
        _start_reading(c)
        _hand_over(c)
        (delivered,) = _turn(c)
        assert delivered.bot is False and delivered.push is not None and delivered.push.delivered == 1
    assert len(push.wait_for(1)) == 1


@pytest.mark.slow  # the app's start, the owner's sign-in and 200 conversations: about 8 s
def test_a_new_hand_over_is_told_behind_two_hundred_waiting(
    data_dir: Path, clock: Clock, push: push_service.PushService
) -> None:
    """The inbox shows the first 200 waiting; the alerts read them all (a pile of unanswered
    e-mails once hid every new hand-over from the owner's phone)."""
    with _app(data_dir, clock, alert_waiting_minutes=0) as c:
        _owner(c, clock)
        _subscribe(c, push.device())
        conversations = c.app.state.services.chat.conversations
        for n in range(201):
            cid = conversations.start(lang="fa", channel=Channel.EMAIL, channel_ref=f"<spam{n}@example.com>")
            mid, _ = conversations.add_customer_message(cid, f"پیشنهاد ویژه {n}")
            conversations.record_turn(cid, mid, Decision("escalate", "no_match", "fa", "x"), Reply("…", "t"), 1.0)
        _start_reading(c)
        clock.now += timedelta(minutes=1)
        conv = _hand_over(c)
        delivered = _turn(c)
    assert len(delivered) == 1 and delivered[0].push is not None and delivered[0].push.delivered == 1
    got = push.wait_for(1)
    assert ASKED in got[0].payload["body"] and got[0].payload["tag"] == conv
