"""What the shop's bot's two sides share (telegram_in.py, telegram_out.py): its client, its
settings, its channel, its own few threads, the per-chat limit, and ``Refused``."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

import anyio

from appliance.channels.context import Context
from appliance.channels.telegram_api import ApiError, BotApi
from appliance.channels.telegram_state import channel_of
from appliance.conversations.chat import ChatService
from appliance.settings import Settings

T = TypeVar("T")

RETRY_S = 5.0  # after an unreachable API: the longest pause grows from this
MAX_RETRY_S = 120.0


class PerMinute:
    """At most ``n`` a minute for each chat (a sliding window, in memory: a restart forgets it,
    which costs a customer nothing)."""

    def __init__(self) -> None:
        self._seen: dict[str, deque[float]] = {}

    def allow(self, key: str, n: int, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        seen = self._seen.setdefault(key, deque())
        while seen and seen[0] <= now - 60:
            seen.popleft()
        if len(seen) >= n:
            return False
        seen.append(now)
        if len(self._seen) > 10_000:  # forget chats that went quiet
            self._seen = {k: v for k, v in self._seen.items() if v and v[-1] > now - 60}
        return True


class Refused(Exception):
    """The API refused the token (401): nothing more until the owner changes it."""


class BotBase:
    def __init__(self, context: Context, api: BotApi, settings: Settings):
        self.context = context
        self.api = api
        self.settings = settings
        self.channel = channel_of(settings)
        self.limits = PerMinute()
        self.threads = anyio.CapacityLimiter(4)
        # The outgoing place: sent up to, and written to the database up to (``_mark``).
        self.sent_upto = 0
        self.marked = 0
        self.marker: asyncio.Task | None = None
        self.rung: asyncio.Event | None = None
        self.deciding = asyncio.Semaphore(max(2, os.cpu_count() or 2))
        self.chats: dict[str, asyncio.Task] = {}  # each chat's last work (answers run in order)
        self.recent: deque[int] = deque(maxlen=1000)  # update ids a webhook delivered (telegram_in.take)

    @property
    def chat(self) -> ChatService:
        return self.context.chat()

    def _now(self) -> str:
        return self.context.clock().isoformat()

    async def _thread(self, fn: Callable[..., T], *args: Any) -> T:
        """Blocking work in a thread, of the bot's own few: under load the default ones are all
        busy deciding answers, and the bot's reads would wait behind them. (Reads by an index,
        well under a millisecond, are done on the loop, as ChatService.answer reads a status.)"""
        return await anyio.to_thread.run_sync(fn, *args, limiter=self.threads)

    async def _say(self, chat_id: str, text: str) -> None:
        """A word to the customer that isn't part of the conversation (a refusal, the link)."""
        with contextlib.suppress(ApiError):
            await self.api.send_message(chat_id, text)
