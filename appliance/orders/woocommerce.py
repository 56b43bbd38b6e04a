"""Orders read from the shop's WooCommerce, REST API v3, with a read-only consumer key.

An order is read by its id (GET /wp-json/wc/v3/orders/{number}); a shop whose order numbers are
not the ids (a Sequential Order Numbers plugin: id 1042 is order "WC-2001") is searched
(GET /wp-json/wc/v3/orders?search={digits}), and only the order whose own ``number`` is the one
asked for is taken: an id that happens to be another order's number is never told.

How the key goes (WooCommerce's REST API documentation, "Authentication"): over https, HTTP Basic
with the key and secret; over plain http, WooCommerce takes only OAuth 1.0a "one-legged"
signatures, which never send the secret (a signature made with it instead). Plain http is only
for a shop on the appliance's own network (remote.check_plain_http): an order's answer holds the
customer's phone and e-mail.

What the customer learns comes from the status, the dates, and the shipment tracking the common
extensions keep in the order's meta data (TRACKING_KEYS); the address, the items and the prices
are never read into the Order.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from appliance.documents import fetch
from appliance.locale import N_
from appliance.orders import remote
from appliance.orders.dates import iso_day
from appliance.orders.order import Order, OrdersUnavailable, digits_only, normalize_number
from appliance.orders.statuses import from_woocommerce
from appliance.settings import Settings

API = "/wp-json/wc/v3/orders"
# WooCommerce's search matches part of a field: the number's digits find "WC-2001" whether the
# customer typed "wc 2001", "WC2001" or "#2001"; the few others it finds are filtered out.
SEARCH_PAGE = 20
# Where tracking extensions keep a shipment in an order's meta data, checked in this order:
# - WooCommerce Shipment Tracking: "_wc_shipment_tracking_items", a list of {tracking_provider,
#   custom_tracking_provider, tracking_number, custom_tracking_link, date_shipped (a unix time)};
# - AfterShip: "_aftership_tracking_number" and "_aftership_tracking_provider";
# - many smaller plugins: "_tracking_number" and "_tracking_provider".
# The Iranian post's plugins use their own keys; these are candidates seen in such plugins, not
# a documented format (a shop's own can be added here): the code is the national post's.
TRACKING_KEYS = (
    ("_aftership_tracking_number", "_aftership_tracking_provider"),
    ("_tracking_number", "_tracking_provider"),
    ("_post_tracking_code", ""),
    ("post_barcode", ""),
    ("_barcode", ""),
)
IRAN_POST_KEYS = {"_post_tracking_code", "post_barcode", "_barcode"}
IRAN_POST = "پست"
# A day the order was shipped, as a plugin may keep it (Persian WooCommerce's in Jalali): candidates.
SHIPPED_KEYS = ("_date_shipped", "_shipped_date", "_shipping_date", "_post_date_sent")


class WooCommerce:
    name = "woocommerce"

    def __init__(
        self,
        settings: Settings,
        *,
        timeout_s: float = remote.LOOKUP_TIMEOUT_S,
        resolver: fetch.Resolver = fetch.resolve,
    ):
        self.settings = settings
        self.site = settings.orders_url.strip().rstrip("/")
        self.key = settings.orders_key.strip()
        self.secret = settings.orders_secret.strip()
        self.timeout_s = timeout_s
        self.resolver = resolver

    def lookup(self, number: str) -> Order | None:
        wanted = normalize_number(number)
        if not wanted:
            return None
        if not self.site or not self.key or not self.secret:
            raise OrdersUnavailable("WooCommerce: no address, key or secret", N_("orders.not_set_up"))
        remote.check_plain_http(self.site, "WooCommerce", self.resolver)
        if wanted.isdigit():
            try:
                found = self._get(f"{API}/{wanted}", {})
            except remote.NotFound:
                found = None
            if isinstance(found, dict) and normalize_number(str(found.get("number", ""))) == wanted:
                return to_order(found)
        try:
            listed = self._get(API, {"search": search_term(wanted), "per_page": str(SEARCH_PAGE)})
        except remote.NotFound:
            return None
        for item in listed if isinstance(listed, list) else []:
            if isinstance(item, dict) and normalize_number(str(item.get("number", ""))) == wanted:
                return to_order(item)
        return None

    def _get(self, path: str, params: dict[str, str]) -> Any:
        url = f"{self.site}{path}"
        if urlsplit(url).scheme.lower() == "https":
            query = f"?{urlencode(params)}" if params else ""
            return self._fetch(url + query, auth=(self.key, self.secret))
        signed = oauth_params(url, params, self.key, self.secret)
        return self._fetch(f"{url}?{urlencode(signed, quote_via=quote)}", auth=None)

    def _fetch(self, url: str, auth: tuple[str, str] | None) -> Any:
        return remote.get_json(
            url,
            self.settings,
            what="WooCommerce",
            timeout_s=self.timeout_s,
            auth=auth,
            secrets=(self.key, self.secret),
            resolver=self.resolver,
        )


def search_term(number: str) -> str:
    """What to search for an order number in normalize_number's form: its longest run of digits
    (the part every way of writing it shares), or the number when it has none."""
    runs = re.findall(r"\d+", number)
    return max(runs, key=len) if runs else number


def oauth_params(url: str, params: dict[str, str], key: str, secret: str) -> dict[str, str]:
    """``params`` with OAuth 1.0a one-legged authentication added (RFC 5849, HMAC-SHA256, as
    WooCommerce checks it: the secret with "&" signs the method, the address and the sorted
    parameters)."""
    out = {
        **params,
        "oauth_consumer_key": key,
        "oauth_nonce": secrets.token_hex(16),
        "oauth_signature_method": "HMAC-SHA256",
        "oauth_timestamp": str(int(time.time())),
    }
    out["oauth_signature"] = oauth_signature("GET", url, out, secret)
    return out


def oauth_signature(method: str, url: str, params: dict[str, str], secret: str) -> str:
    def enc(text: str) -> str:
        return quote(text, safe="~-._")

    pairs = sorted((enc(k), enc(v)) for k, v in params.items() if k != "oauth_signature")
    base = "&".join([method.upper(), enc(url), enc("&".join(f"{k}={v}" for k, v in pairs))])
    digest = hmac.new(f"{secret}&".encode(), base.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _meta(order: dict[str, Any]) -> dict[str, Any]:
    items = order.get("meta_data")
    return (
        {m["key"]: m.get("value") for m in items if isinstance(m, dict) and "key" in m}
        if isinstance(items, list)
        else {}
    )


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""


def _words(slug: str) -> str:
    """A provider's slug ("usps", "royal-mail") as words; a name written by the shop stays."""
    return slug.replace("-", " ").replace("_", " ").strip() if slug == slug.lower() else slug.strip()


