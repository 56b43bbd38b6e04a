"""The public chat API through the real app: visitor A, visitor B and an attacker."""

import gzip
from pathlib import Path

import pytest
from litestar.testing import TestClient

from appliance import paths
from appliance.app import create_app
from appliance.settings import Settings

from .helpers import (
    bearer,
    events,
    make_api_client,
    send,
    start_chat,
)


def test_start_gives_a_token_and_a_bilingual_greeting(api: TestClient) -> None:
    conv, token, body = start_chat(api, "fa")
    assert len(token) > 30 and conv
    assert "Book Nook" in body["greeting"] and "دستیار خودکار" in body["greeting"]
    _, _, en = start_chat(api, "en")
    assert "automated assistant" in en["greeting"] and "hand you to a person" in en["disclosure"]
    # the token is not stored, only its hash
    stored = api.app.state.services.store.read().execute("SELECT token_hash FROM visitors").fetchall()
    assert token not in {r[0] for r in stored}


def test_a_question_streams_its_answer(api: TestClient) -> None:
    conv, token, _ = start_chat(api)
    r = send(api, conv, token, "ارسال به شیراز چند روز طول می‌کشد؟", client_id="m1")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    evs = events(r.text)
    names = [n for n, _ in evs]
    assert names[0] == "accepted" and names[-1] == "done" and "delta" in names
    text = "".join(d["text"] for n, d in evs if n == "delta")
    assert "۳ تا ۵ روز کاری" in text
    done = evs[-1][1]
    assert done["kind"] == "answer" and done["sources"][0]["id"] == "shipping-time-fa"
    history = api.get(f"/api/v1/conversations/{conv}/messages", headers=bearer(token)).json()
    assert [m["role"] for m in history["messages"]] == ["customer", "bot"]
    assert history["messages"][1]["sources"][0]["title"] == "زمان ارسال سفارش"


def test_a_retried_send_is_stored_once(api: TestClient) -> None:
    conv, token, _ = start_chat(api, "en")
    first = events(send(api, conv, token, "How much is shipping?", client_id="abc").text)
    again = events(send(api, conv, token, "How much is shipping?", client_id="abc").text)
    assert again[0][1]["duplicate"] is True and again[0][1]["message_id"] == first[0][1]["message_id"]
    assert "".join(d["text"] for n, d in again if n == "delta") == "".join(d["text"] for n, d in first if n == "delta")
    count = (
        api.app.state.services.store.read()
        .execute("SELECT count(*) FROM messages WHERE conversation_id = ? AND role = 'customer'", [conv])
        .fetchone()[0]
    )
    assert count == 1


def test_visitors_never_see_each_other(api: TestClient) -> None:
    conv_a, token_a, _ = start_chat(api)
    send(api, conv_a, token_a, "سفارشم کجاست؟ کد 12345")
    conv_b, token_b, _ = start_chat(api)
    assert token_a != token_b
    # B, with B's own valid token, can't read, write to or act on A's conversation
    for method, path, body in [
        ("get", f"/api/v1/conversations/{conv_a}/messages", None),
        ("post", f"/api/v1/conversations/{conv_a}/messages", {"text": "hi"}),
        ("post", f"/api/v1/conversations/{conv_a}/contact", {"email": "b@example.com"}),
        ("post", f"/api/v1/conversations/{conv_a}/rating", {"satisfied": False}),
        ("post", f"/api/v1/conversations/{conv_a}/handoff", {}),
    ]:
        r = getattr(api, method)(path, headers=bearer(token_b), **({"json": body} if body is not None else {}))
        assert r.status_code == 404, (path, r.status_code)
        assert "12345" not in r.text
    listed = api.get("/api/v1/conversations", headers=bearer(token_b)).json()["conversations"]
    assert [c["id"] for c in listed] == [conv_b]
    # without a token, or with a made-up one: 401
    assert api.get(f"/api/v1/conversations/{conv_a}/messages").status_code == 401
    assert api.get(f"/api/v1/conversations/{conv_a}/messages", headers=bearer("forged")).status_code == 401


def test_the_same_visitor_can_start_another_conversation(api: TestClient) -> None:
    conv1, token, _ = start_chat(api)
    conv2, token2, _ = start_chat(api, token=token)
    assert token2 == token and conv2 != conv1
    assert len(api.get("/api/v1/conversations", headers=bearer(token)).json()["conversations"]) == 2


