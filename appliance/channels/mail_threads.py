"""Which e-mail conversation an e-mail belongs to, and the thread a reply continues: the one
module that reads and writes ``mail_ids`` (the Message-IDs of every e-mail in an e-mail
conversation, the customer's and ours, with their text for the quote under the next reply)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from appliance.db import Store

# A reply's References keep the thread's first e-mail and the latest ones (RFC 5322 allows
# trimming the middle): a long thread doesn't grow a header past what servers accept.
MAX_REFERENCES = 10


@dataclass(frozen=True)
class Said:
    message_id: str
    incoming: bool
    sender: str
    subject: str
    body: str
    sent_at: str


def conversation_of(db: Any, message_ids: list[str] | tuple[str, ...]) -> str | None:
    """The conversation of the latest of these e-mails that we know (a customer's reply names
    the e-mails it answers), or None."""
    if not message_ids:
        return None
    marks = ", ".join("?" * len(message_ids))
    row = db.execute(
        f"SELECT conversation_id FROM mail_ids WHERE message_id IN ({marks}) ORDER BY created_at DESC, rowid DESC "
        "LIMIT 1",
        list(message_ids),
    ).fetchone()
    return str(row[0]) if row is not None else None


def known(db: Any, message_id: str) -> bool:
    return db.execute("SELECT 1 FROM mail_ids WHERE message_id = ?", [message_id]).fetchone() is not None


def remember(
    db: Any,
    message_id: str,
    conversation_id: str,
    *,
    incoming: bool,
    now: str,
    sender: str = "",
    subject: str = "",
    body: str = "",
    sent_at: str = "",
) -> None:
    """Inside the caller's write transaction; a Message-ID seen again is left as it was."""
    db.execute(
        "INSERT INTO mail_ids (message_id, conversation_id, incoming, sender, subject, body, sent_at, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(message_id) DO NOTHING",
        [message_id, conversation_id, int(incoming), sender, subject, body, sent_at or now, now],
    )


def thread(store: Store, conversation_id: str) -> list[Said]:
    """The conversation's e-mails, oldest first."""
    rows = (
        store.read()
        .execute(
            "SELECT message_id, incoming, sender, subject, body, sent_at FROM mail_ids WHERE conversation_id = ? "
            "ORDER BY created_at, rowid",
            [conversation_id],
        )
        .fetchall()
    )
    return [Said(r[0], bool(r[1]), r[2], r[3], r[4], r[5]) for r in rows]


def references(said: list[Said]) -> str:
    ids = [s.message_id for s in said]
    if len(ids) > MAX_REFERENCES:
        ids = ids[:1] + ids[-(MAX_REFERENCES - 1) :]
    return " ".join(ids)
