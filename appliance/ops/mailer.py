"""E-mail through the shop's own SMTP server (or a local relay): owner replies to customers who
left an address, and the replies in an e-mail conversation's thread (their ``headers``). Messages
wait in ``outbox``; a scheduled job sends what is due, retrying with
growing delays, and every failure is kept and shown in the admin: never silent."""

from __future__ import annotations

import json
import smtplib
import ssl
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from appliance.db import Store, inserted_id
from appliance.settings import Settings

RETRY_DELAYS = [
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=12),
]
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
TIMEOUT_S = 20


def configured(settings: Settings) -> bool:
    return bool(settings.smtp_host and settings.smtp_from)


# The headers an e-mail in the outbox may carry of its own (a reply in a customer's thread):
# anything else would be the caller's to set, and From/To/Subject/Date are this module's.
THREAD_HEADERS = ("Message-ID", "In-Reply-To", "References", "Auto-Submitted")


def enqueue(
    store: Store,
    now: datetime,
    *,
    to: str,
    subject: str,
    body: str,
    conversation_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> int:
    with store.write() as db:
        return add(db, now, to=to, subject=subject, body=body, conversation_id=conversation_id, headers=headers)


def add(
    db: Any,
    now: datetime,
    *,
    to: str,
    subject: str,
    body: str,
    conversation_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> int:
    """``enqueue`` inside the caller's write transaction (a channel that marks its place in the
    same one: channels/mail_out.py). ``headers``: THREAD_HEADERS only."""
    unknown = set(headers or {}) - set(THREAD_HEADERS)
    if unknown:
        raise ValueError(f"not a thread header: {sorted(unknown)}")
    return inserted_id(
        db.execute(
            "INSERT INTO outbox (conversation_id, to_addr, subject, body, created_at, next_attempt_at, headers) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                conversation_id,
                to,
                subject,
                body,
                now.isoformat(),
                now.isoformat(),
                json.dumps(headers, ensure_ascii=False) if headers else None,
            ],
        )
    )


def message_id(settings: Settings) -> str:
    """A new Message-ID on the From address's domain (made before sending when the caller must
    remember it: a reply's, for threading)."""
    return make_msgid(domain=_header(settings.smtp_from).rpartition("@")[2].strip(">") or None)


def sent_for(store: Store, conversation_id: str) -> list[Any]:
    """The e-mails to this conversation's customer: queued, sent or failing."""
    return (
        store.read()
        .execute(
            "SELECT to_addr, created_at, sent_at, attempts, last_error FROM outbox "
            "WHERE conversation_id = ? ORDER BY id",
            [conversation_id],
        )
        .fetchall()
    )


def _header(value: str) -> str:
    """One line: a line break in a header value (a shop name, say) would be a header injection,
    and EmailMessage refuses it with a ValueError that stopped every later e-mail."""
    return " ".join(str(value).split())


def _send(settings: Settings, message: EmailMessage) -> None:
    context = ssl.create_default_context()
    if settings.smtp_security == "ssl":
        server: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_S, context=context
        )
    else:
        server = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_S)
    with server:
        if settings.smtp_security == "starttls":
            server.starttls(context=context)
        if settings.smtp_user:
            server.login(settings.smtp_user, settings.smtp_password)
        server.send_message(message)


def _message(
    settings: Settings, to: str, subject: str, body: str, headers: dict[str, str] | None = None
) -> EmailMessage:
    message = EmailMessage()
    sender = _header(settings.smtp_from)
    given = {k: _header(v) for k, v in (headers or {}).items() if k in THREAD_HEADERS and v}
    message["From"] = sender
    message["To"] = _header(to)
    message["Subject"] = _header(subject)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = given.pop("Message-ID", "") or message_id(settings)
    for name, value in given.items():
        message[name] = value
    message.set_content(body)  # text/plain only: nothing in an e-mail can run
    return message


def send_now(settings: Settings, *, to: str, subject: str, body: str) -> None:
    """Send one e-mail at once, not through the outbox: the owner's test e-mail, whose result is
    said on the page. Blocking (a worker thread); raises what the server or the network said
    (smtplib.SMTPException, OSError, ValueError)."""
    _send(settings, _message(settings, to, subject, body))


def deliver_due(store: Store, settings: Settings, clock: Callable[[], datetime]) -> dict[str, int]:
    """Send every message that is due; returns counts. Never raises for a delivery failure."""
    if not configured(settings):
        return {"sent": 0, "failed": 0}
    now = clock()
    due = (
        store.read()
        .execute(
            "SELECT id, to_addr, subject, body, attempts, headers FROM outbox WHERE sent_at IS NULL AND attempts < ? "
            "AND next_attempt_at <= ? ORDER BY id LIMIT 50",
            [MAX_ATTEMPTS, now.isoformat()],
        )
        .fetchall()
    )
    sent = failed = 0
    for row in due:
        try:
            headers = json.loads(row["headers"]) if row["headers"] else None
            _send(settings, _message(settings, row["to_addr"], row["subject"], row["body"], headers))
        except (OSError, smtplib.SMTPException, ValueError) as exc:
            failed += 1
            attempts = row["attempts"] + 1
            delay = RETRY_DELAYS[min(attempts - 1, len(RETRY_DELAYS) - 1)]
            with store.write() as db:
                db.execute(
                    "UPDATE outbox SET attempts = ?, last_error = ?, next_attempt_at = ? WHERE id = ?",
                    [attempts, f"{type(exc).__name__}: {exc}"[:500], (now + delay).isoformat(), row["id"]],
                )
        else:
            sent += 1
            with store.write() as db:
                db.execute(
                    "UPDATE outbox SET attempts = attempts + 1, sent_at = ?, last_error = '' WHERE id = ?",
                    [now.isoformat(), row["id"]],
                )
    return {"sent": sent, "failed": failed}
