"""The owner's saved replies: canned answers ("Your parcel left us today.") the inbox's reply box
inserts with one click, to edit before sending.

This module is the only owner of the ``saved_replies`` table. A saved reply is the shop's own
text, never a customer's: nothing here is exported or erased with a customer's data.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from appliance.db import Store

MAX_TITLE = 100  # characters: a button's label in the reply box
MAX_TEXT = 5000  # characters: as long as an owner's reply may be


def all_replies(db: Database) -> list[Any]:
    """Every saved reply (``id``, ``title``, ``text``), by title."""
    return db.execute("SELECT id, title, text FROM saved_replies ORDER BY title").fetchall()


def titles(db: Database) -> list[Any]:
    """Every saved reply's ``id`` and ``title``, by title: the reply box's quick-insert buttons."""
    return db.execute("SELECT id, title FROM saved_replies ORDER BY title").fetchall()


def text_of(db: Database, reply_id: int) -> str | None:
    row = db.execute("SELECT text FROM saved_replies WHERE id = ?", [reply_id]).fetchone()
    return row[0] if row is not None else None


def add(store: Store, title: str, text: str, now: str) -> None:
    with store.write() as db:
        db.execute("INSERT INTO saved_replies (title, text, created_at) VALUES (?, ?, ?)", [title, text, now])


def delete(store: Store, reply_id: int) -> None:
    with store.write() as db:
        db.execute("DELETE FROM saved_replies WHERE id = ?", [reply_id])
