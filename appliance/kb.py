"""Knowledge-base entries: validation and idempotent storage.

An entry is the owner's answer to one kind of question, with the phrasings customers use for it.
Writing is idempotent by id: importing the same file twice changes nothing the second time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from sqlite_utils import Database

LANGUAGES = ("fa", "en")
MAX_TITLE = 200
MAX_ANSWER = 20_000
MAX_PHRASING = 500


class EntryError(ValueError):
    """An entry is not valid; ``where`` names its line or row in the source file."""

    def __init__(self, where: str, reason: str):
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason


@dataclass
class Entry:
    id: str
    title: str
    answer: str
    lang: str
    questions: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    enabled: bool = True

    @classmethod
    def from_dict(cls, data: Any, where: str) -> "Entry":
        if not isinstance(data, dict):
            raise EntryError(where, "expected an object")
        entry_id = str(data.get("id") or "").strip()
        if not entry_id:
            raise EntryError(where, "missing id")
        answer = str(data.get("answer") or "").strip()
        if not answer:
            raise EntryError(where, "missing answer")
        questions = data.get("questions") or []
        if isinstance(questions, str):
            questions = [questions]
        if not isinstance(questions, list) or not all(isinstance(q, str) for q in questions):
            raise EntryError(where, "questions must be a list of texts")
        questions = [q.strip() for q in questions if q.strip()]
        title = str(data.get("title") or (questions[0] if questions else "")).strip()
        if not title:
            raise EntryError(where, "missing title (or at least one question)")
        lang = str(data.get("lang") or "").strip().lower()
        if lang not in LANGUAGES:
            raise EntryError(where, f"lang must be one of {', '.join(LANGUAGES)}")
        tags = data.get("tags") or []
        if isinstance(tags, str):
            tags = [t.strip() for t in tags.split(",")]
        tags = [str(t).strip() for t in tags if str(t).strip()]
        if len(title) > MAX_TITLE:
            raise EntryError(where, f"title longer than {MAX_TITLE} characters")
        if len(answer) > MAX_ANSWER:
            raise EntryError(where, f"answer longer than {MAX_ANSWER} characters")
        if any(len(q) > MAX_PHRASING for q in questions):
            raise EntryError(where, f"a question is longer than {MAX_PHRASING} characters")
        enabled = data.get("enabled", True)
        return cls(entry_id, title, answer, lang, questions, tags, bool(enabled))


def read_jsonl(path: Path) -> list[Entry]:
    """Parse a JSON Lines knowledge base; the whole file is rejected on the first bad line."""
    entries: list[Entry] = []
    seen: set[str] = set()
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            where = f"{path.name} line {number}"
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise EntryError(where, f"not valid JSON ({exc.msg})") from None
            entry = Entry.from_dict(data, where)
            if entry.id in seen:
                raise EntryError(where, f"duplicate id {entry.id!r}")
            seen.add(entry.id)
            entries.append(entry)
    return entries


def upsert(db: Database, entries: Iterable[Entry], now: str) -> int:
    """Insert or update entries (call inside one write transaction). Returns how many changed."""
    changed = 0
    for e in entries:
        row = db.execute(
            "SELECT title, answer, lang, tags, enabled FROM kb_entries WHERE id = ?", [e.id]
        ).fetchone()
        phrasings = [r[0] for r in db.execute(
            "SELECT text FROM kb_phrasings WHERE entry_id = ? ORDER BY position", [e.id]
        )]
        new = (e.title, e.answer, e.lang, json.dumps(e.tags, ensure_ascii=False), int(e.enabled))
        if row is not None and tuple(row) == new and phrasings == e.questions:
            continue
        if row is None:
            db.execute(
                "INSERT INTO kb_entries (id, title, answer, lang, tags, enabled, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [e.id, *new, now, now],
            )
        else:
            db.execute(
                "UPDATE kb_entries SET title = ?, answer = ?, lang = ?, tags = ?, enabled = ?, "
                "updated_at = ? WHERE id = ?",
                [*new, now, e.id],
            )
            db.execute("DELETE FROM kb_phrasings WHERE entry_id = ?", [e.id])
        db.conn.executemany(
            "INSERT INTO kb_phrasings (entry_id, text, position) VALUES (?, ?, ?)",
            [(e.id, q, i) for i, q in enumerate(e.questions)],
        )
        changed += 1
    return changed


def count(db: Database) -> int:
    return db.execute("SELECT count(*) FROM kb_entries").fetchone()[0]
