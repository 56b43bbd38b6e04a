"""A shop's webhook receiver on loopback, for tests/test_webhooks.py: it checks each delivery's
signature with the receiver example of docs/WEBHOOKS.md (that very code, run here) and records
what it got. ``answer`` is the status it replies with (503: up but failing); ``stop()`` closes
the port (down: connection refused) and ``start()`` opens it again on the same port."""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import ThreadingHTTPServer
from typing import Any

from .helpers import DOCS, QuietHandler


def docs_example() -> dict[str, Any]:
    """The names the docs' Python receiver defines (verify_signature, Receiver, ...), from the
    first python block under its heading, run as written."""
    text = (DOCS / "WEBHOOKS.md").read_text(encoding="utf-8")
    section = text[text.index("## A receiver in Python") :]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None, "docs/WEBHOOKS.md has no receiver example"
    names: dict[str, Any] = {"__name__": "webhooks_docs_example"}
    exec(compile(code.group(1), "docs/WEBHOOKS.md", "exec"), names)  # the docs' own code, as a reader would run it
    return names


class Receiver:
    def __init__(self, port: int, secret: str = "") -> None:
        self.port = port
        self.secret = secret
        self.answer = 204
        self.reply = b""
        self.location = ""  # sent with a 3xx answer
        self.delay = 0.0  # seconds it takes before answering (a slow system)
        self.got: list[dict[str, Any]] = []  # each: headers (lower case), raw body, parsed JSON, signed
        self.lock = threading.Lock()
        self.verify = docs_example()["verify_signature"]
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> Receiver:
        receiver = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                time.sleep(receiver.delay)
                ok = receiver.verify(receiver.secret, self.headers.get("X-Appliance-Signature", ""), raw)
                with receiver.lock:
                    status = receiver.answer
                    if 200 <= status < 300:
                        receiver.got.append(
                            {
                                "headers": {k.lower(): v for k, v in self.headers.items()},
                                "raw": raw,
                                "json": json.loads(raw),
                                "signed": ok,
                            }
                        )
                self._send(status, "text/plain; charset=utf-8", receiver.reply, receiver.location)

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            return [g["json"] for g in self.got]
