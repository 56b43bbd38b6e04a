"""The safe fetch with a caller's request headers and HTTP Basic credentials (a shop's order
API wants them): they arrive at the shop's site, they are not carried to another origin by a
redirect, and no error message or log line holds them. Real HTTP servers on loopback
(``allow_private``: loopback is a private address)."""

from __future__ import annotations

import base64
import logging
import socket
import threading
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from appliance import i18n
from appliance.documents import fetch
from appliance.settings import Settings

from .helpers import QuietHandler

KEY, SECRET = "ck_5f2a9e7b1c", "cs_d41d8cd98f00b204e980"
BASIC = "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()


class Shop(ThreadingHTTPServer):
    """A site that keeps the headers of every request it gets, by path."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Pages)
        self.seen: list[tuple[str, dict[str, list[str]]]] = []
        self.elsewhere = ""  # another site's address, for redirects off this one

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def headers_of(self, path: str) -> dict[str, list[str]]:
        [headers] = [h for p, h in self.seen if p == path]
        return headers


class _Pages(QuietHandler):
    server: Shop

    def do_GET(self) -> None:
        self.server.seen.append((self.path, {k.lower(): self.headers.get_all(k) or [] for k in self.headers}))
        if self.path == "/orders":
            self._send(200, "application/json", b'[{"id": 1234, "status": "processing"}]')
        elif self.path == "/moved":
            self._send(301, "text/plain", b"", location="/orders")
        elif self.path == "/elsewhere":
            self._send(302, "text/plain", b"", location=f"{self.server.elsewhere}/orders")
        elif self.path == "/back":
            self._send(302, "text/plain", b"", location=f"{self.server.elsewhere}/orders")
        elif self.path == "/off-site":
            self._send(302, "text/plain", b"", location=f"http://localhost:{self.server.server_address[1]}/orders")
        elif self.path == "/slow":
            time.sleep(2)
            self._send(200, "application/json", b"[]")
        else:
            self._send(401, "application/json", b'{"code": "woocommerce_rest_cannot_view"}')


def _serve() -> Iterator[Shop]:
    server = Shop()
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def shop() -> Iterator[Shop]:
    yield from _serve()


@pytest.fixture
def other() -> Iterator[Shop]:
    """The same machine on another port: another origin."""
    yield from _serve()


def _get(url: str, *sites: Shop | str, **kw: object) -> fetch.Fetched:
    """GET ``url`` with ``sites`` (servers or addresses) the shop's."""
    origins = fetch.shop_origins("", [s if isinstance(s, str) else s.url for s in sites])
    return fetch.fetch(url, origins=origins, allow_private=True, **kw)  # type: ignore[arg-type]


def test_the_callers_headers_and_basic_credentials_arrive(shop: Shop) -> None:
    got = _get(
        f"{shop.url}/orders", shop, headers={"accept": "application/json", "X-Shop-Locale": "fa_IR"}, auth=(KEY, SECRET)
    )
    assert got.body.startswith(b'[{"id": 1234')
    seen = shop.headers_of("/orders")
    assert seen["authorization"] == [BASIC]
    assert seen["x-shop-locale"] == ["fa_IR"]
    assert seen["accept"] == ["application/json"]  # over the default, whatever its case: sent once
    assert seen["user-agent"] == [fetch.USER_AGENT] and seen["host"] == [shop.url.removeprefix("http://")]


def test_a_persian_user_name_and_password_go_as_utf8(shop: Shop) -> None:
    """RFC 7617's charset=UTF-8: the sign-in of a JSON address the owner made up in Persian."""
    _get(f"{shop.url}/orders", shop, auth=("مدیر فروشگاه", "رمز ۱۴۰۵ عبور"))
    sent = shop.headers_of("/orders")["authorization"][0].removeprefix("Basic ")
    assert base64.b64decode(sent).decode("utf-8") == "مدیر فروشگاه:رمز ۱۴۰۵ عبور"


def test_a_redirect_on_the_same_site_keeps_them(shop: Shop) -> None:
    got = _get(f"{shop.url}/moved", shop, headers={"X-Shop-Locale": "fa_IR"}, auth=(KEY, SECRET))
    assert got.url == f"{shop.url}/orders"
    assert shop.headers_of("/orders")["authorization"] == [BASIC]


