"""Finding the knowledge-base entries that answer a question: two signals, fused.

- **Embeddings** (multilingual e5): the question against each entry's centroid (the mean of its
  title and phrasings), against its nearest phrasing, against its answer passages, and against
  each sentence of its answer read as a question would be (customers ask in the answer's words).
- **Lexical** (SQLite FTS5 over normalised text, trigram tokens, BM25): catches names, codes and
  rare words the embedding blurs, and Persian words with affixes.

Each signal is turned into z-scores across the entries and summed with fixed weights. The
result is a ranking plus the features the decision step calibrates on. The vectors live in
numpy matrices in memory, reloaded when ``kb_version`` changes; at 10,000 entries a search is a
few matrix-vector products.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from appliance.db import Store
from appliance.kb import index as kb_index
from appliance.kb.embedder import Embedder
from appliance.text.reading import Reading, read
from appliance.text.textnorm import normalize

# Weights of the fused score, in z-score units (chosen on the development sets, all together).
W_CENTROID = 1.0
W_LEXICAL = 0.35
W_ANSWER = 0.3
W_SENTENCE = 0.3  # the question against the answer's own sentences (kb_index.answer_sentences)
W_SAME_LANGUAGE = 0.5  # a bilingual shop's fa and en copies of one answer: prefer the customer's
# Floors for the spread used in z-scores, so a tiny knowledge base doesn't blow up small gaps.
MIN_SPREAD = {"cen": 0.02, "lex": 0.5, "ans": 0.02, "sen": 0.02}
MAX_QUERY_CHARS = 400
EXACT_MIN_WORDS = 2  # "returns?" alone is too little to be sure of, even worded as a phrasing
MAX_TRIGRAMS = 160
LEXICAL_LIMIT = 300


@dataclass
class IndexedEntry:
    id: str
    title: str
    answer: str
    lang: str
    passages: list[str]
    trigrams: frozenset[str]


@dataclass
class Ranking:
    """Scores of every entry for one query; ``order`` sorts them best first."""

    entries: list[IndexedEntry]
    fused: np.ndarray
    centroid: np.ndarray
    nearest: np.ndarray
    answer: np.ndarray
    lexical: np.ndarray
    passage_sims: np.ndarray
    passage_starts: np.ndarray
    question_sims: np.ndarray
    question_owner: np.ndarray
    query_trigrams: frozenset[str]
    query_words: int
    order: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.order = np.argsort(-self.fused, kind="stable")

    def __len__(self) -> int:
        return len(self.entries)

    def top(self, k: int) -> list[IndexedEntry]:
        return [self.entries[i] for i in self.order[:k]]

    def best_passage(self, i: int) -> int:
        """Which of entry i's passages matched the question best (for citing a long document)."""
        count = len(self.entries[i].passages)
        start = int(self.passage_starts[i]) if len(self.passage_starts) else 0
        sims = self.passage_sims[start : start + count]
        return int(np.argmax(sims)) if len(sims) else 0

    def coverage(self, i: int) -> float:
        """Share of the query's trigrams found in entry i's text: an absolute lexical match."""
        if not self.query_trigrams:
            return 0.0
        return len(self.query_trigrams & self.entries[i].trigrams) / len(self.query_trigrams)

    def features(self) -> dict[str, float]:
        """What the decision's calibrated model looks at (names match calibration.json)."""
        n = len(self.entries)
        if n == 0:
            return {}
        o = self.order
        top = int(o[0])
        second = int(o[1]) if n > 1 else top
        f = self.fused
        z = np.exp(2.0 * (f - f[top]))
        agree = sum(int(np.argmax(s) == top) for s in (self.centroid, self.nearest, self.answer, self.lexical))
        cen_sorted = np.sort(self.centroid)
        others = np.delete(self.nearest, top)
        # Of the ten phrasings closest to the question, how many belong to the top entry?
        k = min(10, len(self.question_sims))
        closest = np.argpartition(-self.question_sims, k - 1)[:k] if k else np.zeros(0, int)
        lex_top, lex_best_other = self.lexical[top], (np.max(np.delete(self.lexical, top)) if n > 1 else 0.0)
        return {
            "fused": float(f[top]),
            "margin": float(f[top] - f[second]) if n > 1 else 3.0,
            "centroid": float(self.centroid[top]),
            "nearest": float(self.nearest[top]),
            "answer": float(self.answer[top]),
            "coverage": self.coverage(top),
            "log_entries": math.log(n),
            "agree": float(agree),
            "softmax": float(1.0 / z.sum()),
            "centroid_margin": float(cen_sorted[-1] - cen_sorted[-2]) if n > 1 else 0.1,
            "knn_share": float(np.mean(self.question_owner[closest] == top)) if k else 0.0,
            "nearest_gap": float(self.nearest[top] - others.max()) if n > 1 else 0.1,
            "lexical_margin": float((lex_top - lex_best_other) / (abs(lex_top) + abs(lex_best_other) + 1e-6)),
            "query_words": math.log1p(self.query_words),
        }


