"""The conversations' events: written with the change they describe, only for customers'
conversations, read in order by each reader from its own place, kept across a restart, and gone
with an erased conversation."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from datetime import UTC, datetime, timedelta

from appliance.answering.compose import Reply
from appliance.answering.decide import Decision
from appliance.conversations import events
from appliance.conversations.store import Channel, Conversations, Event
from appliance.db import Store

from .helpers import customer_asks, make_api_client, post, sign_in


def _now() -> datetime:
    return datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _kinds(store: Store, reader: str = "test") -> list[str]:
    return [e.kind for e in events.pending(store, reader)]


def test_a_conversation_tells_its_story_in_order(store: Store) -> None:
    bell = events.Bell()
    conversations = Conversations(store, _now, bell=bell)
    cid = conversations.start(lang="fa", channel=Channel.TELEGRAM, channel_ref="4242")
    mid, _ = conversations.add_customer_message(cid, "ساعت کاری شما چیست؟", client_id="tg:1")
    conversations.record_turn(
        cid, mid, Decision("escalate", "no_match", "fa", "ساعت کاری شما چیست؟"), Reply("…", "template"), 1.0
    )
    conversations.add_owner_reply(cid, "از ۹ تا ۱۸ باز هستیم.")
    conversations.take_over(cid, True, "صاحب فروشگاه به گفتگو پیوست.")
    conversations.set_status(cid, Event.RESOLVED)
    conversations.rate(cid, True, "ممنون")

    got = events.pending(store, "test")
    assert [e.kind for e in got] == [
        events.STARTED,
        events.CUSTOMER_MESSAGE,
        events.BOT_MESSAGE,
        events.HANDED_OVER,
        events.OWNER_MESSAGE,
        events.SYSTEM_MESSAGE,
        events.RESOLVED,
        events.RATED,
    ]
    assert all(e.channel == "telegram" and e.conversation_id == cid for e in got)
    assert got[1].data["text"] == "ساعت کاری شما چیست؟" and got[1].message_id == mid
    assert got[3].data["reason"] == "no_match"
    assert got[4].data["text"] == "از ۹ تا ۱۸ باز هستیم."
    assert got[7].data == {"satisfied": True, "comment": "ممنون"}
    assert bell.rings() == 7  # once for each write (the bot's turn and its hand-over are one)
    assert conversations.by_channel_ref(Channel.TELEGRAM, "4242")["id"] == cid


def test_a_retried_message_and_a_second_hand_over_note_nothing_new(store: Store) -> None:
    conversations = Conversations(store, _now)
    cid = conversations.start(channel=Channel.WIDGET)
    mid, _ = conversations.add_customer_message(cid, "سلام", client_id="c1")
    assert conversations.add_customer_message(cid, "سلام", client_id="c1") == (mid, True)
    escalate = Decision("escalate", "no_match", "fa", "سلام")
    conversations.record_turn(cid, mid, escalate, Reply("…", "template"), 1.0)
    mid2, _ = conversations.add_customer_message(cid, "کسی هست؟")
    conversations.record_turn(cid, mid2, escalate, Reply("…", "template"), 1.0)
    kinds = _kinds(store)
    assert kinds.count(events.CUSTOMER_MESSAGE) == 2
    assert kinds.count(events.HANDED_OVER) == 1  # it was already waiting the second time


def test_the_shops_own_tools_note_no_events(store: Store) -> None:
    conversations = Conversations(store, _now)
    for channel in (Channel.CLI, Channel.EVAL):
        cid = conversations.start(channel=channel)
        mid, _ = conversations.add_customer_message(cid, "hours?")
        conversations.record_turn(cid, mid, Decision("escalate", "no_match", "en", "hours?"), Reply("…", "t"), 1.0)
    assert _kinds(store) == []


def test_each_reader_keeps_its_own_place_across_a_restart(data_dir) -> None:
    path = data_dir / "appliance.db"
    store = Store(path)
    store.migrate()
    conversations = Conversations(store, _now)
    cid = conversations.start(channel=Channel.EMAIL)
    conversations.add_customer_message(cid, "one")
    got = events.pending(store, "a")
    with store.write() as db:
        events.advance(db, "a", got[-1].id, _now().isoformat())
    conversations.add_customer_message(cid, "two")
    store.close()

    store = Store(path)  # the appliance started again
    after_a = events.pending(store, "a")
    assert [e.data["text"] for e in after_a] == ["two"]
    assert [e.kind for e in events.pending(store, "b")][:1] == [events.STARTED]  # b never read: all of it
    # Filters: a channel reads only its own.
    assert events.pending(store, "b", channels=["telegram"]) == []
    assert [e.data["text"] for e in events.pending(store, "b", kinds=[events.CUSTOMER_MESSAGE])] == ["one", "two"]
    # A place never moves back (two workers finishing out of order).
    with store.write() as db:
        events.advance(db, "a", after_a[-1].id, _now().isoformat())
        events.advance(db, "a", 1, _now().isoformat())
    assert events.pending(store, "a") == []
    store.close()


def test_a_new_reader_starts_at_the_present(store: Store) -> None:
    conversations = Conversations(store, _now)
    cid = conversations.start(channel=Channel.WIDGET)
    conversations.add_customer_message(cid, "before the reader existed")
    events.start_at_present(store, "late", _now().isoformat())
    conversations.add_customer_message(cid, "after")
    assert [e.data["text"] for e in events.pending(store, "late")] == ["after"]


def test_erasing_a_conversation_erases_its_events_and_old_ones_are_pruned(store: Store) -> None:
    conversations = Conversations(store, _now)
    kept = conversations.start(channel=Channel.WIDGET)
    erased = conversations.start(channel=Channel.WIDGET)
    conversations.add_customer_message(erased, "شماره کارت من ۶۰۳۷۹۹۷۵۹۹۹۹۹۹۹۹ است")
    conversations.delete([erased])
    assert {e.conversation_id for e in events.pending(store, "test")} == {kept}
    assert events.prune(store, _now() + timedelta(days=events.KEEP_DAYS + 1)) == 1
    assert events.pending(store, "test") == []


def test_the_bell_wakes_a_thread_and_a_loop() -> None:
    bell = events.Bell()
    seen = bell.rings()
    woke: list[int] = []
    waiter = threading.Thread(target=lambda: woke.append(bell.wait(seen, 10)))
    waiter.start()

    async def on_a_loop() -> bool:
        rung = bell.subscribe()
        threading.Timer(0.05, bell.ring).start()  # rung from another thread, as the writer does
        try:
            await asyncio.wait_for(rung.wait(), 10)
            return True
        finally:
            bell.unsubscribe(rung)

    assert asyncio.run(on_a_loop())
    waiter.join(10)
    assert woke and woke[0] > seen


def test_the_widget_and_the_inbox_note_events_through_the_app(data_dir, demo_db) -> None:
    with make_api_client(data_dir, demo_db) as c:
        services = c.app.state.services
        conv, _, _ = customer_asks(c, "آیا کتاب‌ها را کادوپیچ می‌کنید؟")
        kinds = [e.kind for e in events.pending(services.store, "test") if e.conversation_id == conv]
        assert kinds[:3] == [events.STARTED, events.CUSTOMER_MESSAGE, events.BOT_MESSAGE]
        assert all(e.channel == "widget" for e in events.pending(services.store, "test"))


def test_every_customer_channel_waits_in_the_inbox_marked_with_its_channel(admin) -> None:
    services = admin.app.state.services
    conversations = services.chat.conversations
    asked = {
        Channel.TELEGRAM: "سفارشم کی می‌رسد؟",
        Channel.BALE: "قیمت ارسال به شیراز؟",
        Channel.EMAIL: "فاکتور رسمی می‌دهید؟",
        Channel.CLI: "not a customer",
    }
    ids = {}
    for channel, text in asked.items():
        cid = conversations.start(lang="fa", channel=channel, channel_ref=f"ref-{channel}")
        mid, _ = conversations.add_customer_message(cid, text)
        conversations.record_turn(cid, mid, Decision("escalate", "no_match", "fa", text), Reply("…", "t"), 1.0)
        ids[channel] = cid
    sign_in(admin)
    page = admin.get("/admin/inbox?view=waiting&lang=fa").text
    for channel in (Channel.TELEGRAM, Channel.BALE, Channel.EMAIL):
        assert asked[channel] in page
    assert "not a customer" not in page
    assert "تلگرام" in page and "بله" in page and "ایمیل" in page
    one = admin.get(f"/admin/inbox?view=waiting&c={ids[Channel.TELEGRAM]}&lang=en").text
    assert "bi-telegram" in one and "Telegram" in one
    assert admin.get(f"/admin/inbox?view=all&c={ids[Channel.CLI]}&lang=en").status_code == 404
    # The owner's reply is stored (and its event noted for the channel to send), never e-mailed
    # as a widget customer's would be (the mailbox channel sends it in its thread).
    services.apply_settings(dataclasses.replace(services.settings, smtp_host="127.0.0.1", smtp_from="shop@example.com"))
    services.chat.conversations.set_contact(ids[Channel.EMAIL], "customer@example.com", "")
    r = post(admin, f"/admin/conversations/{ids[Channel.EMAIL]}/reply", data={"text": "بله، با کمال میل."})
    assert r.status_code == 200
    sent = [e for e in events.pending(services.store, "test", kinds=[events.OWNER_MESSAGE])]
    assert [(e.channel, e.data["text"]) for e in sent] == [("email", "بله، با کمال میل.")]
    # Only the mailbox channel's own e-mail (in the thread: it carries its Message-ID) may be there,
    # never the widget's plain copy.
    assert services.store.read().execute("SELECT count(*) FROM outbox WHERE headers IS NULL").fetchone()[0] == 0


def test_a_customers_export_names_the_channel_and_holds_their_e_mails_whole(store: Store) -> None:
    from appliance.channels import mail_threads, records

    conversations = Conversations(store, _now)
    cid = conversations.start(lang="fa", channel=Channel.EMAIL, channel_ref="<q1@example.com>")
    conversations.add_customer_message(cid, "فاکتور رسمی می‌دهید؟")
    whole = "فاکتور رسمی می‌دهید؟\n\nبا سپاس، سارا\n> پیام قبلی"
    with store.write() as db:
        mail_threads.remember(
            db, "<q1@example.com>", cid, incoming=True, now=_now().isoformat(), sender="sara@example.com",
            subject="فاکتور", body=whole,
        )  # fmt: skip
    data = records.export_customer(store, [cid])
    conversation = data["conversations"][0]
    assert (conversation["channel"], conversation["channel_ref"]) == ("email", "<q1@example.com>")
    assert [(e["conversation_id"], e["body"], e["incoming"]) for e in data["emails"]] == [(cid, whole, True)]
    conversations.delete([cid])  # erasure takes the e-mails with the conversation
    assert mail_threads.thread(store, cid) == []


def test_a_restored_backup_goes_on_after_the_ids_already_handed_out(data_dir) -> None:
    """Webhook receivers drop an event id they have seen, and the channels send what is after
    their place: a restore that wound the ids back lost new events and re-sent old replies."""
    from appliance.ops import backup

    path = data_dir / "appliance.db"
    store = Store(path)
    store.migrate()
    conversations = Conversations(store, _now)
    cid = conversations.start(channel=Channel.TELEGRAM, channel_ref="77")
    conversations.add_customer_message(cid, "قبل از پشتیبان")
    store.close()
    taken = backup.take(path, data_dir / "backups", _now())

    store = Store(path)
    conversations = Conversations(store, _now)
    for n in range(5):
        conversations.add_customer_message(cid, f"بعد از پشتیبان {n}")
    handed_out = max(e.id for e in events.pending(store, "webhooks"))
    with store.write() as db:
        events.advance(db, "telegram-out", handed_out, _now().isoformat())
    store.close()

    backup.restore(taken.path, path, data_dir / "backups", _now())
    store = Store(path)
    store.migrate()
    assert events.pending(store, "telegram-out") == []  # nothing from the file is sent again
    new = Conversations(store, _now).start(channel=Channel.TELEGRAM, channel_ref="78")
    after = events.pending(store, "telegram-out")
    assert [e.conversation_id for e in after] == [new] and after[0].id > handed_out
    store.close()
