"""The owner's admin through the real app: sign-in, sessions, CSRF, pages in both languages."""

import asyncio
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from appliance.app import create_app
from appliance.cli import main
from appliance.kb import embedder
from appliance.kb import store as kb
from appliance.kb.entry import Entry
from appliance.owner import account as owner
from appliance.owner import sessions as auth
from appliance.owner import throttle as signin_throttle
from appliance.owner.throttle import SignInThrottle
from appliance.settings import Settings
from appliance.web.visitors import network

from .helpers import (
    HOSTILE,
    PASSWORD,
    SAME,
    Clock,
    csrf,
    customer_asks,
    password_hash,
    sign_in,
)


def test_pages_need_a_session(admin: TestClient) -> None:
    r = admin.get("/admin/kb?q=x", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/admin/login?next=/admin/kb%3Fq%3Dx"
    htmx = admin.get("/admin/kb", headers={"hx-request": "true"}, follow_redirects=False)
    # An htmx call doesn't navigate away from what the owner is typing: the page says so in place,
    # with the way to sign in and come back to the page the call came from.
    assert htmx.status_code == 401 and "hx-redirect" not in htmx.headers
    assert htmx.headers["hx-sign-in"] == "/admin/login"
    came_from = {"hx-request": "true", "hx-current-url": "http://testserver.local/admin/kb/gift-wrapping?lang=fa"}
    saving = admin.post("/admin/kb/gift-wrapping", data={"title": "x"}, headers=came_from, follow_redirects=False)
    assert (
        saving.status_code == 401
        and saving.headers["hx-sign-in"] == "/admin/login?next=/admin/kb/gift-wrapping%3Flang%3Dfa"
    )
    posted = admin.post(
        "/admin/settings",
        data={"shop_name": "x"},
        headers={"referer": "http://testserver.local/admin/settings"},
        follow_redirects=False,
    )
    assert posted.status_code == 303 and posted.headers["location"] == "/admin/login?next=/admin/settings"
    elsewhere = admin.post(
        "/admin/settings", headers={"referer": "https://evil.example/admin/x"}, follow_redirects=False
    )
    assert elsewhere.headers["location"] == "/admin/login"  # never back to another site
    assert admin.post("/admin/try", data={"question": "hi"}, follow_redirects=False).status_code in (303, 401)


def test_sign_in_rotates_the_session(admin: TestClient) -> None:
    wrong = sign_in(admin, "not the password")
    assert wrong.status_code == 401 and "not right" in wrong.text or "درست نیست" in wrong.text
    first = sign_in(admin)
    assert first.status_code == 303 and first.headers["location"] == "/admin/kb"
    old = admin.cookies.get(auth.COOKIE)
    assert old and "httponly" in first.headers["set-cookie"].lower()
    stored = admin.app.state.services.store.read().execute("SELECT id_hash FROM sessions").fetchall()
    assert old not in {r[0] for r in stored}  # only the hash is kept
    second = sign_in(admin)
    new = admin.cookies.get(auth.COOKIE)
    assert second.status_code == 303 and new != old
    assert auth.load(admin.app.state.services.store, old, admin.app.state.services.clock) is None  # the old id is dead
    assert admin.get("/admin/").status_code == 200


def test_open_redirects_are_refused(admin: TestClient) -> None:
    r = admin.post(
        "/admin/login",
        data={"password": PASSWORD, "next": "//evil.example/admin"},
        headers=SAME,
        follow_redirects=False,
    )
    assert r.headers["location"] == "/admin/"


def test_sign_in_is_throttled(admin: TestClient) -> None:
    codes = [sign_in(admin, f"guess {i}").status_code for i in range(5)]
    assert codes == [401] * 5
    blocked = sign_in(admin)  # even the right password, while the delay runs
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1


def _owner_app(data_dir: Path, clock: Clock, now: list[float]) -> TestClient:
    """The app behind a trusted proxy (so X-Forwarded-For names the client), with the sign-in
    throttle on a clock the test moves."""
    settings = Settings(data_dir=data_dir, model="none", trusted_proxies=("testclient",))
    client = TestClient(create_app(settings, clock=clock))
    client.__enter__()
    owner.set_password(client.app.state.services.store, password_hash(), clock)
    client.app.state.services.throttle = SignInThrottle(clock=lambda: now[0])
    return client


@pytest.mark.slow  # sixty real argon2 checks: seconds
def test_guesses_from_many_addresses_do_not_lock_the_owner_out(data_dir: Path, clock: Clock) -> None:
    """Five wrong passwords from each of twelve addresses (sixty guesses) locked the owner out
    everywhere for a quarter of an hour. Now tries from unknown devices are spaced by seconds,
    and the browser the owner signed in from before goes straight through."""
    now = [1000.0]
    c = _owner_app(data_dir, clock, now)
    try:
        assert sign_in(c, **{"x-forwarded-for": "198.51.100.7"}).status_code == 303  # the owner's phone, earlier
        phone_cookie = c.cookies.get(signin_throttle.DEVICE_COOKIE)
        assert phone_cookie
        c.cookies.clear()
        for n in range(12):
            for i in range(5):
                now[0] += 0.1
                r = sign_in(c, f"guess {n}-{i}", **{"x-forwarded-for": f"203.0.113.{n}"})
                assert r.status_code in (401, 429)
        # A new browser on a new address: seconds at most, not a lockout.
        r = sign_in(c, **{"x-forwarded-for": "192.0.2.50"})
        if r.status_code == 429:
            assert int(r.headers["retry-after"]) <= signin_throttle.GLOBAL_MAX_SPACING_S
            now[0] += int(r.headers["retry-after"])
            r = sign_in(c, **{"x-forwarded-for": "192.0.2.50"})
        assert r.status_code == 303
        # The phone that signed in before: at once, from an address the attacker used too.
        c.cookies.clear()
        c.cookies.set(signin_throttle.DEVICE_COOKIE, phone_cookie, path="/admin")
        assert sign_in(c, **{"x-forwarded-for": "203.0.113.3"}).status_code == 303
    finally:
        c.__exit__(None, None, None)


@pytest.mark.slow  # real waits, real argon2 or a whole import: a second or more
def test_delays_grow_per_client_and_ipv6_counts_by_64(data_dir: Path, clock: Clock) -> None:
    now = [1000.0]
    c = _owner_app(data_dir, clock, now)
    try:
        for i in range(5):  # one /64, five different addresses in it
            assert sign_in(c, "wrong", **{"x-forwarded-for": f"2001:db8:1:2::{i + 1}"}).status_code == 401
        r = sign_in(c, **{"x-forwarded-for": "2001:db8:1:2::ffff"})
        assert r.status_code == 429 and r.headers["retry-after"] == "1"
        assert sign_in(c, **{"x-forwarded-for": "2001:db8:1:3::1"}).status_code == 303  # the next /64
        c.cookies.clear()  # that browser is now a known device: the rest are tries from the /64 again
        waits = []
        for _ in range(4):
            now[0] += 3600
            assert sign_in(c, "wrong", **{"x-forwarded-for": "2001:db8:1:2::9"}).status_code == 401
            waits.append(int(sign_in(c, **{"x-forwarded-for": "2001:db8:1:2::9"}).headers["retry-after"]))
        assert waits == [2, 4, 8, 16]
    finally:
        c.__exit__(None, None, None)


def test_a_forged_device_cookie_counts_for_nothing(data_dir: Path, clock: Clock) -> None:
    assert signin_throttle.known_device(b"secret", "abc.0123456789abcdef0123456789abcdef") is None
    good = signin_throttle.new_device(b"secret")
    assert signin_throttle.known_device(b"secret", good) and signin_throttle.known_device(b"other", good) is None
    assert network("::ffff:192.0.2.1") == "192.0.2.1"
    assert network("2001:db8::1") == network("2001:db8::abcd") == "2001:db8::/64"


def test_cross_site_sign_in_is_refused(admin: TestClient) -> None:
    r = admin.post(
        "/admin/login", data={"password": PASSWORD}, headers={"sec-fetch-site": "cross-site"}, follow_redirects=False
    )
    assert r.status_code == 403 and auth.COOKIE not in admin.cookies


def test_forged_requests_are_rejected_end_to_end(admin: TestClient) -> None:
    sign_in(admin)
    token = csrf(admin)
    assert admin.post("/admin/try", data={"question": "hi"}, headers=SAME).status_code == 403
    assert (
        admin.post("/admin/try", data={"question": "hi"}, headers={**SAME, "x-csrf-token": "forged"}).status_code == 403
    )
    cross = admin.post(
        "/admin/try", data={"question": "hi"}, headers={"sec-fetch-site": "cross-site", "x-csrf-token": token}
    )
    assert cross.status_code == 403
    ok = admin.post("/admin/try", data={"question": "hi"}, headers={**SAME, "x-csrf-token": token})
    assert ok.status_code == 200
    form_field = admin.post("/admin/try", data={"question": "hi", "csrf_token": token}, headers=SAME)
    assert form_field.status_code == 200  # a plain form post carries the token in a field


def test_forged_request_rejected_at_the_asgi_level(admin: TestClient) -> None:
    """A hand-built ASGI request with the owner's cookie but no token, as another site's form makes."""
    sign_in(admin)
    cookie = f"{auth.COOKIE}={admin.cookies.get(auth.COOKIE)}".encode()
    body = urlencode({"question": "hi"}).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/admin/logout-everywhere",
        "raw_path": b"/admin/logout-everywhere",
        "query_string": b"",
        "root_path": "",
        "client": ("127.0.0.1", 5555),
        "server": ("testserver", 80),
        "headers": [
            (b"host", b"testserver"),
            (b"cookie", cookie),
            (b"origin", b"https://evil.example"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(len(body)).encode()),
        ],
    }
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(admin.app(scope, receive, send))
    assert sent[0]["status"] == 403
    assert admin.get("/admin/").status_code == 200  # the sessions were not ended


