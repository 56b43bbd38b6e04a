"""In-process rate limits (one process by design, so one counter per key is exact), and the
public API's limits that are not settings.

A sliding window of timestamps per key. The table is a bounded LRU: past MAX_KEYS the key used
longest ago goes, in constant time (scanning every key on each request past 50,000 keys cost
6 ms at 50,000 and 22 ms at 200,000, on the event loop).

The limits a shop may want to change are settings (appliance/settings.py):
``visitor_messages_per_minute`` and ``ip_messages_per_minute`` (messages, choices, a person, a
photo), ``ip_conversations_per_day`` and ``attachments_per_hour``. The ones below are guards that
no shop has had a reason to change; the public API (web/api/) reads them from here, at each
request (so a test may change one).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

MAX_KEYS = 50_000

# -- the public API's limits that are not settings ------------------------------------------------

# Photos and proactive messages shown per address a day depend on the shop's size: they are
# settings (photos_per_address_per_day, proactive_shown_per_address_per_day).
# Calls to /triggers per address a minute: a page view makes two or three, so this is a busy office
# of browsers, not one.
TRIGGER_CALLS_PER_MINUTE = 120
# Contact details, ratings and answers to a proactive message, per visitor an hour: each is data
# the owner reads, which a person leaves once or twice, and a script could fill the inbox with.
SAVES_PER_HOUR = 10
# "Seen" marks per visitor a minute: each is a write, and unthrottled one visitor could keep the
# single writer busy; the widget sends one when replies come into view, far less often.
SEEN_PER_MINUTE = 60


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int, window_s: float) -> float | None:
        """Count one hit. None if allowed, else the seconds to wait before the next one. A limit
        of 0 or less (a setting turned down to nothing) allows none: refused, never an error."""
        if limit <= 0:
            return max(1.0, math.ceil(window_s))
        now = self._clock()
        with self._lock:
            q = self._hits.get(key)
            if q is None:
                q = self._hits[key] = deque()
                if len(self._hits) > MAX_KEYS:
                    self._hits.popitem(last=False)
            else:
                self._hits.move_to_end(key)
            while q and q[0] <= now - window_s:
                q.popleft()
            if len(q) >= limit:
                return max(1.0, math.ceil(q[0] + window_s - now))
            q.append(now)
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
