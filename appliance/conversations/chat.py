"""The chat service: one customer message in, one stored decision and reply out.

Every path that answers a customer goes through ``ChatService``: the widget's API, the admin's
"try a question" box and `appliance eval`, so what is measured is what customers get. The
customer's message is stored before any work on it, so it is never lost even if the answer
fails. Storage is conversations/store.py's; deciding and phrasing are the answering package's.

Its methods are ``async``: each write is awaited on the store's writer thread (``Store.run``),
so a long write elsewhere (an import, a restore) never holds up the event loop. The answers being
worked out in the background (``answer_in_background``) are the service's too (``InFlight``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import anyio

from appliance.answering.compose import Composer, Reply
from appliance.answering.decide import Decider, Decision, Previous
from appliance.answering.entry_check import EntryChecker
from appliance.clock import Clock
from appliance.conversations import attachments
from appliance.conversations.events import Bell
from appliance.conversations.order_desk import OrderDesk
from appliance.conversations.store import Channel, Conversations, NoConversation, Pressed, Status, held
from appliance.db import Store
from appliance.kb import suggestions
from appliance.text import contact
from appliance.text.reading import read
from appliance.text.textnorm import detect_language, without_controls

log = logging.getLogger(__name__)


class MessageRejected(ValueError):
    """The message can't be accepted (too long, empty, unknown conversation)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass
class Turn:
    message_id: int
    reply_id: int | None
    decision_id: int
    decision: Decision
    reply: Reply
    decision_ms: float


class InFlight:
    """The answers being worked out, each by its message (conversation id, message id). Each is
    held until it is done (asyncio keeps only weak references to tasks) and its failure logged,
    with the traceback, whether or not the customer is still waiting for it; while it runs, a
    retried send of the same message finds it instead of answering the message again."""

    def __init__(self) -> None:
        self._running: set[asyncio.Future] = set()
        self._by_message: dict[tuple[str, int], asyncio.Future] = {}

    def get(self, key: tuple[str, int]) -> asyncio.Future | None:
        return self._by_message.get(key)

    def start(self, key: tuple[str, int], work: Awaitable[Turn]) -> asyncio.Future:
        """``work`` as a task, registered before this returns (nothing is awaited)."""
        task = asyncio.ensure_future(work)
        self._running.add(task)

        def done(t: asyncio.Future) -> None:
            self._running.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("reply failed", exc_info=t.exception())

        task.add_done_callback(done)
        self._by_message[key] = task
        task.add_done_callback(lambda _: self._by_message.pop(key, None))
        return task


