"""The Orders page (issue #32, the owner's side), through the real app: where orders come from
(none, WooCommerce, a JSON address, a spreadsheet) saved through the settings machinery with
each refusal under its field and the secret never shown back; "test the connection" against a
real JSON address on loopback, a closed port and a key the address refuses; the spreadsheet
uploaded, its columns mapped once and remembered; the audit log; CSRF; and the inbox's card of
a conversation that asked about an order."""

from __future__ import annotations

import asyncio
import base64
import html as html_mod
import json
import re
import threading
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from litestar.testing import TestClient

from appliance.conversations.order_desk import OrderDesk, SheetOrders
from appliance.orders import store as orders
from appliance.orders.order import Order

from .helpers import HOSTILE, SAME, QuietHandler, csrf, free_port, post, sign_in

KEY, SECRET = "ck_0a1b2c3d4e5f", "cs_9f8e7d6c5b4a3210"
# An order as the shop's JSON address answers it: the fields under their own paths.
ANSWER = {
    "data": {
        "id": 1042,
        "state": "shipped",
        "placed": "2026-11-28",
        "sent": "2026-12-01",
        "total": "1,250,000",
        "address": "تهران، خیابان انقلاب، پلاک ۱۲",
    },
    "shipment": {"company": "پست پیشتاز", "code": "PT-7788-1234", "link": "https://tracking.post.ir/?id=PT-7788-1234"},
    "customer": {"mobile": "09121234567", "mail": "sara@example.com"},
}
MAPPING = {
    "status": "data.state",
    "created": "data.placed",
    "shipped": "data.sent",
    "carrier": "shipment.company",
    "tracking_code": "shipment.code",
    "tracking_url": "shipment.link",
    "phone": "customer.mobile",
    "email": "customer.mail",
}
# What a page may never hold: the order's private fields.
PRIVATE = ("09121234567", "1234567", "sara@example.com", "انقلاب", "1,250,000")


class Shop(ThreadingHTTPServer):
    """The shop's order address: /api/orders/<n> with HTTP Basic, as a small shop's API answers."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Orders)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Orders(QuietHandler):
    def do_GET(self) -> None:
        expected = "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
        if self.headers.get("authorization") != expected:
            self._send(401, "application/json", b'{"error": "unauthorized"}')
        elif self.path == "/api/orders/1042":
            self._send(200, "application/json", json.dumps(ANSWER, ensure_ascii=False).encode())
        else:
            self._send(404, "application/json", b'{"error": "not found"}')


@pytest.fixture
def shop() -> Iterator[Shop]:
    server = Shop()
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def owner(admin: TestClient) -> TestClient:
    sign_in(admin)
    return admin


def _saved(data_dir: Path) -> dict:
    path = data_dir / "settings.toml"
    return tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _json_form(origin: str, **extra: object) -> dict:
    return {
        "source": "json",
        "orders_url": f"{origin}/api/orders/{{order}}",
        "orders_key": KEY,
        "orders_secret": SECRET,
        **{f"map_{k}": v for k, v in MAPPING.items()},
        "handover": ["on-hold", "failed"],
        "handover_shown": "1",
        **extra,
    }


def _on_loopback(c: TestClient, origin: str) -> None:
    """The shop's site is this loopback server (its own site, private addresses allowed), as an
    owner whose shop runs beside the appliance would set it."""
    services = c.app.state.services
    services.apply_settings(
        services.settings.replace(public_url=origin, allowed_origins=(origin,), fetch_private_addresses=True)
    )


def _text(html: str) -> str:
    """The page's words, tags and bidi isolates left out."""
    return (
        html_mod.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))
        .replace("\u2068", "")
        .replace("\u2069", "")
    )


# -- the page and saving ---------------------------------------------------------------------------


