"""The knowledge-base editor in the admin: the list (with what the bot learned from use, for the
owner's review), the "try a question" box, create, edit, enable/disable, delete, history,
import with a preview, export. Every write goes through ``kb.save``/``kb.delete`` (indexed in the
same transaction, recorded in the history) in a worker thread, since embedding takes a moment."""

from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import quote

import anyio
from litestar import Response, get, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from appliance import i18n
from appliance.answering.shop_calibration import Keeper
from appliance.clock import Clock
from appliance.conversations.store import Conversations, mark_answer
from appliance.db import Store
from appliance.documents import store as documents_store
from appliance.kb import formats as kb_formats
from appliance.kb import store as kb
from appliance.kb import suggestions
from appliance.kb.embedder import Embedder
from appliance.kb.entry import Entry, EntryError
from appliance.locale import N_
from appliance.reports import learning
from appliance.web.admin import core
from appliance.web.admin.core import Form, Page, Upload, fresh_previews, owner_router, parse_upload
from appliance.web.admin.trying import try_page, try_question
from appliance.web.services import Inject

MAX_UPLOAD_BYTES = kb_formats.MAX_FILE_BYTES


def _entry_from_form(data: dict[str, str], entry_id: str) -> Entry:
    return Entry.from_dict(
        {
            "id": entry_id,
            "title": data.get("title", ""),
            "questions": [q for q in data.get("questions", "").splitlines()],
            "answer": data.get("answer", ""),
            "lang": data.get("lang", ""),
            "tags": data.get("tags", ""),
            "enabled": data.get("enabled") == "on",
        }
    )


def _new_id(db: Any, title: str) -> str:
    base = kb_formats.slug(title)[:60]
    candidate, n = base, 1
    while kb.get(db, candidate) is not None:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


# Who made a change, by the history's ``source`` (kb.save's): said in words, never as the code.
_BY = {
    "admin": N_("kb.by.you"),
    "admin-import": N_("kb.by.file"),
    "demo": N_("kb.by.demo"),
    "learned": N_("kb.by.learned"),
}
# The parts of an entry an edit can change, in the order the owner reads them.
_PARTS = (
    ("title", N_("kb.part.title")),
    ("questions", N_("kb.part.questions")),
    ("answer", N_("kb.part.answer")),
    ("lang", N_("kb.part.lang")),
    ("tags", N_("kb.part.tags")),
)


def _who(lang: str, source: str, documents: dict[int, str]) -> str:
    if source in _BY:
        return i18n.t(lang, _BY[source])
    kind, _, rest = source.partition(":")
    if kind == "document" and rest.isdigit():
        title = documents.get(int(rest))
        if title is None:
            return i18n.t(lang, "kb.by.document_gone")
        return i18n.t(lang, "kb.by.document").format(title=i18n.isolate(title))
    if kind == "import" and rest:
        return i18n.t(lang, "kb.by.file_named").format(file=i18n.isolate(rest))
    return i18n.t(lang, "kb.by.system")  # the evaluation, the calibration, an older version


def _what(lang: str, action: str, entry: dict[str, Any], before: dict[str, Any] | None) -> str:
    if action == "create":
        return i18n.t(lang, "kb.did.created")
    if action == "delete":
        return i18n.t(lang, "kb.did.deleted")
    before = before or {}
    parts = [i18n.t(lang, key) for name, key in _PARTS if entry.get(name) != before.get(name)]
    switched = entry.get("enabled", True) != before.get("enabled", True)
    if switched and not parts:
        if entry.get("enabled", True):
            return i18n.t(lang, "kb.did.turned_on")
        return i18n.t(lang, "kb.did.turned_off")
    if not parts:
        return i18n.t(lang, "kb.did.edited")
    return i18n.t(lang, "kb.did.edited_parts").format(parts=i18n.t(lang, "kb.part.and").join(parts))


def history_in_words(lang: str, db: Any, entry_id: str) -> list[dict[str, Any]]:
    """The entry's history, newest first, as the owner reads it: who (you, the demo content, the
    import of a document named so), what (created, which parts edited, turned off), when, and
    the answer as it was then."""
    rows = kb.history(db, entry_id)
    documents = {d.id: d.title for d in documents_store.all_documents(db)}
    out, before = [], None
    for h in rows:
        out.append(
            {
                "who": _who(lang, h["source"], documents),
                "what": _what(lang, h["action"], h["entry"], before),
                "at": h["changed_at"],
                "answer": h["entry"].get("answer", ""),
                "action": h["action"],
            }
        )
        before = h["entry"]
    return out[::-1]


