"""One order as the appliance holds it, whatever system it came from, and the one check that lets
a customer learn anything about it.

A customer asking "where is my order?" gives the order's number and something only they know that
the order holds: the last four digits of the phone number on it, or its e-mail address. Nothing is
said about an order until both match (``proof_matches``); what is said then is ``public`` only:
the status, the dates, the carrier, the tracking code and link — never the address, the items, the
prices or anything else personal.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from typing import Protocol

from appliance.locale import N_
from appliance.text.textnorm import ascii_digits

# WooCommerce's own statuses, and "shipped" (a status many shops add, and what a tracking code
# means when the status says less). Any other status is "custom", shown by the shop's own label.
STATUSES = ("pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed", "shipped", "custom")
# What the customer learns once the order is theirs; nothing else of an Order ever leaves it.
PUBLIC_FIELDS = ("number", "status", "status_label", "created", "shipped", "carrier", "tracking_code", "tracking_url")
PROOF_DIGITS = 4  # the last four digits of the order's phone number
UNAVAILABLE = N_("orders.unavailable")


@dataclass(frozen=True)
class Order:
    number: str  # as the shop shows it, digits in Latin form ("12345", "WC-1042")
    status: str  # one of STATUSES
    status_label: str = ""  # the shop's own words for the status (a custom status has only these)
    created: str = ""  # ISO date, Gregorian (yyyy-mm-dd): shown to a Persian customer in Jalali
    shipped: str = ""  # ISO date, or ""
    carrier: str = ""  # "پست", "تیپاکس", "DHL"
    tracking_code: str = ""
    tracking_url: str = ""  # http(s) only
    # Private: used to check the customer's proof, never said, never logged.
    phone: str = ""  # digits only, Latin
    email: str = ""  # lower case


def public(order: Order) -> dict[str, str]:
    """What may be told to the customer who proved the order is theirs."""
    return {name: getattr(order, name) for name in PUBLIC_FIELDS}


class OrdersUnavailable(Exception):
    """The shop's order system can't be asked now (down, slow, refused the key). ``key`` says why
    in the owner's language (an msgid); the customer only hears that orders can't be looked up
    now. The message never holds a credential."""

    def __init__(self, message: str, key: str = UNAVAILABLE, **params: object):
        super().__init__(message)
        self.key = key
        self.params = params


class OrderSource(Protocol):
    """Where the shop's orders are read. ``lookup`` is blocking (a worker thread); it returns
    None when the shop has no order by that number, and raises OrdersUnavailable when it can't
    tell."""

    name: str  # woocommerce | json | sheet

    def lookup(self, number: str) -> Order | None: ...


_NUMBER_JUNK = re.compile(r"[\s\-_#№.:]+")


def normalize_number(text: str) -> str:
    """An order number as typed («#۱۲۳۴۵», "12 345", "wc-1042") in one form: Latin digits, no
    spaces, dashes or "#", upper case letters. Sources store and compare numbers in this form."""
    return _NUMBER_JUNK.sub("", ascii_digits(text)).upper()


def digits_only(text: str) -> str:
    """The digits of a phone number as typed («۰۹۱۲ ۳۴۵-۶۷۸۹», "+98 912 345 6789")."""
    return "".join(ch for ch in ascii_digits(text) if ch.isdigit())


def proof_matches(order: Order, proof: str) -> bool:
    """Whether what the customer gave proves the order is theirs: the order's e-mail address
    (case and surrounding spaces ignored), or the last four digits of its phone number (a whole
    phone number given counts by its last four). Compared in constant time; an order with neither
    can't be proved, so nothing of it is ever told."""
    proof = proof.strip()
    if "@" in proof:
        return bool(order.email) and hmac.compare_digest(proof.lower().encode(), order.email.lower().encode())
    digits = digits_only(proof)
    phone = digits_only(order.phone)
    if len(digits) < PROOF_DIGITS or len(phone) < PROOF_DIGITS:
        return False
    return hmac.compare_digest(digits[-PROOF_DIGITS:].encode(), phone[-PROOF_DIGITS:].encode())