def test_the_page_in_both_languages_in_words_and_in_the_navigation(owner: TestClient) -> None:
    fa = owner.get("/admin/orders?lang=fa")
    assert fa.status_code == 200 and 'dir="rtl"' in fa.text
    assert "سفارش‌ها" in fa.text and "منبع سفارش‌ها" in fa.text and "ووکامرس" in fa.text
    assert "هنوز سفارشی جستجو نشده" in fa.text  # the audit log, empty
    assert 'href="/admin/orders" aria-current="page"' in fa.text  # the side navigation and the phone's menu
    assert fa.text.count('href="/admin/orders"') == 2
    en = owner.get("/admin/orders?lang=en")
    words = _text(en.text)
    assert "Where orders come from" in words and "A JSON address" in words and "A spreadsheet of orders" in words
    assert "ord." not in words and "set.orders" not in words  # no msgid shown as text
    # no source yet: no fields, no test
    assert 'name="orders_url"' not in en.text and "Test the connection" not in words
    # another page's navigation has the entry too, not current
    home = owner.get("/admin/?lang=en").text
    assert 'href="/admin/orders"' in home and 'href="/admin/orders" aria-current' not in home


def test_picking_a_source_shows_its_fields_in_words_without_saving(owner: TestClient, data_dir: Path) -> None:
    r = post(owner, "/admin/orders/switch?lang=en", data={"source": "woocommerce"})
    assert r.status_code == 200 and r.text.lstrip().startswith('<div id="orders-form">')  # the form alone
    words = _text(r.text)
    assert "Consumer key" in words and "Consumer secret" in words
    assert "WooCommerce → Settings → Advanced → REST API → Add key" in words and "“Read”" in words
    r = post(owner, "/admin/orders/switch?lang=fa", data={"source": "json"})
    assert "جای هر مورد در پاسخ" in r.text and 'name="map_tracking_code"' in r.text and "{order}" in r.text
    r = post(owner, "/admin/orders/switch?lang=en", data={"source": "sheet"})
    assert "Fetch it every how many hours" in _text(r.text) and 'action="/admin/orders/sheet"' not in r.text
    assert 'hx-post="/admin/orders/sheet"' in r.text and 'type="file"' in r.text
    assert _saved(data_dir) == {}  # nothing saved by a switch


def test_saving_woocommerce_keeps_the_secret_unseen_and_an_empty_box_keeps_it(
    owner: TestClient, data_dir: Path
) -> None:
    form = {
        "source": "woocommerce",
        "orders_url": "https://shop.example",
        "orders_key": KEY,
        "orders_secret": SECRET,
        "handover": ["on-hold", "failed", "pending"],
        "handover_other": "در انتظار تأیید، ارسال به انبار",
        "handover_shown": "1",
    }
    r = post(owner, "/admin/orders?lang=fa", data=form)
    assert r.status_code == 200 and "ذخیره شد" in json.loads(r.headers["hx-trigger"])["appliance:toast"]["text"]
    saved = _saved(data_dir)
    assert saved["orders_source"] == "woocommerce" and saved["orders_url"] == "https://shop.example"
    assert saved["orders_key"] == KEY and saved["orders_secret"] == SECRET
    assert saved["orders_handover_statuses"] == ["pending", "on-hold", "failed", "در انتظار تأیید", "ارسال به انبار"]
    assert owner.app.state.services.settings.orders_source == "woocommerce"  # applied at once
    for page in (r.text, owner.get("/admin/orders?lang=fa").text, owner.get("/admin/orders?lang=en").text):
        assert KEY not in page and SECRET not in page
    page = owner.get("/admin/orders?lang=fa").text
    assert "ذخیره شده" in page  # a key is saved, said without it
    assert 'value="در انتظار تأیید، ارسال به انبار"' in page  # the shop's own statuses, as typed
    assert re.search(r'id="orders-handover-pending" name="handover" value="pending" checked', page)
    # saved again with the secret boxes left empty: the key and secret stay
    post(owner, "/admin/orders", data={**form, "orders_key": "", "orders_secret": ""})
    assert _saved(data_dir)["orders_key"] == KEY and _saved(data_dir)["orders_secret"] == SECRET