def test_a_redirect_to_another_origin_leaves_them_behind_for_good(shop: Shop, other: Shop) -> None:
    """Another port is another origin, even on the same host and both the shop's sites: the
    credentials stay with the site they were given for. Redirected back, they don't return."""
    shop.elsewhere, other.elsewhere = other.url, shop.url
    got = _get(f"{shop.url}/elsewhere", shop, other, headers={"X-Api-Key": SECRET}, auth=(KEY, SECRET))
    assert got.url == f"{other.url}/orders" and got.body.startswith(b"[")
    assert shop.headers_of("/elsewhere")["authorization"] == [BASIC]
    arrived = other.headers_of("/orders")
    assert "authorization" not in arrived and "x-api-key" not in arrived
    assert arrived["user-agent"] == [fetch.USER_AGENT]  # the fetch's own headers still go
    # shop -> other -> shop: the way back is not the start of a new fetch
    _get(f"{other.url}/back", shop, other, auth=(KEY, SECRET))
    assert other.headers_of("/back")["authorization"] == [BASIC]
    assert [h.get("authorization") for p, h in shop.seen if p == "/orders"] == [None]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_no_error_and_no_log_line_holds_the_credentials(shop: Shop, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # httpx's and httpcore's own debug lines included
    secrets = (SECRET, BASIC.removeprefix("Basic "), "hunter2")
    refused: dict[str, fetch.FetchError] = {}
    closed = f"http://127.0.0.1:{_closed_port()}"  # nothing listens there: the connection is refused
    attempts = {
        "fetch.status": lambda: _get(f"{shop.url}/wrong-key", shop, auth=(KEY, SECRET)),
        "fetch.redirect": lambda: _get(f"{shop.url}/off-site", shop, auth=(KEY, SECRET)),
        "fetch.timeout": lambda: _get(f"{shop.url}/slow", shop, auth=(KEY, SECRET), timeout_s=0.5),
        "fetch.failed": lambda: _get(f"{closed}/orders", closed, auth=(KEY, SECRET)),
        "fetch.bad_address": lambda: _get("http://admin:hunter2@127.0.0.1/orders", shop, auth=(KEY, SECRET)),
    }
    for key, attempt in attempts.items():
        with pytest.raises(fetch.FetchError) as err:
            attempt()
        refused[key] = err.value
    assert {k: e.key for k, e in refused.items()} == {k: k for k in attempts}
    for exc in refused.values():
        shown = [str(exc), exc.reason, repr(exc.params), i18n.refusal("fa", exc), i18n.refusal("en", exc)]
        for secret in secrets:
            assert not any(secret in text for text in shown), (exc.key, shown)
    assert caplog.records and not any(secret in caplog.text for secret in secrets)


@pytest.mark.parametrize(
    ("headers", "auth", "name"),
    [
        ({"Host": "attacker.example"}, None, "Host"),
        ({"host": "127.0.0.1"}, None, "host"),
        ({"Transfer-Encoding": "chunked"}, None, "Transfer-Encoding"),
        ({"X-Api-Key": f"{SECRET}\r\nX-Injected: 1"}, None, "X-Api-Key"),  # a pasted key with its line break
        ({"X-Api-Key": f"کلید {SECRET}"}, None, "X-Api-Key"),
        ({"X-Api-Key": f"{SECRET} "}, None, "X-Api-Key"),
        ({"Bad Name": SECRET}, None, "?"),
        ({"Authorization": f"Bearer {SECRET}"}, (KEY, SECRET), "Authorization"),
        ({}, (f"{KEY}:x", SECRET), "Authorization"),  # Basic can't carry a colon in the user
        ({}, (KEY, f"{SECRET}\n"), "Authorization"),
    ],
)
def test_headers_that_cannot_be_sent_are_refused_before_anything_is(
    shop: Shop, headers: dict[str, str], auth: tuple[str, str] | None, name: str
) -> None:
    with pytest.raises(fetch.FetchError) as err:
        _get(f"{shop.url}/orders", shop, headers=headers, auth=auth)
    assert err.value.key == "fetch.bad_header" and err.value.params == {"name": name}
    shown = i18n.refusal("fa", err.value)
    assert f"سرآیند درخواست {name}" in shown and SECRET not in shown and SECRET not in str(err.value)
    assert shop.seen == []  # nothing was sent


def test_from_shop_passes_them_through_under_the_shops_settings(shop: Shop, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, model="none", public_url=shop.url, fetch_private_addresses=True)
    got = fetch.from_shop(
        f"{shop.url}/orders",
        settings,
        accept="application/json",
        headers={"X-Shop-Locale": "fa_IR"},
        auth=(KEY, SECRET),
    )
    assert got.content_type == "application/json"
    seen = shop.headers_of("/orders")
    assert seen["authorization"] == [BASIC] and seen["x-shop-locale"] == ["fa_IR"]
    assert seen["accept"] == ["application/json"]
