"""Where orders come from, against real servers on loopback: a WooCommerce-like REST API (its
order bodies and error bodies, the key checked as WooCommerce checks it: Basic over https,
OAuth 1.0a signatures over http), a shop's own JSON address, the owner's spreadsheet as CSV and
XLSX (uploaded, or fetched on a schedule), and every way a source fails: slow, refusing the key,
HTTP 500, a web page, bad JSON. A failure is OrdersUnavailable with why in the owner's language,
never holding the secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import openpyxl
import pytest

from appliance import i18n
from appliance.db import Store
from appliance.documents import tables
from appliance.kb.entry import EntryError
from appliance.ops import scheduler
from appliance.orders import feed, json_source, sheet, woocommerce
from appliance.orders import store as orders_store
from appliance.orders.dates import iso_day
from appliance.orders.order import Order, OrdersUnavailable, proof_matches, public
from appliance.orders.sources import Sheet, source_from
from appliance.orders.statuses import from_woocommerce, from_words
from appliance.settings import Settings

from .helpers import QuietHandler

KEY = "ck_4f1e2d3c4b5a69788796a5b4c3d2e1f0"
SECRET = "cs_0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d"
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def _meta(**values: Any) -> list[dict[str, Any]]:
    return [{"id": 9000 + i, "key": k, "value": v} for i, (k, v) in enumerate(values.items())]


def _woo_order(oid: int, number: str, status: str, **extra: Any) -> dict[str, Any]:
    """An order as WooCommerce's REST API v3 answers it (the fields that matter, and the private
    ones that must never reach an Order's public side)."""
    return {
        "id": oid,
        "parent_id": 0,
        "number": number,
        "order_key": f"wc_order_{oid}abc",
        "created_via": "checkout",
        "status": status,
        "currency": "IRT",
        "date_created": "2026-12-01T09:15:00",
        "date_created_gmt": "2026-12-01T05:45:00",
        "date_completed": None,
        "total": "1850000",
        "billing": {
            "first_name": "سارا",
            "last_name": "احمدی",
            "address_1": "تهران، خیابان ولیعصر، پلاک ۱۲",
            "city": "تهران",
            "email": "Sara.Ahmadi@Example.com",
            "phone": "0912 345 6789",
        },
        "shipping": {"first_name": "سارا", "address_1": "تهران، خیابان ولیعصر، پلاک ۱۲", "phone": ""},
        "line_items": [{"id": 1, "name": "بوف کور", "quantity": 1, "price": 185000}],
        "meta_data": [],
        **extra,
    }


ORDERS = {
    1042: _woo_order(
        1042,
        "1042",
        "processing",
        meta_data=_meta(
            _wc_shipment_tracking_items=[
                {
                    "tracking_provider": "",
                    "custom_tracking_provider": "تیپاکس",
                    "tracking_number": "TPX-99881",
                    "custom_tracking_link": "https://tipaxco.com/tracking?code=TPX-99881",
                    "date_shipped": "1764892800",  # 2025-12-05
                    "tracking_id": "a1b2",
                }
            ],
            _billing_national_id="0012345678",
        ),
    ),
    # A Sequential Order Numbers shop: id 1043 is order WC-2001.
    1043: _woo_order(
        1043,
        "WC-2001",
        "completed",
        date_completed="2026-12-03T18:00:00",
        meta_data=_meta(_aftership_tracking_number="1Z999AA10123456784", _aftership_tracking_provider="ups"),
    ),
    # Id 2001 is another customer's order WC-3005: asking for "2001" must not find it.
    2001: _woo_order(2001, "WC-3005", "processing"),
    1044: _woo_order(
        1044,
        "1044",
        "awaiting-shipment",  # a status a plugin added: WooCommerce's REST gives only the slug
        billing={"email": "", "phone": "+98 912 000 1111", "first_name": "رضا"},
        meta_data=_meta(_post_tracking_code="۱۲۳۴۵۶۷۸۹۰۱۲۳۴۵۶۷۸۹۰۱۲", _shipping_date="۱۴۰۵/۰۹/۱۴"),
    ),
    1045: _woo_order(1045, "1045", "on-hold", meta_data=_meta(_tracking_number="JD0146", _tracking_provider="dhl")),
    1046: _woo_order(1046, "1046", "checkout-draft"),
}
NOT_FOUND = {"code": "woocommerce_rest_shop_order_invalid_id", "message": "Invalid ID.", "data": {"status": 404}}
CANNOT_VIEW = {
    "code": "woocommerce_rest_cannot_view",
    "message": "Sorry, you cannot list resources.",
    "data": {"status": 401},
}


