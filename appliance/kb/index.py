"""What the retriever needs for each entry: passages, embeddings and the FTS5 row.

``prepare`` does the slow part (embedding) outside any transaction; ``write`` stores the result
inside the caller's transaction. ``kb_version`` in ``meta`` goes up with every change so the
in-memory retrieval index knows when to reload.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from sqlite_utils import Database

from appliance.db import bump_meta, read_meta
from appliance.kb.embedder import Embedder
from appliance.text.textnorm import normalize

if TYPE_CHECKING:
    from appliance.kb.entry import Entry

PASSAGE_CHARS = 600  # about 150 tokens: short enough for e5-small's 512-token window and a citation


# An entry's answer sentences embedded for matching (a long document: its first ones). Six did as
# well as twelve on the dev sets (bitext_en top-1 0.820 against 0.813) with at most half the
# vectors: each is 1.5 KiB of the web process's memory.
MAX_SENTENCES = 6
MIN_SENTENCE_WORDS = 3


@dataclass
class Prepared:
    questions: list[str]
    passages: list[str]
    question_vectors: np.ndarray
    passage_vectors: np.ndarray
    sentence_vectors: np.ndarray


def question_texts(entry: Entry) -> list[str]:
    """The title and the phrasings, without repeats (after normalisation)."""
    return question_texts_of(entry.title, entry.questions)


def question_texts_of(title: str, questions: list[str]) -> list[str]:
    out, seen = [], set()
    for text in [title, *questions]:
        key = normalize(text)
        if key and key not in seen:
            seen.add(key)
            out.append(text)
    return out


def split_passages(text: str, limit: int = PASSAGE_CHARS) -> list[str]:
    """Split an answer into passages of at most ``limit`` characters, on paragraph boundaries
    where possible, then sentences, then words; small neighbours are packed together."""
    text = text.strip()
    if len(text) <= limit:
        return [text]
    units: list[str] = []
    for para in re.split(r"\n\s*\n", text):
        para = para.strip()
        if len(para) <= limit:
            units.append(para)
            continue
        for sentence in re.split(r"(?<=[.!?؟])\s+|\n", para):
            units.extend(_wrap(sentence.strip(), limit) if len(sentence) > limit else [sentence.strip()])
    passages: list[str] = []
    for unit in filter(None, units):
        if passages and len(passages[-1]) + 1 + len(unit) <= limit:
            passages[-1] = f"{passages[-1]}\n{unit}"
        else:
            passages.append(unit)
    return passages


def _wrap(text: str, limit: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        while len(word) > limit:  # a single "word" longer than a passage (a URL, a hash)
            if line:
                lines.append(line)
                line = ""
            lines.append(word[:limit])
            word = word[limit:]
        if line and len(line) + 1 + len(word) > limit:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    if line:
        lines.append(line)
    return lines


def answer_sentences(answer: str) -> list[str]:
    """The answer's sentences, to be matched like phrasings: owners write one or two questions an
    entry, and customers often ask in the answer's own words ("are you open on Fridays?" against
    "Fridays we are closed"). The whole answer (its start) if no sentence is long enough."""
    found = [s.strip() for s in re.split(r"(?<=[.!?؟])\s+|\n+", answer) if len(s.split()) >= MIN_SENTENCE_WORDS]
    return found[:MAX_SENTENCES] or [answer.strip()[:PASSAGE_CHARS]]


FIRST_SENTENCE_CHARS = 160


def first_sentence(answer: str) -> str:
    """The answer's first sentence, shortened at a word: shown under a choice, so the customer
    sees the answer without another round trip."""
    text = " ".join(answer.split())
    sentence = re.split(r"(?<=[.!?؟])\s", text, maxsplit=1)[0]
    if len(sentence) <= FIRST_SENTENCE_CHARS:
        return sentence
    return sentence[:FIRST_SENTENCE_CHARS].rsplit(" ", 1)[0].rstrip("،,;:") + "…"


def fts_body(entry: Entry) -> str:
    return normalize("\n".join([entry.title, *entry.questions, entry.answer]))


def prepare(entries: list[Entry], embedder: Embedder) -> dict[str, Prepared]:
    """Embed all entries in three batches (questions and answer sentences as queries, passages):
    far faster than one call each."""
    qs = {e.id: question_texts(e) for e in entries}
    ps = {e.id: split_passages(e.answer) for e in entries}
    ss = {e.id: answer_sentences(e.answer) for e in entries}
    q_vecs = embedder.queries([t for e in entries for t in qs[e.id]])
    p_vecs = embedder.passages([t for e in entries for t in ps[e.id]])
    s_vecs = embedder.queries([t for e in entries for t in ss[e.id]])
    out, qi, pi, si = {}, 0, 0, 0
    for e in entries:
        nq, np_, ns = len(qs[e.id]), len(ps[e.id]), len(ss[e.id])
        out[e.id] = Prepared(qs[e.id], ps[e.id], q_vecs[qi : qi + nq], p_vecs[pi : pi + np_], s_vecs[si : si + ns])
        qi += nq
        pi += np_
        si += ns
    return out


def remove(db: Database, entry_id: str) -> None:
    db.execute("DELETE FROM kb_passages WHERE entry_id = ?", [entry_id])
    db.execute("DELETE FROM kb_vectors WHERE entry_id = ?", [entry_id])
    db.execute("DELETE FROM kb_fts WHERE entry_id = ?", [entry_id])


def clear_text_index(db: Database) -> None:
    """Drop every FTS row (a full re-index writes them all again, and none of deleted entries)."""
    db.execute("DELETE FROM kb_fts")


def write(db: Database, entry: Entry, prep: Prepared, model: str) -> None:
    remove(db, entry.id)
    db.conn.executemany(
        "INSERT INTO kb_passages (entry_id, position, text) VALUES (?, ?, ?)",
        [(entry.id, i, t) for i, t in enumerate(prep.passages)],
    )
    rows = [
        (entry.id, "question", i, model, v.astype(np.float32).tobytes()) for i, v in enumerate(prep.question_vectors)
    ]
    rows += [
        (entry.id, "passage", i, model, v.astype(np.float32).tobytes()) for i, v in enumerate(prep.passage_vectors)
    ]
    rows += [
        (entry.id, "sentence", i, model, v.astype(np.float32).tobytes()) for i, v in enumerate(prep.sentence_vectors)
    ]
    db.conn.executemany("INSERT INTO kb_vectors (entry_id, kind, position, model, vector) VALUES (?, ?, ?, ?, ?)", rows)
    db.execute("INSERT INTO kb_fts (entry_id, body) VALUES (?, ?)", [entry.id, fts_body(entry)])


# -- reading: the index tables are read here only --------------------------------------------------


@dataclass
class Stored:
    """What the retriever loads for the enabled entries: their passages, phrasings and vectors."""

    entries: list[tuple[str, str, str, str]]  # id, title, answer, lang
    passages: dict[str, list[str]]
    phrasings: dict[str, list[str]]
    vectors: list[tuple[str, str, bytes]]  # entry id, "question", "passage" or "sentence", float32 bytes


def read(db: Database, model: str) -> Stored:
    entries = [
        (r[0], r[1], r[2], r[3])
        for r in db.execute("SELECT id, title, answer, lang FROM kb_entries WHERE enabled = 1 ORDER BY id")
    ]
    passages: dict[str, list[str]] = {}
    for r in db.execute("SELECT entry_id, text FROM kb_passages ORDER BY entry_id, position"):
        passages.setdefault(r[0], []).append(r[1])
    phrasings: dict[str, list[str]] = {}
    for r in db.execute("SELECT entry_id, text FROM kb_phrasings ORDER BY entry_id, position"):
        phrasings.setdefault(r[0], []).append(r[1])
    vectors = [
        (r[0], r[1], r[2])
        for r in db.execute(
            "SELECT entry_id, kind, vector FROM kb_vectors WHERE model = ? ORDER BY entry_id, kind, position", [model]
        )
    ]
    return Stored(entries, passages, phrasings, vectors)


def learned_norms(db: Database) -> set[tuple[str, str]]:
    """(entry id, normalised text) of the phrasings approved from customers' words."""
    return {(r[0], r[1]) for r in db.execute("SELECT entry_id, norm FROM kb_suggestions WHERE status = 'approved'")}


def fts_search(db: Database, match: str, limit: int) -> list[tuple[str, float]]:
    """Entry ids for an FTS5 ``match`` expression, best first, with their BM25 score (higher is better)."""
    return [
        (r[0], r[1])
        for r in db.execute(
            "SELECT entry_id, -bm25(kb_fts) FROM kb_fts WHERE kb_fts MATCH ? ORDER BY bm25(kb_fts) LIMIT ?",
            [match, limit],
        )
    ]


def unindexed(db: Database, model: str) -> list[str]:
    """Entries with no vectors from ``model`` or no FTS row (after an upgrade, or an embedder change)."""
    return [
        r[0]
        for r in db.execute(
            "SELECT id FROM kb_entries e WHERE NOT EXISTS "
            "(SELECT 1 FROM kb_vectors v WHERE v.entry_id = e.id AND v.model = ?) "
            "OR NOT EXISTS (SELECT 1 FROM kb_fts f WHERE f.entry_id = e.id)",
            [model],
        )
    ]


def bump_version(db: Database) -> None:
    bump_meta(db, "kb_version")


def version(db: Database) -> int:
    value = read_meta(db, "kb_version")
    return int(value) if value is not None else 0
