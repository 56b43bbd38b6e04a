"""The shop's Telegram and Bale bot, end to end: the real app (its channels running in its
lifespan) against a Bot API server on loopback (tests/telegram_server.py), as a customer and the
owner would use them."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
import re
import shutil
import signal
import sqlite3
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from PIL import Image

from appliance.app import create_app
from appliance.channels import telegram
from appliance.channels.context import Context
from appliance.conversations import privacy
from appliance.db import Store, read_meta
from appliance.owner import account as owner
from appliance.settings import Settings

from .helpers import (
    SAME,
    Clock,
    csrf,
    events,
    free_port,
    make_api_client,
    password_hash,
    send,
    sign_in,
    start_chat,
    start_server,
    stop,
    wait_healthy,
)
from .telegram_server import TOKEN, BotApiServer

SHIPPING = "ارسال به شیراز چند روز طول می‌کشد؟"


@pytest.fixture
def bot() -> Iterator[BotApiServer]:
    with BotApiServer() as server:
        yield server


def _shop(data_dir: Path, demo_db: Path, bot: BotApiServer, clock: Clock | None = None, **overrides: Any) -> TestClient:
    settings = {"bot_platform": "telegram", "bot_token": TOKEN, "bot_api_base": bot.base, **overrides}
    return make_api_client(data_dir, demo_db, clock, **settings)


def _owner(c: TestClient, clock: Clock | None = None) -> None:
    owner.set_password(c.app.state.services.store, password_hash(), clock or Clock())
    sign_in(c)


def _rows(c: TestClient, sql: str, *params: Any) -> list[Any]:
    return c.app.state.services.store.read().execute(sql, list(params)).fetchall()


def _texts(bot: BotApiServer, chat: int) -> list[str]:
    return [call.params["text"] for call in bot.sent(chat)]


def _buttons(call: Any) -> list[dict[str, str]]:
    markup = call.params.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 80), (30, 90, 160)).save(out, "JPEG")
    return out.getvalue()


def test_a_persian_question_is_answered_with_the_widgets_words(
    data_dir: Path, demo_db: Path, bot: BotApiServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="httpx")
    with _shop(data_dir, demo_db, bot) as c:
        bot.message(501, SHIPPING)
        [reply] = bot.wait_for(lambda: bot.sent(501))
        # The widget's answer to the same question, word for word.
        conv, token, _ = start_chat(c, "fa")
        widget = "".join(
            d.get("text", "") for name, d in events(send(c, conv, token, SHIPPING).text) if name == "delta"
        )
        assert reply.params["text"] == widget and widget
        # "Talk to a person" under an answer, as the widget offers it.
        assert [b["text"] for b in _buttons(reply)] == ["صحبت با یک نفر"]
        [row] = _rows(c, "SELECT * FROM conversations WHERE channel = 'telegram'")
        assert row["channel_ref"] == "501" and row["visitor_id"] and row["lang"] == "fa"
        [asked] = _rows(
            c, "SELECT text, client_id FROM messages WHERE conversation_id = ? AND role = 'customer'", row["id"]
        )
        assert asked["text"] == SHIPPING and asked["client_id"].startswith("tg:")
        # /start is the greeting, in the customer's language, and is no conversation's message.
        bot.message(502, "/start")
        [hello] = bot.wait_for(lambda: bot.sent(502))
        assert "Book Nook" in hello.params["text"] and "سلام" in hello.params["text"]
        assert not _rows(c, "SELECT 1 FROM conversations WHERE channel_ref = '502'")
        # httpx logs each request's URL, which holds the token: never the token itself.
        logged = caplog.text
        assert "/bot<token>/getUpdates" in logged and TOKEN not in logged and TOKEN.split(":")[1] not in logged


def test_a_chat_that_blocked_the_bot_is_skipped(data_dir: Path, demo_db: Path, bot: BotApiServer) -> None:
    bot.fail("sendMessage", 403)  # the first customer blocked the bot after writing
    with _shop(data_dir, demo_db, bot) as c:
        bot.message(551, SHIPPING)
        bot.wait_for(lambda: any(call.status == 403 for call in bot.calls))
        bot.message(552, SHIPPING)
        bot.wait_for(lambda: bot.sent(552))
        time.sleep(0.3)
        assert not bot.sent(551) and len([call for call in bot.calls if call.status == 403]) == 1  # not retried
        assert len(_rows(c, "SELECT 1 FROM conversations WHERE channel_ref IN ('551', '552')")) == 2


def test_limits_hold_per_chat(data_dir: Path, demo_db: Path, bot: BotApiServer) -> None:
    with _shop(data_dir, demo_db, bot, visitor_messages_per_minute=2, max_message_chars=50) as c:
        for text in ("سلام", "هزینه ارسال چقدر است؟", "باز هم سلام"):
            bot.message(601, text)
        bot.wait_for(lambda: len(bot.sent(601)) == 3)
        # The third in a minute: refused at once (before the answers to the others), not stored.
        assert sum("آهسته‌تر" in text for text in _texts(bot, 601)) == 1
        assert len(_rows(c, "SELECT 1 FROM messages m JOIN conversations c ON c.id = m.conversation_id "
                           "WHERE c.channel_ref = '601' AND m.role = 'customer'")) == 2  # fmt: skip
        bot.message(602, "ب" * 51)
        [refused] = bot.wait_for(lambda: bot.sent(602))
        assert refused.params["text"] == "پیام بیش از حد بلند است."


def test_choices_are_buttons_and_a_press_is_answered(data_dir: Path, demo_db: Path, bot: BotApiServer) -> None:
    with _shop(data_dir, demo_db, bot, answer_threshold=0.9999, clarify_threshold=0.0001) as c:
        bot.message(701, "how long does shipping take and what does it cost?", lang="en")
        [clarify] = bot.wait_for(lambda: bot.sent(701))
        buttons = _buttons(clarify)
        titles = [b["text"] for b in buttons]
        assert len(titles) == 3 and titles[-1] == "None of these", titles
        cost = next(b for b in buttons if "ost" in b["text"])
        bot.press(701, cost["callback_data"], lang="en")
        bot.wait_for(lambda: len(bot.sent(701)) == 2)
        assert "45,000" in _texts(bot, 701)[-1]
        assert bot.wait_for(lambda: bot.sent(method="answerCallbackQuery"))
        pressed = _rows(c, "SELECT pressed FROM messages WHERE role = 'customer' ORDER BY id")
        assert [r["pressed"] for r in pressed] == [None, "choice"]


def test_talk_to_a_person_the_inbox_and_the_owners_reply(data_dir: Path, demo_db: Path, bot: BotApiServer) -> None:
    with _shop(data_dir, demo_db, bot) as c:
        _owner(c)
        bot.message(801, SHIPPING)
        [answer] = bot.wait_for(lambda: bot.sent(801))
        bot.press(801, _buttons(answer)[0]["callback_data"])
        bot.wait_for(lambda: len(bot.sent(801)) == 2)
        [conv] = _rows(c, "SELECT id, status FROM conversations WHERE channel_ref = '801'")
        assert conv["status"] == "waiting"
        waiting = c.get("/admin/inbox?view=waiting&lang=en").text
        assert conv["id"] in waiting and "bi-telegram" in waiting
        # The owner's reply in the inbox goes back through the bot; so does a file.
        r = c.post(
            f"/admin/conversations/{conv['id']}/reply",
            data={"text": "سلام، من صاحب فروشگاه هستم. <b>فردا</b> می‌رسد."},
            headers={**SAME, "x-csrf-token": csrf(c), "hx-request": "true"},
        )
        assert r.status_code == 200, r.text
        bot.wait_for(lambda: len(bot.sent(801)) == 3)
        assert _texts(bot, 801)[-1] == "سلام، من صاحب فروشگاه هستم. <b>فردا</b> می‌رسد."  # plain text, as typed
        # A reply longer than a Telegram message goes as several, in order, none refused.
        long_reply = "\n\n".join(
            f"بند {n}: " + "کتاب‌های این مجموعه با بسته‌بندی محکم ارسال می‌شوند. " * 12 for n in range(7)
        )
        assert 4096 < len(long_reply) <= 5000  # the inbox takes 5,000 characters
        post_reply = {**SAME, "x-csrf-token": csrf(c), "hx-request": "true"}
        r = c.post(f"/admin/conversations/{conv['id']}/reply", data={"text": long_reply}, headers=post_reply)
        assert r.status_code == 200
        bot.wait_for(lambda: len(bot.sent(801)) >= 5)
        parts = _texts(bot, 801)[3:]
        assert len(parts) == 2 and all(len(p) <= 4096 for p in parts)
        assert " ".join(parts).split() == long_reply.split()  # every word, in order
        assert parts[0].endswith("می‌شوند.")  # cut between paragraphs
        assert parts[0].startswith("بند 0") and parts[1].startswith("بند ")
        r = c.post(
            f"/admin/conversations/{conv['id']}/reply",
            data={"text": "عکس بسته"},
            files={"file": ("بسته.jpg", _jpeg(), "image/jpeg")},
            headers={**SAME, "x-csrf-token": csrf(c), "hx-request": "true"},
        )
        assert r.status_code == 200, r.text
        [photo] = bot.wait_for(lambda: bot.sent(801, "sendPhoto"))
        assert photo.params["caption"] == "عکس بسته" and photo.files["photo"][:2] == b"\xff\xd8"


def test_a_customers_photo_is_handed_over(data_dir: Path, demo_db: Path, bot: BotApiServer) -> None:
    with _shop(data_dir, demo_db, bot) as c:
        bot.photo(901, _jpeg(), caption="این بسته خراب رسیده")
        [told] = bot.wait_for(lambda: bot.sent(901))
        [conv] = _rows(c, "SELECT id, status FROM conversations WHERE channel_ref = '901'")
        assert conv["status"] == "waiting" and told.params["text"]
        [file] = _rows(c, "SELECT kind, mime FROM attachments WHERE conversation_id = ?", conv["id"])
        assert file["kind"] == "image"
        assert bot.sent(method="getFile")


@pytest.mark.slow
def test_429_is_waited_out(data_dir: Path, demo_db: Path, bot: BotApiServer) -> None:
    bot.fail("sendMessage", 429, retry_after=1)
    with _shop(data_dir, demo_db, bot):
        bot.message(1001, SHIPPING)
        [reply] = bot.wait_for(lambda: bot.sent(1001))
        [refused] = [call for call in bot.calls if call.status == 429]
        assert reply.at - refused.at >= 0.95  # retry_after honoured, then sent once
        time.sleep(0.3)
        assert len(bot.sent(1001)) == 1


def test_a_refused_token_is_shown_on_the_admin_page(data_dir: Path, demo_db: Path, bot: BotApiServer) -> None:
    with _shop(data_dir, demo_db, bot, bot_token="999:refused") as c:
        _owner(c)
        deadline = time.monotonic() + 10
        while 'data-state="refused"' not in (page := c.get("/admin/channels/telegram?lang=fa").text):
            assert time.monotonic() < deadline, page
            time.sleep(0.05)
        assert "توکن ربات پذیرفته نشد" in page and "999:refused" not in page
        assert not bot.sent(method="getUpdates")  # nothing more is asked with a refused token


def test_the_admin_page_says_connected_and_off(data_dir: Path, demo_db: Path, bot: BotApiServer) -> None:
    with _shop(data_dir, demo_db, bot) as c:
        _owner(c)
        bot.message(1101, "سلام")
        bot.wait_for(lambda: bot.sent(1101))
        page = c.get("/admin/channels/telegram?lang=en").text
        assert 'data-state="connected"' in page and "@book_nook_bot" in page and "None yet" not in page
    with make_api_client(data_dir, demo_db) as c:
        _owner(c)
        assert 'data-state="off"' in c.get("/admin/channels/telegram?lang=fa").text


def test_bales_address_gives_bale_conversations(data_dir: Path, demo_db: Path, bot: BotApiServer) -> None:
    with _shop(data_dir, demo_db, bot, bot_platform="bale") as c:
        bot.message(1201, SHIPPING)
        bot.wait_for(lambda: bot.sent(1201))
        [conv] = _rows(c, "SELECT channel FROM conversations WHERE channel_ref = '1201'")
        assert conv["channel"] == "bale"


def test_the_owner_links_their_chat_with_a_code_and_is_notified(
    data_dir: Path, demo_db: Path, bot: BotApiServer
) -> None:
    clock = Clock()
    with _shop(data_dir, demo_db, bot, clock) as c:
        _owner(c, clock)
        page = c.post("/admin/channels/telegram/code", headers={**SAME, "x-csrf-token": csrf(c), "hx-request": "true"})
        code = re.search(r"/start (\d{6})", page.text)
        assert code, page.text
        bot.message(1301, "۱۲۳۴۵۶" if code[1] != "123456" else "000000")  # a wrong code: a customer's message
        bot.wait_for(lambda: bot.sent(1301))
        # In Persian digits, as a phone's keyboard types them.
        persian = code[1].translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
        bot.message(1302, f"/start {persian}")
        [linked] = bot.wait_for(lambda: bot.sent(1302))
        assert "مدیر فروشگاه" in linked.params["text"]
        assert not _rows(c, "SELECT 1 FROM conversations WHERE channel_ref = '1302'")
        assert read_meta(c.app.state.services.store.read(), telegram.OWNER_CHAT_KEY) == "1302"
        assert 'class="tg-linked"' in c.get("/admin/channels/telegram").text
        # The owner's chat is never a customer's: what they write isn't answered as a question.
        bot.message(1302, SHIPPING)
        bot.wait_for(lambda: len(bot.sent(1302)) == 2)
        assert not _rows(c, "SELECT 1 FROM conversations WHERE channel_ref = '1302'")

        context: Context = c.app.state.services.channels.context
        assert asyncio.run(telegram.notify_owner(context, "مشتری منتظر است", "https://shop.example/admin/inbox"))
        alert = bot.sent(1302)[-1]
        assert alert.params["text"] == "مشتری منتظر است"
        assert _buttons(alert)[0]["url"] == "https://shop.example/admin/inbox"
        assert asyncio.run(telegram.notify_owner(context, "یک پیام", "http://192.168.1.5/admin"))
        assert bot.sent(1302)[-1].params["text"] == "یک پیام\nhttp://192.168.1.5/admin"
        bot.fail("sendMessage", 403)
        assert not asyncio.run(telegram.notify_owner(context, "مسدود"))

        # Unlinked, the chat is nobody's; a new code is good for 15 minutes.
        page = c.post(
            "/admin/channels/telegram/unlink", headers={**SAME, "x-csrf-token": csrf(c), "hx-request": "true"}
        )
        assert read_meta(c.app.state.services.store.read(), telegram.OWNER_CHAT_KEY) == ""
        assert not asyncio.run(telegram.notify_owner(context, "کسی نیست"))
        page = c.post("/admin/channels/telegram/code", headers={**SAME, "x-csrf-token": csrf(c), "hx-request": "true"})
        code = re.search(r"/start (\d{6})", page.text)
        assert code is not None
        clock.now += timedelta(minutes=16)
        bot.message(1303, f"/start {code[1]}")
        bot.wait_for(lambda: bot.sent(1303))
        assert read_meta(c.app.state.services.store.read(), telegram.OWNER_CHAT_KEY) == ""


def test_notify_owner_without_a_bot_says_so(data_dir: Path, demo_db: Path) -> None:
    with make_api_client(data_dir, demo_db) as c:
        context: Context = c.app.state.services.channels.context
        assert asyncio.run(telegram.notify_owner(context, "hello")) is False


def test_a_chats_conversations_are_one_customer_for_export_and_erasure(
    data_dir: Path, demo_db: Path, bot: BotApiServer
) -> None:
    clock = Clock()
    with _shop(data_dir, demo_db, bot, clock) as c:
        _owner(c, clock)
        bot.message(1401, SHIPPING)
        bot.wait_for(lambda: bot.sent(1401))
        [first] = _rows(c, "SELECT id FROM conversations WHERE channel_ref = '1401'")
        r = c.post(
            f"/admin/conversations/{first['id']}/status",
            data={"status": "resolved"},
            headers={**SAME, "x-csrf-token": csrf(c), "hx-request": "true"},
        )
        assert r.status_code == 200
        clock.now += timedelta(minutes=5)
        bot.message(1401, "هزینه ارسال چقدر است؟")
        bot.wait_for(lambda: len(bot.sent(1401)) == 2)
        convs = [
            r["id"] for r in _rows(c, "SELECT id FROM conversations WHERE channel_ref = '1401' ORDER BY created_at")
        ]
        assert len(convs) == 2 and convs[0] == first["id"]  # a resolved conversation: a new one
        store = c.app.state.services.store
        ids = privacy.customer_ids(store, conversation_id=convs[1])
        assert ids == convs
        exported = privacy.export_customer(store, ids)
        assert SHIPPING in json.dumps(exported, ensure_ascii=False)
        privacy.erase_customer(store, ids)
        assert not _rows(c, "SELECT 1 FROM conversations WHERE channel_ref = '1401'")


def _restart_settings(data_dir: Path, bot: BotApiServer) -> Settings:
    return Settings(
        data_dir=data_dir, model="none", shop_name="Book Nook", bot_platform="telegram", bot_token=TOKEN,
        bot_api_base=bot.base,
    )  # fmt: skip


def test_a_restart_mid_conversation_loses_nothing_and_doubles_nothing(
    data_dir: Path, demo_db: Path, bot: BotApiServer
) -> None:
    with _shop(data_dir, demo_db, bot) as c:
        first = bot.message(1501, SHIPPING)
        bot.wait_for(lambda: bot.sent(1501))
        store = c.app.state.services.store
        offset_key = telegram.offset_key(c.app.state.services.settings)
        assert read_meta(store.read(), offset_key) == str(first + 1)
    # While the appliance is down the customer writes twice more; and the API offers the first
    # again, as it would had the appliance stopped before telling it (the offset is set back).
    bot.message(1501, "هزینه ارسال چقدر است؟")
    bot.message(1501, "ممنون")
    bot.redeliver(first)
    store = Store(data_dir / "appliance.db")
    with store.write() as db:
        db.execute("UPDATE meta SET value = ? WHERE key = ?", [str(first), offset_key])
    store.close()
    with TestClient(create_app(_restart_settings(data_dir, bot))) as c:
        bot.wait_for(lambda: len(bot.sent(1501)) >= 3)
        time.sleep(0.5)
        assert len(bot.sent(1501)) == 3, _texts(bot, 1501)
        asked = _rows(c, "SELECT text FROM messages WHERE role = 'customer' ORDER BY id")
        assert [r["text"] for r in asked] == [SHIPPING, "هزینه ارسال چقدر است؟", "ممنون"]


@pytest.mark.slow
def test_kill_9_mid_stream_every_update_answered_exactly_once(tmp_path: Path, demo_db: Path, bot: BotApiServer) -> None:
    """A real `appliance serve` (granian) killed with SIGKILL while customers write, and started
    again: every message gets exactly one reply (the bot's, or the escalation of one it was
    answering when it died)."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copy(demo_db, data_dir / "appliance.db")
    settings = {"bot_platform": "telegram", "bot_token": TOKEN, "bot_api_base": bot.base}
    port = free_port()
    proc = start_server(data_dir, port, "--model", "none", settings=settings, quiet=True)
    chats = list(range(2001, 2041))
    questions = [SHIPPING, "هزینه ارسال چقدر است؟", "ساعت کاری شما؟", "can I return a book?"]
    try:
        wait_healthy(port, proc, timeout=120)
        bot.wait_for(lambda: bot.sent(method="getMe") and bot.calls[-1].method == "getUpdates", timeout=30)
        for n, chat in enumerate(chats[:20]):
            bot.message(chat, questions[n % len(questions)])
        bot.wait_for(lambda: bot.sent(method="sendMessage"), timeout=30)  # killed mid-stream:
        # The whole appliance, as systemd's kill -9 of the service does: granian's worker is a
        # child that would outlive its parent alone (and go on answering beside the restarted one).
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        answered_before = sum(bool(bot.sent(chat)) for chat in chats[:20])
        for n, chat in enumerate(chats[20:]):  # ...and customers go on writing while it is down
            bot.message(chat, questions[n % len(questions)])
        proc = start_server(data_dir, port, "--model", "none", settings=settings, quiet=True)
        wait_healthy(port, proc, timeout=120)
        bot.wait_for(lambda: all(bot.sent(chat) for chat in chats), timeout=60)
        time.sleep(1.0)  # anything doubled would have arrived by now
        counts = {chat: len(bot.sent(chat)) for chat in chats}
        assert answered_before < 20  # the kill did fall mid-stream
    finally:
        stop(proc)
    # Nothing lost: every customer got a reply. Nothing answered twice: each update was stored
    # once and decided once. A reply on its way at the kill (sent, its mark not yet written: the
    # Bot API has no idempotency key) may reach its chat a second time, never more.
    assert min(counts.values()) >= 1 and max(counts.values()) <= 2, counts
    with contextlib.closing(sqlite3.connect(data_dir / "appliance.db")) as db:
        stored = db.execute(
            "SELECT c.channel_ref, count(DISTINCT m.id), count(d.id) FROM conversations c "
            "JOIN messages m ON m.conversation_id = c.id AND m.role = 'customer' "
            "LEFT JOIN decisions d ON d.message_id = m.id GROUP BY c.channel_ref"
        ).fetchall()
    assert sorted(int(ref) for ref, _, _ in stored) == chats
    assert {(asked, decided) for _, asked, decided in stored} == {(1, 1)}, stored
    doubled = sum(n - 1 for n in counts.values())
    print(f"replies delivered twice after the kill: {doubled} of {len(chats)}")


