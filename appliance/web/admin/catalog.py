"""The catalog page in the admin: search the products, edit a price or a stock, turn a product
off, import a file with a preview of its column mapping (remembered for the next file like it),
export, and the last imports with their errors. Every write goes through catalog/store.py."""

from __future__ import annotations

import dataclasses
import secrets
import time
from typing import Annotated, Any

import anyio
from litestar import Response, get, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from appliance import i18n
from appliance.catalog import feed, formats
from appliance.catalog import store as catalog_store
from appliance.clock import Clock
from appliance.db import Store
from appliance.kb.entry import EntryError
from appliance.ops.jobs import Busy, Job, Jobs
from appliance.settings import Settings
from appliance.web.admin.core import Form, Page, Upload, fresh_previews, owner_router, parse_upload
from appliance.web.services import Inject

SAMPLE_ROWS = 8
KIND = "catalog"


def provide_jobs(state: State) -> Jobs:
    return state.services.jobs


def _page(
    page: Page, store: Store, jobs: Jobs, q: str = "", n: int = 0, *, rows_only: bool = False, **ctx: Any
) -> Template:
    """The catalog page; ``rows_only``: the search's htmx call gets the list alone (an import or a
    sync answered with it swapped a bare list in place of the page)."""
    db = store.read()
    ctx["jobs"] = [j for j in jobs.of_kind(KIND) if j.running or j is ctx.get("job")]
    products, total = catalog_store.search(db, q, page=n)
    variants = {p.sku: catalog_store.variants(db, p.sku) for p in products}
    return page(
        "admin/catalog.html",
        partial="admin/_catalog_rows.html" if rows_only else None,
        products=products,
        variants=variants,
        total=total,
        q=q,
        n=n,
        pages=(total + catalog_store.PAGE - 1) // catalog_store.PAGE,
        counts=catalog_store.count(db),
        feed_url=page.settings.catalog_feed_url,
        feed_hours=page.settings.catalog_feed_hours,
        imports=catalog_store.imports(db, 5),
        max_bytes=formats.MAX_FILE_BYTES,
        **ctx,
    )


@get("/catalog", sync_to_thread=True)
def catalog_page(
    page: Inject[Page], store: Inject[Store], jobs: Inject[Jobs], q: FromQuery[str] = "", n: FromQuery[int] = 0
) -> Template:
    return _page(page, store, jobs, q.strip()[:200], max(0, n), rows_only=True)


@get(["/catalog-import", "/catalog-import/confirm"], sync_to_thread=False)
def import_get() -> Redirect:
    """These addresses take a file or a form; opened, they are the catalog page's import."""
    return Redirect("/admin/catalog#import", status_code=303)


def _row(page: Page, store: Store, sku: str, **ctx: Any) -> Template:
    db = store.read()
    product = catalog_store.get(db, sku)
    if product is None:
        raise NotFoundException()
    return page("admin/_catalog_row.html", p=product, variants={sku: catalog_store.variants(db, sku)}, **ctx)


@post("/catalog/{sku:str}", sync_to_thread=True, status_code=200)
def edit(page: Inject[Page], store: Inject[Store], clock: Inject[Clock], sku: FromPath[str], data: Form) -> Template:
    """The owner's new price or stock for one product (or variant)."""
    try:
        with store.write() as db:
            catalog_store.update(
                db, sku, price=data.get("price", ""), stock=data.get("stock", ""), now=clock().isoformat()
            )
    except EntryError as exc:
        parent = catalog_store.get(store.read(), sku)
        top = parent.parent_sku if parent and parent.parent_sku else sku
        return _row(page, store, top, error=i18n.refusal(page.lang, exc), error_sku=sku)
    product = catalog_store.get(store.read(), sku)
    return _row(page, store, product.parent_sku or sku if product else sku, saved=sku)


@post("/catalog/{sku:str}/toggle", sync_to_thread=True, status_code=200)
def toggle(page: Inject[Page], store: Inject[Store], clock: Inject[Clock], sku: FromPath[str]) -> Template:
    product = catalog_store.get(store.read(), sku)
    if product is None:
        raise NotFoundException()
    with store.write() as db:
        catalog_store.set_enabled(db, sku, not product.enabled, now=clock().isoformat())
    return _row(page, store, sku)


@get("/catalog-export", sync_to_thread=True)
def export(store: Inject[Store]) -> Response:
    text = formats.to_csv(catalog_store.all_products(store.read()))
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="catalog.csv"'},
    )


# -- import: upload, map the columns, confirm ---------------------------------------------------


def provide_catalog_previews(state: State) -> dict[str, tuple[float, formats.Table]]:
    """Uploaded catalogs waiting for the owner's mapping, by token."""
    return fresh_previews(state.services.catalog_previews)


Previews = dict[str, tuple[float, formats.Table]]


