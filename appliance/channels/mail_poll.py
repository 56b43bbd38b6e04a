"""The support mailbox, read over IMAP: each new e-mail becomes a customer's message in its
conversation (a new thread, a new conversation), and the bot answers it only when it is sure.

The mailbox is opened read-only (EXAMINE, BODY.PEEK): the owner's own mail program still shows
the e-mails as unread. Where we are is kept in ``meta`` (``mailbox.state``: the account, its
UIDVALIDITY and the last UID done, moved after each e-mail), so a restart reads no e-mail
twice; an e-mail is also stored under its Message-ID (chat.accept's ``client_id``, and
``mail_ids``), so one read again by accident changes nothing. On the first look at a mailbox
(or when the server renumbered it: a new UIDVALIDITY) only the last day's e-mails are read, not
years of history. Automatic e-mails (mail_read.automatic) are counted and stored nowhere.

The IMAP conversation is blocking (imaplib) and runs in a worker thread; the chat's work is on
the event loop like the widget's.
"""

from __future__ import annotations

import base64
import functools
import imaplib
import json
import logging
import re
import ssl
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import anyio

from appliance.channels import mail_read, mail_threads
from appliance.clock import Clock
from appliance.conversations.chat import ChatService, MessageRejected
from appliance.conversations.store import Channel
from appliance.db import Store, read_meta, write_meta
from appliance.settings import Settings

log = logging.getLogger(__name__)

STATE_KEY = "mailbox.state"
ASKED_KEY = "mailbox.asked"  # the admin's "check now", read by the worker (channels/email_in.py)
TIMEOUT_S = 30
BATCH = 50  # e-mails taken in one check; the rest in the next one
MAX_BYTES = 10 * 1024 * 1024  # an e-mail larger than this is read by its headers only
BATCH_BYTES = 20 * 1024 * 1024  # e-mails held at once by a check, about
FIRST_LOOK = timedelta(days=1)
_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")


class MailboxError(Exception):
    """The mailbox couldn't be read; ``kind`` says why in a word the admin page puts in the
    owner's language (auth, connect, tls, folder, protocol)."""

    def __init__(self, kind: str, detail: str = ""):
        super().__init__(f"{kind}: {detail}".strip(": "))
        self.kind = kind
        self.detail = detail[:300]


@dataclass
class State:
    account: str = ""
    uidvalidity: int = 0
    last_uid: int = 0
    checked_at: str = ""
    read: int = 0  # e-mails that became customers' messages, since the mailbox was set up
    skipped: int = 0  # automatic e-mails left alone
    last_skipped: str = ""  # why the last one was (mail_read.automatic's word)
    unreadable: int = 0  # e-mails the reading failed on (logged; still in the mailbox)
    error: str = ""  # the last check's failure (MailboxError.kind), "" when it went well
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def account(settings: Settings) -> str:
    """The mailbox a state is about: another server, user or folder starts afresh."""
    return f"{settings.imap_user}@{settings.imap_host}:{settings.imap_port}/{settings.imap_folder}"


def state(store: Store) -> State:
    raw = read_meta(store.read(), STATE_KEY)
    if not raw:
        return State()
    try:
        data = json.loads(raw)
        return State(**{k: v for k, v in data.items() if k in State.__dataclass_fields__})
    except (ValueError, TypeError):
        return State()


def _save(store: Store, st: State) -> None:
    with store.write() as db:
        write_meta(db, STATE_KEY, json.dumps(st.__dict__, ensure_ascii=False))


def asked(store: Store) -> str:
    return read_meta(store.read(), ASKED_KEY) or ""


def ask(store: Store, now: str) -> None:
    """The owner's "check now" (the worker sees it at the next ring of the bell)."""
    with store.write() as db:
        write_meta(db, ASKED_KEY, now)


# -- IMAP (blocking: a worker thread) ---------------------------------------------------------------


def _connect(settings: Settings) -> imaplib.IMAP4:
    host, port = settings.imap_host, settings.imap_port
    try:
        if settings.imap_security == "ssl":
            return imaplib.IMAP4_SSL(host, port, ssl_context=ssl.create_default_context(), timeout=TIMEOUT_S)
        conn = imaplib.IMAP4(host, port, timeout=TIMEOUT_S)
        if settings.imap_security == "starttls":
            conn.starttls(ssl_context=ssl.create_default_context())
        return conn
    except ssl.SSLError as exc:
        raise MailboxError("tls", str(exc)) from None
    except OSError as exc:  # socket timeouts included
        raise MailboxError("connect", f"{type(exc).__name__}: {exc}") from None
    except imaplib.IMAP4.error as exc:
        raise MailboxError("tls" if settings.imap_security == "starttls" else "protocol", str(exc)) from None


