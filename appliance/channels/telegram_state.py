"""The shop's bot in the settings: which bot it is, a client for it, and what the admin page shows
of it (kept in ``meta``: the state, the bot's name, the last update and error)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from appliance.channels.context import Context
from appliance.channels.telegram_api import BotApi, base_for
from appliance.conversations.store import Channel
from appliance.db import Store, read_meta, write_meta
from appliance.settings import Settings

STATUS_KEY = "bot_status"  # what the admin page says: state, the bot's name, the last update and error
HOOK_PATH = "/api/v1/channels/telegram/"  # web/api/telegram_hook.py: the webhook's address, then its path token


def bot_id(settings: Settings) -> str:
    """Which bot the settings name: the platform and the token's public half (the bot's id)."""
    return f"{settings.bot_platform}:{settings.bot_token.split(':', 1)[0]}"


def offset_key(settings: Settings) -> str:
    """getUpdates' offset belongs to one bot."""
    return f"bot_offset:{bot_id(settings)}"


def channel_of(settings: Settings) -> Channel:
    return Channel.BALE if settings.bot_platform == "bale" else Channel.TELEGRAM


def api_for(context: Context) -> BotApi | None:
    """A client for the bot in the settings in force, or None when no bot is set up."""
    settings = context.settings()
    if not settings.bot_platform or not settings.bot_token:
        return None
    return BotApi(base_for(settings.bot_platform, settings.bot_api_base), settings.bot_token)


def status(store: Store) -> dict[str, Any]:
    """What the bot last said of itself: state (connected, refused, error), name, platform,
    at, last_update, error, error_at."""
    raw = read_meta(store.read(), STATUS_KEY)
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        value = {}
    return value if isinstance(value, dict) else {}


def set_status(db: Any, **changes: Any) -> None:
    raw = read_meta(db, STATUS_KEY)
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        value = {}
    value.update(changes)
    write_meta(db, STATUS_KEY, json.dumps(value, ensure_ascii=False))


async def note_status(context: Context, **changes: Any) -> None:
    def write() -> None:
        with context.store.write() as db:
            set_status(db, **changes)

    await context.store.run(write)


# -- webhook mode ---------------------------------------------------------------------------------


def webhook_base(settings: Settings) -> str:
    """Where Telegram would post updates: the public address, only when it is https (Telegram posts
    to nothing else; the appliance usually sits behind a router with no public address, and polls).
    "" means long polling."""
    url = settings.public_url.strip().rstrip("/")
    return url if url.lower().startswith("https://") else ""


def _keyed(secret: bytes, purpose: str, settings: Settings) -> str:
    # Keyed by the appliance's secret and the bot's whole token: the same after a restart, another
    # for another bot, and nobody who knows only the public address can work it out.
    message = f"{purpose}:{settings.bot_platform}:{settings.bot_token}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def hook_path_token(secret: bytes, settings: Settings) -> str:
    """The last part of the webhook's address."""
    return _keyed(secret, "bot-hook-path", settings)[:32]


def hook_secret(secret: bytes, settings: Settings) -> str:
    """What Telegram sends in X-Telegram-Bot-Api-Secret-Token (its alphabet: A-Z a-z 0-9 _ -)."""
    return _keyed(secret, "bot-hook-secret", settings)


def hook_url(secret: bytes, settings: Settings) -> str:
    base = webhook_base(settings)
    return f"{base}{HOOK_PATH}{hook_path_token(secret, settings)}" if base else ""
