"""The chat service: one customer message in, one stored decision and reply out.

Every path that answers a customer goes through ``ChatService.reply``: the widget's API, the
admin's "try a question" box and `appliance eval`, so what is measured is what customers get.
The customer's message is stored before any work on it, so it is never lost even if the
answer fails.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

import anyio

from .compose import Composer, Reply
from .db import Store
from .decide import Decider, Decision
from .textnorm import detect_language, normalize

Clock = Callable[[], datetime]

ANSWERED_KINDS = ("answer", "clarify")
FOLLOW_UP_LOOKBACK = 3  # how many earlier decisions a follow-up question may lean on


# One address, strictly: the local part in RFC 5322's plain characters (no comma: "a,b,c@x.ir"
# became three SMTP recipients; no control characters), a domain of letters, digits and hyphens.
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,63}$")
# C0 control characters but tab and line breaks (a NUL or an escape sequence is never meant
# text: it would reach the admin, logs and exports).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{6,19}$")


class MessageRejected(ValueError):
    """The message can't be accepted (too long, empty, unknown conversation)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass
class Turn:
    message_id: int
    reply_id: int
    decision_id: int
    decision: Decision
    reply: Reply
    decision_ms: float


class ChatService:
    def __init__(self, store: Store, decider: Decider, composer: Composer, clock: Clock, *,
                 max_message_chars: int = 2000):
        self.store = store
        self.decider = decider
        self.composer = composer
        self.clock = clock
        self.max_message_chars = max_message_chars

    def start_conversation(self, *, lang: str = "", channel: str = "widget", visitor_id: str | None = None,
                           consent_at: str | None = None) -> str:
        conversation_id = secrets.token_urlsafe(16)
        now = self.clock().isoformat()
        with self.store.write() as db:
            db.execute(
                "INSERT INTO conversations (id, lang, channel, visitor_id, consent_at, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [conversation_id, lang, channel, visitor_id, consent_at, now, now],
            )
        return conversation_id

    def belongs_to(self, conversation_id: str, visitor_id: str) -> bool:
        row = self.store.read().execute(
            "SELECT 1 FROM conversations WHERE id = ? AND visitor_id = ?", [conversation_id, visitor_id]
        ).fetchone()
        return row is not None

    def previous_question(self, conversation_id: str, before: int | None = None) -> str | None:
        """The last question the bot could place, for follow-ups ("and to Mashhad?")."""
        rows = self.store.read().execute(
            "SELECT d.kind, m.text FROM decisions d JOIN messages m ON m.id = d.message_id "
            "WHERE d.conversation_id = ? AND d.message_id < ? ORDER BY d.id DESC LIMIT ?",
            [conversation_id, before if before is not None else 2**62, FOLLOW_UP_LOOKBACK],
        ).fetchall()
        for row in rows:
            if row["kind"] in ANSWERED_KINDS:
                return row["text"]
        return None

    def message_by_client_id(self, conversation_id: str, client_id: str | None) -> int | None:
        if not client_id:
            return None
        row = self.store.read().execute("SELECT id FROM messages WHERE conversation_id = ? AND client_id = ?",
                                        [conversation_id, client_id]).fetchone()
        return row[0] if row else None

    def accept(self, conversation_id: str, text: str, client_id: str | None = None) -> tuple[int, bool]:
        """Store the customer's message before anything else happens to it.

        Returns (message id, True if this exact message was already stored: a retried send).
        """
        text = _CONTROL.sub("", text).strip()
        if not text:
            raise MessageRejected("empty", "the message is empty")
        if len(text) > self.max_message_chars:
            raise MessageRejected(
                "too_long", f"the message is longer than {self.max_message_chars} characters")
        now = self.clock().isoformat()
        with self.store.write() as db:
            if db.execute("SELECT 1 FROM conversations WHERE id = ?", [conversation_id]).fetchone() is None:
                raise MessageRejected("no_conversation", "unknown conversation")
            if client_id:
                row = db.execute("SELECT id FROM messages WHERE conversation_id = ? AND client_id = ?",
                                 [conversation_id, client_id]).fetchone()
                if row:
                    return row[0], True
            cursor = db.execute(
                "INSERT INTO messages (conversation_id, role, text, client_id, created_at) "
                "VALUES (?, 'customer', ?, ?, ?)",
                [conversation_id, text, client_id, now],
            )
            db.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", [now, conversation_id])
            return cursor.lastrowid, False

    async def reply(self, conversation_id: str, text: str) -> Turn:
        message_id, _ = self.accept(conversation_id, text)
        return await self.answer(conversation_id, message_id, text)

    async def answer(self, conversation_id: str, message_id: int, text: str) -> Turn:
        """Decide and reply to a stored customer message (unless the owner has taken over)."""
        if self.status(conversation_id) == "human":
            return self._record(conversation_id, message_id, self._held(text), Reply("", "none"), 0.0)
        previous = self.previous_question(conversation_id, before=message_id)
        started = time.perf_counter()
        # Embedding and scoring are CPU work: off the event loop.
        decision = await anyio.to_thread.run_sync(
            lambda: self.decider.decide(text, previous_question=previous))
        decision_ms = (time.perf_counter() - started) * 1000
        reply = await self.composer.compose(decision, text)
        return self._record(conversation_id, message_id, decision, reply, decision_ms)

    async def recover_unanswered(self, days: int = 7) -> int:
        """At start: customer messages left with neither reply nor escalation (the power was cut,
        or the process killed, while the bot was answering) are escalated to the owner, so that
        every acknowledged message reaches a person. Returns how many."""
        since = (self.clock() - timedelta(days=days)).isoformat()
        rows = self.store.read().execute(
            "SELECT m.id, m.conversation_id, m.text FROM messages m JOIN conversations c ON c.id = m.conversation_id "
            "WHERE m.role = 'customer' AND m.created_at >= ? AND c.status != 'human' "
            "AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.message_id = m.id) ORDER BY m.id", [since]).fetchall()
        for row in rows:
            decision = Decision("escalate", "interrupted", detect_language(row["text"]), row["text"])
            reply = await self.composer.compose(decision, row["text"])
            self._record(row["conversation_id"], row["id"], decision, reply, 0.0)
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
        message_id, _ = self.accept(conversation_id, label)
        reply = await self.composer.compose(decision, label)
        return self._record(conversation_id, message_id, decision, reply, decision_ms)

    async def handoff(self, conversation_id: str, label: str, lang: str, reason: str = "asked_for_person") -> Turn:
        """The customer pressed "talk to a person" (or "none of these"): escalate, whatever the
        knowledge base says."""
        message_id, _ = self.accept(conversation_id, label)
        decision = Decision("escalate", reason, lang, label)
        reply = await self.composer.compose(decision, label)
        return self._record(conversation_id, message_id, decision, reply, 0.0)

    def history(self, conversation_id: str, after: int = 0) -> list[dict]:
        """The conversation as the customer sees it, with sources and choices of bot replies."""
        db = self.store.read()
        rows = db.execute(
            "SELECT m.id, m.role, m.text, m.created_at, m.client_id, d.kind, d.reason, d.entry_ids "
            "FROM messages m LEFT JOIN decisions d ON d.reply_id = m.id "
            "WHERE m.conversation_id = ? AND m.id > ? ORDER BY m.id",
            [conversation_id, after],
        ).fetchall()
        titles = {r[0]: r[1] for r in db.execute("SELECT id, title FROM kb_entries")}
        out = []
        for r in rows:
            item = {"id": r["id"], "role": r["role"], "text": r["text"], "created_at": r["created_at"]}
            if r["client_id"]:
                item["client_id"] = r["client_id"]
            if r["kind"]:
                refs = [{"id": e, "title": titles.get(e, "")} for e in json.loads(r["entry_ids"])]
                item["kind"] = r["kind"]
                item["reason"] = r["reason"]
                item["sources" if r["kind"] == "answer" else "choices"] = refs
            out.append(item)
        return out

    def reply_to(self, message_id: int) -> dict | None:
        """The bot's reply to a stored customer message, if it has one (for retried sends)."""
        row = self.store.read().execute(
            "SELECT reply_id, conversation_id FROM decisions WHERE message_id = ?", [message_id]).fetchone()
        if row is None or row["reply_id"] is None:
            return None
        items = self.history(row["conversation_id"], after=row["reply_id"] - 1)
        return items[0] if items else None

    def take_over(self, conversation_id: str, on: bool, notice: str) -> None:
        """The owner joins the conversation (the bot stays silent) or hands it back to the bot.
        ``notice`` is what the customer is told, in their language."""
        now = self.clock().isoformat()
        with self.store.write() as db:
            db.execute("UPDATE conversations SET status = ?, updated_at = ? WHERE id = ?",
                       ["human" if on else "open", now, conversation_id])
            db.execute("INSERT INTO messages (conversation_id, role, text, created_at) VALUES (?, 'system', ?, ?)",
                       [conversation_id, notice, now])

    def set_contact(self, conversation_id: str, email: str = "", phone: str = "") -> None:
        """A way to reach the customer (optional; validated; at least one when called)."""
        email = email.strip()
        phone = normalize(phone).replace(" ", "")  # Persian digits -> ASCII
        if not email and not phone:
            raise MessageRejected("no_contact", "give an e-mail address or a phone number")
        if email and (len(email) > 254 or not _EMAIL.match(email)):
            raise MessageRejected("bad_email", "that e-mail address doesn't look right")
        if phone and not _PHONE.match(phone):
            raise MessageRejected("bad_phone", "that phone number doesn't look right")
        with self.store.write() as db:
            db.execute("UPDATE conversations SET contact_email = ?, contact_phone = ?, updated_at = ? "
                       "WHERE id = ?", [email, phone, self.clock().isoformat(), conversation_id])

    def rate(self, conversation_id: str, satisfied: bool, comment: str = "") -> None:
        comment = comment.strip()
        if len(comment) > self.max_message_chars:
            raise MessageRejected("too_long", "the comment is too long")
        with self.store.write() as db:
            db.execute("UPDATE conversations SET rating = ?, rating_comment = ?, updated_at = ? WHERE id = ?",
                       [int(satisfied), comment, self.clock().isoformat(), conversation_id])

    def mark_seen(self, conversation_id: str, message_id: int) -> None:
        with self.store.write() as db:
            db.execute("UPDATE conversations SET visitor_seen_message_id = max(visitor_seen_message_id, ?) "
                       "WHERE id = ?", [message_id, conversation_id])

    def summary(self, conversation_id: str) -> dict:
        """Status, contact, rating and unread count (owner replies the visitor hasn't seen)."""
        db = self.store.read()
        row = db.execute("SELECT status, lang, contact_email, contact_phone, rating, visitor_seen_message_id "
                         "FROM conversations WHERE id = ?", [conversation_id]).fetchone()
        unread = db.execute("SELECT count(*) FROM messages WHERE conversation_id = ? AND role = 'owner' "
                            "AND id > ?", [conversation_id, row["visitor_seen_message_id"]]).fetchone()[0]
        return {"status": row["status"], "lang": row["lang"], "has_contact": bool(row["contact_email"] or row["contact_phone"]),
                "rated": row["rating"] is not None, "unread": unread}

    def status(self, conversation_id: str) -> str | None:
        row = self.store.read().execute("SELECT status FROM conversations WHERE id = ?", [conversation_id]).fetchone()
        return row[0] if row else None

    @staticmethod
    def _held(text: str) -> Decision:
        return Decision("held", "owner_in_conversation", detect_language(text), text)

    def _record(self, conversation_id: str, message_id: int, decision: Decision, reply: Reply,
                decision_ms: float) -> Turn:
        now = self.clock().isoformat()
        with self.store.write() as db:
            # Checked again inside the transaction: if the owner took over while the bot was
            # thinking, the bot's words are dropped. The bot never speaks over a person.
            status = db.execute("SELECT status FROM conversations WHERE id = ?", [conversation_id]).fetchone()[0]
            if status == "human" and decision.kind != "held":
                decision, reply = self._held(decision.query), Reply("", "none")
            scores = decision.scores()
            if reply.model_rejected:
                scores["model_rejected"] = reply.model_rejected
            db.execute("UPDATE messages SET lang = ? WHERE id = ?", [decision.lang, message_id])
            reply_id = None
            if decision.kind != "held":
                reply_id = db.execute(
                    "INSERT INTO messages (conversation_id, role, text, lang, created_at) VALUES (?, 'bot', ?, ?, ?)",
                    [conversation_id, reply.text, decision.lang, now],
                ).lastrowid
            decision_id = db.execute(
                "INSERT INTO decisions (conversation_id, message_id, reply_id, kind, reason, entry_ids, "
                "confidence, scores, query, lang, composed_by, latency_ms, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [conversation_id, message_id, reply_id, decision.kind, decision.reason,
                 json.dumps(decision.entry_ids), decision.confidence,
                 json.dumps(scores, ensure_ascii=False), decision.query, decision.lang,
                 reply.composed_by, round(decision_ms, 3), now],
            ).lastrowid
            # An escalated conversation stays with the owner until they answer it, even if the
            # bot answers another question in the meantime; one the owner took over stays theirs.
            db.execute(
                "UPDATE conversations SET status = CASE WHEN status = 'human' THEN 'human' WHEN ? THEN 'waiting' "
                "WHEN status = 'waiting' THEN 'waiting' ELSE 'open' END, lang = ?, updated_at = ? WHERE id = ?",
                [decision.kind == "escalate", decision.lang, now, conversation_id])
        return Turn(message_id, reply_id, decision_id, decision, reply, decision_ms)