def _rawurlencode(text: str) -> str:
    """PHP's rawurlencode, as WooCommerce's check uses it."""
    return quote(text, safe="-_.~")


def _oauth_ok(method: str, base_url: str, query: list[tuple[str, str]], secret: str) -> bool:
    """WooCommerce's check of a one-legged OAuth 1.0a request (WC_REST_Authentication)."""
    params = dict(query)
    given = params.pop("oauth_signature", "")
    if abs(int(params.get("oauth_timestamp", "0")) - time.time()) > 15 * 60:
        return False
    pairs = sorted((_rawurlencode(k), _rawurlencode(v)) for k, v in params.items())
    query_string = "%26".join(_rawurlencode(f"{k}={v}") for k, v in pairs)  # join_with_equals_sign
    to_sign = f"{method}&{_rawurlencode(base_url)}&{query_string}"
    algorithm = {"HMAC-SHA1": hashlib.sha1, "HMAC-SHA256": hashlib.sha256}[params["oauth_signature_method"]]
    expected = base64.b64encode(hmac.new(f"{secret}&".encode(), to_sign.encode(), algorithm).digest()).decode()
    return hmac.compare_digest(expected, given)


class Shop(ThreadingHTTPServer):
    """A WooCommerce-like shop and a JSON address on one loopback server. ``mode``: "ok",
    "hang", "500", "html", "badjson"."""

    daemon_threads = True

    def __init__(self, tls: Path | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _ShopHandler)
        self.mode = "ok"
        self.seen: list[dict[str, Any]] = []
        self.scheme = "http"
        self.release = threading.Event()
        if tls is not None:
            import ssl

            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(tls / "cert.pem", tls / "key.pem")
            self.socket = context.wrap_socket(self.socket, server_side=True)
            self.scheme = "https"
        self.sheet: tuple[str, bytes] = ("text/csv", b"")

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}"


class _ShopHandler(QuietHandler):
    server: Shop

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qsl(parts.query, keep_blank_values=True)
        self.server.seen.append({"path": parts.path, "query": dict(query), "auth": self.headers.get("Authorization")})
        mode = self.server.mode
        if mode == "hang":
            self.server.release.wait(5)
            return
        if mode == "500":
            return self._send(500, "text/html", b"<html><body>Internal Server Error</body></html>")
        if mode == "html":
            return self._send(200, "text/html; charset=UTF-8", "<!doctype html><title>فروشگاه</title>".encode())
        if mode == "badjson":
            return self._send(200, "application/json", b'{"id": 1042, "status": ')
        if parts.path == "/orders.csv" or parts.path == "/orders.xlsx":
            media, body = self.server.sheet
            return self._send(200, media, body)
        if parts.path.startswith("/wp-json/wc/v3/orders"):
            return self._woo(parts.path, query)
        if parts.path.startswith("/api/orders/"):
            return self._json_address(unquote(parts.path.rsplit("/", 1)[1]))
        self._send(404, "text/html", b"<html>not here</html>")

    def _json(self, status: int, body: Any) -> None:
        self._send(status, "application/json; charset=UTF-8", json.dumps(body, ensure_ascii=False).encode())

    def _authorised(self, query: list[tuple[str, str]]) -> bool:
        if self.server.scheme == "https":
            expected = "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
            return self.headers.get("Authorization") == expected
        params = dict(query)
        if params.get("oauth_consumer_key") != KEY:
            return False
        base = f"http://127.0.0.1:{self.server.server_address[1]}{urlsplit(self.path).path}"
        return _oauth_ok("GET", base, query, SECRET)

    def _woo(self, path: str, query: list[tuple[str, str]]) -> None:
        if not self._authorised(query):
            return self._json(401, CANNOT_VIEW)
        tail = path.removeprefix("/wp-json/wc/v3/orders").strip("/")
        if tail:
            order = ORDERS.get(int(tail)) if tail.isdigit() else None
            return self._json(200, order) if order else self._json(404, NOT_FOUND)
        wanted = dict(query).get("search", "")
        per_page = int(dict(query).get("per_page", "10"))
        found = [o for o in ORDERS.values() if wanted and (wanted in o["number"] or wanted == str(o["id"]))]
        self._json(200, found[:per_page])

    def _json_address(self, number: str) -> None:
        expected = "Basic " + base64.b64encode("shop:رمز-۱۲۳".encode()).decode()
        if self.headers.get("Authorization") != expected:
            return self._json(401, {"error": "unauthorized"})
        if number != "A77":  # the shop's API takes the number without its dash
            return self._json(404, {"error": "no such order"})
        self._json(
            200,
            {
                "ok": True,
                "data": {
                    "ref": "A-77",
                    "state": "ارسال شد",
                    "created": "۱۴۰۵/۰۹/۱۰",
                    "customer": {"name": "مریم", "mobile": "۰۹۱۲-۷۷۷-۶۶۵۵", "address": "شیراز"},
                    "shipments": [{"code": "۹۸۷۶۵", "company": "پست پیشتاز", "sent": "2026-12-02"}],
                },
            },
        )


