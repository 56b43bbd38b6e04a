"""Whether a person is there to answer right now.

The owner is "online" when they have said they are available (a switch in the admin's top bar,
remembered in ``meta`` across restarts) and an admin page is open: the page says so every
``BEAT_S`` seconds while it is in view, and after ``ONLINE_S`` without a word the owner is away
(the laptop was closed). Customers' open widgets are told when this changes (push.Hub), and say
"a person is online" or when a person will reply.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from appliance.db import Store, read_meta, write_meta

BEAT_S = 30
ONLINE_S = 75  # two missed beats and a little


class Presence:
    def __init__(
        self,
        store: Store,
        *,
        on_change: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.store = store
        self.on_change = on_change
        self.clock = clock
        self._lock = threading.Lock()
        self._last_beat: float | None = None
        self._available = read_meta(store.read(), "owner_available") == "1"

    @property
    def available(self) -> bool:
        return self._available

    @property
    def online(self) -> bool:
        beat = self._last_beat
        return self._available and beat is not None and self.clock() - beat < ONLINE_S

    def set_available(self, on: bool) -> None:
        """The owner's switch (and the page it is on counts as a beat)."""
        before = self.online
        with self._lock:
            self._available = on
            self._last_beat = self.clock()
        with self.store.write() as db:
            write_meta(db, "owner_available", "1" if on else "0")
        self._changed(before)

    def beat(self) -> None:
        """An admin page is open and in view."""
        before = self.online
        with self._lock:
            self._last_beat = self.clock()
        self._changed(before)

    def _changed(self, before: bool) -> None:
        if self.online != before and self.on_change is not None:
            self.on_change()
