"""Web Push to the owner's devices: the appliance's VAPID key pair, the devices that turned alerts
on (``push_subscriptions``), and sending to them.

The key pair is made on first use and kept in the data directory, readable by the appliance only
(a new key would silently orphan every device subscribed with the old one). Sending is blocking
(pywebpush over requests): callers run ``send_all`` in a thread. A push service that answers 404
or 410 has forgotten the device (uninstalled, permission withdrawn): its subscription goes.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid  # type: ignore[import-untyped]
from pywebpush import WebPushException, webpush  # type: ignore[import-untyped]

from appliance.channels.addresses import loopback
from appliance.db import Store, inserted_id
from appliance.i18n import N_

log = logging.getLogger(__name__)

KEY_NAME = "vapid.pem"
MAX_SUBSCRIPTIONS = 20  # the owner's phones, tablets and computers; more is a script, not a person
MAX_ENDPOINT_CHARS = 1000
TTL_S = 4 * 3600  # a phone off for longer gets the alert's reminder or the summary instead
TIMEOUT_S = 10.0
GONE = (404, 410)


class SubscriptionError(ValueError):
    """A subscription the appliance won't keep; ``key`` says why in the owner's language."""

    def __init__(self, message: str, key: str):
        super().__init__(message)
        self.key = key


# -- the key pair ---------------------------------------------------------------------------------


def load_or_create_key(data_dir: Path) -> Vapid:
    """The appliance's VAPID key, made once (O_EXCL: two starts at once can't make two)."""
    path = Path(data_dir) / KEY_NAME
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return Vapid.from_pem(path.read_bytes())
    key = Vapid()
    key.generate_keys()
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.private_pem())
        fh.flush()
        os.fsync(fh.fileno())
    return key


def application_server_key(key: Vapid) -> str:
    """The public key as the browser's ``pushManager.subscribe`` takes it: the uncompressed
    point, base64url without padding."""
    raw = key.public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


# -- the subscriptions ----------------------------------------------------------------------------


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def check(endpoint: str, p256dh: str, auth: str) -> None:
    """SubscriptionError unless this is what a browser hands over: an https push service address
    (plain http only on this machine, for tests), a P-256 public key and a 16-byte secret."""
    parts = urlsplit(endpoint)
    if (
        len(endpoint) > MAX_ENDPOINT_CHARS
        or not parts.hostname
        or parts.username
        or not (parts.scheme == "https" or (parts.scheme == "http" and loopback(parts.hostname)))
    ):
        raise SubscriptionError(f"not a push service address: {endpoint[:100]!r}", N_("push.bad_endpoint"))
    try:
        key, secret = _b64(p256dh), _b64(auth)
    except ValueError:
        raise SubscriptionError("the keys are not base64url", N_("push.bad_keys")) from None
    if len(key) != 65 or key[0] != 4 or len(secret) != 16:
        raise SubscriptionError("the keys are not a P-256 key and a 16-byte secret", N_("push.bad_keys"))


def device_name(user_agent: str) -> str:
    """A device as the owner recognises it in the list ("Firefox · Android"), from its browser."""
    ua = user_agent or ""
    system = next((n for k, n in _SYSTEMS if k in ua), "")
    browser = next((n for k, n in _BROWSERS if k in ua), "")
    return " · ".join(p for p in (browser, system) if p) or ua[:60]


_SYSTEMS = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"),
            ("Mac OS", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))  # fmt: skip
_BROWSERS = (("Firefox", "Firefox"), ("Edg/", "Edge"), ("SamsungBrowser", "Samsung Internet"),
             ("Chrome", "Chrome"), ("Safari", "Safari"))  # fmt: skip


def subscribe(store: Store, endpoint: str, p256dh: str, auth: str, device: str, now: str) -> int:
    """Keep a device's subscription (the same endpoint again: its new keys); SubscriptionError
    for a bad one or one past MAX_SUBSCRIPTIONS."""
    check(endpoint, p256dh, auth)
    with store.write() as db:
        row = db.execute("SELECT id FROM push_subscriptions WHERE endpoint = ?", [endpoint]).fetchone()
        if row is not None:
            db.execute(
                "UPDATE push_subscriptions SET p256dh = ?, auth = ?, device = ?, last_error = NULL WHERE id = ?",
                [p256dh, auth, device[:80], row[0]],
            )
            return int(row[0])
        if db.execute("SELECT count(*) FROM push_subscriptions").fetchone()[0] >= MAX_SUBSCRIPTIONS:
            raise SubscriptionError("too many devices", N_("push.too_many"))
        return inserted_id(
            db.execute(
                "INSERT INTO push_subscriptions (endpoint, p256dh, auth, device, created_at) VALUES (?, ?, ?, ?, ?)",
                [endpoint, p256dh, auth, device[:80], now],
            )
        )


def unsubscribe(store: Store, *, endpoint: str | None = None, subscription_id: int | None = None) -> bool:
    with store.write() as db:
        if endpoint is not None:
            cursor = db.execute("DELETE FROM push_subscriptions WHERE endpoint = ?", [endpoint])
        else:
            cursor = db.execute("DELETE FROM push_subscriptions WHERE id = ?", [subscription_id])
        return bool(cursor.rowcount)


def devices(store: Store) -> list[dict[str, Any]]:
    rows = store.read().execute(
        "SELECT id, endpoint, device, created_at, last_sent_at, last_error FROM push_subscriptions ORDER BY id"
    )
    return [dict(r) for r in rows.fetchall()]


# -- sending ----------------------------------------------------------------------------------------


@dataclass
class Sent:
    """What one alert did: how many devices took it, how many failed (and the last reason), how
    many were gone and removed."""

    delivered: int = 0
    failed: int = 0
    removed: int = 0
    errors: list[str] = field(default_factory=list)


def _subject(contact: str) -> str:
    """VAPID's ``sub``: how a push service reaches whoever sends (mailto: or an https address)."""
    if contact.startswith("https://"):
        return contact
    return f"mailto:{contact}" if "@" in contact else "mailto:owner@localhost"


