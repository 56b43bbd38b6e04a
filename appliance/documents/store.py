"""The documents' storage: the only module that reads or writes ``documents`` and
``document_imports``, and the one that knows a document's sections are the entries
``doc-<document>-<n>``.

A section is stored as a knowledge-base entry (kb/store.py saves it, with its history, its index and
its calibration like any answer): the decision picks a section the way it picks an answer, and
the reply cites the document (documents/reply.py). Importing a document again replaces its
sections in one transaction: changed ones are updated, gone ones deleted, each change recorded
in kb_history, and the import in ``document_imports``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlite_utils import Database

from appliance.db import Store
from appliance.documents.extract import Document, Proposal
from appliance.kb import formats as kb_formats
from appliance.kb import index as kb_index
from appliance.kb import store as kb
from appliance.kb.embedder import Embedder
from appliance.kb.entry import Entry
from appliance.text.textnorm import detect_language, normalize

_SECTION_ID = re.compile(r"doc-(\d+)-\d+")
TAG = "document"


@dataclass
class Stored:
    id: int
    source: str
    title: str
    kind: str
    link: str
    lang: str
    sections: int
    chars: int
    updated_at: str
    last_error: str = ""


@dataclass
class Imported:
    document: int
    added: int
    changed: int
    removed: int
    faq_entries: int
    unchanged: int = 0  # sections as they were
    kept: int = 0  # questions approved at an earlier import, left as the owner's entries


def is_section(entry_id: str) -> bool:
    return _SECTION_ID.fullmatch(entry_id) is not None


def section_ids(db: Database, document_id: int) -> list[str]:
    return [
        r[0]
        for r in db.execute(
            "SELECT id FROM kb_entries WHERE id LIKE ? ORDER BY created_at, id", [f"doc-{document_id}-%"]
        )
        if is_section(r[0])
    ]


def entries_for(document_id: int, doc: Document, *, skip: Iterable[str] = ()) -> list[Entry]:
    """The document's sections as entries, except those whose heading the owner took as an entry
    of its own (an approved FAQ proposal: the same words twice would split every match)."""
    taken = {normalize(q) for q in skip}
    lang = doc.lang  # the whole document's, for a section with no letters (computed, so once)
    return [
        Entry(
            id=f"doc-{document_id}-{n}",
            title=s.heading,
            answer=s.text,
            lang=detect_language(s.text, lang),
            tags=[TAG],
        )
        for n, s in enumerate(doc.sections, start=1)
        if normalize(s.heading) not in taken
    ]


def _faq_entries(chosen: list[Proposal], document_id: int) -> list[Entry]:
    """Approved proposals as entries. The id is made from the question, so approving the same
    question after the page changed order updates its entry instead of adding a second one."""
    out, seen = [], set()
    for p in chosen:
        base = faq_id(document_id, p.question)
        entry_id, n = base, 1
        while entry_id in seen:
            n += 1
            entry_id = f"{base}-{n}"
        seen.add(entry_id)
        out.append(proposal_entry(p, entry_id))
    return out


def proposal_entry(p: Proposal, entry_id: str) -> Entry:
    """An approved FAQ proposal: an ordinary entry, the owner's from now on."""
    return Entry(
        id=entry_id,
        title=p.question,
        answer=p.answer,
        lang=detect_language(p.question + " " + p.answer),
        questions=[p.question],
    )


def faq_id(document_id: int, question: str) -> str:
    """The id an approved proposal's entry gets: made from the question, so approving the same
    question again (a re-import, the page in another order) finds the same entry."""
    return f"faq-{document_id}-{kb_formats.slug(question)[:60]}".rstrip("-")


def accepted_before(db: Database, source: str, proposals: list[Proposal]) -> set[int]:
    """The proposals (by index) already in the knowledge base: the entry an earlier import of this
    document made of it is still there, or an entry of the owner's has this same question
    (normalised: letter forms, digits, spacing) as its title or one of its phrasings."""
    known = {
        normalize(r[0])
        for r in db.execute(
            "SELECT title FROM kb_entries WHERE id NOT LIKE 'doc-%' UNION ALL "
            "SELECT text FROM kb_phrasings WHERE entry_id NOT LIKE 'doc-%'"
        )
    }
    before = by_source(db, source)
    ids: set[str] = set()
    if before is not None:
        ids = {r[0] for r in db.execute("SELECT id FROM kb_entries WHERE id LIKE ?", [f"faq-{before.id}-%"])}
    return {
        i
        for i, p in enumerate(proposals)
        if normalize(p.question) in known or (before is not None and faq_id(before.id, p.question) in ids)
    }


