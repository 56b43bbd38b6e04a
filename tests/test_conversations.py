"""The conversation's owner: its status rules, one waiting count everywhere, and writes that never
hold up the event loop."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from litestar.testing import TestClient

from appliance.answering.compose import Reply
from appliance.answering.decide import Decision
from appliance.conversations.store import Channel, Conversations, Event, NoConversation, Status, transition

from .helpers import events, make_api_client, post, sign_in, start_chat

E = Event


@pytest.mark.parametrize(
    ("before", "event", "after"),
    [
        # The bot answers: an open conversation stays open, one waiting for the owner keeps waiting.
        (Status.OPEN, E.BOT_REPLIED, Status.OPEN),
        (Status.WAITING, E.BOT_REPLIED, Status.WAITING),
        (Status.ANSWERED, E.BOT_REPLIED, Status.OPEN),
        (Status.RESOLVED, E.BOT_REPLIED, Status.OPEN),
        (Status.OPEN, E.ESCALATED, Status.WAITING),
        (Status.RESOLVED, E.ESCALATED, Status.WAITING),
        (Status.WAITING, E.OWNER_REPLIED, Status.ANSWERED),
        (Status.OPEN, E.OWNER_REPLIED, Status.ANSWERED),
        # One the owner took over is theirs, whatever else happens, until they hand it back.
        (Status.HUMAN, E.BOT_REPLIED, Status.HUMAN),
        (Status.HUMAN, E.ESCALATED, Status.HUMAN),
        (Status.HUMAN, E.OWNER_REPLIED, Status.HUMAN),
        (Status.WAITING, E.TAKEN_OVER, Status.HUMAN),
        (Status.HUMAN, E.HANDED_BACK, Status.ANSWERED),
        (Status.ANSWERED, E.BOT_REPLIED, Status.OPEN),
        (Status.WAITING, E.RESOLVED, Status.RESOLVED),
        (Status.HUMAN, E.RESOLVED, Status.RESOLVED),
        (Status.RESOLVED, E.REOPENED, Status.OPEN),
    ],
)
def test_every_status_rule(before: Status, event: Event, after: Status) -> None:
    assert transition(before, event) is after


def test_every_status_and_event_has_a_rule() -> None:
    """Each status meets each event with a rule that names the next status, and each status is
    where some rule leads: a status or event added without its rules is named here."""
    rules: dict[tuple[Status, Event], object] = {}
    for status in Status:
        for event in Event:
            try:
                rules[status, event] = transition(status, event)
            except Exception as exc:  # a pair the rules don't cover: named below, not an error
                rules[status, event] = exc
    without = [
        f"{s.value} + {e.value} -> {after!r}" for (s, e), after in rules.items() if not isinstance(after, Status)
    ]
    assert not without, f"no rule for: {without}"
    reached = {after for after in rules.values() if isinstance(after, Status)}
    never = sorted(s.value for s in set(Status) - reached)
    assert not never, f"no rule leads to: {never}"


def _escalate(conversations: Conversations, channel: Channel) -> str:
    cid = conversations.start(channel=channel)
    message_id, _ = conversations.add_customer_message(cid, "I want to talk to a real person")
    conversations.record_turn(
        cid,
        message_id,
        Decision("escalate", "asked_for_person", "en", "person"),
        Reply("The owner will answer.", "template"),
        1.0,
    )
    return cid


def test_one_waiting_count_on_the_home_page_the_badge_and_the_inbox(admin: TestClient) -> None:
    """`appliance ask "I want to talk to a real person"` escalates a CLI conversation: it is not a
    customer's, so no page may count it (the home page did, the badge and the inbox did not)."""
    conversations: Conversations = admin.app.state.services.chat.conversations
    _escalate(conversations, Channel.CLI)
    _escalate(conversations, Channel.EVAL)
    customer = _escalate(conversations, Channel.WIDGET)
    assert conversations.waiting_count() == 1
    sign_in(admin)
    home = admin.get("/admin/").text
    badge = admin.get("/admin/inbox/count").text
    inbox = admin.get("/admin/inbox").text
    assert 'data-count="1"' in badge
    assert "(۱)" in home  # the owner's admin is in Persian: Persian digits
    assert inbox.count("&amp;c=") == 1 and customer in inbox  # one item, opening beside the list
    assert conversations.counts_by_status() == {"waiting": 1}


def test_the_owners_reply_goes_through_the_same_rules(admin: TestClient) -> None:
    conversations: Conversations = admin.app.state.services.chat.conversations
    cid = _escalate(conversations, Channel.WIDGET)
    sign_in(admin)
    r = post(admin, f"/admin/conversations/{cid}/reply", data={"text": "پنجشنبه‌ها تا ساعت ۲ باز هستیم."})
    assert r.status_code == 200, r.text
    assert conversations.status(cid) is Status.ANSWERED
    assert conversations.waiting_count() == 0
    history = conversations.history(cid)
    assert history[-1]["role"] == "owner" and history[-1]["text"] == "پنجشنبه‌ها تا ساعت ۲ باز هستیم."


