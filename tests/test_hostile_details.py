"""The second probe's small holes (issue #31, the low items), each through the real app or a
real HTTP server on loopback: a sign-in burst, a damaged Word file, a fetch that redirects slowly
or to another port, addresses that carry a private one, direction overrides in a customer's text,
the headers of Litestar's own answers and of an attachment, the shop's allowed sites, a GET that
changed the owner's language, and what a hostile body leaves in the log."""

from __future__ import annotations

import io
import logging
import threading
import time
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import ThreadingHTTPServer
from pathlib import Path

import docx
import pytest
from litestar.testing import TestClient
from PIL import Image

from appliance import settings as settings_mod
from appliance.app import create_app
from appliance.documents import fetch
from appliance.owner import account as owner
from appliance.owner.throttle import SignInThrottle
from appliance.settings import Settings, SettingsError

from .helpers import Clock, QuietHandler, bearer, make_api_client, password_hash, post, send, sign_in, start_chat

# -- the sign-in throttle, raced ---------------------------------------------------------------------


def test_thirty_wrong_passwords_at_once_are_five_tries_and_an_expiry_lets_one_more(
    data_dir: Path, clock: Clock
) -> None:
    """Counted after the (slow, off-loop) password check, thirty guesses sent at once all passed
    the wait before the first failure was counted: ten were checked where five in a row are, and
    each expiry let another burst through. Counted as they are let through, it is five, then one.
    (Thirty threads on the test client: each request runs in the app's loop at once.)"""
    now = [1000.0]
    with TestClient(create_app(Settings(data_dir=data_dir, model="none"), clock=clock)) as c:
        owner.set_password(c.app.state.services.store, password_hash(), clock)
        c.app.state.services.throttle = SignInThrottle(clock=lambda: now[0])
        start = threading.Barrier(30)

        def guess(i: int) -> int:
            start.wait()
            return sign_in(c, f"guess {i}").status_code

        with ThreadPoolExecutor(30) as pool:
            first = sorted(pool.map(guess, range(30)))
            now[0] += 1.5  # the second's wait after the fifth failure is over
            second = sorted(pool.map(guess, range(30)))
    assert first == [401] * 5 + [429] * 25
    assert second == [401] + [429] * 29


def test_the_right_password_after_wrong_ones_still_signs_in(admin: TestClient) -> None:
    assert [sign_in(admin, f"guess {i}").status_code for i in range(3)] == [401] * 3
    assert sign_in(admin).status_code == 303  # the tries counted up front are taken back
    assert [sign_in(admin, f"again {i}").status_code for i in range(5)] == [401] * 5  # counting from zero


# -- a damaged Word file --------------------------------------------------------------------------------

BOMB = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!DOCTYPE w:document [
<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
<!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
<!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
]>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r>
<w:t>&g;</w:t></w:r></w:p></w:body></w:document>"""


def _word_file_with(document_xml: bytes) -> bytes:
    """A real Word file (python-docx's), its word/document.xml replaced."""
    made = io.BytesIO()
    d = docx.Document()
    d.add_paragraph("شرایط گارانتی")
    d.save(made)
    out = io.BytesIO()
    with zipfile.ZipFile(made) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, document_xml if item.filename == "word/document.xml" else src.read(item))
    return out.getvalue()


@pytest.fixture
def signed_in(admin: TestClient) -> TestClient:
    sign_in(admin)
    return admin


@pytest.mark.parametrize(
    "document_xml",
    [b"<w:document xmlns:w='http://schemas.openxmlformats.org/wordprocessingml/2006/main'><w:body><w:p>", BOMB],
    ids=["broken XML", "entity bomb"],
)
@pytest.mark.parametrize(
    "lang, said",
    [("fa", "این فایل Word (\u200e.docx) نیست یا خراب است"), ("en", "not a Word (.docx) file, or a damaged one")],
)
def test_a_damaged_word_file_is_refused_in_the_owners_language(
    signed_in: TestClient, document_xml: bytes, lang: str, said: str
) -> None:
    content = _word_file_with(document_xml)
    r = post(
        signed_in,
        f"/admin/documents/upload?lang={lang}",
        files={"file": ("گارانتی.docx", content, "application/octet-stream")},
    )
    assert r.status_code == 422 and said in r.text and "Traceback" not in r.text
    assert signed_in.get("/admin/documents").status_code == 200


