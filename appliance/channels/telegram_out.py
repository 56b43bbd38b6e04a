"""The shop's bot, outgoing: the reader "telegram-out" follows the shop's side of this channel's
conversations (the bot's replies, the owner's, notices) and sends each to its chat."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from appliance import i18n
from appliance.channels.telegram_api import ApiError
from appliance.channels.telegram_bot import MAX_RETRY_S, RETRY_S, BotBase, Refused
from appliance.channels.telegram_in import CALLBACK_CHOICE, CALLBACK_NONE, CALLBACK_PERSON
from appliance.channels.telegram_state import note_status
from appliance.conversations import attachments, events

log = logging.getLogger(__name__)

READER = "telegram-out"
STOP_GRACE_S = 5.0  # a send on its way when the bot stops may finish in this time
CHOICE_LABEL_MAX = 60  # a button's words (Telegram shows about this much)
CAPTION_MAX = 1024  # Telegram's caption limit
TEXT_MAX = 4000  # a message: Telegram takes 4,096 (UTF-16 units, so an emoji counts two)


def pieces(text: str, size: int = TEXT_MAX) -> list[str]:
    """A long text (an owner's reply, a knowledge-base answer) as messages Telegram takes, cut
    between paragraphs, lines or words where it can."""
    out: list[str] = []
    rest = text
    while len(rest) > size:
        # A paragraph's end if there is one in the second half, else a line's, else a word's.
        cut = next((at for sep in ("\n\n", "\n", " ") if (at := rest.rfind(sep, 0, size)) >= size // 2), size)
        out.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        out.append(rest)
    return out


class Outgoing(BotBase):
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
                await note_status(self.context, error=str(exc), error_at=self._now())
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
        *first, last = pieces(text)
        for piece in first:
            await self.api.send_message(chat_id, piece)
        await self.api.send_message(chat_id, last, markup)  # the buttons under the end

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
            for piece in pieces(text):
                await self.api.send_message(chat_id, piece)
        for row in rows:
            method, field = ("sendPhoto", "photo") if row["kind"] == "image" else ("sendDocument", "document")
            await self.api.send_file(method, field, chat_id, row["name"], bytes(row["data"]), row["mime"], caption)
            caption = ""
