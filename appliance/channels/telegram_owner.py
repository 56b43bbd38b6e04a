"""The owner's own chat with the shop's bot: linked with a code the admin page shows, and told the
alerts (``notify_owner``). It is never a customer's chat."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from appliance.channels.context import Context
from appliance.channels.telegram_api import ApiError
from appliance.channels.telegram_state import api_for
from appliance.db import Store, read_meta, write_meta
from appliance.text.textnorm import ascii_digits

LINK_CODE_MINUTES = 15
# Wrong codes, from any chats, that use a code up: one chat may try a dozen a minute, and many
# chats together a million in a code's 15 minutes; after these the owner makes a new one.
LINK_CODE_TRIES = 10
OWNER_CHAT_KEY = "bot_owner_chat"  # the owner's own chat with the bot: never a customer's
LINK_CODE_KEY = "bot_link_code"  # {"hash", "expires"}: the code the admin page shows, hashed


def owner_chat(context: Context) -> str | None:
    return read_meta(context.store.read(), OWNER_CHAT_KEY) or None


def owner_linked(store: Store) -> bool:
    return bool(read_meta(store.read(), OWNER_CHAT_KEY))


def _code_hash(secret: bytes, code: str) -> str:
    return hmac.new(secret, b"bot-link:" + code.encode(), hashlib.sha256).hexdigest()


def new_link_code(store: Store, secret: bytes, now: datetime) -> str:
    """A code for the owner to send to the bot, valid LINK_CODE_MINUTES (only its keyed hash is
    kept; a new one replaces the last). Called from a thread (the admin page)."""
    code = f"{secrets.randbelow(10**6):06d}"
    expires = (now + timedelta(minutes=LINK_CODE_MINUTES)).isoformat()
    with store.write() as db:
        write_meta(db, LINK_CODE_KEY, json.dumps({"hash": _code_hash(secret, code), "expires": expires}))
    return code


def unlink_owner(store: Store) -> None:
    with store.write() as db:
        write_meta(db, OWNER_CHAT_KEY, "")


def code_of(text: str) -> str:
    """The six digits of "/start 123456" or "123456" (Persian digits too), else ""."""
    words = ascii_digits(text).replace("/start", " ").split()
    return words[0] if len(words) == 1 and words[0].isdigit() and len(words[0]) == 6 else ""


def link_owner(store: Store, secret: bytes, now: datetime, chat_id: str, text: str) -> bool:
    """The owner's chat, if ``text`` is the code in force ("/start 123456" or just the digits,
    Persian ones too): it becomes the owner's and the code is used up."""
    code = code_of(text)
    if not code:
        return False
    with store.write() as db:
        raw = read_meta(db, LINK_CODE_KEY)
        if not raw:
            return False
        stored = json.loads(raw)
        if stored.get("expires", "") < now.isoformat():
            return False
        if not hmac.compare_digest(stored.get("hash", ""), _code_hash(secret, code)):
            wrong = int(stored.get("wrong", 0)) + 1
            # Used up after LINK_CODE_TRIES wrong ones: a linked chat receives customers' words.
            write_meta(db, LINK_CODE_KEY, "" if wrong >= LINK_CODE_TRIES else json.dumps({**stored, "wrong": wrong}))
            return False
        write_meta(db, OWNER_CHAT_KEY, chat_id)
        write_meta(db, LINK_CODE_KEY, "")
    return True


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
