"""The owner's inbox: conversations waiting for a person, the transcript with the bot's
decisions, the owner's reply (it reaches the customer's widget), resolve/reopen, and "save as a
knowledge-base entry" on any owner reply. Conversations are conversations/store.py's; this module
holds no SQL about them. The transcript as the owner reads it is built by transcripts.py; the saved
replies' routes (saved_replies.py) are served with these."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import anyio
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from appliance import i18n
from appliance.answering.shop_calibration import Keeper
from appliance.channels import records
from appliance.clock import Clock
from appliance.conversations import attachments, privacy
from appliance.conversations import saved_replies as saved
from appliance.conversations.push import TYPING, Hub
from appliance.conversations.store import VIEWS, Channel, Conversations, Event, Role, mark_answer
from appliance.db import Store
from appliance.kb import store as kb
from appliance.kb import suggestions
from appliance.kb.embedder import Embedder
from appliance.ops import mailer
from appliance.settings import Settings
from appliance.web.admin import orders, saved_replies, transcripts
from appliance.web.admin.core import Form, Page, owner_router, toast
from appliance.web.services import Inject

MAX_REPLY_CHARS = 5000


@get("/inbox", sync_to_thread=True)
def inbox(
    page: Inject[Page],
    conversations: Inject[Conversations],
    store: Inject[Store],
    view: FromQuery[str] = "waiting",
    q: FromQuery[str] = "",
    c: FromQuery[str] = "",
) -> Template:
    """The list, and (``c``) the conversation chosen in it beside it: one page, two panes. The
    search box asks for the list's rows only (htmx, targeting them)."""
    rows_only = page.request.headers.get("hx-target") == "inbox-rows"
    return _inbox_page(page, conversations, store, view, q, c, rows_only=rows_only)


def _inbox_page(
    page: Page,
    conversations: Conversations,
    store: Store,
    view: str,
    q: str,
    chosen: str,
    status: int = 200,
    *,
    rows_only: bool = False,
    **ctx: Any,
) -> Template:
    view = view if view in VIEWS else "waiting"
    if chosen and rows_only:  # the list polled: it marks the chosen one, nothing more
        ctx = {"conversation": _customers(conversations, chosen), **ctx}
    elif chosen:
        ctx = {**_conversation_context(conversations, store, chosen, page.lang), **ctx}
    rows = conversations.inbox(view, q)
    return page(
        "admin/inbox.html",
        partial="admin/_inbox_rows.html" if rows_only else None,
        rows=rows,
        guesses=kb.titles(store.read(), sorted({r["guess"] for r in rows if r["guess"]})),
        view=view,
        q=q,
        counts=conversations.counts_by_status(),
        status=status,
        **{"conversation": None, **ctx},
    )


def _from_inbox(page: Page) -> dict[str, str] | None:
    """The inbox's view and search when the owner acts from the two-pane inbox (htmx says which
    page it came from), so the answer is that page again; None from the conversation's own page."""
    current = urlsplit(page.request.headers.get("hx-current-url", ""))
    if current.path != "/admin/inbox":
        return None
    args = parse_qs(current.query)
    return {"view": args.get("view", ["waiting"])[0], "q": args.get("q", [""])[0]}


@get("/inbox/count", sync_to_thread=True)
def waiting_count(page: Inject[Page]) -> Template:
    """The navigation badge, polled by htmx: a new escalation shows without a reload."""
    return page("admin/_waiting_badge.html")


def _customers(conversations: Conversations, conversation_id: str) -> Any:
    """A customer's conversation (the widget's), or a 404."""
    row = conversations.get(conversation_id, customers=True)
    if row is None:
        raise NotFoundException()
    return row


def _opened(conversations: Conversations, conversation_id: str) -> Any:
    """The customer's conversation the owner is looking at (a 404 if there is none): what its
    customer wrote so far is seen."""
    row = _customers(conversations, conversation_id)
    conversations.mark_seen_by_owner(conversation_id)
    return row