def _form(
    page: Page,
    store: Store,
    entry: Entry | None,
    *,
    error: str | None = None,
    status: int = 200,
    values: dict[str, str] | None = None,
) -> Template:
    history = history_in_words(page.lang, store.read(), entry.id) if entry else []
    return page("admin/kb_form.html", entry=entry, values=values, error=error, history=history, status=status)


def _save(store: Store, entries: list[Entry], embedder: Embedder, clock: Clock, source: str = "admin") -> kb.SaveResult:
    """Embedding takes a moment: called in a worker thread."""
    return kb.save(store, entries, embedder=embedder, now=clock().isoformat(), source=source)


@get("/kb", sync_to_thread=True)
def kb_list(
    page: Inject[Page],
    store: Inject[Store],
    conversations: Inject[Conversations],
    clock: Inject[Clock],
    q: FromQuery[str] = "",
    lang_filter: FromQuery[str] = "",
    enabled_filter: FromQuery[str] = "",
) -> Template:
    db = store.read()
    entries = kb.search(db, q) if q.strip() else kb.all_entries(db)
    if lang_filter in i18n.LANGUAGES:
        entries = [e for e in entries if e.lang == lang_filter]
    if enabled_filter in {"on", "off"}:
        entries = [e for e in entries if e.enabled == (enabled_filter == "on")]
    # A document's sections are listed on the documents page, with their document.
    sections = sum(documents_store.is_section(e.id) for e in entries)
    entries = [e for e in entries if not documents_store.is_section(e.id)]
    return page(
        "admin/kb.html",
        partial="admin/_kb_rows.html",
        entries=entries,
        filtered=bool(q.strip() or lang_filter or enabled_filter),
        document_sections=sections,
        max_bytes=kb_formats.MAX_FILE_BYTES,
        q=q,
        lang_filter=lang_filter,
        enabled_filter=enabled_filter,
        **learning.to_review(store, conversations, clock),
    )


@get("/kb/new", sync_to_thread=True)
def new_form(
    page: Inject[Page], store: Inject[Store], question: FromQuery[str] = "", answer: FromQuery[str] = ""
) -> Template:
    # The inbox's "save as knowledge-base entry" arrives here with the question and the reply,
    # and a knowledge gap with the questions customers asked (one per line).
    first = question.strip().splitlines()[0] if question.strip() else ""
    values = (
        {"title": first[:200], "questions": question, "answer": answer, "lang": page.lang, "enabled": "on"}
        if question or answer
        else None
    )
    return _form(page, store, None, values=values)


@post("/kb/new", status_code=200)
async def create(
    data: Form, page: Inject[Page], store: Inject[Store], embedder: Inject[Embedder], clock: Inject[Clock]
) -> Response:
    try:
        entry = _entry_from_form(data, _new_id(store.read(), data.get("title") or "entry"))
    except EntryError as exc:
        return _form(page, store, None, error=i18n.refusal(page.lang, exc, with_where=False), status=422, values=data)
    await anyio.to_thread.run_sync(_save, store, [entry], embedder, clock)
    # Quoted: a Persian title makes a Persian id, and HTTP headers are Latin-1 (it was a 500 after
    # the entry was saved, so the owner saved it again: duplicates).
    response = Response("", status_code=200, headers={"hx-redirect": f"/admin/kb/{quote(entry.id, safe='')}"})
    return core.flash(response, N_("kb.created"))


@get("/kb/{entry_id:str}", sync_to_thread=True)
def edit_form(page: Inject[Page], store: Inject[Store], entry_id: FromPath[str], add: FromQuery[str] = "") -> Template:
    """The entry's form; ``add``: customers' wordings (a knowledge gap's, one per line) put under
    its questions for the owner to keep, edit or drop before saving."""
    entry = kb.get(store.read(), entry_id)
    if entry is None:
        raise NotFoundException()
    if not add.strip():
        return _form(page, store, entry)
    extra = [q.strip()[:500] for q in add.splitlines() if q.strip() and q.strip() not in entry.questions]
    values = {
        "title": entry.title,
        "questions": "\n".join([*entry.questions, *extra[:20]]),
        "answer": entry.answer,
        "lang": entry.lang,
        "tags": ", ".join(entry.tags),
        "enabled": "on" if entry.enabled else "",
    }
    return _form(page, store, entry, values=values)