# -- webhook mode (public_url is https) -----------------------------------------------------------

HOOK_PREFIX = "https://shop.example/api/v1/channels/telegram/"


def _hooked(bot: BotApiServer) -> dict[str, Any]:
    return bot.wait_for(lambda: dict(bot.webhook) if str(bot.webhook.get("url", "")).startswith("https://") else {})


@pytest.mark.slow
def test_a_persian_message_by_webhook_is_answered(data_dir: Path, demo_db: Path, bot: BotApiServer) -> None:
    with _shop(data_dir, demo_db, bot, public_url="https://shop.example/") as c:
        hook = _hooked(bot)
        assert hook["url"].startswith(HOOK_PREFIX) and len(hook["url"]) > len(HOOK_PREFIX) + 20
        assert len(hook["secret_token"]) >= 32 and hook["secret_token"] not in hook["url"]
        assert hook["allowed_updates"] == ["message", "callback_query"]
        update_id = bot.message(601, SHIPPING)
        answer = bot.post_update(update_id, c.post)
        assert answer.status_code == 200 and answer.json() == {"ok": True}
        [reply] = bot.wait_for(lambda: bot.sent(601))
        assert "شیراز" in reply.params["text"] or reply.params["text"]
        assert [b["text"] for b in _buttons(reply)] == ["صحبت با یک نفر"]
        [asked] = _rows(c, "SELECT text, client_id FROM messages WHERE role = 'customer'")
        assert asked["text"] == SHIPPING and asked["client_id"] == f"tg:{update_id}"
        assert not [call for call in bot.calls if call.method == "getUpdates"]  # no polling meanwhile
        c.base_url = "https://testserver"  # the session cookie is Secure at an https public address
        _owner(c)
        page = c.get("/admin/channels/telegram?lang=fa").text
        assert 'data-mode="webhook"' in page and "نشانی عمومی https" in page
        assert hook["secret_token"] not in page
    # The address and the secret are the same after a restart (Telegram keeps them until told).
    bot.webhook = {}
    with _shop(data_dir, demo_db, bot, public_url="https://shop.example") as c:
        assert _hooked(bot) == hook


