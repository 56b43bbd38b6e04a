"""The documents page in the admin: upload a document (or give the address of a page of the
shop's site), see its sections and the question/answer pairs it proposes (those already in the
knowledge base marked, "select all / none", how many are chosen), import; the documents with their
import history; read a page again; remove a document. Every write goes through
documents/store.py; fetching through documents/fetch.py.

An import embeds every section, a minute for a long FAQ page: it runs as a job of its own
(ops/jobs.py) and the page polls its progress (``/admin/import-jobs/<id>``, which serves the
catalog's imports too). The same document can't be imported twice at once, and leaving the page
doesn't stop it."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Annotated, Any

import anyio
from litestar import Response, get, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from appliance import i18n
from appliance import settings as settings_mod
from appliance.clock import Clock
from appliance.db import Store
from appliance.documents import extract, fetch
from appliance.documents import store as documents_store
from appliance.kb.embedder import Embedder
from appliance.kb.entry import EntryError
from appliance.ops.jobs import Busy, Job, Jobs
from appliance.settings import Settings
from appliance.web.admin import core, start
from appliance.web.admin.core import Form, Page, Upload, fresh_previews, owner_router, parse_upload
from appliance.web.services import AppServices, Inject

PREVIEW_SECTIONS = 30
KIND = "document"
FormList = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


@dataclass
class Held:
    """A read document waiting for the owner's approval."""

    document: extract.Document
    source: str
    data: bytes


Previews = dict[str, tuple[float, Held]]


def provide_document_previews(state: State) -> Previews:
    return fresh_previews(state.services.document_previews)


def provide_jobs(state: State) -> Jobs:
    return state.services.jobs


def _page(page: Page, store: Store, jobs: Jobs, status: int = 200, **ctx: Any) -> Template:
    db = store.read()
    ctx.setdefault("error", "")
    recent = jobs.of_kind(KIND)
    return page(
        "admin/documents.html",
        documents=documents_store.all_documents(db),
        faq=documents_store.faq_counts(db),  # what each gave besides its sections
        imports=documents_store.imports(db, 10),
        max_bytes=extract.MAX_DOCUMENT_BYTES,
        # The running imports, and the one this page was asked about (its summary at the top).
        jobs=[j for j in recent if j.running or j is ctx.get("job")],
        importing={j.key: j for j in recent if j.running},
        status=status,
        **ctx,
    )


@get("/documents", sync_to_thread=True)
def documents_page(page: Inject[Page], store: Inject[Store], jobs: Inject[Jobs]) -> Template:
    return _page(page, store, jobs)


@get(["/documents/upload", "/documents/fetch", "/documents/confirm"], sync_to_thread=False)
def documents_get() -> Redirect:
    """These addresses take a form; opened (a bookmark, a reload after a refusal) they are the page."""
    return Redirect("/admin/documents", status_code=303)


def _selection(data: dict[str, Any], size: int) -> set[int]:
    chosen = data.get("approve", [])
    chosen = [chosen] if isinstance(chosen, str) else chosen
    return {int(c) for c in chosen if str(c).isdigit() and int(c) < size}


def _preview(
    page: Page, held: Held, previews: Previews, store: Store, jobs: Jobs, token: str = "", **ctx: Any
) -> Template:
    token = token or secrets.token_urlsafe(16)
    previews[token] = (time.monotonic(), held)
    db = store.read()
    before = documents_store.by_source(db, held.source)
    accepted = documents_store.accepted_before(db, held.source, held.document.proposals)
    return page(
        "admin/document_preview.html",
        doc=held.document,
        source=held.source,
        before=before,
        sections=held.document.sections[:PREVIEW_SECTIONS],
        token=token,
        accepted=accepted,
        chosen=ctx.pop("chosen", set()),
        running=jobs.running(KIND, held.source),
        **ctx,
    )


@post("/documents/upload", status_code=200, request_max_body_size=extract.MAX_DOCUMENT_BYTES + 65536)
async def upload(
    data: Upload, page: Inject[Page], store: Inject[Store], document_previews: Inject[Previews], jobs: Inject[Jobs]
) -> Template:
    try:
        held = await parse_upload(
            data, lambda content, name: Held(extract.extract(content, name), name, content), "document"
        )
    except EntryError as exc:
        return _page(page, store, jobs, error=i18n.refusal(page.lang, exc), status=422)
    return await anyio.to_thread.run_sync(lambda: _preview(page, held, document_previews, store, jobs))