def _preview(page: Page, table: formats.Table, token: str, mapping: dict, currency: str, error: str = "") -> Template:
    try:
        # the first rows alone, keeping their numbers in the sheet for the error to name
        sample = formats.build(
            dataclasses.replace(table, rows=table.rows[:SAMPLE_ROWS], mapping={}), mapping, currency=currency
        )
    except EntryError as exc:
        sample, error = [], error or i18n.refusal(page.lang, exc)
    return page(
        "admin/catalog_import.html",
        table=table,
        token=token,
        mapping=mapping,
        currency=currency,
        sample=sample,
        fields=formats.FIELDS,
        presets=formats.PRESETS,
        error=error,
        status=422 if error else 200,
    )


@post("/catalog-import", status_code=200, request_max_body_size=formats.MAX_FILE_BYTES + 65536)
async def import_preview(
    data: Upload, page: Inject[Page], store: Inject[Store], catalog_previews: Inject[Previews]
) -> Template:
    try:
        table = await parse_upload(data, formats.read_table, "upload.csv")
    except EntryError as exc:
        return page("admin/catalog_import.html", table=None, error=i18n.refusal(page.lang, exc), status=422)
    remembered = catalog_store.last_mapping(store.read(), table.columns)
    token = secrets.token_urlsafe(16)
    catalog_previews[token] = (time.monotonic(), table)
    currency = str(data.get("currency") or "").strip()[:20] or str((remembered or {}).get("currency_text", ""))
    return _preview(page, table, token, remembered or table.mapping, currency)


def _mapping_from_form(data: dict[str, Any], table: formats.Table) -> dict[str, Any]:
    mapping: dict[str, Any] = {"preset": data.get("preset") if data.get("preset") in formats.PRESETS else "plain"}
    for fld in formats.FIELDS:
        column = data.get(f"map_{fld}", "")
        if column in table.columns:
            mapping[fld] = column
    chosen = data.get("attributes", [])
    chosen = [chosen] if isinstance(chosen, str) else chosen
    mapping["attributes"] = [c for c in chosen if c in table.columns]
    return mapping


@post("/catalog-import/confirm", status_code=200)
async def import_confirm(
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)],
    page: Inject[Page],
    store: Inject[Store],
    clock: Inject[Clock],
    catalog_previews: Inject[Previews],
    jobs: Inject[Jobs],
) -> Template:
    """The owner's mapping checked on a sample, then the import as a job of its own (a large
    file takes a while): the catalog page shows how far it is, then what changed."""
    token = str(data.get("token", ""))
    held = catalog_previews.get(token)
    if held is None:
        return page("admin/catalog_import.html", table=None, error=i18n.t(page.lang, "kb.import_expired"), status=410)
    table = held[1]
    mapping = _mapping_from_form(data, table)
    currency = str(data.get("currency", "")).strip()[:20]
    if data.get("action") != "import":  # "show the preview again" with the changed mapping
        return _preview(page, table, token, mapping, currency)
    running = jobs.running(KIND)
    if running is not None:  # one catalog: a second import waits for the first
        return _page(page, store, jobs, job=running, error=i18n.t(page.lang, "import.already"), status=409)

    def work(job: Job) -> catalog_store.Compared:
        rows = len(table.rows)
        job.step("rows", 0, rows)
        products = formats.build(table, mapping, currency=currency)  # EntryError: which row, why
        job.step("rows", rows, rows)

        def save() -> catalog_store.Compared:
            with store.write() as db:
                compared = catalog_store.compare(db, products)
                catalog_store.replace_all(
                    db, products, source=table.name, kind="file",
                    mapping={**mapping, "columns": table.columns, "currency_text": currency}, now=clock().isoformat(),
                )  # fmt: skip
            return compared

        job.step("saving", len(products), len(products))
        compared = save()
        catalog_previews.pop(token, None)  # used: the catalog is the file's now
        return compared

    try:
        job, started = jobs.start(
            KIND,
            KIND,
            table.name,
            work,
            now=lambda: clock().isoformat(),
            extra={"token": token, "mapping": mapping, "currency": currency},
        )
    except Busy:
        return _preview(page, table, token, mapping, currency, i18n.t(page.lang, "import.busy"))
    if not started:
        return _page(page, store, jobs, job=job, error=i18n.t(page.lang, "import.already"), status=409)
    return _page(page, store, jobs, job=job)


@post("/catalog-feed", status_code=200)
async def sync_feed(
    page: Inject[Page], store: Inject[Store], settings: Inject[Settings], clock: Inject[Clock], jobs: Inject[Jobs]
) -> Template:
    """Fetch the product feed now, not at its next time (the owner just changed the shop)."""
    if not settings.catalog_feed_url:
        return _page(page, store, jobs, error=i18n.t(page.lang, "catalog.no_feed"), status=422)
    try:
        n = await anyio.to_thread.run_sync(lambda: feed.sync(store, settings, clock()))
    except EntryError as exc:
        return _page(page, store, jobs, error=i18n.refusal(page.lang, exc), status=422)
    return _page(page, store, jobs, done=n)


router = owner_router(
    [catalog_page, import_get, edit, toggle, export, import_preview, import_confirm, sync_feed],
    dependencies={
        "catalog_previews": Provide(provide_catalog_previews, sync_to_thread=False),
        "jobs": Provide(provide_jobs, sync_to_thread=False),
    },
)
