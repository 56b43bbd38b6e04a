"""Knowledge-base entries: validation, storage with history, and indexing in the same transaction.

An entry is the owner's answer to one kind of question, with the phrasings customers use for it.
Saving is idempotent by id (importing the same file twice changes nothing the second time), and
every change is indexed (FTS5 text, embeddings) and recorded in ``kb_history`` in the transaction
that makes it, so the index can never disagree with the entries.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from appliance.db import Store
from appliance.kb import index as kb_index
from appliance.kb.embedder import Embedder
from appliance.kb.entry import Entry, check_unique
from appliance.text.textnorm import normalize

# -- reading ------------------------------------------------------------------------------------


def _row_to_entry(db: Database, row: Any) -> Entry:
    questions = [
        r[0] for r in db.execute("SELECT text FROM kb_phrasings WHERE entry_id = ? ORDER BY position", [row["id"]])
    ]
    return Entry(
        row["id"], row["title"], row["answer"], row["lang"], questions, json.loads(row["tags"]), bool(row["enabled"])
    )


def get(db: Database, entry_id: str) -> Entry | None:
    row = db.execute("SELECT * FROM kb_entries WHERE id = ?", [entry_id]).fetchone()
    return _row_to_entry(db, row) if row else None


def all_entries(db: Database) -> list[Entry]:
    rows = db.execute("SELECT * FROM kb_entries ORDER BY created_at, id").fetchall()
    return [_row_to_entry(db, r) for r in rows]


def titles(db: Database, ids: list[str]) -> dict[str, str]:
    """Entry id -> title, for the entries of these ids that exist."""
    if not ids:
        return {}
    rows = db.execute(f"SELECT id, title FROM kb_entries WHERE id IN ({', '.join('?' * len(ids))})", ids).fetchall()
    return {r[0]: r[1] for r in rows}


def first_sentences(db: Database, ids: list[str]) -> dict[str, str]:
    """Entry id -> its answer's first sentence (what a choice shows under its title)."""
    if not ids:
        return {}
    rows = db.execute(f"SELECT id, answer FROM kb_entries WHERE id IN ({', '.join('?' * len(ids))})", ids).fetchall()
    return {r[0]: kb_index.first_sentence(r[1]) for r in rows}


def search(db: Database, query: str, limit: int = 200) -> list[Entry]:
    """Entries whose title, phrasings or answer contain the text (normalised, as the index is)."""
    norm = normalize(query)
    if len(norm) >= 3:  # the trigram index finds substrings of three characters or more
        ids = [entry_id for entry_id, _ in kb_index.fts_search(db, '"' + norm.replace('"', '""') + '"', limit)]
        rows = db.execute(f"SELECT * FROM kb_entries WHERE id IN ({', '.join('?' * len(ids))})", ids).fetchall()
        by_id = {r["id"]: r for r in rows}
        return [_row_to_entry(db, by_id[i]) for i in ids if i in by_id]  # best match first
    like = "%" + norm.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = db.execute(
        "SELECT * FROM kb_entries WHERE lower(title) LIKE ? ESCAPE '\\' ORDER BY title LIMIT ?", [like, limit]
    ).fetchall()
    return [_row_to_entry(db, r) for r in rows]


def count(db: Database, *, enabled_only: bool = False) -> int:
    sql = "SELECT count(*) FROM kb_entries" + (" WHERE enabled = 1" if enabled_only else "")
    return db.execute(sql).fetchone()[0]


def history(db: Database, entry_id: str) -> list[dict[str, Any]]:
    rows = db.execute(
        "SELECT action, snapshot, source, changed_at FROM kb_history WHERE entry_id = ? ORDER BY id",
        [entry_id],
    ).fetchall()
    return [
        {
            "action": r["action"],
            "entry": json.loads(r["snapshot"]),
            "source": r["source"],
            "changed_at": r["changed_at"],
        }
        for r in rows
    ]


# -- writing ------------------------------------------------------------------------------------


@dataclass
class SaveResult:
    created: int = 0
    unchanged: int = 0
    removed: int = 0
    updated_ids: set[str] = field(default_factory=set)  # which existing entries changed

    @property
    def updated(self) -> int:
        return len(self.updated_ids)


