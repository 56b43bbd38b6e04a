"""One e-mail from the support mailbox, read: who wrote, in which thread, what they said new,
and whether a person wrote it at all.

``read`` takes the raw bytes IMAP gave (parsed with ``email.policy.default``: RFC 2047 subjects
and any charset Python knows; an unknown one is read as UTF-8 with replacements rather than
lost). The text is the text/plain part, or the HTML one turned into text. ``new_words`` is what
the bot reads: the text without the history quoted under it ("On ... wrote:", Gmail's Persian
«... نوشت:», Outlook's "-----Original Message-----", lines starting with ">") and without the
signature. ``automatic`` says why an e-mail must never be answered (an auto-reply, a bounce, a
mailing list, our own), or "" for a person's.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

import lxml.html

MAX_TEXT_CHARS = 100_000  # of an e-mail's text kept (quoted under replies); the rest is dropped
_ID = re.compile(r"<[^<>\s]+>")
_PRECEDENCE = {"bulk", "list", "junk", "auto_reply"}
_ROBOTS = ("noreply", "no-reply", "do-not-reply", "donotreply")
_BIDI = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


@dataclass(frozen=True)
class Mail:
    message_id: str  # "<...>", made up from the UID when the e-mail has none
    refs: tuple[str, ...]  # References then In-Reply-To, oldest first: the thread it answers
    sender: str  # the address to answer (Reply-To, else From), lower-case
    name: str  # the display name ("" when none)
    subject: str
    date: str  # ISO, "" when the Date header is missing or broken
    text: str  # the whole text (quotes included), capped
    automatic: str  # why it must not be answered ("" for a person's e-mail)

    @property
    def words(self) -> str:
        return new_words(self.text)


def read(raw: bytes, *, own: tuple[str, ...] = (), fallback_id: str = "") -> Mail:
    """``own``: the appliance's own addresses (its From), whose e-mails are loops; ``fallback_id``:
    the Message-ID to use when the e-mail has none (the mailbox's UID: stable across polls)."""
    msg = message_from_bytes(raw, policy=policy.default)
    name, sender = parseaddr(_text_header(msg, "From"))
    # A web form's e-mail comes From the shop's site and says whom to answer in Reply-To.
    answer_to = parseaddr(_text_header(msg, "Reply-To"))[1]
    if "@" in answer_to:
        sender = answer_to
    ids = _ID.findall(_text_header(msg, "Message-ID"))
    own_id = ids[0] if ids else (fallback_id or f"<{hashlib.sha256(raw).hexdigest()[:32]}@mailbox.invalid>")
    refs: list[str] = []
    for header in ("References", "In-Reply-To"):
        for ref in _ID.findall(_text_header(msg, header)):
            if ref not in refs and ref != own_id:
                refs.append(ref)
    date = _date(_text_header(msg, "Date"))
    return Mail(
        message_id=own_id,
        refs=tuple(refs),
        sender=sender.strip().lower(),
        name=" ".join(name.split()),
        subject=" ".join(_text_header(msg, "Subject").split()),
        date=date,
        text=body_text(msg)[:MAX_TEXT_CHARS],
        automatic=automatic(msg, own),
    )


def _date(header: str) -> str:
    """The e-mail's date, when it is one a calendar can show: "Fri, 31 Dec 9999 23:00 -1400"
    parses, but moving it to the shop's time zone overflows, and the reply quoting it failed at
    every try (the mailbox's replies stopped behind it). Anything else: none."""
    try:
        parsed = parsedate_to_datetime(header)
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(UTC)
    except (TypeError, ValueError, IndexError, OverflowError):
        return ""
    return parsed.isoformat() if 1970 <= parsed.year <= 2200 else ""


def _text_header(msg: Message, name: str) -> str:
    """A header as text; a header so broken that the parser can't decode it is read raw."""
    try:
        value = msg.get(name)
    except Exception:  # email's header parsing raises a few kinds on hostile input
        return ""
    return str(value) if value is not None else ""


def automatic(msg: Message, own: tuple[str, ...] = ()) -> str:
    """Why this e-mail was written by a machine (never answered: an answer to an auto-reply is how
    two robots write to each other forever), or ""."""
    auto = _text_header(msg, "Auto-Submitted").strip().lower()
    if auto and auto != "no":
        return "auto_submitted"
    if _text_header(msg, "Precedence").strip().lower() in _PRECEDENCE:
        return "precedence"
    if msg.get("List-Id") is not None or msg.get("List-Unsubscribe") is not None:
        return "mailing_list"
    if msg.get("X-Autoreply") is not None or msg.get("X-Autorespond") is not None:
        return "auto_reply"
    if _text_header(msg, "Return-Path").strip() == "<>":
        return "bounce"
    if msg.get_content_type() == "multipart/report":
        return "bounce"
    sender = parseaddr(_text_header(msg, "From"))[1].strip().lower()
    if "@" not in sender:
        return "no_sender"
    local = sender.split("@")[0]
    if local in ("mailer-daemon", "postmaster"):
        return "bounce"
    if local in _ROBOTS:
        return "no_reply_sender"
    mine = {a.lower() for _, a in getaddresses([x for x in own if x])}
    answer_to = parseaddr(_text_header(msg, "Reply-To"))[1].strip().lower()
    if sender in mine and (not answer_to or answer_to in mine):
        # Ours (a loop). The shop's own contact form may send From the shop's address too, but
        # it names the customer in Reply-To: that one is a customer's.
        return "own"
    return ""


def body_text(msg: Message) -> str:
    """The e-mail's text: its text/plain part, else its HTML turned into text."""
    part: Message | None = None
    if isinstance(msg, EmailMessage):
        try:
            part = msg.get_body(preferencelist=("plain", "html"))
        except Exception:  # a broken MIME structure: the top part is read below
            part = None
    if part is None:
        if msg.is_multipart() or msg.get_content_maintype() != "text":
            return ""
        part = msg
    text = _decoded(part)
    if part.get_content_subtype() == "html":
        text = html_text(text)
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def _decoded(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:  # a charset Python doesn't know: the words that are UTF-8 still read
        return payload.decode("utf-8", errors="replace")


_BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "pre"}


def html_text(html: str) -> str:
    """An HTML e-mail as plain text: its words with a line per block; scripts and styles dropped,
    blockquotes kept as ">" lines (the history is kept; ``new_words`` drops it)."""
    if not html.strip():
        return ""
    try:
        root = lxml.html.document_fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return ""
    for bad in root.xpath("//script|//style|//head"):
        bad.drop_tree()
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag in _BLOCKS:
            el.text = "\n" + (el.text or "")
            el.tail = "\n" + (el.tail or "")
    for quote in root.xpath("//blockquote[not(ancestor::blockquote)]"):
        lines, tail = _lines(quote), quote.tail
        quote.clear()
        quote.text, quote.tail = "\n" + "\n".join("> " + line for line in lines) + "\n", tail
    return "\n".join(_lines(root))


def _lines(el: lxml.html.HtmlElement) -> list[str]:
    return [" ".join(line.split()) for line in el.text_content().splitlines() if line.strip()]


# Where a reply's quoted history starts (its first line), in the mail programs customers use.
_QUOTE_STARTS = (
    re.compile(r"^-{2,}\s*(original message|forwarded message|پیام اصلی)\s*-{2,}$", re.I),
    re.compile(r"^_{10,}$"),  # Outlook's rule above "From: ..."
    re.compile(r"^(from|از):\s.+", re.I),  # Outlook's header block, when nothing else marks it
)
_WROTE = re.compile(r"(wrote|نوشت|writes)\s*:?$", re.I)
_ON = re.compile(r"^(on|در|le|am)\s", re.I)


def new_words(text: str) -> str:
    """What the customer wrote this time: the text above the quoted history and the signature."""
    lines = text.replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        bare = line.translate(_BIDI).strip()
        if bare == "--" or line.rstrip("\n") == "-- ":
            break  # the signature
        if bare.startswith(">"):
            continue
        if _WROTE.search(bare) and (
            _ON.match(bare) or (kept and _ON.match(kept[-1].translate(_BIDI).strip())) or bare.endswith("نوشت:")
        ):
            # "On Mon, 1 Dec 2026, Sara <sara@...> wrote:" (Gmail wraps it over two lines)
            if not _ON.match(bare) and kept and _ON.match(kept[-1].translate(_BIDI).strip()):
                kept.pop()
            break
        if any(p.match(bare) for p in _QUOTE_STARTS) and _quote_follows(lines, i):
            break
        kept.append(line)
    return "\n".join(kept).strip()


def _quote_follows(lines: list[str], i: int) -> bool:
    """An Outlook-style start counts only when a header block follows it (a customer's own
    "From: Tehran" line is their words)."""
    rest = [ln.translate(_BIDI).strip() for ln in lines[i : i + 6]]
    return sum(1 for ln in rest if re.match(r"^(from|sent|to|subject|date|از|به|موضوع|تاریخ):", ln, re.I)) >= 2 or (
        bool(re.match(r"^-{2,}|^_{10,}", rest[0]))
    )
