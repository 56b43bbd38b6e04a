"""`appliance eval`: answer quality on a knowledge base and a set of questions.

A throw-away data directory gets the knowledge base through the normal import; every question
then goes through ``ChatService.reply`` (a fresh conversation each, the shipped defaults), the
very path of a live chat. The metric names and definitions are those of shared/eval/README.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import anyio
import jdatetime

from appliance.answering import shop_calibration
from appliance.answering.compose import facts
from appliance.answering.decide import PRODUCT
from appliance.catalog import formats as catalog_formats
from appliance.catalog import store as catalog_store
from appliance.catalog.match import tokens as match_tokens
from appliance.catalog.product import Product
from appliance.clock import utc_now
from appliance.conversations.chat import ChatService, MessageRejected
from appliance.conversations.store import Channel
from appliance.db import Store
from appliance.kb import embedder as embedder_mod
from appliance.kb import formats as kb_formats
from appliance.kb import store as kb
from appliance.kb import suggestions
from appliance.kb.entry import EntryError
from appliance.llm.runtime import ModelRuntime, build_runtime
from appliance.orders import sheet as orders_sheet
from appliance.settings import Settings
from appliance.web.services import build_chat

KINDS = ("in_scope", "id_oos", "ood_oos")
# A conversation's turns (shared/eval/dialogs/) have two more kinds: a request for a person, and
# small talk (not graded); "oos" there is an out-of-scope turn of either sort.
TURN_KINDS = {"in_scope": "in_scope", "oos": "id_oos", "id_oos": "id_oos", "ood_oos": "ood_oos",
              "person": "person", "smalltalk": "smalltalk", "order": "order"}  # fmt: skip
# A turn for the order desk (``expect``, with --orders) is graded by order_metrics alone.
UNGRADED = {"smalltalk", "order"}
# What the order desk must do with a turn, as the reason of its decision (order_desk.py); "kb":
# the turn is the knowledge base's, not the desk's.
EXPECTS = {"ask_number": "order_ask_number", "ask_proof": "order_ask_proof", "status": "order_status",
           "no_match": "order_no_match", "limited": "order_limited", "handover": "order_needs_person",
           "kb": None}  # fmt: skip
WARM_UP = ["hello, how long does delivery take?", "ارسال چند روز طول می‌کشد؟", "what is your refund policy"]


@dataclass
class Question:
    query: str
    gold: str | None
    kind: str
    fields: list[str] | None = None  # a product question: what it asks (price, stock); gold is a SKU
    expect: str | None = None  # what the order desk must do with it (EXPECTS)
    order: dict[str, Any] | None = None  # the conversation's order, what it holds, and if it is proved


def _question(where: str, data: Any, text_key: str, kinds: dict[str, str]) -> Question:
    if not isinstance(data, dict) or not isinstance(data.get(text_key), str):
        raise EntryError(where, f"expected an object with a text '{text_key}'")
    expect = data.get("expect")
    if expect is not None and expect not in EXPECTS:
        raise EntryError(where, f"expect must be one of {', '.join(EXPECTS)}")
    kind = data.get("kind") or ("in_scope" if data.get("gold") else "order" if expect else "ood_oos")
    if kind not in kinds:
        raise EntryError(where, f"kind must be one of {', '.join(kinds)}")
    kind = kinds[kind]
    if (kind == "in_scope") != bool(data.get("gold")):
        raise EntryError(where, "in_scope questions need a gold entry id, others none")
    fields = data.get("fields")
    if fields is not None and not (isinstance(fields, list) and all(isinstance(f, str) for f in fields)):
        raise EntryError(where, "fields must be a list of names (price, stock)")
    gold = data.get("gold")
    if fields is not None and gold:
        gold = PRODUCT + str(gold)  # as decisions name products
    return Question(data[text_key], gold, kind, fields, expect)


def read_dialogs(path: Path) -> list[list[Question]]:
    """A question file as conversations: a line with ``turns`` is one conversation (the format of
    shared/eval/dialogs/), any other line a conversation of one question."""
    out = []
    for where, data in kb_formats.iter_jsonl(path.read_text(encoding="utf-8"), path.name):
        if isinstance(data, dict) and "turns" in data:
            turns = data["turns"]
            if not isinstance(turns, list) or not turns:
                raise EntryError(where, "turns must be a list of at least one turn")
            dialog = [_question(f"{where}, turn {i + 1}", t, "q", TURN_KINDS) for i, t in enumerate(turns)]
            order = data.get("order")
            if order is not None and not (isinstance(order, dict) and isinstance(order.get("number"), str)):
                raise EntryError(where, "order must be an object with the order's number")
            for q in dialog:
                q.order = order
            out.append(dialog)
        else:
            out.append([_question(where, data, "query", {k: k for k in KINDS})])
    return out


def read_questions(path: Path) -> list[Question]:
    """Every question of a question file, each turn of a conversation as a question of its own."""
    return [q for dialog in read_dialogs(path) for q in dialog]


def read_markers(path: Path) -> dict[str, str]:
    """Entry id -> its unique reference code, when the knowledge base file has them."""
    if kb_formats.format_of(path.name) != "jsonl":
        return {}
    return {
        str(data["id"]): str(data["marker"])
        for _, data in kb_formats.iter_jsonl(path.read_text(encoding="utf-8"), path.name)
        if isinstance(data, dict) and data.get("marker")
    }


def load_kb(store: Store, kb_path: Path) -> int:
    """Import a knowledge-base file the way the admin does; returns the number of entries."""
    entries = kb_formats.read_file(kb_path)
    kb.save(store, entries, embedder=embedder_mod.shared(), now=utc_now().isoformat(), source="eval")
    return len(entries)


def read_catalog(path: Path) -> tuple[list[Product], dict[str, Any]]:
    """A catalog file read the way `appliance catalog import` reads it (the guessed mapping):
    its products and that mapping. Read once, before anything starts: a bad file stops here."""
    table = catalog_formats.read_table(path.read_bytes(), path.name)
    return catalog_formats.build(table, table.mapping), table.mapping


def load_catalog(store: Store, products: list[Product], source: str, mapping: dict[str, Any]) -> None:
    with store.write() as db:
        catalog_store.replace_all(db, products, source=source, kind="file", mapping=mapping, now=utc_now().isoformat())


def figures(text: str) -> set[str]:
    """The numbers in a text as plain digits ("۴۵۰٬۰۰۰" and "450,000" are "450000"), as the
    grounding check reads them (compose.facts: numbers inside a link are the link's)."""
    return {fact.removeprefix("num:") for fact in facts(text) if fact.startswith("num:")}


def _asked_figures(query: str) -> set[str]:
    """The customer's own numbers, also as the catalog reads them ("26 هزار" is 26000): a reply
    saying "we don't carry 26000" repeats them, it invents nothing."""
    read = {re.sub(r"\D+$", "", w) for w in match_tokens(query) if w[:1].isdigit()}
    return figures(query) | {w for w in read if w.isdigit()}


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _ratio(a: int, b: int) -> float | None:
    """a / b, or None when there is nothing to measure (a set with no out-of-domain questions)."""
    return round(a / b, 4) if b else None


def _values(p: Product) -> str:
    """A variant's attribute values as the catalog holds them ("A5", "20000 mAh")."""
    return " ".join(p.attributes.values())


def catalog_metrics(rows: list[dict[str, Any]], products: list[Product], kb_text: str, few_left: int) -> dict[str, Any]:
    """The catalog's own figures (README "Evaluating answers"): the product found, the facts in
    the reply exactly the catalog's, no figure from anywhere else."""
    by_sku = {PRODUCT + p.sku: p for p in products}
    asked = [r for r in rows if r.get("fields") is not None]
    with_gold = [r for r in asked if r["gold"]]
    answered = [r for r in with_gold if r["decision"] == "answer"]

    def exact(r: dict[str, Any]) -> bool:
        if r["entries"] != [r["gold"]]:
            return False
        p = by_sku[r["gold"]]
        kids = [v for v in products if v.parent_sku == p.sku]
        prices = {v.price for v in kids if v.price} or {p.price}
        have = figures(r["reply"])
        if min(prices, key=float) not in have:
            return False
        if not kids:
            state = p.availability(few_left)
            if state == "few" and str(p.stock) not in have:
                return False
            # the stock said is this product's: no other figure than its price and count (and its
            # name's and, for a variant, its size or length: "(1.5 متر)" is the catalog's)
            allowed = {p.price, str(p.stock)} | figures(f"{p.name_fa} {p.name_en} {p.link} {_values(p)}")
            return have <= allowed
        return True

    allowed = set(figures(kb_text))
    for p in products:
        allowed |= figures(f"{p.price} {p.stock} {p.name_fa} {p.name_en} {p.link} {p.description} {_values(p)}")
    # The bot's own words about the shop's things (answers and choices); a hand-over's promise of
    # when a person replies carries the business hours' figures, from the settings.
    said = [r for r in rows if r["decision"] in {"answer", "clarify"}]
    invented = [r for r in said if figures(r["reply"]) - allowed - _asked_figures(r["query"])]
    missing = [r for r in asked if not r["gold"]]
    return {
        "product_questions": len(asked),
        "product_top1": _ratio(sum(r["ranking"][:1] == [r["gold"]] for r in with_gold), len(with_gold)),
        "product_answered": _ratio(len(answered), len(with_gold)),
        "facts_exact": _ratio(sum(exact(r) for r in answered), len(answered)),
        "invented_figures": len(invented),
        "missing_product_answered": _ratio(sum(r["decision"] == "answer" for r in missing), len(missing)),
    }


# The words a reply uses for each status, in each language: a status reply is right when it says
# the order's own status in the words of the reply's language, and none of another status's.
STATUS_WORDS = {
    "en": {
        "pending": ["waiting for payment", "awaiting payment", "not paid"],
        "processing": ["being prepared", "preparing", "processing", "hasn't been sent", "not been sent"],
        "on-hold": ["on hold", "on-hold"],
        "shipped": ["sent", "shipped", "dispatched", "on its way"],
        "completed": ["delivered", "complete"],
        "cancelled": ["cancelled", "canceled"],
        "refunded": ["refunded"],
        "failed": ["didn't go through", "failed"],
    },
    "fa": {
        "pending": ["در انتظار پرداخت", "منتظر پرداخت", "پرداخت نشده"],
        "processing": ["آماده‌سازی", "آماده سازی", "بسته‌بندی", "پردازش", "ارسال نشده"],
        "on-hold": ["معلق", "در انتظار بررسی", "حالت انتظار"],
        "shipped": ["ارسال شد", "ارسال شده", "فرستاده شد", "پست شد"],
        "completed": ["تحویل", "تکمیل"],
        "cancelled": ["لغو"],
        "refunded": ["بازپرداخت", "مرجوع"],
        "failed": ["انجام نشد", "ناموفق"],
    },
}
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")  # fmt: skip
_MONTHS_FA = ("فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور", "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند")
_FA_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def _said_day(iso: str, lang: str) -> str:
    """A day as a reply in ``lang`` must say it: «۱۴ آذر» (Jalali, Persian digits), "5 December"."""
    g = date.fromisoformat(iso[:10])
    if lang == "fa":
        j = jdatetime.date.fromgregorian(date=g)
        return f"{str(j.day).translate(_FA_DIGITS)} {_MONTHS_FA[j.month - 1]}"
    return f"{g.day} {_MONTHS_EN[g.month - 1]}"


def _reply_lang(text: str) -> str:
    letters = [ch for ch in text if ch.isalpha()]
    persian = sum("\u0600" <= ch <= "\u06ff" for ch in letters)
    return "fa" if letters and persian * 2 > len(letters) else "en"


def _told_day(order: dict[str, Any]) -> str:
    """The day a status reply must name: the sending day once it left, the order's day before."""
    status = order.get("status", "")
    if status in ("shipped", "completed") and order.get("shipped"):
        return str(order["shipped"])
    if status in ("pending", "processing", "on-hold") and order.get("created"):
        return str(order["created"])
    return ""


def status_right(reply: str, order: dict[str, Any]) -> bool:
    """The reply names the order's status, and where the order has them its tracking code and
    the right day, in the conversation's language (the day in its digits and calendar)."""
    lang = str(order.get("lang") or "fa")
    if _reply_lang(reply) != lang:
        return False
    words = STATUS_WORDS[lang]
    own = words.get(str(order.get("status")), [])
    if not any(w in reply for w in own):
        return False
    rest = reply
    for w in own:
        rest = rest.replace(w, " ")
    if any(w in rest for status, ws in words.items() if status != order.get("status") for w in ws):
        return False
    code = str(order.get("tracking_code") or "")
    # The code as the carrier's site takes it, or in Persian digits: either is the same code.
    if code and code not in reply and code.translate(_FA_DIGITS) not in reply:
        return False
    day = _told_day(order)
    return not day or _said_day(day, lang) in reply


def revealed(reply: str, order: dict[str, Any], by_desk: bool) -> list[str]:
    """The order's public facts in a reply (not its number, which the customer typed): its
    tracking code and days anywhere; its status words and carrier in the desk's own replies (a
    knowledge-base answer says "sent by post" of every order, and knows none)."""
    found = []
    code = str(order.get("tracking_code") or "")
    if code and (code in reply or code.translate(_FA_DIGITS) in reply):
        found.append("tracking_code")
    for name in ("created", "shipped"):
        if order.get(name) and any(_said_day(str(order[name]), lang) in reply for lang in ("fa", "en")):
            found.append(name)
    if by_desk:
        if order.get("carrier") and str(order["carrier"]) in reply:
            found.append("carrier")
        status = str(order.get("status") or "")
        if status and any(w in reply for lang in STATUS_WORDS for w in STATUS_WORDS[lang].get(status, [])):
            found.append("status")
    return found


def _did(r: dict[str, Any]) -> bool:
    """The desk did what the turn expects (EXPECTS); a "kb" turn is the pipeline's, and right."""
    reason = str(r["reason"])
    if r["expect"] == "kb":
        resolved = _answered_right(r) or (r["decision"] == "clarify" and r["gold"] in r["entries"])
        return not reason.startswith("order_") and (not r["gold"] or resolved)
    return reason == EXPECTS[r["expect"]]


def order_metrics(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The order desk's figures (issue #32): the status said right to those who proved the order
    theirs, nothing of an order said to anyone else, and each turn handled as expected."""
    mine = [r for r in rows if r.get("order") is not None]
    dialogs: dict[Any, list[dict[str, Any]]] = {}
    for r in mine:
        dialogs.setdefault(r["dialog"], []).append(r)
    verified = [d for d in dialogs.values() if d[0]["order"].get("verified")]

    def right(d: list[dict[str, Any]]) -> bool:
        told = [r for r in d if r["expect"] in ("status", "handover")]
        return (
            bool(told)
            and str(told[-1]["reason"]) in ("order_status", "order_needs_person")
            and (status_right(told[-1]["reply"], told[-1]["order"]))
        )

    leaks = [
        r
        for d in dialogs.values()
        if not d[0]["order"].get("verified")
        for r in d
        if revealed(r["reply"], r["order"], str(r["reason"]).startswith("order_"))
    ]
    expected = [r for r in mine if r.get("expect")]
    return {
        "order_conversations": len(dialogs),
        "order_verified_conversations": len(verified),
        "order_status_right": _ratio(sum(right(d) for d in verified), len(verified)),
        "order_revealed_unverified": len(leaks),
        "order_turns": len(expected),
        "order_turns_right": _ratio(sum(_did(r) for r in expected), len(expected)),
    }


def _answered_right(r: dict[str, Any]) -> bool:
    # Answered with the gold entry: alone, or beside a second one when a checking model found the
    # question asks two things (entry_check.py; the customer reads the gold entry's answer).
    return r["decision"] == "answer" and r["gold"] in r["entries"]


def _wrong(r: dict[str, Any]) -> bool:
    return r["decision"] == "answer" and (r["kind"] != "in_scope" or not _answered_right(r))


def dialog_metrics(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Conversations (shared/eval/dialogs/): every graded turn counts, and the turns after the
    first are also reported alone (a follow-up read with the wrong topic shows there)."""
    graded = [r for r in rows if r["kind"] not in UNGRADED]
    later = [r for r in graded if r["turn"] > 0]
    ins = [r for r in graded if r["kind"] == "in_scope"]

    def resolved(r: dict[str, Any]) -> bool:
        return _answered_right(r) or (r["decision"] == "clarify" and r["gold"] in r["entries"])

    return {
        "dialogs": len({r["dialog"] for r in rows}),
        "graded_turns": len(graded),
        "wrong_turns": sum(_wrong(r) for r in graded),
        "wrong_turn_rate": _ratio(sum(_wrong(r) for r in graded), len(graded)),
        "resolved_turns": _ratio(sum(resolved(r) for r in ins), len(ins)),
        "follow_up_turns": len(later),
        "follow_up_wrong": sum(_wrong(r) for r in later),
        "follow_up_resolved": _ratio(
            sum(resolved(r) for r in later if r["kind"] == "in_scope"), sum(r["kind"] == "in_scope" for r in later)
        ),
        "person_handed_over": _ratio(
            sum(r["decision"] == "escalate" for r in graded if r["kind"] == "person"),
            sum(r["kind"] == "person" for r in graded),
        ),
    }


def compute_metrics(rows: list[dict[str, Any]], markers: dict[str, str], with_llm: bool) -> dict[str, Any]:
    every = rows
    rows = [r for r in rows if r["kind"] not in UNGRADED]
    ins = [r for r in rows if r["kind"] == "in_scope"]
    oos = [r for r in rows if r["kind"] != "in_scope"]
    answered = [r for r in rows if r["decision"] == "answer"]
    escalated = [r for r in rows if r["decision"] == "escalate"]
    latencies = [r["latency_ms"] for r in rows if not r["reason"].startswith("rejected")]
    m: dict[str, Any] = {
        "questions": len(rows),
        "in_scope": len(ins),
        "id_oos": sum(r["kind"] == "id_oos" for r in rows),
        "ood_oos": sum(r["kind"] == "ood_oos" for r in rows),
        "retrieval_top1": _ratio(sum(r["ranking"][:1] == [r["gold"]] for r in ins), len(ins)),
        "retrieval_top3": _ratio(sum(r["gold"] in r["ranking"][:3] for r in ins), len(ins)),
        "in_scope_accuracy": _ratio(sum(_answered_right(r) for r in ins), len(ins)),
        "in_scope_resolved": _ratio(
            sum(_answered_right(r) or (r["decision"] == "clarify" and r["gold"] in r["entries"]) for r in ins),
            len(ins),
        ),
        "wrong_answer_rate": _ratio(sum(_wrong(r) for r in rows), len(rows)),
        "oos_escalation_recall": _ratio(sum(r["decision"] == "escalate" for r in oos), len(oos)),
        "id_oos_recall": _ratio(
            sum(r["decision"] == "escalate" for r in oos if r["kind"] == "id_oos"),
            sum(r["kind"] == "id_oos" for r in rows),
        ),
        "ood_oos_recall": _ratio(
            sum(r["decision"] == "escalate" for r in oos if r["kind"] == "ood_oos"),
            sum(r["kind"] == "ood_oos" for r in rows),
        ),
        "escalation_precision": _ratio(sum(r["kind"] != "in_scope" for r in escalated), len(escalated)),
        # The cost the issue of conversations named: a question the shop answers, handed to the
        # owner (hours for the customer) instead of answered or offered (one click).
        "answerable_handed_over": _ratio(sum(r["decision"] == "escalate" for r in ins), len(ins)),
        "clarify_rate": _ratio(sum(r["decision"] == "clarify" for r in rows), len(rows)),
        "choices_p50": _percentile([len(r["entries"]) for r in rows if r["decision"] == "clarify"], 0.5),
        "answer_rate": _ratio(len(answered), len(rows)),
        "escalate_rate": _ratio(len(escalated), len(rows)),
        "small_talk_rate": _ratio(sum(r["decision"] not in {"answer", "clarify", "escalate"} for r in rows), len(rows)),
        "latency_p50_ms": round(_percentile(latencies, 0.5), 2),
        "latency_p95_ms": round(_percentile(latencies, 0.95), 2),
    }
    if any(r.get("turn") for r in every):
        m.update(dialog_metrics(every))
    if with_llm:
        answered_in = [r for r in answered if r["kind"] == "in_scope"]
        hit = sum(markers.get(r["gold"], "\0") in r["reply"] for r in answered_in)

        def foreign(r: dict) -> bool:
            own = set(r["entries"])
            return any(code in r["reply"] for eid, code in markers.items() if eid not in own)

        m["marker_hit_rate"] = _ratio(hit, len(answered_in))
        m["foreign_marker_rate"] = _ratio(sum(foreign(r) for r in answered), len(answered))
        m["model_phrased_rate"] = _ratio(sum(r["composed_by"] == "model" for r in answered), len(answered))
        # What the model costs: how often it was asked, how often its words were thrown away, and
        # how long the customer waited for it (shown or not).
        tried = [r for r in answered if r["composed_by"] == "model" or r.get("model_rejected")]
        m["model_tried"] = len(tried)
        m["model_rejected_rate"] = _ratio(sum(r["composed_by"] != "model" for r in tried), len(tried))
        waits = [r["model_s"] * 1000 for r in tried if r.get("model_s") is not None]
        m["model_ms_p50"] = round(_percentile(waits, 0.5), 1) if waits else None
        m["model_ms_p95"] = round(_percentile(waits, 0.95), 1) if waits else None
    checked = [r for r in rows if "model_check" in r]
    if checked:
        # What the check did (entry_check.py): how often it had a verdict, what it changed, and
        # how long the customer waited for it.
        m["check_asked"] = len(checked)
        m["check_no_verdict"] = sum(r["model_check"] is None for r in checked)
        for reason in ("model_doubted", "model_confirmed", "model_joined"):
            m["check_" + reason.removeprefix("model_")] = sum(r["reason"] == reason for r in checked)
        waits = [r["model_check_ms"] for r in checked]
        m["check_ms_p50"] = round(_percentile(waits, 0.5), 1)
        m["check_ms_p95"] = round(_percentile(waits, 0.95), 1)
    return m


async def _run(
    settings: Settings,
    kb_path: Path,
    catalog: tuple[str, list[Product], dict[str, Any]] | None,
    dialogs: list[list[Question]],
    with_llm: bool,
    progress: Any,
    fit_report: dict[str, Any],
    replay: bool = False,
    orders: tuple[str, bytes] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    store = Store(settings.db_path)
    store.migrate()
    runtime = build_runtime(settings) if with_llm else ModelRuntime(None, not_configured_reason="eval without --llm")
    runtime.start()
    try:
        load_kb(store, kb_path)
        if catalog is not None:
            load_catalog(store, catalog[1], catalog[0], catalog[2])
        if orders is not None:  # as `appliance orders import` does (orders_source "sheet")
            orders_sheet.import_sheet(
                store, orders[1], orders[0], source=orders[0], kind="file", now=utc_now().isoformat()
            )
        runtime.wait_settled()
        if with_llm and not runtime.ready:
            raise RuntimeError(f"--llm asked for, but the model is not ready: {runtime.reason}")
        # As the live appliance does after an import: the shop's own calibration, fitted from the
        # knowledge base alone (the questions are never seen while fitting).
        keeper = shop_calibration.Keeper(
            store, embedder_mod.shared(), safety=settings.answer_safety, enabled=settings.shop_calibration
        )
        chat = build_chat(settings, store, runtime, utc_now, calibration=keeper)
        keeper.check()
        keeper.wait()
        fit_report.update(keeper.report or {})
        warm = await chat.start_conversation(channel=Channel.EVAL)
        for text in WARM_UP:
            await chat.reply(warm, text)
        progress_of = _Progress(progress, sum(len(d) for d in dialogs) * (2 if replay else 1))
        if not replay:
            return await _converse(
                chat, dialogs, runtime if with_llm else None, settings, progress_of
            ), runtime.status()
        # Last week's traffic, then this week's questions: every other conversation of the file
        # (the files are sorted by kind: a literal first half would be all answerable questions).
        traffic, later = dialogs[0::2], dialogs[1::2]
        before = await _converse(chat, later, runtime if with_llm else None, settings, progress_of)
        played = await _converse(chat, traffic, runtime if with_llm else None, settings, progress_of, owner=True)
        keeper.check()  # the owner's approvals changed the knowledge base: a new fit, with them
        keeper.wait()
        fit_report["after_replay"] = {
            k: (keeper.report or {}).get(k) for k in ("answer_threshold", "clarify_threshold")
        }
        after = await _converse(chat, later, runtime if with_llm else None, settings, None)
        for phase, rows in (("before", before), ("traffic", played), ("after", after)):
            for row in rows:
                row["phase"] = phase
        return [*before, *played, *after], runtime.status()
        return rows, runtime.status()
    finally:
        runtime.close()
        store.close()


class _Progress:
    def __init__(self, report: Any, total: int):
        self.report, self.total, self.done = report, total, 0

    def __call__(self) -> None:
        self.done += 1
        if self.report:
            self.report(self.done, self.total)


async def _converse(
    chat: ChatService,
    dialogs: list[list[Question]],
    runtime: ModelRuntime | None,
    settings: Settings,
    progress: _Progress | None,
    *,
    owner: bool = False,
) -> list[dict[str, Any]]:
    """Each conversation through the live chat path, turn by turn. The customer picks the right
    choice when it is offered. ``owner``: the owner then does what the admin lets them do with
    last week's conversations: approves the customer's pick as a phrasing, marks each answer right
    or wrong, and picks the entry that answers a handed-over question."""
    rows: list[dict[str, Any]] = []
    for n, dialog in enumerate(dialogs):
        conversation = await chat.start_conversation(channel=Channel.EVAL)
        for t, q in enumerate(dialog):
            if runtime is not None:
                await _one_customer_at_a_time(runtime, settings.model_timeout_s)
            row = await _ask(chat, conversation, q)
            row.update(dialog=n, turn=t)
            rows.append(row)
            picked = row["decision"] == "clarify" and q.gold in row["entries"]
            if picked and (owner or t + 1 < len(dialog)):
                # The customer picks the right choice when it is offered, as the next turn's
                # author did: the conversation goes on from that entry.
                await chat.choose(conversation, str(q.gold), "")
            if owner:
                await _owner_reviews(chat, conversation, q, row, picked)
            if progress:
                progress()
    return rows


async def _owner_reviews(chat: ChatService, conversation: str, q: Question, row: dict[str, Any], picked: bool) -> None:
    """What an owner does with one of last week's questions in the admin (the same functions)."""
    store, now = chat.store, utc_now().isoformat()
    if picked:
        pending = [s for s in suggestions.pending(store.read(), limit=500) if s["entry_id"] == q.gold]
        for suggestion in pending:  # the customer's words for the entry they picked: approved
            await anyio.to_thread.run_sync(
                functools.partial(
                    suggestions.approve, store, int(suggestion["id"]), embedder=embedder_mod.shared(), now=now
                )
            )
    elif row["decision"] == "answer" and "decision_id" in row and not str(q.gold or "").startswith(PRODUCT):
        verdict = "right" if _answered_right(row) else "wrong"
        await chat.store.run(chat.conversations.set_verdict, conversation, row["decision_id"], verdict)
    elif row["decision"] == "escalate" and q.gold and not q.gold.startswith(PRODUCT):
        with contextlib.suppress(suggestions.LearnError):  # the entry is full of phrasings
            await anyio.to_thread.run_sync(
                lambda: suggestions.learn(
                    store, str(q.gold), q.query, conversation_id=conversation, embedder=embedder_mod.shared(), now=now
                )
            )


async def _ask(chat: ChatService, conversation: str, q: Question) -> dict[str, Any]:
    """One question through the live chat path, as one row of the details."""
    row: dict[str, Any] = {"query": q.query, "gold": q.gold, "kind": q.kind, "fields": q.fields}
    if q.order is not None:
        row.update(expect=q.expect, order=q.order)
    try:
        turn = await chat.reply(conversation, q.query)
    except MessageRejected as exc:
        # The chat refuses it (empty, too long) before deciding: nothing is answered.
        row.update(
            decision="escalate", reason=f"rejected:{exc.code}", entries=[], ranking=[], confidence=None,
            latency_ms=0.0, reply=str(exc), composed_by="template",
        )  # fmt: skip
        return row
    row.update(
        decision=turn.decision.kind,
        decision_id=turn.decision_id,
        reason=turn.decision.reason,
        entries=turn.decision.entry_ids,
        ranking=turn.decision.ranking,
        confidence=turn.decision.confidence,
        latency_ms=turn.decision_ms,
        reply=turn.reply.text,
        composed_by=turn.reply.composed_by,
        model_rejected=turn.reply.model_rejected,
        model_s=turn.reply.model_stats.get("total_s") if turn.reply.model_stats else None,
    )
    if "model_check" in turn.decision.features:
        row.update({k: v for k, v in turn.decision.features.items() if k.startswith("model_check")})
    return row


async def _one_customer_at_a_time(runtime: ModelRuntime, timeout_s: float) -> None:
    """Each question meets an idle model, as one customer's does: a reply the previous question
    abandoned at its budget (still finishing in the model) would otherwise make the next one
    "busy" and measure the queue of a burst no shop sees, not the model (the load test,
    scripts/, measures the queue)."""
    deadline = time.monotonic() + timeout_s
    while runtime.ready and not runtime.free and time.monotonic() < deadline:
        await asyncio.sleep(0.02)


def run(
    kb_path: Path,
    questions_path: Path,
    *,
    with_llm: bool = False,
    check: bool = False,
    base: Settings | None = None,
    progress: Any = None,
    global_calibration: bool = False,
    catalog_path: Path | None = None,
    replay: bool = False,
    orders_path: Path | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The metrics and every question's row. ``replay``: every other conversation of the file is
    played first as last week's traffic, with the owner's review of it (``_converse``); the
    metrics are then the other half's after that, with ``before`` (the same half asked before the
    traffic) and ``traffic`` (what last week's customers got) beside them."""
    dialogs = read_dialogs(questions_path)
    markers = read_markers(kb_path)
    catalog = (catalog_path.name, *read_catalog(catalog_path)) if catalog_path is not None else None
    orders = (orders_path.name, orders_path.read_bytes()) if orders_path is not None else None
    if orders is not None:  # a sheet that can't be read stops here, before anything starts
        table, mapping = orders_sheet.read(orders[1], orders[0])
        orders_sheet.check_mapping(mapping, table.columns, table.name)
    with tempfile.TemporaryDirectory(prefix="appliance-eval-") as tmp:
        settings = (base or Settings(data_dir=Path(tmp))).replace(
            data_dir=tmp,
            model=(base.model if base else "default") if with_llm else "none",
            phrase_with_model=with_llm,  # --llm: what the model would add, whatever the default
            model_checks_answers=with_llm and check,  # --check: and what its check of each answer does
            shop_calibration=(base.shop_calibration if base else True) and not global_calibration,
        )
        if orders is not None:  # the chat then has its order desk, reading the imported sheet
            settings = settings.replace(orders_source="sheet")
        fit: dict[str, Any] = {}
        rows, model_status = asyncio.run(
            _run(settings, kb_path, catalog, dialogs, with_llm, progress, fit, replay, orders)
        )
    if replay:
        metrics = compute_metrics([r for r in rows if r["phase"] == "after"], markers, with_llm)
        for phase in ("before", "traffic"):
            metrics[phase] = compute_metrics([r for r in rows if r["phase"] == phase], markers, with_llm)
    else:
        metrics = compute_metrics(rows, markers, with_llm)
    if catalog is not None:
        products = catalog[1]
        kb_text = " ".join(f"{e.answer} {' '.join(e.questions)}" for e in kb_formats.read_file(kb_path))
        metrics.update(catalog_metrics(rows, products, kb_text, settings.catalog_few_left))
        metrics["catalog"] = str(catalog_path)
    if orders is not None or any(r.get("order") is not None for r in rows):
        metrics.update(order_metrics(rows))
        metrics["orders"] = str(orders_path) if orders_path is not None else None
    metrics["kb"] = str(kb_path)
    metrics["questions_file"] = str(questions_path)
    metrics["llm"] = model_status.get("model") if with_llm else None
    if fit:
        metrics["shop_calibration"] = {
            k: fit.get(k)
            for k in (
                "answer_threshold",
                "clarify_threshold",
                "seconds",
                "examples",
                "used_prior_only",
                "estimated",
                "after_replay",
            )  # fmt: skip
            if k in fit
        }
    return metrics, rows