def test_saving_a_json_address_with_persian_typed_everywhere(owner: TestClient, data_dir: Path) -> None:
    form = _json_form(
        "https://shop.example",
        map_status="داده.وضعیت",
        map_tracking_code="ارسال.کد_رهگیری",
        map_carrier="ارسال.شرکت",
        handover_other="مرجوعی",
    )
    r = post(owner, "/admin/orders?lang=fa", data=form)
    assert r.status_code == 200, _text(r.text)
    saved = _saved(data_dir)
    assert saved["orders_url"] == "https://shop.example/api/orders/{order}"
    mapping = json.loads(saved["orders_json_mapping"])
    assert mapping["status"] == "داده.وضعیت" and mapping["tracking_code"] == "ارسال.کد_رهگیری"
    assert mapping["phone"] == "customer.mobile" and mapping["email"] == "customer.mail"
    assert saved["orders_handover_statuses"] == ["on-hold", "failed", "مرجوعی"]
    page = owner.get("/admin/orders?lang=fa").text
    assert 'value="داده.وضعیت"' in page and 'value="ارسال.کد_رهگیری"' in page  # shown back as saved


def test_the_statuses_that_come_to_the_owner_stay_as_saved_until_changed(owner: TestClient, data_dir: Path) -> None:
    """Picking a source from "none" shows the saved statuses ticked (on-hold and failed by
    default), and a form without the boxes (none chosen) leaves them as they are; all unticked
    is none."""
    shown = post(owner, "/admin/orders/switch?lang=en", data={"source": "sheet"}).text
    assert re.search(r'value="on-hold" checked', shown) and re.search(r'value="failed" checked', shown)
    assert not re.search(r'value="pending" checked', shown)
    post(owner, "/admin/orders", data={"source": "sheet", "orders_sheet_hours": "6"})
    assert "orders_handover_statuses" not in _saved(data_dir)  # the default, untouched
    post(owner, "/admin/orders", data={"source": "sheet", "orders_sheet_hours": "6", "handover_shown": "1"})
    assert _saved(data_dir)["orders_handover_statuses"] == []
    assert owner.app.state.services.settings.orders_handover_statuses == ()


def test_saving_a_spreadsheet_source_with_persian_digits(owner: TestClient, data_dir: Path) -> None:
    r = post(
        owner,
        "/admin/orders?lang=fa",
        data={"source": "sheet", "orders_url": "https://shop.example/orders.csv", "orders_sheet_hours": "۱۲"},
    )
    assert r.status_code == 200, _text(r.text)
    saved = _saved(data_dir)
    assert saved["orders_source"] == "sheet" and saved["orders_sheet_hours"] == 12
    assert "https://shop.example/orders.csv" in r.text and "Fetch now" not in r.text  # fa: «همین حالا بخوان»
    # none: the bot doesn't look orders up; the other fields are kept for the next time
    r = post(owner, "/admin/orders", data={"source": ""})
    assert r.status_code == 200 and _saved(data_dir)["orders_source"] == ""
    assert _saved(data_dir)["orders_url"] == "https://shop.example/orders.csv"


