"""Fakes the tests share: real servers on loopback that stand in for what the appliance talks to.
Each is a real socket server, so the code under test goes through its real HTTP client."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Reply = Callable[[str], str | Sequence[str]]
Behaviour = Literal["stream", "garbage", "drop"]


class FakeOpenAI(ThreadingHTTPServer):
    """An OpenAI-compatible server on 127.0.0.1 (``url`` is its /v1): it lists ``model`` at
    /v1/models and answers /v1/chat/completions as set, keeping each request's prompt (its
    messages' contents, one per line) in ``prompts``.

    - ``reply(prompt)``: the text streamed back, in two pieces (its first character, the rest),
      or a sequence of pieces sent as they are;
    - ``delay_s``: a wait after the stream's headers (and a keep-alive comment) before the pieces;
    - ``status``: anything but 200 is that status with an OpenAI-style JSON error;
    - ``behaviour``: "stream" (the above), "garbage" (a web server's HTML page, 200) or "drop"
      (the reply's first piece, then the connection closed without finishing).

    Use as a context manager (it serves on a thread until the block ends) or ``start``/``close``.
    """

    block_on_close = False  # a reply still waiting doesn't hold up the test's teardown
    daemon_threads = True

    def __init__(self, model: str = "fake-model") -> None:
        super().__init__(("127.0.0.1", 0), _OpenAIHandler)
        self.model = model
        self.reply: Reply = lambda prompt: "1"
        self.delay_s = 0.0
        self.status = 200
        self.behaviour: Behaviour = "stream"
        self.prompts: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def start(self) -> FakeOpenAI:
        threading.Thread(target=self.serve_forever, name="fake-openai", daemon=True).start()
        return self

    def close(self) -> None:
        self.shutdown()
        self.server_close()

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


class _OpenAIHandler(BaseHTTPRequestHandler):
    server: FakeOpenAI

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/models":
            self._send(200, {"object": "list", "data": [{"id": self.server.model, "object": "model"}]})
        else:
            self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("content-length", 0)))
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            return
        request = json.loads(raw)
        prompt = "\n".join(str(m.get("content", "")) for m in request.get("messages", []))
        self.server.prompts.append(prompt)
        server = self.server
        if server.status != 200:
            self._send(server.status, {"error": {"message": "out of memory", "type": "server_error"}})
            return
        if server.behaviour == "garbage":
            self._send_bytes(200, b"<html><body>Welcome to nginx!</body></html>", "text/html")
            return
        text = server.reply(prompt)
        pieces = [text[:1], text[1:]] if isinstance(text, str) else list(text)
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        try:
            if server.delay_s:
                self.wfile.write(b": still thinking\n\n")
                self.wfile.flush()
                time.sleep(server.delay_s)
            for n, piece in enumerate(pieces):
                chunk = {
                    "object": "chat.completion.chunk",
                    "model": server.model,
                    "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
                }
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                if server.behaviour == "drop" and n == 0:
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
            self.wfile.write(b"data: [DONE]\n\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout or budget), as some tests want

    def _send(self, status: int, body: dict[str, Any]) -> None:
        self._send_bytes(status, json.dumps(body).encode(), "application/json")

    def _send_bytes(self, status: int, body: bytes, media: str) -> None:
        self.send_response(status)
        self.send_header("content-type", media)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def numbers_titled(pattern: str) -> Callable[[str], str]:
    """A judge's reply (for FakeOpenAI.reply) that reads the numbered entries shown in the
    prompt and picks those whose title matches ``pattern``: "2,3", or "0" for none."""

    def verdict(prompt: str) -> str:
        titles = re.findall(r"^(\d)\. (.*)$", prompt, re.M)
        picked = [n for n, title in titles if re.search(pattern, title, re.I)]
        return ",".join(picked) or "0"

    return verdict