def test_a_webhook_post_without_the_secret_is_refused(data_dir: Path, demo_db: Path, bot: BotApiServer) -> None:
    with _shop(data_dir, demo_db, bot, public_url="https://shop.example") as c:
        hook = _hooked(bot)
        update_id = bot.message(602, SHIPPING)
        assert bot.post_update(update_id, c.post, secret="").status_code == 401
        assert bot.post_update(update_id, c.post, secret=hook["secret_token"][:-1] + "x").status_code == 401
        path = hook["url"].removeprefix("https://shop.example")
        headers = {"content-type": "application/json", "x-telegram-bot-api-secret-token": hook["secret_token"]}
        update = json.dumps(bot.pushed[update_id]).encode()
        # Another path token is nothing here, secret or not; GET is not served.
        other = path[:-1] + ("1" if path.endswith("0") else "0")
        assert c.post(other, content=update, headers=headers).status_code == 404
        assert c.get(path).status_code == 405
        # Not JSON, not an update, too large.
        assert c.post(path, content=b"{not json", headers=headers).status_code == 400
        assert c.post(path, content=b'{"message": {}}', headers=headers).status_code == 400
        assert c.post(path, content=b'{"pad": "' + b"x" * 70_000 + b'"}', headers=headers).status_code == 413
        time.sleep(0.3)
        assert not _rows(c, "SELECT 1 FROM messages WHERE role = 'customer'")
        assert not _rows(c, "SELECT 1 FROM conversations WHERE channel = 'telegram'")
        assert not bot.sent(602)


