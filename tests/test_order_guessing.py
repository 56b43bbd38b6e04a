"""Issue #32's target: nothing about an order is revealed without verification, also under 1,000
guessed order numbers from one network (a new visitor and conversation per guess, the addresses
rotated inside one IPv6 /64): every guess is refused, at most sixty a day reach the shop's order
system, the refusals are in the audit log, and the owner is warned on the Orders page and at home.
A customer on another network proves their own order meanwhile and is told its status.

The guesses go through the real app (make_api_client, start_chat, send) for the first and the
last ones; the bulk between them goes to the chat's order desk directly (OrderDesk.take, the same
call the chat service makes), because a thousand chat round trips take minutes: the limits are
counted from the audit log in the database either way."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from litestar.testing import TestClient

from appliance import i18n
from appliance.orders import store as orders
from appliance.owner import account as owner
from appliance.web import visitors

from .helpers import Clock, QuietHandler, make_api_client, password_hash, reply_of, send, sign_in, start_chat

GUESSES = 1000
FIRST = 100_000  # the guessed numbers: FIRST, FIRST + 1, ...
# Real orders at some of the guessed numbers: what a guess must never learn.
REAL = {
    FIRST + 7: {"state": "shipped", "placed": "2026-11-29", "sent": "2026-12-03", "code": "TRK55550001",
                "mobile": "09121234567", "email": "maryam@example.com"},
    FIRST + 250: {"state": "processing", "placed": "2026-12-04", "sent": "", "code": "",
                  "mobile": "09357654321", "email": "reza@example.ir"},
    FIRST + 999: {"state": "completed", "placed": "2026-10-02", "sent": "2026-10-05", "code": "TRK55550999",
                  "mobile": "09191112233", "email": "neda@example.com"},
}  # fmt: skip
CUSTOMERS_ORDER = "777001"  # not among the guesses: a customer's own, proved from another network
REAL[int(CUSTOMERS_ORDER)] = {
    "state": "shipped", "placed": "2026-12-02", "sent": "2026-12-06", "code": "TRK77700100",
    "mobile": "09126660001", "email": "leila@example.com",
}  # fmt: skip
MAPPING = {
    "number": "data.id", "status": "data.state", "created": "data.placed", "shipped": "data.sent",
    "tracking_code": "shipment.code", "phone": "customer.mobile", "email": "customer.email",
}  # fmt: skip
# What no refused guess may say: a status in words, a tracking code, a day of a real order.
TOLD = ("ارسال شد", "آماده", "TRK", "sent on", "being prepared", "tracking", "رهگیری", "آذر", "مهر", "December")
ATTACKER = "2001:db8:a:b::{}"  # one /64, a new address per guess
CUSTOMER = "198.51.100.7"


@pytest.fixture
def shop_address() -> Iterator[tuple[str, list[str], list[float]]]:
    """The shop's JSON address on loopback: the real orders, a 404 for any other number; every
    path asked, to count what reached the shop's system; how long it takes to answer (settable)."""
    asked: list[str] = []
    delay = [0.0]

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            time.sleep(delay[0])
            number = self.path.rsplit("/", 1)[-1]
            order = REAL.get(int(number)) if number.isdigit() else None
            if order is None:
                self._send(404, "application/json", b'{"error": "not found"}')
                return
            body = {
                "data": {"id": number, "state": order["state"], "placed": order["placed"], "sent": order["sent"]},
                "customer": {"mobile": order["mobile"], "email": order["email"]},
                "shipment": {"code": order["code"]},
            }
            self._send(200, "application/json", json.dumps(body).encode())

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", asked, delay
    server.shutdown()
    server.server_close()


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 12, 7, 9, 0, tzinfo=UTC))


def _shop(data_dir: Path, demo_db: Path, clock: Clock, base: str) -> TestClient:
    # The chat's own rate limits (messages a minute, conversations a day per address) would stop
    # this attack sooner; they are raised so that the desk's limit is what is tested.
    return make_api_client(
        data_dir, demo_db, clock, orders_source="json", orders_url=f"{base}/orders/{{order}}",
        orders_json_mapping=json.dumps(MAPPING), public_url=base, fetch_private_addresses=True,
        trusted_proxies=("testclient",), visitor_messages_per_minute=10_000, ip_messages_per_minute=10_000,
        ip_conversations_per_day=10_000,
    )  # fmt: skip


def _guess(i: int) -> str:
    number = i18n.digits(str(FIRST + i), "fa") if i % 2 else str(FIRST + i)
    return f"سفارش {number} کجاست؟ چهار رقم آخر موبایلم ۰۰۰۰"


def _api_guess(c: TestClient, i: int) -> dict:
    """One guess through the app, from a new address of the attacker's /64 and a new visitor."""
    c.headers["x-forwarded-for"] = ATTACKER.format(i + 1)
    conv, token, _ = start_chat(c, "fa")
    r = send(c, conv, token, _guess(i))
    assert r.status_code == 200, r.text
    return reply_of(r.text)


def _customer(c: TestClient) -> dict:
    c.headers["x-forwarded-for"] = CUSTOMER
    conv, token, _ = start_chat(c, "fa")
    r = send(c, conv, token, f"سلام، سفارش {i18n.digits(CUSTOMERS_ORDER, 'fa')} کجاست؟ چهار رقم آخر ۰۰۰۱")
    assert r.status_code == 200, r.text
    return reply_of(r.text)


