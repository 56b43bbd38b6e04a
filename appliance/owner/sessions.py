"""The owner's sign-in: server-side sessions and CSRF tokens (throttling: owner/throttle.py).

The session cookie carries a random id (HttpOnly, SameSite=Lax, Secure behind HTTPS); the database
keeps only its SHA-256, so a copy of a backup signs nobody in. A new id is issued at every sign-in
(no session fixation). Sessions end after ``IDLE`` without use or ``ABSOLUTE`` at the latest.
Every unsafe admin request must carry the session's CSRF token (form field or the X-CSRF-Token
header htmx sends) and come from this site (Sec-Fetch-Site / Origin).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from appliance.clock import Clock
from appliance.db import Store

COOKIE = "appliance_session"
IDLE = timedelta(hours=12)
ABSOLUTE = timedelta(days=30)


@dataclass
class Session:
    id_hash: str
    csrf_token: str
    expires_at: datetime


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "replace")).hexdigest()


def start(store: Store, clock: Clock, user_agent: str = "", replacing: str | None = None) -> tuple[str, Session]:
    """A fresh session (the old one, if any, is ended: the id changes at every sign-in)."""
    session_id = secrets.token_urlsafe(32)
    now = clock()
    session = Session(_hash(session_id), secrets.token_urlsafe(32), now + IDLE)
    with store.write() as db:
        if replacing:
            db.execute("DELETE FROM sessions WHERE id_hash = ?", [_hash(replacing)])
        db.execute("DELETE FROM sessions WHERE expires_at < ?", [now.isoformat()])
        db.execute(
            "INSERT INTO sessions (id_hash, csrf_token, created_at, last_seen_at, expires_at, user_agent) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                session.id_hash,
                session.csrf_token,
                now.isoformat(),
                now.isoformat(),
                session.expires_at.isoformat(),
                user_agent[:200],
            ],
        )
    return session_id, session


def load(store: Store, session_id: str | None, clock: Clock) -> Session | None:
    """The live session for this cookie, its idle timer renewed; None if missing or expired."""
    if not session_id:
        return None
    row = (
        store.read()
        .execute(
            "SELECT id_hash, csrf_token, created_at, expires_at FROM sessions WHERE id_hash = ?", [_hash(session_id)]
        )
        .fetchone()
    )
    if row is None:
        return None
    now = clock()
    created = datetime.fromisoformat(row["created_at"])
    if datetime.fromisoformat(row["expires_at"]) < now or created + ABSOLUTE < now:
        end(store, session_id)
        return None
    expires = min(now + IDLE, created + ABSOLUTE)
    # Renew at most once a minute: a page of htmx requests shouldn't be a write each.
    if datetime.fromisoformat(row["expires_at"]) < expires - timedelta(minutes=1):
        with store.write() as db:
            db.execute(
                "UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE id_hash = ?",
                [now.isoformat(), expires.isoformat(), row["id_hash"]],
            )
    return Session(row["id_hash"], row["csrf_token"], expires)


def end(store: Store, session_id: str) -> None:
    with store.write() as db:
        db.execute("DELETE FROM sessions WHERE id_hash = ?", [_hash(session_id)])


def end_all(store: Store) -> int:
    """Sign out everywhere (also done when the password changes)."""
    with store.write() as db:
        return db.execute("DELETE FROM sessions").rowcount


def csrf_ok(session: Session, token: str | None) -> bool:
    return token is not None and token != "" and hmac.compare_digest(session.csrf_token, token)
