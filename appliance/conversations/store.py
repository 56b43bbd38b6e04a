"""Conversations, their messages and the bot's decisions: the one module that reads and writes them.

A conversation's status says who has to act next. Every change of status is made by
``transition`` (the rules, in one place) inside the write transaction that records what caused
it, so two writers can't disagree about it. Routes, jobs and the chat service call the methods
here; none of them holds SQL about conversations of its own. Reports over many conversations
(reports/analytics.py, reports/digest.py, reports/gaps.py) read the tables through ``CUSTOMERS_ONLY`` and the enums below.

Writes go through ``Store.write()`` and so run on the thread that calls them: a request handler
that is ``async`` calls them through ``await store.run(...)`` (the single writer thread), never
on the event loop. See docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from appliance.answering.compose import Reply
from appliance.answering.decide import PRODUCT, Decision
from appliance.catalog import store as catalog_store
from appliance.clock import Clock
from appliance.conversations import attachments, events
from appliance.db import Store, inserted_id
from appliance.kb import store as kb

if TYPE_CHECKING:
    from appliance.answering.shop_calibration import Keeper


class Status(StrEnum):
    OPEN = "open"  # the bot is handling it
    WAITING = "waiting"  # escalated: waits for the owner
    ANSWERED = "answered"  # the owner replied
    HUMAN = "human"  # the owner took it over live: the bot stays silent
    RESOLVED = "resolved"  # the owner closed it


class Channel(StrEnum):
    """Where a conversation happens. The customers' channels (``CUSTOMERS``) are the ones the
    owner's inbox, counts and reports see; the others are the shop's own tools."""

    WIDGET = "widget"  # the chat on the shop's website
    TELEGRAM = "telegram"  # the shop's Telegram bot (channels/telegram.py)
    BALE = "bale"  # the same bot code on Bale's Telegram-compatible API
    EMAIL = "email"  # the shop's support mailbox, read over IMAP (channels/email_in.py)
    CLI = "cli"  # `appliance ask`
    EVAL = "eval"  # `appliance eval` (kept out of retention, too)


CUSTOMERS = (Channel.WIDGET, Channel.TELEGRAM, Channel.BALE, Channel.EMAIL)


class Role(StrEnum):
    CUSTOMER = "customer"
    BOT = "bot"
    OWNER = "owner"
    SYSTEM = "system"  # notices shown to the customer ("the owner has joined")


class Pressed(StrEnum):
    """A button the customer pressed in the chat instead of typing. The chat stores the button's
    words as their message (their chat shows them so); the owner reads the press in words, and
    the inbox's preview is the last question they typed, not «می‌خواهم با یک نفر صحبت کنم»."""

    PERSON = "person"  # "talk to a person"
    NONE_OF_THESE = "none_of_these"  # none of the offered choices fitted: a person, then
    CHOICE = "choice"  # one of the offered choices (its title is the message)


class Event(StrEnum):
    BOT_REPLIED = "bot_replied"  # an answer or a clarifying question
    ESCALATED = "escalated"  # the bot handed the conversation to the owner
    OWNER_REPLIED = "owner_replied"
    TAKEN_OVER = "taken_over"  # the owner joined live
    HANDED_BACK = "handed_back"  # ... and gave it back to the bot
    RESOLVED = "resolved"
    REOPENED = "reopened"


def transition(status: Status, event: Event) -> Status:
    """The status after ``event``: every rule of the conversation's life, in one place."""
    if event is Event.TAKEN_OVER:
        return Status.HUMAN
    if event is Event.HANDED_BACK:
        # The owner has dealt with it: it is among their answered ones (it left "waiting" and
        # showed nowhere but "all"); the bot's next answer makes it the bot's again.
        return Status.ANSWERED
    if event is Event.REOPENED:
        return Status.OPEN
    if event is Event.RESOLVED:
        return Status.RESOLVED
    if status is Status.HUMAN:
        # One the owner took over stays theirs until they hand it back, whoever writes.
        return Status.HUMAN
    if event is Event.OWNER_REPLIED:
        return Status.ANSWERED
    if event is Event.ESCALATED:
        return Status.WAITING
    # The bot answered: an escalated conversation stays with the owner until they answer it,
    # even if the bot answers another question in the meantime.
    return Status.WAITING if status is Status.WAITING else Status.OPEN


# Reports count the shop's customers only (every customer channel): not `appliance ask`, not
# evaluations.
CUSTOMERS_ONLY = "c.channel IN ({})".format(", ".join(f"'{c}'" for c in CUSTOMERS))

ANSWERED_KINDS = ("answer", "clarify")
# Decisions' reasons where the knowledge base had no sure answer (a checking model's doubt included).
UNSURE = "('no_match', 'close_candidates', 'follow_up_choices', 'model_doubted')"
FOLLOW_UP_LOOKBACK = 3  # how many earlier decisions a follow-up question may lean on
VERDICTS = ("right", "wrong", None)  # the owner's mark on a bot answer

# The inbox's views: which statuses, in what order.
VIEWS: dict[str, tuple[tuple[Status, ...], str]] = {
    "waiting": ((Status.WAITING,), "updated_at ASC"),  # oldest first: who has waited longest
    "answered": ((Status.ANSWERED, Status.HUMAN), "updated_at DESC"),  # yours: replied or taken over
    "resolved": ((Status.RESOLVED,), "updated_at DESC"),
    "all": (tuple(Status), "updated_at DESC"),
}


