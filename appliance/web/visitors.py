"""Visitors of the public widget and API, and who they are on the network.

A visitor holds a random token (kept in the widget iframe's storage); the database keeps only
its SHA-256, so a leaked backup can't be used to read customers' conversations. IP addresses are
stored only as keyed hashes (HMAC with the installation's secret).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets

from litestar import Request

from appliance.db import Store
from appliance.web.security import forwarded


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def ip_hash(secret: bytes, ip: str) -> str:
    return hmac.new(secret, ip.encode(), hashlib.sha256).hexdigest()[:32]


def client_ip(request: Request, trusted_proxies: tuple[str, ...]) -> str:
    """The peer's address; X-Forwarded-For only when the peer is a configured proxy."""
    peer = request.client.host if request.client else "unknown"
    # The last hop is the one our proxy added (what it saw); earlier ones are the client's say-so.
    hops = forwarded(request, "x-forwarded-for", trusted_proxies)
    if hops:
        try:
            return str(ipaddress.ip_address(hops[-1]))
        except ValueError:
            pass
    return peer


def network(ip: str) -> str:
    """The unit rate limits count: an IPv4 address, or the /64 of an IPv6 one (one home or phone
    line gets a whole /64: counting single IPv6 addresses let one client be thousands)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return str(address)


def create(store: Store, ip_digest: str, now: str) -> tuple[str, str]:
    """A new visitor: (visitor id, token). The token is shown once, to the visitor."""
    visitor_id = secrets.token_urlsafe(12)
    token = secrets.token_urlsafe(32)
    with store.write() as db:
        db.execute(
            "INSERT INTO visitors (id, token_hash, ip_hash, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)",
            [visitor_id, _hash(token), ip_digest, now, now],
        )
    return visitor_id, token


def find(store: Store, token: str | None) -> str | None:
    if not token:
        return None
    row = store.read().execute("SELECT id FROM visitors WHERE token_hash = ?", [_hash(token)]).fetchone()
    return row[0] if row else None


def bearer(request: Request) -> str | None:
    value = request.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None