def _ok(result: tuple[str, list[Any]], kind: str) -> list[Any]:
    typ, data = result
    if typ != "OK":
        raise MailboxError(kind, b" ".join(d for d in data if isinstance(d, bytes)).decode(errors="replace"))
    return data


def fetch(settings: Settings, st: State, since: str) -> tuple[int, list[tuple[int, bytes]]]:
    """(the mailbox's UIDVALIDITY, the new e-mails as (UID, raw bytes), oldest first). ``since``:
    the IMAP date ("07-Dec-2026") from which a first look reads. Raises MailboxError."""
    conn = _connect(settings)
    try:
        try:
            _sign_in(conn, settings.imap_user, settings.imap_password)
        except imaplib.IMAP4.error as exc:
            raise MailboxError("auth", str(exc)) from None
        try:
            _ok(conn.select(_quoted(settings.imap_folder), readonly=True), "folder")
        except imaplib.IMAP4.error as exc:
            raise MailboxError("folder", str(exc)) from None
        validity = _validity(conn)
        same = st.account == account(settings) and st.uidvalidity == validity and validity != 0
        if same:
            # "n:*" answers the last e-mail even when it is older than n: filtered below too.
            found = _ok(conn.uid("SEARCH", f"UID {st.last_uid + 1}:*"), "protocol")
        else:
            found = _ok(conn.uid("SEARCH", f"SINCE {since}"), "protocol")
        uids = sorted(int(u) for u in b" ".join(found).split() if u.isdigit())
        if same:
            uids = [u for u in uids if u > st.last_uid]
        mails: list[tuple[int, bytes]] = []
        size = 0
        for uid in uids[:BATCH]:
            if size > BATCH_BYTES:
                break  # the rest at the next check: a few large e-mails don't fill the memory
            raw = _one(conn, uid)
            mails.append((uid, raw))
            size += len(raw)
        return validity, mails
    except (OSError, imaplib.IMAP4.abort) as exc:
        raise MailboxError("connect", f"{type(exc).__name__}: {exc}") from None
    except imaplib.IMAP4.error as exc:
        raise MailboxError("protocol", str(exc)) from None
    finally:
        try:
            conn.logout()
        except (OSError, imaplib.IMAP4.error):
            pass


def _sign_in(conn: imaplib.IMAP4, user: str, password: str) -> None:
    if user.isascii() and password.isascii():
        conn.login(user, password)
    else:
        # LOGIN can carry ASCII only (imaplib refuses the rest); SASL PLAIN carries UTF-8, and a
        # Persian password is a password like another.
        conn.authenticate("PLAIN", lambda _: b"\0" + user.encode() + b"\0" + password.encode())


def _validity(conn: imaplib.IMAP4) -> int:
    typ, data = conn.response("UIDVALIDITY")
    value = data[-1] if data else None
    return int(value) if isinstance(value, (bytes, str)) and value.isdigit() else 0


def _one(conn: imaplib.IMAP4, uid: int) -> bytes:
    sizes = _ok(conn.uid("FETCH", str(uid), "(RFC822.SIZE)"), "protocol")
    size = re.search(rb"RFC822\.SIZE (\d+)", b" ".join(s for s in sizes if isinstance(s, bytes)))
    part = "BODY.PEEK[HEADER]" if size and int(size.group(1)) > MAX_BYTES else "BODY.PEEK[]"
    data = _ok(conn.uid("FETCH", str(uid), f"({part})"), "protocol")
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return b""


def _quoted(folder: str) -> str:
    name = folder_name(folder)
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def folder_name(folder: str) -> str:
    """A folder's name as IMAP writes it (RFC 3501's modified UTF-7): «پشتیبانی» is how a Persian
    shop may well name the folder its customers' e-mails are filed in."""
    out, run = [], ""

    def flush() -> None:
        nonlocal run
        if run:
            encoded = base64.b64encode(run.encode("utf-16-be")).decode().rstrip("=").replace("/", ",")
            out.append(f"&{encoded}-")
            run = ""

    for ch in folder:
        if " " <= ch <= "~":
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run += ch
    flush()
    return "".join(out)


