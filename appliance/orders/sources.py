"""Where the shop's orders are read, as the owner set it (settings.orders_source): the shop's
WooCommerce, a JSON address, or the spreadsheet imported into the database. The chat's order
desk calls ``source_from`` when a customer asks; the source's ``lookup`` is blocking (a worker
thread) and raises OrdersUnavailable when it can't tell.
"""

from __future__ import annotations

from appliance.db import Store
from appliance.orders import remote
from appliance.orders import store as orders_store
from appliance.orders.json_source import JsonAddress
from appliance.orders.order import Order, OrderSource
from appliance.orders.woocommerce import WooCommerce
from appliance.settings import Settings


class Sheet:
    """The owner's spreadsheet, as last imported (sheet.import_sheet)."""

    name = "sheet"

    def __init__(self, store: Store):
        self.store = store

    def lookup(self, number: str) -> Order | None:
        return orders_store.sheet_order(self.store.read(), number)


def source_from(settings: Settings, store: Store, *, timeout_s: float | None = None) -> OrderSource | None:
    """The source the owner chose, or None (orders aren't looked up). ``timeout_s``: a network
    source's time limit, when not remote.LOOKUP_TIMEOUT_S."""
    kind = settings.orders_source
    limit = remote.LOOKUP_TIMEOUT_S if timeout_s is None else timeout_s
    if kind == "woocommerce":
        return WooCommerce(settings, timeout_s=limit)
    if kind == "json":
        return JsonAddress(settings, timeout_s=limit)
    if kind == "sheet":
        return Sheet(store)
    return None
