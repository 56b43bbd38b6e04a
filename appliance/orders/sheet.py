"""The owner's spreadsheet of orders (CSV or XLSX, uploaded or fetched from its address): many
Instagram sellers keep their orders in one, a row an order.

Its columns are guessed from their names in Persian or English («شماره سفارش», «کد رهگیری»,
"Order", "Tracking"...) and mapped once: the next file with the same columns is read with the
mapping used last (store.last_mapping). Each cell is read as the owner wrote it: a status in the
owner's words (statuses.from_words), a day in either calendar and either digits (dates.iso_day),
a phone number with spaces and dashes. An import replaces the sheet whole (the sheet is the
shop's list), or, when the file can't be read, changes nothing and is recorded with why.
"""

from __future__ import annotations

import logging
from typing import Any

from appliance.db import Store
from appliance.documents import tables
from appliance.kb.entry import EntryError
from appliance.locale import N_
from appliance.orders import store as orders_store
from appliance.orders.dates import iso_day
from appliance.orders.order import Order, digits_only, normalize_number
from appliance.orders.statuses import from_words
from appliance.text.textnorm import normalize

log = logging.getLogger(__name__)
MAX_ORDERS = 100_000
WORDS = tables.Words(
    empty=N_("orders.sheet_empty"),
    web_page=N_("orders.sheet_web_page"),
    not_a_list=N_("orders.sheet_not_a_list"),
    too_many=N_("orders.sheet_too_many"),
    list_keys=("orders", "items", "data"),
)
FIELDS = ("number", "status", "created", "shipped", "carrier", "tracking_code", "tracking_url", "phone", "email")
# Column names a sheet may use for each field (compared normalised); the longest name found in a
# column's header wins, so «تاریخ ارسال» is the shipping day, not the order's.
_GUESS = {
    "number": [
        "شماره سفارش", "کد سفارش", "سفارش", "شماره فاکتور", "order", "order number", "order no", "order id",
        "order #", "order_number", "number", "#",
    ],
    "status": ["وضعیت", "وضعیت سفارش", "status", "order status", "state"],
    "created": ["تاریخ", "تاریخ سفارش", "تاریخ ثبت", "date", "order date", "created", "date created", "created_at"],
    "shipped": ["تاریخ ارسال", "shipped", "date shipped", "ship date", "shipped date", "shipping date", "sent on"],
    "carrier": ["شرکت حمل", "حمل", "پست", "روش ارسال", "نحوه ارسال", "carrier", "courier", "shipping method"],
    "tracking_code": [
        "کد رهگیری", "کد پیگیری", "رهگیری", "شماره رهگیری", "بارکد", "بارکد پستی", "tracking", "tracking code",
        "tracking number", "tracking no",
    ],
    "tracking_url": ["لینک رهگیری", "پیوند رهگیری", "آدرس رهگیری", "tracking link", "tracking url"],
    "phone": [
        "موبایل", "تلفن", "شماره تماس", "تلفن همراه", "شماره موبایل", "همراه", "phone", "mobile", "telephone",
        "tel", "billing phone",
    ],
    "email": ["ایمیل", "پست الکترونیک", "email", "e-mail", "billing email"],
}  # fmt: skip
_ALIASES = sorted(((normalize(a), f) for f, names in _GUESS.items() for a in names), key=lambda p: -len(p[0]))


def guess_mapping(columns: list[str]) -> dict[str, str]:
    """Which column holds which field, from the header: a column named exactly as a field's
    name first, then the longest of the names in a column's header. One column a field."""
    mapping: dict[str, str] = {}
    exact = {alias: f for alias, f in _ALIASES}
    for column in columns:
        f = exact.get(normalize(column))
        if f and f not in mapping:
            mapping[f] = column
    for column in columns:
        if column in mapping.values():
            continue
        header = f" {normalize(column)} "
        for alias, f in _ALIASES:
            if f not in mapping and f" {alias} " in header:
                mapping[f] = column
                break
    return mapping


def read(data: bytes, name: str) -> tuple[tables.Table, dict[str, str]]:
    """The sheet's table and the mapping guessed for it; EntryError if it isn't one."""
    table = tables.read(data, name, max_rows=MAX_ORDERS, words=WORDS)
    return table, guess_mapping(table.columns)


def check_mapping(mapping: dict[str, str], columns: list[str], name: str) -> None:
    """A mapping that can't serve: no order number, or nothing a customer could prove an order
    with (then no order could ever be told)."""
    unknown = [f for f, c in mapping.items() if f not in FIELDS or c not in columns]
    if unknown or not mapping.get("number"):
        raise EntryError(name, "no column holds the order number", "orders.no_number_column")
    if not mapping.get("phone") and not mapping.get("email"):
        raise EntryError(name, "no column holds the customer's phone number or e-mail", "orders.no_proof_column")


def build(table: tables.Table, mapping: dict[str, str]) -> list[Order]:
    """The orders of the sheet's rows under ``mapping``; a row without a number is skipped (a
    total, a note the owner wrote under the orders)."""
    check_mapping(mapping, table.columns, table.name)

    def cell(row: dict[str, str], f: str) -> str:
        column = mapping.get(f)
        return " ".join((row.get(column) or "").split()) if column else ""

    orders = []
    for row in table.rows:
        number = normalize_number(cell(row, "number"))
        if not number:
            continue
        tracking_code, shipped = cell(row, "tracking_code"), iso_day(cell(row, "shipped"))
        status, label = from_words(cell(row, "status"))
        if not label:  # no status written: a tracking code or a shipping day says it left
            status = "shipped" if tracking_code or shipped else "custom"
        url = cell(row, "tracking_url")
        orders.append(
            Order(
                number=number,
                status=status,
                status_label=label,
                created=iso_day(cell(row, "created")),
                shipped=shipped,
                carrier=cell(row, "carrier"),
                tracking_code=tracking_code,
                tracking_url=url if url.lower().startswith(("https://", "http://")) else "",
                phone=digits_only(cell(row, "phone")),
                email=cell(row, "email").lower(),
            )
        )
    return orders


def import_sheet(
    store: Store, data: bytes, name: str, *, source: str, kind: str, now: str, mapping: dict[str, Any] | None = None
) -> tuple[int, dict[str, str]]:
    """Read and import a sheet: (how many orders, the mapping used). The mapping: the one given,
    else the one used last for these columns, else the guessed one. Blocking (a worker thread).
    A sheet that can't be read changes nothing: its error is recorded, then raised (EntryError)."""
    try:
        table, guessed = read(data, name)
        used = mapping or orders_store.last_mapping(store.read(), table.columns) or guessed
        orders = build(table, used)
    except EntryError as exc:
        with store.write() as db:
            orders_store.record_import(db, now=now, source=source, kind=kind, error=str(exc))
        log.warning("orders sheet %s: %s", source, exc)
        raise
    with store.write() as db:
        n = orders_store.replace_sheet(
            db, orders, source=source, kind=kind, mapping={**used, "columns": table.columns}, now=now
        )
    return n, used
