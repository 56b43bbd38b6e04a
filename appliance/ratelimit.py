"""In-process rate limits (one process by design, so one counter per key is exact).

A sliding window of timestamps per key; memory stays bounded because empty keys are dropped
whenever the table grows past a size.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from typing import Callable

MAX_KEYS = 50_000
LONGEST_WINDOW_S = 86_400  # keys idle longer than any window we use can go


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int, window_s: float) -> float | None:
        """Count one hit. None if allowed, else the seconds to wait before the next one."""
        now = self._clock()
        with self._lock:
            q = self._hits.setdefault(key, deque())
            while q and q[0] <= now - window_s:
                q.popleft()
            if len(q) >= limit:
                return max(1.0, math.ceil(q[0] + window_s - now))
            q.append(now)
            if len(self._hits) > MAX_KEYS:
                self._prune(now)
            return None

    def blocked(self, key: str, limit: int, window_s: float) -> float | None:
        """Like ``hit`` but counts nothing: the seconds to wait if the key is over its limit."""
        now = self._clock()
        with self._lock:
            q = self._hits.get(key)
            if not q:
                return None
            recent = [t for t in q if t > now - window_s]
            if len(recent) >= limit:
                return max(1.0, math.ceil(recent[0] + window_s - now))
            return None

    def _prune(self, now: float) -> None:
        for key in [k for k, q in self._hits.items() if not q or q[-1] <= now - LONGEST_WINDOW_S]:
            del self._hits[key]