@pytest.fixture
def shop() -> Iterator[Shop]:
    server = Shop()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


def _settings(tmp_path: Path, shop: Shop, **values: Any) -> Settings:
    """The shop's site allowed (it is on loopback: private addresses allowed)."""
    return Settings(data_dir=tmp_path, model="none", public_url=shop.url, fetch_private_addresses=True, **values)


def _woo(tmp_path: Path, shop: Shop, **values: Any) -> woocommerce.WooCommerce:
    settings = _settings(
        tmp_path, shop, orders_source="woocommerce", orders_url=shop.url, orders_key=KEY, orders_secret=SECRET
    )
    source = source_from(settings.replace(**values), Store(tmp_path / "appliance.db"), timeout_s=2)
    assert isinstance(source, woocommerce.WooCommerce)
    return source


# -- WooCommerce --------------------------------------------------------------------------------


def test_woocommerce_orders_are_read_with_their_tracking(shop: Shop, tmp_path: Path) -> None:
    source = _woo(tmp_path, shop)
    found = source.lookup("#۱۰۴۲")
    assert found is not None
    assert public(found) == {
        "number": "1042",
        "status": "shipped",  # WooCommerce says "processing"; the tracking item says it left
        "status_label": "",
        "created": "2026-12-01",
        "shipped": "2025-12-05",
        "carrier": "تیپاکس",
        "tracking_code": "TPX-99881",
        "tracking_url": "https://tipaxco.com/tracking?code=TPX-99881",
    }
    assert (found.phone, found.email) == ("09123456789", "sara.ahmadi@example.com")
    assert proof_matches(found, "۶۷۸۹") and proof_matches(found, "sara.ahmadi@example.com ")
    everything = json.dumps(found.__dict__, ensure_ascii=False)
    assert "ولیعصر" not in everything and "1850000" not in everything and "0012345678" not in everything
    # Over plain http the key went as WooCommerce wants it there: signed, the secret never sent.
    assert all(SECRET not in json.dumps(s) for s in shop.seen) and shop.seen[0]["auth"] is None
    assert shop.seen[0]["query"]["oauth_signature_method"] == "HMAC-SHA256"


@pytest.mark.slow
def test_every_kind_of_tracking_and_status(shop: Shop, tmp_path: Path) -> None:
    source = _woo(tmp_path, shop)
    sequential = source.lookup("wc 2001")  # searched: the shop's numbers aren't its ids
    assert sequential is not None and sequential.number == "WC2001"
    assert (sequential.status, sequential.shipped) == ("completed", "2026-12-03")
    assert (sequential.carrier, sequential.tracking_code) == ("ups", "1Z999AA10123456784")
    assert source.lookup("2001") is None  # id 2001 is order WC-3005: another customer's
    custom = source.lookup("1044")
    assert custom is not None and (custom.status, custom.status_label) == ("custom", "awaiting shipment")
    assert (custom.carrier, custom.tracking_code) == ("پست", "۱۲۳۴۵۶۷۸۹۰۱۲۳۴۵۶۷۸۹۰۱۲")
    assert custom.shipped == "2026-12-05" and custom.phone == "989120001111"  # Jalali 1405/09/14
    assert proof_matches(custom, "۱۱۱۱") and not proof_matches(custom, "")
    on_hold = source.lookup("1045")
    assert on_hold is not None and (on_hold.status, on_hold.carrier, on_hold.tracking_code) == (
        "on-hold",
        "dhl",
        "JD0146",
    )
    draft = source.lookup("1046")
    assert draft is not None and draft.status == "pending"
    assert source.lookup("99999") is None and source.lookup("  ") is None


