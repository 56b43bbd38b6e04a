"""The Orders page: where the bot reads the shop's orders when a customer asks "where is my
order?" (none, WooCommerce, a JSON address, a spreadsheet), the statuses that hand the
conversation to the owner, a "test the connection" with an order number, the spreadsheet's
upload with its columns mapped once, and the audit log of every lookup.

The choices are saved through the settings machinery the settings page uses (settings.check one
field at a time, each refusal said under its field; settings.toml written; the running app given
the new settings), so the two pages can never disagree. A secret is never shown back; its box
left empty keeps it. Lookups (the test's, the inbox card's) may wait on the shop's site for up to
the safe fetch's timeout: they run in a worker thread, never on the event loop.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import secrets
import time
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
from appliance import settings as settings_mod
from appliance.clock import Clock
from appliance.conversations.store import Conversations
from appliance.db import Store
from appliance.documents import fetch, tables
from appliance.kb.entry import EntryError
from appliance.locale import N_
from appliance.orders import feed, sheet, sources
from appliance.orders import store as orders_store
from appliance.orders.order import STATUSES, Order, OrdersUnavailable, normalize_number, public
from appliance.settings import Settings
from appliance.text.textnorm import normalize
from appliance.web.admin.core import Page, Upload, check_settings, fresh_previews, owner_router, parse_upload, toast
from appliance.web.services import AppServices, Inject

log = logging.getLogger(__name__)

Fields = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]

SOURCES = ("", "woocommerce", "json", "sheet")
# The settings each source uses (the others are kept as they are when it is saved).
SOURCE_FIELDS = {
    "": (),
    "woocommerce": ("orders_url", "orders_key", "orders_secret"),
    "json": ("orders_url", "orders_key", "orders_secret", "orders_json_mapping"),
    "sheet": ("orders_url", "orders_sheet_hours"),
}
SECRET = ("orders_key", "orders_secret")
# The JSON answer's fields the owner points at, each a dotted path (settings.orders_mapping).
MAPPED = (
    "status", "created", "shipped", "carrier", "tracking_code", "tracking_url", "phone", "email", "status_label", "number",
)  # fmt: skip
# The statuses offered as boxes for "hand the conversation to me"; any other (a shop's own) is typed.
HANDOVER = tuple(s for s in STATUSES if s != "custom")
# Each source in words: what it is, and what its address box asks for.
WORDS = {
    "": {"help": N_("ord.source_help.none")},
    "woocommerce": {
        "help": N_("ord.source_help.woocommerce"),
        "url": N_("ord.url.woocommerce"),
        "url_help": N_("ord.url_help.woocommerce"),
        "example": N_("ord.url_example.woocommerce"),
    },
    "json": {
        "help": N_("ord.source_help.json"),
        "url": N_("ord.url.json"),
        "url_help": N_("ord.url_help.json"),
        "example": N_("ord.url_example.json"),
    },
    "sheet": {
        "help": N_("ord.source_help.sheet"),
        "url": N_("ord.url.sheet"),
        "url_help": N_("ord.url_help.sheet"),
        "example": N_("ord.url_example.sheet"),
    },
}
LOG_CAP = 200  # audit lines on the page: the newest
MAX_NUMBER_CHARS = 64
CARD_ORDERS = 3
SAMPLE_ROWS = 5  # the sheet's first orders shown with the mapping  # orders shown on an inbox conversation's card, the latest asked about

STATUS_WORDS = {
    "pending": N_("ord.st.pending"),
    "processing": N_("ord.st.processing"),
    "on-hold": N_("ord.st.on_hold"),
    "completed": N_("ord.st.completed"),
    "cancelled": N_("ord.st.cancelled"),
    "refunded": N_("ord.st.refunded"),
    "failed": N_("ord.st.failed"),
    "shipped": N_("ord.st.shipped"),
    "custom": N_("ord.st.custom"),
}
OUTCOME_WORDS = {
    "found": N_("ord.outcome.found"),
    "not_found": N_("ord.outcome.not_found"),
    "wrong_proof": N_("ord.outcome.wrong_proof"),
    "limited": N_("ord.outcome.limited"),
    "unavailable": N_("ord.outcome.unavailable"),
    "handed_over": N_("ord.outcome.handed_over"),
}
PROVED = ("found", "handed_over")  # outcomes that come only after the number and the proof matched
MAPPED_WORDS = {
    "status": N_("ord.field.status"),
    "created": N_("ord.field.created"),
    "shipped": N_("ord.field.shipped"),
    "carrier": N_("ord.field.carrier"),
    "tracking_code": N_("ord.field.tracking_code"),
    "tracking_url": N_("ord.field.tracking_url"),
    "phone": N_("ord.field.phone"),
    "email": N_("ord.field.email"),
    "number": N_("ord.field.number"),
    "status_label": N_("ord.field.status_label"),
}


def status_words(lang: str, order: Order | dict[str, str]) -> str:
    """An order's status as the owner reads it; a shop's own status by its own label."""
    told = public(order) if isinstance(order, Order) else order
    if told["status"] == "custom" or told["status"] not in STATUS_WORDS:
        return told["status_label"] or told["status"]
    words = i18n.t(lang, STATUS_WORDS[told["status"]])
    label = told["status_label"].strip()
    # The shop's own words beside ours, unless they say the same ("ارسال شده" and «ارسال‌شده»).
    same = not label or normalize(label) in (normalize(words), normalize(told["status"]))
    return words if same else f"{words} ({label})"


# -- the form -------------------------------------------------------------------------------------


def _fixed(name: str) -> bool:
    return f"{settings_mod.ENV_PREFIX}{name.upper()}" in os.environ


def _mapping_of(settings: Settings) -> dict[str, str]:
    try:
        mapping = json.loads(settings.orders_json_mapping or "{}")
    except ValueError:
        return {}
    return {k: str(v) for k, v in mapping.items()} if isinstance(mapping, dict) else {}


def _shown(settings: Settings, typed: dict[str, Any] | None) -> dict[str, Any]:
    """What the form's boxes hold: the saved settings, or what was typed when refused. Secrets
    are never shown: only whether one is saved."""
    known = set(settings.orders_handover_statuses)
    saved = {
        "source": settings.orders_source,
        "orders_url": settings.orders_url,
        "orders_sheet_hours": str(settings.orders_sheet_hours),
        "map": _mapping_of(settings),
        "handover": [s for s in HANDOVER if s in known],
        "handover_other": "، ".join(s for s in settings.orders_handover_statuses if s not in HANDOVER),
    }
    if typed is None:
        return saved
    return {k: saved.get(k, "") if v is None else v for k, v in typed.items()}


def _typed(data: dict[str, Any]) -> dict[str, Any]:
    """The form as the owner typed it (shown again if something is refused)."""

    def text(name: str, cap: int = 2000) -> str:
        value = data.get(name, "")
        return (value[-1] if isinstance(value, list) else str(value)).strip()[:cap]

    def given(name: str, cap: int = 2000) -> str | None:
        """A box of the chosen source's: None when the form didn't have it (left as saved)."""
        return text(name, cap) if name in data else None

    chosen = data.get("handover", [])
    chosen = [chosen] if isinstance(chosen, str) else list(chosen)
    source = text("source")
    return {
        "source": source if source in SOURCES else "",
        "orders_url": given("orders_url"),
        "orders_key": text("orders_key", 500),
        "orders_secret": text("orders_secret", 500),
        "orders_sheet_hours": given("orders_sheet_hours", 10),
        "map": {f: text(f"map_{f}", 200) for f in MAPPED if text(f"map_{f}", 200)},
        # The boxes were on the form (a source chosen): none ticked is none; not there, as saved.
        "handover": [s for s in HANDOVER if s in chosen] if "handover_shown" in data else None,
        "handover_other": given("handover_other", 500) if "handover_shown" in data else None,
    }


def _values(typed: dict[str, Any]) -> dict[str, Any]:
    """The settings the form sets: the chosen source, its own fields, the hand-over statuses. A
    secret's empty box keeps the saved one; a field fixed by the environment isn't the form's."""
    source = typed["source"]
    values: dict[str, Any] = {"orders_source": source}
    for name in SOURCE_FIELDS[source]:
        if name == "orders_json_mapping":
            values[name] = "\n".join(f"{k} = {v}" for k, v in typed["map"].items())
        elif typed[name]:
            values[name] = typed[name]
        elif name not in SECRET and typed[name] is not None:
            values[name] = typed[name]
    if typed["handover"] is not None:
        other = [s.strip() for s in (typed["handover_other"] or "").replace("،", ",").replace("\n", ",").split(",")]
        values["orders_handover_statuses"] = [*typed["handover"], *(s for s in other if s)]
    return {k: v for k, v in values.items() if not _fixed(k)}


