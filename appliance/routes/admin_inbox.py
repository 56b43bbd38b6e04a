"""The owner's inbox: conversations waiting for a person, the transcript with the bot's
decisions, the owner's reply (it reaches the customer's widget), resolve/reopen, and "save as a
knowledge-base entry" on any owner reply."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from .. import i18n, mailer, privacy
from .admin import Form, _page, owner_router

VIEWS = {
    "waiting": ("status = 'waiting'", "updated_at ASC"),   # oldest first: who has waited longest
    "answered": ("status IN ('answered', 'human')", "updated_at DESC"),  # yours: replied or taken over
    "resolved": ("status = 'resolved'", "updated_at DESC"),
    "all": ("1", "updated_at DESC"),
}
MAX_REPLY_CHARS = 5000


def inbox_counts(db: Any) -> dict[str, int]:
    rows = db.execute("SELECT status, count(*) FROM conversations WHERE channel = 'widget' GROUP BY status").fetchall()
    return {r[0]: r[1] for r in rows}


@get("/inbox", sync_to_thread=True)
def inbox(request: Request, view: FromQuery[str] = "waiting", q: FromQuery[str] = "") -> Template:
    view = view if view in VIEWS else "waiting"
    where, order = VIEWS[view]
    db = request.app.state.store.read()
    params: list[Any] = [request.app.state.clock().isoformat()]
    search = ""
    if q.strip():
        search = " AND c.id IN (SELECT conversation_id FROM messages WHERE text LIKE ? ESCAPE '\\')"
        escaped = q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params.append(f"%{escaped}%")
    rows = db.execute(
        f"SELECT c.id, c.status, c.updated_at, c.contact_email, c.contact_phone, "
        f"(strftime('%s', ?) - strftime('%s', c.updated_at)) / 60 AS waited_minutes, "
        f"(SELECT text FROM messages m WHERE m.conversation_id = c.id AND m.role = 'customer' "
        f" ORDER BY m.id DESC LIMIT 1) AS last, "
        f"(SELECT reason FROM decisions d WHERE d.conversation_id = c.id AND d.kind = 'escalate' "
        f" ORDER BY d.id DESC LIMIT 1) AS reason "
        f"FROM conversations c WHERE c.channel = 'widget' AND {where}{search} ORDER BY c.{order} LIMIT 200",
        params,
    ).fetchall()
    return _page(request, "admin/inbox.html", partial="admin/_inbox_rows.html", rows=rows, view=view, q=q,
                 counts=inbox_counts(db))


@get("/inbox/count", sync_to_thread=True)
def waiting_count(request: Request) -> Template:
    """The navigation badge, polled by htmx: a new escalation shows without a reload."""
    return _page(request, "admin/_waiting_badge.html")


def _conversation(request: Request, conversation_id: str) -> Any:
    row = request.app.state.store.read().execute(
        "SELECT * FROM conversations WHERE id = ? AND channel = 'widget'", [conversation_id]).fetchone()
    if row is None:
        raise NotFoundException()
    return row


def _transcript(request: Request, conversation_id: str) -> list[dict[str, Any]]:
    db = request.app.state.store.read()
    rows = db.execute(
        "SELECT m.id, m.role, m.text, m.created_at, d.kind, d.reason, d.confidence, d.entry_ids, d.composed_by "
        "FROM messages m LEFT JOIN decisions d ON d.reply_id = m.id WHERE m.conversation_id = ? ORDER BY m.id",
        [conversation_id],
    ).fetchall()
    out, last_question = [], ""
    for r in rows:
        item = dict(r)
        item["entry_ids"] = json.loads(r["entry_ids"]) if r["entry_ids"] else []
        if r["role"] == "customer":
            last_question = r["text"]
        if r["role"] == "owner":
            item["save_link"] = "/admin/kb/new?" + urlencode({"question": last_question, "answer": r["text"]})
        out.append(item)
    return out


def _conversation_page(request: Request, conversation_id: str, status: int = 200, **ctx: Any) -> Template:
    db = request.app.state.store.read()
    notes = db.execute("SELECT text, created_at FROM notes WHERE conversation_id = ? ORDER BY id",
                       [conversation_id]).fetchall()
    saved = db.execute("SELECT id, title FROM saved_replies ORDER BY title").fetchall()
    mail = db.execute("SELECT to_addr, created_at, sent_at, attempts, last_error FROM outbox "
                      "WHERE conversation_id = ? ORDER BY id", [conversation_id]).fetchall()
    ctx.setdefault("error", None)
    return _page(request, "admin/conversation.html", conversation=_conversation(request, conversation_id),
                 messages=_transcript(request, conversation_id), notes=notes, saved_replies=saved, mail=mail,
                 status=status, **ctx)


@get("/conversations/{conversation_id:str}", sync_to_thread=True)
def conversation(request: Request, conversation_id: FromPath[str]) -> Template:
    return _conversation_page(request, conversation_id)


@post("/conversations/{conversation_id:str}/note", sync_to_thread=True, status_code=200)
def add_note(request: Request, conversation_id: FromPath[str], data: Form) -> Template:
    _conversation(request, conversation_id)
    text = data.get("text", "").strip()[:MAX_REPLY_CHARS]
    if text:
        with request.app.state.store.write() as db:
            db.execute("INSERT INTO notes (conversation_id, text, created_at) VALUES (?, ?, ?)",
                       [conversation_id, text, request.app.state.clock().isoformat()])
    return _conversation_page(request, conversation_id)


@get("/saved-replies/{reply_id:int}", sync_to_thread=True)
def saved_reply(request: Request, reply_id: FromPath[int]) -> Template:
    """Quick insert: the reply box, filled with a saved reply (an htmx swap)."""
    row = request.app.state.store.read().execute("SELECT text FROM saved_replies WHERE id = ?", [reply_id]).fetchone()
    if row is None:
        raise NotFoundException()
    return _page(request, "admin/_reply_box.html", draft=row[0])


def _saved_page(request: Request) -> Template:
    rows = request.app.state.store.read().execute("SELECT id, title, text FROM saved_replies ORDER BY title").fetchall()
    return _page(request, "admin/saved_replies.html", rows=rows)


@get("/saved-replies", sync_to_thread=True)
def saved_replies(request: Request) -> Template:
    return _saved_page(request)


@post("/saved-replies", sync_to_thread=True, status_code=200)
def add_saved_reply(request: Request, data: Form) -> Template:
    title, text = data.get("title", "").strip()[:100], data.get("text", "").strip()[:MAX_REPLY_CHARS]
    if title and text:
        with request.app.state.store.write() as db:
            db.execute("INSERT INTO saved_replies (title, text, created_at) VALUES (?, ?, ?)",
                       [title, text, request.app.state.clock().isoformat()])
    return _saved_page(request)


@post("/saved-replies/{reply_id:int}/delete", sync_to_thread=True, status_code=200)
def delete_saved_reply(request: Request, reply_id: FromPath[int]) -> Template:
    with request.app.state.store.write() as db:
        db.execute("DELETE FROM saved_replies WHERE id = ?", [reply_id])
    return _saved_page(request)


@post("/conversations/{conversation_id:str}/reply", sync_to_thread=True, status_code=200)
def reply(request: Request, conversation_id: FromPath[str], data: Form) -> Template:
    _conversation(request, conversation_id)
    text = data.get("text", "").strip()
    if not text or len(text) > MAX_REPLY_CHARS:
        return _conversation_page(request, conversation_id, status=422, error="reply.invalid", draft=text)
    now = request.app.state.clock().isoformat()
    with request.app.state.store.write() as db:
        db.execute("INSERT INTO messages (conversation_id, role, text, created_at) VALUES (?, 'owner', ?, ?)",
                   [conversation_id, text, now])
        # A live conversation the owner took over stays theirs; otherwise it is answered.
        db.execute("UPDATE conversations SET status = CASE WHEN status = 'human' THEN 'human' ELSE 'answered' END, "
                   "updated_at = ? WHERE id = ?", [now, conversation_id])
    row = _conversation(request, conversation_id)
    settings = request.app.state.settings
    if row["contact_email"] and mailer.configured(settings):
        lang = row["lang"] if row["lang"] in i18n.LANGUAGES else settings.default_language
        shop = settings.shop_name or i18n.t(lang, "bot.the_shop")
        mailer.enqueue(request.app.state.store, request.app.state.clock(), to=row["contact_email"],
                       subject=i18n.t(lang, "mail.reply_subject").format(shop=shop),
                       body=f"{text}\n\n-- \n{shop}", conversation_id=conversation_id)
    return _conversation_page(request, conversation_id, sent=True)


@post("/conversations/{conversation_id:str}/status", sync_to_thread=True, status_code=200)
def set_status(request: Request, conversation_id: FromPath[str], data: Form) -> Response:
    _conversation(request, conversation_id)
    status = data.get("status")
    if status not in {"resolved", "open"}:
        return Response({"error": "bad_status"}, status_code=422)
    with request.app.state.store.write() as db:
        db.execute("UPDATE conversations SET status = ?, updated_at = ? WHERE id = ?",
                   [status, request.app.state.clock().isoformat(), conversation_id])
    return Response("", status_code=200, headers={"hx-refresh": "true"})


@post("/conversations/{conversation_id:str}/takeover", sync_to_thread=True, status_code=200)
def takeover(request: Request, conversation_id: FromPath[str], data: Form) -> Response:
    """Join the conversation live (the bot stops answering in it) or hand it back to the bot."""
    row = _conversation(request, conversation_id)
    on = data.get("on") == "1"
    lang = row["lang"] if row["lang"] in i18n.LANGUAGES else request.app.state.settings.default_language
    shop = request.app.state.settings.shop_name or i18n.t(lang, "bot.the_shop")
    notice = i18n.t(lang, "system.takeover" if on else "system.handback").format(shop=shop)
    request.app.state.chat.take_over(conversation_id, on, notice)
    return Response("", status_code=200, headers={"hx-refresh": "true"})


@get("/conversations/{conversation_id:str}/export", sync_to_thread=True)
def export_customer(request: Request, conversation_id: FromPath[str]) -> Response:
    """Everything stored about this customer (by their contact details when they left any)."""
    row = _conversation(request, conversation_id)
    contact = row["contact_email"] or row["contact_phone"] or None
    data = privacy.export_customer(request.app.state.store, conversation_id=None if contact else conversation_id,
                                   contact=contact)
    return Response(data, media_type="application/json",
                    headers={"content-disposition": f'attachment; filename="customer-{conversation_id}.json"'})


@post("/conversations/{conversation_id:str}/erase", sync_to_thread=True, status_code=200)
def erase_customer(request: Request, conversation_id: FromPath[str]) -> Response:
    row = _conversation(request, conversation_id)
    contact = row["contact_email"] or row["contact_phone"] or None
    privacy.erase_customer(request.app.state.store, conversation_id=None if contact else conversation_id,
                           contact=contact)
    return Response("", status_code=200, headers={"hx-redirect": "/admin/inbox"})


router = owner_router([
    inbox, waiting_count, conversation, reply, set_status, takeover,
    export_customer, erase_customer, add_note, saved_reply, saved_replies, add_saved_reply, delete_saved_reply,
])