@pytest.mark.parametrize(
    ("form", "field", "says"),
    [
        ({"source": "woocommerce", "orders_url": "آدرس فروشگاه من"}, "orders_url", "is not a web address"),
        ({"source": "woocommerce", "orders_url": ""}, "orders_url", "This source needs its address."),
        ({"source": "json", "orders_url": "https://shop.example/api/orders"}, "orders_url", "Write {order} in"),
        ({"source": "json", "orders_url": "ftp://shop.example/{order}"}, "orders_url", "is not a web address"),
        (
            {"source": "json", "orders_url": "https://shop.example/{order}", "map_status": "وضعیت سفارش"},
            "orders_json_mapping",
            "dotted path",
        ),
        ({"source": "sheet", "orders_sheet_hours": "دوازده"}, "orders_sheet_hours", "write a whole number"),
        (
            {
                "source": "woocommerce",
                "orders_url": "https://shop.example",
                "orders_key": "ذن_۱۲۳",
                "orders_secret": "cs_1",
            },
            "orders_key",
            "Latin letters",
        ),
        (
            {"source": "json", "orders_url": "https://shop.example/{order}", "orders_secret": "my secret"},
            "orders_secret",
            "Latin letters",
        ),
    ],
)
def test_bad_values_are_refused_under_their_field_and_nothing_is_saved(
    owner: TestClient, data_dir: Path, form: dict, field: str, says: str
) -> None:
    r = post(owner, "/admin/orders?lang=en", data=form)
    assert r.status_code == 422
    toast = json.loads(r.headers["hx-trigger"])["appliance:toast"]
    assert toast["kind"] == "danger" and "Not saved" in toast["text"]
    error = re.search(rf'id="orders-{field}-error" role="alert" dir="auto">([^<]*)<', r.text)
    assert error and says in html_mod.unescape(error[1]), error
    assert "ذن_۱۲۳" not in r.text and "my secret" not in r.text
    assert 'aria-invalid="true"' in r.text
    assert _saved(data_dir) == {}
    for name, typed in form.items():  # what was typed is shown again, Persian included (never a secret)
        if name not in ("source", "orders_key", "orders_secret") and typed:
            assert f'name="{name}" value="{typed}"' in r.text


def test_hostile_text_is_shown_as_text(owner: TestClient, data_dir: Path) -> None:
    r = post(owner, "/admin/orders", data={"source": "woocommerce", "orders_url": HOSTILE, "handover_other": HOSTILE})
    assert r.status_code == 422 and "<script>" not in r.text and "&lt;script&gt;" in r.text


# -- test the connection ---------------------------------------------------------------------------


def test_the_connection_finds_an_order_on_a_real_json_address(owner: TestClient, shop: Shop, data_dir: Path) -> None:
    _on_loopback(owner, shop.origin)
    r = post(owner, "/admin/orders/test?lang=fa", data=_json_form(shop.origin, test_number="۱۰۴۲"))
    assert r.status_code == 200, r.text
    words = _text(r.text)
    assert "سفارش ۱۰۴۲ پیدا شد" in words  # the number in Persian digits
    assert "ارسال‌شده" in words and "پست پیشتاز" in words and "PT-7788-1234" in words
    assert "۱۴۰۵/۰۹/۰۷" in words and "۱۴۰۵/۰۹/۱۰" in words  # 28 Nov and 1 Dec 2026, Jalali
    assert 'href="https://tracking.post.ir/?id=PT-7788-1234"' in r.text
    assert "شمارهٔ تلفن و ایمیل دارد" in words  # that the proof is there, never what it is
    for private in (*PRIVATE, KEY, SECRET):
        assert private not in r.text
    assert _saved(data_dir) == {}  # tried before saving: nothing saved
    en = post(owner, "/admin/orders/test?lang=en", data=_json_form(shop.origin, test_number="1042"))
    assert "Order 1042 was found" in _text(en.text) and "2026-11-28" in en.text and "Shipped" in en.text


