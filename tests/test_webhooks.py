"""Webhooks: the shop's own systems get the conversations' events, signed, in order, once, from a
queue in the database (channels/webhooks.py), and the owner manages them at /admin/webhooks.

Receivers are real HTTP servers on loopback (tests/webhook_receiver.py) that check signatures
with docs/WEBHOOKS.md's own example code. Time is the test's clock: a receiver down for an hour
is an hour of that clock, with the delivery function called as the worker would."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from litestar.testing import TestClient

from appliance.app import create_app
from appliance.channels import webhook_send, webhook_store, webhooks
from appliance.conversations import events, privacy
from appliance.conversations.store import Conversations, Event
from appliance.db import Store
from appliance.owner import account as owner
from appliance.settings import Settings

from .helpers import (
    HOSTILE,
    SAME,
    Clock,
    bearer,
    customer_asks,
    free_port,
    make_api_client,
    password_hash,
    post,
    sign_in,
)
from .webhook_receiver import Receiver, docs_example


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(free_port())
    yield r
    r.stop()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with webhook_send.client() as c:
        yield c


def _until(check, timeout: float = 20.0):
    """``check()``'s first truthy value, waited for (the worker runs on the app's loop)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def _endpoint(store: Store, url: str, clock: Clock, kinds=webhook_store.KINDS) -> webhook_store.Endpoint:
    return webhook_store.add_endpoint(store, url, list(kinds), clock().isoformat())


def _statuses(store: Store) -> list[str]:
    return [d.status for d in sorted(webhook_store.deliveries(store, limit=1000), key=lambda d: d.id)]


# -- the signature, as the docs' receiver checks it -----------------------------------------------


def test_the_docs_receiver_accepts_only_a_fresh_body_signed_with_its_secret() -> None:
    verify = docs_example()["verify_signature"]
    body = webhook_send.encode({"id": 1, "type": "message.customer", "message": {"text": "سفارشم کجاست؟"}}).encode()
    assert "سفارشم".encode() in body  # Persian as it is, not \u escapes
    now = int(time.time())
    header = webhook_send.signature("راز-secret", body, now)
    assert verify("راز-secret", header, body)
    assert not verify("another secret", header, body)
    assert not verify("راز-secret", header, body.replace("کجاست".encode(), "کجا است".encode()))
    assert not verify("راز-secret", webhook_send.signature("راز-secret", body, now - 3600), body)  # replayed
    assert not verify("راز-secret", "v1=abc", body) and not verify("راز-secret", "", body)


def test_addresses_are_https_or_this_machine() -> None:
    for url in (
        "https://فروشگاه.example/هوک",
        "https://crm.example:8443/in?x=1",
        "http://127.0.0.1:9/x",
        "http://localhost/x",
    ):
        assert webhook_store.check_url(url) == url
    assert webhook_store.check_url(" https://crm.example:۸۴۴۳/هوک/۱ ") == "https://crm.example:8443/هوک/۱"
    refused = {
        "http://crm.example/hook": "wh.not_https",
        "http://192.168.1.10/hook": "wh.not_https",
        "ftp://crm.example/": "wh.bad_url",
        "https://user:pass@crm.example/": "wh.bad_url",
        "https://crm.example/a b": "wh.bad_url",
        "https://crm.example:port/": "wh.bad_url",
        "نشانی": "wh.bad_url",
        "  ": "wh.no_url",
    }
    for url, key in refused.items():
        with pytest.raises(webhook_store.WebhookError) as caught:
            webhook_store.check_url(url)
        assert caught.value.key == key, url


def test_a_redirect_is_a_failed_attempt_and_is_not_followed(receiver: Receiver, http: httpx.Client) -> None:
    elsewhere = Receiver(free_port()).start()
    try:
        receiver.answer, receiver.location = 302, elsewhere.url
        receiver.start()
        body = webhook_send.encode({"id": 1, "type": "message.customer", "message": {"text": "سلام"}})
        outcome = webhook_send.send(http, receiver.url, "secret", events.CUSTOMER_MESSAGE, 1, body)
        assert not outcome.ok and outcome.error == "redirect" and outcome.code == 302
        assert elsewhere.events() == []
        receiver.answer = 200
        assert webhook_send.send(http, receiver.url, "secret", events.CUSTOMER_MESSAGE, 1, body).ok
    finally:
        elsewhere.stop()