def test_idle_sessions_expire(admin: TestClient, clock: Clock) -> None:
    sign_in(admin)
    assert admin.get("/admin/").status_code == 200
    clock.now += auth.IDLE + timedelta(minutes=1)
    r = admin.get("/admin/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/admin/login")


def test_sign_out_everywhere(admin: TestClient, data_dir: Path, clock: Clock) -> None:
    sign_in(admin)
    other = TestClient(admin.app)
    sign_in(other)
    r = admin.post("/admin/logout-everywhere", headers={**SAME, "x-csrf-token": csrf(admin)})
    assert r.status_code == 200 and r.headers["hx-redirect"] == "/admin/login"
    assert other.get("/admin/", follow_redirects=False).status_code == 303


def test_home_and_kb_in_both_languages_with_hostile_text_escaped(admin: TestClient) -> None:
    store = admin.app.state.services.store
    entry = Entry("evil", HOSTILE, f"Answer {HOSTILE}", "en", [f"question {HOSTILE}"])
    kb.save(store, [entry], embedder=embedder.shared(), now="t")
    chat = admin.app.state.services.chat

    async def customer():
        return await chat.reply(chat.conversations.start(), f"I am upset {HOSTILE}")

    asyncio.run(customer())  # an escalated conversation waiting on the home page
    sign_in(admin)
    for lang, direction, word in (("fa", "rtl", "منتظر پاسخ شما"), ("en", "ltr", "Waiting for your reply")):
        for path in ("/admin/", "/admin/kb"):
            page = admin.get(f"{path}?lang={lang}")
            assert page.status_code == 200 and f'dir="{direction}"' in page.text
            assert "<script>alert" not in page.text and "<img src=x" not in page.text
            assert "&lt;script&gt;" in page.text
        assert word in admin.get(f"/admin/?lang={lang}").text
    assert "۱" in admin.get("/admin/?lang=fa").text  # counts in Persian digits