def test_message_limit_per_visitor(data_dir: Path, demo_db: Path) -> None:
    with make_api_client(data_dir, demo_db, visitor_messages_per_minute=3) as c:
        conv, token, _ = start_chat(c)
        for i in range(3):
            assert send(c, conv, token, f"سلام {i}").status_code == 200
        r = send(c, conv, token, "هزینه ارسال چقدر است؟")
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert r.json()["error"] == "rate_limited"
        stored = (
            c.app.state.services.store.read()
            .execute("SELECT count(*) FROM messages WHERE conversation_id = ? AND role = 'customer'", [conv])
            .fetchone()[0]
        )
        assert stored == 3  # the refused message never reached the pipeline


def test_message_limit_per_ip_across_visitors(data_dir: Path, demo_db: Path) -> None:
    with make_api_client(data_dir, demo_db, ip_messages_per_minute=4) as c:
        codes = []
        for _ in range(3):
            conv, token, _ = start_chat(c)
            codes += [send(c, conv, token, "hello").status_code for _ in range(2)]
        assert codes.count(200) == 4 and codes.count(429) == 2


def test_conversation_limit_per_ip(data_dir: Path, demo_db: Path) -> None:
    with make_api_client(data_dir, demo_db, ip_conversations_per_day=2) as c:
        start_chat(c)
        start_chat(c)
        r = c.post("/api/v1/conversations", json={})
        assert r.status_code == 429 and "retry-after" in r.headers


def test_ipv6_addresses_count_by_their_64(data_dir: Path, demo_db: Path) -> None:
    """One client holds a whole IPv6 /64: a fresh address for each conversation was a fresh limit."""
    with make_api_client(data_dir, demo_db, ip_conversations_per_day=2, trusted_proxies=("testclient",)) as c:
        codes = [
            c.post("/api/v1/conversations", json={}, headers={"x-forwarded-for": f"2001:db8:5:6::{i}"}).status_code
            for i in range(1, 4)
        ]
        assert codes == [201, 201, 429]
        other = c.post("/api/v1/conversations", json={}, headers={"x-forwarded-for": "2001:db8:5:7::1"})
        assert other.status_code == 201


def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(data_dir: Path, demo_db: Path) -> None:
    with make_api_client(data_dir, demo_db, ip_conversations_per_day=1) as c:
        start_chat(c)
        r = c.post("/api/v1/conversations", json={}, headers={"x-forwarded-for": "203.0.113.9"})
        assert r.status_code == 429  # a client can't pick a fresh IP by saying so


def test_bad_input_gets_clear_errors(data_dir: Path, demo_db: Path) -> None:
    with make_api_client(data_dir, demo_db, max_message_chars=100, max_request_bytes=2048) as c:
        conv, token, _ = start_chat(c)
        bad_json = c.post(
            f"/api/v1/conversations/{conv}/messages",
            content=b"{not json",
            headers={**bearer(token), "content-type": "application/json"},
        )
        assert bad_json.status_code == 400 and "error" in bad_json.json()
        missing = c.post(f"/api/v1/conversations/{conv}/messages", json={"txt": "hi"}, headers=bearer(token))
        assert missing.status_code == 400
        too_long = send(c, conv, token, "x" * 101)
        assert too_long.status_code == 422 and too_long.json()["error"] == "too_long"
        huge = send(c, conv, token, "x" * 5000)
        assert huge.status_code == 413
        empty = send(c, conv, token, "   ")
        assert empty.status_code == 422 and empty.json()["error"] == "empty"
        for r in (bad_json, missing, too_long, huge, empty):
            assert "Traceback" not in r.text


def test_handoff_contact_and_rating(api: TestClient) -> None:
    conv, token, _ = start_chat(api, "en")
    r = api.post(f"/api/v1/conversations/{conv}/handoff", json={"lang": "en"}, headers=bearer(token))
    assert r.status_code == 201 or r.status_code == 200
    text = r.json()["text"]
    # when a person replies comes from the business hours (Sat-Wed 9-18, Thu 9-13, Tehran)
    assert "person will reply" in text and ("within the hour" in text or "when we open" in text)
    row = (
        api.app.state.services.store.read().execute("SELECT status FROM conversations WHERE id = ?", [conv]).fetchone()
    )
    assert row["status"] == "waiting"
    bad = api.post(f"/api/v1/conversations/{conv}/contact", json={"email": "not-an-email"}, headers=bearer(token))
    assert bad.status_code == 422 and bad.json()["error"] == "bad_email"
    ok = api.post(f"/api/v1/conversations/{conv}/contact", json={"phone": "۰۹۱۲ ۳۴۵ ۶۷۸۹"}, headers=bearer(token))
    assert ok.status_code in (200, 201)
    rated = api.post(
        f"/api/v1/conversations/{conv}/rating", json={"satisfied": False, "comment": "slow"}, headers=bearer(token)
    )
    assert rated.status_code in (200, 201)
    row = (
        api.app.state.services.store.read()
        .execute("SELECT contact_phone, rating, rating_comment FROM conversations WHERE id = ?", [conv])
        .fetchone()
    )
    assert (row["contact_phone"], row["rating"], row["rating_comment"]) == (
        "+989123456789",
        0,
        "slow",
    )  # one form (contact.phone)