# -- end to end through the app -------------------------------------------------------------------


@pytest.mark.slow
def test_a_persian_question_reaches_the_shops_system_signed(data_dir: Path, demo_db: Path, receiver: Receiver) -> None:
    with make_api_client(data_dir, demo_db) as c:
        store = c.app.state.services.store
        endpoint = _endpoint(store, receiver.url, c.app.state.services.clock)
        receiver.secret = endpoint.secret
        receiver.start()
        conv, token, _ = customer_asks(c, "سفارشم کی به شیراز میرسه؟")
        got = _until(lambda: [e for e in receiver.events() if e["type"] == events.CUSTOMER_MESSAGE])
        started = [e for e in receiver.events() if e["type"] == events.STARTED]
        # The owner answers from the inbox and resolves it; the customer rates it.
        owner.set_password(store, password_hash(), c.app.state.services.clock)
        sign_in(c)
        assert post(c, f"/admin/conversations/{conv}/reply", data={"text": "فردا به دستتان می‌رسد."}).status_code == 200
        assert post(c, f"/admin/conversations/{conv}/status", data={"status": "resolved"}).status_code == 200
        rated = c.post(
            f"/api/v1/conversations/{conv}/rating", json={"satisfied": True, "comment": "ممنون!"}, headers=bearer(token)
        )
        assert rated.status_code == 200, rated.text
        kinds = _until(
            lambda: [e["type"] for e in receiver.events() if e["type"] == events.RATED] and receiver.events()
        )
        _until(lambda: webhook_store.PENDING not in _statuses(store))
        statuses = set(_statuses(store))
    assert statuses == {webhook_store.DELIVERED}
    said = {e["type"]: e for e in kinds}
    assert said[events.OWNER_MESSAGE]["message"]["text"] == "فردا به دستتان می‌رسد."
    assert said[events.RESOLVED]["conversation"]["status"] == "resolved"
    assert said[events.RATED]["rating"] == {"satisfied": True, "comment": "ممنون!"}
    order = [e["type"] for e in kinds]
    assert order.index(events.OWNER_MESSAGE) < order.index(events.RESOLVED) < order.index(events.RATED)
    assert events.BOT_MESSAGE not in order  # the bot's own answers aren't offered
    assert started and started[0]["conversation"]["id"] == conv
    message = got[0]
    assert message["message"]["text"] == "سفارشم کی به شیراز میرسه؟"
    assert message["conversation"] == {
        "id": conv,
        "channel": "widget",
        "lang": message["conversation"]["lang"],
        "status": message["conversation"]["status"],
    }
    assert message["id"] > started[0]["id"]
    first = receiver.got[0]
    assert all(g["signed"] for g in receiver.got)
    assert first["headers"]["x-appliance-event"] == events.STARTED
    assert first["headers"]["content-type"] == "application/json; charset=utf-8"
    assert "سفارشم".encode() in [g for g in receiver.got if g["json"]["type"] == events.CUSTOMER_MESSAGE][0]["raw"]


@pytest.mark.slow
def test_a_slow_receiver_never_slows_the_chat(data_dir: Path, demo_db: Path, receiver: Receiver) -> None:
    receiver.delay = 4.0  # each delivery takes it 4 s (under the 10 s limit)
    with make_api_client(data_dir, demo_db) as c:
        store = c.app.state.services.store
        receiver.secret = _endpoint(store, receiver.url, c.app.state.services.clock).secret
        receiver.start()
        customer_asks(c, "سلام")
        took = []
        for question in ("هزینهٔ ارسال به مشهد چقدره؟", "میشه کتاب رو پس بدم؟"):
            started = time.monotonic()
            customer_asks(c, question)
            took.append(time.monotonic() - started)
        arrived = len(receiver.events())
    assert max(took) < 2.0, took  # answered while the worker waits on the receiver
    assert arrived <= 1  # ... which had taken at most one of the events by then


