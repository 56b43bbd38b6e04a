"""The shop's bot, incoming: updates (by long polling, ``receive``) become messages of the chat
service, answered as the widget's are. See telegram.py's doc for the order of storing and
confirming that makes an update answered once."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Coroutine
from typing import Any

from appliance import i18n
from appliance.channels.telegram_api import ApiError
from appliance.channels.telegram_bot import MAX_RETRY_S, RETRY_S, BotBase, Refused
from appliance.channels.telegram_owner import code_of, link_owner, owner_chat
from appliance.channels.telegram_state import note_status, offset_key, set_status
from appliance.conversations.chat import MessageRejected
from appliance.conversations.store import Status
from appliance.db import read_meta, write_meta

log = logging.getLogger(__name__)

POLL_TIMEOUT_S = 25  # getUpdates' long poll
CALLBACK_CHOICE, CALLBACK_NONE, CALLBACK_PERSON = "c", "n", "p"


class Incoming(BotBase):
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
                await note_status(self.context, error=str(exc), error_at=self._now())
                await asyncio.sleep(exc.retry_after or pause)
                pause = min(pause * 2, MAX_RETRY_S)
                continue
            fresh = [u for u in updates if int(u.get("update_id", 0)) >= offset]  # not what was confirmed
            if fresh:
                await self._batch(sorted(fresh, key=lambda u: int(u["update_id"])), key)
                offset = max(int(u["update_id"]) for u in fresh) + 1

    async def take(self, update: dict[str, Any]) -> None:
        """One update Telegram posted to the webhook (web/api/telegram_hook.py), stored as a polled
        one is (``_batch``) and answered in the background. Telegram posts an update again when it
        didn't get a 200 in time: a text is recognised by its client id (as one fetched again
        after a crash while polling), a press or a photo by the update ids kept here."""
        update_id = int(update["update_id"])
        if update_id in self.recent:
            return
        try:
            await self._batch([update], offset_key(self.settings))
        except Refused:
            log.warning("the %s bot's token was refused while taking a webhook update", self.channel)
            return
        self.recent.append(update_id)

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
                # Never back: webhook deliveries come concurrently and may finish out of order.
                if offset > int(read_meta(db, key) or 0):
                    write_meta(db, key, str(offset))
                set_status(db, last_update=self._now())

        await self.context.store.run(write)

    def _lang(self, user: Any) -> str:
        code = str(user.get("language_code") or "") if isinstance(user, dict) else ""
        return "fa" if code.startswith("fa") else "en" if code.startswith("en") else self.settings.default_language

    async def _text(self, chat_id: str, text: str, lang: str, update_id: int) -> None:
        owners = chat_id == owner_chat(self.context)
        if not owners and not self.limits.allow(chat_id, self.context.settings().visitor_messages_per_minute):
            await self._say(chat_id, i18n.t(lang, "widget.error.rate_limited"))  # a code guessed, too
            return
        if owners or (
            code_of(text)
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
        self.chat.conversations.channel_visitor(visitor_id, token_hash)
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
