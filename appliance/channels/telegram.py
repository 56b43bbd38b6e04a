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
import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from collections import deque
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any, TypeVar

import anyio

from appliance import i18n
from appliance.channels.context import Context
from appliance.channels.telegram_api import ApiError, BotApi, base_for
from appliance.conversations import attachments, events
from appliance.conversations.chat import ChatService, MessageRejected
from appliance.conversations.store import Channel, Status
from appliance.db import Store, read_meta, write_meta
from appliance.settings import Settings
from appliance.text.textnorm import ascii_digits

log = logging.getLogger(__name__)
T = TypeVar("T")

READER = "telegram-out"
POLL_TIMEOUT_S = 25  # getUpdates' long poll
IDLE_S = 2.0  # how often settings are looked at while no bot is set up (or it was refused)
RETRY_S = 5.0  # after an unreachable API: the longest pause grows from this
MAX_RETRY_S = 120.0
STOP_GRACE_S = 5.0  # a send on its way when the bot stops may finish in this time
LINK_CODE_MINUTES = 15
CALLBACK_CHOICE, CALLBACK_NONE, CALLBACK_PERSON = "c", "n", "p"
CHOICE_LABEL_MAX = 60  # a button's words (Telegram shows about this much)
CAPTION_MAX = 1024  # Telegram's caption limit

# meta keys
OWNER_CHAT_KEY = "bot_owner_chat"  # the owner's own chat with the bot: never a customer's
LINK_CODE_KEY = "bot_link_code"  # {"hash", "expires"}: the code the admin page shows, hashed
STATUS_KEY = "bot_status"  # what the admin page says: state, the bot's name, the last update and error


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


# -- what the admin page shows --------------------------------------------------------------------


def status(store: Store) -> dict[str, Any]:
    """What the bot last said of itself: state (connected, refused, error), name, platform,
    at, last_update, error, error_at."""
    raw = read_meta(store.read(), STATUS_KEY)
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        value = {}
    return value if isinstance(value, dict) else {}


def _set_status(db: Any, **changes: Any) -> None:
    raw = read_meta(db, STATUS_KEY)
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        value = {}
    value.update(changes)
    write_meta(db, STATUS_KEY, json.dumps(value, ensure_ascii=False))


async def _note_status(context: Context, **changes: Any) -> None:
    def write() -> None:
        with context.store.write() as db:
            _set_status(db, **changes)

    await context.store.run(write)


# -- the owner's chat -----------------------------------------------------------------------------


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


def _code_of(text: str) -> str:
    """The six digits of "/start 123456" or "123456" (Persian digits too), else ""."""
    words = ascii_digits(text).replace("/start", " ").split()
    return words[0] if len(words) == 1 and words[0].isdigit() and len(words[0]) == 6 else ""


def link_owner(store: Store, secret: bytes, now: datetime, chat_id: str, text: str) -> bool:
    """The owner's chat, if ``text`` is the code in force ("/start 123456" or just the digits,
    Persian ones too): it becomes the owner's and the code is used up."""
    code = _code_of(text)
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


# -- limits ---------------------------------------------------------------------------------------


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


# -- one bot --------------------------------------------------------------------------------------


class Refused(Exception):
    """The API refused the token (401): nothing more until the owner changes it."""


