"""The shop's Telegram or Bale bot: customers' conversations through it, and the owner's own chat.

(The customers' side is being written; ``notify_owner`` is what the owner's-phone alerts use.)
"""

from __future__ import annotations

from typing import Any

from appliance.channels.context import Context
from appliance.channels.telegram_api import ApiError, BotApi, base_for
from appliance.db import read_meta

# The owner's own chat with the bot (linked by a code from the admin page): never a customer's.
OWNER_CHAT_KEY = "bot_owner_chat"


def api_for(context: Context) -> BotApi | None:
    """A client for the bot in the settings in force, or None when no bot is set up."""
    settings = context.settings()
    if not settings.bot_platform or not settings.bot_token:
        return None
    return BotApi(base_for(settings.bot_platform, settings.bot_api_base), settings.bot_token)


def owner_chat(context: Context) -> str | None:
    return read_meta(context.store.read(), OWNER_CHAT_KEY) or None


async def notify_owner(context: Context, text: str, url: str = "") -> bool:
    """Tell the owner ``text`` in their own chat with the shop's bot, with a link to ``url`` (a
    button when it is https: Telegram refuses other buttons' links; else in the text). False
    when no bot or no owner's chat is set up, or the send failed (the caller tries other ways)."""
    chat_id = owner_chat(context)
    api = api_for(context)
    if chat_id is None or api is None:
        return False
    markup: dict[str, Any] | None = None
    if url.startswith("https://"):
        markup = {"inline_keyboard": [[{"text": "↗", "url": url}]]}
    elif url:
        text = f"{text}\n{url}"
    try:
        await api.send_message(chat_id, text, markup)
        return True
    except ApiError:
        return False
    finally:
        await api.aclose()


async def run(context: Context) -> None:
    """Runs until cancelled (channels/runner.py)."""
    return None