def test_kb_search_fragment(admin: TestClient) -> None:
    store = admin.app.state.services.store
    kb.save(
        store,
        [
            Entry("ship", "هزینه ارسال", "ارسال ۴۵٬۰۰۰ تومان است", "fa", ["هزینه پست چقدر است"]),
            Entry("hours", "Opening hours", "9 to 18", "en", ["when are you open"]),
        ],
        embedder=embedder.shared(),
        now="t",
    )
    sign_in(admin)
    frag = admin.get("/admin/kb", params={"q": "هزينه"}, headers={"hx-request": "true"})  # Arabic yeh
    assert frag.status_code == 200 and "<html" not in frag.text
    assert "هزینه ارسال" in frag.text and "Opening hours" not in frag.text
    assert frag.headers["vary"] == "HX-Request"


def test_try_a_question_shows_decision_scores_and_reply(admin: TestClient) -> None:
    kb.save(
        admin.app.state.services.store,
        [
            Entry(
                "hours",
                "Opening hours",
                "We open 9:00-18:00, Saturday to Wednesday.",
                "en",
                ["when are you open", "what are your opening hours"],
            )
        ],
        embedder=embedder.shared(),
        now="t",
    )
    sign_in(admin)
    r = admin.post(
        "/admin/try",
        data={"question": "What are your opening hours?"},
        headers={**SAME, "x-csrf-token": csrf(admin), "hx-request": "true"},
    )
    assert r.status_code == 200
    # The reply, the entry it came from by its title (never its id) and the scores, folded below.
    assert "9:00-18:00" in r.text and "Opening hours" in r.text and "[hours]" not in r.text and "fused" in r.text
    assert admin.app.state.services.store.read().execute("SELECT count(*) FROM decisions").fetchone()[0] == 0