def _check(values: dict[str, Any], lang: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Each value as the settings object takes it, or the reason it is refused, by field; and
    what the chosen source can't do without (a WooCommerce with no address, a JSON address
    without {order})."""
    checked, errors = check_settings(values, lang)
    for name in SECRET:
        # A key typed with the Persian keyboard still on, or pasted with a space inside: no
        # shop's system takes it, and the test would only say "refused".
        typed = str(values.get(name, ""))
        if typed and (not typed.isascii() or any(ch.isspace() for ch in typed)):
            errors[name] = i18n.t(lang, "ord.key_not_latin")
    source = values.get("orders_source", "")
    url = str(checked.get("orders_url", values.get("orders_url", "")))
    if source in ("woocommerce", "json") and "orders_url" not in errors and not url:
        errors["orders_url"] = i18n.t(lang, "ord.need_url")
    elif source == "json" and "orders_url" not in errors and "{order}" not in url:
        errors["orders_url"] = i18n.t(lang, "ord.need_placeholder")
    return checked, errors


def _saved_secret(settings: Settings) -> dict[str, bool]:
    return {name: bool(getattr(settings, name)) for name in SECRET}


# -- the page -------------------------------------------------------------------------------------


def _audit(store: Store, lang: str) -> list[dict[str, Any]]:
    return [
        {"lookup": line, "outcome": i18n.t(lang, OUTCOME_WORDS.get(line.outcome, line.outcome))}
        for line in orders_store.lookups(store.read(), limit=LOG_CAP)
    ]


def _page(
    page: Page,
    settings: Settings,
    store: Store,
    *,
    typed: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    partial: str | None = None,
    **ctx: Any,
) -> Template:
    db = store.read()
    shown = _shown(settings, typed)
    return page(
        "admin/orders.html",
        partial=partial,
        form=shown,
        errors=errors or {},
        saved_secret=_saved_secret(settings),
        fixed={name: _fixed(name) for name in ("orders_source", *SECRET, "orders_url", "orders_sheet_hours")},
        sources=SOURCES,
        words=WORDS,
        mapped=MAPPED,
        mapped_words=MAPPED_WORDS,
        handover=HANDOVER,
        status_words=STATUS_WORDS,
        audit=_audit(store, page.lang),
        log_cap=LOG_CAP,
        sheet_size=orders_store.sheet_size(db),
        imports=orders_store.imports(db, 5),
        max_bytes=tables.MAX_FILE_BYTES,
        sheet_url=settings.orders_url if settings.orders_source == "sheet" else "",
        sheet_hours=settings.orders_sheet_hours,
        **ctx,
    )


@get("/orders", sync_to_thread=True)
def orders_page(page: Inject[Page], settings: Inject[Settings], store: Inject[Store]) -> Template:
    return _page(page, settings, store)


@post("/orders/switch", sync_to_thread=True, status_code=200)
def switch(data: Fields, page: Inject[Page], settings: Inject[Settings], store: Inject[Store]) -> Template:
    """Another source picked: the form again with that source's fields, nothing saved."""
    return _page(page, settings, store, typed=_typed(data), partial="admin/_orders_form.html")