class NoConversation(LookupError):
    """No conversation with that id (or not one of the customers')."""


@dataclass
class Recorded:
    """A bot turn as it was stored: the decision may have become "held" if the owner took over."""

    reply_id: int | None
    decision_id: int
    decision: Decision
    reply: Reply


class Conversations:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        on_said: Callable[[str], None] | None = None,
        bell: events.Bell | None = None,
    ):
        self.store = store
        self.clock = clock
        # Told a conversation's id after the owner (or a notice) said something in it, once it is
        # committed: the open widget's stream wakes (push.Hub.notify).
        self.on_said = on_said
        # Rung after a write that noted events (conversations/events.py) has committed: the
        # channels, webhooks and the owner's phone read them at once.
        self.bell = bell

    def _now(self) -> str:
        return self.clock().isoformat()

    @staticmethod
    def _note(
        db: Any, kind: str, conversation_id: str, now: str, message_id: int | None = None, /, **data: Any
    ) -> None:
        # Only customers' conversations: an evaluation's thousands of turns are nobody's events.
        row = db.execute("SELECT channel FROM conversations WHERE id = ?", [conversation_id]).fetchone()
        if row is not None and row[0] in CUSTOMERS:
            events.record(db, kind, conversation_id, channel=str(row[0]), now=now, message_id=message_id, data=data)

    def _ring(self) -> None:
        if self.bell is not None:
            self.bell.ring()

    # -- writes --------------------------------------------------------------------------------

    def start(
        self,
        *,
        lang: str = "",
        channel: Channel = Channel.WIDGET,
        visitor_id: str | None = None,
        consent_at: str | None = None,
        channel_ref: str | None = None,
    ) -> str:
        """A new conversation; ``channel_ref``: the channel's own name for the other side (a
        Telegram chat, an e-mail thread), by which ``by_channel_ref`` finds it again."""
        conversation_id = secrets.token_urlsafe(16)
        now = self._now()
        with self.store.write() as db:
            db.execute(
                "INSERT INTO conversations (id, lang, channel, channel_ref, visitor_id, consent_at, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [conversation_id, lang, str(channel), channel_ref, visitor_id, consent_at, now, now],
            )
            self._note(db, events.STARTED, conversation_id, now, lang=lang)
        self._ring()
        return conversation_id

    def add_customer_message(
        self,
        conversation_id: str,
        text: str,
        client_id: str | None = None,
        file: attachments.Clean | None = None,
        pressed: Pressed | None = None,
    ) -> tuple[int, bool]:
        """Store a customer's message (and the photo that came with it; ``pressed``: the button
        whose words it is): (its id, True if this ``client_id`` was stored already). Raises
        NoConversation."""
        now = self._now()
        with self.store.write() as db:
            if db.execute("SELECT 1 FROM conversations WHERE id = ?", [conversation_id]).fetchone() is None:
                raise NoConversation(conversation_id)
            if client_id:
                row = db.execute(
                    "SELECT id FROM messages WHERE conversation_id = ? AND client_id = ?", [conversation_id, client_id]
                ).fetchone()
                if row:
                    return row[0], True
            cursor = db.execute(
                "INSERT INTO messages (conversation_id, role, text, client_id, pressed, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [conversation_id, Role.CUSTOMER, text, client_id, str(pressed) if pressed else None, now],
            )
            message_id = inserted_id(cursor)
            if file is not None:
                attachments.insert(db, conversation_id, message_id, file, now)
            db.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", [now, conversation_id])
            self._note(
                db,
                events.CUSTOMER_MESSAGE,
                conversation_id,
                now,
                message_id,
                text=text,
                pressed=str(pressed) if pressed else None,
                photo=file is not None,
            )
        self._ring()
        return message_id, False

    def record_turn(
        self, conversation_id: str, message_id: int, decision: Decision, reply: Reply, decision_ms: float
    ) -> Recorded:
        """The bot's decision on a customer message, and its reply unless a person has the
        conversation (then it is recorded as "held" and nothing is said)."""
        now = self._now()
        with self.store.write() as db:
            status = self._status(db, conversation_id)
            # Checked inside the transaction: if the owner took over while the bot was thinking,
            # the bot's words are dropped. The bot never speaks over a person.
            if status is Status.HUMAN and decision.kind != "held":
                decision, reply = held(decision.query), Reply("", "none")
            scores = decision.scores()
            if reply.model_rejected:
                scores["model_rejected"] = reply.model_rejected
            db.execute("UPDATE messages SET lang = ? WHERE id = ?", [decision.lang, message_id])
            reply_id = None
            if decision.kind != "held":
                reply_id = inserted_id(
                    db.execute(
                        "INSERT INTO messages (conversation_id, role, text, lang, created_at) VALUES (?, ?, ?, ?, ?)",
                        [conversation_id, Role.BOT, reply.text, decision.lang, now],
                    )
                )
            decision_id = inserted_id(
                db.execute(
                    "INSERT INTO decisions (conversation_id, message_id, reply_id, kind, reason, entry_ids, "
                    "confidence, scores, query, lang, composed_by, latency_ms, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        conversation_id,
                        message_id,
                        reply_id,
                        decision.kind,
                        decision.reason,
                        json.dumps(decision.entry_ids),
                        decision.confidence,
                        json.dumps(scores, ensure_ascii=False),
                        decision.query,
                        decision.lang,
                        reply.composed_by,
                        round(decision_ms, 3),
                        now,
                    ],
                )
            )
            event = Event.ESCALATED if decision.kind == "escalate" else Event.BOT_REPLIED
            after = transition(status, event)
            db.execute(
                "UPDATE conversations SET status = ?, lang = ?, updated_at = ? WHERE id = ?",
                [after, decision.lang, now, conversation_id],
            )
            if reply_id is not None:
                self._note(
                    db,
                    events.BOT_MESSAGE,
                    conversation_id,
                    now,
                    reply_id,
                    text=reply.text,
                    lang=decision.lang,
                    kind=decision.kind,
                    reason=decision.reason,
                    decision_id=decision_id,
                )
            if after is Status.WAITING and status is not Status.WAITING:
                self._note(
                    db,
                    events.HANDED_OVER,
                    conversation_id,
                    now,
                    message_id,
                    reason=decision.reason,
                    question=decision.query,
                    lang=decision.lang,
                )
        self._ring()
        return Recorded(reply_id, decision_id, decision, reply)

    def add_owner_reply(self, conversation_id: str, text: str, file: attachments.Clean | None = None) -> int:
        """The owner's reply, with an image or a PDF if one came with it: it reaches the
        customer's widget (and their e-mail: the caller)."""
        return self._say(conversation_id, Role.OWNER, text, Event.OWNER_REPLIED, file)

    def add_proactive(self, conversation_id: str, text: str) -> int:
        """The shop's proactive message the customer is answering (the widget showed it before
        there was a conversation): stored before their reply, so the owner reads what they answer.
        The status doesn't move: nobody has been answered yet."""
        return self._say(conversation_id, Role.BOT, text, None)

    def take_over(self, conversation_id: str, on: bool, notice: str) -> None:
        """The owner joins the conversation (the bot stays silent) or hands it back to the bot.
        ``notice`` is what the customer is told, in their language."""
        self._say(conversation_id, Role.SYSTEM, notice, Event.TAKEN_OVER if on else Event.HANDED_BACK)

    def channel_visitor(self, visitor_id: str, token_hash: str) -> None:
        """A customer of another channel than the widget (a Telegram chat) as a visitor, seen
        now: all its conversations are one customer's for export and erasure. No widget token
        opens it (``token_hash`` is of a value nobody is given)."""
        now = self._now()
        with self.store.write() as db:
            db.execute(
                "INSERT INTO visitors (id, token_hash, ip_hash, created_at, last_seen_at) VALUES (?, ?, '', ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET last_seen_at = excluded.last_seen_at",
                [visitor_id, token_hash, now, now],
            )

    def set_status(self, conversation_id: str, event: Event) -> None:
        """Resolve or reopen."""
        now = self._now()
        with self.store.write() as db:
            status = self._status(db, conversation_id)
            db.execute(
                "UPDATE conversations SET status = ?, updated_at = ? WHERE id = ?",
                [transition(status, event), now, conversation_id],
            )
            if event is Event.RESOLVED and status is not Status.RESOLVED:
                self._note(db, events.RESOLVED, conversation_id, now)
        self._ring()

    def set_contact(self, conversation_id: str, email: str, phone: str) -> None:
        with self.store.write() as db:
            db.execute(
                "UPDATE conversations SET contact_email = ?, contact_phone = ?, updated_at = ? WHERE id = ?",
                [email, phone, self._now(), conversation_id],
            )

    def rate(self, conversation_id: str, satisfied: bool, comment: str) -> tuple[str, str] | None:
        """The customer's "did this help?", asked under the bot's answer: kept on the conversation
        and on that answer. Returns (the question, the entry) the answer was for, or None."""
        now = self._now()
        with self.store.write() as db:
            db.execute(
                "UPDATE conversations SET rating = ?, rating_comment = ?, updated_at = ? WHERE id = ?",
                [int(satisfied), comment, now, conversation_id],
            )
            self._note(db, events.RATED, conversation_id, now, satisfied=satisfied, comment=comment)
            row = db.execute(
                "SELECT d.id, d.entry_ids, m.text FROM decisions d JOIN messages m ON m.id = d.message_id "
                "WHERE d.conversation_id = ? AND d.kind = 'answer' ORDER BY d.id DESC LIMIT 1",
                [conversation_id],
            ).fetchone()
            if row is not None:
                db.execute(
                    "UPDATE decisions SET customer_verdict = ? WHERE id = ?",
                    ["helped" if satisfied else "unhelpful", row["id"]],
                )
        self._ring()
        if row is None:
            return None
        ids = json.loads(row["entry_ids"] or "[]")
        return (str(row["text"]), ids[0]) if len(ids) == 1 and not ids[0].startswith(PRODUCT) else None

    def mark_seen(self, conversation_id: str, message_id: int) -> None:
        with self.store.write() as db:
            db.execute(
                "UPDATE conversations SET visitor_seen_message_id = max(visitor_seen_message_id, ?) WHERE id = ?",
                [message_id, conversation_id],
            )

    def mark_seen_by_owner(self, conversation_id: str) -> None:
        """The owner has the conversation open: the customer's messages so far are seen (their
        open chat is told, through ``on_said``, only when this moved)."""
        with self.store.write() as db:
            cursor = db.execute(
                "UPDATE conversations SET owner_seen_message_id = "
                "(SELECT coalesce(max(id), 0) FROM messages WHERE conversation_id = ? AND role = ?) "
                "WHERE id = ? AND owner_seen_message_id < "
                "(SELECT coalesce(max(id), 0) FROM messages WHERE conversation_id = ? AND role = ?)",
                [conversation_id, Role.CUSTOMER, conversation_id, conversation_id, Role.CUSTOMER],
            )
            moved = cursor.rowcount > 0
        if moved and self.on_said is not None:
            self.on_said(conversation_id)

    def set_verdict(self, conversation_id: str, decision_id: int, verdict: str | None) -> bool:
        """The owner marks the bot's answer right or wrong (None: unmarked). Only answers carry one."""
        if verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}")
        with self.store.write() as db:
            cursor = db.execute(
                "UPDATE decisions SET verdict = ? WHERE id = ? AND conversation_id = ? AND kind = 'answer'",
                [verdict, decision_id, conversation_id],
            )
            return cursor.rowcount > 0

    def clarified_question(self, conversation_id: str, entry_id: str, before: int) -> str | None:
        """The customer's question that the bot last answered with choices, if this entry was
        among them (the customer just picked it), or None."""
        row = (
            self.store.read()
            .execute(
                "SELECT d.entry_ids, m.text FROM decisions d JOIN messages m ON m.id = d.message_id "
                "WHERE d.conversation_id = ? AND d.message_id < ? AND d.kind = 'clarify' "
                "ORDER BY d.id DESC LIMIT 1",
                [conversation_id, before],
            )
            .fetchone()
        )
        if row is None or entry_id not in json.loads(row["entry_ids"] or "[]"):
            return None
        return str(row["text"])

    def add_note(self, conversation_id: str, text: str) -> None:
        """The owner's private note (never shown to the customer)."""
        with self.store.write() as db:
            db.execute(
                "INSERT INTO notes (conversation_id, text, created_at) VALUES (?, ?, ?)",
                [conversation_id, text, self._now()],
            )

    def delete(self, ids: list[str]) -> None:
        """Delete conversations (messages, decisions and notes go with them) and the visitors
        left without one."""
        with self.store.write() as db:
            for cid in ids:
                db.execute("DELETE FROM conversations WHERE id = ?", [cid])
            _forget_lone_visitors(db)

    def delete_untouched_since(self, cutoff: str) -> int:
        """Retention: conversations untouched since ``cutoff`` (evaluations are not customers')."""
        with self.store.write() as db:
            deleted = db.execute(
                "DELETE FROM conversations WHERE updated_at < ? AND channel != ?", [cutoff, Channel.EVAL]
            ).rowcount
            _forget_lone_visitors(db)
        return deleted

    def _say(
        self, conversation_id: str, role: Role, text: str, event: Event | None, file: attachments.Clean | None = None
    ) -> int:
        """Store a message from the shop's side; ``event`` moves the status (None: it stays, and
        the conversation isn't touched)."""
        now = self._now()
        with self.store.write() as db:
            status = self._status(db, conversation_id)
            message_id = inserted_id(
                db.execute(
                    "INSERT INTO messages (conversation_id, role, text, created_at) VALUES (?, ?, ?, ?)",
                    [conversation_id, role, text, now],
                )
            )
            if file is not None:
                attachments.insert(db, conversation_id, message_id, file, now)
            if event is not None:
                db.execute(
                    "UPDATE conversations SET status = ?, updated_at = ? WHERE id = ?",
                    [transition(status, event), now, conversation_id],
                )
            if role is Role.OWNER:
                self._note(db, events.OWNER_MESSAGE, conversation_id, now, message_id, text=text, file=file is not None)
            elif role is Role.SYSTEM:
                self._note(db, events.SYSTEM_MESSAGE, conversation_id, now, message_id, text=text)
        self._ring()
        if self.on_said is not None and role in {Role.OWNER, Role.SYSTEM}:
            self.on_said(conversation_id)
        return message_id

    @staticmethod
    def _status(db: Any, conversation_id: str) -> Status:
        row = db.execute("SELECT status FROM conversations WHERE id = ?", [conversation_id]).fetchone()
        if row is None:
            raise NoConversation(conversation_id)
        return Status(row[0])

    # -- one conversation ------------------------------------------------------------------------

    def get(self, conversation_id: str, channel: Channel | None = None, *, customers: bool = False) -> Any:
        """The conversation's row (``channel``: only if it is of that channel; ``customers``:
        only if it is a customer's, of any customer channel), or None."""
        sql, params = "SELECT * FROM conversations c WHERE c.id = ?", [conversation_id]
        if channel is not None:
            sql, params = sql + " AND c.channel = ?", [*params, channel]
        if customers:
            sql += " AND " + CUSTOMERS_ONLY
        return self.store.read().execute(sql, params).fetchone()

    def by_channel_ref(self, channel: Channel, channel_ref: str) -> Any:
        """The newest conversation of ``channel`` with this ``channel_ref``, or None."""
        return (
            self.store.read()
            .execute(
                "SELECT * FROM conversations WHERE channel = ? AND channel_ref = ? ORDER BY created_at DESC LIMIT 1",
                [str(channel), channel_ref],
            )
            .fetchone()
        )

    def status(self, conversation_id: str) -> Status | None:
        row = self.store.read().execute("SELECT status FROM conversations WHERE id = ?", [conversation_id]).fetchone()
        return Status(row[0]) if row else None

    def belongs_to(self, conversation_id: str, visitor_id: str) -> bool:
        return (
            self.store.read()
            .execute("SELECT 1 FROM conversations WHERE id = ? AND visitor_id = ?", [conversation_id, visitor_id])
            .fetchone()
            is not None
        )

    def previous_question(self, conversation_id: str, before: int | None = None) -> tuple[str, list[str]] | None:
        """The last question the bot could place, for follow-ups ("and to Mashhad?"), with the
        entries it answered it with or offered (a pick among choices is such a question too)."""
        rows = (
            self.store.read()
            .execute(
                "SELECT d.kind, d.entry_ids, m.text FROM decisions d JOIN messages m ON m.id = d.message_id "
                "WHERE d.conversation_id = ? AND d.message_id < ? ORDER BY d.id DESC LIMIT ?",
                [conversation_id, before if before is not None else 2**62, FOLLOW_UP_LOOKBACK],
            )
            .fetchall()
        )
        for row in rows:
            if row["kind"] in ANSWERED_KINDS:
                return row["text"], json.loads(row["entry_ids"] or "[]")
        return None

    def message_by_client_id(self, conversation_id: str, client_id: str | None) -> int | None:
        if not client_id:
            return None
        row = (
            self.store.read()
            .execute(
                "SELECT id FROM messages WHERE conversation_id = ? AND client_id = ?", [conversation_id, client_id]
            )
            .fetchone()
        )
        return row[0] if row else None

    def history(self, conversation_id: str, after: int = 0) -> list[dict]:
        """The conversation as the customer sees it, with sources and choices of bot replies."""
        db = self.store.read()
        rows = db.execute(
            "SELECT m.id, m.role, m.text, m.created_at, m.client_id, d.kind, d.reason, d.entry_ids "
            "FROM messages m LEFT JOIN decisions d ON d.reply_id = m.id "
            "WHERE m.conversation_id = ? AND m.id > ? ORDER BY m.id",
            [conversation_id, after],
        ).fetchall()
        # Only the titles these replies name (the widget polls this; it read every entry's title).
        named = sorted({e for r in rows if r["kind"] for e in json.loads(r["entry_ids"])})
        titles = kb.titles(db, [e for e in named if not e.startswith(PRODUCT)])
        # A product's id is "product:SKU" (decide.PRODUCT): its name is the catalog's.
        products = catalog_store.titles(db, [e.removeprefix(PRODUCT) for e in named if e.startswith(PRODUCT)])
        titles.update({PRODUCT + sku: name for sku, name in products.items()})
        offered = {e for r in rows if r["kind"] == "clarify" for e in json.loads(r["entry_ids"])}
        summaries = kb.first_sentences(db, [e for e in offered if not e.startswith(PRODUCT)])
        files = attachments.of_conversation(db, conversation_id) if rows else {}
        out = []
        for r in rows:
            item = {"id": r["id"], "role": r["role"], "text": r["text"], "created_at": r["created_at"]}
            if r["client_id"]:
                item["client_id"] = r["client_id"]
            if r["id"] in files:
                item["attachments"] = files[r["id"]]
            if r["kind"]:
                refs = [{"id": e, "title": titles.get(e, "")} for e in json.loads(r["entry_ids"])]
                for ref in refs:
                    if r["kind"] == "clarify" and ref["id"] in summaries:
                        ref["summary"] = summaries[ref["id"]]
                item["kind"] = r["kind"]
                item["reason"] = r["reason"]
                item["sources" if r["kind"] == "answer" else "choices"] = refs
            out.append(item)
        return out

    def reply_to(self, message_id: int) -> dict | None:
        """The bot's reply to a stored customer message, if it has one (for retried sends)."""
        row = (
            self.store.read()
            .execute("SELECT reply_id, conversation_id FROM decisions WHERE message_id = ?", [message_id])
            .fetchone()
        )
        if row is None or row["reply_id"] is None:
            return None
        items = self.history(row["conversation_id"], after=row["reply_id"] - 1)
        return items[0] if items else None

    def pushed(self, conversation_id: str, after: int) -> tuple[list[dict], dict]:
        """What the open widget's stream sends: the owner's replies and the notices after message
        ``after`` (the customer's own messages and the bot's replies reach it with its request),
        and the conversation's status and unread count."""
        said = [m for m in self.history(conversation_id, after) if m["role"] in {Role.OWNER, Role.SYSTEM}]
        return said, self.summary(conversation_id)

    def summary(self, conversation_id: str) -> dict:
        """Status, contact, rating and unread count (owner replies the visitor hasn't seen)."""
        db = self.store.read()
        row = db.execute(
            "SELECT status, lang, contact_email, contact_phone, rating, visitor_seen_message_id, owner_seen_message_id "
            "FROM conversations WHERE id = ?",
            [conversation_id],
        ).fetchone()
        unread = db.execute(
            "SELECT count(*) FROM messages WHERE conversation_id = ? AND role = ? AND id > ?",
            [conversation_id, Role.OWNER, row["visitor_seen_message_id"]],
        ).fetchone()[0]
        return {
            "status": row["status"],
            "lang": row["lang"],
            "has_contact": bool(row["contact_email"] or row["contact_phone"]),
            "rated": row["rating"] is not None,
            "unread": unread,
            "seen_by_owner": row["owner_seen_message_id"],
        }

    def for_visitor(self, visitor_id: str, limit: int = 50) -> list[dict]:
        rows = (
            self.store.read()
            .execute(
                "SELECT id, status, updated_at FROM conversations WHERE visitor_id = ? ORDER BY updated_at DESC LIMIT ?",
                [visitor_id, limit],
            )
            .fetchall()
        )
        return [
            {
                "id": r["id"],
                "status": r["status"],
                "updated_at": r["updated_at"],
                "unread": self.summary(r["id"])["unread"],
            }
            for r in rows
        ]

    def transcript(self, conversation_id: str) -> list[dict[str, Any]]:
        """Every message with the bot's decision on it (on a bot's reply), and why the bot decided
        as it did on a customer's message (``asked_reason``, and the choices it ``offered``), for
        the owner; ``pressed``: the button a customer's message stands for (None: typed)."""
        rows = (
            self.store.read()
            .execute(
                "SELECT m.id, m.role, m.text, m.pressed, m.created_at, d.id AS decision_id, d.kind, d.reason, "
                "d.confidence, d.entry_ids, d.composed_by, d.verdict, asked.reason AS asked_reason, "
                "asked.kind AS asked_kind, asked.scores AS asked_scores, asked.entry_ids AS asked_entry_ids "
                "FROM messages m LEFT JOIN decisions d ON d.reply_id = m.id "
                "LEFT JOIN decisions asked ON asked.message_id = m.id "
                "WHERE m.conversation_id = ? ORDER BY m.id",
                [conversation_id],
            )
            .fetchall()
        )
        files = attachments.of_conversation(self.store.read(), conversation_id)
        out = []
        for r in rows:
            item = dict(r)
            item["attachments"] = files.get(r["id"], [])
            item["entry_ids"] = json.loads(r["entry_ids"]) if r["entry_ids"] else []
            # The entries the bot ranked first for a customer's question: the owner's one-click
            # "this is the entry that answers it".
            scores = json.loads(item.pop("asked_scores") or "{}")
            item["ranking"] = scores.get("ranking", []) if isinstance(scores, dict) else []
            # The choices the bot offered this customer for this question ("which one do you mean?").
            offered = json.loads(item.pop("asked_entry_ids") or "[]")
            item["offered"] = offered if r["asked_kind"] == "clarify" else []
            out.append(item)
        return out

    def notes(self, conversation_id: str) -> list[Any]:
        return (
            self.store.read()
            .execute("SELECT text, created_at FROM notes WHERE conversation_id = ? ORDER BY id", [conversation_id])
            .fetchall()
        )

    def unanswered(self, since: str) -> list[Any]:
        """Customer messages with neither a reply nor an escalation (the process was stopped while
        the bot was answering), in conversations the bot still has."""
        return (
            self.store.read()
            .execute(
                "SELECT m.id, m.conversation_id, m.text FROM messages m JOIN conversations c ON c.id = m.conversation_id "
                "WHERE m.role = ? AND m.created_at >= ? AND c.status != ? "
                "AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.message_id = m.id) ORDER BY m.id",
                [Role.CUSTOMER, since, Status.HUMAN],
            )
            .fetchall()
        )

    # -- the owner's lists ---------------------------------------------------------------------

    def waiting_count(self) -> int:
        """Customers waiting for the owner: the one figure the badge, home page, inbox and digest show."""
        return (
            self.store.read()
            .execute("SELECT count(*) FROM conversations c WHERE c.status = ? AND " + CUSTOMERS_ONLY, [Status.WAITING])
            .fetchone()[0]
        )

    def counts_by_status(self) -> dict[str, int]:
        rows = (
            self.store.read()
            .execute("SELECT c.status, count(*) FROM conversations c WHERE " + CUSTOMERS_ONLY + " GROUP BY c.status")
            .fetchall()
        )
        return {r[0]: r[1] for r in rows}

    def counts_by_channel(self, since: str) -> dict[str, int]:
        """Customers' conversations started since ``since``, by channel (the channels page)."""
        rows = (
            self.store.read()
            .execute(
                "SELECT c.channel, count(*) FROM conversations c WHERE c.created_at >= ? AND "
                + CUSTOMERS_ONLY
                + " GROUP BY c.channel",
                [since],
            )
            .fetchall()
        )
        return {r[0]: r[1] for r in rows}

    def inbox(self, view: str, search: str = "", limit: int = 200) -> list[Any]:
        """One of ``VIEWS``, newest activity first (oldest first for "waiting"), with the
        customer's last question (``last``: what they typed, never a button's words; None if they
        only pressed one, ``pressed`` says which), why the bot escalated and how long the customer
        has waited;
        ``search`` keeps conversations with a message containing it."""
        statuses, order = VIEWS[view]
        params: list[Any] = [self._now(), *statuses]
        where = f"c.status IN ({', '.join('?' * len(statuses))})"
        if search.strip():
            where += " AND c.id IN (SELECT conversation_id FROM messages WHERE text LIKE ? ESCAPE '\\')"
            escaped = search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params.append(f"%{escaped}%")
        return (
            self.store.read()
            .execute(
                "SELECT c.id, c.status, c.lang, c.channel, c.updated_at, c.contact_email, c.contact_phone, "
                "(strftime('%s', ?) - strftime('%s', c.updated_at)) / 60 AS waited_minutes, "
                "(SELECT text FROM messages m WHERE m.conversation_id = c.id AND m.role = 'customer' "
                " AND m.pressed IS NULL ORDER BY m.id DESC LIMIT 1) AS last, "
                "(SELECT pressed FROM messages m WHERE m.conversation_id = c.id AND m.role = 'customer' "
                " ORDER BY m.id DESC LIMIT 1) AS pressed, "
                "(SELECT reason FROM decisions d WHERE d.conversation_id = c.id AND d.kind = 'escalate' "
                " ORDER BY d.id DESC LIMIT 1) AS reason, "
                # the entry the bot ranked first for the question it handed over: its best guess
                "(SELECT json_extract(d.scores, '$.ranking[0]') FROM decisions d WHERE d.conversation_id = c.id "
                " AND d.kind = 'escalate' AND json_valid(d.scores) ORDER BY d.id DESC LIMIT 1) AS guess "
                f"FROM conversations c WHERE {CUSTOMERS_ONLY} AND {where} ORDER BY c.{order} LIMIT ?",
                [*params, limit],
            )
            .fetchall()
        )

    def figures(self, since: str, until: str | None = None) -> dict[str, int]:
        """New conversations and the bot's decisions in [since, until), and who waits now: the
        admin home's last 24 hours and the morning digest."""
        until = until or "9999"
        db = self.store.read()
        kinds = dict(
            db.execute(
                "SELECT d.kind, count(*) FROM decisions d JOIN conversations c ON c.id = d.conversation_id "
                "WHERE d.created_at >= ? AND d.created_at < ? AND " + CUSTOMERS_ONLY + " GROUP BY d.kind",
                [since, until],
            ).fetchall()
        )
        started = db.execute(
            "SELECT count(*) FROM conversations c WHERE c.created_at >= ? AND c.created_at < ? AND " + CUSTOMERS_ONLY,
            [since, until],
        ).fetchone()[0]
        return {
            "conversations": started,
            "answered": kinds.get("answer", 0),
            "clarified": kinds.get("clarify", 0),
            "escalated": kinds.get("escalate", 0),
            "waiting": self.waiting_count(),
        }

    def week_of_answers(self, since: str) -> dict[str, int]:
        """What the bot did with customers' questions since then, for the owner's page: answered,
        offered choices (and how often a customer picked one), handed over, and the owner's marks
        on its answers."""
        db = self.store.read()
        rows = db.execute(
            "SELECT d.kind, d.reason, d.verdict FROM decisions d JOIN conversations c ON c.id = d.conversation_id "
            "WHERE d.created_at >= ? AND " + CUSTOMERS_ONLY,
            [since],
        ).fetchall()
        picked = sum(r["reason"] == "chosen_by_customer" for r in rows)
        return {
            "answered": sum(r["kind"] == "answer" for r in rows) - picked,
            "offered": sum(r["kind"] == "clarify" for r in rows),
            "picked": picked,
            "handed_over": sum(r["kind"] == "escalate" for r in rows),
            "marked_right": sum(r["verdict"] == "right" for r in rows),
            "marked_wrong": sum(r["verdict"] == "wrong" for r in rows),
        }

    def recent_confidences(self, since: str, limit: int = 2000) -> list[dict[str, Any]]:
        """The knowledge-base decisions since then with the confidence they were made at and the
        owner's mark, newest first: what the safety dial would have done with them."""
        rows = (
            self.store.read()
            .execute(
                "SELECT d.confidence, d.verdict FROM decisions d JOIN conversations c ON c.id = d.conversation_id "
                "WHERE d.created_at >= ? AND d.confidence IS NOT NULL AND d.reason IN "
                "('confident', 'close_candidates', 'no_match', 'follow_up', 'follow_up_choices') AND "
                + CUSTOMERS_ONLY
                + " ORDER BY d.id DESC LIMIT ?",
                [since, limit],
            )
            .fetchall()
        )
        return [{"confidence": float(r["confidence"]), "verdict": r["verdict"]} for r in rows]

    def unsure_questions(self, since: str, until: str | None = None, limit: int = -1) -> list[str]:
        """Customers' questions the knowledge base had no sure answer to (not requests for a
        person), newest first: the digest's top questions."""
        return [text for text, _ in self.unsure_asked(since, until, limit)]

    def unsure_asked(self, since: str, until: str | None = None, limit: int = -1) -> list[tuple[str, str]]:
        """The same questions, each with the entry the bot ranked first for it ("" if none): the
        admin's knowledge gaps ask whether that entry answers them before suggesting a new one."""
        rows = (
            self.store.read()
            .execute(
                "SELECT m.text, d.scores FROM decisions d JOIN messages m ON m.id = d.message_id "
                "JOIN conversations c ON c.id = d.conversation_id "
                f"WHERE {CUSTOMERS_ONLY} AND d.reason IN {UNSURE} AND d.created_at >= ? AND d.created_at < ? "
                "ORDER BY d.id DESC LIMIT ?",
                [since, until or "9999", limit],
            )
            .fetchall()
        )
        out = []
        for text, scores in rows:
            ranking = (json.loads(scores or "{}") or {}).get("ranking") or [""]
            out.append((text, str(ranking[0])))
        return out

    def least_sure_answers(self, since: str, limit: int = 10) -> list[dict[str, Any]]:
        """The bot's answers to customers since ``since`` that it was least sure of and the owner
        has not marked yet, those the customer said didn't help first, then the least sure: the
        owner's review list (a wrong one, marked, makes the next calibration more careful)."""
        rows = (
            self.store.read()
            .execute(
                "SELECT d.id, d.conversation_id, d.query, d.confidence, d.entry_ids, d.created_at, "
                "d.customer_verdict FROM decisions d JOIN conversations c ON c.id = d.conversation_id "
                # A product's answer is the catalog's, not the calibrated decision's: nothing to mark.
                f"WHERE {CUSTOMERS_ONLY} AND d.kind = 'answer' AND d.reason NOT IN ('chosen_by_customer', 'product') "
                "AND d.verdict IS NULL AND d.confidence IS NOT NULL AND d.created_at >= ? "
                # Those a customer said didn't help first, then the least sure.
                "ORDER BY (d.customer_verdict = 'unhelpful') DESC, d.confidence, d.id DESC LIMIT ?",
                [since, limit],
            )
            .fetchall()
        )
        out = []
        for r in rows:
            item = dict(r)
            ids = json.loads(item.pop("entry_ids") or "[]")
            item["entry_id"] = ids[0] if ids else ""
            out.append(item)
        return out

    def last_unsure_id(self) -> int:
        """Changes when a new unsure question arrives (the gaps' cache key)."""
        return (
            self.store.read()
            .execute(f"SELECT coalesce(max(id), 0) FROM decisions WHERE reason IN {UNSURE}")
            .fetchone()[0]
        )

    # -- a customer's data (conversations/privacy.py) ----------------------------------------------------------

    def of_visitor(self, conversation_id: str) -> list[str]:
        """This conversation and the other conversations of its visitor (the same browser, proven
        by the visitor's token), oldest first; [] for an unknown conversation."""
        db = self.store.read()
        row = db.execute("SELECT visitor_id FROM conversations WHERE id = ?", [conversation_id]).fetchone()
        if row is None:
            return []
        if row[0] is None:
            return [conversation_id]
        rows = db.execute("SELECT id FROM conversations WHERE visitor_id = ? ORDER BY created_at, id", [row[0]])
        return [r[0] for r in rows]

    def with_contact(self, email: str = "", phone: str = "") -> list[str]:
        """Conversations that left this e-mail address (any case) or phone number (contact.phone's
        form). Unverified: anyone may have typed them, so only ever used as an explicit choice."""
        if not email and not phone:
            return []
        rows = self.store.read().execute(
            "SELECT id FROM conversations WHERE (? != '' AND contact_email != '' AND lower(contact_email) = lower(?)) "
            "OR (? != '' AND contact_phone = ?) ORDER BY created_at, id",
            [email, email, phone, phone],
        )
        return [r[0] for r in rows]

    def export(self, ids: list[str]) -> list[dict[str, Any]]:
        """Everything stored about these conversations that the customer wrote or was told."""
        db = self.store.read()
        out = []
        for cid in ids:
            conv = dict(
                db.execute(
                    "SELECT id, created_at, updated_at, status, lang, channel, channel_ref, contact_email, "
                    "contact_phone, rating, rating_comment FROM conversations WHERE id = ?",
                    [cid],
                ).fetchone()
            )
            files = attachments.of_conversation(db, cid)
            conv["messages"] = [
                {
                    "role": r["role"],
                    "text": r["text"],
                    "created_at": r["created_at"],
                    # What was sent, by name and type (the files themselves are in the chat).
                    **(
                        {"attachments": [{k: f[k] for k in ("name", "mime", "size")} for f in files[r["id"]]]}
                        if r["id"] in files
                        else {}
                    ),
                }
                for r in db.execute(
                    "SELECT id, role, text, created_at FROM messages WHERE conversation_id = ? AND role != ? "
                    "ORDER BY id",
                    [cid, Role.SYSTEM],
                )
            ]
            out.append(conv)
        return out