# -- down, then up: everything, in order, once ----------------------------------------------------


def _talk(conversations: Conversations, n: int) -> list[str]:
    """``n`` customers each start a conversation and write in Persian; the first is resolved."""
    ids = []
    for i in range(n):
        conv = conversations.start(lang="fa")
        conversations.add_customer_message(conv, f"سلام، سفارش شمارهٔ {i} کجاست؟")
        ids.append(conv)
    conversations.set_status(ids[0], Event.RESOLVED)
    return ids


@pytest.mark.slow
def test_a_receiver_down_for_an_hour_gets_every_event_afterwards_in_order_once(
    store: Store, clock: Clock, receiver: Receiver, http: httpx.Client
) -> None:
    conversations = Conversations(store, clock)
    endpoint = _endpoint(store, receiver.url, clock)
    receiver.secret = endpoint.secret
    other = Receiver(free_port())  # a second system, up all along: not held back by the first
    other.start()
    try:
        other.secret = _endpoint(store, other.url, clock, kinds=[events.CUSTOMER_MESSAGE]).secret
        down_since = clock()
        _talk(conversations, 3)
        tried_at = set()
        # An hour down: a closed port for the first half, then up but answering 503.
        while clock() - down_since < timedelta(hours=1):
            if clock() - down_since >= timedelta(minutes=30) and receiver.server is None:
                receiver.answer = 503
                receiver.start()
            if clock() - down_since in (timedelta(minutes=10), timedelta(minutes=40)):
                _talk(conversations, 2)  # more happens while it is down
            webhooks.fan_out(store, conversations, clock())
            webhooks.deliver_due(store, http, clock)
            head = [h for h in webhook_store.heads(store) if h.endpoint_id == endpoint.id][0]
            tried_at.add(head.last_attempt_at)
            clock.now += timedelta(seconds=10)
        assert len(other.events()) == 7  # the other system got its messages as they came
        assert head.status == webhook_store.PENDING and head.error == "status" and head.response_code == 503
        times = sorted(datetime.fromisoformat(t) for t in tried_at if t)
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        assert gaps[0] < timedelta(minutes=1) and max(gaps) <= timedelta(minutes=10, seconds=10)
        assert receiver.events() == []

        receiver.answer = 200
        up_at = clock()
        while webhook_store.PENDING in _statuses(store):
            webhooks.deliver_due(store, http, clock)
            clock.now += timedelta(seconds=10)
            assert clock() - up_at <= timedelta(minutes=10, seconds=10), "not caught up within ten minutes"
    finally:
        other.stop()

    got = receiver.events()
    rows = store.read().execute("SELECT id FROM events ORDER BY id").fetchall()
    expected = [r[0] for r in rows if events.get(store, r[0]).kind in webhook_store.KINDS]  # type: ignore[union-attr]
    assert [e["id"] for e in got] == expected  # every event, in order, once
    assert [e["type"] for e in got].count(events.CUSTOMER_MESSAGE) == 7
    assert events.RESOLVED in [e["type"] for e in got]
    assert all(g["signed"] for g in receiver.got)
    assert set(_statuses(store)) == {webhook_store.DELIVERED}


@pytest.mark.slow
def test_a_restart_delivers_what_was_pending(data_dir: Path, demo_db: Path, clock: Clock, receiver: Receiver) -> None:
    with make_api_client(data_dir, demo_db, clock=clock) as c:
        store = c.app.state.services.store
        endpoint = _endpoint(store, receiver.url, clock)
        receiver.secret = endpoint.secret
        conv, _, _ = customer_asks(c, "ساعت کاری فروشگاه چنده؟")
        # The worker queued them and tried the first: nobody listening.
        _until(lambda: any(d.attempts for d in webhook_store.deliveries(store)))
        assert webhook_store.DELIVERED not in _statuses(store)
    receiver.start()
    clock.now += timedelta(minutes=1)
    settings = Settings(
        data_dir=data_dir, model="none", shop_name="Book Nook", allowed_origins=("https://shop.example",)
    )
    with TestClient(create_app(settings, clock=clock)) as c:
        store = c.app.state.services.store
        _until(lambda: webhook_store.PENDING not in _statuses(store))
        assert set(_statuses(store)) == {webhook_store.DELIVERED}
    got = receiver.events()
    assert [e["type"] for e in got][:2] == [events.STARTED, events.CUSTOMER_MESSAGE]
    assert got[1]["message"]["text"] == "ساعت کاری فروشگاه چنده؟" and got[1]["conversation"]["id"] == conv
    assert len({e["id"] for e in got}) == len(got)