def tracking(meta: dict[str, Any]) -> tuple[str, str, str, str]:
    """(carrier, code, link, shipped day) from an order's meta data, or empty strings."""
    items = meta.get("_wc_shipment_tracking_items")
    if isinstance(items, list):
        for item in reversed(items):  # the latest shipment is the last added
            if isinstance(item, dict) and _text(item.get("tracking_number")):
                carrier = _text(item.get("custom_tracking_provider")) or _words(_text(item.get("tracking_provider")))
                return (
                    carrier,
                    _text(item.get("tracking_number")),
                    _text(item.get("custom_tracking_link")),
                    iso_day(_text(item.get("date_shipped"))),
                )
    for code_key, provider_key in TRACKING_KEYS:
        code = _text(meta.get(code_key))
        if code:
            carrier = _words(_text(meta.get(provider_key))) if provider_key else ""
            return carrier or (IRAN_POST if code_key in IRAN_POST_KEYS else ""), code, "", ""
    return "", "", "", ""


def to_order(order: dict[str, Any]) -> Order:
    """An order of WooCommerce's REST API as the appliance holds it (public fields and the proof)."""
    meta = _meta(order)
    status, label = from_woocommerce(_text(order.get("status")))
    carrier, code, link, shipped = tracking(meta)
    if not shipped:
        shipped = next((d for d in (iso_day(_text(meta.get(k))) for k in SHIPPED_KEYS) if d), "")
    if not shipped and status == "completed":
        shipped = iso_day(_text(order.get("date_completed")))
    if status == "processing" and code:  # a tracking code says more than "processing"
        status = "shipped"
    billing, shipping = (v if isinstance(v := order.get(k), dict) else {} for k in ("billing", "shipping"))
    return Order(
        number=normalize_number(_text(order.get("number")) or _text(order.get("id"))),
        status=status,
        status_label=label,
        created=iso_day(_text(order.get("date_created"))),
        shipped=shipped,
        carrier=carrier,
        tracking_code=code,
        tracking_url=link if link.lower().startswith(("https://", "http://")) else "",
        phone=digits_only(_text(billing.get("phone")) or _text(shipping.get("phone"))),
        email=_text(billing.get("email")).lower(),
    )
