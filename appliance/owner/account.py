"""The owner's account: the one-time setup link and the password.

Only the SHA-256 of a setup token is stored, so a copy of the database (a backup) can't be used to
take over the appliance. Argon2 hashing is slow on purpose: call ``hash_password`` and
``verify_password`` from a worker thread, never on the event loop.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from appliance.clock import Clock
from appliance.db import Store

SETUP_LINK_TTL = timedelta(days=7)
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # argon2 accepts anything; cap it so a megabyte "password" costs nothing

_hasher = PasswordHasher()


class SetupError(ValueError):
    """The setup link can't be used; ``code`` is a stable key for translated messages."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def is_set_up(store: Store) -> bool:
    return store.read().execute("SELECT 1 FROM owner WHERE id = 1").fetchone() is not None


def new_setup_token(store: Store, clock: Clock) -> str | None:
    """A fresh one-time setup token, or None once the owner has a password.

    Earlier unused links are revoked: only the link printed last works.
    """
    token = secrets.token_urlsafe(32)
    now = clock()
    with store.write() as db:
        if db.execute("SELECT 1 FROM owner WHERE id = 1").fetchone():
            return None
        db.execute("DELETE FROM setup_tokens WHERE used_at IS NULL")
        db.execute(
            "INSERT INTO setup_tokens (token_hash, created_at, expires_at) VALUES (?, ?, ?)",
            [_token_hash(token), now.isoformat(), (now + SETUP_LINK_TTL).isoformat()],
        )
    return token


def check_setup_token(store: Store, token: str, clock: Clock) -> None:
    """Raise SetupError unless ``token`` is a live setup token."""
    row = (
        store.read()
        .execute("SELECT expires_at, used_at FROM setup_tokens WHERE token_hash = ?", [_token_hash(token)])
        .fetchone()
    )
    _check_row(row, clock)


def _check_row(row, clock: Clock) -> None:
    if row is None:
        raise SetupError("invalid")
    if row["used_at"] is not None:
        raise SetupError("used")
    if datetime.fromisoformat(row["expires_at"]) < clock():
        raise SetupError("expired")


def validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise SetupError("too_short")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise SetupError("too_long")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def complete_setup(store: Store, token: str, password_hash: str, language: str, clock: Clock) -> None:
    """Use the token and create the owner, atomically: a link works exactly once."""
    now = clock().isoformat()
    with store.write() as db:
        row = db.execute(
            "SELECT expires_at, used_at FROM setup_tokens WHERE token_hash = ?", [_token_hash(token)]
        ).fetchone()
        _check_row(row, clock)
        if db.execute("SELECT 1 FROM owner WHERE id = 1").fetchone():
            raise SetupError("used")
        db.execute("UPDATE setup_tokens SET used_at = ? WHERE token_hash = ?", [now, _token_hash(token)])
        db.execute(
            "INSERT INTO owner (id, password_hash, language, created_at, updated_at) VALUES (1, ?, ?, ?, ?)",
            [password_hash, language, now, now],
        )


def password_hash(store: Store) -> str | None:
    row = store.read().execute("SELECT password_hash FROM owner WHERE id = 1").fetchone()
    return row[0] if row else None


def language(store: Store) -> str:
    row = store.read().execute("SELECT language FROM owner WHERE id = 1").fetchone()
    return row[0] if row else "fa"


def set_language(store: Store, lang: str, clock: Clock) -> None:
    with store.write() as db:
        db.execute("UPDATE owner SET language = ?, updated_at = ? WHERE id = 1", [lang, clock().isoformat()])


def set_password(store: Store, new_hash: str, clock: Clock) -> None:
    """Replace the owner's password (``appliance reset-password``) and sign out every session."""
    now = clock().isoformat()
    with store.write() as db:
        if db.execute("SELECT 1 FROM owner WHERE id = 1").fetchone() is None:
            db.execute(
                "INSERT INTO owner (id, password_hash, created_at, updated_at) VALUES (1, ?, ?, ?)",
                [new_hash, now, now],
            )
        else:
            db.execute("UPDATE owner SET password_hash = ?, updated_at = ? WHERE id = 1", [new_hash, now])
        db.execute("DELETE FROM sessions")
        db.execute("DELETE FROM setup_tokens WHERE used_at IS NULL")


def credentials(store: Store) -> dict[str, list[dict[str, Any]]]:
    """The owner's live password and setup-link state, to keep across a restore: a backup from
    before a password change must not bring the old password (or an unused setup link) back."""
    db = store.read()
    return {
        table: [dict(r) for r in db.execute(f"SELECT * FROM {table}").fetchall()] for table in ("owner", "setup_tokens")
    }


def put_back_credentials(store: Store, saved: dict[str, list[dict[str, Any]]]) -> None:
    """After a restore: the live credentials again, and every session ended (the restored
    database's sessions include ones the owner had revoked)."""
    with store.write() as db:
        for table, rows in saved.items():
            db.execute(f"DELETE FROM {table}")
            for row in rows:
                columns = ", ".join(row)
                db.execute(f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
        db.execute("DELETE FROM sessions")