# -- a day of failures, and the owner's retry -------------------------------------------------------


@pytest.fixture
def owner_app(data_dir: Path, clock: Clock) -> Iterator[TestClient]:
    """The app with a signed-in owner and no channel worker: the test sends deliveries itself."""
    settings = Settings(data_dir=data_dir, model="none", shop_name="Book Nook")
    with TestClient(create_app(settings, clock=clock, with_channels=False)) as c:
        owner.set_password(c.app.state.services.store, password_hash(), clock)
        sign_in(c)
        yield c


@pytest.mark.slow
def test_a_delivery_failing_for_a_day_is_marked_failed_the_queue_goes_on_and_retry_works(
    owner_app: TestClient, clock: Clock, receiver: Receiver, http: httpx.Client
) -> None:
    store = owner_app.app.state.services.store
    conversations = Conversations(store, clock)
    endpoint = _endpoint(store, receiver.url, clock)
    receiver.secret = endpoint.secret
    receiver.answer, receiver.reply = 500, HOSTILE.encode()
    receiver.start()
    conv = conversations.start(lang="fa")
    conversations.add_customer_message(conv, "کتاب بوف کور موجوده؟")
    webhooks.fan_out(store, conversations, clock())
    start = clock()
    while clock() - start <= timedelta(hours=24, minutes=10):
        webhooks.deliver_due(store, http, clock)
        clock.now += timedelta(minutes=5)
    first, second = sorted(webhook_store.deliveries(store), key=lambda d: d.id)
    assert first.status == webhook_store.FAILED and first.response_code == 500
    assert 24 * 6 <= first.attempts <= 24 * 6 + 12  # every 10 minutes or sooner, for the whole day
    assert second.status == webhook_store.FAILED  # queued at the same moment: its day is over too

    sign_in(owner_app)  # a day later: the session has ended
    page = owner_app.get("/admin/webhooks?lang=fa")
    assert page.status_code == 200
    assert "ناموفق" in page.text and "پاسخ ۵۰۰" in page.text and "ارسال دوباره" in page.text
    assert HOSTILE not in page.text and "&lt;script&gt;" in page.text  # the receiver's answer, escaped

    receiver.answer = 200
    conversations.add_customer_message(conv, "و شازده کوچولو؟")  # a newer event: not held back
    webhooks.fan_out(store, conversations, clock())
    webhooks.deliver_due(store, http, clock)
    assert [e["message"]["text"] for e in receiver.events()] == ["و شازده کوچولو؟"]

    assert post(owner_app, f"/admin/webhooks/deliveries/{first.id}/retry").status_code == 200
    webhooks.deliver_due(store, http, clock)
    assert webhook_store.get_delivery(store, first.id).status == webhook_store.DELIVERED  # type: ignore[union-attr]
    assert receiver.events()[-1]["type"] == events.STARTED
    assert post(owner_app, f"/admin/webhooks/deliveries/{first.id}/retry").status_code == 404  # not failed now


# -- the admin page -----------------------------------------------------------------------------------


