"""The orders' storage on a real SQLite file: the sheet replaced whole, the import history and
its remembered mapping, the audit log counted as the desk counts tries, a conversation's question
in progress, and what erasing a conversation leaves."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.conversations import privacy
from appliance.conversations.store import Conversations
from appliance.db import Store
from appliance.orders import store as orders_store
from appliance.orders.order import Order
from appliance.web import visitors

from .helpers import Clock

NOW = "2026-12-07T10:00:00+00:00"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "appliance.db")
    s.migrate()
    return s


def _sheet() -> list[Order]:
    return [
        Order("۱۲۳۴۵", "processing", "در حال آماده‌سازی", "2026-12-01", phone="09121234567"),
        Order("WC-1042", "shipped", "ارسال شد", "2026-11-30", "2026-12-02", "پست", "1234567890123456789012"),
    ]


def test_an_import_replaces_the_whole_sheet(store: Store) -> None:
    with store.write() as db:
        assert orders_store.replace_sheet(db, _sheet(), source="سفارش‌ها.csv", kind="file", mapping={}, now=NOW) == 2
    db = store.read()
    found = orders_store.sheet_order(db, "#12345")
    assert found is not None and found.number == "12345" and found.status_label == "در حال آماده‌سازی"
    assert found.phone == "09121234567"  # kept for the proof
    shipped = orders_store.sheet_order(db, "wc 1042")
    assert shipped is not None and (shipped.carrier, shipped.shipped) == ("پست", "2026-12-02")

    newer = [Order("777", "completed", "تحویل شد"), Order("۷۷۷", "completed", "تحویل شد (دوباره)")]
    with store.write() as db:
        assert orders_store.replace_sheet(db, newer, source="x.xlsx", kind="feed", mapping={}, now=NOW) == 1
    db = store.read()
    assert orders_store.sheet_order(db, "12345") is None and orders_store.sheet_order(db, "WC-1042") is None
    last = orders_store.sheet_order(db, "777")
    assert last is not None and last.status_label == "تحویل شد (دوباره)"  # the later row of a number
    assert orders_store.sheet_size(db) == 1
    assert orders_store.sheet_order(db, "  ") is None


def test_the_import_history_and_the_remembered_mapping(store: Store) -> None:
    columns = ["شماره سفارش", "وضعیت", "موبایل"]
    mapping = {"columns": columns, "number": "شماره سفارش", "status": "وضعیت", "phone": "موبایل"}
    with store.write() as db:
        orders_store.replace_sheet(db, _sheet(), source="a.csv", kind="file", mapping=mapping, now=NOW)
        orders_store.record_import(db, now=NOW, source="https://shop.example/orders.csv", kind="feed", error="۵۰۰")
    db = store.read()
    failed, done = orders_store.imports(db)
    assert (failed.kind, failed.rows, failed.error) == ("feed", 0, "۵۰۰")
    assert (done.rows, done.mapping["number"]) == (2, "شماره سفارش")
    assert orders_store.last_mapping(db, columns) == {"number": "شماره سفارش", "status": "وضعیت", "phone": "موبایل"}
    assert orders_store.last_mapping(db, ["order", "status"]) is None
    with store.write() as db:
        for _ in range(orders_store.KEEP_IMPORTS + 5):
            orders_store.record_import(db, now=NOW, source="x", kind="feed", error="down")
    assert len(orders_store.imports(store.read(), 100)) == orders_store.KEEP_IMPORTS


def test_lookups_are_counted_by_number_visitor_conversation_and_time(store: Store) -> None:
    conversations = Conversations(store, Clock())
    one, two = conversations.start(lang="fa"), conversations.start(lang="fa")
    with store.write() as db:
        for minute, (cid, visitor, number, outcome) in enumerate(
            [
                (one, "v1", "۱۲۳۴۵", "wrong_proof"),
                (one, "v1", "12345", "wrong_proof"),
                (one, "v1", "12346", "not_found"),
                (two, "v2", "#12345", "found"),
                (two, "v2", "12347", "not_found"),
                (None, "v3", "12345", "limited"),
            ]
        ):
            orders_store.record_lookup(
                db,
                at=f"2026-12-07T10:{minute:02d}:00+00:00",
                conversation_id=cid,
                visitor=visitor,
                number=number,
                outcome=outcome,
                source="woocommerce",
            )
        with pytest.raises(ValueError):
            orders_store.record_lookup(
                db, at=NOW, conversation_id=None, visitor=None, number="1", outcome="guessed", source=""
            )
    db = store.read()
    tries = ("wrong_proof", "not_found")

    def count(since: str = "2026-12-07T00:00:00+00:00", outcomes: tuple[str, ...] = tries, **by: str) -> int:
        return orders_store.count_lookups(db, since=since, outcomes=outcomes, **by)

    assert count(number="12345") == 2  # Persian digits and "#" are the same number
    assert count(number="12345", outcomes=orders_store.OUTCOMES) == 4
    assert count(visitor="v1") == 3 and count(visitor="v2") == 1
    assert count(conversation_id=one) == 3 and count(conversation_id=two) == 1
    assert count(visitor="v1", number="12346") == 1
    assert count(since="2026-12-07T10:02:00+00:00", visitor="v1") == 1  # only from then on
    assert count() == 4 and count(outcomes=()) == 0

    log = orders_store.lookups(db)
    assert [r.outcome for r in log][:2] == ["limited", "not_found"]  # newest first
    assert [r.number for r in orders_store.lookups(db, conversation_id=two)] == ["12347", "12345"]
    assert len(orders_store.lookups(db, limit=2)) == 2


def test_a_question_in_progress_round_trips(store: Store) -> None:
    cid = Conversations(store, Clock()).start(lang="fa")
    assert orders_store.desk_state(store.read(), cid) is None
    with store.write() as db:
        orders_store.set_desk_state(db, cid, number="", stage="number", tries=0, now=NOW)
        orders_store.set_desk_state(db, cid, number="12345", stage="proof", tries=1, now="2026-12-07T10:01:00+00:00")
    state = orders_store.desk_state(store.read(), cid)
    assert state == orders_store.DeskState("12345", "proof", 1, "2026-12-07T10:01:00+00:00")
    with store.write() as db, pytest.raises(ValueError):
        orders_store.set_desk_state(db, cid, number="1", stage="asking", tries=0, now=NOW)
    with store.write() as db:
        orders_store.clear_desk_state(db, cid)
    assert orders_store.desk_state(store.read(), cid) is None


def test_erasing_a_conversation_takes_its_question_and_unlinks_its_lookups(store: Store) -> None:
    conversations = Conversations(store, Clock())
    gone, _ = visitors.create(store, "ip-digest-1", NOW)
    stays, _ = visitors.create(store, "ip-digest-2", NOW)
    erased, kept = conversations.start(lang="fa", visitor_id=gone), conversations.start(lang="en", visitor_id=stays)
    with store.write() as db:
        for cid, visitor in ((erased, gone), (kept, stays)):
            orders_store.set_desk_state(db, cid, number="12345", stage="proof", tries=1, now=NOW)
            orders_store.record_lookup(
                db, at=NOW, conversation_id=cid, visitor=visitor, number="12345", outcome="wrong_proof", source="sheet"
            )
    assert privacy.erase_customer(store, privacy.customer_ids(store, conversation_id=erased)) == 1
    db = store.read()
    assert orders_store.count_lookups(db, since=NOW, outcomes=("wrong_proof",), visitor=gone) == 0
    assert orders_store.count_lookups(db, since=NOW, outcomes=("wrong_proof",), visitor=stays) == 1
    assert orders_store.desk_state(db, erased) is None
    assert orders_store.desk_state(db, kept) is not None
    assert orders_store.lookups(db, conversation_id=erased) == []
    assert orders_store.count_lookups(db, since=NOW, outcomes=("wrong_proof",), conversation_id=erased) == 0
    # The owner's log still says the number was tried, without the erased conversation.
    assert sorted((r.conversation_id or "") for r in orders_store.lookups(db)) == sorted(["", kept])