Progress = Callable[[str, int, int], None]
EMBED_BATCH = 16  # entries embedded between two progress reports (about a second each)


class _Remembered:
    """An embedder that remembers what it embedded: the import embeds in batches to report its
    progress, then kb.save finds every vector ready. Holds one document's vectors, no more."""

    def __init__(self, embedder: Embedder):
        self.name, self.dim, self._embedder = embedder.name, embedder.dim, embedder
        self._seen: dict[tuple[bool, str], np.ndarray] = {}

    def _vectors(self, texts: Sequence[str], query: bool) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if (query, t) not in self._seen))
        if missing:
            fresh = self._embedder.queries(missing) if query else self._embedder.passages(missing)
            self._seen.update({(query, t): v for t, v in zip(missing, fresh, strict=True)})
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._seen[(query, t)] for t in texts])

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._vectors(texts, True)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._vectors(texts, False)


def _embed_with_progress(store: Store, entries: list[Entry], embedder: Embedder, progress: Progress) -> Embedder:
    """Embed the entries that changed a batch at a time, saying how far it is; the embedder that
    hands those vectors to kb.save."""
    reader = store.read()
    changed = [e for e in entries if kb.get(reader, e.id) != e]
    remembered = _Remembered(embedder)
    progress("embedding", 0, len(changed))
    for start in range(0, len(changed), EMBED_BATCH):
        kb_index.prepare(changed[start : start + EMBED_BATCH], remembered)
        progress("embedding", min(start + EMBED_BATCH, len(changed)), len(changed))
    return remembered


def save(
    store: Store,
    doc: Document,
    *,
    source: str,
    data: bytes,
    embedder: Embedder,
    now: str,
    approved: Iterable[int] = (),
    progress: Progress | None = None,
) -> Imported:
    """Store (or replace) a document's sections, with the FAQ proposals the owner approved (by
    their index in ``doc.proposals``) as entries of their own. All or nothing. ``progress(stage,
    done, total)`` is told how far it is (a thread of its own calls this: it takes a minute for a
    long page)."""
    document_id, is_new = _document_id(store, source, doc, now)
    chosen = [doc.proposals[i] for i in sorted(set(approved)) if 0 <= i < len(doc.proposals)]
    faq = _faq_entries(chosen, document_id)
    # A question approved at an earlier import is an entry already: its section would say it twice.
    earlier = [doc.proposals[i].question for i in accepted_before(store.read(), source, doc.proposals)]
    sections = entries_for(document_id, doc, skip=[p.question for p in chosen] + earlier)
    new_ids = {e.id for e in sections}
    before = set(section_ids(store.read(), document_id))
    gone = [i for i in before if i not in new_ids]
    if progress is not None:
        try:
            embedder = _embed_with_progress(store, sections + faq, embedder, progress)
        except Exception:
            if is_new:
                with store.write() as db:
                    db.execute("DELETE FROM documents WHERE id = ?", [document_id])
            raise
        progress("saving", len(sections) + len(faq), len(sections) + len(faq))
    row = [doc.title, doc.kind, doc.link, doc.lang, len(sections), doc.chars, hashlib.sha256(data).hexdigest(), now]

    def record(db: Database) -> None:
        db.execute(
            "UPDATE documents SET title = ?, kind = ?, link = ?, lang = ?, sections = ?, chars = ?, sha256 = ?, "
            "updated_at = ? WHERE id = ?",
            [*row, document_id],
        )

    try:
        result = kb.save(
            store,
            sections + faq,
            embedder=embedder,
            now=now,
            source=f"document:{document_id}",
            remove=gone,
            then=record,
        )
    except Exception:
        if is_new:  # not left behind as an empty document
            with store.write() as db:
                db.execute("DELETE FROM documents WHERE id = ?", [document_id])
        raise
    changed = len(result.updated_ids & new_ids)  # kb.save compared each with what was stored
    added = len(new_ids - before)
    imported = Imported(
        document_id,
        added,
        changed,
        len(gone),
        len(faq),
        unchanged=len(new_ids) - added - changed,
        kept=len(set(earlier) - {p.question for p in chosen}),
    )
    log_import(store, source, now, imported)
    return imported