def test_the_page_adds_an_endpoint_with_csrf_and_refuses_plain_http(owner_app: TestClient) -> None:
    store = owner_app.app.state.services.store
    form = {"url": "https://فروشگاه.example/هوک", f"on_{events.CUSTOMER_MESSAGE}": "on"}
    forged = owner_app.post("/admin/webhooks/new", data=form, headers=SAME)
    assert forged.status_code == 403 and webhook_store.endpoints(store) == []

    refused = post(owner_app, "/admin/webhooks/new?lang=fa", data={**form, "url": "http://crm.example/hook"})
    assert refused.status_code == 422 and "فقط نشانی‌های https" in refused.text
    assert 'value="http://crm.example/hook"' in refused.text  # what was typed stays in the box
    none_picked = post(owner_app, "/admin/webhooks/new", data={"url": form["url"]})
    assert none_picked.status_code == 422 and webhook_store.endpoints(store) == []

    added = post(owner_app, "/admin/webhooks/new", data=form)
    assert added.status_code == 200 and added.headers["hx-redirect"] == "/admin/webhooks"
    (endpoint,) = webhook_store.endpoints(store)
    assert endpoint.url == form["url"] and endpoint.kinds == (events.CUSTOMER_MESSAGE,)
    assert len(endpoint.secret) >= 40
    page = owner_app.get("/admin/webhooks?lang=fa")
    assert endpoint.secret in page.text and "فروشگاه.example" in page.text and 'dir="rtl"' in page.text
    assert "پیام مشتری" in page.text and "رسیده: ۰" in page.text

    picked = {f"on_{events.STARTED}": "on", f"on_{events.RESOLVED}": "on"}
    assert post(owner_app, f"/admin/webhooks/{endpoint.id}/events", data=picked).status_code == 200
    assert webhook_store.get_endpoint(store, endpoint.id).kinds == (events.STARTED, events.RESOLVED)  # type: ignore[union-attr]
    assert post(owner_app, f"/admin/webhooks/{endpoint.id}/enabled", data={"on": "0"}).status_code == 200
    assert not webhook_store.get_endpoint(store, endpoint.id).enabled  # type: ignore[union-attr]

    for n in range(webhook_store.MAX_ENDPOINTS - 1):
        post(owner_app, "/admin/webhooks/new", data={**form, "url": f"https://crm{n}.example/"})
    too_many = post(owner_app, "/admin/webhooks/new?lang=en", data={**form, "url": "https://one-more.example/"})
    assert too_many.status_code == 422 and "At most 10 addresses" in too_many.text
    assert post(owner_app, f"/admin/webhooks/{endpoint.id}/delete").status_code == 200
    assert webhook_store.get_endpoint(store, endpoint.id) is None
    assert post(owner_app, f"/admin/webhooks/{endpoint.id}/delete").status_code == 404


def test_the_test_event_says_what_the_receiver_answered(owner_app: TestClient, receiver: Receiver) -> None:
    store = owner_app.app.state.services.store
    post(owner_app, "/admin/webhooks/new", data={"url": receiver.url, f"on_{events.RATED}": "on"})
    (endpoint,) = webhook_store.endpoints(store)
    receiver.secret = endpoint.secret
    receiver.start()
    arrived = post(owner_app, f"/admin/webhooks/{endpoint.id}/test?lang=fa")
    assert arrived.status_code == 200 and "رویداد آزمایشی رسید" in arrived.text and "۲۰۴" in arrived.text
    (ping,) = receiver.got
    assert ping["signed"] and ping["json"]["type"] == "ping" and ping["headers"]["x-appliance-event"] == "ping"

    receiver.stop()
    failed = post(owner_app, f"/admin/webhooks/{endpoint.id}/test?lang=en")
    assert "did not arrive" in failed.text and "connection refused" in failed.text
    log = owner_app.get("/admin/webhooks?lang=en").text
    assert log.count("Test event") >= 2 and "delivered" in log and "failed" in log
    reloaded = owner_app.get(
        "/admin/webhooks", headers={"hx-request": "true", "hx-current-url": "/admin/webhooks?lang=fa"}
    )
    assert (
        reloaded.text.lstrip().startswith('<section class="card mb-3" id="webhook-log"')
        and "<html" not in reloaded.text
    )
    assert "رویداد آزمایشی" in reloaded.text and "ناموفق" in reloaded.text  # the log reloads itself, in Persian
    assert not any(d.status == webhook_store.PENDING for d in webhook_store.deliveries(store))  # never queued