def trigrams(text: str) -> frozenset[str]:
    """Trigrams of normalised words, short words padded with spaces (as FTS5 indexes them)."""
    return trigrams_of_normalised(normalize(text))


def trigrams_of_normalised(norm: str) -> frozenset[str]:
    grams: set[str] = set()
    for word in norm[:MAX_QUERY_CHARS].split():
        word = "".join(ch for ch in word if ch.isalnum())
        if not word:
            continue
        if len(word) < 3:
            word = f" {word} "
        grams.update(word[i : i + 3] for i in range(len(word) - 2))
    return frozenset(grams)


def fts_query(grams: frozenset[str]) -> str:
    """An FTS5 OR-query of quoted trigrams: user text never reaches the query syntax unquoted."""
    chosen = sorted(grams)[:MAX_TRIGRAMS]
    return " OR ".join('"' + g.replace('"', '""') + '"' for g in chosen)


def _words(text: str) -> str:
    """The words of a text, normalised, without punctuation: what "worded exactly as" compares."""
    return _words_of_normalised(normalize(text))


def _words_of_normalised(norm: str) -> str:
    return " ".join("".join(ch if ch.isalnum() else " " for ch in norm).split())


def _z(x: np.ndarray, floor: float) -> np.ndarray:
    if len(x) == 0:
        return x
    return (x - x.mean()) / max(float(x.std()), floor)