def held(query: str) -> Decision:
    """The decision recorded when a person has the conversation: the bot says nothing."""
    from appliance.text.textnorm import detect_language

    return Decision("held", "owner_in_conversation", detect_language(query), query)


def _forget_lone_visitors(db: Any) -> None:
    db.execute(
        "DELETE FROM visitors WHERE id NOT IN (SELECT visitor_id FROM conversations WHERE visitor_id IS NOT NULL)"
    )


def mark_answer(
    conversations: Conversations, calibration: Keeper, conversation_id: str, decision_id: str, verdict: str
) -> bool:
    """The owner's right/wrong (``verdict`` empty: no mark) on one of the bot's answers in this
    conversation, as the admin's forms send it, and a new fit of the shop's calibration with it.
    False, with nothing changed, for anything else: no such answer in this conversation, a
    decision id that isn't a number, an unknown verdict."""
    try:
        found = conversations.set_verdict(conversation_id, int(decision_id), verdict or None)
    except ValueError:
        return False
    if found:
        calibration.evidence_changed()
    return found


def owner_verdicts(db: Any, limit: int = 300) -> list[tuple[str, str, str]]:
    """(question, entry id, right | wrong) of the bot's answers the owner marked, newest first:
    real questions for the shop's calibration (read by its fitting process, so a plain reader)."""
    rows = db.execute(
        "SELECT query, entry_ids, verdict FROM decisions WHERE verdict IS NOT NULL AND kind = 'answer' "
        "ORDER BY id DESC LIMIT ?",
        [limit],
    ).fetchall()
    out = []
    for query, entry_ids, verdict in rows:
        ids = json.loads(entry_ids or "[]")
        # One entry only: a mark on an answer joined from two (entry_check.py) doesn't say which
        # of the two was right or wrong.
        if len(ids) == 1:
            out.append((str(query), str(ids[0]), str(verdict)))
    return out