@post("/orders", sync_to_thread=True, status_code=200)
def save(data: Fields, page: Inject[Page], services: Inject[AppServices], store: Inject[Store]) -> Template:
    lang = page.lang
    typed = _typed(data)
    values = _values(typed)
    checked, errors = _check(values, lang)
    current = services.settings
    if errors:
        shown = _page(page, current, store, typed=typed, errors=errors, partial="admin/_orders_form.html", status=422)
        return toast(shown, i18n.t(lang, "ord.not_saved"), "danger")
    settings_mod.write_file(current.data_dir, values)
    updated = current.replace(**checked)
    services.apply_settings(updated)
    return toast(_page(page, updated, store, partial="admin/_orders_form.html"), i18n.t(lang, "set.saved"))


# -- test the connection --------------------------------------------------------------------------


def look_up(
    settings: Settings, store: Store, number: str, lang: str, *, timeout_s: float | None = None
) -> dict[str, Any]:
    """One order looked up as the chat would, for the owner (blocking: a worker thread). What was
    found, in words, with whether it holds a phone number or an e-mail to prove it by (never
    them); or why nothing could be said. ``timeout_s``: the owner's test waits as long as any
    fetch may (the customer's lookup has a shorter limit)."""
    try:
        source = sources.source_from(settings, store, timeout_s=timeout_s)
        if source is None:
            return {"error": i18n.t(lang, "ord.no_source")}
        order = source.lookup(number)
    except (OrdersUnavailable, EntryError, settings_mod.SettingsError) as exc:
        return {"error": i18n.refusal(lang, exc, with_where=False)}
    except Exception:  # a source's bug: said as such, the page stays
        log.exception("order lookup from the admin failed (%s)", settings.orders_source)
        return {"error": i18n.t(lang, "ord.test_failed")}
    if order is None:
        return {"missing": True}
    return {
        "order": public(order),
        "status": status_words(lang, order),
        "has_phone": len(order.phone) >= 4,
        "has_email": "@" in order.email,
    }