# -- fetching from the shop's site: one deadline, the same port ---------------------------------------


class Slow(QuietHandler):
    """Each hop answers late, under the limit on its own: /hop/0 -> /hop/1 -> /hop/2 -> a page."""

    delay_s = 0.7

    def do_GET(self) -> None:
        if self.path.startswith("/hop/"):
            n = int(self.path.rsplit("/", 1)[1])
            time.sleep(self.delay_s)
            if n < 2:
                self._send(302, "text/html", b"", location=f"/hop/{n + 1}")
            else:
                self._send(200, "text/html", b"<html><body><h1>FAQ</h1><p>Late, but here.</p></body></html>")
        elif self.path == "/to-appliance":  # a shop page sending the reader to another service
            self._send(302, "text/html", b"", location=f"http://127.0.0.1:{self.server.other_port}/healthz")  # type: ignore[attr-defined]
        elif self.path == "/healthz":
            self._send(200, "application/json", b'{"loopback only": "details"}')
        else:
            self._send(404, "text/plain", b"no")


@pytest.fixture
def two_servers() -> Iterator[tuple[str, str]]:
    """The shop's site and another service on the same machine (the appliance's own port)."""
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), Slow) for _ in range(2)]
    for server, other in zip(servers, reversed(servers), strict=True):
        server.daemon_threads = True
        server.other_port = other.server_address[1]  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield tuple(f"http://127.0.0.1:{s.server_address[1]}" for s in servers)  # type: ignore[misc]
    for server in servers:
        server.shutdown()
        server.server_close()


def test_one_deadline_for_the_whole_fetch_redirects_included(two_servers: tuple[str, str]) -> None:
    """Three hops of 0.7 s each, with a 1 s limit: each hop was within it, the whole took 2.1 s."""
    shop, _ = two_servers
    origins = fetch.shop_origins("", [shop])
    with pytest.raises(fetch.FetchError) as late:
        fetch.fetch(f"{shop}/hop/0", origins=origins, allow_private=True, timeout_s=1.0)
    assert late.value.key == "fetch.timeout"
    got = fetch.fetch(f"{shop}/hop/2", origins=origins, allow_private=True, timeout_s=10.0)
    assert b"Late, but here" in got.body  # one slow hop within the limit still arrives


def test_a_redirect_to_another_port_of_the_shops_host_is_refused(two_servers: tuple[str, str]) -> None:
    shop, other = two_servers
    settings = Settings(data_dir=Path("/nonexistent"), allowed_origins=(shop,), fetch_private_addresses=True)
    with pytest.raises(fetch.FetchError) as refused:
        fetch.from_shop(f"{shop}/to-appliance", settings, accept="text/html")
    assert refused.value.key == "fetch.redirect"
    with pytest.raises(fetch.FetchError) as refused:
        fetch.from_shop(f"{other}/healthz", settings, accept="text/html")
    assert refused.value.key == "fetch.not_allowed" and other.removeprefix("http://") in str(refused.value)
    # the same host on its standard ports is the same site; the scheme's default port is implied
    origins = fetch.shop_origins("https://support.shop.example", ["https://shop.example", "http://a.example:8080"])
    assert ("https", "shop.example", 443) in origins and ("http", "shop.example", 80) in origins
    assert ("http", "a.example", 8080) in origins and ("https", "a.example", 8080) not in origins
    assert ("https", "shop.example", 8443) not in origins


@pytest.mark.parametrize(
    "address",
    [
        "::7f00:1",  # IPv4-compatible 127.0.0.1
        "::a00:1",  # ... 10.0.0.1
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b:1::a00:1",  # local-use NAT64
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "fec0::1",  # site-local
        "::ffff:10.0.0.1",  # IPv4-mapped
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "ff0e::1",  # multicast
        "224.0.0.1",
    ],
)
def test_addresses_that_carry_or_reach_a_private_one_are_private(address: str) -> None:
    """Python 3.11's is_global says True for several of these. The resolver is the OS's in real
    use; here it gives what a hostile DNS answer would."""
    with pytest.raises(fetch.FetchError) as refused:
        fetch.check(
            "https://shop.example/", {("https", "shop.example", 443)}, allow_private=False, resolver=lambda h: [address]
        )
    assert refused.value.key == "fetch.private"


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "64:ff9b::5db8:d822"])
def test_public_addresses_still_pass(address: str) -> None:
    origins = {("https", "shop.example", 443)}
    assert fetch.check("https://shop.example/", origins, allow_private=False, resolver=lambda h: [address]) == address


