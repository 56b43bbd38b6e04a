"""The channels' background work, started with the app and stopped with it.

Each worker is a coroutine on the app's event loop (``WORKERS``) that runs until cancelled: it
reads the settings in force at each turn, idles while its channel isn't set up, and does slow or
blocking work in threads. One that fails is logged with its traceback and started again after a
pause that grows, so a bug or an unreachable server never stops the others or the chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from appliance.channels import alerts, email_in, telegram, webhooks
from appliance.channels.context import Context

log = logging.getLogger(__name__)

Worker = Callable[[Context], Awaitable[None]]
WORKERS: dict[str, Worker] = {
    "telegram": telegram.run,
    "email": email_in.run,
    "webhooks": webhooks.run,
    "alerts": alerts.run,
}
MAX_PAUSE_S = 300.0


class Runner:
    def __init__(self, context: Context, workers: dict[str, Worker] | None = None):
        self.context = context
        self.workers = WORKERS if workers is None else workers
        self.tasks: dict[str, asyncio.Task] = {}

    def start(self) -> None:
        for name, worker in self.workers.items():
            self.tasks[name] = asyncio.create_task(self._keep(name, worker), name=f"channel-{name}")

    async def _keep(self, name: str, worker: Worker) -> None:
        pause = 1.0
        while True:
            try:
                await worker(self.context)
                return  # a worker that returns is done (nothing to do in this process)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the %s channel failed; starting it again in %.0f s", name, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, MAX_PAUSE_S)

    async def stop(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        for task in self.tasks.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.tasks.clear()