def _conversation_context(
    conversations: Conversations, store: Store, conversation_id: str, lang: str
) -> dict[str, Any]:
    row = _opened(conversations, conversation_id)
    mine = set(conversations.of_visitor(conversation_id))
    same_contact = [i for i in conversations.with_contact(row["contact_email"], row["contact_phone"]) if i not in mine]
    messages = transcripts.for_owner(conversations, store, conversation_id, lang)
    return {
        "conversation": row,
        "messages": messages,
        "suggested": transcripts.suggested(messages),
        "notes": conversations.notes(conversation_id),
        "saved_replies": saved.titles(store.read()),
        "mail": mailer.sent_for(store, conversation_id),
        "error": None,
        "others": len(mine) - 1,
        "same_contact": len(same_contact),
        "orders": orders.touched(store, conversation_id, lang),
    }


def _conversation_page(
    page: Page, conversations: Conversations, store: Store, conversation_id: str, status: int = 200, **ctx: Any
) -> Template:
    """The conversation after the owner acted on it: in the two-pane inbox if that is where the
    owner is, else on its own page."""
    inbox_at = _from_inbox(page)
    if inbox_at is not None:
        return _inbox_page(page, conversations, store, inbox_at["view"], inbox_at["q"], conversation_id, status, **ctx)
    context = {**_conversation_context(conversations, store, conversation_id, page.lang), **ctx}
    return page("admin/conversation.html", status=status, **context)


@get("/conversations/{conversation_id:str}", sync_to_thread=True)
def conversation(
    page: Inject[Page], conversations: Inject[Conversations], store: Inject[Store], conversation_id: FromPath[str]
) -> Template:
    return _conversation_page(page, conversations, store, conversation_id)


@get("/conversations/{conversation_id:str}/transcript", sync_to_thread=True)
def transcript(
    page: Inject[Page], conversations: Inject[Conversations], store: Inject[Store], conversation_id: FromPath[str]
) -> Template:
    """The transcript alone, read again by the open conversation every few seconds: the owner
    sees the customer and the bot as they go, and can step in."""
    row = _opened(conversations, conversation_id)
    messages = transcripts.for_owner(conversations, store, conversation_id, page.lang)
    return page("admin/_transcript.html", conversation=row, messages=messages)


@post("/conversations/{conversation_id:str}/note", sync_to_thread=True, status_code=200)
def add_note(
    page: Inject[Page],
    conversations: Inject[Conversations],
    store: Inject[Store],
    conversation_id: FromPath[str],
    data: Form,
) -> Template:
    _customers(conversations, conversation_id)
    text = data.get("text", "").strip()[:MAX_REPLY_CHARS]
    if text:
        conversations.add_note(conversation_id, text)
    shown = _conversation_page(page, conversations, store, conversation_id)
    return toast(shown, i18n.t(page.lang, "inbox.note_added")) if text else shown


@post("/conversations/{conversation_id:str}/learn", sync_to_thread=True, status_code=200)
def learn(
    page: Inject[Page],
    conversations: Inject[Conversations],
    store: Inject[Store],
    embedder: Inject[Embedder],
    clock: Inject[Clock],
    conversation_id: FromPath[str],
    data: Form,
) -> Template:
    """The owner's pick: this customer question is answered by this entry. Its words become a
    phrasing of the entry at once (the owner's pick is the approval). In a worker thread: the
    transcript, the embedding of the new phrasing and the page are all slow work."""
    _customers(conversations, conversation_id)
    message_id, entry_id = data.get("message_id", ""), data.get("entry_id", "")
    asked = next(
        (
            m
            for m in conversations.transcript(conversation_id)
            if str(m["id"]) == message_id and m["role"] == Role.CUSTOMER
        ),
        None,
    )
    if asked is None:
        raise NotFoundException()
    try:
        suggestions.learn(
            store, entry_id, asked["text"], conversation_id=conversation_id, embedder=embedder, now=clock().isoformat()
        )
    except suggestions.LearnError as exc:
        return _conversation_page(page, conversations, store, conversation_id, status=422, error=exc.key)
    title = kb.titles(store.read(), [entry_id]).get(entry_id, entry_id)
    shown = _conversation_page(page, conversations, store, conversation_id)
    return toast(shown, i18n.t(page.lang, "learn.added").format(title=i18n.isolate(title)))