def test_the_connection_says_why_not_in_words(owner: TestClient, shop: Shop) -> None:
    _on_loopback(owner, shop.origin)
    missing = post(owner, "/admin/orders/test?lang=en", data=_json_form(shop.origin, test_number="9999"))
    assert "No order 9999 was found." in _text(missing.text)
    refused = post(
        owner, "/admin/orders/test?lang=en", data=_json_form(shop.origin, test_number="1042", orders_secret="cs_wrong")
    )
    words = _text(refused.text)
    assert "Couldn't look it up:" in words and "cs_wrong" not in refused.text and SECRET not in refused.text
    assert "refused" in words.lower() or "key" in words.lower(), words
    # saved, the secret box left empty: the saved secret is the one tried
    post(owner, "/admin/orders", data=_json_form(shop.origin))
    again = post(
        owner, "/admin/orders/test?lang=en", data=_json_form(shop.origin, orders_secret="", test_number="1042")
    )
    assert "Order 1042 was found" in _text(again.text)
    # an address that isn't one of the shop's sites is refused before anything is sent
    elsewhere = post(
        owner, "/admin/orders/test?lang=en", data=_json_form("https://elsewhere.example", test_number="1042")
    )
    assert "Couldn't look it up:" in _text(elsewhere.text)
    # no number, no source
    assert post(owner, "/admin/orders/test?lang=en", data=_json_form(shop.origin)).status_code == 422
    none = post(owner, "/admin/orders/test?lang=fa", data={"source": "", "test_number": "1042"})
    assert "اول منبع سفارش‌ها را انتخاب کنید" in none.text


# WooCommerce's REST API v3 as it answers GET /wp-json/wc/v3/orders/<id> (its documented body, cut to
# what matters here) and a wrong key (its documented error body).
WOO_ORDER = {
    "id": 727,
    "number": "727",
    "status": "completed",
    "date_created": "2026-11-28T10:20:00",
    "total": "1250000",
    "billing": {
        "first_name": "سارا",
        "address_1": "خیابان انقلاب",
        "phone": "09121234567",
        "email": "sara@example.com",
    },
    "meta_data": [
        {
            "id": 1,
            "key": "_wc_shipment_tracking_items",
            "value": [{"tracking_provider": "Tipax", "tracking_number": "TPX-55", "date_shipped": "1764979200"}],
        }
    ],
    "line_items": [{"name": "بوف کور", "price": 185000}],
}
WOO_REFUSED = {"code": "woocommerce_rest_authentication_error", "message": "Invalid signature", "data": {"status": 401}}


class _Woo(QuietHandler):
    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        if query.get("oauth_consumer_key") != [KEY]:
            self._send(401, "application/json", json.dumps(WOO_REFUSED).encode())
        elif urlsplit(self.path).path == "/wp-json/wc/v3/orders/727":
            self._send(200, "application/json", json.dumps(WOO_ORDER, ensure_ascii=False).encode())
        else:
            body = {"code": "woocommerce_rest_shop_order_invalid_id", "message": "Invalid ID.", "data": {"status": 404}}
            self._send(404, "application/json", json.dumps(body).encode())


def test_the_connection_to_a_woocommerce_shop(owner: TestClient) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Woo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        origin = f"http://127.0.0.1:{server.server_address[1]}"
        _on_loopback(owner, origin)
        form = {"source": "woocommerce", "orders_url": origin, "orders_key": KEY, "orders_secret": SECRET}
        found = post(owner, "/admin/orders/test?lang=fa", data={**form, "test_number": "#۷۲۷"})
        words = _text(found.text)
        assert "سفارش ۷۲۷ پیدا شد" in words and "تکمیل‌شده" in words and "TPX-55" in words, words
        for private in ("09121234567", "sara@example.com", "انقلاب", "1250000", "بوف کور", SECRET):
            assert private not in found.text
        missing = post(owner, "/admin/orders/test?lang=en", data={**form, "test_number": "728"})
        assert "No order 728 was found." in _text(missing.text)
        refused = post(
            owner, "/admin/orders/test?lang=en", data={**form, "orders_key": "ck_other", "test_number": "727"}
        )
        assert "refused the key" in _text(refused.text) and "ck_other" not in refused.text
        # saved, a conversation where the customer proved order 727: its card links to the order in the shop
        post(owner, "/admin/orders", data=form)
        services = owner.app.state.services
        conversation = services.chat.conversations.start(lang="en")
        with services.store.write() as db:
            orders.record_lookup(
                db, at="2026-12-07T09:00:00+00:00", conversation_id=conversation, visitor=None, number="727",
                outcome="found", source="woocommerce",
            )  # fmt: skip
        card = owner.get(f"/admin/conversations/{conversation}/orders?lang=en", headers={"hx-request": "true"})
        assert "TPX-55" in card.text and f'href="{origin}/wp-admin/post.php?action=edit&amp;post=727"' in card.text
    finally:
        server.shutdown()
        server.server_close()