@post("/kb/{entry_id:str}", status_code=200)
async def update(
    entry_id: FromPath[str],
    data: Form,
    page: Inject[Page],
    store: Inject[Store],
    embedder: Inject[Embedder],
    clock: Inject[Clock],
) -> Template:
    if kb.get(store.read(), entry_id) is None:
        raise NotFoundException()
    try:
        entry = _entry_from_form(data, entry_id)
    except EntryError as exc:
        error = i18n.refusal(page.lang, exc, with_where=False)
        return _form(page, store, kb.get(store.read(), entry_id), error=error, status=422, values=data)
    await anyio.to_thread.run_sync(_save, store, [entry], embedder, clock)
    return core.toast(_form(page, store, entry), i18n.t(page.lang, "kb.saved"))


@post("/kb/{entry_id:str}/toggle", status_code=200)
async def toggle(
    entry_id: FromPath[str], page: Inject[Page], store: Inject[Store], embedder: Inject[Embedder], clock: Inject[Clock]
) -> Template:
    entry = kb.get(store.read(), entry_id)
    if entry is None:
        raise NotFoundException()
    entry.enabled = not entry.enabled
    await anyio.to_thread.run_sync(_save, store, [entry], embedder, clock)
    said = i18n.t(page.lang, "kb.turned_on") if entry.enabled else i18n.t(page.lang, "kb.turned_off")
    said = said.format(title=i18n.isolate(entry.title))
    return core.toast(page("admin/_kb_rows.html", entries=[entry]), said)


@post("/kb/{entry_id:str}/delete", sync_to_thread=True, status_code=200)
def delete(entry_id: FromPath[str], store: Inject[Store], clock: Inject[Clock]) -> Response:
    if not kb.delete(store, entry_id, now=clock().isoformat(), source="admin"):
        raise NotFoundException()
    return core.flash(Response("", status_code=200, headers={"hx-redirect": "/admin/kb"}), N_("kb.deleted"))


def _suggestions(page: Page, store: Store, conversations: Conversations, clock: Clock, **ctx: Any) -> Template:
    return page("admin/_suggestions.html", **learning.to_review(store, conversations, clock), **ctx)


@post("/kb-suggestions/{suggestion_id:int}/approve", sync_to_thread=True, status_code=200)
def approve_suggestion(
    suggestion_id: FromPath[int],
    page: Inject[Page],
    store: Inject[Store],
    conversations: Inject[Conversations],
    embedder: Inject[Embedder],
    clock: Inject[Clock],
) -> Template:
    """The owner's yes to a customer's wording: it becomes a phrasing of the entry (an embedding,
    and the page's reads: in a worker thread)."""
    try:
        entry_id = suggestions.approve(store, suggestion_id, embedder=embedder, now=clock().isoformat())
    except suggestions.LearnError as exc:
        return _suggestions(page, store, conversations, clock, error=exc.key, status=422)
    if entry_id is None:
        raise NotFoundException()
    learned = kb.titles(store.read(), [entry_id]).get(entry_id, entry_id)
    return _suggestions(page, store, conversations, clock, learned=learned)


@post("/kb-suggestions/{suggestion_id:int}/dismiss", sync_to_thread=True, status_code=200)
def dismiss_suggestion(
    suggestion_id: FromPath[int],
    page: Inject[Page],
    store: Inject[Store],
    conversations: Inject[Conversations],
    clock: Inject[Clock],
) -> Template:
    if not suggestions.dismiss(store, suggestion_id, now=clock().isoformat()):
        raise NotFoundException()
    return _suggestions(page, store, conversations, clock)