@post("/documents/fetch", status_code=200)
async def fetch_page(
    data: Form,
    page: Inject[Page],
    store: Inject[Store],
    settings: Inject[Settings],
    document_previews: Inject[Previews],
    clock: Inject[Clock],
    jobs: Inject[Jobs],
) -> Template:
    url = data.get("url", "").strip()[:2000]
    return await _read_and_preview(page, store, settings, document_previews, clock, jobs, url)


async def _read_and_preview(
    page: Page, store: Store, settings: Settings, previews: Previews, clock: Clock, jobs: Jobs, url: str
) -> Template:
    """Fetch and read a page off the event loop; the preview, or why it could not be read (also
    in the documents' import history: a page that used to work may have stopped)."""
    try:
        held = await anyio.to_thread.run_sync(lambda: read_page(url, settings))
    except EntryError as exc:
        why = str(exc)
        await anyio.to_thread.run_sync(lambda: documents_store.log_import(store, url, clock().isoformat(), error=why))
        error = i18n.refusal(page.lang, exc)
        return _page(page, store, jobs, error=error, url=url, not_shop=_not_shop(exc, url), status=422)
    return await anyio.to_thread.run_sync(lambda: _preview(page, held, previews, store, jobs))


def _site_of(url: str) -> str | None:
    """``url``'s site as a browser names it (what ``allowed_origins`` holds), or None."""
    found = fetch.origin_of(url)
    if found is None:
        return None
    try:
        return settings_mod.origin("{}://{}:{}".format(*found))
    except ValueError:
        return None


def _not_shop(exc: EntryError, url: str) -> str | None:
    """The site to offer adding when the fetch was refused for not being the shop's: the page's
    own, or the one a page of the shop's site sent it to."""
    key = getattr(exc, "key", "")
    if key == "fetch.not_allowed":
        return _site_of(url)
    if key == "fetch.redirect":
        return _site_of(str(getattr(exc, "params", {}).get("url", "")))
    return None


@post("/documents/fetch-allowing", status_code=200)
async def fetch_allowing(
    data: Form,
    page: Inject[Page],
    store: Inject[Store],
    services: Inject[AppServices],
    document_previews: Inject[Previews],
    clock: Inject[Clock],
    jobs: Inject[Jobs],
) -> Template:
    """ "Yes, it is my shop's site": the site is added to the sites allowed (as the home page's
    "allow this site" does: settings.toml, then the running app), and the page is read."""
    url = data.get("url", "").strip()[:2000]
    site = _site_of(data.get("site", ""))
    if site is None or not url:
        error = i18n.t(page.lang, "start.site.bad_origin")
        return _page(page, store, jobs, error=error, url=url, status=422)
    said = await anyio.to_thread.run_sync(lambda: start.allow_origin(services, site))
    if said != "start.site.allowed":
        return _page(page, store, jobs, error=i18n.t(page.lang, said), url=url, status=422)
    response = await _read_and_preview(page, store, services.settings, document_previews, clock, jobs, url)
    return core.toast(response, i18n.t(page.lang, "documents.site_added").format(site=i18n.isolate(site)))


def read_page(url: str, settings: Settings) -> Held:
    """Fetch a page of the shop's site and read it (blocking: a worker thread)."""
    got = fetch.from_shop(url, settings, accept="text/html, application/pdf;q=0.9, */*;q=0.5")
    kind = extract.kind_of(got.url, got.content_type) or "html"
    return Held(extract.extract(got.body, got.url, kind=kind, link=got.url), url, got.body)


@post("/documents/proposals", status_code=200, sync_to_thread=True)
def proposals(
    data: FormList, page: Inject[Page], store: Inject[Store], document_previews: Inject[Previews]
) -> Template:
    """The proposals again with all (or none) of them ticked (``select``), or only how many are
    ticked (``part=count``, as the owner ticks them): htmx, no script of our own."""
    token = str(data.get("token", ""))
    held = document_previews.get(token)
    if held is None:
        return page("admin/_proposals.html", expired=True, status=410)
    doc = held[1].document
    accepted = documents_store.accepted_before(store.read(), held[1].source, doc.proposals)
    select = data.get("select")
    if select == "all":  # every proposal not in the knowledge base already
        chosen = set(range(len(doc.proposals))) - accepted
    elif select == "none":
        chosen = set()
    else:
        chosen = _selection(data, len(doc.proposals))
    part = "admin/_proposals_count.html" if data.get("part") == "count" else "admin/_proposals.html"
    return page(part, doc=doc, token=token, accepted=accepted, chosen=chosen)