def test_the_connection_to_a_closed_port_says_it_in_words(owner: TestClient) -> None:
    origin = f"http://127.0.0.1:{free_port()}"
    _on_loopback(owner, origin)
    r = post(owner, "/admin/orders/test?lang=en", data=_json_form(origin, test_number="1042"))
    words = _text(r.text)
    assert r.status_code == 200 and "Couldn't look it up:" in words
    assert "could not be fetched" in words or "isn't answering" in words or "connect" in words.lower(), words
    assert KEY not in r.text and SECRET not in r.text
    fa = post(owner, "/admin/orders/test?lang=fa", data=_json_form(origin, test_number="1042"))
    assert "پیدا کردن ممکن نشد" in fa.text


# -- the spreadsheet -------------------------------------------------------------------------------

SHEET = (
    "شماره سفارش,وضعیت,تاریخ,کد رهگیری,موبایل,یادداشت\n"
    "1001,ارسال شده,1405/09/10,RR123456789IR,0912 345 4321,مشتری قدیمی\n"
    "1002,در حال آماده سازی,1405/09/15,,09351112222,\n"
    f"1003,لغو شده,1405/09/16,,09120000000,{HOSTILE}\n"
)


def test_a_spreadsheet_is_uploaded_mapped_once_and_remembered(owner: TestClient, data_dir: Path) -> None:
    post(owner, "/admin/orders", data={"source": "sheet", "orders_sheet_hours": "0"})
    headers = {**SAME, "x-csrf-token": csrf(owner), "hx-request": "true"}
    upload = {"file": ("سفارش‌ها.csv", SHEET.encode(), "text/csv")}
    r = owner.post("/admin/orders/sheet?lang=fa", files=upload, headers=headers)
    assert r.status_code == 200, _text(r.text)
    assert '<option value="شماره سفارش" selected>' in r.text and '<option value="موبایل" selected>' in r.text
    words = _text(r.text)
    assert "RR123456789IR" in words and "قابل تأیید" in words and "0912" not in r.text  # no phone in the sample
    assert "<script>alert" not in r.text
    token = re.search(r'name="token" value="([^"]+)"', r.text)[1]  # type: ignore[index]
    # the owner maps the note as the carrier, sees it, imports
    mapping = {"map_number": "شماره سفارش", "map_status": "وضعیت", "map_created": "تاریخ", "map_phone": "موبایل"}
    mapping |= {"map_tracking_code": "کد رهگیری", "map_carrier": "یادداشت"}
    again = post(owner, "/admin/orders/sheet/confirm?lang=fa", data={"token": token, **mapping, "action": "preview"})
    assert "مشتری قدیمی" in again.text and '<option value="یادداشت" selected>' in again.text
    done = post(owner, "/admin/orders/sheet/confirm?lang=fa", data={"token": token, **mapping, "action": "import"})
    assert done.status_code == 200 and "۳ سفارش وارد شد" in done.text
    store = owner.app.state.services.store
    assert orders.sheet_order(store.read(), "۱۰۰۱").carrier == "مشتری قدیمی"  # type: ignore[union-attr]
    assert "جدول ۳ سفارش دارد" in owner.get("/admin/orders?lang=fa").text
    # the next file with the same columns is mapped as the owner did
    r = owner.post("/admin/orders/sheet?lang=fa", files=upload, headers=headers)
    assert '<option value="یادداشت" selected>' in r.text
    # the test looks in the sheet
    found = post(owner, "/admin/orders/test?lang=fa", data={"source": "sheet", "test_number": "1001"})
    assert "RR123456789IR" in found.text and "ارسال‌شده" in found.text and "4321" not in found.text
    # a file without an order number column is refused with why, and the sheet stays
    bad = owner.post(
        "/admin/orders/sheet?lang=en",
        files={"file": ("x.csv", b"name,city\nSara,Tehran\n", "text/csv")},
        headers=headers,
    )
    token = re.search(r'name="token" value="([^"]+)"', bad.text)[1]  # type: ignore[index]
    refused = post(owner, "/admin/orders/sheet/confirm?lang=en", data={"token": token, "action": "import"})
    assert refused.status_code == 422 and "nothing changed" in refused.text
    assert orders.sheet_size(store.read()) == 3
    expired = post(owner, "/admin/orders/sheet/confirm?lang=en", data={"token": "gone", "action": "import"})
    assert expired.status_code == 410