def _outcomes(c: TestClient) -> dict[str, int]:
    rows = c.app.state.services.store.read().execute("SELECT outcome, COUNT(*) FROM order_lookups GROUP BY outcome")
    return dict(rows.fetchall())


@pytest.mark.slow
def test_a_thousand_guesses_from_one_network_are_refused_and_the_owner_sees_it(
    data_dir: Path, demo_db: Path, clock: Clock, shop_address: tuple[str, list[str], list[float]]
) -> None:
    base, asked, _ = shop_address
    with _shop(data_dir, demo_db, clock, base) as c:
        services = c.app.state.services
        # The network the app counts for the attacker: its /64, as a keyed hash (never the address).
        network = visitors.ip_hash(services.secret, visitors.network(ATTACKER.format(1)))
        api_first, api_last = 40, 40

        # The first forty through the app: twenty failures an hour reach the shop, then refusals.
        first = [_api_guess(c, i) for i in range(api_first)]
        assert [r["reason"] for r in first] == ["order_no_match"] * 20 + ["order_limited"] * 20
        assert all(r["handoff"] for r in first[20:]) and len(asked) == 20
        # Meanwhile a customer on another network proves their own order and is told its status.
        told = _customer(c)
        assert told["reason"] == "order_status" and "TRK77700100" in told["text"] and "۱۵ آذر" in told["text"]

        # The bulk, spread over the next day (a guess every 85 s), straight to the order desk.
        desk = services.chat.desk
        step = timedelta(seconds=85)
        bulk = range(api_first, GUESSES - api_last)
        texts = []

        async def guess_all() -> None:
            for i in bulk:
                clock.now += step
                conv = services.chat.conversations.start(lang="fa")
                taken = await desk.take(conv, _guess(i), network=network)
                assert taken is not None
                decision, reply = taken
                texts.append((decision.reason, reply.text))

        asyncio.run(guess_all())
        assert {reason for reason, _ in texts} == {"order_no_match", "order_limited"}

        # The last forty through the app again, from new addresses of the same /64.
        last = [_api_guess(c, i) for i in range(GUESSES - api_last, GUESSES)]
        assert [r["reason"] for r in last] == ["order_limited"] * api_last

        # Nothing about any order was said to a guess; at most sixty a day reached the shop.
        said = [r["text"] for r in first + last] + [text for _, text in texts]
        assert len(said) == GUESSES
        assert not [text for text in said if any(word in text for word in TOLD)]
        assert not [text for text in said if any(o["mobile"][-4:] in text for o in REAL.values())]
        assert len(asked) <= orders.NETWORK_FAILED_PER_DAY + 1  # the customer's own lookup is the +1
        assert asked.count(f"/orders/{CUSTOMERS_ORDER}") == 1
        # Every guess is in the audit log: the ones that reached the shop, the refused ones.
        outcomes = _outcomes(c)
        assert outcomes.get("found") == 1  # the customer's
        failed = outcomes.get("not_found", 0) + outcomes.get("wrong_proof", 0)
        assert failed == len(asked) - 1 and outcomes["limited"] == GUESSES - failed
        assert outcomes.get("wrong_proof") == sum(1 for p in asked if int(p.rsplit("/", 1)[-1]) in REAL) - 1

        # The customer, a day into the attack, still gets their status.
        again = _customer(c)
        assert again["reason"] == "order_status" and "TRK77700100" in again["text"]

        # The owner sees it: the warning on the Orders page and at home, the refusals in the log.
        owner.set_password(services.store, password_hash(), clock)
        sign_in(c)
        page = c.get("/admin/orders?lang=en").text
        assert "orders-guessing" in page and "guessing order numbers" in page
        home = c.get("/admin/?lang=fa").text
        assert "orders-guessing" in home and "/admin/orders#orders-log" in home
        assert orders.guessing(services.store.read(), since=(clock() - timedelta(days=1)).isoformat())[0].network == (
            network
        )


@pytest.mark.slow
def test_guesses_sent_all_at_once_get_no_more_through(
    data_dir: Path, demo_db: Path, clock: Clock, shop_address: tuple[str, list[str], list[float]]
) -> None:
    """Fifty guesses at the same moment, the shop slow to answer: each was checked against the
    limit before any was logged. Lookups under way count as failures: twenty reach the shop."""
    base, asked, delay = shop_address
    delay[0] = 0.3
    with _shop(data_dir, demo_db, clock, base) as c:
        services = c.app.state.services
        network = visitors.ip_hash(services.secret, visitors.network(ATTACKER.format(1)))
        convs = [services.chat.conversations.start(lang="fa") for _ in range(50)]

        async def burst() -> list:
            return await asyncio.gather(
                *(services.chat.desk.take(conv, _guess(i), network=network) for i, conv in enumerate(convs))
            )

        reasons = [taken[0].reason for taken in asyncio.run(burst())]
        assert len(asked) == orders.NETWORK_FAILED_PER_HOUR
        assert reasons.count("order_no_match") == 20 and reasons.count("order_limited") == 30
        # Nothing is left reserved: an hour later the network has its twenty again.
        clock.now += timedelta(minutes=61)
        conv = services.chat.conversations.start(lang="fa")
        later = asyncio.run(services.chat.desk.take(conv, _guess(100), network=network))
        assert later is not None and later[0].reason == "order_no_match" and len(asked) == 21
