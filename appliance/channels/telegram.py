"""The shop's Telegram or Bale bot: customers write to it and get the same bot as in the widget,
in conversations of the same inbox; the owner's replies go back through it; the owner's own
chat with it gets the alerts (``notify_owner``).

Two loops run while a bot is set up (``run``), both restarted when its settings change:

- incoming (``Bot.receive``): getUpdates with long polling (the appliance usually has no public
  address). A customer's text is stored with ``client_id`` "tg:<update_id>" before the offset
  moves past it (once per getUpdates), so an update fetched again after a crash is recognised
  and not answered twice; it is answered afterwards (a few answers at once, each chat's in
  order), and one left unanswered by a crash is escalated at the next start
  (ChatService.recover_unanswered), which the outgoing loop then sends. A button press or a
  photo can't be stored that way (the chat service stores them itself, without a client id): the
  offset moves past them first, so a crash at that moment loses the press rather than answering
  it twice (the button is still there to press again).
- outgoing (``Bot.send_loop``): the reader "telegram-out" follows the shop's side of this
  channel's conversations (conversations/events.py: the bot's replies, the owner's, notices)
  and sends each to its chat (conversations at once, each in order), moving its place after the
  sends: at-least-once, since a send and its mark can't be one transaction.

Each chat is a visitor (a keyed hash of the chat, so export and erasure by conversation cover
all the chat's conversations). What the admin page shows is kept in ``meta`` (``status``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from appliance.channels.context import Context
from appliance.channels.telegram_api import ApiError, BotApi
from appliance.channels.telegram_bot import RETRY_S, Refused
from appliance.channels.telegram_in import Incoming
from appliance.channels.telegram_out import READER, Outgoing
from appliance.channels.telegram_owner import (
    LINK_CODE_MINUTES,
    OWNER_CHAT_KEY,
    link_owner,
    new_link_code,
    notify_owner,
    owner_chat,
    owner_linked,
    unlink_owner,
)
from appliance.channels.telegram_state import api_for, bot_id, channel_of, note_status, offset_key, status
from appliance.settings import Settings

# The names other modules use, from wherever they live now.
__all__ = [
    "LINK_CODE_MINUTES",
    "OWNER_CHAT_KEY",
    "READER",
    "Bot",
    "api_for",
    "bot_id",
    "channel_of",
    "link_owner",
    "new_link_code",
    "notify_owner",
    "offset_key",
    "owner_chat",
    "owner_linked",
    "run",
    "status",
    "unlink_owner",
]

log = logging.getLogger(__name__)

IDLE_S = 2.0  # how often settings are looked at while no bot is set up (or it was refused)


class Bot(Incoming, Outgoing):
    """One bot: its incoming side (``receive``) and its outgoing side (``send_loop``)."""


def _key(settings: Settings) -> tuple[str, str, str]:
    return settings.bot_platform, settings.bot_token, settings.bot_api_base


async def _until_changed(context: Context, key: tuple[str, str, str]) -> None:
    while _key(context.settings()) == key:
        await asyncio.sleep(IDLE_S)


async def _first(*aws: Any) -> None:
    """Run these together until the first ends (its error raised); cancel the rest."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def run(context: Context) -> None:
    """Runs until cancelled (channels/runner.py): the bot in the settings in force, if any."""
    while True:
        settings = context.settings()
        key = _key(settings)
        api = api_for(context)
        if api is None:
            await _until_changed(context, key)
            continue
        try:
            await _serve(context, api, settings, key)
        finally:
            await api.aclose()


async def _serve(context: Context, api: BotApi, settings: Settings, key: tuple[str, str, str]) -> None:
    now = context.clock().isoformat
    try:
        me = await api.get_me()
        earlier = status(context.store)
        # Another bot's last update and error aren't this one's.
        fresh = {} if earlier.get("bot") == bot_id(settings) else {"last_update": "", "error_at": ""}
        with contextlib.suppress(ApiError):
            await api.call("deleteWebhook")  # polling only works without one
        await note_status(
            context,
            state="connected",
            name=str(me.get("username") or ""),
            error="",
            bot=bot_id(settings),
            at=now(),
            **fresh,
        )
        bot = Bot(context, api, settings)
        await _first(bot.receive(), bot.send_loop(), _until_changed(context, key))
    except (Refused, ApiError) as exc:
        refused = isinstance(exc, Refused) or (isinstance(exc, ApiError) and exc.unauthorized)
        if refused:
            log.warning("the %s bot's token was refused", settings.bot_platform)
            await note_status(context, state="refused", error="401", bot=bot_id(settings), at=now())
            await _until_changed(context, key)  # nothing more until the owner changes the token
        else:
            await note_status(context, state="error", error=str(exc), bot=bot_id(settings), at=now())
            await _first(asyncio.sleep(RETRY_S), _until_changed(context, key))