def test_reset_password_signs_everyone_out(admin: TestClient, data_dir: Path) -> None:
    sign_in(admin)
    result = CliRunner().invoke(
        main, ["reset-password", "--data-dir", str(data_dir)], input="a brand new secret\na brand new secret\n"
    )
    assert result.exit_code == 0, result.output
    assert admin.get("/admin/", follow_redirects=False).status_code == 303
    assert sign_in(admin).status_code == 401
    assert sign_in(admin, "a brand new secret").status_code == 303


def test_every_admin_page_needs_the_owner(admin: TestClient) -> None:
    """Walk every registered /admin route: without a session, none of them does anything."""
    from litestar.routes import HTTPRoute

    # Open on purpose: signing in, the one-time setup, the web app manifest (browsers fetch it
    # without cookies; it names the shop and nothing else) and the alerts' service worker (the
    # browser fetches and updates it on its own; a static script, the same for everyone).
    open_paths = {"/admin/login", "/admin/setup", "/admin/manifest.webmanifest", "/admin/sw.js"}
    for route in admin.app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/admin") or route.path in open_paths:
            continue
        path = re.sub(r"\{\w+:int\}", "1", re.sub(r"\{\w+:str\}", "x", route.path))
        for method in route.methods - {"HEAD", "OPTIONS"}:
            r = admin.request(method, path, headers=SAME, follow_redirects=False)
            assert r.status_code in (303, 401), (method, route.path, r.status_code)


@pytest.mark.slow  # real waits, real argon2 or a whole import: a second or more
def test_successful_sign_ins_are_not_throttled(admin: TestClient) -> None:
    for _ in range(8):
        assert sign_in(admin).status_code == 303


def test_every_page_in_both_languages_escapes_hostile_text(admin: TestClient) -> None:
    """Hostile text in the knowledge base, a customer's message and the settings, on every page."""

    store = admin.app.state.services.store
    kb.save(
        store,
        [Entry("evil", HOSTILE, f"Answer {HOSTILE}", "en", [f"q {HOSTILE}"])],
        embedder=embedder.shared(),
        now="t",
    )
    chat = admin.app.state.services.chat

    async def customer():
        return await chat.reply(chat.conversations.start(), f"I want to talk to a real person {HOSTILE}")

    turn = asyncio.run(customer())
    admin.app.state.services.settings = admin.app.state.services.settings.replace(shop_name=HOSTILE, greeting=HOSTILE)
    sign_in(admin)
    conv = store.read().execute("SELECT conversation_id FROM messages WHERE id = ?", [turn.message_id]).fetchone()[0]
    pages = [
        "/admin/",
        "/admin/kb",
        "/admin/kb/evil",
        "/admin/kb/new",
        "/admin/inbox?view=all",
        f"/admin/conversations/{conv}",
        "/admin/saved-replies",
        "/admin/analytics",
        "/admin/settings",
        "/admin/backups",
        "/admin/channels",
        "/admin/channels/telegram",
        "/admin/channels/email",
        "/admin/alerts",
        "/admin/webhooks",
        "/widget",
        "/",
    ]
    for lang, direction in (("fa", "rtl"), ("en", "ltr")):
        for path in pages:
            sep = "&" if "?" in path else "?"
            page = admin.get(f"{path}{sep}lang={lang}")
            assert page.status_code == 200, (path, page.status_code)
            assert f'dir="{direction}"' in page.text, path
            assert "<script>alert" not in page.text and "<img src=x" not in page.text, path


