"""The channels' background work, started with the app and stopped with it.

Each worker is a coroutine on the app's event loop (``WORKERS``) that runs until cancelled: it
reads the settings in force at each turn, idles while its channel isn't set up, and does slow or
blocking work in threads. One that fails is logged with its traceback and started again after a
pause that grows, so a bug or an unreachable server never stops the others or the chat.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

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
STOP_S = 15.0  # longer than a send let finish (telegram_out.STOP_GRACE_S)


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
        """Cancel the workers and wait for them, ``STOP_S`` at most: a worker that doesn't end
        (a send it lets finish, a cancellation it swallowed) must never hold the app's shutdown
        (nor a restart's) for ever. One left running is logged with where it stands."""
        for task in self.tasks.values():
            task.cancel()
        if self.tasks:
            _, running = await asyncio.wait(self.tasks.values(), timeout=STOP_S)
            for task in running:
                log.error("the %s did not stop within %.0f s; left behind", task.get_name(), STOP_S)
                for where in _awaiting(task):
                    log.error("  at %s", where)
        self.tasks.clear()


def _awaiting(task: asyncio.Task) -> list[str]:
    """Where a task stands: each coroutine it is awaiting in, outermost first, down to what it
    waits for (``Task.get_stack`` shows only the outermost)."""
    out: list[str] = []
    awaited: Any = task.get_coro()
    while awaited is not None and len(out) < 50:
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
        if frame is None:
            out.append(repr(awaited)[:200])
            break
        out.append(f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}")
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
    return out