class Bot:
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

    # -- incoming ----------------------------------------------------------------------------

    async def receive(self) -> None:
        store = self.context.store
        key = offset_key(self.settings)
        offset = int(read_meta(store.read(), key) or 0)
        pause = RETRY_S
        while True:
            try:
                updates = await self.api.get_updates(offset, POLL_TIMEOUT_S)
                pause = RETRY_S
            except ApiError as exc:
                if exc.unauthorized:
                    raise Refused() from None
                await _note_status(self.context, error=str(exc), error_at=self._now())
                await asyncio.sleep(exc.retry_after or pause)
                pause = min(pause * 2, MAX_RETRY_S)
                continue
            fresh = [u for u in updates if int(u.get("update_id", 0)) >= offset]  # not what was confirmed
            if fresh:
                await self._batch(sorted(fresh, key=lambda u: int(u["update_id"])), key)
                offset = max(int(u["update_id"]) for u in fresh) + 1

    async def _batch(self, updates: list[dict[str, Any]], key: str) -> None:
        """One getUpdates' worth. Customers' texts are stored first, each chat's in order and the
        chats at once, then the offset moves past them all (one write, not one per update): a
        crash before that fetches them again, and ``accept``'s client id recognises them. A
        press or a photo moves the offset before it is handled (see the module's doc)."""
        texts: list[tuple[int, str, str, str]] = []
        for update in updates:
            update_id = int(update["update_id"])
            message = update.get("message")
            chat = message.get("chat") if isinstance(message, dict) else None
            if isinstance(message, dict) and isinstance(chat, dict):
                if chat.get("type", "private") != "private":
                    continue  # the bot answers people, not groups
                text = message.get("text") or ""
                lang = self._lang(message.get("from"))
                if text and not message.get("photo") and not message.get("document"):
                    texts.append((update_id, str(chat.get("id")), text, lang))
                    continue
                await self._store_texts(texts, key, update_id)
                texts = []
                self._in_turn(str(chat.get("id")), self._file(str(chat.get("id")), message, lang))
            elif isinstance(update.get("callback_query"), dict):
                callback = update["callback_query"]
                await self._store_texts(texts, key, update_id)
                texts = []
                chat_id = str(((callback.get("message") or {}).get("chat") or {}).get("id"))
                self._in_turn(chat_id, self._press(callback))
        await self._store_texts(texts, key, int(updates[-1]["update_id"]))

    async def _store_texts(self, texts: list[tuple[int, str, str, str]], key: str, upto: int) -> None:
        """Store these texts (chats at once, each chat's in order), then confirm every update up
        to ``upto``."""
        by_chat: dict[str, list[tuple[int, str, str, str]]] = {}
        for item in texts:
            by_chat.setdefault(item[1], []).append(item)

        async def one_chat(items: list[tuple[int, str, str, str]]) -> None:
            for update_id, chat_id, text, lang in items:
                try:
                    await self._text(chat_id, text, lang, update_id)
                except ApiError as exc:
                    if exc.unauthorized:
                        raise Refused() from None
                    log.warning("a %s update could not be handled: %s", self.channel, exc)
                except Refused:
                    raise
                except Exception:
                    # One update that can't be handled must not stop the others behind it.
                    log.exception("a %s update could not be handled", self.channel)

        await asyncio.gather(*(one_chat(items) for items in by_chat.values()))
        await self._save_offset(key, upto + 1)

    async def _save_offset(self, key: str, offset: int) -> None:
        def write() -> None:
            with self.context.store.write() as db:
                write_meta(db, key, str(offset))
                _set_status(db, last_update=self._now())

        await self.context.store.run(write)

    def _lang(self, user: Any) -> str:
        code = str(user.get("language_code") or "") if isinstance(user, dict) else ""
        return "fa" if code.startswith("fa") else "en" if code.startswith("en") else self.settings.default_language

    async def _say(self, chat_id: str, text: str) -> None:
        """A word to the customer that isn't part of the conversation (a refusal, the link)."""
        with contextlib.suppress(ApiError):
            await self.api.send_message(chat_id, text)

    async def _text(self, chat_id: str, text: str, lang: str, update_id: int) -> None:
        owners = chat_id == owner_chat(self.context)
        if not owners and not self.limits.allow(chat_id, self.context.settings().visitor_messages_per_minute):
            await self._say(chat_id, i18n.t(lang, "widget.error.rate_limited"))  # a code guessed, too
            return
        if owners or (
            _code_of(text)
            and await self._thread(
                link_owner, self.context.store, self.context.secret, self.context.clock(), chat_id, text
            )
        ):
            await self._say(chat_id, i18n.t(lang, "telegram.owner_linked"))
            return
        if text.strip().split(" ", 1)[0] in {"/start", "/help"}:
            await self._greet(chat_id, lang)
            return
        conversation_id = await self._conversation(chat_id, lang)
        try:
            message_id, repeated = await self.chat.accept(conversation_id, text, client_id=f"tg:{update_id}")
        except MessageRejected as exc:
            too_long = exc.code == "too_long"
            await self._say(
                chat_id, i18n.t(lang, "widget.error.too_long") if too_long else i18n.t(lang, "widget.error.failed")
            )
            return
        if repeated and await self._thread(self._decided, conversation_id, message_id):
            return  # fetched again after a crash: answered (or escalated) already
        self._in_turn(chat_id, self._answer(conversation_id, message_id, text))

    def _decided(self, conversation_id: str, message_id: int) -> bool:
        """Whether a stored message was dealt with: replied to (or escalated, which replies too),
        or held while the owner has the conversation (answering again would only hold it again)."""
        conversations = self.chat.conversations
        return conversations.reply_to(message_id) is not None or conversations.status(conversation_id) is Status.HUMAN

    def _in_turn(self, chat_id: str, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` after the chat's earlier work (answers, presses, photos), in the
        background: different chats' run at once, and the next updates are fetched meanwhile."""
        before = self.chats.get(chat_id)

        async def in_turn() -> None:
            if before is not None:
                with contextlib.suppress(BaseException):
                    await asyncio.shield(before)
            try:
                await work
            except Exception:
                log.exception("a %s update could not be handled", self.channel)

        task = asyncio.create_task(in_turn())
        self.chats[chat_id] = task
        task.add_done_callback(lambda t: self.chats.pop(chat_id, None) if self.chats.get(chat_id) is t else None)

    async def _answer(self, conversation_id: str, message_id: int, text: str) -> None:
        # A few answers at once, the rest waiting their turn in order: fifty deciding at once in
        # fifty threads share the cores and the GIL, starve the event loop, and all finish late.
        async with self.deciding:
            if self.chat.answering(conversation_id, message_id) is None:
                with contextlib.suppress(Exception):  # logged by the chat service
                    await self.chat.answer_in_background(conversation_id, message_id, text)

    async def _greet(self, chat_id: str, lang: str) -> None:
        settings = self.context.settings()
        shop = settings.shop_name
        await self._say(chat_id, settings.greeting_for(lang) or i18n.t(lang, "bot.greeting").format(shop=shop))

    async def _conversation(self, chat_id: str, lang: str) -> str:
        """The chat's open conversation, or a new one (after a resolved one, too)."""
        chat = self.chat
        row = chat.conversations.by_channel_ref(self.channel, chat_id)
        if row is not None and row["status"] != Status.RESOLVED:
            return str(row["id"])
        visitor = await self.context.store.run(self._visitor, chat_id)
        return await chat.start_conversation(lang=lang, channel=self.channel, visitor_id=visitor, channel_ref=chat_id)

    def _visitor(self, chat_id: str) -> str:
        """The chat's visitor: all its conversations are one customer's (privacy.customer_ids).
        Its id is a keyed hash of the chat, so the same chat is the same visitor again."""
        secret = self.context.secret
        visitor_id = "tg-" + hmac.new(secret, f"visitor:{self.channel}:{chat_id}".encode(), "sha256").hexdigest()[:20]
        # No token opens it from the widget: the token's hash is of a value nobody is given.
        token_hash = hmac.new(secret, f"token:{visitor_id}".encode(), "sha256").hexdigest()
        now = self._now()
        with self.context.store.write() as db:
            db.execute(
                "INSERT INTO visitors (id, token_hash, ip_hash, created_at, last_seen_at) VALUES (?, ?, '', ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET last_seen_at = excluded.last_seen_at",
                [visitor_id, token_hash, now, now],
            )
        return visitor_id

    async def _file(self, chat_id: str, message: dict[str, Any], lang: str) -> None:
        """A photo (or a picture sent as a file) goes to a person, like the widget's."""
        if chat_id == owner_chat(self.context):
            return
        if not self.limits.allow(chat_id, self.context.settings().visitor_messages_per_minute):
            await self._say(chat_id, i18n.t(lang, "widget.error.rate_limited"))
            return
        photos = message.get("photo")
        document = message.get("document")
        if isinstance(photos, list) and photos:
            # The largest size the API offers that fits under the cap.
            max_bytes = self.context.settings().attachment_max_bytes
            fitting = [p for p in photos if int(p.get("file_size") or 0) <= max_bytes] or photos[:1]
            file_id, name = str(fitting[-1].get("file_id")), "photo.jpg"
        elif isinstance(document, dict) and str(document.get("mime_type", "")).startswith("image/"):
            file_id, name = str(document.get("file_id")), str(document.get("file_name") or "photo")
        else:
            await self._say(chat_id, i18n.t(lang, "widget.error.not_photo"))
            return
        max_bytes = self.context.settings().attachment_max_bytes
        content = await self.api.download(file_id, max_bytes)
        if content is None:
            await self._say(chat_id, i18n.t(lang, "widget.error.photo_too_big"))
            return
        conversation_id = await self._conversation(chat_id, lang)
        caption = str(message.get("caption") or "")[: self.context.settings().max_message_chars]
        try:
            await self.chat.send_photo(conversation_id, content, name, caption, lang, max_bytes)
        except MessageRejected as exc:
            words = (
                i18n.t(lang, exc.code) if exc.code.startswith("attachment.") else i18n.t(lang, "widget.error.failed")
            )
            await self._say(chat_id, words)

    async def _press(self, callback: dict[str, Any]) -> None:
        """A button under one of the bot's replies: a choice, "none of these", "talk to a person"."""
        callback_id = str(callback.get("id", ""))
        try:
            message = callback.get("message") or {}
            chat_id = str((message.get("chat") or {}).get("id"))
            lang = self._lang(callback.get("from"))
            data = str(callback.get("data") or "")
            row = self.chat.conversations.by_channel_ref(self.channel, chat_id)
            if row is None or chat_id == owner_chat(self.context):
                return
            if not self.limits.allow(chat_id, self.context.settings().visitor_messages_per_minute):
                return
            conversation_id = str(row["id"])
            lang = row["lang"] or lang
            kind, _, rest = data.partition(":")
            if kind == CALLBACK_PERSON:
                await self.chat.handoff(conversation_id, i18n.t(lang, "widget.person_label"), lang)
            elif kind == CALLBACK_NONE:
                words = i18n.t(lang, "widget.none_of_these")
                await self.chat.handoff(conversation_id, words, lang, reason="clarification_failed")
            elif kind == CALLBACK_CHOICE:
                reply_id, _, index = rest.partition(":")
                choice = await self._thread(self._choice, conversation_id, reply_id, index)
                if choice is not None:
                    with contextlib.suppress(MessageRejected):
                        await self.chat.choose(conversation_id, choice["id"], choice.get("title", ""))
        finally:
            with contextlib.suppress(ApiError):
                await self.api.answer_callback(callback_id)

    def _choice(self, conversation_id: str, reply_id: str, index: str) -> dict[str, str] | None:
        """The choice a button names (by the reply it is under and its place: an entry's id may
        be longer than the 64 bytes a button carries)."""
        if not reply_id.isdigit() or not index.isdigit():
            return None
        for item in self.chat.conversations.history(conversation_id, after=int(reply_id) - 1):
            if item["id"] == int(reply_id):
                choices = item.get("choices") or []
                return choices[int(index)] if int(index) < len(choices) else None
        return None

    # -- outgoing ----------------------------------------------------------------------------

    async def send_loop(self) -> None:
        store = self.context.store
        await self._thread(events.start_at_present, store, READER, self._now())
        self.rung = rung = self.context.bell.subscribe()
        try:
            while True:
                rung.clear()
                pending = events.pending(store, READER, kinds=events.SHOP_SIDE, channels=[self.channel])
                # Sent already, its mark on its way to the database: not again.
                pending = [e for e in pending if e.id > self.sent_upto]
                if pending:
                    await self._deliver_batch(pending)
                else:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(rung.wait(), 10)
        finally:
            self.context.bell.unsubscribe(rung)

    async def _deliver_batch(self, batch: list[events.Event]) -> None:
        """Send a batch: each conversation's events in order, the conversations at once (a real
        API is a round trip away: one after the other, fifty replies would wait seconds). The
        place moves as far as every event before it is sent, after each send, so that a crash
        repeats as little as can be (a send and its mark can't be one transaction: the API has
        no idempotency key). The mark is written in the background (``_mark``): under load
        the writer is busy storing customers' messages and answers, and the next replies
        shouldn't wait for it. Stopped meanwhile (the app shutting down, new settings), the
        sends on their way are let finish and are marked."""
        ids = [e.id for e in batch]
        sent: set[int] = set()
        prefix = 0  # how many of ``ids`` are sent, with every one before them

        def sent_one(event_id: int) -> None:
            nonlocal prefix
            sent.add(event_id)
            while prefix < len(ids) and ids[prefix] in sent:
                prefix += 1
            if prefix:
                self._mark(ids[prefix - 1])

        async def conversation(items: list[events.Event]) -> None:
            for event in items:
                await self._deliver(event)
                sent_one(event.id)

        by_conversation: dict[str | None, list[events.Event]] = {}
        for event in batch:
            by_conversation.setdefault(event.conversation_id, []).append(event)
        sending = asyncio.ensure_future(asyncio.gather(*(conversation(i) for i in by_conversation.values())))
        try:
            await asyncio.shield(sending)
        except asyncio.CancelledError:
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(sending), STOP_GRACE_S)
            sending.cancel()
            if self.sent_upto > self.marked:  # the last mark, before the app closes the database
                await self.context.store.run(self._advance, self.sent_upto)
            raise

    def _mark(self, upto: int) -> None:
        """Everything up to event ``upto`` was sent: say so in the database soon (one write at a
        time, of the latest place), and wake the loop once it is written."""
        self.sent_upto = max(self.sent_upto, upto)
        if self.marker is None or self.marker.done():
            self.marker = asyncio.create_task(self._write_marks())

    async def _write_marks(self) -> None:
        while self.marked < self.sent_upto:
            upto = self.sent_upto
            await self.context.store.run(self._advance, upto)
            self.marked = upto
        if self.rung is not None:
            self.rung.set()  # events held back as "sent, not yet marked" are read past now

    def _advance(self, event_id: int) -> None:
        with self.context.store.write() as db:
            events.advance(db, READER, event_id, self._now())

    async def _deliver(self, event: events.Event) -> None:
        """Send one event to its chat, waiting out the API's limits; a chat that can't be
        written to (the customer blocked the bot) is skipped."""
        pause = RETRY_S
        while True:
            try:
                await self._send(event)
                return
            except ApiError as exc:
                if exc.unauthorized:
                    raise Refused() from None
                if exc.blocked:
                    log.info("a %s chat can't be written to (%s): skipped", self.channel, exc.status)
                    return
                await _note_status(self.context, error=str(exc), error_at=self._now())
                await asyncio.sleep(exc.retry_after or pause)
                if not exc.retry_after:
                    pause = min(pause * 2, MAX_RETRY_S)

    async def _send(self, event: events.Event) -> None:
        conversation_id = event.conversation_id or ""
        row = self.chat.conversations.get(conversation_id)
        if row is None or not row["channel_ref"] or event.message_id is None:
            return  # erased meanwhile
        chat_id = str(row["channel_ref"])
        lang = str(event.data.get("lang") or row["lang"] or self.settings.default_language)
        text = str(event.data.get("text") or "")
        if event.kind == events.OWNER_MESSAGE and event.data.get("file"):
            await self._send_files(chat_id, conversation_id, event.message_id, text)
            return
        if not text:
            return
        markup = None
        if event.kind == events.BOT_MESSAGE:
            if event.data.get("kind") in {"answer", "escalate"}:  # no choices to look up
                markup = self._buttons(conversation_id, event, lang)
            else:
                markup = await self._thread(self._buttons, conversation_id, event, lang)
        await self.api.send_message(chat_id, text, markup)

    def _buttons(self, conversation_id: str, event: events.Event, lang: str) -> dict[str, Any] | None:
        """What the widget offers under this reply: its choices (and "none of these"), or "talk to
        a person" under an answer that didn't hand over already."""
        kind = event.data.get("kind")
        if kind == "escalate":
            return None
        rows: list[list[dict[str, str]]] = []
        assert event.message_id is not None
        if kind != "answer":
            history = self.chat.conversations.history(conversation_id, after=event.message_id - 1)
            item = next((i for i in history if i["id"] == event.message_id), None)
            for n, choice in enumerate((item or {}).get("choices") or []):
                title = str(choice.get("title") or "")[:CHOICE_LABEL_MAX] or str(n + 1)
                rows.append([{"text": title, "callback_data": f"{CALLBACK_CHOICE}:{event.message_id}:{n}"}])
            if rows and kind == "clarify":
                rows.append([{"text": i18n.t(lang, "widget.none_of_these"), "callback_data": CALLBACK_NONE}])
        if not rows:
            rows.append([{"text": i18n.t(lang, "widget.person"), "callback_data": CALLBACK_PERSON}])
        return {"inline_keyboard": rows}

    async def _send_files(self, chat_id: str, conversation_id: str, message_id: int, text: str) -> None:
        def files() -> list[Any]:
            db = self.context.store.read()
            listed = attachments.of_conversation(db, conversation_id).get(message_id, [])
            return [row for item in listed if (row := attachments.get(db, item["id"])) is not None]

        rows = await self._thread(files)
        caption = text if len(text) <= CAPTION_MAX else ""
        if text and not caption:
            await self.api.send_message(chat_id, text)
        for row in rows:
            method, field = ("sendPhoto", "photo") if row["kind"] == "image" else ("sendDocument", "document")
            await self.api.send_file(method, field, chat_id, row["name"], bytes(row["data"]), row["mime"], caption)
            caption = ""


# -- the worker -----------------------------------------------------------------------------------


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
        await _note_status(
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
            await _note_status(context, state="refused", error="401", bot=bot_id(settings), at=now())
            await _until_changed(context, key)  # nothing more until the owner changes the token
        else:
            await _note_status(context, state="error", error=str(exc), bot=bot_id(settings), at=now())
            await _first(asyncio.sleep(RETRY_S), _until_changed(context, key))
