"""The shop's side of an e-mail conversation, e-mailed in the customer's thread: the bot's sure
answers and the owner's replies (the events ``message.bot`` of kind "answer" and
``message.owner`` of the e-mail channel; a menu, a question back or "the owner will reply"
are not e-mailed: those conversations wait in the inbox).

Each reply is "Re:" the thread's subject, answers the customer's last e-mail (In-Reply-To), carries
the thread on (References), and quotes that e-mail under it, so the customer's mail program
shows the whole history. The bot's carry ``Auto-Submitted: auto-replied`` (RFC 3834: other
robots don't answer them). Our Message-ID is kept (mail_threads) before the e-mail is queued
(ops/mailer.py's outbox, which sends and retries), in the same transaction as the reader's
place: a restart neither loses nor repeats a reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from datetime import datetime

from appliance import i18n
from appliance.channels import mail_threads
from appliance.channels.context import Context
from appliance.clock import Clock
from appliance.conversations import events
from appliance.conversations.store import Channel, Conversations
from appliance.db import Store
from appliance.ops import mailer
from appliance.settings import Settings

log = logging.getLogger(__name__)
READER = "email-out"
IDLE_S = 30.0  # a look even without a ring (a ring missed while a send was being prepared)
_RE = re.compile(r"^\s*(re|aw|sv|پاسخ)\s*:", re.I)


async def run(context: Context) -> None:
    await context.store.run(events.start_at_present, context.store, READER, context.clock().isoformat())
    wake = context.bell.subscribe()
    try:
        while True:
            wake.clear()
            await context.store.run(send_pending, context.store, context.clock, context.settings())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), IDLE_S)
    finally:
        context.bell.unsubscribe(wake)


def send_pending(store: Store, clock: Clock, settings: Settings) -> int:
    """Queue the replies owed since the reader's place; returns how many (on the writer thread)."""
    queued = 0
    conversations = Conversations(store, clock)
    while True:
        pending = events.pending(
            store, READER, kinds=(events.BOT_MESSAGE, events.OWNER_MESSAGE), channels=(Channel.EMAIL,)
        )
        if not pending:
            return queued
        for event in pending:
            try:
                queued += _one(store, clock(), settings, conversations, event)
            except Exception:
                # One event that can't be made into an e-mail must not hold every later reply
                # back for ever (the reader would meet it again at each turn): it is logged with
                # its traceback and passed.
                log.exception("the reply of event %d could not be e-mailed; passed", event.id)
                with store.write() as db:
                    events.advance(db, READER, event.id, clock().isoformat())


def _one(store: Store, now: datetime, settings: Settings, conversations: Conversations, event: events.Event) -> int:
    wanted = event.kind == events.OWNER_MESSAGE or event.data.get("kind") == "answer"
    row = conversations.get(event.conversation_id) if wanted and event.conversation_id else None
    if row is None or not row["contact_email"]:
        with store.write() as db:
            events.advance(db, READER, event.id, now.isoformat())
        return 0
    lang = str(event.data.get("lang") or row["lang"] or settings.default_language)
    lang = lang if lang in i18n.LANGUAGES else settings.default_language
    said = mail_threads.thread(store, row["id"])
    theirs = [s for s in said if s.incoming]
    last = theirs[-1] if theirs else None
    shop = settings.shop_name or i18n.t(lang, "bot.the_shop")
    text = str(event.data.get("text") or "")
    if event.data.get("file"):
        # The file stays in the inbox, said in a note without a link (as the widget customer's
        # e-mail does): an e-mail customer has no chat to open, so the note asks them to reply.
        text = "\n\n".join(x for x in (text, i18n.t(lang, "mailbox.file_kept")) if x)
    body = f"{text}\n\n-- \n{shop}"
    if last is not None:
        body += "\n\n" + quote(last, lang, settings.timezone)
    first = theirs[0].subject if theirs else ""
    if first:
        subject = first if _RE.match(first) else f"Re: {first}"
    else:
        subject = i18n.t(lang, "mail.reply_subject").format(shop=shop)
    ours = mailer.message_id(settings)
    headers = {"Message-ID": ours}
    if last is not None:
        headers["In-Reply-To"] = last.message_id
    if said:
        headers["References"] = mail_threads.references(said)
    if event.kind == events.BOT_MESSAGE:
        headers["Auto-Submitted"] = "auto-replied"
    with store.write() as db:
        mail_threads.remember(db, ours, row["id"], incoming=False, now=now.isoformat(), subject=subject, body=text)
        mailer.add(
            db,
            now,
            to=row["contact_email"],
            subject=subject,
            body=body,
            conversation_id=row["id"],
            headers=headers,
        )
        events.advance(db, READER, event.id, now.isoformat())
    return 1


def quote(said: mail_threads.Said, lang: str, tz: str) -> str:
    """The customer's e-mail under the reply, as mail programs quote: a line saying who wrote it
    and when, then each of its lines after "> "."""
    try:
        when = i18n.when(said.sent_at, lang, tz) if said.sent_at else ""
    except (ValueError, OverflowError):  # a date no calendar shows (kept before mail_read checked)
        when = ""
    head = i18n.t(lang, "mailbox.quote_head").format(when=when, name=said.sender).replace("  ", " ")
    lines = said.body.split("\n")
    return head + "\n" + "\n".join(f"> {line}" if line else ">" for line in lines)