# -- the audit log ---------------------------------------------------------------------------------


def test_the_audit_log_lists_every_lookup_newest_first(owner: TestClient, clock) -> None:
    services = owner.app.state.services
    conversation = services.chat.conversations.start(lang="fa")
    at = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    lines = [
        ("12345", "wrong_proof", conversation),
        ("12345", "found", conversation),
        ("777", "limited", None),  # the conversation was erased since
        ("WC-1042", "unavailable", conversation),
    ]
    with services.store.write() as db:
        for n, (number, outcome, conv) in enumerate(lines):
            orders.record_lookup(
                db,
                at=(at + timedelta(minutes=n)).isoformat(),
                conversation_id=conv,
                visitor="v1",
                number=number,
                outcome=outcome,
                source="woocommerce",
            )
    page = owner.get("/admin/orders?lang=fa").text
    words = _text(page)
    assert "۱۴۰۵/۰۹/۱۶ ۱۳:۰۰" in words  # 09:30 UTC in Tehran's time, the Jalali calendar
    order = [words.index(w) for w in ("سامانهٔ سفارش‌ها پاسخ نداد", "رد شد: تلاش بیش از حد", "به صاحبش گفته شد")]
    assert order == sorted(order)  # newest first
    assert "مشخصات تطبیق نداشت" in words and "گفتگو پاک شده" in words
    assert page.count(f'href="/admin/conversations/{conversation}"') == 3
    en = _text(owner.get("/admin/orders?lang=en").text)
    assert "2026-12-07 13:03" in en and "order system not answering" in en and "told to its customer" in en


# -- CSRF ------------------------------------------------------------------------------------------


def test_unsafe_requests_need_the_token(owner: TestClient, data_dir: Path) -> None:
    for path in ("/admin/orders", "/admin/orders/test", "/admin/orders/switch", "/admin/orders/sheet/confirm"):
        r = owner.post(path, data={"source": "woocommerce", "orders_url": "https://evil.example"}, headers=SAME)
        assert r.status_code == 403, path
        r = owner.post(
            path,
            data={"source": "woocommerce", "orders_url": "https://evil.example", "csrf_token": csrf(owner)},
            headers={"sec-fetch-site": "cross-site", "origin": "https://evil.example"},
        )
        assert r.status_code == 403, path
    assert _saved(data_dir) == {}
    signed_out = TestClient(owner.app)
    assert signed_out.get("/admin/orders", follow_redirects=False).status_code == 303


# -- the inbox's card ------------------------------------------------------------------------------

SHEET_ORDERS = [
    Order(
        "12345", "shipped", created="2026-12-01", shipped="2026-12-05", carrier="پست",
        tracking_code="112233445566778899001122", tracking_url="https://tracking.post.ir/?id=112233445566778899001122",
        phone="0912 123 6789", email="sara@example.com",
    ),
    Order("5501", "completed", created="2026-11-20", carrier="Tipax", phone="09127770000"),
]  # fmt: skip


