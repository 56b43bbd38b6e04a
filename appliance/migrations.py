"""Schema migrations: ordered and append-only.

Never edit or reorder a migration that has shipped; add a new one at the end. Each runs in its
own transaction together with the record that it ran (sqlite-utils ``Migrations``), so a failed
migration leaves the database as it was.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("appliance")


@MIGRATIONS(name="0001_initial")
def m0001_initial(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )
        """
    )
    # The single owner account. The row exists once a password has been set.
    db.execute(
        """
        CREATE TABLE owner (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            password_hash TEXT NOT NULL,
            language TEXT NOT NULL DEFAULT 'fa',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """
    )
    # One-time setup links: only the SHA-256 of the token is stored.
    db.execute(
        """
        CREATE TABLE setup_tokens (
            token_hash TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            used_at TEXT
        )
        """
    )
    db.execute(
        """
        CREATE TABLE kb_entries (
            id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            answer TEXT NOT NULL,
            lang TEXT NOT NULL,
            tags TEXT NOT NULL DEFAULT '[]',
            enabled INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE kb_phrasings (
            id INTEGER PRIMARY KEY,
            entry_id TEXT NOT NULL REFERENCES kb_entries(id) ON DELETE CASCADE,
            text TEXT NOT NULL,
            position INTEGER NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX kb_phrasings_entry ON kb_phrasings(entry_id)")