def test_clarifying_choice(data_dir: Path, demo_db: Path) -> None:
    with make_api_client(data_dir, demo_db, answer_threshold=0.9999, clarify_threshold=0.0001) as c:
        conv, token, _ = start_chat(c, "en")
        done = events(send(c, conv, token, "how long does shipping take and what does it cost?").text)[-1][1]
        assert done["kind"] == "clarify" and {x["id"] for x in done["choices"]} == {
            "shipping-cost-en",
            "shipping-time-en",
        }
        assert all(x["summary"] for x in done["choices"])  # each with its answer's first sentence
        # ...and the same when the conversation is read again (a reload, the poll)
        history = c.get(f"/api/v1/conversations/{conv}/messages", headers=bearer(token)).json()
        offered = [m for m in history["messages"] if m.get("kind") == "clarify"][-1]["choices"]
        assert {x["summary"] for x in offered} == {x["summary"] for x in done["choices"]}
        pick = c.post(
            f"/api/v1/conversations/{conv}/choices",
            json={"entry_id": "shipping-cost-en", "label": "Shipping cost"},
            headers=bearer(token),
        )
        evs = events(pick.text)
        assert evs[-1][1]["kind"] == "answer" and "45,000" in "".join(d["text"] for n, d in evs if n == "delta")


def test_openapi_documents_the_public_api_only(api: TestClient) -> None:
    r = api.get("/api/schema/openapi.json")
    assert r.status_code == 200
    spec = r.json()
    assert "/api/v1/conversations" in spec["paths"]
    assert "/api/v1/conversations/{conversation_id}/messages" in spec["paths"]
    assert not any(p.startswith("/admin") for p in spec["paths"])
    assert api.get("/api/schema").status_code in (200, 404)  # no HTML page that would load a CDN


def test_widget_page_is_framable_by_the_shop_only(api: TestClient) -> None:
    r = api.get("/widget?lang=fa")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'self' https://shop.example" in csp and "script-src 'self'" in csp
    assert "x-frame-options" not in r.headers
    assert 'dir="rtl"' in r.text and "گفتگو با Book Nook" in r.text
    en = api.get("/widget?lang=en")
    assert 'dir="ltr"' in en.text and "Talk to a person" in en.text
    # everything the page loads comes from the appliance
    assert "http://" not in r.text.replace('href="http', "") and "https://" not in r.text


def test_widget_escapes_the_shop_name(data_dir: Path, demo_db: Path) -> None:
    with make_api_client(data_dir, demo_db) as c:
        c.app.state.services.settings = c.app.state.services.settings.replace(
            shop_name="</script><script>alert(1)</script>"
        )
        r = c.get("/widget?lang=en")
        assert "<script>alert(1)</script>" not in r.text


def test_loader_is_small() -> None:
    raw = (paths.static_dir() / "widget-loader-1.1.0.js").read_bytes()
    # The button, the chat's frame, the proactive message's bubble and the check that the site may
    # show the chat (1.1.0: 3.7 KB -> 4.6 KB gzipped): still one small request. The first address,
    # on shops' pages, only loads it.
    assert len(gzip.compress(raw, 9)) < 5 * 1024
    assert len((paths.static_dir() / "widget-loader-1.0.0.js").read_bytes()) < 1024


def test_front_page_has_the_chat_and_the_snippet(api: TestClient) -> None:
    r = api.get("/", headers={"accept-language": "en"})
    assert r.status_code == 200
    assert 'src="/static/widget-loader-1.1.0.js"' in r.text
    # The configured address (no public_url here: host and port), not the request's Host.
    assert "&lt;script src=&#34;http://127.0.0.1:8750/static/widget-loader-1.1.0.js&#34;" in r.text


