"""Customers' data: retention, export and erasure (by conversation or by contact detail), and
masking personal details in logs.

Deleting leaves no copy in the database file: ``secure_delete`` is on (db.connect) and the WAL is
checkpointed and truncated afterwards. Backups rotate out on their own schedule (backup.py)."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any

from .db import Store

PURGE_BATCH = 500


def _wal_truncate(store: Store) -> None:
    with store._write_lock:  # a checkpoint can't run inside a transaction
        store._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def purge_old(store: Store, now: datetime, days: int) -> int:
    """Delete conversations untouched for ``days`` (0 keeps everything). Returns how many."""
    if days <= 0:
        return 0
    cutoff = (now - timedelta(days=days)).isoformat()
    with store.write() as db:
        deleted = db.execute("DELETE FROM conversations WHERE updated_at < ? AND channel != 'eval'", [cutoff]).rowcount
        db.execute("DELETE FROM visitors WHERE id NOT IN (SELECT visitor_id FROM conversations "
                   "WHERE visitor_id IS NOT NULL)")
    _wal_truncate(store)
    return deleted


def _matching(db: Any, conversation_id: str | None, contact: str | None) -> list[str]:
    if conversation_id:
        rows = db.execute("SELECT id FROM conversations WHERE id = ?", [conversation_id]).fetchall()
    elif contact:
        value = contact.strip()
        digits = re.sub(r"\D", "", value)
        rows = db.execute(
            "SELECT id FROM conversations WHERE (contact_email != '' AND lower(contact_email) = lower(?)) "
            "OR (contact_phone != '' AND contact_phone = ?)", [value, digits or value]).fetchall()
    else:
        raise ValueError("name a conversation or a contact detail")
    return [r[0] for r in rows]


def export_customer(store: Store, *, conversation_id: str | None = None, contact: str | None = None) -> dict[str, Any]:
    """Everything stored about a customer, as JSON-ready data (for a data-access request)."""
    db = store.read()
    out = []
    for cid in _matching(db, conversation_id, contact):
        conv = dict(db.execute(
            "SELECT id, created_at, updated_at, status, lang, contact_email, contact_phone, rating, rating_comment "
            "FROM conversations WHERE id = ?", [cid]).fetchone())
        conv["messages"] = [dict(r) for r in db.execute(
            "SELECT role, text, created_at FROM messages WHERE conversation_id = ? AND role != 'system' ORDER BY id",
            [cid])]
        out.append(conv)
    return {"conversations": out}


def erase_customer(store: Store, *, conversation_id: str | None = None, contact: str | None = None) -> int:
    """Delete a customer's conversations (messages, decisions and notes go with them)."""
    with store.write() as db:
        ids = _matching(db, conversation_id, contact)
        for cid in ids:
            db.execute("DELETE FROM conversations WHERE id = ?", [cid])
        db.execute("DELETE FROM visitors WHERE id NOT IN (SELECT visitor_id FROM conversations "
                   "WHERE visitor_id IS NOT NULL)")
    _wal_truncate(store)
    return len(ids)


# -- logs -----------------------------------------------------------------------------------------

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_CARD = re.compile(r"\b\d(?:[ -]?\d){12,18}\b")
_PHONE = re.compile(r"(?<!\w)(?:\+|00)?\d[\d ()-]{8,16}\d(?!\w)")
_NATIONAL_ID = re.compile(r"(?<!\d)\d{10}(?!\d)")


def _luhn(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return len(digits) >= 13 and total % 10 == 0


def mask(text: str) -> str:
    """Hide e-mail addresses, card numbers (Luhn-checked), phone and national ID numbers."""
    from .textnorm import normalize  # Persian digits -> ASCII so they are caught too

    if any("\u06f0" <= ch <= "\u06f9" or "\u0660" <= ch <= "\u0669" for ch in text):
        text = normalize(text)
    text = _EMAIL.sub("[email]", text)
    text = _CARD.sub(lambda m: "[card]" if _luhn(m.group()) else m.group(), text)
    text = _NATIONAL_ID.sub("[id]", text)
    return _PHONE.sub("[phone]", text)


class MaskingFilter(logging.Filter):
    """Applied to every log record before it is written anywhere."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to logging's own error path
            return True
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