@post("/documents/confirm", status_code=200)
async def confirm(
    data: FormList,
    page: Inject[Page],
    store: Inject[Store],
    embedder: Inject[Embedder],
    clock: Inject[Clock],
    document_previews: Inject[Previews],
    jobs: Inject[Jobs],
) -> Template:
    """Start the import as a job of its own; the documents page shows how far it is."""
    token = str(data.get("token", ""))
    preview = document_previews.pop(token, None)
    if preview is None:
        return _page(page, store, jobs, error=i18n.t(page.lang, "kb.import_expired"), status=410)
    _, held = preview
    approved = sorted(_selection(data, len(held.document.proposals)))

    def work(job: Job) -> documents_store.Imported:
        sections = len(held.document.sections)
        job.step("read", sections, sections)
        try:
            return documents_store.save(
                store,
                held.document,
                source=held.source,
                data=held.data,
                embedder=embedder,
                now=clock().isoformat(),
                approved=approved,
                progress=job.step,
            )
        except Exception as exc:
            # Nothing was stored (all or nothing) and nothing is lost: the same preview, with the
            # same questions ticked, is offered again; the history says why it failed.
            document_previews[token] = (time.monotonic(), held)
            why = str(exc)
            documents_store.log_import(store, held.source, clock().isoformat(), error=why)
            raise

    try:
        job, started = jobs.start(
            KIND,
            held.source,
            held.document.title or held.source,
            work,
            now=lambda: clock().isoformat(),
            extra={"token": token, "approved": approved},
        )
    except Busy:
        document_previews[token] = preview
        return _preview(page, held, document_previews, store, jobs, token, busy=True, chosen=set(approved))
    if not started:  # the same document is being imported: this one is not started
        document_previews[token] = preview
        return _page(page, store, jobs, job=job, error=i18n.t(page.lang, "import.already"), status=409)
    return _page(page, store, jobs, job=job)


@get("/import-jobs/{job_id:str}", sync_to_thread=False)
def job_status(job_id: FromPath[str], page: Inject[Page], jobs: Inject[Jobs]) -> Response:
    """A job's progress card, polled by the page while the job runs; once it has finished, the
    summary (or the reason it failed), and the page's lists are told to refresh themselves."""
    job = jobs.get(job_id)
    if job is None:
        raise NotFoundException()
    response = page("admin/_import_job.html", job=job)
    if not job.running:
        response.headers["hx-trigger"] = "import-finished"
        if job.state == "done":
            core.toast(response, i18n.t(page.lang, "import.finished"))
        else:
            core.toast(response, i18n.t(page.lang, "import.failed"), kind="danger")
    return response


@post("/documents/{document_id:int}/refresh", status_code=200)
async def refresh(
    document_id: FromPath[int],
    page: Inject[Page],
    store: Inject[Store],
    settings: Inject[Settings],
    document_previews: Inject[Previews],
    clock: Inject[Clock],
    jobs: Inject[Jobs],
) -> Template:
    """Read a page of the shop's site again: the preview shows what changed before anything does."""
    stored = documents_store.get(store.read(), document_id)
    if stored is None:
        raise NotFoundException()
    return await _read_and_preview(page, store, settings, document_previews, clock, jobs, stored.source)


@post("/documents/{document_id:int}/delete", status_code=200, sync_to_thread=True)
def delete(
    document_id: FromPath[int], page: Inject[Page], store: Inject[Store], clock: Inject[Clock], jobs: Inject[Jobs]
) -> Template:
    stored = documents_store.get(store.read(), document_id)
    if stored is None:
        raise NotFoundException()
    if jobs.running(KIND, stored.source):  # its sections are being written: not under the job's feet
        return _page(page, store, jobs, error=i18n.t(page.lang, "import.busy_delete"), status=409)
    if not documents_store.delete(store, document_id, now=clock().isoformat()):
        raise NotFoundException()
    response = _page(page, store, jobs)
    core.toast(response, i18n.t(page.lang, "documents.deleted"))
    return response


router = owner_router(
    [
        documents_page,
        documents_get,
        upload,
        fetch_page,
        fetch_allowing,
        proposals,
        confirm,
        job_status,
        refresh,
        delete,
    ],
    dependencies={
        "document_previews": Provide(provide_document_previews, sync_to_thread=False),
        "jobs": Provide(provide_jobs, sync_to_thread=False),
    },
)
