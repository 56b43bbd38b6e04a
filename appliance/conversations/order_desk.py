"""The chat's order desk: "where is my order?" answered from the shop's own orders, to the
customer who proves the order is theirs (issue #32).

A conversation, not a form: the desk takes a message that asks after the customer's own order
(orders/asking.py), or that answers the desk's last question (``order_desk`` in the store holds
the question in progress), asks for what is missing one thing at a time (the number, then the
proof), keeps what was given, and says the order's status in the customer's language. A message
that is something else mid-way (a return, a person) leaves the desk and is answered as any other.

Nothing is said about an order until its number and the proof match (``proof_matches``), and "no
such order" and "that doesn't match" get the same reply: the desk is no oracle for which numbers
exist. Tries are limited per conversation, per visitor, per order number and per network (guessing
numbers is the attack, and a new visitor per try is free; a network is a keyed hash of the IPv4
address or the IPv6 /64, never the address); past a limit, and when the shop's order system can't
be asked, the conversation goes to the owner. Every lookup and its outcome is in the audit log (``order_lookups``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import anyio
import jdatetime
from sqlite_utils import Database

from appliance import i18n
from appliance.answering.compose import Reply
from appliance.answering.decide import Decision, upset
from appliance.clock import Clock
from appliance.db import Store
from appliance.locale import N_
from appliance.orders import asking
from appliance.orders import store as orders
from appliance.orders.order import Order, OrderSource, OrdersUnavailable, proof_matches, public
from appliance.text.textnorm import detect_language, normalize

log = logging.getLogger(__name__)

# An order question left this long without an answer is over: "12345" tomorrow is a new message.
DESK_TTL = timedelta(hours=1)
WINDOW = timedelta(hours=1)  # the visitor's and the order number's limits count this far back
MAX_FAILED_PER_CONVERSATION = 3
MAX_LOOKUPS_PER_VISITOR = 10  # an hour
MAX_FAILED_PER_NUMBER = 5  # an hour, from anyone: guessing one order's proof
FAILED = orders.FAILED
# One network's failed lookups an hour and a day before its tries are refused without asking the
# shop's order system (why these figures: orders/store.py, where the audit log marks the refusals).
MAX_FAILED_PER_NETWORK_HOUR = orders.NETWORK_FAILED_PER_HOUR  # 20
MAX_FAILED_PER_NETWORK_DAY = orders.NETWORK_FAILED_PER_DAY  # 60
LOOKED_UP = ("found", "not_found", "wrong_proof", "handed_over")

# The status in words the customer understands; a status of the shop's own is shown by its label.
STATUS_TEXT = {
    "pending": N_("order.status.pending"),
    "processing": N_("order.status.processing"),
    "on-hold": N_("order.status.on_hold"),
    "completed": N_("order.status.completed"),  # (said by describe with order.completed)
    "cancelled": N_("order.status.cancelled"),
    "refunded": N_("order.status.refunded"),
    "failed": N_("order.status.failed"),
    "shipped": N_("order.status.shipped"),
    "custom": N_("order.status.custom"),
}
# Before it leaves the shop, the day it was placed is news; after, the day it was sent.
_NOT_SENT = ("pending", "processing", "on-hold")
_ENDED = ("cancelled", "refunded", "failed")
_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_MONTHS_FA = ("فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور", "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند")


class SheetOrders:
    """The owner's spreadsheet of orders as a source (the orders table the import fills)."""

    name = "sheet"

    def __init__(self, store: Store):
        self.store = store

    def lookup(self, number: str) -> Order | None:
        return orders.sheet_order(self.store.read(), number)


@dataclass(frozen=True)
class Asked:
    """One message as the desk reads it."""

    text: str
    lang: str
    number: str | None  # the order number it gives (or the one given before)
    proof: str | None
    visitor: str | None
    network: str | None = None  # a keyed hash of the network it came from


def spoken_day(value: str, lang: str) -> str:
    """An ISO day as a customer reads it: «۱۴ آذر ۱۴۰۵» in Persian, "5 December 2026" in English."""
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return value
    if lang == "fa":
        jalali = jdatetime.date.fromgregorian(date=day)
        return i18n.digits(f"{jalali.day} {_MONTHS_FA[jalali.month - 1]} {jalali.year}", "fa")
    return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"


