"""The shop's Telegram or Bale bot: customers write to it and get the same bot as in the widget,
in conversations of the same inbox; the owner's replies go back through it; the owner's own
chat with it gets the alerts (``notify_owner``).

Two loops run while a bot is set up (``run``), both restarted when its settings change:

- incoming (``Bot.receive``): getUpdates with long polling (the appliance usually has no public
  address). When ``public_url`` is https, a webhook instead: setWebhook with an address and a
  secret keyed by the appliance's secret and the bot's token (the same after a restart), each
  update posted to web/api/telegram_hook.py and taken by ``Bot.take`` the same way; back to
  polling (deleteWebhook) when the address isn't https any more or the bot changes. A customer's text is stored with ``client_id`` "tg:<update_id>" before the offset
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
from collections.abc import Iterator
from dataclasses import dataclass
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
from appliance.channels.telegram_state import (
    api_for,
    bot_id,
    channel_of,
    hook_path_token,
    hook_secret,
    hook_url,
    note_status,
    offset_key,
    status,
    webhook_base,
)
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
    "hooked",
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
    """One bot: its incoming side (``receive`` polling, or ``take`` from the webhook) and its
    outgoing side (``send_loop``)."""


@dataclass(frozen=True)
class Hooked:
    bot: Bot
    secret: str  # what Telegram must send in X-Telegram-Bot-Api-Secret-Token


# The bots taking updates by webhook in this process, by their address's path token (what
# web/api/telegram_hook.py looks up): one while the worker is in webhook mode, none otherwise.
_hooked: dict[str, Hooked] = {}


def hooked(path_token: str) -> Hooked | None:
    return _hooked.get(path_token)


def mode(settings: Settings) -> str:
    """How updates come in with these settings: "webhook" (the public address is https) or
    "polling" (the usual: no public address)."""
    return "webhook" if webhook_base(settings) else "polling"


Key = tuple[str, str, str, str]


def _key(settings: Settings) -> Key:
    return settings.bot_platform, settings.bot_token, settings.bot_api_base, webhook_base(settings)


async def _until_changed(context: Context, key: Key) -> None:
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


@contextlib.contextmanager
def _taking_by_webhook(context: Context, bot: Bot, settings: Settings, url: str) -> Iterator[None]:
    """Webhook mode's incoming side: the route finds the bot while this lasts. It is there before
    setWebhook is called, so that Telegram's first post (at once, for what was waiting) finds it."""
    if not url:
        yield
        return
    path_token = hook_path_token(context.secret, settings)
    _hooked[path_token] = Hooked(bot, hook_secret(context.secret, settings))
    try:
        yield
    finally:
        if path_token in _hooked and _hooked[path_token].bot is bot:
            del _hooked[path_token]


async def _serve(context: Context, api: BotApi, settings: Settings, key: Key) -> None:
    now = context.clock().isoformat
    try:
        me = await api.get_me()
        earlier = status(context.store)
        # Another bot's last update and error aren't this one's.
        fresh = {} if earlier.get("bot") == bot_id(settings) else {"last_update": "", "error_at": ""}
        url = hook_url(context.secret, settings)
        bot = Bot(context, api, settings)
        with _taking_by_webhook(context, bot, settings, url):
            if url:
                await api.call(
                    "setWebhook",
                    {
                        "url": url,
                        "secret_token": hook_secret(context.secret, settings),
                        "allowed_updates": ["message", "callback_query"],
                    },
                )
            else:
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
            # By webhook, updates come through the route (web/api/telegram_hook.py) meanwhile.
            incoming = asyncio.Event().wait() if url else bot.receive()
            await _first(incoming, bot.send_loop(), _until_changed(context, key))
        if url:
            # The settings changed (not the app stopping: then Telegram keeps the updates for
            # the next start): this bot's updates no longer come to this address.
            with contextlib.suppress(ApiError):
                await api.call("deleteWebhook")
    except (Refused, ApiError) as exc:
        refused = isinstance(exc, Refused) or (isinstance(exc, ApiError) and exc.unauthorized)
        if refused:
            log.warning("the %s bot's token was refused", settings.bot_platform)
            await note_status(context, state="refused", error="401", bot=bot_id(settings), at=now())
            await _until_changed(context, key)  # nothing more until the owner changes the token
        else:
            await note_status(context, state="error", error=str(exc), bot=bot_id(settings), at=now())
            await _first(asyncio.sleep(RETRY_S), _until_changed(context, key))
