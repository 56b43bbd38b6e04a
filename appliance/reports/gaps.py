"""Knowledge gaps: what customers keep asking that the knowledge base can't answer.

Questions the bot escalated for lack of an answer (or had to clarify) are embedded and grouped
greedily: a question joins the first group whose representative it resembles (cosine ≥
``SIMILAR``). Groups are ranked by how many times they were asked; each is a suggestion for a
new entry."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from appliance.conversations.store import Conversations
from appliance.db import Store
from appliance.kb.embedder import Embedder

SIMILAR = 0.88  # e5 cosines are compressed: 0.88 means "the same question, other words"
MAX_QUESTIONS = 500
MAX_VECTORS = 4 * MAX_QUESTIONS


@dataclass
class Gap:
    example: str
    count: int
    questions: list[str] = field(default_factory=list)
    # The entry the bot ranked first for most of these questions (it wasn't sure enough to answer
    # with it): perhaps it answers them and only lacks the customers' words. "" if none.
    guess: str = ""
    guesses: Counter[str] = field(default_factory=Counter)


class GapFinder:
    """Finds the gaps, remembering what it worked out (one per running app, in its services).

    The groups are recomputed only when a new unanswered question has arrived: the home page asks
    often. Each question is embedded once: on a busy day a new unanswered question arrives between
    any two views of the home page, and embedding all 500 again took ~2 s of CPU (measured by
    scripts/loadtest.py), time the customers' answers need."""

    def __init__(self) -> None:
        self._found: dict[tuple[str, int, int], list[Gap]] = {}
        self._vectors: dict[str, np.ndarray] = {}

    def find(self, store: Store, embedder: Embedder, now: datetime, days: int = 30, limit: int = 10) -> list[Gap]:
        newest = Conversations(store, lambda: now).last_unsure_id()
        key = (str(store.path), newest, days)
        if key not in self._found:
            self._found.clear()
            self._found[key] = _group(store, lambda texts: self._embed(embedder, texts), now, days)
        return self._found[key][:limit]

    def _embed(self, embedder: Embedder, texts: list[str]) -> list[np.ndarray]:
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            if len(self._vectors) + len(missing) > MAX_VECTORS:
                self._vectors.clear()
                missing = list(dict.fromkeys(texts))
            self._vectors.update(zip(missing, embedder.queries(missing), strict=False))
        return [self._vectors[t] for t in texts]


def _group(store: Store, embed: Callable[[list[str]], list[np.ndarray]], now: datetime, days: int) -> list[Gap]:
    asked = Conversations(store, lambda: now).unsure_asked(
        (now - timedelta(days=days)).isoformat(), limit=MAX_QUESTIONS
    )
    if not asked:
        return []
    vectors = embed([text for text, _ in asked])
    groups: list[tuple[np.ndarray, Gap]] = []
    for (text, first), vec in zip(asked, vectors, strict=False):
        for centre, gap in groups:
            if float(centre @ vec) >= SIMILAR:
                gap.count += 1
                if text not in gap.questions and len(gap.questions) < 5:
                    gap.questions.append(text)
                break
        else:
            gap = Gap(text, 1, [text])
            groups.append((vec, gap))
        if first:
            gap.guesses[first] += 1
    found = sorted((g for _, g in groups), key=lambda g: -g.count)
    for g in found:
        best = g.guesses.most_common(1)
        g.guess = best[0][0] if best and best[0][1] * 2 > g.count else ""  # most of them, not one
    return found