class RetrievalIndex:
    """The enabled entries' vectors in memory, kept in step with the database."""

    def __init__(self, store: Store, embedder: Embedder, *, on_change: Callable[[], Any] | None = None):
        # Our matrix-vector products are small; a BLAS thread pool spinning on every core fights
        # the embedder's OpenMP threads and the model's (on 2 cores: decision p95 100+ ms with
        # the pool, 10 ms without). Process-wide, and idempotent.
        threadpool_limits(limits=1, user_api="blas")
        self.store = store
        self.embedder = embedder
        self._lock = threading.Lock()
        self._version = -1
        self.entries: list[IndexedEntry] = []
        self._pos: dict[str, int] = {}
        self._exact: dict[str, str | None] = {}
        self._on_change = on_change  # told when the knowledge base changed (the shop's calibration)
        self.last_search = 0.0

    def invalidate(self) -> None:
        """Reload at the next search whatever the version says (the database file was replaced)."""
        self._version = -1

    def refresh(self) -> None:
        db = self.store.read()
        current = kb_index.version(db)
        if current == self._version:
            return
        with self._lock:
            if current != self._version:
                self._load(db, current)
        if self._on_change is not None:
            self._on_change()

    def _load(self, db, version: int) -> None:
        stored = kb_index.read(db, self.embedder.name)
        entries = [
            IndexedEntry(
                entry_id,
                title,
                answer,
                lang,
                stored.passages.get(entry_id, [answer]),
                trigrams("\n".join([title, *stored.phrasings.get(entry_id, []), answer])),
            )
            for entry_id, title, answer, lang in stored.entries
        ]
        pos = {e.id: i for i, e in enumerate(entries)}
        q_vecs: list[list[np.ndarray]] = [[] for _ in entries]
        p_vecs: list[list[np.ndarray]] = [[] for _ in entries]
        s_vecs: list[list[np.ndarray]] = [[] for _ in entries]
        groups = {"question": q_vecs, "passage": p_vecs, "sentence": s_vecs}
        for entry_id, kind, blob in stored.vectors:
            i = pos.get(entry_id)
            if i is None or kind not in groups:
                continue
            groups[kind][i].append(np.frombuffer(blob, dtype=np.float32))
        dim = self.embedder.dim
        self._q_mat, self._q_starts = _stack(q_vecs, dim)
        self._q_owner = np.repeat(np.arange(len(q_vecs)), [len(v) for v in q_vecs]).astype(np.int64)
        self._p_mat, self._p_starts = _stack(p_vecs, dim)
        self._s_mat, self._s_starts = _stack(s_vecs, dim)
        self._has_s = np.array([bool(v) for v in s_vecs], dtype=bool)
        # An entry's centroid is the owner's own wordings: phrasings learned from customers are
        # matched one by one (nearest) but left out of the mean, where a few colloquial ones
        # pulled every colloquial question towards their entry (docs/BENCHMARKS.md, fifth round).
        learned = kb_index.learned_norms(db)
        own: list[list[np.ndarray]] = []
        for entry, vecs in zip(entries, q_vecs, strict=True):
            texts = kb_index.question_texts_of(entry.title, stored.phrasings.get(entry.id, []))
            keep = [v for t, v in zip(texts, vecs, strict=False) if (entry.id, normalize(t)) not in learned]
            own.append(keep or vecs)
        centroids = (
            np.stack([np.mean(v, axis=0) if v else np.zeros(dim, np.float32) for v in own])
            if entries
            else np.zeros((0, dim), np.float32)
        )
        norms = np.linalg.norm(centroids, axis=1, keepdims=True)
        self._centroids = centroids / np.maximum(norms, 1e-12)
        self._has_q = np.array([bool(v) for v in q_vecs], dtype=bool)
        self._has_p = np.array([bool(v) for v in p_vecs], dtype=bool)
        # A question worded exactly as one entry's phrasing (the owner's, or a customer's the owner
        # approved): that entry, whatever the scores (None where two entries share the words).
        exact: dict[str, str | None] = {}
        for entry_id, texts in stored.phrasings.items():
            for text in texts:
                key = _words(text)
                if entry_id in pos and len(key.split()) >= EXACT_MIN_WORDS:
                    exact[key] = entry_id if exact.get(key, entry_id) == entry_id else None
        self._exact = exact
        self.entries, self._pos, self._version = entries, pos, version

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.embedder.queries([t[: MAX_QUERY_CHARS * 2] for t in texts])

    def search(self, query: str | Reading, *, lang: str | None = None, vector: np.ndarray | None = None) -> Ranking:
        """Rank the entries for a question (a customer's message already read, or any text: the
        calibration's examples, the evaluation's). ``lang`` favours entries in that language."""
        reading = query if isinstance(query, Reading) else read(query)
        text = reading.text
        self.last_search = time.monotonic()  # background work (the shop's calibration) yields to customers
        self.refresh()
        with self._lock:  # a consistent snapshot of the matrices
            entries, q_mat, q_starts, q_owner = self.entries, self._q_mat, self._q_starts, self._q_owner
            p_mat, p_starts, centroids = self._p_mat, self._p_starts, self._centroids
            s_mat, s_starts, has_s = self._s_mat, self._s_starts, self._has_s
            has_q, has_p, pos = self._has_q, self._has_p, self._pos
        n = len(entries)
        grams = trigrams_of_normalised(reading.norm)
        query_words = len(reading.norm.split())
        if n == 0:
            empty = np.zeros(0)
            none = np.zeros(0, np.int64)
            words = len(text.split())  # as before the Reading: no entry, nothing depends on it
            return Ranking([], empty, empty, empty, empty, empty, empty, none, empty, none, grams, words)
        # Persian typed in Latin letters is also read in Persian letters, and spoken Persian in
        # its written form (text/colloquial.py); each signal keeps the best of the readings, so an
        # English or a written Persian question (no reading) is scored as before.
        readings = list(reading.others)
        if vector is None:  # the question and its readings in one call to the embedder
            vecs = self.embed_queries([text, *readings])
        else:
            vecs = np.vstack([vector, self.embed_queries(readings)]) if readings else vector[None, :]
        for other in readings:
            grams = grams | trigrams(other)
        centroid = (vecs @ centroids.T).max(axis=0)
        question_sims = (vecs @ q_mat.T).max(axis=0)
        nearest = _group_max(question_sims, q_starts, n, has_q)
        passage_sims = (vecs @ p_mat.T).max(axis=0)
        answer = _group_max(passage_sims, p_starts, n, has_p)
        sentence = _group_max((vecs @ s_mat.T).max(axis=0), s_starts, n, has_s)
        if not has_s.all():  # an entry indexed before sentences were: neither helped nor hurt
            sentence[~has_s] = np.median(sentence[has_s]) if has_s.any() else 0.0
        lexical = self._lexical(grams, pos, n)
        fused = (
            W_CENTROID * _z(centroid, MIN_SPREAD["cen"])
            + W_LEXICAL * _z(lexical, MIN_SPREAD["lex"])
            + W_ANSWER * _z(answer, MIN_SPREAD["ans"])
            + W_SENTENCE * _z(sentence, MIN_SPREAD["sen"])
        )
        if lang:
            fused = fused + W_SAME_LANGUAGE * np.array([e.lang == lang for e in entries], dtype=float)
        return Ranking(
            entries,
            fused,
            centroid,
            nearest,
            answer,
            lexical,
            passage_sims,
            p_starts,
            question_sims,
            q_owner,
            grams,
            query_words,
        )

    def _lexical(self, grams: frozenset[str], pos: dict[str, int], n: int) -> np.ndarray:
        scores = np.zeros(n)
        if not grams:
            return scores
        for entry_id, score in kb_index.fts_search(self.store.read(), fts_query(grams), LEXICAL_LIMIT):
            i = pos.get(entry_id)
            if i is not None:
                scores[i] = score
        return scores

    def exact(self, query: str | Reading) -> IndexedEntry | None:
        """The entry one of whose phrasings is exactly these words (normalised), if only one is."""
        self.refresh()
        norm = query.norm if isinstance(query, Reading) else normalize(query)
        entry_id = self._exact.get(_words_of_normalised(norm))
        return self.get(entry_id) if entry_id else None

    def get(self, entry_id: str) -> IndexedEntry | None:
        self.refresh()
        i = self._pos.get(entry_id)
        return self.entries[i] if i is not None else None


def _stack(groups: list[list[np.ndarray]], dim: int) -> tuple[np.ndarray, np.ndarray]:
    """All vectors in one matrix, entry by entry; starts[i] is where entry i's rows begin."""
    sizes = [len(g) for g in groups]
    starts = np.cumsum([0, *sizes[:-1]]).astype(np.int64) if groups else np.zeros(0, np.int64)
    flat = [v for g in groups for v in g]
    mat = np.stack(flat).astype(np.float32) if flat else np.zeros((0, dim), np.float32)
    return mat, starts


def _group_max(sims: np.ndarray, starts: np.ndarray, n: int, present: np.ndarray) -> np.ndarray:
    """Per entry, the best similarity among its rows (-1 for an entry with none)."""
    best = np.full(n, -1.0)
    if len(sims):
        nonempty = np.flatnonzero(present)
        best[nonempty] = np.maximum.reduceat(sims, starts[nonempty])
    return best