@post("/orders/test", status_code=200)
async def test_connection(
    data: Fields, page: Inject[Page], services: Inject[AppServices], store: Inject[Store]
) -> Template:
    """The order number the owner typed, looked up with the form's settings as typed (secrets
    left empty: the saved ones), nothing saved: the owner tries before saving."""
    lang = page.lang
    typed = _typed(data)
    number = str(data.get("test_number", "")).strip()[:MAX_NUMBER_CHARS]
    if not normalize_number(number):
        return page("admin/_orders_test.html", result={"error": i18n.t(lang, "ord.test_no_number")}, status=422)
    checked, errors = _check(_values(typed), lang)
    if errors:
        return page("admin/_orders_test.html", result={"error": i18n.t(lang, "ord.test_fix_first")}, status=422)
    trial = services.settings.replace(**checked)
    result = await anyio.to_thread.run_sync(lambda: look_up(trial, store, number, lang, timeout_s=fetch.TIMEOUT_S))
    return page("admin/_orders_test.html", result=result, number=number)


# -- a conversation's orders, for the inbox --------------------------------------------------------


def touched(store: Store, conversation_id: str, lang: str) -> dict[str, Any] | None:
    """What the inbox shows of a conversation's order questions: each order number asked about
    (the latest first) and whether the customer proved it theirs, and the conversation's audit
    lines; None when it never touched an order."""
    db = store.read()
    lines = orders_store.lookups(db, conversation_id=conversation_id, limit=50)
    asking = orders_store.desk_state(db, conversation_id)
    numbers: dict[str, bool] = {}
    for line in lines:
        if line.number:
            numbers[line.number] = numbers.get(line.number, False) or line.outcome in PROVED
    if asking is not None and asking.number and normalize_number(asking.number) not in numbers:
        numbers = {normalize_number(asking.number): False, **numbers}
    if not numbers and not lines:
        return None
    return {
        "orders": [{"number": n, "proved": p} for n, p in list(numbers.items())[:CARD_ORDERS]],
        "proved": any(numbers.values()),
        "audit": [{"lookup": x, "outcome": i18n.t(lang, OUTCOME_WORDS.get(x.outcome, x.outcome))} for x in lines],
    }


def _details(settings: Settings, store: Store, conversation_id: str, lang: str) -> list[dict[str, Any]]:
    """The proved orders' details, read from the shop's system now (blocking)."""
    found = touched(store, conversation_id, lang)
    out = []
    for item in (found or {}).get("orders", []):
        if item["proved"]:
            out.append({"number": item["number"], **look_up(settings, store, item["number"], lang)})
    return out


@get("/conversations/{conversation_id:str}/orders")
async def conversation_orders(
    page: Inject[Page],
    settings: Inject[Settings],
    store: Inject[Store],
    conversations: Inject[Conversations],
    conversation_id: FromPath[str],
) -> Template:
    """The inbox card's orders, once the conversation is on screen (htmx, on load): only the ones
    the customer proved are looked up; an unproved number may be someone else's order."""
    if conversations.get(conversation_id, customers=True) is None:
        raise NotFoundException()
    details = await anyio.to_thread.run_sync(_details, settings, store, conversation_id, page.lang)
    return page("admin/_order_details.html", details=details, link=_shop_link(settings))


def _shop_link(settings: Settings) -> str:
    """The order's page in the shop's own admin, where there is one (WooCommerce's, which sends
    an old post.php address on to its new orders screen)."""
    if settings.orders_source == "woocommerce" and settings.orders_url.startswith(("https://", "http://")):
        return settings.orders_url.rstrip("/") + "/wp-admin/post.php?action=edit&post={number}"
    return ""


# -- the spreadsheet: upload, map the columns, import ------------------------------------------------

Previews = dict[str, tuple[float, tables.Table]]


def provide_order_previews(state: State) -> Previews:
    """Uploaded spreadsheets of orders waiting for the owner's mapping, by token (the app's)."""
    previews: Previews = state.setdefault("order_previews", {})
    return fresh_previews(previews)