def test_owner_replies_are_unread_until_seen(api: TestClient) -> None:
    conv, token, _ = start_chat(api, "en")
    api.post(f"/api/v1/conversations/{conv}/handoff", json={"lang": "en"}, headers=bearer(token))
    with api.app.state.services.store.write() as db:  # what the owner's inbox will do
        owner_id = db.execute(
            "INSERT INTO messages (conversation_id, role, text, created_at) "
            "VALUES (?, 'owner', 'Your order left today.', 'now')",
            [conv],
        ).lastrowid
    body = api.get(f"/api/v1/conversations/{conv}/messages", headers=bearer(token)).json()
    assert body["unread"] == 1 and body["messages"][-1] == {
        "id": owner_id,
        "role": "owner",
        "text": "Your order left today.",
        "created_at": "now",
    }
    listed = api.get("/api/v1/conversations", headers=bearer(token)).json()["conversations"]
    assert listed[0]["unread"] == 1
    api.post(f"/api/v1/conversations/{conv}/seen", json={"message_id": owner_id}, headers=bearer(token))
    assert api.get(f"/api/v1/conversations/{conv}/messages", headers=bearer(token)).json()["unread"] == 0


def test_the_greeting_setting_is_shown_as_text(data_dir: Path, demo_db: Path) -> None:
    with make_api_client(data_dir, demo_db, greeting_en="<b>Hi</b> there") as c:
        r = c.get("/widget", params={"lang": "en", "greeting": "ignored"})
    assert "&lt;b&gt;Hi&lt;/b&gt; there" in r.text and "<b>Hi</b>" not in r.text and "ignored" not in r.text


def test_consent_is_required_when_the_shop_asks_for_it(data_dir: Path, demo_db: Path) -> None:
    with make_api_client(data_dir, demo_db, require_consent=True, privacy_notice="We keep chats for a year.") as c:
        refused = c.post("/api/v1/conversations", json={"lang": "en"})
        assert refused.status_code == 422 and refused.json()["error"] == "consent_required"
        ok = c.post("/api/v1/conversations", json={"lang": "en", "consent": True})
        assert ok.status_code == 201
        row = c.app.state.services.store.read().execute("SELECT consent_at FROM conversations").fetchone()
        assert row[0]  # when the customer agreed is kept
        page = c.get("/widget?lang=en")
        assert "We keep chats for a year." in page.text and 'id="consent"' in page.text


def _decisions(c: TestClient) -> int:
    return c.app.state.services.store.read().execute("SELECT count(*) FROM decisions").fetchone()[0]


def test_parallel_resends_of_one_message_do_the_work_once_and_count_against_the_limit(
    data_dir: Path, demo_db: Path
) -> None:
    """30 sends of one client_id at once were 1 message but 30 bot replies and 30 decisions, and
    never a 429 (limit 12 a minute)."""
    import asyncio
    import shutil

    from litestar.testing import AsyncTestClient

    shutil.copy(demo_db, data_dir / "appliance.db")
    settings = Settings(data_dir=data_dir, model="none", shop_name="Book Nook")

    async def go():
        async with AsyncTestClient(create_app(settings)) as c:
            r = await c.post("/api/v1/conversations", json={"lang": "en"})
            conv, token = r.json()["conversation_id"], r.json()["visitor_token"]
            body = {"text": "How much is shipping?", "client_id": "same-one"}
            replies = await asyncio.gather(
                *[c.post(f"/api/v1/conversations/{conv}/messages", json=body, headers=bearer(token)) for _ in range(30)]
            )
            store = c.app.state.services.store
            db = store.read()
            messages = db.execute("SELECT count(*) FROM messages WHERE role = 'customer'").fetchone()[0]
            bot = db.execute("SELECT count(*) FROM messages WHERE role = 'bot'").fetchone()[0]
            decisions = db.execute("SELECT count(*) FROM decisions").fetchone()[0]
            return [r.status_code for r in replies], [r.text for r in replies], messages, bot, decisions

    statuses, texts, messages, bot, decisions = asyncio.run(go())
    assert messages == 1 and bot == 1 and decisions == 1
    assert statuses.count(429) >= 30 - settings.visitor_messages_per_minute
    answered = [t for s, t in zip(statuses, texts, strict=False) if s == 200]
    assert answered and all("Shipping" in t or "shipping" in t or '"pending"' in t for t in answered)


