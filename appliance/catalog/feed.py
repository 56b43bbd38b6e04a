"""The shop's product feed: an address (a WooCommerce or Shopify export link, a spreadsheet
published as CSV) fetched on a schedule and imported like a file.

The fetch keeps the same rules as a document's page (documents/fetch.py: the shop's own hosts,
no private addresses unless allowed, size and time limits). The columns are read with the
mapping the owner last confirmed for a file with the same columns, else the guessed one. A feed
that fails (times out, returns a web page, a bad row) changes nothing: the error is recorded in
the import history the catalog page shows, and the next run tries again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from appliance.catalog import formats
from appliance.catalog import store as catalog_store
from appliance.db import Store
from appliance.documents import fetch
from appliance.kb.entry import EntryError
from appliance.settings import Settings

log = logging.getLogger(__name__)
KIND = "feed"


def due(store: Store, settings: Settings, now: datetime) -> bool:
    """Whether the feed should be fetched now (set, on a schedule, and not fetched for as long)."""
    if not settings.catalog_feed_url or settings.catalog_feed_hours <= 0:
        return False
    last = next((r for r in catalog_store.imports(store.read(), 50) if r.kind == KIND), None)
    if last is None:
        return True
    return now - datetime.fromisoformat(last.at) >= timedelta(hours=settings.catalog_feed_hours) - timedelta(minutes=5)


def sync(store: Store, settings: Settings, now: datetime) -> int:
    """Fetch and import the feed; returns the number of products. Blocking (a worker thread).
    Raises EntryError (FetchError included) after recording it."""
    url = settings.catalog_feed_url
    try:
        got = fetch.from_shop(url, settings, accept="text/csv, application/json;q=0.9, */*;q=0.1")
        if got.content_type.split(";")[0].strip().lower() in {"text/html", "application/xhtml+xml"}:
            raise fetch.FetchError(url, "a web page, not a catalog", "fetch.not_catalog")
        name = PurePosixPath(urlsplit(got.url).path).name or "feed.csv"
        table = formats.read_table(got.body, name)
        mapping = catalog_store.last_mapping(store.read(), table.columns) or table.mapping
        products = formats.build(table, mapping, currency=mapping.get("currency_text", ""))
    except EntryError as exc:
        with store.write() as db:
            catalog_store.record(db, now=now.isoformat(), source=url, kind=KIND, error=str(exc))
        log.warning("product feed %s: %s", url, exc)
        raise
    with store.write() as db:
        return catalog_store.replace_all(
            db, products, source=url, kind=KIND, mapping={**mapping, "columns": table.columns}, now=now.isoformat()
        )