@post("/conversations/{conversation_id:str}/verdict", sync_to_thread=True, status_code=200)
def verdict(
    page: Inject[Page],
    conversations: Inject[Conversations],
    store: Inject[Store],
    calibration: Inject[Keeper],
    conversation_id: FromPath[str],
    data: Form,
) -> Template:
    """The owner marks the bot's answer right or wrong: evidence for the shop's calibration; a
    wrong one also asks which entry would have answered."""
    _customers(conversations, conversation_id)
    if not mark_answer(
        conversations, calibration, conversation_id, data.get("decision_id", ""), data.get("verdict", "")
    ):
        raise NotFoundException()
    return _conversation_page(page, conversations, store, conversation_id)


@get("/entries/{entry_id:str}/as-reply", sync_to_thread=True)
def entry_as_reply(page: Inject[Page], store: Inject[Store], entry_id: FromPath[str]) -> Template:
    """Quick insert: the reply box, filled with a knowledge-base answer to edit (an htmx swap)."""
    entry = kb.get(store.read(), entry_id)
    if entry is None:
        raise NotFoundException()
    return page("admin/_reply_box.html", draft=entry.answer[:MAX_REPLY_CHARS])


def _lang_of(row: Any, settings: Settings) -> str:
    return row["lang"] if row["lang"] in i18n.LANGUAGES else settings.default_language


@post(
    "/conversations/{conversation_id:str}/reply",
    status_code=200,
    # An image or a PDF may come with the reply (the settings' limit is checked on what arrives).
    request_max_body_size=25_000_000 + 65_536,
)
async def reply(
    request: Request,
    page: Inject[Page],
    conversations: Inject[Conversations],
    store: Inject[Store],
    settings: Inject[Settings],
    clock: Inject[Clock],
    conversation_id: FromPath[str],
) -> Template:
    """The owner's reply: words, a file, or both (a form, or a multipart form with ``file``)."""
    form = await request.form()
    text = str(form.get("text", "")).strip()
    upload = form.get("file")
    content, name = b"", ""
    if isinstance(upload, UploadFile) and upload.filename:
        content, name = await upload.read(), upload.filename
    return await anyio.to_thread.run_sync(
        lambda: _reply(page, conversations, store, settings, clock, conversation_id, text, content, name)
    )


def _reply(
    page: Page,
    conversations: Conversations,
    store: Store,
    settings: Settings,
    clock: Clock,
    conversation_id: str,
    text: str,
    content: bytes,
    name: str,
) -> Template:
    row = _customers(conversations, conversation_id)
    file = None
    if content:
        try:
            file = attachments.clean_owner_file(content, name, settings.attachment_max_bytes)
        except attachments.AttachmentRefused as exc:
            return _conversation_page(
                page, conversations, store, conversation_id, status=422, error=exc.key, draft=text
            )
    if (not text and file is None) or len(text) > MAX_REPLY_CHARS:
        return _conversation_page(
            page, conversations, store, conversation_id, status=422, error="reply.invalid", draft=text
        )
    conversations.add_owner_reply(conversation_id, text, file)
    # A widget customer who left an address gets the reply by e-mail too; a Telegram or e-mail
    # conversation gets it through its own channel (channels/: they follow the events).
    if row["channel"] == Channel.WIDGET and row["contact_email"] and mailer.configured(settings):
        lang = _lang_of(row, settings)
        shop = settings.shop_name or i18n.t(lang, "bot.the_shop")
        # The file stays in the chat: an e-mail says it is there rather than carrying it.
        body = "\n\n".join(x for x in (text, i18n.t(lang, "mail.file_in_chat") if file else "") if x)
        mailer.enqueue(
            store,
            clock(),
            to=row["contact_email"],
            subject=i18n.t(lang, "mail.reply_subject").format(shop=shop),
            body=f"{body}\n\n-- \n{shop}",
            conversation_id=conversation_id,
        )
    return toast(_conversation_page(page, conversations, store, conversation_id), i18n.t(page.lang, "inbox.sent"))


@get("/attachments/{attachment_id:str}", sync_to_thread=True)  # a PDF can be megabytes: not on the loop
def attachment(store: Inject[Store], attachment_id: FromPath[str]) -> Response:
    """A file in a customer's conversation, for the owner (served as the widget's API serves it)."""
    row = attachments.get(store.read(), attachment_id)
    if row is None:
        raise NotFoundException()
    return Response(row["data"], media_type=row["mime"], headers=attachments.headers(row))