def _document_id(store: Store, source: str, doc: Document, now: str) -> tuple[int, bool]:
    """The document's id (its sections' ids are made from it, so it is needed before they are
    saved), and whether it was created just now."""
    with store.write() as db:
        row = db.execute("SELECT id FROM documents WHERE source = ?", [source]).fetchone()
        if row:
            return int(row[0]), False
        cursor = db.execute(
            "INSERT INTO documents (source, title, kind, link, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
            [source, doc.title, doc.kind, doc.link, now, now],
        )
        return int(cursor.lastrowid or 0), True


def log_import(store: Store, source: str, now: str, imported: Imported | None = None, error: str = "") -> None:
    """One line of a document's import history (an error too: a page that could not be fetched)."""
    with store.write() as db:
        row = db.execute("SELECT id FROM documents WHERE source = ?", [source]).fetchone()
        i = imported or Imported(0, 0, 0, 0, 0)
        db.execute(
            "INSERT INTO document_imports (document_id, source, at, added, changed, removed, faq_entries, error) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [row[0] if row else None, source, now, i.added, i.changed, i.removed, i.faq_entries, error[:500]],
        )


def delete(store: Store, document_id: int, *, now: str) -> bool:
    """The document and its sections (recorded in kb_history); entries made from its FAQ stay:
    the owner approved them, they are the owner's now."""
    reader = store.read()
    if reader.execute("SELECT 1 FROM documents WHERE id = ?", [document_id]).fetchone() is None:
        return False
    ids = section_ids(reader, document_id)
    with store.write() as db:
        for entry_id in ids:
            kb.delete_in(db, entry_id, now=now, source=f"document:{document_id}")
        db.execute("DELETE FROM documents WHERE id = ?", [document_id])
    return True


# -- reading --------------------------------------------------------------------------------------


def all_documents(db: Database) -> list[Stored]:
    rows = db.execute(
        "SELECT d.*, (SELECT error FROM document_imports i WHERE i.source = d.source ORDER BY i.id DESC LIMIT 1) "
        "AS last_error FROM documents d ORDER BY d.updated_at DESC, d.id DESC"
    ).fetchall()
    return [_stored(r) for r in rows]


def faq_counts(db: Database) -> dict[int, int]:
    """Document id -> how many entries its approved questions and answers are in the knowledge
    base now (``faq_id``'s ids), for the documents that have any: a FAQ page of six questions is
    six entries and no section, not "0 sections"."""
    rows = db.execute(
        "SELECT d.id, (SELECT count(*) FROM kb_entries e WHERE e.id = 'faq-' || d.id "
        "OR e.id LIKE 'faq-' || d.id || '-%') AS n FROM documents d"
    ).fetchall()
    return {r[0]: r[1] for r in rows if r[1]}


def get(db: Database, document_id: int) -> Stored | None:
    row = db.execute("SELECT *, '' AS last_error FROM documents WHERE id = ?", [document_id]).fetchone()
    return _stored(row) if row else None


def by_source(db: Database, source: str) -> Stored | None:
    row = db.execute("SELECT *, '' AS last_error FROM documents WHERE source = ?", [source]).fetchone()
    return _stored(row) if row else None


def _stored(r: Any) -> Stored:
    return Stored(
        r["id"], r["source"], r["title"], r["kind"], r["link"], r["lang"], r["sections"], r["chars"],
        r["updated_at"], r["last_error"] or "",
    )  # fmt: skip


def of_sections(db: Database, entry_ids: Iterable[str]) -> dict[str, Stored]:
    """Entry id -> the document it is a section of, for the ids that are sections."""
    wanted: dict[str, int] = {}
    for entry_id in entry_ids:
        m = _SECTION_ID.fullmatch(entry_id)
        if m:
            wanted[entry_id] = int(m[1])
    docs = {d: get(db, d) for d in set(wanted.values())}
    return {e: doc for e, d in wanted.items() if (doc := docs[d]) is not None}


def imports(db: Database, limit: int = 20) -> list[dict[str, Any]]:
    rows = db.execute(
        "SELECT i.*, d.title FROM document_imports i LEFT JOIN documents d ON d.id = i.document_id "
        "ORDER BY i.id DESC LIMIT ?",
        [limit],
    ).fetchall()
    return [dict(r) for r in rows]
