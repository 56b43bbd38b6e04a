"""Knowledge gaps: what customers keep asking that the knowledge base can't answer.

Questions the bot escalated for lack of an answer (or had to clarify) are embedded and grouped
greedily: a question joins the first group whose representative it resembles (cosine ≥
``SIMILAR``). Groups are ranked by how many times they were asked; each is a suggestion for a
new entry."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from .answering.embedder import Embedder
from .conversations import Conversations
from .db import Store

SIMILAR = 0.88  # e5 cosines are compressed: 0.88 means "the same question, other words"
MAX_QUESTIONS = 500
# Recomputed only when a new unanswered question has arrived: the home page asks often.
_cache: dict[tuple[str, int, int], list[Gap]] = {}
# Each question is embedded once: on a busy day a new unanswered question arrives between any two
# views of the home page, and embedding all 500 again took ~2 s of CPU (measured by
# scripts/loadtest.py), time the customers' answers need.
_vectors: dict[str, np.ndarray] = {}
MAX_VECTORS = 4 * MAX_QUESTIONS


@dataclass
class Gap:
    example: str
    count: int
    questions: list[str] = field(default_factory=list)


def find(store: Store, embedder: Embedder, now: datetime, days: int = 30, limit: int = 10) -> list[Gap]:
    newest = Conversations(store, lambda: now).last_unsure_id()
    key = (str(store.path), newest, days)
    if key not in _cache:
        _cache.clear()
        _cache[key] = _group(store, embedder, now, days)
    return _cache[key][:limit]


def _group(store: Store, embedder: Embedder, now: datetime, days: int) -> list[Gap]:
    texts = Conversations(store, lambda: now).unsure_questions(
        (now - timedelta(days=days)).isoformat(), limit=MAX_QUESTIONS
    )
    if not texts:
        return []
    vectors = _embed(embedder, texts)
    groups: list[tuple[np.ndarray, Gap]] = []
    for text, vec in zip(texts, vectors, strict=False):
        for centre, gap in groups:
            if float(centre @ vec) >= SIMILAR:
                gap.count += 1
                if text not in gap.questions and len(gap.questions) < 5:
                    gap.questions.append(text)
                break
        else:
            groups.append((vec, Gap(text, 1, [text])))
    return sorted((g for _, g in groups), key=lambda g: -g.count)


def _embed(embedder: Embedder, texts: list[str]) -> list[np.ndarray]:
    missing = list(dict.fromkeys(t for t in texts if t not in _vectors))
    if missing:
        if len(_vectors) + len(missing) > MAX_VECTORS:
            _vectors.clear()
            missing = list(dict.fromkeys(texts))
        _vectors.update(zip(missing, embedder.queries(missing), strict=False))
    return [_vectors[t] for t in texts]