def test_a_wrong_key_is_refused_and_said_without_the_secret(shop: Shop, tmp_path: Path) -> None:
    source = _woo(tmp_path, shop, orders_secret="cs_wrong_wrong_wrong_wrong")
    with pytest.raises(OrdersUnavailable) as refused:
        source.lookup("1042")
    assert refused.value.key == "orders.refused"
    for lang in ("fa", "en"):
        said = i18n.refusal(lang, refused.value)
        assert "cs_wrong" not in said and KEY not in said
    assert "کلید را نپذیرفت" in i18n.refusal("fa", refused.value)
    assert "cs_wrong" not in str(refused.value) and KEY not in str(refused.value)


@pytest.mark.parametrize(
    "mode, key, says",
    [
        ("500", "orders.failed_status", "خطای HTTP ۵۰۰"),
        ("html", "orders.web_page", "یک صفحهٔ وب برگرداند"),
        ("badjson", "orders.bad_json", "JSON خواندنی نبود"),
    ],
)
def test_a_failing_shop_is_unavailable_with_why(shop: Shop, tmp_path: Path, mode: str, key: str, says: str) -> None:
    shop.mode = mode
    with pytest.raises(OrdersUnavailable) as failed:
        _woo(tmp_path, shop).lookup("1042")
    assert failed.value.key == key and says in i18n.refusal("fa", failed.value)
    assert SECRET not in str(failed.value) and KEY not in str(failed.value)


def test_a_shop_that_hangs_is_given_up_on_in_time(shop: Shop, tmp_path: Path) -> None:
    shop.mode = "hang"
    settings = _settings(
        tmp_path, shop, orders_source="woocommerce", orders_url=shop.url, orders_key=KEY, orders_secret=SECRET
    )
    source = source_from(settings, Store(tmp_path / "appliance.db"), timeout_s=0.5)
    assert source is not None
    started = time.monotonic()
    with pytest.raises(OrdersUnavailable) as failed:
        source.lookup("1042")
    assert time.monotonic() - started < 2 and failed.value.key == "orders.timeout"
    assert "پاسخ نداد" in i18n.refusal("fa", failed.value)


def test_a_shop_not_set_up_or_off_the_shops_sites_is_unavailable(shop: Shop, tmp_path: Path) -> None:
    with pytest.raises(OrdersUnavailable) as failed:
        _woo(tmp_path, shop, orders_secret="").lookup("1042")
    assert failed.value.key == "orders.not_set_up"
    other = _woo(tmp_path, shop).settings.replace(public_url="https://shop.example", allowed_origins=())
    with pytest.raises(OrdersUnavailable) as refused:
        woocommerce.WooCommerce(other).lookup("1042")
    assert refused.value.key == "fetch.not_allowed" and shop.seen == []


def test_plain_http_goes_only_to_the_shops_own_network(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        model="none",
        public_url="http://shop.example",
        orders_source="woocommerce",
        orders_url="http://shop.example",
        orders_key=KEY,
        orders_secret=SECRET,
    )
    public_resolver = woocommerce.WooCommerce(settings, resolver=lambda host: ["93.184.216.34"])
    with pytest.raises(OrdersUnavailable) as refused:
        public_resolver.lookup("1042")
    assert refused.value.key == "orders.plain_http" and "https" in i18n.refusal("fa", refused.value)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A certificate for 127.0.0.1, made with openssl, that the test's https client trusts."""
    where = tmp_path_factory.mktemp("tls")
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(where / "key.pem"), "-out", str(where / "cert.pem"),
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return where


