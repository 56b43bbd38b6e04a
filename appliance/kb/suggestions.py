"""Learning from use, with the owner in control: wordings customers really used for an entry.

An owner writes one or two phrasings an entry; customers ask in a dozen ways. Each real
conversation can say which entry a customer's words meant:

- the customer **picked** an entry among the offered choices: their question is *suggested* as a
  phrasing of it, and waits for the owner's one-click yes (a customer must never be able to teach
  the bot: whatever they type, nothing reaches the knowledge base without the owner);
- the **owner picked** the entry that answers a handed-over question (or one the bot answered
  wrongly) in the transcript: the owner's pick is the approval, the phrasing is added at once.

An added phrasing changes the knowledge base, so retrieval reads it and the shop's calibration is
fitted again (shop_calibration.Keeper), with these real questions among its examples. This module
is the only one that reads or writes ``kb_suggestions``; phrasings are written through ``kb.save``.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from appliance.db import Store
from appliance.kb import store as kb
from appliance.kb.embedder import Embedder
from appliance.kb.entry import MAX_PHRASING, MAX_PHRASINGS, Entry
from appliance.text.textnorm import normalize

CUSTOMER_PICK = "customer_pick"
CUSTOMER_HELPED = "customer_helped"  # the customer said the answer to their question helped
OWNER_PICK = "owner_pick"
PENDING, APPROVED, DISMISSED = "pending", "approved", "dismissed"
MIN_WORDS = 2  # "yes", "price?": too little to say what an entry is about


class LearnError(ValueError):
    """Words that can't become a phrasing; ``key`` is the message's i18n key."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key


def _known(entry: Entry) -> set[str]:
    return {normalize(t) for t in (entry.title, *entry.questions)}


def suggest(db: Database, entry_id: str, text: str, *, source: str, conversation_id: str | None, now: str) -> bool:
    """Record a wording for the owner to approve (inside the caller's write transaction).
    False when there is nothing new to suggest: the entry already has it, it was suggested (or
    dismissed) before, or it is too short or too long to be a phrasing."""
    text = " ".join(text.split())
    norm = normalize(text)
    if len(norm.split()) < MIN_WORDS or len(text) > MAX_PHRASING:
        return False
    entry = kb.get(db, entry_id)
    if entry is None or norm in _known(entry):
        return False
    cursor = db.execute(
        "INSERT OR IGNORE INTO kb_suggestions (entry_id, text, norm, source, conversation_id, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [entry_id, text, norm, source, conversation_id, now],
    )
    return cursor.rowcount > 0


def pending(db: Database, limit: int = 50) -> list[dict[str, Any]]:
    rows = db.execute(
        "SELECT s.id, s.entry_id, s.text, s.source, s.created_at, e.title "
        "FROM kb_suggestions s JOIN kb_entries e ON e.id = s.entry_id "
        "WHERE s.status = ? ORDER BY s.id DESC LIMIT ?",
        [PENDING, limit],
    ).fetchall()
    return [dict(r) for r in rows]


def count_pending(db: Database) -> int:
    return int(db.execute("SELECT count(*) FROM kb_suggestions WHERE status = ?", [PENDING]).fetchone()[0])


def _add_phrasing(store: Store, entry_id: str, text: str, *, embedder: Embedder, now: str) -> bool:
    """The entry with one more phrasing, through the knowledge base's own save (indexed, in its
    history); False if it already had those words. Slow (an embedding): call it off the event loop."""
    entry = kb.get(store.read(), entry_id)
    if entry is None:
        raise LearnError("learn.gone", "that entry no longer exists")
    if normalize(text) in _known(entry):
        return False
    if len(entry.questions) >= MAX_PHRASINGS:
        raise LearnError("learn.full", f"this entry already has {MAX_PHRASINGS} phrasings")
    entry.questions.append(text)
    kb.save(store, [entry], embedder=embedder, now=now, source="learned")
    return True


def approve(store: Store, suggestion_id: int, *, embedder: Embedder, now: str) -> str | None:
    """The owner's yes: the wording becomes a phrasing of its entry. Returns the entry's id, or
    None if there is no such pending suggestion."""
    row = (
        store.read()
        .execute("SELECT entry_id, text FROM kb_suggestions WHERE id = ? AND status = ?", [suggestion_id, PENDING])
        .fetchone()
    )
    if row is None:
        return None
    _add_phrasing(store, row["entry_id"], row["text"], embedder=embedder, now=now)
    _decide(store, suggestion_id, APPROVED, now)
    return str(row["entry_id"])


def dismiss(store: Store, suggestion_id: int, *, now: str) -> bool:
    """The owner's no: the wording is kept as dismissed, so the same words are not suggested again."""
    return _decide(store, suggestion_id, DISMISSED, now)


def _decide(store: Store, suggestion_id: int, status: str, now: str) -> bool:
    with store.write() as db:
        cursor = db.execute(
            "UPDATE kb_suggestions SET status = ?, decided_at = ? WHERE id = ? AND status = ?",
            [status, now, suggestion_id, PENDING],
        )
        return cursor.rowcount > 0


def learn(store: Store, entry_id: str, text: str, *, conversation_id: str | None, embedder: Embedder, now: str) -> bool:
    """The owner says this customer question is answered by this entry: added at once (the pick
    is the approval) and recorded. False if the entry already had those words."""
    text = " ".join(text.split())
    if kb.get(store.read(), entry_id) is None:  # "gone" before "too long": the pick can't be made at all
        raise LearnError("learn.gone", "that entry no longer exists")
    if not text or len(text) > MAX_PHRASING:
        raise LearnError("learn.too_long", f"a phrasing is at most {MAX_PHRASING} characters")
    if not _add_phrasing(store, entry_id, text, embedder=embedder, now=now):
        return False
    with store.write() as db:
        db.execute(
            "INSERT INTO kb_suggestions (entry_id, text, norm, source, conversation_id, status, created_at, decided_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (entry_id, norm) DO UPDATE SET status = excluded.status, "
            "decided_at = excluded.decided_at",
            [entry_id, text, normalize(text), OWNER_PICK, conversation_id, APPROVED, now, now],
        )
    return True


def learned(db: Database, limit: int = 300) -> list[tuple[str, str]]:
    """(question, entry id) the owner approved, newest first: real questions for the calibration."""
    rows = db.execute(
        "SELECT s.text, s.entry_id FROM kb_suggestions s JOIN kb_entries e ON e.id = s.entry_id "
        "WHERE s.status = ? ORDER BY s.id DESC LIMIT ?",
        [APPROVED, limit],
    ).fetchall()
    return [(r[0], r[1]) for r in rows]