def test_a_repeated_webhook_delivery_is_answered_once(data_dir: Path, demo_db: Path, bot: BotApiServer) -> None:
    with _shop(data_dir, demo_db, bot, public_url="https://shop.example") as c:
        _hooked(bot)
        update_id = bot.message(603, SHIPPING)
        # Telegram posts again what it got no 200 for in time: at once, and after the reply.
        assert bot.post_update(update_id, c.post).status_code == 200
        assert bot.post_update(update_id, c.post).status_code == 200
        bot.wait_for(lambda: bot.sent(603))
        assert bot.post_update(update_id, c.post).status_code == 200
        press = bot.press(603, "p")
        assert bot.post_update(press, c.post).status_code == 200
        assert bot.post_update(press, c.post).status_code == 200
        bot.wait_for(lambda: bot.sent(method="answerCallbackQuery"))
        time.sleep(0.5)
        assert len(bot.sent(603)) == 2  # the answer, and the handover's notice: each once
        assert len(bot.sent(method="answerCallbackQuery")) == 1
        # The question once, and the press (stored as the customer's "talk to a person") once.
        asked = [r["text"] for r in _rows(c, "SELECT text FROM messages WHERE role = 'customer' ORDER BY id")]
        assert asked == [SHIPPING, "می‌خواهم با یک نفر صحبت کنم"]