@post("/kb-review", sync_to_thread=True, status_code=200)
def review_answer(
    page: Inject[Page],
    store: Inject[Store],
    conversations: Inject[Conversations],
    calibration: Inject[Keeper],
    clock: Inject[Clock],
    data: Form,
) -> Template:
    """The owner marks one of the answers the bot was least sure of, from the review list."""
    conversation_id, decision_id, verdict = (data.get(k, "") for k in ("conversation_id", "decision_id", "verdict"))
    if not mark_answer(conversations, calibration, conversation_id, decision_id, verdict):
        raise NotFoundException()
    return _suggestions(page, store, conversations, clock)


@get("/kb-export", sync_to_thread=True)
def export(store: Inject[Store], format: FromQuery[str] = "jsonl") -> Response:
    if format not in kb_formats.FORMATS:
        format = "jsonl"
    text = kb_formats.export(kb.all_entries(store.read()), format)
    media = {"jsonl": "application/x-ndjson", "csv": "text/csv", "md": "text/markdown"}[format]
    return Response(
        text,
        media_type=f"{media}; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="knowledge-base.{format}"'},
    )


# -- import: upload, preview, confirm ------------------------------------------------------------


def provide_previews(state: State) -> dict[str, tuple[float, list[Entry]]]:
    """Uploaded knowledge-base files waiting for the owner's confirmation, by token."""
    return fresh_previews(state.services.kb_previews)


Previews = dict[str, tuple[float, list[Entry]]]
PREVIEWS = {"previews": Provide(provide_previews, sync_to_thread=False)}


@get("/kb-import", sync_to_thread=False)
def import_page(page: Inject[Page]) -> Template:
    """The import's own page: which files, and the upload."""
    return page("admin/kb_import.html", error=None, max_bytes=kb_formats.MAX_FILE_BYTES)


@get("/kb-import/confirm", sync_to_thread=False)
def import_confirm_get() -> Redirect:
    return Redirect("/admin/kb-import", status_code=303)


@post("/kb-import", status_code=200, request_max_body_size=MAX_UPLOAD_BYTES + 65536)
async def import_preview(
    data: Upload, page: Inject[Page], store: Inject[Store], previews: Inject[Previews]
) -> Template:
    try:
        name, entries = await parse_upload(data, lambda content, n: (n, kb_formats.parse(content, n)), "upload")
    except EntryError as exc:
        # Nothing is stored: the whole file is refused, naming the line or row.
        return page(
            "admin/kb_import.html", error=i18n.refusal(page.lang, exc), max_bytes=kb_formats.MAX_FILE_BYTES, status=422
        )
    db = store.read()
    rows = []
    for entry in entries:
        existing = kb.get(db, entry.id)
        rows.append((entry, "new" if existing is None else "same" if existing == entry else "changed"))
    token = secrets.token_urlsafe(16)
    previews[token] = (time.monotonic(), entries)
    counts = {k: sum(1 for _, s in rows if s == k) for k in ("new", "changed", "same")}
    return page(
        "admin/kb_import.html",
        max_bytes=MAX_UPLOAD_BYTES,
        rows=rows[:200],
        counts=counts,
        token=token,
        filename=name,
        error=None,
    )


@post("/kb-import/confirm", status_code=200)
async def import_confirm(
    data: Form,
    page: Inject[Page],
    store: Inject[Store],
    embedder: Inject[Embedder],
    clock: Inject[Clock],
    previews: Inject[Previews],
) -> Template:
    preview = previews.pop(data.get("token", ""), None)
    if preview is None:
        return page(
            "admin/kb_import.html", max_bytes=MAX_UPLOAD_BYTES, error=i18n.t(page.lang, "kb.import_expired"), status=410
        )
    _, entries = preview
    result = await anyio.to_thread.run_sync(_save, store, entries, embedder, clock, "admin-import")
    return core.toast(
        page("admin/kb_import.html", max_bytes=MAX_UPLOAD_BYTES, done=result, error=None),
        i18n.t(page.lang, "kb.import_finished"),
    )


router = owner_router(
    [
        kb_list,
        try_page,
        try_question,
        new_form,
        create,
        edit_form,
        update,
        toggle,
        delete,
        approve_suggestion,
        dismiss_suggestion,
        review_answer,
        export,
        import_page,
        import_confirm_get,
        import_preview,
        import_confirm,
    ],
    dependencies=PREVIEWS,
)
