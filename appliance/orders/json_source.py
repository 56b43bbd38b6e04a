"""Orders read from a JSON address the shop already has: its address with ``{order}`` where the
number goes (settings.orders_url), and where each field is in the answer, a dotted path per
Order field (settings.orders_json_mapping: {"status": "data.state", "phone": "customer.mobile"};
a number steps into a list: "shipments.0.code"). A field not mapped is read from the same name at
the answer's top. The owner tries it on a sample order (`appliance orders test NUMBER`).

A user name and password (settings.orders_key and orders_secret), when set, go as HTTP Basic:
over https, or plain http to the shop's own network only.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from appliance.documents import fetch
from appliance.locale import N_
from appliance.orders import remote
from appliance.orders.dates import iso_day
from appliance.orders.order import Order, OrdersUnavailable, digits_only, normalize_number
from appliance.orders.statuses import from_words
from appliance.settings import ORDER_FIELDS, Settings, SettingsError, orders_mapping

PLACEHOLDER = "{order}"
FIELDS = ORDER_FIELDS  # what the mapping may name: every field of an Order


def dig(data: Any, path: str) -> Any:
    """The value at a dotted path ("data.shipment.code", "items.0.code"), or None."""
    for step in path.split("."):
        if isinstance(data, dict):
            data = data.get(step)
        elif isinstance(data, list) and step.isdigit() and int(step) < len(data):
            data = data[int(step)]
        else:
            return None
    return data


def _text(value: Any) -> str:
    if value is None or isinstance(value, (dict, list, bool)):
        return ""
    return " ".join(str(value).split())


def to_order(data: Any, mapping: dict[str, str], asked: str) -> Order | None:
    """The answer as an Order, or None when it holds none (an empty answer, or one about another
    number than the one asked: a shop's address that ignores it). OrdersUnavailable when the
    answer has no status where the mapping says."""
    if isinstance(data, list):  # an address answering a list: the order in it with the number
        data = next(
            (d for d in data if normalize_number(_text(dig(d, mapping.get("number", "number")))) == asked), None
        )
    if not isinstance(data, dict) or not data:
        return None
    got = {f: _text(dig(data, mapping.get(f, f))) for f in FIELDS}
    number = normalize_number(got["number"]) or asked
    if number != asked:
        return None
    if not got["status"]:
        # The order is there but the mapping misses its status: the owner's to fix, and the
        # customer hears "can't look it up now", not that their order doesn't exist.
        path = mapping.get("status", "status")
        raise OrdersUnavailable(f"the JSON address's answer has no status at {path}", N_("orders.no_status"), path=path)
    status, label = from_words(got["status"])
    url = got["tracking_url"]
    return Order(
        number=number,
        status=status,
        status_label=got["status_label"] or label,
        created=iso_day(got["created"]),
        shipped=iso_day(got["shipped"]),
        carrier=got["carrier"],
        tracking_code=got["tracking_code"],
        tracking_url=url if url.lower().startswith(("https://", "http://")) else "",
        phone=digits_only(got["phone"]),
        email=got["email"].lower(),
    )


class JsonAddress:
    name = "json"

    def __init__(
        self,
        settings: Settings,
        *,
        timeout_s: float = remote.LOOKUP_TIMEOUT_S,
        resolver: fetch.Resolver = fetch.resolve,
    ):
        self.settings = settings
        self.template = settings.orders_url.strip()
        self.mapping_text = settings.orders_json_mapping
        self.user = settings.orders_key.strip()
        self.password = settings.orders_secret.strip()
        self.timeout_s = timeout_s
        self.resolver = resolver

    def lookup(self, number: str) -> Order | None:
        wanted = normalize_number(number)
        if not wanted:
            return None
        if PLACEHOLDER not in self.template:
            raise OrdersUnavailable("JSON address: no {order} in the address", N_("orders.no_placeholder"))
        try:  # checked when saved; read here as written too (settings.toml by hand)
            mapping: dict[str, str] = json.loads(orders_mapping(self.mapping_text) or "{}")
        except SettingsError as exc:
            raise OrdersUnavailable(str(exc), exc.key, **exc.params) from None
        url = self.template.replace(PLACEHOLDER, quote(wanted, safe=""))
        auth = (self.user, self.password) if self.user or self.password else None
        if auth:
            remote.check_plain_http(url, "the JSON address", self.resolver)
        try:
            data = remote.get_json(
                url,
                self.settings,
                what="the JSON address",
                timeout_s=self.timeout_s,
                auth=auth,
                secrets=(self.user, self.password),
                resolver=self.resolver,
            )
        except remote.NotFound:
            return None
        return to_order(data, mapping, wanted)