@pytest.mark.slow
def test_an_http_public_url_deletes_the_webhook_and_polls_again(
    data_dir: Path, demo_db: Path, bot: BotApiServer
) -> None:
    with _shop(data_dir, demo_db, bot, public_url="https://shop.example") as c:
        _hooked(bot)
        services = c.app.state.services
        services.settings = services.settings.replace(public_url="http://192.168.1.5:8750")
        bot.wait_for(lambda: not bot.webhook and bot.sent(method="deleteWebhook"))
        bot.message(604, SHIPPING)
        [reply] = bot.wait_for(lambda: bot.sent(604))
        assert reply.params["text"] and bot.sent(method="getUpdates")
        _owner(c)
        page = c.get("/admin/channels/telegram?lang=en").text
        assert 'data-mode="polling"' in page and "long polling" in page


def test_ten_wrong_codes_from_any_chats_use_the_link_code_up(store) -> None:
    """One chat may try a dozen codes a minute; many chats together could try them all in the
    code's 15 minutes, and a linked chat receives customers' words."""
    from datetime import UTC, datetime

    from appliance.channels import telegram_owner

    secret, now = b"k" * 32, datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    code = telegram_owner.new_link_code(store, secret, now)
    wrong = [f"{(int(code) + n) % 10**6:06d}" for n in range(1, telegram_owner.LINK_CODE_TRIES + 1)]
    for n, guess in enumerate(wrong[:-1]):
        assert not telegram_owner.link_owner(store, secret, now, str(5000 + n), guess)
    assert telegram_owner.link_owner(store, secret, now, "1302", f"/start {code}")  # nine wrong: still good
    code = telegram_owner.new_link_code(store, secret, now)
    for n, guess in enumerate(f"{(int(code) + k) % 10**6:06d}" for k in range(1, 11)):
        assert not telegram_owner.link_owner(store, secret, now, str(6000 + n), guess)
    assert not telegram_owner.link_owner(store, secret, now, "1303", code)  # used up by the tenth
    assert read_meta(store.read(), telegram.OWNER_CHAT_KEY) == "1302"