# -- direction overrides in what a customer types ----------------------------------------------------

OVERRIDES = "\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u202a\u202b\u202c\u202d\u061c"


def test_direction_overrides_are_stripped_from_messages_and_rating_comments(data_dir: Path, demo_db: Path) -> None:
    """A right-to-left override in a message turned the rest of the owner's transcript line
    around ("gpj.exe" read as "exe.jpg"). ZWNJ is Persian spelling, and stays."""
    with make_api_client(data_dir, demo_db) as c:
        owner.set_password(c.app.state.services.store, password_hash(), lambda: Clock()())
        conv, token, _ = start_chat(c, "fa")
        send(c, conv, token, f"سفارش من\u202eexe.jpg{OVERRIDES} کی می\u200cرسد؟")
        r = c.post(
            f"/api/v1/conversations/{conv}/rating",
            json={"satisfied": False, "comment": f"بد\u202eبود{OVERRIDES} نمی\u200cدانم"},
            headers=bearer(token),
        )
        assert r.status_code == 200, r.text
        db = c.app.state.services.store.read()
        text = db.execute("SELECT text FROM messages WHERE role = 'customer'").fetchone()[0]
        comment = db.execute("SELECT rating_comment FROM conversations WHERE id = ?", [conv]).fetchone()[0]
        assert text == "سفارش منexe.jpg کی می\u200cرسد؟" and comment == "بدبود نمی\u200cدانم"
        sign_in(c)
        page = c.get(f"/admin/conversations/{conv}").text
        # (the page's own isolates, U+2068/2069 around an entry's title, are balanced and stay; the
        # Latin word is isolated left to right like any in a Persian text, see text/bidi.py)
        assert 'سفارش من<bdi dir="ltr">exe.jpg</bdi> کی می\u200cرسد؟' in page and "\u202e" not in page


# -- headers: Litestar's own answers, an attachment ---------------------------------------------------


def test_routing_404s_and_405s_carry_the_security_headers(api: TestClient) -> None:
    for r in (
        api.get("/no-such-page"),
        api.get("/admin/no-such-page"),
        api.get("/api/v1/no-such-thing"),
        api.get("/static/no-such-file.js"),
        api.delete("/healthz"),
        api.put("/api/v1/conversations"),
    ):
        assert r.status_code in (404, 405), r.request.url
        assert "frame-ancestors 'none'" in r.headers.get("content-security-policy", ""), r.request.url
        assert r.headers.get("x-frame-options") == "DENY" and r.headers.get("x-content-type-options") == "nosniff"
    ok = api.get("/healthz")
    assert ok.headers["x-frame-options"] == "DENY" and len(ok.headers.get_list("content-security-policy")) == 1
    widget = api.get("/widget?lang=fa")  # its own CSP, framed by the shop: no DENY added to it
    assert (
        "https://shop.example" in widget.headers["content-security-policy"] and "x-frame-options" not in widget.headers
    )


def test_an_attachment_is_never_framed_and_a_persian_name_gets_a_readable_fallback(
    data_dir: Path, demo_db: Path
) -> None:
    picture = io.BytesIO()
    Image.new("RGB", (120, 80), (200, 40, 40)).save(picture, "JPEG")
    with make_api_client(data_dir, demo_db) as c:
        conv, token, _ = start_chat(c, "fa")
        r = c.post(
            f"/api/v1/conversations/{conv}/attachments",
            files={"file": ("عکس خرید.jpg", picture.getvalue(), "image/jpeg")},
            data={"text": "", "lang": "fa"},
            headers=bearer(token),
        )
        assert r.status_code == 200, r.text
        (file,) = r.json()["message"]["attachments"]
        got = c.get(f"/api/v1/attachments/{file['id']}", headers=bearer(token))
        assert got.status_code == 200
        assert "frame-ancestors 'none'" in got.headers["content-security-policy"]
        assert "sandbox" in got.headers["content-security-policy"]
        disposition = got.headers["content-disposition"]
        assert 'filename="attachment.jpg"' in disposition
        assert "filename*=UTF-8''%D8%B9%DA%A9%D8%B3%20%D8%AE%D8%B1%DB%8C%D8%AF.jpg" in disposition


