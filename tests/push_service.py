"""A browser's push service on loopback, standing for Mozilla's or Google's in the owner's-alerts
tests: it takes the appliance's POSTs as a real one would, checks the VAPID Authorization header
(``vapid t=<JWT>, k=<key>``: the JWT's ES256 signature verified with the key, its audience this
service's origin, its expiry within a day), and decrypts the aes128gcm body with the private key
and auth secret of the device the test made, so a test asserts on the payload the phone would
show. A device can be told to answer 410 (its subscription gone)."""

from __future__ import annotations

import base64
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece  # type: ignore[import-untyped]
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Device:
    """A browser's subscription: its address at the push service and the keys it decrypts with."""

    token: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    answer: int = 201

    def subscription(self) -> dict[str, Any]:
        """As ``PushSubscription.toJSON()`` gives it to the page's script."""
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"endpoint": self.endpoint, "keys": {"p256dh": b64(public), "auth": b64(self.auth)}}


@dataclass
class Received:
    token: str
    payload: dict[str, Any]
    vapid_key: str  # the k= of the Authorization header: the appliance's public key
    claims: dict[str, Any]
    ttl: int


@dataclass
class PushService:
    server: ThreadingHTTPServer
    devices: dict[str, Device] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # what a real push service would have refused
    lock: threading.Condition = field(default_factory=threading.Condition)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def device(self) -> Device:
        token = secrets.token_urlsafe(12)
        made = Device(token, f"{self.origin}/push/{token}", ec.generate_private_key(ec.SECP256R1()), os.urandom(16))
        self.devices[token] = made
        return made

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Received]:
        with self.lock:
            self.lock.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _verify_vapid(header: str, origin: str) -> tuple[str, dict[str, Any]]:
    """The key and the claims of a ``vapid t=..., k=...`` header; ValueError when a push
    service would refuse it."""
    if not header.startswith("vapid "):
        raise ValueError(f"not a vapid Authorization: {header[:30]!r}")
    parts = dict(p.strip().split("=", 1) for p in header[len("vapid ") :].split(","))
    token, key = parts["t"], parts["k"]
    head_b64, claims_b64, signature_b64 = token.split(".")
    head = json.loads(unb64(head_b64))
    if head.get("alg") != "ES256":
        raise ValueError(f"alg {head.get('alg')!r}")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(key))
    raw = unb64(signature_b64)
    if len(raw) != 64:
        raise ValueError("an ES256 signature is 64 bytes")
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public.verify(der, f"{head_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise ValueError("the JWT's signature doesn't verify with k") from None
    claims = json.loads(unb64(claims_b64))
    if claims.get("aud") != origin:
        raise ValueError(f"aud {claims.get('aud')!r} is not {origin!r}")
    if not time.time() < int(claims["exp"]) <= time.time() + 24 * 3600:
        raise ValueError("exp not within the next 24 hours")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https://")):
        raise ValueError(f"sub {claims.get('sub')!r}")
    return key, claims


def start() -> PushService:
    service: PushService

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            token = self.path.removeprefix("/push/")
            device = service.devices.get(token)
            if device is None:
                return self._answer(404)
            try:
                key, claims = _verify_vapid(self.headers.get("authorization", ""), service.origin)
                if self.headers.get("content-encoding") != "aes128gcm":
                    raise ValueError(f"content-encoding {self.headers.get('content-encoding')!r}")
                ttl = int(self.headers["ttl"])
                plain = http_ece.decrypt(body, private_key=device.private_key, auth_secret=device.auth)
                payload = json.loads(plain)
            except (ValueError, KeyError) as exc:
                with service.lock:
                    service.refused.append(str(exc))
                return self._answer(400)
            if device.answer < 300:
                with service.lock:
                    service.received.append(Received(token, payload, key, claims, ttl))
                    service.lock.notify_all()
            self._answer(device.answer)

        def _answer(self, status: int) -> None:
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

    service = PushService(ThreadingHTTPServer(("127.0.0.1", 0), Handler))
    threading.Thread(target=service.server.serve_forever, daemon=True).start()
    return service