@pytest.mark.slow
def test_the_docs_own_receiver_takes_a_signed_test_event_and_refuses_a_wrong_secret(
    owner_app: TestClient,
) -> None:
    example = docs_example()
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), example["Receiver"])
    example["Receiver"].log_message = lambda *a: None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        store = owner_app.app.state.services.store
        post(owner_app, "/admin/webhooks/new", data={"url": f"http://127.0.0.1:{port}/", f"on_{events.RATED}": "on"})
        (endpoint,) = webhook_store.endpoints(store)
        example["SECRET"] = "not the secret"
        refused = post(owner_app, f"/admin/webhooks/{endpoint.id}/test?lang=en")
        assert "did not arrive" in refused.text and "answer 401" in refused.text
        example["SECRET"] = endpoint.secret
        ok = post(owner_app, f"/admin/webhooks/{endpoint.id}/test?lang=en")
        assert "The test event arrived" in ok.text and "204" in ok.text
    finally:
        server.shutdown()
        server.server_close()


# -- erasing --------------------------------------------------------------------------------------


def test_erasing_a_conversation_takes_its_waiting_deliveries_with_it(
    store: Store, clock: Clock, receiver: Receiver, http: httpx.Client
) -> None:
    conversations = Conversations(store, clock)
    endpoint = _endpoint(store, receiver.url, clock)
    receiver.secret = endpoint.secret
    erased, kept = _talk(conversations, 2)
    webhooks.fan_out(store, conversations, clock())
    webhooks.deliver_due(store, http, clock)  # refused: all wait
    assert len(webhook_store.deliveries(store)) == 5  # started x2, message x2, resolved

    privacy.erase_customer(store, [erased])
    left = webhook_store.deliveries(store)
    assert len(left) == 2 and all(erased not in d.body for d in left)
    receiver.start()
    clock.now += timedelta(minutes=1)
    webhooks.deliver_due(store, http, clock)
    assert [e["conversation"]["id"] for e in receiver.events()] == [kept, kept]
    events.prune(store, clock() + timedelta(days=events.KEEP_DAYS, minutes=1))  # the retention job
    assert webhook_store.deliveries(store) == []


def test_with_no_endpoint_nothing_is_written_and_a_new_one_gets_no_history(
    store: Store, clock: Clock, receiver: Receiver, http: httpx.Client
) -> None:
    conversations = Conversations(store, clock)
    _talk(conversations, 2)
    assert webhooks.fan_out(store, conversations, clock()) == 0
    assert events.place(store.read(), webhooks.READER) == 0  # not even the reader's place
    receiver.secret = _endpoint(store, receiver.url, clock).secret
    receiver.start()
    assert webhooks.fan_out(store, conversations, clock()) == 0  # what came before it: not for it
    (later,) = _talk(conversations, 1)
    assert webhooks.fan_out(store, conversations, clock()) == 3
    webhooks.deliver_due(store, http, clock)
    assert {e["conversation"]["id"] for e in receiver.events()} == {later}


def test_what_happens_while_an_address_is_off_is_never_sent(
    store: Store, clock: Clock, receiver: Receiver, http: httpx.Client
) -> None:
    """The owner turns an address off to stop what goes there: on again, it gets what happens
    from then on, whether or not another address was on meanwhile."""
    conversations = Conversations(store, clock)
    receiver.secret = _endpoint(store, receiver.url, clock).secret
    receiver.start()
    (endpoint,) = webhook_store.endpoints(store)
    webhook_store.set_enabled(store, endpoint.id, False, clock().isoformat())
    _talk(conversations, 2)  # while it is off
    assert webhooks.fan_out(store, conversations, clock()) == 0
    webhook_store.set_enabled(store, endpoint.id, True, clock().isoformat())
    assert webhooks.fan_out(store, conversations, clock()) == 0
    (later,) = _talk(conversations, 1)
    assert webhooks.fan_out(store, conversations, clock()) == 3
    webhooks.deliver_due(store, http, clock)
    assert {e["conversation"]["id"] for e in receiver.events()} == {later}