def test_an_unknown_conversation_is_refused(client: TestClient) -> None:
    conversations: Conversations = client.app.state.services.chat.conversations
    with pytest.raises(NoConversation):
        conversations.add_customer_message("no-such-id", "hello")
    with pytest.raises(NoConversation):
        conversations.set_status("no-such-id", Event.RESOLVED)


def test_a_held_writer_does_not_stop_other_customers(data_dir: Path, demo_db: Path) -> None:
    """While something holds the single writer (a big import, a restore), the event loop keeps
    serving: a customer reading their conversation is answered at once, and a customer whose
    message waits for the writer gets their reply streamed as soon as it is free."""
    with make_api_client(data_dir, demo_db) as api:
        reader_conv, reader_token, _ = start_chat(api, "en")
        writer_conv, writer_token, _ = start_chat(api, "en")
        store = api.app.state.services.store
        held = threading.Event()
        release = threading.Event()

        def hold_the_writer() -> None:
            with store.write():
                held.set()
                release.wait(10)

        holder = threading.Thread(target=hold_the_writer)
        holder.start()
        assert held.wait(5)
        sent: dict = {}

        def send() -> None:
            r = api.post(
                f"/api/v1/conversations/{writer_conv}/messages",
                json={"text": "how much is shipping?"},
                headers={"authorization": f"Bearer {writer_token}"},
            )
            sent["status"], sent["text"], sent["at"] = r.status_code, r.text, time.monotonic()

        sender = threading.Thread(target=send)
        sender.start()
        time.sleep(0.3)  # the message is now waiting for the writer
        began = time.monotonic()
        r = api.get(
            f"/api/v1/conversations/{reader_conv}/messages", headers={"authorization": f"Bearer {reader_token}"}
        )
        read_s = time.monotonic() - began
        assert r.status_code == 200
        assert sender.is_alive(), "the message should still be waiting for the writer"
        released_at = time.monotonic()
        release.set()
        holder.join(5)
        sender.join(30)
        # Served while the writer was held (before, the loop itself waited for the lock: the
        # read took as long as the hold, 10 s here).
        assert read_s < 5, read_s
        assert sent["status"] == 200 and sent["at"] >= released_at
        names = [name for name, _ in events(sent["text"])]
        assert names[0] == "accepted" and names[-1] == "done"


def test_store_run_finishes_a_write_whose_caller_gave_up(store) -> None:
    """A customer closing the page cancels their request; the write it had started still happens."""
    conversations = Conversations(store, lambda: datetime(2026, 12, 1, tzinfo=UTC))

    async def go() -> None:
        task = asyncio.ensure_future(store.run(conversations.start))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.5)

    asyncio.run(go())
    assert store.read().execute("SELECT count(*) FROM conversations").fetchone()[0] == 1


def test_buttons_pressed_before_the_upgrade_are_marked_so_the_inbox_shows_the_question(tmp_path: Path) -> None:
    """A shop's inbox read «می‌خواهم با یک نفر صحبت کنم» (the words the chat stores for «هیچ‌کدام»)
    as the customer's question; the upgrade marks the presses already stored, and only them."""
    import sqlite3

    import sqlite_utils

    from appliance.db import Store
    from appliance.migrations import MIGRATIONS

    path = tmp_path / "appliance.db"
    conn = sqlite3.connect(path)
    MIGRATIONS.apply(sqlite_utils.Database(conn), stop_before="0018_pressed")
    conn.execute(
        "INSERT INTO conversations (id, lang, channel, status, created_at, updated_at) "
        "VALUES ('c', 'fa', 'widget', 'waiting', '2026-01-01T09:00:00+00:00', '2026-01-01T09:00:00+00:00')"
    )
    said = [
        ("customer", "جلد سوم هری پاتر را دارید؟", "clarify", "close_candidates"),
        ("bot", "کدام یک؟", None, None),
        ("customer", "می‌خواهم با یک نفر صحبت کنم", "escalate", "clarification_failed"),
        ("bot", "به همکارم می‌سپارم.", None, None),
        ("customer", "می‌خواهم با یک نفر صحبت کنم", "escalate", "no_match"),  # typed, the same words
        ("customer", "پس دادن کتاب", "answer", "chosen_by_customer"),  # one of the choices
    ]
    for n, (role, text, kind, reason) in enumerate(said, start=1):
        conn.execute(
            "INSERT INTO messages (id, conversation_id, role, text, created_at) VALUES (?, 'c', ?, ?, ?)",
            [n, role, text, f"2026-01-01T09:00:0{n}+00:00"],
        )
        if kind:
            conn.execute(
                "INSERT INTO decisions (conversation_id, message_id, kind, reason, entry_ids, query, lang, created_at) "
                "VALUES ('c', ?, ?, ?, '[]', ?, 'fa', '2026-01-01T09:00:00+00:00')",
                [n, kind, reason, text],
            )
    conn.commit()
    conn.close()
    store = Store(path)
    try:
        store.migrate()
        pressed = [r[0] for r in store.read().execute("SELECT pressed FROM messages ORDER BY id")]
        assert pressed == [None, None, "none_of_these", None, None, "choice"]
    finally:
        store.close()