def _chat(c: TestClient, clock, messages: list[str]) -> str:
    """A customer's conversation with the chat's real order desk on the sheet, each turn recorded
    as the chat records it."""
    services = c.app.state.services
    conversations = services.chat.conversations
    desk = OrderDesk(services.store, clock, source=lambda: SheetOrders(services.store), source_name="sheet")
    conversation = conversations.start(lang="fa")
    for text in messages:
        message_id, _ = conversations.add_customer_message(conversation, text)
        taken = asyncio.run(desk.take(conversation, text, visitor="visitor-a", lang="fa"))
        assert taken is not None, text
        conversations.record_turn(conversation, message_id, *taken, decision_ms=1.0)
    return conversation


def test_the_inbox_shows_a_proved_order_s_card(owner: TestClient, clock) -> None:
    store = owner.app.state.services.store
    with store.write() as db:
        orders.replace_sheet(db, SHEET_ORDERS, source="orders.csv", kind="file", mapping={}, now=clock().isoformat())
    post(owner, "/admin/orders", data={"source": "sheet", "orders_sheet_hours": "0"})
    proved = _chat(owner, clock, ["سفارش ۱۲۳۴۵ کجاست؟", "۶۷۸۹"])
    page = owner.get(f"/admin/inbox?view=all&c={proved}&lang=fa").text
    words = _text(page)
    assert "سفارش‌های این گفتگو" in words and "سفارش ۱۲۳۴۵" in words and "تأییدشده" in words
    assert f'hx-get="/admin/conversations/{proved}/orders"' in page
    assert "به صاحبش گفته شد" in words  # the conversation's audit line
    card = owner.get(f"/admin/conversations/{proved}/orders?lang=fa", headers={"hx-request": "true"})
    assert card.status_code == 200
    words = _text(card.text)
    assert "ارسال‌شده" in words and "پست" in words and "112233445566778899001122" in words
    assert "۱۴۰۵/۰۹/۱۴" in words  # shipped on 5 December 2026
    assert "6789" not in card.text and "sara@example.com" not in card.text
    own_page = owner.get(f"/admin/conversations/{proved}?lang=en").text
    assert "Orders in this conversation" in own_page and "proved" in own_page


def test_an_unproved_order_s_details_are_not_shown(owner: TestClient, clock) -> None:
    store = owner.app.state.services.store
    with store.write() as db:
        orders.replace_sheet(db, SHEET_ORDERS, source="orders.csv", kind="file", mapping={}, now=clock().isoformat())
    post(owner, "/admin/orders", data={"source": "sheet", "orders_sheet_hours": "0"})
    guessed = _chat(owner, clock, ["where is my order 5501?", "1111"])
    page = owner.get(f"/admin/conversations/{guessed}?lang=en").text
    words = _text(page)
    assert "Order 5501" in words and "not proved" in words and "proof didn't match" in words
    assert "Tipax" not in page and "/orders" not in page.split("Orders in this conversation")[1].split("</section>")[0]
    card = owner.get(f"/admin/conversations/{guessed}/orders?lang=en", headers={"hx-request": "true"})
    assert "Tipax" not in card.text and "Completed" not in card.text  # asked for by hand: still nothing
    # a number given, the proof not yet: on the card as asked about, not proved
    asking = _chat(owner, clock, ["order #12345 status?"])
    words = _text(owner.get(f"/admin/conversations/{asking}?lang=en").text)
    assert "Order 12345" in words and "not proved" in words and "Shipped" not in words
    # a conversation that never asked about an order has no card
    quiet = owner.app.state.services.chat.conversations.start(lang="en")
    owner.app.state.services.chat.conversations.add_customer_message(quiet, "hello")
    assert "Orders in this conversation" not in owner.get(f"/admin/conversations/{quiet}?lang=en").text
    assert owner.get("/admin/conversations/nope/orders").status_code == 404