@pytest.mark.slow
def test_over_https_the_key_goes_as_basic_auth(tls: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import certifi

    monkeypatch.setattr(certifi, "where", lambda: str(tls / "cert.pem"))  # trust the test's certificate
    server = Shop(tls)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        found = _woo(tmp_path, server).lookup("1042")
        assert found is not None and found.tracking_code == "TPX-99881"
        assert server.seen[0]["auth"].startswith("Basic ") and "oauth_signature" not in server.seen[0]["query"]
    finally:
        server.shutdown()
        server.server_close()


# -- a JSON address -----------------------------------------------------------------------------


def _json_settings(tmp_path: Path, shop: Shop, **values: Any) -> Settings:
    return _settings(
        tmp_path,
        shop,
        orders_source="json",
        orders_url=f"{shop.url}/api/orders/{{order}}",
        orders_key="shop",
        orders_secret="رمز-۱۲۳",
        orders_json_mapping=(
            "number = data.ref\nstatus = data.state\ncreated = data.created\ntracking_code = data.shipments.0.code\n"
            "carrier = data.shipments.0.company\nshipped = data.shipments.0.sent\nphone = data.customer.mobile"
        ),
    ).replace(**values)


def test_a_json_address_mapped_by_dotted_paths(shop: Shop, tmp_path: Path) -> None:
    source = source_from(_json_settings(tmp_path, shop), Store(tmp_path / "appliance.db"), timeout_s=2)
    assert isinstance(source, json_source.JsonAddress)
    found = source.lookup("a-77")
    assert found is not None
    assert (found.number, found.status, found.status_label) == ("A77", "shipped", "ارسال شد")
    assert (found.created, found.shipped, found.carrier) == ("2026-12-01", "2026-12-02", "پست پیشتاز")
    assert found.tracking_code == "۹۸۷۶۵" and found.phone == "09127776655" and proof_matches(found, "6655")
    assert "شیراز" not in json.dumps(found.__dict__, ensure_ascii=False)
    assert shop.seen[-1]["path"] == "/api/orders/A77"  # the number in its one form, URL-quoted
    assert source.lookup("A-78") is None  # a 404 is "no such order"


def test_a_json_address_failing(shop: Shop, tmp_path: Path) -> None:
    wrong = source_from(_json_settings(tmp_path, shop, orders_secret="غلط"), Store(tmp_path / "a.db"), timeout_s=2)
    assert wrong is not None
    with pytest.raises(OrdersUnavailable) as refused:
        wrong.lookup("A-77")
    assert refused.value.key == "orders.refused" and "غلط" not in str(refused.value)
    shop.mode = "html"
    right = source_from(_json_settings(tmp_path, shop), Store(tmp_path / "a.db"), timeout_s=2)
    assert right is not None
    with pytest.raises(OrdersUnavailable) as page:
        right.lookup("A-77")
    assert page.value.key == "orders.web_page"
    no_slot = source_from(_json_settings(tmp_path, shop, orders_url=f"{shop.url}/api/orders"), Store(tmp_path / "a.db"))
    assert no_slot is not None
    with pytest.raises(OrdersUnavailable) as template:
        no_slot.lookup("A-77")
    assert template.value.key == "orders.no_placeholder"


def test_an_answer_about_another_order_is_none() -> None:
    data = {"ref": "A-78", "state": "completed", "mobile": "09120000000"}
    assert json_source.to_order(data, {"number": "ref", "status": "state"}, "A77") is None
    with pytest.raises(OrdersUnavailable) as unmapped:  # the mapping misses the status: not "no order"
        json_source.to_order(data, {"number": "ref", "status": "order.state"}, "A78")
    assert unmapped.value.key == "orders.no_status" and "order.state" in i18n.refusal("fa", unmapped.value)
    assert json_source.to_order({}, {}, "A77") is None
    listed = json_source.to_order([{"number": "7", "status": "shipped"}, {"number": "8", "status": "failed"}], {}, "8")
    assert listed is not None and listed.status == "failed"


# -- the owner's spreadsheet --------------------------------------------------------------------

SHEET_CSV = (
    "\ufeffشماره سفارش,نام مشتری,وضعیت,تاریخ,تاریخ ارسال,پست,کد رهگیری,موبایل,آدرس\n"
    "۱۰۰۱,مینا,ارسال شد,۱۴۰۵/۰۹/۰۱,۱۴۰۵/۰۹/۰۳,پست پیشتاز,۱۲۳۴۵۶۷۸۹۰۱۲۳۴۵۶۷۸۹۰۱,۰۹۱۲ ۱۱۱ ۲۲۳۳,شیراز\n"
    "1002,علی,در حال آماده‌سازی,1405-09-05,,,,+98 935 444 5566,تبریز\n"
    "1003,زهرا,تحویل شد,2026-11-20,2026-11-22,تیپاکس,TPX1,09350000000,\n"
    "1004,رضا,منتظر تماس فروشنده,۱۴۰۵/۰۹/۱۰,,,,۰۹۱۹۸۷۶۵۴۳۲,\n"
    ",جمع,,,,,,,\n"
)


def _xlsx(rows: list[list[Any]]) -> bytes:
    book = openpyxl.Workbook()
    sheet_ = book.active
    sheet_.append(["سفارش‌های آذر"])  # a title row above the header, as owners write
    for row in rows:
        sheet_.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "appliance.db")
    s.migrate()
    return s


