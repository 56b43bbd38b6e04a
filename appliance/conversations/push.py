"""The owner's words to an open widget at once: who listens to which conversation, and waking
them when something arrives for it.

A widget holds one server-sent-events stream for its conversation (web/api.py,
``/conversations/{id}/events``). The stream sleeps until this hub wakes it (the owner replied,
took the conversation over or handed it back: ``Conversations`` says so after the write is
committed; the owner is typing: the admin says so), then reads what is new from the database and
sends it, each message with its id as the event's id: a widget that lost its connection comes
back with ``Last-Event-ID`` and gets what it missed, once. Nothing is kept here but who waits.

Limits: a total and a per-address number of open streams (each is a socket and a little memory);
a visitor with more tabs than ``PER_VISITOR`` closes its oldest stream. A widget refused a stream
polls, as before push.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from dataclasses import dataclass, field

TYPING = "typing"
CHANGED = "changed"


class Full(Exception):
    """No stream for this caller now (``reason``: total | address)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(eq=False)
class Listener:
    conversation_id: str
    address: str
    visitor: str
    wake: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(maxsize=16))
    closed: bool = False


class Hub:
    def __init__(self, *, max_streams: int = 1000, per_address: int = 20, per_visitor: int = 3):
        self.max_streams = max_streams
        self.per_address = per_address
        self.per_visitor = per_visitor
        self._by_conversation: dict[str, set[Listener]] = {}
        self._by_visitor: dict[str, list[Listener]] = {}
        self._addresses: Counter[str] = Counter()
        self._count = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def open_streams(self) -> int:
        return self._count

    def listen(self, conversation_id: str, address: str, visitor: str) -> Listener:
        """A new stream's place (on the event loop), or Full."""
        self._loop = asyncio.get_running_loop()
        with self._lock:
            if self._count >= self.max_streams:
                raise Full("total")
            if self._addresses[address] >= self.per_address:
                raise Full("address")
            listener = Listener(conversation_id, address, visitor)
            mine = self._by_visitor.setdefault(visitor, [])
            oldest = mine[0] if len(mine) >= self.per_visitor else None
            mine.append(listener)
            self._by_conversation.setdefault(conversation_id, set()).add(listener)
            self._addresses[address] += 1
            self._count += 1
        if oldest is not None:  # a fourth tab: the first one's stream ends (its widget polls)
            oldest.closed = True
            self._put(oldest, CHANGED)
        return listener

    def leave(self, listener: Listener) -> None:
        with self._lock:
            waiting = self._by_conversation.get(listener.conversation_id)
            if waiting is None or listener not in waiting:
                return
            waiting.discard(listener)
            if not waiting:
                del self._by_conversation[listener.conversation_id]
            mine = self._by_visitor.get(listener.visitor, [])
            if listener in mine:
                mine.remove(listener)
            if not mine:
                self._by_visitor.pop(listener.visitor, None)
            self._addresses[listener.address] -= 1
            if self._addresses[listener.address] <= 0:
                del self._addresses[listener.address]
            self._count -= 1

    def notify(self, conversation_id: str, what: str = CHANGED) -> None:
        """Wake the conversation's streams. Safe from any thread (the admin's handlers write in
        worker threads); a no-op when nobody listens."""
        loop = self._loop
        if loop is None or loop.is_closed() or conversation_id not in self._by_conversation:
            return
        loop.call_soon_threadsafe(self._wake, conversation_id, what)

    def notify_all(self, what: str = CHANGED) -> None:
        """Wake every open stream (the owner came online or went away). Safe from any thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        for conversation_id in list(self._by_conversation):
            loop.call_soon_threadsafe(self._wake, conversation_id, what)

    def _wake(self, conversation_id: str, what: str) -> None:
        with self._lock:
            listeners = list(self._by_conversation.get(conversation_id, ()))
        for listener in listeners:
            self._put(listener, what)

    @staticmethod
    def _put(listener: Listener, what: str) -> None:
        try:
            listener.wake.put_nowait(what)
        except asyncio.QueueFull:  # it has plenty to read already; "typing" can be dropped
            pass
