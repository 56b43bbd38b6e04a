"""One webhook delivery over HTTP: the JSON body of an event, its signature, and the POST.

The body is UTF-8 JSON with Persian as it is (not ``\\u`` escapes). The signature header is
``X-Appliance-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``, made
afresh at each attempt so a receiver can refuse an old one replayed (docs/WEBHOOKS.md has the
receiver's check, which tests/test_webhooks.py runs). Redirects are not followed (a 3xx is a
failed attempt): a receiver that moved is told by its owner, not by an answer that could send
the conversations elsewhere. Blocking: called in a worker thread, never on the event loop.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import time
from typing import Any

import httpx

from appliance.channels.webhook_store import Outcome
from appliance.conversations import events

TIMEOUT_S = 10.0
READ_CAP_BYTES = 64 * 1024  # of a receiver's answer: only its start is kept
USER_AGENT = "support-appliance-webhooks/1"
SIGNATURE_HEADER = "X-Appliance-Signature"
EVENT_HEADER = "X-Appliance-Event"
DELIVERY_HEADER = "X-Appliance-Delivery"


def payload(event: events.Event, conversation: Any) -> dict[str, Any]:
    """What a receiver is told of ``event``; ``conversation``: its row (lang, status) when it
    was queued, or None."""
    data = event.data
    out: dict[str, Any] = {
        "id": event.id,
        "type": event.kind,
        "created_at": event.created_at,
        "conversation": {
            "id": event.conversation_id,
            "channel": event.channel,
            "lang": (conversation["lang"] if conversation is not None else None) or data.get("lang"),
            "status": conversation["status"] if conversation is not None else None,
        },
    }
    if event.kind in (events.CUSTOMER_MESSAGE, events.OWNER_MESSAGE):
        out["message"] = {"id": event.message_id, "text": data.get("text", "")}
        if data.get("photo") or data.get("file"):
            out["message"]["has_photo"] = True
    elif event.kind == events.HANDED_OVER:
        out["handover"] = {"reason": data.get("reason"), "question": data.get("question")}
    elif event.kind == events.RATED:
        out["rating"] = {"satisfied": bool(data.get("satisfied")), "comment": data.get("comment") or ""}
    return out


def ping_payload(endpoint_id: int, now: str) -> dict[str, Any]:
    """The test event the owner sends from the admin (id 0: no event of a conversation)."""
    return {"id": 0, "type": "ping", "created_at": now, "endpoint": endpoint_id}


def encode(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def signature(secret: str, body: bytes, at: int) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def client() -> httpx.Client:
    """The client deliveries go through: no redirects, no proxy from the environment (the
    shop's systems are its own: a proxy meant for the web must not see the conversations)."""
    return httpx.Client(
        timeout=httpx.Timeout(TIMEOUT_S), follow_redirects=False, trust_env=False, headers={"user-agent": USER_AGENT}
    )


def send(http: httpx.Client, url: str, secret: str, kind: str, delivery_id: int, body: str) -> Outcome:
    """One attempt: a 2xx is delivered; anything else is a failed attempt with its reason."""
    raw = body.encode("utf-8")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        SIGNATURE_HEADER: signature(secret, raw, int(time.time())),
        EVENT_HEADER: kind,
        DELIVERY_HEADER: str(delivery_id),
    }
    started = time.monotonic()
    got = b""
    try:
        with http.stream("POST", url, content=raw, headers=headers) as response:
            # The status decides; the answer's body is only kept for the log. So a receiver that
            # said 2xx and then dawdles over its body isn't sent the event again, and no answer
            # holds the queue longer than TIMEOUT_S (httpx's timeout is per read, not in all).
            with contextlib.suppress(httpx.HTTPError):
                for chunk in response.iter_bytes():
                    got += chunk
                    if len(got) >= READ_CAP_BYTES or time.monotonic() - started > TIMEOUT_S:
                        break
    except httpx.TimeoutException:
        return Outcome(ok=False, error="timeout")
    except httpx.ConnectError as exc:
        return Outcome(ok=False, error="tls" if "SSL" in str(exc) or "certificate" in str(exc) else "refused")
    except httpx.HTTPError:
        return Outcome(ok=False, error="network")
    text = got.decode("utf-8", errors="replace")
    code = response.status_code
    if 200 <= code < 300:
        return Outcome(ok=True, code=code, body=text)
    return Outcome(ok=False, code=code, body=text, error="redirect" if 300 <= code < 400 else "status")