def test_a_persian_sheet_is_read_with_its_guessed_columns(store: Store) -> None:
    n, mapping = sheet.import_sheet(
        store, SHEET_CSV.encode(), "سفارش‌ها.csv", source="سفارش‌ها.csv", kind="file", now=NOW.isoformat()
    )
    assert n == 4  # the total row under the orders has no number
    assert mapping == {
        "number": "شماره سفارش",
        "status": "وضعیت",
        "created": "تاریخ",
        "shipped": "تاریخ ارسال",
        "carrier": "پست",
        "tracking_code": "کد رهگیری",
        "phone": "موبایل",
    }
    source = Sheet(store)
    sent = source.lookup("۱۰۰۱")
    assert sent is not None and (sent.status, sent.status_label) == ("shipped", "ارسال شد")
    assert (sent.created, sent.shipped, sent.carrier) == ("2026-11-22", "2026-11-24", "پست پیشتاز")
    assert sent.tracking_code == "۱۲۳۴۵۶۷۸۹۰۱۲۳۴۵۶۷۸۹۰۱" and proof_matches(sent, "۲۲۳۳")
    preparing = source.lookup("1002")
    assert preparing is not None and preparing.status == "processing" and preparing.phone == "989354445566"
    done = source.lookup("1003")
    assert done is not None and (done.status, done.shipped) == ("completed", "2026-11-22")
    own = source.lookup("1004")
    assert own is not None and (own.status, own.status_label) == ("custom", "منتظر تماس فروشنده")
    assert "شیراز" not in json.dumps(sent.__dict__, ensure_ascii=False)
    assert orders_store.imports(store.read())[0].mapping["columns"][0] == "شماره سفارش"


def test_an_xlsx_sheet_with_english_columns_and_its_mapping_remembered(store: Store) -> None:
    rows = [
        ["Order", "Status", "Date", "Shipped", "Carrier", "Tracking", "Phone", "Email", "Total"],
        [5001, "Shipped", datetime(2026, 12, 1), "2026-12-02", "DHL", "JD014600", "0912 333 4444", "A@B.ir", 1850000],
        ["5002", "Refunded", "1405/09/12", None, None, None, None, "c@d.ir", 99],
    ]
    n, mapping = sheet.import_sheet(
        store, _xlsx(rows), "orders.xlsx", source="orders.xlsx", kind="file", now=NOW.isoformat()
    )
    assert n == 2 and mapping["tracking_code"] == "Tracking" and mapping["email"] == "Email"
    first = Sheet(store).lookup("5001")
    assert first is not None and (first.status, first.created, first.shipped) == ("shipped", "2026-12-01", "2026-12-02")
    assert first.email == "a@b.ir" and proof_matches(first, "a@b.ir") and proof_matches(first, "4444")
    refunded = Sheet(store).lookup("5002")
    assert refunded is not None and (refunded.status, refunded.created) == ("refunded", "2026-12-03")
    # The owner corrected a column once: the next sheet with the same columns is read the same way.
    own = {**mapping, "tracking_code": "Carrier"}
    sheet.import_sheet(
        store, _xlsx(rows), "orders.xlsx", source="orders.xlsx", kind="file", now=NOW.isoformat(), mapping=own
    )
    n, again = sheet.import_sheet(
        store, _xlsx(rows), "orders.xlsx", source="orders.xlsx", kind="file", now=NOW.isoformat()
    )
    assert again["tracking_code"] == "Carrier"


@pytest.mark.parametrize(
    "data, name, key",
    [
        (b"", "x.csv", "orders.sheet_empty"),
        ("<!doctype html><title>ورود</title>".encode(), "x.csv", "orders.sheet_web_page"),
        ("نام,وضعیت,موبایل\nمینا,ارسال شد,0912\n".encode(), "x.csv", "orders.no_number_column"),
        ("شماره سفارش,وضعیت\n1,ارسال شد\n".encode(), "x.csv", "orders.no_proof_column"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "x.xls", "catalog.xls"),
    ],
)
def test_a_sheet_that_cant_serve_changes_nothing(store: Store, data: bytes, name: str, key: str) -> None:
    sheet.import_sheet(store, SHEET_CSV.encode(), "a.csv", source="a.csv", kind="file", now=NOW.isoformat())
    with pytest.raises(EntryError) as refused:
        sheet.import_sheet(store, data, name, source=name, kind="file", now=NOW.isoformat())
    assert refused.value.key == key and i18n.refusal("fa", refused.value)
    assert orders_store.sheet_size(store.read()) == 4  # the sheet as it was
    assert orders_store.imports(store.read())[0].error


