"""The owner's spreadsheet of orders fetched from its address on a schedule (a Google Sheet
published as CSV, a file on the shop's site), as the product feed is (catalog/feed.py).

The fetch keeps the safe fetch's rules (the shop's own hosts, private addresses only when
allowed, size and time limits). The columns are read with the mapping used last for the same
columns, else the guessed one. A fetch that fails (down, a web page, a sheet that can't be read)
changes nothing: the error is in the import history, and the next run tries again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from appliance.db import Store
from appliance.documents import fetch
from appliance.kb.entry import EntryError
from appliance.locale import N_
from appliance.orders import sheet
from appliance.orders import store as orders_store
from appliance.settings import Settings

log = logging.getLogger(__name__)
KIND = "feed"
ACCEPT = "text/csv, application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;q=0.9, */*;q=0.1"


def due(store: Store, settings: Settings, now: datetime) -> bool:
    """Whether the sheet should be fetched now (the source, an address, a schedule, and not
    fetched for as long)."""
    if settings.orders_source != "sheet" or not settings.orders_url.strip() or settings.orders_sheet_hours <= 0:
        return False
    last = next((r for r in orders_store.imports(store.read(), 50) if r.kind == KIND), None)
    if last is None:
        return True
    return now - datetime.fromisoformat(last.at) >= timedelta(hours=settings.orders_sheet_hours) - timedelta(minutes=5)


def sync(store: Store, settings: Settings, now: datetime) -> int:
    """Fetch and import the sheet; returns how many orders. Blocking (a worker thread). Raises
    EntryError (FetchError included) after recording it."""
    url = settings.orders_url.strip()
    try:
        got = fetch.from_shop(url, settings, accept=ACCEPT)
        if got.content_type.split(";")[0].strip().lower() in {"text/html", "application/xhtml+xml"}:
            raise EntryError(url, "a web page, not a spreadsheet", N_("orders.sheet_web_page"))
    except EntryError as exc:
        with store.write() as db:
            orders_store.record_import(db, now=now.isoformat(), source=url, kind=KIND, error=str(exc))
        log.warning("orders sheet %s: %s", url, exc)
        raise
    name = PurePosixPath(urlsplit(got.url).path).name or "orders.csv"
    n, _ = sheet.import_sheet(store, got.body, name, source=url, kind=KIND, now=now.isoformat())
    return n