def test_kb_filters(admin: TestClient) -> None:
    kb.save(
        admin.app.state.services.store,
        [
            Entry("a", "Alpha", "x", "en", ["alpha?"]),
            Entry("b", "بتا", "y", "fa", ["بتا؟"], enabled=False),
        ],
        embedder=embedder.shared(),
        now="t",
    )
    sign_in(admin)
    only_fa = admin.get("/admin/kb", params={"lang_filter": "fa"}, headers={"hx-request": "true"}).text
    assert "بتا" in only_fa and "Alpha" not in only_fa
    only_on = admin.get("/admin/kb", params={"enabled_filter": "on"}, headers={"hx-request": "true"}).text
    assert "Alpha" in only_on and "بتا" not in only_on


@pytest.mark.parametrize(
    "settings_kw, headers, secure",
    [
        ({}, {}, False),  # plain HTTP on loopback
        ({"trusted_proxies": ("testclient",)}, {"x-forwarded-proto": "https"}, True),  # TLS at our proxy
        ({}, {"x-forwarded-proto": "https"}, False),  # an untrusted claim
        ({"public_url": "https://support.example-shop.ir"}, {}, True),  # the owner says TLS
    ],
)
def test_the_session_cookie_is_secure_behind_tls(
    data_dir: Path, clock: Clock, settings_kw: dict, headers: dict, secure: bool
) -> None:
    settings = Settings(data_dir=data_dir, model="none", **settings_kw)
    with TestClient(create_app(settings, clock=clock)) as c:
        owner.set_password(c.app.state.services.store, password_hash(), clock)
        r = sign_in(c, **headers)
        assert r.status_code == 303
        cookie = r.headers["set-cookie"].lower()
        assert ("; secure" in cookie) is secure, cookie
        hsts = r.headers.get("strict-transport-security")
        assert (hsts == "max-age=31536000") is bool(settings.public_url)


def test_the_admin_can_be_installed_on_a_phone(admin: TestClient) -> None:
    """A web app manifest and icons (the owner adds the admin to the home screen); the waiting
    count leads the page's title."""
    r = admin.get("/admin/manifest.webmanifest")  # no session: browsers fetch it without cookies
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/manifest+json")
    manifest = r.json()
    assert manifest["start_url"] == "/admin/" and manifest["display"] == "standalone"
    assert manifest["short_name"] == "Book Nook" and manifest["dir"] == "rtl"
    for icon in manifest["icons"]:
        image = admin.get(icon["src"])
        assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
        size = int.from_bytes(image.content[16:20], "big")
        assert f"{size}x{size}" == icon["sizes"]
    sign_in(admin)
    page = admin.get("/admin/?lang=fa").text
    assert '<link rel="manifest" href="/admin/manifest.webmanifest">' in page
    customer_asks(admin, "I want to talk to a real person")
    assert "<title>(۱) " in admin.get("/admin/?lang=fa").text


