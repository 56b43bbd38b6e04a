"""The chat service: one customer message in, one stored decision and reply out.

Every path that answers a customer goes through ``ChatService.reply``: the widget's API, the
admin's "try a question" box and `appliance eval`, so what is measured is what customers get.
The customer's message is stored before any work on it, so it is never lost even if the
answer fails.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

import anyio

from .compose import Composer, Reply
from .db import Store
from .decide import Decider, Decision

Clock = Callable[[], datetime]

ANSWERED_KINDS = ("answer", "clarify")
FOLLOW_UP_LOOKBACK = 3  # how many earlier decisions a follow-up question may lean on


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

    def start_conversation(self, *, lang: str = "", channel: str = "widget") -> str:
        conversation_id = secrets.token_urlsafe(16)
        now = self.clock().isoformat()
        with self.store.write() as db:
            db.execute(
                "INSERT INTO conversations (id, lang, channel, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                [conversation_id, lang, channel, now, now],
            )
        return conversation_id

    def previous_question(self, conversation_id: str) -> str | None:
        """The last question the bot could place, for follow-ups ("and to Mashhad?")."""
        rows = self.store.read().execute(
            "SELECT d.kind, m.text FROM decisions d JOIN messages m ON m.id = d.message_id "
            "WHERE d.conversation_id = ? ORDER BY d.id DESC LIMIT ?",
            [conversation_id, FOLLOW_UP_LOOKBACK],
        ).fetchall()
        for row in rows:
            if row["kind"] in ANSWERED_KINDS:
                return row["text"]
        return None

    def _accept(self, conversation_id: str, text: str) -> int:
        text = text.strip()
        if not text:
            raise MessageRejected("empty", "the message is empty")
        if len(text) > self.max_message_chars:
            raise MessageRejected(
                "too_long", f"the message is longer than {self.max_message_chars} characters")
        now = self.clock().isoformat()
        with self.store.write() as db:
            if db.execute("SELECT 1 FROM conversations WHERE id = ?", [conversation_id]).fetchone() is None:
                raise MessageRejected("no_conversation", "unknown conversation")
            cursor = db.execute(
                "INSERT INTO messages (conversation_id, role, text, created_at) VALUES (?, 'customer', ?, ?)",
                [conversation_id, text, now],
            )
            db.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", [now, conversation_id])
            return cursor.lastrowid

    async def reply(self, conversation_id: str, text: str) -> Turn:
        message_id = self._accept(conversation_id, text)
        previous = self.previous_question(conversation_id)
        started = time.perf_counter()
        # Embedding and scoring are CPU work: off the event loop.
        decision = await anyio.to_thread.run_sync(
            lambda: self.decider.decide(text, previous_question=previous))
        decision_ms = (time.perf_counter() - started) * 1000
        reply = await self.composer.compose(decision, text)
        return self._record(conversation_id, message_id, decision, reply, decision_ms)

    async def choose(self, conversation_id: str, entry_id: str, label: str) -> Turn:
        """The customer picked one of the clarifying choices."""
        message_id = self._accept(conversation_id, label)
        started = time.perf_counter()
        decision = self.decider.answer_with(entry_id, label)
        if decision is None:
            raise MessageRejected("no_entry", "that answer no longer exists")
        decision_ms = (time.perf_counter() - started) * 1000
        reply = await self.composer.compose(decision, label)
        return self._record(conversation_id, message_id, decision, reply, decision_ms)

    def _record(self, conversation_id: str, message_id: int, decision: Decision, reply: Reply,
                decision_ms: float) -> Turn:
        now = self.clock().isoformat()
        scores = decision.scores()
        if reply.model_rejected:
            scores["model_rejected"] = reply.model_rejected
        with self.store.write() as db:
            db.execute("UPDATE messages SET lang = ? WHERE id = ?", [decision.lang, message_id])
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
            status = "waiting" if decision.kind == "escalate" else "open"
            db.execute("UPDATE conversations SET status = ?, lang = ?, updated_at = ? WHERE id = ?",
                       [status, decision.lang, now, conversation_id])
        return Turn(message_id, reply_id, decision_id, decision, reply, decision_ms)