# -- the shop's allowed sites --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "https://shop.example/faq",
        "shop.example",
        "ftp://shop.example",
        "https://shop.example?x=1",
        "https://user@shop.example",
        "https://shop.example:99999",
        "javascript:alert(1)",
        "https://shop example",
        "*",
    ],
)
def test_an_allowed_site_that_is_not_an_origin_is_refused_when_loaded(data_dir: Path, written: str) -> None:
    with pytest.raises(SettingsError) as refused:
        settings_mod.load({"data_dir": data_dir}, environ={"APPLIANCE_ALLOWED_ORIGINS": written})
    assert refused.value.key == "setting.bad_origin"
    (data_dir / "settings.toml").write_text(f"allowed_origins = [{written!r}]\n".replace("'", '"'), encoding="utf-8")
    with pytest.raises(SettingsError):
        settings_mod.load({"data_dir": data_dir}, environ={})


def test_allowed_sites_are_written_as_browsers_send_them(data_dir: Path) -> None:
    s = settings_mod.load(
        {"data_dir": data_dir},
        environ={"APPLIANCE_ALLOWED_ORIGINS": "HTTPS://Shop.Example:443/, http://127.0.0.1:8080, https://فروشگاه.ir"},
    )
    assert s.allowed_origins == ("https://shop.example", "http://127.0.0.1:8080", "https://xn--mgbtj4c7ad63e.ir")


@pytest.mark.parametrize(
    "lang, said",
    [("fa", "نشانی یک سایت نیست"), ("en", "is not a site")],
)
def test_the_settings_page_refuses_an_allowed_site_with_a_path(signed_in: TestClient, lang: str, said: str) -> None:
    c = signed_in
    before = c.app.state.services.settings.allowed_origins
    r = post(
        c,
        f"/admin/settings?lang={lang}",
        data={"shop_name": "Book Nook", "allowed_origins": "https://shop.example/faq"},
    )
    assert r.status_code == 422 and said in r.text and "https://shop.example/faq" in r.text
    assert (
        c.app.state.services.settings.allowed_origins == before
        and not (c.app.state.services.settings.data_dir / "settings.toml").exists()
    )


# -- the owner's language: a GET shows, only the switch stores ----------------------------------------


def test_a_get_with_lang_shows_that_page_in_it_and_stores_nothing(signed_in: TestClient) -> None:
    c = signed_in
    store = c.app.state.services.store
    assert owner.language(store) == "fa"
    page = c.get("/admin/?lang=en")
    assert page.status_code == 200 and '<html lang="en"' in page.text
    assert owner.language(store) == "fa"  # an <img src=".../admin/?lang=en"> on any site did this
    assert '<html lang="fa"' in c.get("/admin/").text
    # the switch (a POST with the CSRF token) stores it, and goes back to the page without its ?lang=
    r = post(
        c,
        "/admin/language",
        data={"lang": "en"},
        headers={"hx-current-url": "http://testserver/admin/inbox?view=waiting&lang=fa"},
    )
    assert r.status_code == 200 and r.headers["hx-redirect"] == "/admin/inbox?view=waiting"
    assert owner.language(store) == "en" and '<html lang="en"' in c.get("/admin/").text


# -- a hostile body in the log -------------------------------------------------------------------------


def test_json_nested_thousands_deep_is_one_warning_line_not_a_traceback(
    api: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    deep = b'{"lang": "en", "x": ' + b"[" * 8000 + b"]" * 8000 + b"}"
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            r = api.post("/api/v1/conversations", content=deep, headers={"content-type": "application/json"})
            assert r.status_code == 400 and r.json()["error"] == "too_deep"
    logged = [rec for rec in caplog.records if "too_deep" in rec.getMessage() or "RecursionError" in rec.getMessage()]
    assert logged and all(rec.levelno == logging.WARNING and rec.exc_info is None for rec in logged)
    assert all(len(rec.getMessage()) < 200 for rec in logged)
    assert not [rec for rec in caplog.records if rec.levelno >= logging.ERROR]