# -- the check ------------------------------------------------------------------------------------


async def check(store: Store, clock: Clock, settings: Settings, chat: ChatService) -> State:
    """Read what is new in the mailbox, take each e-mail into its conversation and answer it when
    sure. Never raises for the mailbox's failures: they are kept in the state the admin shows."""
    st = await anyio.to_thread.run_sync(state, store)
    if st.account != account(settings):
        st = State(account=account(settings))  # another mailbox: its own figures, from nothing
    now = clock()
    since = (now - FIRST_LOOK).strftime("%d-%b-%Y")
    try:
        validity, mails = await anyio.to_thread.run_sync(fetch, settings, st, since)
    except MailboxError as exc:
        log.warning("the support mailbox couldn't be read: %s", exc.kind)
        st.error, st.detail, st.checked_at = exc.kind, exc.detail, now.isoformat()
        await store.run(_save, store, st)
        return st
    if st.uidvalidity != validity:
        st.uidvalidity, st.last_uid = validity, 0
    own = tuple(a for a in (settings.smtp_from, settings.imap_user) if "@" in a)
    for uid, raw in mails:
        # Parsing MIME and an HTML body is CPU work (a 10 MB e-mail): off the event loop.
        fallback = f"<{validity}.{uid}@{settings.imap_host}>"
        try:
            mail = await anyio.to_thread.run_sync(functools.partial(mail_read.read, raw, own=own, fallback_id=fallback))
            if mail.automatic:
                st.skipped += 1
                st.last_skipped = mail.automatic
            elif await take(store, chat, mail):
                st.read += 1
        except Exception:
            # One e-mail that breaks the reading must not stop every later one (the check would
            # fail on it each minute, for ever): it is counted, left in the mailbox for the owner.
            log.exception("an e-mail in the support mailbox couldn't be read (UID %d)", uid)
            st.unreadable += 1
        st.last_uid = max(st.last_uid, uid)
        await store.run(_save, store, st)  # after each: a restart now repeats none of them
    st.error, st.detail, st.checked_at = "", "", clock().isoformat()
    await store.run(_save, store, st)
    return st


async def take(store: Store, chat: ChatService, mail: mail_read.Mail) -> bool:
    """One person's e-mail into its conversation, answered when the bot is sure. False when it
    was taken already (or can't be: no words at all)."""
    db = store.read()
    if mail_threads.known(db, mail.message_id):
        return False
    conversation_id = mail_threads.conversation_of(db, mail.refs)
    if conversation_id is None and mail.refs:
        # A reply to an e-mail we never stored (the owner answered from their own mail program):
        # the thread's first e-mail still names it.
        row = chat.conversations.by_channel_ref(Channel.EMAIL, mail.refs[0])
        conversation_id = row["id"] if row is not None else None
    if conversation_id is None:
        row = chat.conversations.by_channel_ref(Channel.EMAIL, mail.message_id)  # taken, then cut off
        conversation_id = row["id"] if row is not None else None
    words = (mail.words or mail.subject).strip()
    if not words:
        return False
    if len(words) > chat.max_message_chars:
        words = words[: chat.max_message_chars - 1].rstrip() + "…"
    if conversation_id is None:
        conversation_id = await chat.start_conversation(
            channel=Channel.EMAIL, channel_ref=mail.refs[0] if mail.refs else mail.message_id
        )
        try:
            await chat.set_contact(conversation_id, email=mail.sender)
        except MessageRejected:
            log.warning("an e-mail's sender address was refused; its reply can't be e-mailed")
    try:
        message_id, seen = await chat.accept(conversation_id, words, client_id=mail.message_id)
    except MessageRejected:  # nothing but control characters, say: nothing to store
        return False
    await store.run(_remember, store, mail, conversation_id, chat.clock().isoformat())
    if seen:
        return False
    await chat.answer(conversation_id, message_id, words, only_sure=True)
    return True


def _remember(store: Store, mail: mail_read.Mail, conversation_id: str, now: str) -> None:
    with store.write() as db:
        mail_threads.remember(
            db,
            mail.message_id,
            conversation_id,
            incoming=True,
            now=now,
            sender=mail.name or mail.sender,
            subject=mail.subject,
            body=mail.text,
            sent_at=mail.date,
        )
