"""`appliance eval --orders`: the order desk's figures (evaluate.order_metrics) graded on fixed
rows, the dialogs' order fields read, and the dev set's orders as the sheet import reads them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from appliance.cli.evaluate import order_metrics, read_dialogs, revealed, status_right
from appliance.db import Store
from appliance.kb.entry import EntryError
from appliance.orders import sheet
from appliance.orders import store as orders_store

SET = Path(__file__).parent / "data" / "eval" / "orders"
SHIPPED = {
    "number": "10624", "verified": True, "lang": "fa", "status": "shipped", "created": "2026-11-17",
    "shipped": "2026-11-19", "carrier": "پست", "tracking_code": "893856274806396155685034",
}  # fmt: skip
SENT_FA = "سفارش ۱۰۶۲۴ روز ۲۸ آبان ۱۴۰۵ با پست ارسال شد. کد رهگیری: 893856274806396155685034"


def _row(dialog: int, turn: int, expect: str, reason: str, reply: str, order: dict, **more: object) -> dict:
    decision = {"order_status": "answer", "order_needs_person": "escalate", "order_limited": "escalate"}
    return {
        "dialog": dialog, "turn": turn, "expect": expect, "order": order, "reason": reason, "reply": reply,
        "query": "", "kind": "order", "gold": None, "entries": [], "decision": decision.get(reason, "clarify"),
        **more,
    }  # fmt: skip


def test_a_status_reply_is_right_only_with_its_status_code_and_day_in_the_customers_language() -> None:
    assert status_right(SENT_FA, SHIPPED)
    # The day in Latin digits, or the Gregorian day, in a Persian reply: not the customer's.
    assert not status_right(SENT_FA.replace("۲۸ آبان", "28 آبان"), SHIPPED)
    assert not status_right(SENT_FA.replace("۲۸ آبان ۱۴۰۵", "19 November 2026"), SHIPPED)
    assert not status_right(SENT_FA.replace("893856274806396155685034", ""), SHIPPED)  # no tracking code
    # The code in Persian digits is the same code.
    assert status_right(SENT_FA.replace("893856274806396155685034", "۸۹۳۸۵۶۲۷۴۸۰۶۳۹۶۱۵۵۶۸۵۰۳۴"), SHIPPED)
    english = {**SHIPPED, "lang": "en"}
    assert not status_right(SENT_FA, english)  # a Persian reply to an English customer
    assert status_right(
        "Order 10624 was sent on 19 November 2026 with پست. Tracking code: 893856274806396155685034", english
    )
    # Another status's words: a processing order said to be "sent".
    processing = {**english, "status": "processing", "shipped": "", "carrier": "", "tracking_code": ""}
    assert status_right(
        "Order 10566 is being prepared and hasn't been sent yet. It was placed on 17 November 2026.", processing
    )
    assert not status_right("Order 10566 was sent. It was placed on 17 November 2026.", processing)
    # Delivered («تحویل شد» in the sheet) is not only "sent".
    delivered = {**SHIPPED, "status": "completed"}
    assert not status_right(SENT_FA, delivered)
    assert status_right(SENT_FA.replace("ارسال شد", "ارسال و تحویل شد"), delivered)


def test_revealed_finds_an_orders_facts_but_not_the_number_typed() -> None:
    asked = "برای اینکه مطمئن شوم سفارش ۱۰۶۲۴ مال شماست، لطفاً چهار رقم آخر شماره تلفن را بفرستید."
    assert revealed(asked, SHIPPED, by_desk=True) == []
    assert revealed(SENT_FA, SHIPPED, by_desk=True) == ["tracking_code", "shipped", "carrier", "status"]
    # A knowledge-base answer speaks of the post and of sending for every order: only the code
    # and the days count there.
    general = "سفارش‌ها ۱ تا ۲ روز کاری بعد از پرداخت با پست ارسال شده و می‌رسند."
    assert revealed(general, SHIPPED, by_desk=False) == []
    assert revealed("Order 10624 was placed on 17 November 2026.", SHIPPED, by_desk=False) == ["created"]


def test_order_metrics_on_fixed_rows() -> None:
    other = {**SHIPPED, "verified": False}
    nobody = {"number": "99999", "verified": False, "lang": "en", "status": ""}
    on_hold = {**SHIPPED, "number": "10300", "status": "on-hold", "shipped": "", "carrier": "", "tracking_code": "",
               "created": "2026-11-03"}  # fmt: skip
    rows = [
        # 0: verified over three turns, said right
        _row(0, 0, "ask_number", "order_ask_number", "شماره سفارش؟", SHIPPED),
        _row(0, 1, "ask_proof", "order_ask_proof", "چهار رقم آخر؟", SHIPPED),
        _row(0, 2, "status", "order_status", SENT_FA, SHIPPED),
        # 1: verified, on hold, handed over with its status said
        _row(1, 0, "handover", "order_needs_person", "سفارش ۱۰۳۰۰ معلق است. تاریخ ثبت سفارش: ۱۲ آبان ۱۴۰۵.", on_hold),
        # 2: verified, but the desk asked for the proof again (read as a number): wrong
        _row(2, 0, "ask_proof", "order_ask_proof", "چهار رقم آخر؟", SHIPPED),
        _row(2, 1, "status", "order_ask_proof", "چهار رقم آخر؟", SHIPPED),
        # 3: someone else's number, refused; a shipping question answered from the knowledge base
        _row(3, 0, "no_match", "order_no_match", "پیدا نکردم.", other),
        _row(
            3,
            1,
            "kb",
            "answer",
            "با پست ۲ تا ۵ روز کاری.",
            other,
            gold="kb-ship-time",
            entries=["kb-ship-time"],
            decision="answer",
            kind="in_scope",
        ),  # fmt: skip
        # 4: a number that doesn't exist, answered with an order's code: a leak
        _row(
            4,
            0,
            "no_match",
            "order_status",
            "Tracking code: 893856274806396155685034",
            {**nobody, **{"tracking_code": "893856274806396155685034"}},
        ),  # fmt: skip
        # not an order conversation: left out
        {"dialog": 5, "turn": 0, "reason": "answer", "reply": "", "kind": "in_scope"},
    ]
    m = order_metrics(rows)
    assert m == {
        "order_conversations": 5,
        "order_verified_conversations": 3,
        "order_status_right": round(2 / 3, 4),
        "order_revealed_unverified": 1,
        "order_turns": 9,
        "order_turns_right": round(7 / 9, 4),
    }


def test_read_dialogs_reads_the_order_and_what_each_turn_expects(tmp_path: Path) -> None:
    line = {
        "order": {"number": "10624", "verified": True},
        "turns": [{"q": "سفارشم کجاست؟", "expect": "ask_number"}, {"q": "ارسال چند روزه؟", "gold": "kb-ship-time",
                  "kind": "in_scope", "expect": "kb"}],
    }  # fmt: skip
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    ((first, second),) = read_dialogs(path)
    assert (first.kind, first.expect, first.order) == ("order", "ask_number", line["order"])
    assert (second.kind, second.gold, second.expect) == ("in_scope", "kb-ship-time", "kb")
    path.write_text(json.dumps({"turns": [{"q": "x", "expect": "guess"}]}) + "\n", encoding="utf-8")
    with pytest.raises(EntryError):
        read_dialogs(path)


def test_the_dev_sets_orders_are_what_the_sheet_import_reads(store: Store) -> None:
    """The graded facts of every conversation (written by scripts/make_orders_set.py) are the
    facts the shop's sheet gives, read by the import the eval uses."""
    data = (SET / "orders.csv").read_bytes()
    n, _ = sheet.import_sheet(store, data, "orders.csv", source="orders.csv", kind="file", now="2026-12-07T10:00:00")
    assert n == 60
    names = ("status", "created", "shipped", "carrier", "tracking_code")
    checked = 0
    for split in ("dev", "test"):
        for dialog in read_dialogs(SET / f"{split}.jsonl"):
            order = dialog[0].order
            assert order is not None
            found = orders_store.sheet_order(store.read(), order["number"])
            if not order.get("status"):
                assert found is None  # the number that doesn't exist
                continue
            assert found is not None
            assert {k: getattr(found, k) for k in names} == {k: order[k] for k in names}
            checked += 1
    assert checked >= 70