def test_persian_text_in_every_field_of_every_form(admin: TestClient) -> None:
    """The Persian admin broke on Persian input (a 500 after saving a Persian title). Every form
    the owner fills, in Persian, with Persian digits where numbers go: saved, and shown back."""
    from .helpers import SAME, SETTINGS_FORM, csrf, customer_asks, seed

    seed(admin)
    conv, _, _ = customer_asks(admin, "می‌خوام با یه آدم واقعی حرف بزنم")
    sign_in(admin)
    h = {**SAME, "x-csrf-token": csrf(admin), "hx-request": "true"}
    fa = "?lang=fa"

    r = admin.post(
        "/admin/kb/new" + fa,
        data={"title": "ساعت کاری جمعه‌ها", "questions": "جمعه‌ها بازید؟\nروز جمعه باز هستید؟",
              "answer": "جمعه‌ها از ۱۰ تا ۱۴ باز هستیم.", "lang": "fa", "tags": "ساعت، جمعه", "enabled": "on"},
        headers=h,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    entry = admin.get(r.headers["hx-redirect"] + fa).text
    assert "جمعه‌ها از ۱۰ تا ۱۴ باز هستیم." in entry and "روز جمعه باز هستید؟" in entry
    r = admin.post(
        r.headers["hx-redirect"] + fa,
        data={
            "title": "ساعت کاری جمعه",
            "questions": "جمعه‌ها بازید؟",
            "answer": "جمعه‌ها تعطیلیم.",
            "lang": "fa",
            "enabled": "on",
        },
        headers=h,
    )
    assert r.status_code == 200 and "جمعه‌ها تعطیلیم." in admin.get("/admin/kb" + fa + "&q=تعطیل").text

    for path, data, shown in [
        (f"/admin/conversations/{conv}/reply", {"text": "سلام، بله فردا ارسال می‌شود."}, "سلام، بله فردا ارسال می‌شود."),
        (f"/admin/conversations/{conv}/note", {"text": "مشتری همیشگی است؛ تخفیف ۱۰٪"}, "مشتری همیشگی است؛ تخفیف ۱۰٪"),
        ("/admin/saved-replies", {"title": "ارسال شد", "text": "بسته‌تان امروز ارسال شد."}, "بسته‌تان امروز ارسال شد."),
        ("/admin/try", {"question": "جمعه‌ها بازید؟"}, "جمعه‌ها تعطیلیم."),
    ]:
        r = admin.post(path + fa, data=data, headers=h)
        assert r.status_code == 200 and shown in r.text, (path, r.status_code)

    settings_form = {
        **SETTINGS_FORM,
        "shop_name": "کتاب‌فروشی نمونه",
        "default_language": "fa",
        "typical_reply_time": "تا ظهر فردا",
        "privacy_notice": "گفتگوها تا یک سال نگه داشته می‌شوند.",
        "phrase_budget_s": "۰٫۵",
        "backups_daily": "۷",
        "retention_days": "۳۶۵",
        "business_hours": "sat-wed 09:00-18:00",
    }
    r = admin.post("/admin/settings" + fa, data=settings_form, headers=h)
    assert r.status_code == 200 and "کتاب‌فروشی نمونه" in r.text, r.text[:500]
    assert (
        admin.app.state.services.settings.retention_days == 365
        and admin.app.state.services.settings.typical_reply_time == "تا ظهر فردا"
    )

    trigger = {
        "name": "هدیه‌ی تولد",
        "message_fa": "برای تولد کتاب می‌خواهید؟ کادوپیچ رایگان است.",
        "message_en": "",
        "page": "/کتاب/*",
        "seconds": "۲۰",
        "scroll": "۳۰",
        "visitors": "returning",
        "lang": "fa",
        "hours": "open",
        "every_days": "7",
        "enabled": "on",
    }
    r = admin.post("/admin/triggers/new" + fa, data=trigger, headers=h)
    assert r.status_code == 200 and r.headers["hx-redirect"] == "/admin/triggers", r.text[:300]
    listed = admin.get("/admin/triggers" + fa).text
    # the page pattern in words: "the pages under /کتاب/", the path isolated so it reads left to right
    assert "برای تولد کتاب می‌خواهید؟" in listed and "<code>/کتاب/</code>" in listed and "پس از ۲۰ ثانیه" in listed

    for path in ["/admin/kb", "/admin/inbox?view=all", "/admin/catalog"]:
        sep = "&" if "?" in path else "?"
        r = admin.get(f"{path}{sep}lang=fa&q=جمعه‌ها", headers={"hx-request": "true"})
        assert r.status_code == 200, path
