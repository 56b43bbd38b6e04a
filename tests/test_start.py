"""The first run and the guided start, through the real app: setup signs the owner in, the home
page's checklist ticks itself from what is there, "check my site" reads the owner's page through
the safe fetch, and a site where the chat was refused is reported, kept within bounds and
allowed with one click."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import HTTPServer
from pathlib import Path

import pytest
from litestar.testing import TestClient

from appliance.app import create_app
from appliance.kb import store as kb
from appliance.kb.entry import Entry
from appliance.owner import account as owner
from appliance.owner import checklist
from appliance.owner import sessions as auth
from appliance.settings import Settings

from .helpers import HOSTILE, SAME, Clock, QuietHandler, csrf, free_port, sign_in

SHOP = "https://shop.example"


def _token(c: TestClient) -> str:
    state = c.app.state.services
    token = owner.new_setup_token(state.store, state.clock)
    assert token
    return token


# -- setup ---------------------------------------------------------------------------------------


def test_setup_signs_the_owner_in_and_lands_on_the_guided_start(client: TestClient) -> None:
    """After choosing the password the owner had to sign in again, and landed on a row of zeros."""
    token = _token(client)
    page = client.get(f"/admin/setup?token={token}")
    assert page.status_code == 200 and "bootstrap-5.3.9.rtl.min.css" in page.text and "vazirmatn" in page.text
    assert "allowed_origins" not in page.text and f"token={token}&amp;lang=en" in page.text  # the switch keeps the link
    form = {"token": token, "password": "یک گذرواژه‌ی بلند فارسی", "confirm": "یک گذرواژه‌ی بلند فارسی", "lang": "fa"}
    done = client.post("/admin/setup", data=form, headers=SAME, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/admin/"
    assert client.cookies.get(auth.COOKIE)
    home = client.get("/admin/")
    assert home.status_code == 200 and 'data-flash="گذرواژه ذخیره شد و وارد شدید' in home.text
    assert "راه‌اندازی گفتگو در چند گام" in home.text and "۰ از ۵ انجام شده" in home.text
    # the flash is shown once
    assert 'data-flash=""' in client.get("/admin/").text


def test_setup_in_english_with_its_errors_in_the_new_look(client: TestClient) -> None:
    token = _token(client)
    page = client.get(f"/admin/setup?token={token}&lang=en")
    assert 'dir="ltr"' in page.text and "bootstrap-5.3.9.min.css" in page.text and "Choose a password" in page.text
    assert "form-control" in page.text and f"token={token}&amp;lang=fa" in page.text
    short = client.post(
        "/admin/setup", data={"token": token, "password": "short", "confirm": "short", "lang": "en"}, headers=SAME
    )
    assert short.status_code == 422 and "is-invalid" in short.text and 'role="alert"' in short.text
    bad = client.get("/admin/setup?token=nope&lang=en")
    assert bad.status_code == 403 and "appliance setup-link" in bad.text and 'href="/admin/login?lang=en"' in bad.text


def test_a_used_setup_link_sends_the_owner_home_or_says_what_to_do_in_their_language(client: TestClient) -> None:
    """A used link opened by the signed-in owner showed an English page (the browser's language)
    telling them to run `appliance setup-link`, which prints nothing once a password is set."""
    token = _token(client)
    form = {"token": token, "password": "یک گذرواژه‌ی بلند فارسی", "confirm": "یک گذرواژه‌ی بلند فارسی", "lang": "fa"}
    assert client.post("/admin/setup", data=form, headers=SAME, follow_redirects=False).status_code == 303
    english = {"accept-language": "en-US,en;q=0.9"}
    again = client.get(f"/admin/setup?token={token}", headers=english, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == "/admin/"  # signed in: home
    client.cookies.clear()
    for link in (f"/admin/setup?token={token}", "/admin/setup?token=nope"):
        page = client.get(link, headers=english)
        assert page.status_code == 403 and 'lang="fa"' in page.text  # the owner's language, not the browser's
        assert "گذرواژهٔ پیشخوان پیش‌تر انتخاب شده است" in page.text and "با همان گذرواژه وارد پیشخوان شوید" in page.text
        assert 'href="/admin/login?lang=fa"' in page.text and "appliance reset-password" in page.text
        assert "setup-link" not in page.text
    en = client.get(f"/admin/setup?token={token}&lang=en")  # the page's own language switch
    assert "already been chosen" in en.text and "Forgot it?" in en.text
    resent = client.post("/admin/setup", data=form, headers={**SAME, **english})
    assert resent.status_code == 403 and "گذرواژهٔ پیشخوان پیش‌تر انتخاب شده است" in resent.text


def test_sign_in_page_in_the_new_look_with_the_language_switch(admin: TestClient) -> None:
    fa = admin.get("/admin/login?next=/admin/kb")
    assert "bootstrap-5.3.9.rtl.min.css" in fa.text and 'href="/admin/login?lang=en&amp;next=%2Fadmin%2Fkb"' in fa.text
    en = admin.get("/admin/login?lang=en")
    assert 'dir="ltr"' in en.text and 'href="/admin/login?lang=fa"' in en.text
    wrong = sign_in(admin, "نادرست")
    assert wrong.status_code == 401 and "is-invalid" in wrong.text and "lang=en" in wrong.text


# -- the checklist -------------------------------------------------------------------------------


@pytest.fixture
def owner_client(data_dir: Path, clock: Clock) -> Iterator[TestClient]:
    settings = Settings(data_dir=data_dir, model="none", public_url="http://127.0.0.1:8750")
    with TestClient(create_app(settings, clock=clock)) as c:
        from .helpers import password_hash

        owner.set_password(c.app.state.services.store, password_hash(), clock)
        assert sign_in(c).status_code == 303
        yield c


def _ticked(html: str) -> set[str]:
    return set(re.findall(r'class="list-group-item py-3 step done" id="start-(\w+)"', html))


def test_the_steps_tick_themselves_from_what_is_there(owner_client: TestClient, data_dir: Path, clock: Clock) -> None:
    c = owner_client
    html = c.get("/admin/").text
    assert _ticked(html) == set() and "۰ از ۵ انجام شده" in html
    assert "/static/widget-loader-1.1.0.js" in html  # the snippet to copy
    # (a) the name and the hours, saved in the settings
    services = c.app.state.services
    services.apply_settings(services.settings.replace(shop_name="کتاب‌فروشی نیلوفر"))
    assert "shop" not in _ticked(c.get("/admin/").text)  # the hours were never saved
    (data_dir / "settings.toml").write_text('business_hours = "sat-wed 09:00-18:00"\n', encoding="utf-8")
    assert "shop" in _ticked(c.get("/admin/").text)
    # (b) five entries
    kb.save(
        services.store,
        [
            Entry(id=f"e{i}", title=f"مطلب {i}", questions=[f"پرسش {i}؟"], answer=f"پاسخ {i}.", lang="fa")
            for i in range(5)
        ],
        embedder=services.chat.decider.index.embedder,
        now="t",
        source="test",
    )
    # (e) e-mail set and (c) a site allowed are not enough: the chat shown there and an e-mail that
    # arrived are (tests/test_mail.py sends a real one)
    services.apply_settings(
        services.settings.replace(owner_email="owner@example.ir", smtp_host="mail.example.ir", allowed_origins=[SHOP])
    )
    assert _ticked(c.get("/admin/").text) == {"shop", "knowledge"}
    assert c.get("/api/v1/embed/status", headers={"origin": SHOP}).json() == {"allowed": True}
    checklist.record_mail_test(services.store, to="owner@example.ir", host="mail.example.ir", now=clock(), ok=True)
    html = c.get("/admin/").text
    assert _ticked(html) == {"shop", "knowledge", "site", "notify"} and "۴ از ۵ انجام شده" in html
    assert (
        " open>" in html or "open\n" in html or re.search(r'<details class="card mb-4 start" id="start"\s+open', html)
    )
    # (d) the try page noted that the owner tried it
    with services.store.write() as db:
        from appliance.db import write_meta

        write_meta(db, "owner_tried_at", "2026-01-01T00:00:00")
    html = c.get("/admin/?lang=en").text
    assert _ticked(html) == {"shop", "knowledge", "site", "try", "notify"}
    assert "All set: every step is done" in html and "5 of 5 done" in html
    assert not re.search(r'id="start"\s+open', html)  # folded away, and can be reopened (<details>)


def test_zero_figures_say_something_useful(owner_client: TestClient) -> None:
    html = owner_client.get("/admin/?lang=en").text
    assert "None yet: put the chat on your site." in html and "stat-card" in html


# -- refused sites -------------------------------------------------------------------------------


def test_the_loader_is_told_whether_a_site_may_show_the_chat(owner_client: TestClient) -> None:
    c = owner_client
    refused = c.get("/api/v1/embed/status", headers={"origin": SHOP})
    assert refused.json() == {"allowed": False} and refused.headers["access-control-allow-origin"] == "*"
    assert c.get("/api/v1/embed/status").json() == {"allowed": True}  # the appliance's own page
    assert c.get("/api/v1/embed/status", headers={"origin": "http://127.0.0.1:8750"}).json() == {"allowed": True}
    services = c.app.state.services
    services.apply_settings(services.settings.replace(allowed_origins=["http://shop.example"]))
    # an http:// site stands for its https:// pages (the frame's CSP allows the upgrade)
    assert c.get("/api/v1/embed/status", headers={"origin": SHOP}).json() == {"allowed": True}


def test_a_refusal_appears_on_the_home_page_and_one_click_allows_it(owner_client: TestClient, data_dir: Path) -> None:
    c = owner_client
    assert c.get("/widget").headers["content-security-policy"].endswith("frame-ancestors 'self'")
    r = c.post("/api/v1/embed/refusals", content=b"{}", headers={"origin": SHOP, "content-type": "text/plain"})
    assert r.status_code == 204
    html = c.get("/admin/?lang=en").text
    assert "The chat was refused on \u2068https://shop.example\u2069: allow this site?" in html
    fa = c.get("/admin/").text
    assert "گفتگو روی \u2068https://shop.example\u2069 نشان داده نشد" in fa
    allowed = c.post(
        "/admin/start/allow-site", data={"origin": SHOP, "csrf_token": csrf(c)}, headers=SAME, follow_redirects=False
    )
    assert allowed.status_code == 303 and allowed.headers["location"] == "/admin/#start-site"
    assert "https://shop.example" in (data_dir / "settings.toml").read_text(encoding="utf-8")
    assert c.get("/widget").headers["content-security-policy"].endswith(f"frame-ancestors 'self' {SHOP}")
    html = c.get("/admin/?lang=en").text
    assert "allow this site?" not in html and "Site allowed" in html  # the toast
    assert "site" not in _ticked(html)  # allowed, but not seen there yet
    # the next visitor's page: the loader is told yes, and the step ticks
    assert c.get("/api/v1/embed/status", headers={"origin": SHOP}).json() == {"allowed": True}
    assert "site" in _ticked(c.get("/admin/?lang=en").text)


def test_allowing_needs_the_owner_and_a_real_site(owner_client: TestClient, data_dir: Path) -> None:
    c = owner_client
    no_token = c.post("/admin/start/allow-site", data={"origin": SHOP}, headers=SAME, follow_redirects=False)
    assert no_token.status_code == 403
    for junk in ("https://shop.example/path", "javascript:alert(1)", "shop.example", HOSTILE):
        r = c.post(
            "/admin/start/allow-site",
            data={"origin": junk, "csrf_token": csrf(c)},
            headers=SAME,
            follow_redirects=False,
        )
        assert r.status_code == 303
    assert c.app.state.services.settings.allowed_origins == ()
    assert not (data_dir / "settings.toml").exists()
    c.cookies.clear()
    assert c.post("/admin/start/allow-site", data={"origin": SHOP}, follow_redirects=False).status_code in (303, 401)


def test_refusal_reports_are_bounded_checked_and_rate_limited(owner_client: TestClient) -> None:
    c = owner_client
    store = c.app.state.services.store

    def report(origin: str, ip: str = "203.0.113.9") -> int:
        return c.post(
            "/api/v1/embed/refusals",
            content=b"{}",
            headers={"origin": origin, "content-type": "text/plain", "x-forwarded-for": ip},
        ).status_code

    # Nothing but a site's origin is kept: no paths, queries, junk, file pages or hostile text.
    for bad in ("null", "https://shop.example/secret?q=1", HOSTILE, "ftp://shop.example", "https://" + "a" * 300):
        assert report(bad) == 204
    assert checklist.refusals(store) == []
    # A body larger than a report is refused before it is read.
    big = c.post("/api/v1/embed/refusals", content=b"x" * 5000, headers={"origin": SHOP, "content-type": "text/plain"})
    assert big.status_code == 413
    # Per address: a handful an hour.
    codes = [report(f"https://s{i}.example") for i in range(10)]
    assert codes.count(204) == 6 and codes[-1] == 429
    # In all: at most MAX_REFUSED sites are kept, the ones reported longest ago go first.
    for i in range(40):
        checklist.record_refusal(store, f"https://many{i}.example", f"2027-01-01T00:00:{i:02d}")
    kept = checklist.refusals(store)
    assert len(kept) == checklist.MAX_REFUSED and kept[0]["origin"] == "https://many39.example"
    # The home page shows a few, escaped, the most reported first.
    checklist.record_refusal(store, "https://many20.example", "2027-01-01T00:01:00")
    html = c.get("/admin/?lang=en").text
    assert html.count("allow this site?") == checklist.SHOWN_REFUSED and "many20.example" in html


def test_not_my_site_forgets_a_refusal(owner_client: TestClient) -> None:
    c = owner_client
    checklist.record_refusal(c.app.state.services.store, "https://evil.example", "2026-01-01T00:00:00")
    assert "evil.example" in c.get("/admin/").text
    r = c.post(
        "/admin/start/dismiss-site",
        data={"origin": "https://evil.example", "csrf_token": csrf(c)},
        headers=SAME,
        follow_redirects=False,
    )
    assert r.status_code == 303 and "evil.example" not in c.get("/admin/").text


# -- check my site -------------------------------------------------------------------------------


class _Site(QuietHandler):
    pages: dict[str, tuple[int, dict[str, str], bytes]] = {}

    def do_GET(self) -> None:
        status, headers, body = self.pages.get(self.path, (404, {}, b"not here"))
        self.send_response(status)
        for k, v in {"content-type": "text/html; charset=utf-8", **headers}.items():
            self.send_header(k, v)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def site() -> Iterator[str]:
    port = free_port()
    server = HTTPServer(("127.0.0.1", port), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


def _check(c: TestClient, typed: str, lang: str = "fa") -> str:
    r = c.post(
        f"/admin/start/check-site?lang={lang}",
        data={"site": typed},
        headers={**SAME, "x-csrf-token": csrf(c), "hx-request": "true"},
    )
    assert r.status_code == 200
    return r.text


def test_check_my_site_finds_the_chat_and_allows_the_site(owner_client: TestClient, site: str) -> None:
    c = owner_client
    services = c.app.state.services
    services.apply_settings(services.settings.replace(fetch_private_addresses=True))
    _Site.pages = {
        "/": (
            200,
            {},
            b'<html><body><h1>\xda\xa9\xd8\xaa\xd8\xa7\xd8\xa8</h1><script src="http://127.0.0.1:8750/static/widget-loader-1.1.0.js" async></script></body></html>',
        ),
        "/old": (200, {}, b'<script src="https://other.example/static/widget-loader-1.0.0.js"></script>'),
        "/none": (200, {}, b"<html><body>no chat here</body></html>"),
        "/away": (302, {"location": "https://elsewhere.example/"}, b""),
    }
    # Persian digits in the port are read
    port = site.rsplit(":", 1)[1]
    persian_port = port.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    html = _check(c, f"http://127.0.0.1:{persian_port}/")
    assert "کد گفتگو در این صفحه هست" in html and "هنوز اجازه‌ی نمایش گفتگو را ندارد" in html
    assert f'name="origin" value="{site}"' in html
    assert "کد گفتگو هست، اما به نشانی دیگری" in _check(c, f"{site}/old")
    assert "پیدا نشد" in _check(c, f"{site}/none", "fa")
    assert "Put the code above before" in _check(c, f"{site}/none", "en")
    away = _check(c, f"{site}/away", "en")
    assert "alert-danger" in away  # a redirect to another site is not followed
    # allowed in one click, then said so
    c.post("/admin/start/allow-site", data={"origin": site, "csrf_token": csrf(c)}, headers=SAME)
    assert "اجازه‌ی نمایش گفتگو را دارد" in _check(c, site)


def test_check_my_site_refuses_private_addresses_unless_allowed(owner_client: TestClient, site: str) -> None:
    c = owner_client
    _Site.pages = {"/": (200, {}, b"<p>hi</p>")}
    html = _check(c, site, "en")
    assert "alert-danger" in html and "private" in html.lower()
    assert "alert-danger" in _check(c, "", "en") and "Type your site" in _check(c, "", "en")
    assert "alert-danger" in _check(c, "file:///etc/passwd", "en")


# -- "put the chat on your site" ticks from the chat really shown -------------------------------


def test_the_site_step_ticks_when_the_chat_was_shown_on_an_allowed_site(owner_client: TestClient, clock: Clock) -> None:
    """It ticked as soon as any site was allowed: the owner had allowed only their FAQ site for an
    import, no page had the code yet, and it stayed ticked after the shop's site was dropped."""
    from datetime import timedelta

    c = owner_client
    services = c.app.state.services
    store = services.store
    faq = "https://faq.shop.example"

    def status(origin: str) -> bool:
        return c.get("/api/v1/embed/status", headers={"origin": origin}).json()["allowed"]

    def site_step() -> str:
        html = c.get("/admin/").text
        return html.split('id="start-site"', 1)[1].split('id="start-try"', 1)[0]

    services.apply_settings(services.settings.replace(allowed_origins=[faq]))
    step = site_step()
    assert "site" not in _ticked(c.get("/admin/").text)
    assert "هنوز روی هیچ‌کدام از سایت‌های شما دیده نشده" in step
    # a site not allowed, junk, the appliance's own page: nothing is noted
    for origin in (SHOP, "null", "https://faq.shop.example/path", HOSTILE):
        status(origin)
    assert status("http://127.0.0.1:8750") and c.get("/api/v1/embed/status").json() == {"allowed": True}
    assert checklist.shown_in(store.read()) == [] and "site" not in _ticked(c.get("/admin/").text)
    # the owner allows the shop's site; a visitor's page loads the chat there
    services.apply_settings(services.settings.replace(allowed_origins=[faq, SHOP]))
    assert status(SHOP)
    assert "site" in _ticked(c.get("/admin/").text)
    clock.now += timedelta(hours=2)
    step = site_step()
    assert "گفتگو روی \u2068https://shop.example\u2069 نشان داده شد، ۲ ساعت پیش" in step
    en = c.get("/admin/?lang=en").text
    assert "The chat was shown on \u2068https://shop.example\u2069, 2 hours ago" in en
    # a second site is noted on its own; a site's note is written at most once an hour
    assert status(SHOP)  # an hour past its note: written again
    first = checklist.shown_in(store.read())[0]["at"]
    assert first == clock().isoformat(timespec="seconds")
    clock.now += timedelta(minutes=20)
    assert status(faq) and status(SHOP)
    notes = {r["origin"]: r["at"] for r in checklist.shown_in(store.read())}
    assert notes == {SHOP: first, faq: clock().isoformat(timespec="seconds")}
    clock.now += timedelta(minutes=61)
    status(SHOP)
    assert {r["origin"]: r["at"] for r in checklist.shown_in(store.read())}[SHOP] == clock().isoformat(
        timespec="seconds"
    )
    # the shop's site dropped: the step says where it was last seen that is still allowed
    services.apply_settings(services.settings.replace(allowed_origins=[faq]))
    assert "\u2068https://faq.shop.example\u2069 نشان داده شد" in site_step()
    # no site left where it was seen: not done
    services.apply_settings(services.settings.replace(allowed_origins=["https://new.shop.example"]))
    assert "site" not in _ticked(c.get("/admin/").text)
    # bounded: a few sites, the latest kept
    for i in range(40):
        checklist.record_shown(store, f"https://s{i}.example", clock() + timedelta(hours=i))
    kept = checklist.shown_in(store.read())
    assert len(kept) == checklist.MAX_SHOWN and kept[0]["origin"] == "https://s39.example"


def test_check_my_site_finding_the_chat_on_an_allowed_site_ticks_the_step(owner_client: TestClient, site: str) -> None:
    c = owner_client
    services = c.app.state.services
    services.apply_settings(services.settings.replace(fetch_private_addresses=True))
    _Site.pages = {"/": (200, {}, b'<script src="http://127.0.0.1:8750/static/widget-loader-1.1.0.js"></script>')}
    html = _check(c, site)
    assert "هنوز اجازه‌ی نمایش گفتگو را ندارد" in html and 'name="found" value="ours"' in html
    assert "site" not in _ticked(c.get("/admin/").text)  # found, but the chat would be refused there
    c.post("/admin/start/allow-site", data={"origin": site, "found": "ours", "csrf_token": csrf(c)}, headers=SAME)
    home = c.get("/admin/").text
    assert "site" in _ticked(home) and f"«بررسی سایت» کد گفتگو را روی \u2068{site}\u2069 پیدا کرد، همین حالا" in home
    # a page without the chat, on an allowed site, ticks nothing
    _Site.pages = {"/": (200, {}, b"<p>no chat</p>")}
    with services.store.write() as db:
        from appliance.db import write_meta

        write_meta(db, checklist.SHOWN_KEY, "[]")
    _check(c, site)
    assert "site" not in _ticked(c.get("/admin/").text)


def test_the_home_page_says_the_model_in_words_and_a_missing_page_leads_back_home(owner_client: TestClient) -> None:
    """«مدل زبانی: — — بدون مدل…»: a dash for the empty name and another as a separator. And
    the 404 page's button said «خانهٔ پیشخوان»."""
    home = owner_client.get("/admin/?lang=fa").text
    assert "بدون مدل زبانی: پاسخ‌ها مستقیم از پایگاه دانش می‌آیند" in home and "—" not in home
    assert (
        "No language model: answers come straight from the knowledge base" in owner_client.get("/admin/?lang=en").text
    )
    page = {"accept": "text/html"}
    missing = owner_client.get("/admin/no-such-page?lang=fa", headers=page)
    assert missing.status_code == 404 and "برگشت به خانه" in missing.text and "خانهٔ پیشخوان" not in missing.text
    assert "Back to home" in owner_client.get("/admin/no-such-page?lang=en", headers=page).text
