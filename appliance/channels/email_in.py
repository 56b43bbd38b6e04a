"""The shop's support mailbox as a customers' channel: read every minute (or at the owner's
"check now") by ``mail_poll``, answered in the thread by ``mail_out``. Both run here, together,
as the runner's "email" worker (channels/runner.py)."""

from __future__ import annotations

import asyncio
import contextlib
import time

import anyio

from appliance.channels import mail_out, mail_poll
from appliance.channels.context import Context

POLL_S = 60.0
AFTER_REFUSAL_S = 600.0  # a refused password isn't tried every minute: servers lock such accounts


async def run(context: Context) -> None:
    """Runs until cancelled (channels/runner.py); idles while no mailbox is set up."""
    async with asyncio.TaskGroup() as group:
        group.create_task(_poll(context))
        group.create_task(mail_out.run(context))


async def _poll(context: Context) -> None:
    store = context.store
    wake = context.bell.subscribe()
    next_at, done_asking, done_with = 0.0, "", ""
    try:
        while True:
            wake.clear()
            settings = context.settings()
            asked = await anyio.to_thread.run_sync(mail_poll.asked, store)
            # New settings (a corrected password, say) are tried at once, not after the pause.
            these = mail_poll.account(settings) + settings.imap_security + settings.imap_password
            if settings.imap_host and (time.monotonic() >= next_at or asked != done_asking or these != done_with):
                done_asking, done_with = asked, these
                st = await mail_poll.check(store, context.clock, settings, context.chat())
                next_at = time.monotonic() + (AFTER_REFUSAL_S if st.error == "auth" else POLL_S)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), max(1.0, min(POLL_S, next_at - time.monotonic())))
    finally:
        context.bell.unsubscribe(wake)
