"""Customers' data: retention, export and erasure (by conversation or by contact detail), and
masking personal details in logs.

Deleting leaves no copy in the database file: ``secure_delete`` is on (db.connect) and the WAL is
checkpointed and truncated afterwards. Backups rotate out on their own schedule (ops/backup.py)."""

from __future__ import annotations

import logging
import re
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from appliance.clock import utc_now
from appliance.conversations import triggers
from appliance.conversations.store import Conversations
from appliance.db import Store
from appliance.orders import store as orders
from appliance.text import contact

PURGE_BATCH = 500


TRIGGER_EVENT_DAYS = 180  # the analytics page looks back 90 days at most


def purge_old(store: Store, now: datetime, days: int) -> int:
    """Delete conversations untouched for ``days`` (0 keeps everything). Returns how many.
    Which visitor saw which proactive message is kept no longer than ``days``, and never longer
    than the figures need, whatever ``days``."""
    keep = min(days, TRIGGER_EVENT_DAYS) if days > 0 else TRIGGER_EVENT_DAYS
    triggers.forget_before(store, (now - timedelta(days=keep)).isoformat())
    if days <= 0:
        return 0
    deleted = Conversations(store, lambda: now).delete_untouched_since((now - timedelta(days=days)).isoformat())
    store.truncate_wal()
    return deleted


def customer_ids(store: Store, *, conversation_id: str | None = None, contact_detail: str | None = None) -> list[str]:
    """Whose data a request covers: a conversation and its visitor's other conversations, or
    (named explicitly by the owner or the operator) every conversation that left an e-mail
    address or phone number, written in any of its forms."""
    conversations = Conversations(store, utc_now)
    if conversation_id:
        return conversations.of_visitor(conversation_id)
    if contact_detail:
        value = contact.normalized(contact_detail)
        return conversations.with_contact(email=value, phone=value)
    raise ValueError("name a conversation or a contact detail")


def export_customer(store: Store, ids: list[str]) -> dict[str, Any]:
    """Everything stored about these conversations, as JSON-ready data (a data-access request):
    their messages and decisions, and the order lookups made in them (the order numbers asked and
    what came of it; the orders themselves are the shop's records, not the conversation's)."""
    db = store.read()
    lookups = [asdict(row) for cid in ids for row in orders.lookups(db, conversation_id=cid, limit=10_000)]
    return {"conversations": Conversations(store, utc_now).export(ids), "order_lookups": lookups}


def erase_customer(store: Store, ids: list[str]) -> int:
    """Delete these conversations (messages, decisions and notes go with them)."""
    Conversations(store, utc_now).delete(ids)
    store.truncate_wal()
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
    from appliance.text.textnorm import normalize  # Persian digits -> ASCII so they are caught too

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