@pytest.mark.slow
def test_eval_with_orders_runs_the_chats_order_desk(tmp_path: Path) -> None:
    """`appliance eval --orders`: the sheet imported, three conversations through the live chat
    path; the order metrics printed and written."""
    from click.testing import CliRunner

    from appliance.cli import main

    order = next(
        d
        for d in read_dialogs(SET / "dev.jsonl")
        if d[0].order and d[0].order.get("status") == "shipped" and d[0].order.get("tracking_code")
    )[0]
    assert order.order is not None
    facts = order.order
    phone = next(
        o.phone
        for o in sheet.build(*sheet.read((SET / "orders.csv").read_bytes(), "orders.csv"))
        if o.number == facts["number"]
    )
    number = facts["number"]
    lines = [
        {"order": facts, "turns": [{"q": "سلام، سفارشم کجاست؟", "expect": "ask_number"},
                                   {"q": number.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")), "expect": "ask_proof"},
                                   {"q": phone[-4:], "expect": "status"}]},
        {"order": {**facts, "verified": False}, "turns": [{"q": f"order {number} status? phone ends in 0000",
                                                           "expect": "no_match"}]},
        {"order": {**facts, "verified": False}, "turns": [{"q": f"sefaresh {number} kojast?", "expect": "ask_proof"},
                                                          {"q": "ersal chand rooz tool mikeshe?", "gold": "kb-ship-time",
                                                           "kind": "in_scope", "expect": "kb"}]},
    ]  # fmt: skip
    questions, out = tmp_path / "q.jsonl", tmp_path / "m.json"
    questions.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    r = CliRunner().invoke(
        main,
        ["eval", "--kb", str(SET / "kb.jsonl"), "--orders", str(SET / "orders.csv"), "--questions", str(questions),
         "--out", str(out)],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "order_status_right" in r.output
    m = json.loads(out.read_text())
    assert m["order_conversations"] == 3 and m["order_verified_conversations"] == 1
    assert m["order_status_right"] == 1.0 and m["order_revealed_unverified"] == 0
    assert m["order_turns"] == 6
