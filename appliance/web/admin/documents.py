"""The documents page in the admin: upload a document (or give the address of a page of the
shop's site), see its sections and the question/answer pairs it proposes, approve them one by
one, import; the documents with their import history; read a page again; remove a document.
Every write goes through documents/store.py; fetching through documents/fetch.py."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Annotated, Any

import anyio
from litestar import get, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Template

from appliance import i18n
from appliance.clock import Clock
from appliance.db import Store
from appliance.documents import extract, fetch
from appliance.documents import store as documents_store
from appliance.kb.embedder import Embedder
from appliance.kb.entry import EntryError
from appliance.settings import Settings
from appliance.web.admin.core import Form, Page, Upload, fresh_previews, owner_router, parse_upload
from appliance.web.services import Inject

PREVIEW_SECTIONS = 30


@dataclass
class Held:
    """A read document waiting for the owner's approval."""

    document: extract.Document
    source: str
    data: bytes


Previews = dict[str, tuple[float, Held]]


def provide_document_previews(state: State) -> Previews:
    return fresh_previews(state.services.document_previews)


def _page(page: Page, store: Store, status: int = 200, **ctx: Any) -> Template:
    db = store.read()
    ctx.setdefault("error", "")
    return page(
        "admin/documents.html",
        documents=documents_store.all_documents(db),
        imports=documents_store.imports(db, 10),
        max_bytes=extract.MAX_DOCUMENT_BYTES,
        status=status,
        **ctx,
    )


@get("/documents", sync_to_thread=True)
def documents_page(page: Inject[Page], store: Inject[Store]) -> Template:
    return _page(page, store)


def _preview(page: Page, held: Held, previews: Previews, store: Store) -> Template:
    token = secrets.token_urlsafe(16)
    previews[token] = (time.monotonic(), held)
    before = documents_store.by_source(store.read(), held.source)
    return page(
        "admin/document_preview.html",
        doc=held.document,
        source=held.source,
        before=before,
        sections=held.document.sections[:PREVIEW_SECTIONS],
        token=token,
    )


@post("/documents/upload", status_code=200, request_max_body_size=extract.MAX_DOCUMENT_BYTES + 65536)
async def upload(
    data: Upload, page: Inject[Page], store: Inject[Store], document_previews: Inject[Previews]
) -> Template:
    try:
        held = await parse_upload(
            data, lambda content, name: Held(extract.extract(content, name), name, content), "document"
        )
    except EntryError as exc:
        return _page(page, store, error=i18n.refusal(page.lang, exc), status=422)
    return _preview(page, held, document_previews, store)


@post("/documents/fetch", status_code=200)
async def fetch_page(
    data: Form,
    page: Inject[Page],
    store: Inject[Store],
    settings: Inject[Settings],
    document_previews: Inject[Previews],
    clock: Inject[Clock],
) -> Template:
    url = data.get("url", "").strip()[:2000]
    return await _read_and_preview(page, store, settings, document_previews, clock, url)


async def _read_and_preview(
    page: Page, store: Store, settings: Settings, previews: Previews, clock: Clock, url: str
) -> Template:
    """Fetch and read a page off the event loop; the preview, or why it could not be read (also
    in the documents' import history: a page that used to work may have stopped)."""
    try:
        held = await anyio.to_thread.run_sync(lambda: read_page(url, settings))
    except EntryError as exc:
        why = str(exc)
        await anyio.to_thread.run_sync(lambda: documents_store.log_import(store, url, clock().isoformat(), error=why))
        return _page(page, store, error=i18n.refusal(page.lang, exc), url=url, status=422)
    return _preview(page, held, previews, store)


def read_page(url: str, settings: Settings) -> Held:
    """Fetch a page of the shop's site and read it (blocking: a worker thread)."""
    got = fetch.from_shop(url, settings, accept="text/html, application/pdf;q=0.9, */*;q=0.5")
    kind = extract.kind_of(got.url, got.content_type) or "html"
    return Held(extract.extract(got.body, got.url, kind=kind, link=got.url), url, got.body)


@post("/documents/confirm", status_code=200)
async def confirm(
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)],
    page: Inject[Page],
    store: Inject[Store],
    embedder: Inject[Embedder],
    clock: Inject[Clock],
    document_previews: Inject[Previews],
) -> Template:
    preview = document_previews.pop(str(data.get("token", "")), None)
    if preview is None:
        return _page(page, store, error=i18n.t(page.lang, "kb.import_expired"), status=410)
    chosen = data.get("approve", [])
    chosen = [chosen] if isinstance(chosen, str) else chosen
    approved = [int(c) for c in chosen if str(c).isdigit()]
    _, held = preview
    done = await anyio.to_thread.run_sync(
        lambda: documents_store.save(
            store,
            held.document,
            source=held.source,
            data=held.data,
            embedder=embedder,
            now=clock().isoformat(),
            approved=approved,
        )
    )
    return _page(page, store, done=done)


@post("/documents/{document_id:int}/refresh", status_code=200)
async def refresh(
    document_id: FromPath[int],
    page: Inject[Page],
    store: Inject[Store],
    settings: Inject[Settings],
    document_previews: Inject[Previews],
    clock: Inject[Clock],
) -> Template:
    """Read a page of the shop's site again: the preview shows what changed before anything does."""
    stored = documents_store.get(store.read(), document_id)
    if stored is None:
        raise NotFoundException()
    return await _read_and_preview(page, store, settings, document_previews, clock, stored.source)


@post("/documents/{document_id:int}/delete", status_code=200, sync_to_thread=True)
def delete(document_id: FromPath[int], page: Inject[Page], store: Inject[Store], clock: Inject[Clock]) -> Template:
    if not documents_store.delete(store, document_id, now=clock().isoformat()):
        raise NotFoundException()
    return _page(page, store, deleted=True)


router = owner_router(
    [documents_page, upload, fetch_page, confirm, refresh, delete],
    dependencies={"document_previews": Provide(provide_document_previews, sync_to_thread=False)},
)