def _sample(table: tables.Table, mapping: dict[str, str], lang: str) -> tuple[list[dict[str, Any]], str]:
    """The first orders of the sheet as the mapping reads them, or why it can't."""
    try:
        built = sheet.build(dataclasses.replace(table, rows=table.rows[:SAMPLE_ROWS]), mapping)
    except EntryError as exc:
        return [], i18n.refusal(lang, exc)
    return [
        {
            "order": public(o),
            "status": status_words(lang, o),
            "has_phone": len(o.phone) >= 4,
            "has_email": "@" in o.email,
        }
        for o in built
    ], ""


def _preview(page: Page, table: tables.Table, token: str, mapping: dict[str, str], error: str = "") -> Template:
    sample, refused = _sample(table, mapping, page.lang)
    error = error or refused
    return page(
        "admin/orders_sheet.html",
        table=table,
        token=token,
        mapping=mapping,
        fields=sheet.FIELDS,
        mapped_words=MAPPED_WORDS,
        sample=sample,
        error=error,
        status=422 if error else 200,
    )


@post("/orders/sheet", status_code=200, request_max_body_size=tables.MAX_FILE_BYTES + 65536)
async def sheet_preview(
    data: Upload, page: Inject[Page], store: Inject[Store], order_previews: Inject[Previews]
) -> Template:
    """The uploaded sheet's columns, mapped as last time for a sheet with the same columns (or as
    guessed from their names), and its first orders as that mapping reads them."""
    try:
        table, guessed = await parse_upload(data, sheet.read, "orders.csv")
    except EntryError as exc:
        return page("admin/orders_sheet.html", table=None, error=i18n.refusal(page.lang, exc), status=422)
    remembered = orders_store.last_mapping(store.read(), table.columns)
    token = secrets.token_urlsafe(16)
    order_previews[token] = (time.monotonic(), table)
    return _preview(page, table, token, remembered or guessed)


@post("/orders/sheet/confirm", status_code=200)
async def sheet_confirm(
    data: Fields,
    page: Inject[Page],
    settings: Inject[Settings],
    store: Inject[Store],
    clock: Inject[Clock],
    order_previews: Inject[Previews],
) -> Template:
    """The owner's mapping: shown again on the sheet's first orders, or (``action=import``) the
    sheet imported whole in a worker thread, replacing the orders of the previous one."""
    held = order_previews.get(str(data.get("token", "")))
    if held is None:
        return page("admin/orders_sheet.html", table=None, error=i18n.t(page.lang, "kb.import_expired"), status=410)
    table = held[1]
    mapping = {f: str(data.get(f"map_{f}", "")) for f in sheet.FIELDS if data.get(f"map_{f}") in table.columns}
    if data.get("action") != "import":
        return _preview(page, table, str(data["token"]), mapping)

    def work() -> int:
        orders = sheet.build(table, mapping)
        with store.write() as db:
            return orders_store.replace_sheet(
                db, orders, source=table.name, kind="file", mapping={**mapping, "columns": table.columns},
                now=clock().isoformat(),
            )  # fmt: skip

    try:
        n = await anyio.to_thread.run_sync(work)
    except EntryError as exc:
        return _preview(page, table, str(data["token"]), mapping, i18n.refusal(page.lang, exc))
    order_previews.pop(str(data["token"]), None)
    shown = _page(page, settings, store, imported=n)
    return toast(shown, i18n.tn(page.lang, "ord.sheet_imported", n))


@post("/orders/sheet/fetch", status_code=200)
async def sheet_fetch(
    page: Inject[Page], settings: Inject[Settings], store: Inject[Store], clock: Inject[Clock]
) -> Template:
    """Fetch the spreadsheet from its address now, not at its next time."""
    if settings.orders_source != "sheet" or not settings.orders_url.strip():
        return _page(page, settings, store, error=i18n.t(page.lang, "ord.sheet_no_address"), status=422)
    try:
        n = await anyio.to_thread.run_sync(lambda: feed.sync(store, settings, clock()))
    except EntryError as exc:
        return _page(page, settings, store, error=i18n.refusal(page.lang, exc, with_where=False), status=422)
    return toast(_page(page, settings, store, imported=n), i18n.tn(page.lang, "ord.sheet_imported", n))


router = owner_router(
    [orders_page, switch, save, test_connection, conversation_orders, sheet_preview, sheet_confirm, sheet_fetch],
    dependencies={"order_previews": Provide(provide_order_previews, sync_to_thread=False)},
)