def test_resends_during_a_takeover_start_no_work(api: TestClient) -> None:
    conv, token, _ = start_chat(api, "en")
    api.app.state.services.chat.conversations.take_over(conv, True, "The owner has joined.")
    first = events(send(api, conv, token, "x" * 2000, client_id="c1").text)
    assert first[-1][1]["kind"] == "held"
    before = _decisions(api)
    for _ in range(5):
        again = events(send(api, conv, token, "x" * 2000, client_id="c1").text)
        assert again[0] == ("accepted", {"message_id": first[0][1]["message_id"], "duplicate": True})
        assert again[-1][1]["kind"] == "pending"
    assert _decisions(api) == before  # nothing decided again


@pytest.mark.parametrize(
    "email",
    [
        "root,postmaster,attacker@evil.example",
        "\u0000@evil.example",
        "a@b.example\r\nBcc: x@evil.example",
        "<x@evil.example>, y@evil.example",
    ],
)
def test_a_contact_address_is_one_address(api: TestClient, email: str) -> None:
    conv, token, _ = start_chat(api, "en")
    r = api.post(f"/api/v1/conversations/{conv}/contact", json={"email": email}, headers=bearer(token))
    assert r.status_code in (400, 422) and r.json()["error"] in {"bad_email", "bad_request"}, r.text
    stored = (
        api.app.state.services.store.read()
        .execute("SELECT contact_email FROM conversations WHERE id = ?", [conv])
        .fetchone()[0]
    )
    assert not stored


def test_ordinary_addresses_are_taken(api: TestClient) -> None:
    conv, token, _ = start_chat(api, "fa")
    for email in ("ali.rezaei+shop@gmail.com", "info@shop-books.co.ir"):
        r = api.post(f"/api/v1/conversations/{conv}/contact", json={"email": email}, headers=bearer(token))
        assert r.status_code == 200, r.text


def test_other_sites_cannot_drive_a_visitors_browser(api: TestClient) -> None:
    """A `text/plain` POST needs no CORS preflight: any site could start conversations (with
    consent) from its visitors' browsers. Now: JSON only, and a browser's Origin must be ours or
    one of the shop's sites."""
    url = "/api/v1/conversations"
    plain = api.post(
        url,
        content=b'{"lang": "en", "consent": true}',
        headers={"content-type": "text/plain", "origin": "https://evil.example"},
    )
    assert plain.status_code == 415 and plain.json()["error"] == "unsupported_media_type"
    foreign = api.post(url, json={"lang": "en", "consent": True}, headers={"origin": "https://evil.example"})
    assert foreign.status_code == 403 and foreign.json()["error"] == "forbidden_origin"
    before = api.app.state.services.store.read().execute("SELECT count(*) FROM conversations").fetchone()[0]
    assert before == 0
    assert api.post(url, json={"lang": "en"}, headers={"origin": "https://shop.example"}).status_code == 201
    assert api.post(url, json={"lang": "en"}, headers={"origin": "http://testserver.local"}).status_code == 201
    assert api.post(url, json={"lang": "en"}).status_code == 201  # a program, not a browser
    conv, token, _ = start_chat(api, "en")
    r = api.post(
        f"/api/v1/conversations/{conv}/messages",
        json={"text": "hi"},
        headers={**bearer(token), "origin": "https://evil.example"},
    )
    assert r.status_code == 403


def test_a_pick_of_an_entry_that_does_not_exist_stores_nothing(api: TestClient) -> None:
    conv, token, _ = start_chat(api, "en")
    r = api.post(
        f"/api/v1/conversations/{conv}/choices",
        json={"entry_id": "no-such-entry", "label": "x" * 300},
        headers=bearer(token),
    )
    assert r.status_code == 404 and r.json()["error"] == "no_entry"
    assert (
        api.app.state.services.store.read()
        .execute("SELECT count(*) FROM messages WHERE conversation_id = ?", [conv])
        .fetchone()[0]
        == 0
    )


def test_seen_is_throttled(api: TestClient) -> None:
    from appliance.web.limits import SEEN_PER_MINUTE

    conv, token, _ = start_chat(api, "en")
    codes = [
        api.post(f"/api/v1/conversations/{conv}/seen", json={"message_id": 1}, headers=bearer(token)).status_code
        for _ in range(SEEN_PER_MINUTE + 5)
    ]
    assert codes[:SEEN_PER_MINUTE] == [200] * SEEN_PER_MINUTE and codes[-1] == 429
