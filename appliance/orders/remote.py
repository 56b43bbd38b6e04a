"""Asking the shop's own system for an order over the network: one JSON answer, through the safe
fetch (documents/fetch.py: the shop's own sites, private addresses only when allowed, time and
size limits), every way it can fail turned into OrdersUnavailable with why in the owner's
language, and never a credential in it.

The customer waits while this runs: its time limit is short (LOOKUP_TIMEOUT_S), and a source
that fails is said as "can't look orders up now", never as a broken chat.
"""

from __future__ import annotations

import ipaddress
import json
import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from appliance.documents import fetch
from appliance.locale import N_
from appliance.orders.order import OrdersUnavailable
from appliance.settings import Settings

LOOKUP_TIMEOUT_S = 8.0  # the customer is waiting; the catalog's feed may take its 15 s
MAX_ANSWER_BYTES = 2 * 1024 * 1024  # an order, or five: a few kB each
_WEB_PAGE = ("text/html", "application/xhtml+xml")


class NotFound(Exception):
    """The shop's system answered 404: no such order (or no such address)."""


def get_json(
    url: str,
    settings: Settings,
    *,
    what: str,
    timeout_s: float = LOOKUP_TIMEOUT_S,
    headers: Mapping[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    secrets: tuple[str, ...] = (),
    resolver: fetch.Resolver = fetch.resolve,
) -> Any:
    """GET ``url`` and its JSON. Raises NotFound for a 404, OrdersUnavailable for anything else
    that isn't a JSON answer. ``what`` names the source in the log's English ("WooCommerce");
    ``secrets`` (the key, the secret) are taken out of any message."""
    try:
        got = fetch.fetch(
            url,
            origins=fetch.shop_origins(settings.public_url, settings.allowed_origins),
            allow_private=settings.fetch_private_addresses,
            timeout_s=timeout_s,
            max_bytes=MAX_ANSWER_BYTES,
            resolver=resolver,
            accept="application/json",
            headers=headers,
            auth=auth,
        )
    except fetch.FetchError as exc:
        status = exc.params.get("status")
        if exc.key == "fetch.status" and status == 404:
            raise NotFound(what) from None
        if exc.key == "fetch.status" and status in (401, 403):
            raise _unavailable(what, f"refused the key (HTTP {status})", N_("orders.refused"), secrets) from None
        if exc.key == "fetch.status":
            key = N_("orders.failed_status")
            raise _unavailable(what, f"HTTP {status}", key, secrets, status=status) from None
        if exc.key == "fetch.timeout":
            n = max(1, math.ceil(timeout_s))  # "within 0 seconds" was said for half a second
            raise _unavailable(what, f"no answer within {timeout_s:g} s", N_("orders.timeout"), secrets, n=n) from None
        # The fetch's own refusals (not one of the shop's sites, a private address, too big...)
        # say what to do in the owner's language already.
        params = {k: _scrub(str(v), secrets) if isinstance(v, str) else v for k, v in exc.params.items()}
        raise OrdersUnavailable(_scrub(f"{what}: {exc}", secrets), exc.key, **params) from None
    media = got.content_type.split(";")[0].strip().lower()
    body = got.body.lstrip()
    if media in _WEB_PAGE or body[:1] == b"<":
        raise _unavailable(what, "a web page, not JSON", N_("orders.web_page"), secrets)
    try:
        return json.loads(got.body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise _unavailable(what, "not valid JSON", N_("orders.bad_json"), secrets) from None


def private_host(url: str, resolver: fetch.Resolver = fetch.resolve) -> bool:
    """Whether ``url``'s host is on the shop's own network (every address it has is private or
    loopback): where a plain http address may carry an order's details."""
    host = urlsplit(url).hostname or ""
    try:
        addresses = [ipaddress.ip_address(host)] if _is_ip(host) else [ipaddress.ip_address(a) for a in resolver(host)]
    except (OSError, ValueError):
        return False
    return bool(addresses) and all(not a.is_global for a in addresses)


def check_plain_http(url: str, what: str, resolver: fetch.Resolver = fetch.resolve) -> None:
    """An order's details (the customer's phone and e-mail) and a credential travel in clear
    over http: allowed only to the shop's own network."""
    if urlsplit(url).scheme.lower() == "http" and not private_host(url, resolver):
        raise OrdersUnavailable(f"{what}: http to a public address; use https", N_("orders.plain_http"))


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "…")
    return text


def _unavailable(what: str, why: str, key: str, secrets: tuple[str, ...], **params: object) -> OrdersUnavailable:
    return OrdersUnavailable(_scrub(f"{what}: {why}", secrets), key, **params)
