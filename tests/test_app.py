"""The real app through Litestar's test client: health, security headers, the setup link."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from litestar.testing import TestClient

from appliance.app import create_app
from appliance.owner import account as owner
from appliance.settings import Settings

from .helpers import ROOT, asgi_get

SAME_ORIGIN = {"sec-fetch-site": "same-origin"}


def _local_healthz(c: TestClient) -> dict:
    """/healthz as a monitor on the server itself sees it (the test client's address is "testclient")."""
    status, body = asgi_get(c.app, "/healthz")
    assert status in (200, 503)
    return json.loads(body)


def test_healthz_says_only_up_and_mode_to_others(client: TestClient, data_dir: Path) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok", "mode": "knowledge-base-only"}
    assert str(data_dir) not in r.text
    # Behind a trusted proxy, the address it reports decides: a visitor's is not this machine.
    with TestClient(create_app(Settings(data_dir=data_dir, model="none", trusted_proxies=("testclient",)))) as c:
        assert set(c.get("/healthz", headers={"x-forwarded-for": "203.0.113.5"}).json()) == {"status", "mode"}
        assert "model" in c.get("/healthz", headers={"x-forwarded-for": "127.0.0.1"}).json()


def test_healthz_knowledge_base_only(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store"
    body = _local_healthz(client)
    assert body["status"] == "ok" and body["mode"] == "knowledge-base-only"
    assert body["model"]["state"] == "none"
    assert body["database"]["ok"] and body["database"]["pending"] == []


def test_healthz_with_a_corrupt_model_still_serves(data_dir: Path, corrupt_model: Path) -> None:
    settings = Settings(data_dir=data_dir, model=str(corrupt_model))
    with TestClient(create_app(settings)) as c:
        c.app.state.services.llm.wait_settled(60)
        body = _local_healthz(c)
    assert body["status"] == "ok" and body["mode"] == "knowledge-base-only"
    assert body["model"]["state"] == "failed" and "broken-model.gguf" in body["model"]["reason"]


def test_healthz_with_a_missing_model(data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir, model="not-there.gguf")
    with TestClient(create_app(settings)) as c:
        body = _local_healthz(c)
    assert body["model"]["state"] == "failed" and "not-there.gguf" in body["model"]["reason"]


def test_security_headers(client: TestClient) -> None:
    r = client.get("/healthz")
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"


def test_vendored_htmx_is_served(client: TestClient) -> None:
    r = client.get("/static/htmx-2.0.11.min.js")
    assert r.status_code == 200 and "htmx" in r.text[:200]
    # Sent as written (the test client would collapse the ".."), at a file that is really there.
    assert (ROOT / "static" / ".." / "pyproject.toml").exists()
    status, body = asgi_get(client.app, "/static/../pyproject.toml")
    assert status == 404 and b"[project]" not in body


def test_secret_is_generated_once_and_private(client: TestClient, settings: Settings) -> None:
    path = settings.data_dir / "secret.key"
    assert path.stat().st_mode & 0o777 == 0o600
    first = path.read_bytes()
    with TestClient(create_app(settings)):
        pass
    assert path.read_bytes() == first


# -- the one-time setup link --------------------------------------------------------------------


def _token(client: TestClient) -> str:
    state = client.app.state.services
    return owner.new_setup_token(state.store, state.clock)


def test_setup_link_sets_the_password_once(client: TestClient) -> None:
    token = _token(client)
    page = client.get(f"/admin/setup?token={token}")
    assert page.status_code == 200
    assert 'dir="rtl"' in page.text and 'lang="fa"' in page.text  # Persian first
    form = {"token": token, "password": "a good long password", "confirm": "a good long password"}
    done = client.post("/admin/setup", data=form, headers=SAME_ORIGIN, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/admin/"  # signed in (tests/test_start.py)
    row = client.app.state.services.store.read().execute("SELECT password_hash FROM owner").fetchone()
    assert row["password_hash"].startswith("$argon2")
    assert owner.verify_password(row["password_hash"], "a good long password")
    assert not owner.verify_password(row["password_hash"], "wrong password!")
    # the link is spent, and no new one is issued once the owner exists: the owner (signed in by
    # setting the password) is sent home, anyone else is told so
    again = client.post("/admin/setup", data=form, headers=SAME_ORIGIN, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == "/admin/"
    client.cookies.clear()
    again = client.post("/admin/setup", data=form, headers=SAME_ORIGIN)
    assert again.status_code == 403 and "گذرواژهٔ پیشخوان پیش‌تر انتخاب شده" in again.text
    assert client.get(f"/admin/setup?token={token}").status_code == 403
    assert _token(client) is None


def test_setup_in_english_and_validation(client: TestClient) -> None:
    token = _token(client)
    page = client.get(f"/admin/setup?token={token}", headers={"accept-language": "en-GB,en;q=0.9"})
    assert 'dir="ltr"' in page.text and "Choose a password" in page.text
    short = client.post(
        "/admin/setup",
        data={"token": token, "password": "short", "confirm": "short", "lang": "en"},
        headers=SAME_ORIGIN,
    )
    assert short.status_code == 422 and "at least 10 characters" in short.text
    mismatch = client.post(
        "/admin/setup",
        data={"token": token, "password": "a" * 12, "confirm": "b" * 12, "lang": "en"},
        headers=SAME_ORIGIN,
    )
    assert mismatch.status_code == 422 and "differ" in mismatch.text
    assert client.app.state.services.store.read().execute("SELECT count(*) FROM owner").fetchone()[0] == 0


def test_cross_site_setup_post_is_refused(client: TestClient) -> None:
    token = _token(client)
    form = {"token": token, "password": "attacker password", "confirm": "attacker password"}
    r = client.post("/admin/setup", data=form, headers={"sec-fetch-site": "cross-site"})
    assert r.status_code == 403
    r = client.post("/admin/setup", data=form, headers={"origin": "https://evil.example"})
    assert r.status_code == 403
    assert client.app.state.services.store.read().execute("SELECT count(*) FROM owner").fetchone()[0] == 0


def test_only_the_newest_link_works(client: TestClient) -> None:
    old, new = _token(client), _token(client)
    assert client.get(f"/admin/setup?token={old}").status_code == 403
    assert client.get(f"/admin/setup?token={new}").status_code == 200


def test_expired_link(settings: Settings) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    with TestClient(create_app(settings, clock=lambda: now[0])) as c:
        token = _token(c)
        now[0] += owner.SETUP_LINK_TTL + timedelta(minutes=1)
        r = c.get(f"/admin/setup?token={token}&lang=en")
        assert r.status_code == 410 and "expired" in r.text


@pytest.mark.parametrize("token", ["", "nope", "<script>alert(1)</script>"])
def test_bad_tokens(client: TestClient, token: str) -> None:
    r = client.get("/admin/setup", params={"token": token})
    assert r.status_code == 403 and "<script>alert(1)" not in r.text


def test_templates_autoescape(client: TestClient) -> None:
    """Hostile text reaching a template is shown as text, never as markup."""
    engine = client.app.template_engine
    html = engine.get_template("admin/setup.html").render(
        lang="en", dir="ltr", _=lambda k: k, token='"><script>alert(1)</script>', error=None
    )
    assert "<script>alert(1)</script>" not in html
    assert "&#34;&gt;&lt;script&gt;" in html or "&quot;&gt;&lt;script&gt;" in html


def test_data_directory_layout_is_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "fresh", model="none")
    with TestClient(create_app(settings)) as c:
        assert c.get("/healthz").status_code == 200
    d = settings.data_dir
    assert (d / "appliance.db").is_file() and (d / "secret.key").is_file()
    for part in (d, d / "backups", d / "logs", d / "models"):
        assert part.is_dir() and part.stat().st_mode & 0o777 == 0o700, part


def test_the_setup_pages_last_step_signs_the_owner_in(client: TestClient) -> None:
    token = owner.new_setup_token(client.app.state.services.store, client.app.state.services.clock)
    assert token
    done = client.post(
        "/admin/setup",
        data={"token": token, "password": "یک گذرواژه‌ی بلند", "confirm": "یک گذرواژه‌ی بلند", "lang": "fa"},
        headers=SAME_ORIGIN,
    )
    assert done.status_code == 200 and str(done.url).endswith("/admin/") and "راه‌اندازی گفتگو" in done.text


def test_the_running_objects_are_one_typed_services_object(client: TestClient) -> None:
    """The app's state holds AppServices and nothing else; saving the settings rebuilds the chat
    service, which keeps the store, the calibration and the answers still in flight (a retried
    send during the save found no answer in progress and waited for the event stream)."""
    from appliance.web.services import AppServices

    state = client.app.state
    assert set(state.dict()) == {"services"} and isinstance(state.services, AppServices)
    services = state.services
    before = services.chat
    services.apply_settings(services.settings.replace(shop_name="کتاب‌فروشی تازه"))
    assert services.chat is not before and services.settings.shop_name == "کتاب‌فروشی تازه"
    assert services.chat.in_flight is before.in_flight
    assert services.chat.store is services.store
    assert services.chat.decider.index.embedder is before.decider.index.embedder  # not loaded again


def test_a_missing_page_is_a_page_in_the_readers_language_with_a_way_back(client: TestClient) -> None:
    """A bare English "not found" with no way back was what an owner got for a mistyped address."""
    page = client.get("/admin/kb/no-such-thing/x", headers={"accept": "text/html"})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert 'lang="fa" dir="rtl"' in page.text and "این صفحه پیدا نشد" in page.text  # the shop's default
    assert 'href="/admin/?lang=fa"' in page.text and "/static/bootstrap-5.3.9.rtl.min.css" in page.text
    english = client.get("/nothing-here?lang=en", headers={"accept": "text/html"})
    assert english.status_code == 404 and 'dir="ltr"' in english.text and "This page wasn" in english.text
    assert 'href="/?lang=en"' in english.text and "/admin/" not in english.text  # a customer isn't sent to the admin
    # htmx (the admin script toasts it), scripts and the API keep their short answers.
    assert client.get("/admin/x/y", headers={"accept": "text/html", "hx-request": "true"}).text == "not found"
    assert client.get("/nothing-here").text == "not found"
    assert client.get("/api/v1/nothing", headers={"accept": "text/html"}).json()["error"] == "not_found"