def test_the_sheet_is_fetched_on_its_schedule(shop: Shop, tmp_path: Path, store: Store) -> None:
    shop.sheet = ("text/csv; charset=utf-8", SHEET_CSV.encode())
    settings = _settings(tmp_path, shop, orders_source="sheet", orders_url=f"{shop.url}/orders.csv")
    assert feed.due(store, settings, NOW)
    assert feed.sync(store, settings, NOW) == 4
    assert Sheet(store).lookup("1003") is not None
    assert not feed.due(store, settings, NOW + timedelta(hours=1))
    assert feed.due(store, settings, NOW + timedelta(hours=6))
    assert not feed.due(store, settings.replace(orders_sheet_hours=0), NOW + timedelta(days=1))
    shop.mode = "html"
    with pytest.raises(EntryError):
        feed.sync(store, settings, NOW + timedelta(hours=6))
    assert orders_store.imports(store.read())[0].error and orders_store.sheet_size(store.read()) == 4
    shop.mode = "ok"
    shop.sheet = (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _xlsx([["کد سفارش", "وضعیت", "تلفن"], ["۷", "لغو شد", "۰۹۱۲۰۰۰۰۰۰۰"]]),
    )
    xlsx = settings.replace(orders_url=f"{shop.url}/orders.xlsx")
    assert feed.sync(store, xlsx, NOW + timedelta(hours=7)) == 1 and Sheet(store).lookup("1003") is None
    jobs = scheduler.build(settings, store, lambda: NOW)
    assert jobs.get_job("orders_sheet") is not None


# -- the pieces ---------------------------------------------------------------------------------


def test_days_and_statuses_in_the_shops_words() -> None:
    assert iso_day("۱۴۰۳/۰۹/۱۴") == "2024-12-04" and iso_day("1405-09-14") == "2026-12-05"
    assert iso_day("۱۴ آذر ۱۴۰۵") == "2026-12-05" and iso_day("2026-12-01T10:20:30") == "2026-12-01"
    assert iso_day("1764892800") == "2025-12-05" and iso_day("04/12/2026") == "2026-12-04"
    assert iso_day("1405/13/01") == "" and iso_day("فردا") == "" and iso_day(None) == ""
    assert from_woocommerce("wc-completed") == ("completed", "")
    assert from_woocommerce("awaiting-shipment") == ("custom", "awaiting shipment")
    assert from_words("در حال آماده سازی") == ("processing", "در حال آماده سازی")
    assert from_words("مرجوع شد")[0] == "refunded" and from_words("ناموفق")[0] == "failed"
    assert from_words("Cancelled")[0] == "cancelled" and from_words("لغو شد")[0] == "cancelled"


def test_the_table_reader_lives_below_the_catalog() -> None:
    from appliance.catalog import formats

    assert formats.Table is tables.Table and formats.MAX_FILE_BYTES == tables.MAX_FILE_BYTES
    assert sheet.WORDS.empty == "orders.sheet_empty" and formats.WORDS.empty == "catalog.empty"
    assert isinstance(Order("1", "pending"), Order)


def test_a_shop_that_is_down_is_unavailable(tmp_path: Path) -> None:
    server = Shop()
    url = server.url
    server.server_close()  # nothing listens there any more
    settings = Settings(
        data_dir=tmp_path,
        model="none",
        public_url=url,
        fetch_private_addresses=True,
        orders_source="woocommerce",
        orders_url=url,
        orders_key=KEY,
        orders_secret=SECRET,
    )
    source = source_from(settings, Store(tmp_path / "appliance.db"), timeout_s=2)
    assert source is not None
    with pytest.raises(OrdersUnavailable) as failed:
        source.lookup("1042")
    assert failed.value.key == "fetch.failed" and i18n.refusal("fa", failed.value)
    assert SECRET not in str(failed.value) and KEY not in str(failed.value)
    assert KEY not in json.dumps(failed.value.params, ensure_ascii=False)