class ChatService:
    def __init__(
        self,
        store: Store,
        decider: Decider,
        composer: Composer,
        clock: Clock,
        *,
        checker: EntryChecker | None = None,
        max_message_chars: int = 2000,
        on_said: Callable[[str], None] | None = None,
        in_flight: InFlight | None = None,
        desk: OrderDesk | None = None,
        bell: Bell | None = None,
    ):
        self.store = store
        self.conversations = Conversations(store, clock, on_said, bell)
        self.decider = decider
        self.composer = composer
        self.checker = checker  # a larger model's check of the chosen entry (off by default)
        self.clock = clock
        self.max_message_chars = max_message_chars
        # A service rebuilt with new settings may take over its predecessor's answers in progress.
        self.in_flight = in_flight if in_flight is not None else InFlight()
        # "Where is my order?": the shop's own orders, when the owner set a source up (order_desk.py).
        self.desk = desk

    async def start_conversation(
        self,
        *,
        lang: str = "",
        channel: Channel = Channel.WIDGET,
        visitor_id: str | None = None,
        consent_at: str | None = None,
        channel_ref: str | None = None,
    ) -> str:
        return await self.store.run(
            lambda: self.conversations.start(
                lang=lang, channel=channel, visitor_id=visitor_id, consent_at=consent_at, channel_ref=channel_ref
            )
        )

    async def accept(
        self, conversation_id: str, text: str, client_id: str | None = None, pressed: Pressed | None = None
    ) -> tuple[int, bool]:
        """Store the customer's message before anything else happens to it (``pressed``: the
        button whose words it is, not typed).

        Returns (message id, True if this exact message was already stored: a retried send).
        """
        text = without_controls(text)
        if not text:
            raise MessageRejected("empty", "the message is empty")
        if len(text) > self.max_message_chars:
            raise MessageRejected("too_long", f"the message is longer than {self.max_message_chars} characters")
        try:
            return await self.store.run(
                lambda: self.conversations.add_customer_message(conversation_id, text, client_id, pressed=pressed)
            )
        except NoConversation:
            raise MessageRejected("no_conversation", "unknown conversation") from None

    async def reply(self, conversation_id: str, text: str) -> Turn:
        message_id, _ = await self.accept(conversation_id, text)
        return await self.answer(conversation_id, message_id, text)

    async def answer(
        self, conversation_id: str, message_id: int, text: str, *, network: str | None = None, only_sure: bool = False
    ) -> Turn:
        """Decide and reply to a stored customer message (unless the owner has taken over).
        ``network``: the keyed hash of the network it came from (the web API's), which the order
        desk counts guesses by. ``only_sure``: anything but a sure answer goes to the owner (an
        e-mail can't offer choices to click or ask back at once; the order desk's questions
        neither)."""
        if self.conversations.status(conversation_id) is Status.HUMAN:
            return await self._record(conversation_id, message_id, held(text), Reply("", "none"), 0.0)
        if self.desk is not None and not only_sure:
            started = time.perf_counter()
            row = self.conversations.get(conversation_id)
            taken = await self.desk.take(
                conversation_id,
                text,
                visitor=row["visitor_id"] if row is not None else None,
                lang=row["lang"] if row is not None else "",
                network=network,
            )
            if taken is not None:  # about the customer's own order: the desk's words, not the FAQ's
                decision_ms = (time.perf_counter() - started) * 1000
                return await self._record(conversation_id, message_id, *taken, decision_ms)
        before = self.conversations.previous_question(conversation_id, before=message_id)
        previous = Previous(before[0], tuple(before[1])) if before else None
        decision, reply, decision_ms = await self._decide_and_compose(text, previous)
        if only_sure and decision.kind != "answer":
            decision = Decision("escalate", "not_sure_by_email", decision.lang, decision.query, decision.confidence)
            reply = await self.composer.compose(decision, text)
        return await self._record(conversation_id, message_id, decision, reply, decision_ms)

    def answer_in_background(
        self, conversation_id: str, message_id: int, text: str, *, network: str | None = None
    ) -> asyncio.Future:
        """Start answering a stored customer message (``answer``) as a task of its own: the answer
        is worked out and stored even if the customer closes the page meanwhile (their request is
        cancelled, the task is not), so no message is left with neither a reply nor an
        escalation. Registered before this returns: a retried send arriving a moment later finds
        it with ``answering``. A failure is logged here; the caller may await the task (shielded)."""
        return self.in_flight.start(
            (conversation_id, message_id), self.answer(conversation_id, message_id, text, network=network)
        )

    def answering(self, conversation_id: str, message_id: int) -> asyncio.Future | None:
        """The answer being worked out for this message, if one is."""
        return self.in_flight.get((conversation_id, message_id))

    async def preview(self, text: str) -> tuple[Decision, Reply]:
        """What a customer asking ``text`` would get, stored nowhere (the admin's "try a
        question"): the same decision, check and reply as ``answer``."""
        if self.desk is not None and (taken := self.desk.preview(text, self.decider.default_lang)) is not None:
            return taken
        decision, reply, _ = await self._decide_and_compose(text, None)
        return decision, reply

    async def _decide_and_compose(self, text: str, previous: Previous | None) -> tuple[Decision, Reply, float]:
        started = time.perf_counter()

        def decide() -> Decision:
            # The message is read once, here (text.reading: normalised, its language, its
            # Finglish and colloquial readings), and the reading is what deciding, retrieval and
            # the catalog use. Embedding and scoring are CPU work: off the event loop.
            return self.decider.decide(read(text, self.decider.default_lang), previous=previous)

        decision = await anyio.to_thread.run_sync(decide)
        decision_ms = (time.perf_counter() - started) * 1000
        if self.checker is not None:
            # Its time is in the decision's features (model_check_ms), not in decision_ms: that
            # stays retrieval's own, comparable with and without a model.
            decision = await self.checker.review(decision, text)
        return decision, await self.composer.compose(decision, text), decision_ms

    async def recover_unanswered(self, days: int = 7) -> int:
        """At start: customer messages left with neither reply nor escalation (the power was cut,
        or the process killed, while the bot was answering) are escalated to the owner, so that
        every acknowledged message reaches a person. Returns how many."""
        rows = self.conversations.unanswered(since=(self.clock() - timedelta(days=days)).isoformat())
        for row in rows:
            decision = Decision("escalate", "interrupted", detect_language(row["text"]), row["text"])
            reply = await self.composer.compose(decision, row["text"])
            await self._record(row["conversation_id"], row["id"], decision, reply, 0.0)
        return len(rows)

    async def choose(self, conversation_id: str, entry_id: str, label: str) -> Turn:
        """The customer picked one of the clarifying choices."""
        started = time.perf_counter()
        # The entry first: a pick of an entry that doesn't exist stored its label as the
        # customer's message (any text, bypassing what a message goes through) before failing.
        decision = self.decider.answer_with(entry_id, label)
        if decision is None:
            raise MessageRejected("no_entry", "that answer no longer exists")
        decision_ms = (time.perf_counter() - started) * 1000
        if not label.strip():  # a client that sent no label: the choice's own name, not its id
            label = decision.entries[0].title if decision.entries else entry_id
        message_id, _ = await self.accept(conversation_id, label, pressed=Pressed.CHOICE)
        reply = await self.composer.compose(decision, label)
        turn = await self._record(conversation_id, message_id, decision, reply, decision_ms)
        await self.store.run(self._suggest_pick, conversation_id, entry_id, message_id)
        return turn

    def _suggest_pick(self, conversation_id: str, entry_id: str, message_id: int) -> None:
        """The customer's pick says which entry their question meant: a phrasing for the owner to
        approve (never added without them)."""
        asked = self.conversations.clarified_question(conversation_id, entry_id, before=message_id)
        if asked is not None:
            self._suggest(conversation_id, entry_id, asked, suggestions.CUSTOMER_PICK)

    def _suggest(self, conversation_id: str, entry_id: str, question: str, source: str) -> None:
        with self.store.write() as db:
            suggestions.suggest(
                db, entry_id, question, source=source, conversation_id=conversation_id, now=self.clock().isoformat()
            )

    async def handoff(self, conversation_id: str, label: str, lang: str, reason: str = "asked_for_person") -> Turn:
        """The customer pressed "talk to a person" (or "none of these"): escalate, whatever the
        knowledge base says. The button's words are stored as the customer's message (their chat
        shows them), marked as pressed: the owner reads the press, and the question before it."""
        pressed = Pressed.NONE_OF_THESE if reason == "clarification_failed" else Pressed.PERSON
        message_id, _ = await self.accept(conversation_id, label, pressed=pressed)
        decision = Decision("escalate", reason, lang, label)
        reply = await self.composer.compose(decision, label)
        return await self._record(conversation_id, message_id, decision, reply, 0.0)

    async def send_photo(
        self, conversation_id: str, content: bytes, name: str, caption: str, lang: str, max_bytes: int
    ) -> Turn:
        """A customer's photo (with a few words, or none). The bot can't see it: it goes to a
        person, and the customer is told so (nothing is said while the owner is in the chat).
        Raises MessageRejected (the photo's ``attachment.*`` refusal as the code)."""
        caption = without_controls(caption)
        if len(caption) > self.max_message_chars:
            raise MessageRejected("too_long", f"the message is longer than {self.max_message_chars} characters")
        try:
            # Decoding and drawing a 12-megapixel photo again takes a good part of a second.
            photo = await anyio.to_thread.run_sync(attachments.clean_image, content, name, max_bytes)
        except attachments.AttachmentRefused as exc:
            raise MessageRejected(exc.key, str(exc)) from None
        try:
            message_id, _ = await self.store.run(
                lambda: self.conversations.add_customer_message(conversation_id, caption, file=photo)
            )
        except NoConversation:
            raise MessageRejected("no_conversation", "unknown conversation") from None
        decision = Decision("escalate", "attachment", lang, caption)
        reply = await self.composer.compose(decision, caption)
        return await self._record(conversation_id, message_id, decision, reply, 0.0)

    async def set_contact(self, conversation_id: str, email: str = "", phone: str = "") -> None:
        """A way to reach the customer (optional; validated; at least one when called)."""
        if not email.strip() and not phone.strip():
            raise MessageRejected("no_contact", "give an e-mail address or a phone number")
        try:
            email = contact.email(email) if email.strip() else ""
            phone = contact.phone(phone) if phone.strip() else ""
        except contact.ContactError as exc:
            raise MessageRejected(exc.code, str(exc)) from None
        await self.store.run(self.conversations.set_contact, conversation_id, email, phone)

    async def rate(self, conversation_id: str, satisfied: bool, comment: str = "") -> None:
        """The customer's "did this help?" under an answer. An answer that helped suggests its
        question as a phrasing of its entry (the owner approves it or not); one that didn't goes
        first in the owner's review of answers (Conversations.least_sure_answers)."""
        comment = comment.strip()
        if len(comment) > self.max_message_chars:
            raise MessageRejected("too_long", "the comment is too long")
        answered = await self.store.run(self.conversations.rate, conversation_id, satisfied, comment)
        if satisfied and answered is not None:
            question, entry_id = answered
            await self.store.run(self._suggest, conversation_id, entry_id, question, suggestions.CUSTOMER_HELPED)

    async def mark_seen(self, conversation_id: str, message_id: int) -> None:
        await self.store.run(self.conversations.mark_seen, conversation_id, message_id)

    async def _record(
        self, conversation_id: str, message_id: int, decision: Decision, reply: Reply, decision_ms: float
    ) -> Turn:
        done = await self.store.run(
            self.conversations.record_turn, conversation_id, message_id, decision, reply, decision_ms
        )
        return Turn(message_id, done.reply_id, done.decision_id, done.decision, done.reply, decision_ms)