def send_all(store: Store, key: Vapid, payload: dict[str, Any], now: str, contact: str = "") -> Sent:
    """Send ``payload`` (JSON: title, body, url, tag) to every subscribed device. Blocking: run it
    in a thread. Never raises for a device's failure: it is counted and kept on the device."""
    sent = Sent()
    data = json.dumps(payload, ensure_ascii=False)
    rows = store.read().execute("SELECT id, endpoint, p256dh, auth FROM push_subscriptions ORDER BY id").fetchall()
    for row in rows:
        info = {"endpoint": row["endpoint"], "keys": {"p256dh": row["p256dh"], "auth": row["auth"]}}
        error: str | None = None
        try:
            webpush(
                info,
                data,
                vapid_private_key=key,
                vapid_claims={"sub": _subject(contact)},
                ttl=TTL_S,
                timeout=TIMEOUT_S,
                headers={"Urgency": "high"},
            )
        except WebPushException as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status in GONE:
                unsubscribe(store, subscription_id=row["id"])
                sent.removed += 1
                log.info("push subscription %d is gone (%s): removed", row["id"], status)
                continue
            error = f"HTTP {status}" if status else "no answer"
        except Exception as exc:  # requests' connection errors: the push service unreachable
            error = type(exc).__name__
        with store.write() as db:
            if error is None:
                sent.delivered += 1
                db.execute(
                    "UPDATE push_subscriptions SET last_sent_at = ?, last_error = NULL WHERE id = ?", [now, row["id"]]
                )
            else:
                sent.failed += 1
                sent.errors.append(error)
                db.execute("UPDATE push_subscriptions SET last_error = ? WHERE id = ?", [error, row["id"]])
    if sent.failed:
        log.warning("push alert: %d device(s) failed: %s", sent.failed, ", ".join(sent.errors))
    return sent