@post("/conversations/{conversation_id:str}/status", sync_to_thread=True, status_code=200)
def set_status(
    page: Inject[Page], conversations: Inject[Conversations], conversation_id: FromPath[str], data: Form
) -> Response:
    _customers(conversations, conversation_id)
    event = {"resolved": Event.RESOLVED, "open": Event.REOPENED}.get(data.get("status", ""))
    if event is None:
        return Response({"error": "bad_status"}, status_code=422)
    inbox_at = _from_inbox(page)
    listed = [r["id"] for r in conversations.inbox(inbox_at["view"], inbox_at["q"])] if inbox_at else []
    conversations.set_status(conversation_id, event)
    if inbox_at is not None and event is Event.RESOLVED:
        # Resolved from the inbox: on to the next conversation of the list, as a morning goes.
        at = listed.index(conversation_id) if conversation_id in listed else -1
        following = [i for i in listed[at + 1 :] + listed[:at][::-1] if i != conversation_id]
        target = {
            "view": inbox_at["view"],
            "q": inbox_at["q"],
            "c": following[0] if following else "",
            "lang": page.lang,
        }
        query = urlencode({k: v for k, v in target.items() if v})
        return Response("", status_code=200, headers={"hx-location": f"/admin/inbox?{query}"})
    return Response("", status_code=200, headers={"hx-refresh": "true"})


@post("/conversations/{conversation_id:str}/takeover", sync_to_thread=True, status_code=200)
def takeover(
    conversations: Inject[Conversations], settings: Inject[Settings], conversation_id: FromPath[str], data: Form
) -> Response:
    """Join the conversation live (the bot stops answering in it) or hand it back to the bot."""
    row = _customers(conversations, conversation_id)
    on = data.get("on") == "1"
    lang = _lang_of(row, settings)
    shop = settings.shop_name or i18n.t(lang, "bot.the_shop")
    notice = (i18n.t(lang, "system.takeover") if on else i18n.t(lang, "system.handback")).format(shop=shop)
    conversations.take_over(conversation_id, on, notice)
    return Response("", status_code=200, headers={"hx-refresh": "true"})


@post("/conversations/{conversation_id:str}/typing", status_code=204, sync_to_thread=True)
def typing(conversations: Inject[Conversations], push: Inject[Hub], conversation_id: FromPath[str]) -> None:
    """The owner is typing a reply: the customer's open widget says so (nothing is stored)."""
    _customers(conversations, conversation_id)
    push.notify(conversation_id, TYPING)


def _whose(conversations: Conversations, conversation_id: str, include: str) -> list[str]:
    """The conversations an export or erasure covers: this one and its visitor's others; with
    ``include="contact"`` (the owner's explicit choice, shown with a warning) also every other
    conversation that left the same, unverified, contact details."""
    row = _customers(conversations, conversation_id)
    ids = conversations.of_visitor(conversation_id)
    if include == "contact":
        ids += [i for i in conversations.with_contact(row["contact_email"], row["contact_phone"]) if i not in ids]
    return ids


@get("/conversations/{conversation_id:str}/export", sync_to_thread=True)
def export_customer(
    conversations: Inject[Conversations],
    store: Inject[Store],
    conversation_id: FromPath[str],
    include: FromQuery[str] = "",
) -> Response:
    """Everything stored about this customer: this conversation and their others (the same
    visitor), or with ``include=contact`` also those that left the same contact details."""
    data = records.export_customer(store, _whose(conversations, conversation_id, include))
    return Response(
        data,
        media_type="application/json",
        headers={"content-disposition": f'attachment; filename="customer-{conversation_id}.json"'},
    )


@post("/conversations/{conversation_id:str}/erase", sync_to_thread=True, status_code=200)
def erase_customer(
    conversations: Inject[Conversations], store: Inject[Store], conversation_id: FromPath[str], data: Form
) -> Response:
    privacy.erase_customer(store, _whose(conversations, conversation_id, data.get("include", "")))
    return Response("", status_code=200, headers={"hx-redirect": "/admin/inbox"})


router = owner_router(
    [
        inbox,
        waiting_count,
        conversation,
        transcript,
        reply,
        attachment,
        set_status,
        takeover,
        typing,
        export_customer,
        erase_customer,
        add_note,
        learn,
        verdict,
        entry_as_reply,
        *saved_replies.HANDLERS,
    ]
)