def save(
    store: Store,
    entries: list[Entry],
    *,
    embedder: Embedder,
    now: str,
    source: str = "",
    remove: Iterable[str] = (),
    then: Callable[[Database], None] | None = None,
) -> SaveResult:
    """Create or update entries, all or nothing. Embeddings are computed before the transaction
    (the slow part) so the writer lock is held only for the inserts. ``remove``: entries to
    delete in the same transaction (a document's sections that are gone); ``then`` writes the
    caller's own rows in it too (the document's), so the two can never disagree."""
    check_unique(entries, [e.id for e in entries])
    reader = store.read()
    existing = {e.id: get(reader, e.id) for e in entries}
    changed = [e for e in entries if existing[e.id] != e]
    prepared = kb_index.prepare(changed, embedder)
    result = SaveResult(unchanged=len(entries) - len(changed))
    with store.write() as db:
        for entry in changed:
            is_new = db.execute("SELECT 1 FROM kb_entries WHERE id = ?", [entry.id]).fetchone() is None
            _write_row(db, entry, now, source, is_new)
            kb_index.write(db, entry, prepared[entry.id], embedder.name)
            _record(db, entry, "create" if is_new else "update", source, now)
            if is_new:
                result.created += 1
            else:
                result.updated_ids.add(entry.id)
        for entry_id in remove:
            result.removed += delete_in(db, entry_id, now=now, source=source)
        if changed or result.removed:
            kb_index.bump_version(db)
        if then is not None:
            then(db)
    return result


def _write_row(db: Database, e: Entry, now: str, source: str, is_new: bool) -> None:
    values = [e.title, e.answer, e.lang, json.dumps(e.tags, ensure_ascii=False), int(e.enabled)]
    if is_new:
        db.execute(
            "INSERT INTO kb_entries (id, title, answer, lang, tags, enabled, source, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [e.id, *values, source, now, now],
        )
    else:
        db.execute(
            "UPDATE kb_entries SET title = ?, answer = ?, lang = ?, tags = ?, enabled = ?, updated_at = ? WHERE id = ?",
            [*values, now, e.id],
        )
        db.execute("DELETE FROM kb_phrasings WHERE entry_id = ?", [e.id])
    db.conn.executemany(
        "INSERT INTO kb_phrasings (entry_id, text, position) VALUES (?, ?, ?)",
        [(e.id, q, i) for i, q in enumerate(e.questions)],
    )


def _record(db: Database, entry: Entry, action: str, source: str, now: str) -> None:
    db.execute(
        "INSERT INTO kb_history (entry_id, action, snapshot, source, changed_at) VALUES (?, ?, ?, ?, ?)",
        [entry.id, action, json.dumps(entry.to_dict(), ensure_ascii=False), source, now],
    )


def delete(store: Store, entry_id: str, *, now: str, source: str = "") -> bool:
    with store.write() as db:
        return delete_in(db, entry_id, now=now, source=source)


def delete_in(db: Database, entry_id: str, *, now: str, source: str = "") -> bool:
    """Delete an entry inside the caller's write transaction (recorded, index updated)."""
    entry = get(db, entry_id)
    if entry is None:
        return False
    kb_index.remove(db, entry_id)
    db.execute("DELETE FROM kb_entries WHERE id = ?", [entry_id])
    _record(db, entry, "delete", source, now)
    kb_index.bump_version(db)
    return True


def ensure_indexed(store: Store, *, embedder: Embedder) -> int:
    """Index entries that have no vectors from this embedder (after an upgrade, or an embedder
    change); cheap when everything is indexed. Returns how many were indexed."""
    reader = store.read()
    ids = kb_index.unindexed(reader, embedder.name)
    if not ids:
        return 0
    return _index(store, [e for e in (get(reader, i) for i in ids) if e is not None], embedder)


def reindex(store: Store, *, embedder: Embedder) -> int:
    """Rebuild every entry's passages, vectors and FTS row (after an upgrade or an embedder change)."""
    return _index(store, all_entries(store.read()), embedder, everything=True)


def _index(store: Store, entries: list[Entry], embedder: Embedder, *, everything: bool = False) -> int:
    """Embed outside the transaction, then write the entries' index rows in one. ``everything``
    also drops FTS rows of entries that no longer exist."""
    prepared = kb_index.prepare(entries, embedder)
    with store.write() as db:
        if everything:
            kb_index.clear_text_index(db)
        for entry in entries:
            kb_index.write(db, entry, prepared[entry.id], embedder.name)
        kb_index.bump_version(db)
    return len(entries)