def shown_number(number: str, lang: str) -> str:
    """An order number in a sentence: Persian digits in Persian when it is only digits ("WC-1042"
    stays as the shop writes it)."""
    return i18n.digits(number, lang) if number.isdigit() else i18n.isolate(number)


def _persian(text: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" for ch in text)


def describe(order: Order, lang: str) -> str:
    """What the customer who proved the order is theirs is told: its status in words, the days,
    the carrier, the tracking code and link. Only ``public`` fields: never the phone, the
    e-mail, the address or the prices."""
    told = public(order)
    status, number = told["status"], shown_number(told["number"], lang)
    sent = status in ("shipped", "completed") or (told["shipped"] and status not in _ENDED)
    on = i18n.t(lang, "order.sent_on").format(date=spoken_day(told["shipped"], lang)) if told["shipped"] else ""
    by = i18n.t(lang, "order.sent_with").format(carrier=i18n.isolate(told["carrier"])) if told["carrier"] else ""
    if status == "completed":
        # Completed is more than sent (a sheet's «تحویل شد»): the shop's own word for it when it is
        # in the customer's language, and the day it left after it.
        label = told["status_label"]
        if not label or _persian(label) != (lang == "fa"):
            label = i18n.t(lang, "order.completed_word")
        parts = [i18n.t(lang, "order.completed").format(number=number, label=i18n.isolate(label))]
        if on or by:
            parts.append(i18n.t(lang, "order.left").format(on=on, by=by))
    elif sent and (told["shipped"] or told["carrier"]):
        parts = [i18n.t(lang, "order.sent").format(number=number, on=on, by=by)]
    else:
        key = STATUS_TEXT.get(status, STATUS_TEXT["custom"])
        label = told["status_label"] or status
        parts = [i18n.t(lang, key).format(number=number, label=i18n.isolate(label))]
    if told["created"] and status in _NOT_SENT:
        parts.append(i18n.t(lang, "order.placed").format(date=spoken_day(told["created"], lang)))
    if told["tracking_code"]:
        parts.append(i18n.t(lang, "order.tracking_code").format(code=told["tracking_code"]))
    if told["tracking_url"].startswith(("https://", "http://")):
        parts.append(i18n.t(lang, "order.tracking_url").format(url=told["tracking_url"]))
    return " ".join(parts)


class OrderDesk:
    """Takes the messages that are about the customer's own order (``take``); the chat service
    answers the rest. ``source`` gives the shop's order system as the settings name it, or None
    when it isn't set up; its ``lookup`` is blocking and runs in a worker thread."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        source: Callable[[], OrderSource | None],
        source_name: str,
        handover_statuses: tuple[str, ...] = ("on-hold", "failed"),
        shop_name: str = "",
        reply_by: Callable[[str], str] | None = None,
        default_lang: str = "fa",
    ):
        self.store = store
        self.clock = clock
        self.source = source
        self.source_name = source_name
        self.handover_statuses = {s.strip().lower() for s in handover_statuses if s.strip()}
        self.shop_name = shop_name
        self.reply_by = reply_by
        self.default_lang = default_lang
        # Each network's lookups at the shop now, not yet in the audit log: counted as failures
        # by the network's limit, or a burst sent at once would all pass it before one was logged.
        self._asking: Counter[str] = Counter()
        self._asking_lock = threading.Lock()

    async def take(
        self,
        conversation_id: str,
        text: str,
        *,
        visitor: str | None = None,
        lang: str = "",
        network: str | None = None,
    ) -> tuple[Decision, Reply] | None:
        """The desk's decision and reply to this message, or None when it isn't the desk's (the
        answering pipeline's then). ``lang``: the conversation's language so far; ``network``:
        the keyed hash of the network the message came from, when it came over the web."""
        started = time.perf_counter()
        now = self.clock()
        state = orders.desk_state(self.store.read(), conversation_id)
        if state is not None and state.updated_at < (now - DESK_TTL).isoformat():
            state = None
        norm = normalize(text)
        if upset(norm) or asking.elsewhere(text):
            # An upset customer goes to a person (the pipeline's "upset"), and a return or a
            # person asked for mid-way is answered as any other message.
            if state is not None:
                await self.store.run(self._clear, conversation_id)
            return None
        question = asking.is_order_question(text)
        proof_asked = state is not None and state.stage == "proof"
        number = asking.order_number(text)
        given = asking.proof(text, asked=proof_asked)
        if proof_asked and given is not None and asking.proof(text) is None:
            number = None  # the four digits asked for, not an order number
        if state is None and not question:
            return None
        if state is not None and not question and number is None and given is None:
            await self.store.run(self._clear, conversation_id)  # something else: the desk lets go
            return None
        if state is not None and not question:
            lang = lang or self.default_lang  # "12345", an e-mail: the conversation's language
        else:
            lang = "fa" if asking.finglish_order(text) else detect_language(text, lang or self.default_lang)
        asked = Asked(
            text,
            lang,
            number or (state.number if state is not None and state.number else None),
            given,
            visitor,
            network,
        )
        decision, reply = await self._step(conversation_id, asked, state.tries if state is not None else 0)
        decision.features.setdefault("order_desk_ms", round((time.perf_counter() - started) * 1000, 3))
        return decision, reply

    def preview(self, text: str, lang: str = "") -> tuple[Decision, Reply] | None:
        """What the desk would say to ``text`` as a conversation's first message, storing and
        looking up nothing (the admin's "try a question"): its question for what is missing, or,
        with both the number and the proof, that it would look the order up now."""
        if upset(normalize(text)) or asking.elsewhere(text) or not asking.is_order_question(text):
            return None
        lang = "fa" if asking.finglish_order(text) else detect_language(text, lang or self.default_lang)
        asked = Asked(text, lang, asking.order_number(text), asking.proof(text), None)
        if asked.number is None:
            return self._said(asked, "clarify", "order_ask_number", i18n.t(lang, "order.ask_number"))
        number = shown_number(asked.number, lang)
        if asked.proof is None:
            text = i18n.t(lang, "order.ask_proof").format(number=number)
            return self._said(asked, "clarify", "order_ask_proof", text)
        return self._said(asked, "answer", "order_status", i18n.t(lang, "order.would_look_up").format(number=number))

    async def _step(self, conversation_id: str, asked: Asked, tries: int) -> tuple[Decision, Reply]:
        lang, number = asked.lang, asked.number
        if number is None:
            await self.store.run(self._keep, conversation_id, "", "number", tries)
            return self._said(asked, "clarify", "order_ask_number", i18n.t(lang, "order.ask_number"))
        if asked.proof is None:
            await self.store.run(self._keep, conversation_id, number, "proof", tries)
            text = i18n.t(lang, "order.ask_proof").format(number=shown_number(number, lang))
            return self._said(asked, "clarify", "order_ask_proof", text)
        if await self.store.run(self._limited, conversation_id, asked.visitor, number, asked.network):
            return await self._limit(conversation_id, asked)
        try:
            return await self._look_up(conversation_id, asked, number, asked.proof)
        finally:
            if asked.network is not None:
                with self._asking_lock:
                    self._asking[asked.network] -= 1
                    if self._asking[asked.network] <= 0:
                        del self._asking[asked.network]

    async def _look_up(self, conversation_id: str, asked: Asked, number: str, proof: str) -> tuple[Decision, Reply]:
        """The order asked at the shop's system, and what the customer is told of it."""
        lang = asked.lang
        try:
            source = self.source()
            if source is None:
                return await self._unavailable(conversation_id, asked, "not set up")
            order = await anyio.to_thread.run_sync(source.lookup, number)
        except OrdersUnavailable as exc:
            return await self._unavailable(conversation_id, asked, str(exc))
        except Exception:  # a source's bug must not break the chat: the owner gets the question
            log.exception("order lookup failed (%s)", self.source_name)
            return await self._unavailable(conversation_id, asked, "failed")
        if order is None or not proof_matches(order, proof):
            outcome = "not_found" if order is None else "wrong_proof"
            failed = await self.store.run(self._failed, conversation_id, asked, outcome)
            if failed >= MAX_FAILED_PER_CONVERSATION:
                return await self._limit(conversation_id, asked)
            # The same words whichever was wrong: the reply says nothing of which numbers exist.
            return self._said(asked, "clarify", "order_no_match", i18n.t(lang, "order.no_match"))
        told = describe(order, lang)
        features = {"order": number, "order_status": order.status}
        if order.status in self.handover_statuses or order.status_label.strip().lower() in self.handover_statuses:
            await self.store.run(self._done, conversation_id, asked, "handed_over")
            person = i18n.t(lang, "order.needs_person").format(shop=self._shop(lang))
            text = f"{told} {person} {self._promise(lang)}"
            return self._said(asked, "escalate", "order_needs_person", text, features)
        await self.store.run(self._done, conversation_id, asked, "found")
        return self._said(asked, "answer", "order_status", told, features)

    async def _limit(self, conversation_id: str, asked: Asked) -> tuple[Decision, Reply]:
        await self.store.run(self._done, conversation_id, asked, "limited")
        limited = i18n.t(asked.lang, "order.limited").format(shop=self._shop(asked.lang))
        text = f"{limited} {self._promise(asked.lang)}"
        return self._said(asked, "escalate", "order_limited", text)

    async def _unavailable(self, conversation_id: str, asked: Asked, why: str) -> tuple[Decision, Reply]:
        log.warning("orders can't be looked up (%s): %s", self.source_name or "no source", why)
        await self.store.run(self._done, conversation_id, asked, "unavailable")
        cant = i18n.t(asked.lang, "order.cant_look_up").format(shop=self._shop(asked.lang))
        text = f"{cant} {self._promise(asked.lang)}"
        return self._said(asked, "escalate", "order_unavailable", text)

    def _said(
        self, asked: Asked, kind: str, reason: str, text: str, features: dict | None = None
    ) -> tuple[Decision, Reply]:
        features = dict(features or ({"order": asked.number} if asked.number else {}))
        return Decision(kind, reason, asked.lang, asked.text, features=features), Reply(text, "template")

    def _shop(self, lang: str) -> str:
        return self.shop_name or i18n.t(lang, "bot.the_shop")

    def _promise(self, lang: str) -> str:
        """When a person will reply, as every hand-over says it."""
        when = self.reply_by(lang) if self.reply_by is not None else i18n.t(lang, "bot.reply_time.default")
        return i18n.t(lang, "bot.reply_time").format(when=when)

    # -- on the writer thread -----------------------------------------------------------------

    def _now(self) -> str:
        return self.clock().isoformat()

    def _keep(self, conversation_id: str, number: str, stage: str, tries: int) -> None:
        with self.store.write() as db:
            orders.set_desk_state(db, conversation_id, number=number, stage=stage, tries=tries, now=self._now())

    def _clear(self, conversation_id: str) -> None:
        with self.store.write() as db:
            orders.clear_desk_state(db, conversation_id)

    def _limited(self, conversation_id: str, visitor: str | None, number: str, network: str | None) -> bool:
        """Past one of the limits: this conversation's failed proofs, this visitor's lookups in
        the last hour, anyone's failed proofs of this order number in the last hour, or this
        network's failed lookups in the last hour or day."""
        db = self.store.read()
        now = self.clock()
        since = (now - WINDOW).isoformat()
        if orders.count_lookups(db, since="", outcomes=FAILED, conversation_id=conversation_id) >= (
            MAX_FAILED_PER_CONVERSATION
        ):
            return True
        if visitor is not None and (
            orders.count_lookups(db, since=since, outcomes=LOOKED_UP, visitor=visitor) >= MAX_LOOKUPS_PER_VISITOR
        ):
            return True
        if orders.count_lookups(db, since=since, outcomes=FAILED, number=number) >= MAX_FAILED_PER_NUMBER:
            return True
        if network is None:
            return False
        with self._asking_lock:  # checked and reserved at once: see _asking
            if orders.network_over(db, network, now.isoformat(), asking=self._asking[network]):
                return True
            self._asking[network] += 1
        return False

    def _record(self, db: Database, conversation_id: str, asked: Asked, outcome: str) -> None:
        orders.record_lookup(
            db,
            at=self._now(),
            conversation_id=conversation_id,
            visitor=asked.visitor,
            number=asked.number or "",
            outcome=outcome,
            source=self.source_name,
            network=asked.network,
        )

    def _done(self, conversation_id: str, asked: Asked, outcome: str) -> None:
        """The lookup's outcome in the audit log; the question is over."""
        with self.store.write() as db:
            self._record(db, conversation_id, asked, outcome)
            orders.clear_desk_state(db, conversation_id)

    def _failed(self, conversation_id: str, asked: Asked, outcome: str) -> int:
        """A number and a proof that don't match (or no such order): logged, and the number asked
        again (either may have been mistyped). Returns the conversation's failures so far."""
        with self.store.write() as db:
            self._record(db, conversation_id, asked, outcome)
            failed = orders.count_lookups(db, since="", outcomes=FAILED, conversation_id=conversation_id)
            orders.set_desk_state(db, conversation_id, number="", stage="number", tries=failed, now=self._now())
        return failed
