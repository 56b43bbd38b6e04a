"""A Telegram Bot API server on loopback, implementing what the shop's bot uses (Bale's API is
the same at another address), for tests and scripts/bench_telegram.py.

``/bot<token>/<method>`` answers ``{"ok": true, "result": ...}`` or ``{"ok": false,
"error_code": ..., "description": ..., "parameters": {"retry_after": ...}}`` as the real one
does; ``/file/bot<token>/<path>`` serves files. getUpdates long-polls, honouring ``offset``
(updates below it are confirmed and forgotten) and ``timeout``. Customers' updates are pushed by
the test (``message``, ``press``, ``photo``); every call the bot makes is recorded (``calls``)
with the time it arrived, and ``fail`` makes the next calls of a method fail (429 with
retry_after, 401, 403...).

Webhook mode: setWebhook, deleteWebhook and getWebhookInfo keep the address and secret the bot
gave (``webhook``); while one is set getUpdates is refused (409), as the real API does, and
``post_update`` makes the server post an update to that address with the secret header, as
Telegram does (through the ``post`` the test gives: the app's test client has no socket).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "123456:AAH-test-token"  # the shape of a real one: "<bot id>:<secret>"


class _Quiet(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A long poll whose client went away (the appliance stopped) is no error."""


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float  # time.monotonic() when it arrived
    files: dict[str, bytes] = field(default_factory=dict)
    status: int = 200  # what it was answered (a failure the test asked for: 429, 401...)


class BotApiServer:
    def __init__(self, tokens: tuple[str, ...] = (TOKEN,), username: str = "book_nook_bot"):
        self.tokens = set(tokens)
        self.username = username
        self.updates: list[dict[str, Any]] = []
        self.pushed: dict[int, dict[str, Any]] = {}  # every update ever pushed, by id
        self.available_at: dict[int, float] = {}  # update id -> when getUpdates could first return it
        self.calls: list[Call] = []
        self.files: dict[str, bytes] = {}
        self.failures: dict[str, list[tuple[int, float]]] = {}  # method -> [(status, retry_after)]
        self.cond = threading.Condition()
        self._next_update = 1000
        self._next_message = 1
        self._closed = False
        self.webhook: dict[str, Any] = {}  # what setWebhook was given (url, secret_token...), {} when none
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server._dispatch(self)

            def do_POST(self) -> None:
                server._dispatch(self)

        self.httpd = _Quiet(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> BotApiServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self.cond:
            self._closed = True
            self.cond.notify_all()
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- the test's side --------------------------------------------------------------------

    def _push(self, update: dict[str, Any]) -> int:
        with self.cond:
            update_id = self._next_update
            self._next_update += 1
            self.updates.append({"update_id": update_id, **update})
            self.pushed[update_id] = self.updates[-1]
            self.available_at[update_id] = time.monotonic()
            self.cond.notify_all()
            return update_id

    @staticmethod
    def _user(chat_id: int, lang: str) -> dict[str, Any]:
        return {"id": chat_id, "is_bot": False, "first_name": "مشتری", "language_code": lang}

    def _message(self, chat_id: int, lang: str, **content: Any) -> dict[str, Any]:
        with self.cond:
            message_id = self._next_message
            self._next_message += 1
        return {
            "message_id": message_id,
            "from": self._user(chat_id, lang),
            "chat": {"id": chat_id, "type": "private"},
            "date": int(time.time()),
            **content,
        }

    def message(self, chat_id: int, text: str, lang: str = "fa") -> int:
        """A customer writes to the bot; the update's id."""
        return self._push({"message": self._message(chat_id, lang, text=text)})

    def photo(self, chat_id: int, content: bytes, caption: str = "", lang: str = "fa") -> int:
        """A customer sends a photo (the API offers it in two sizes, as the real one does)."""
        path = f"photos/file_{len(self.files)}.jpg"
        self.files[path] = content
        sizes = [
            {"file_id": "small-" + path, "file_unique_id": "s", "width": 90, "height": 90, "file_size": 10},
            {"file_id": path, "file_unique_id": "b", "width": 800, "height": 600, "file_size": len(content)},
        ]
        extra = {"caption": caption} if caption else {}
        return self._push({"message": self._message(chat_id, lang, photo=sizes, **extra)})

    def press(self, chat_id: int, data: str, lang: str = "fa") -> int:
        """A customer presses an inline button with this callback data."""
        with self.cond:
            callback_id = f"cb{self._next_update}"
        return self._push(
            {
                "callback_query": {
                    "id": callback_id,
                    "from": self._user(chat_id, lang),
                    "message": {"message_id": 1, "chat": {"id": chat_id, "type": "private"}, "date": 0},
                    "data": data,
                }
            }
        )

    def redeliver(self, update_id: int) -> None:
        """Offer an update again, as the API does to a bot that didn't confirm it."""
        with self.cond:
            self.updates = sorted([*self.updates, self.pushed[update_id]], key=lambda u: u["update_id"])
            self.cond.notify_all()

    def post_update(self, update_id: int, post: Callable[..., Any], secret: str | None = None) -> Any:
        """Post an update to the webhook's address, as Telegram does: JSON, with the secret the
        bot gave (or ``secret``, for a test of a wrong one). ``post`` is the test client's post;
        its answer is returned."""
        with self.cond:
            url = str(self.webhook["url"])
            given = self.webhook.get("secret_token", "") if secret is None else secret
            update = self.pushed[update_id]
        headers = {"content-type": "application/json", "x-telegram-bot-api-secret-token": given}
        return post(urllib.parse.urlsplit(url).path, content=json.dumps(update).encode(), headers=headers)

    def fail(self, method: str, status: int, retry_after: float = 0.0, times: int = 1) -> None:
        with self.cond:
            self.failures.setdefault(method, []).extend([(status, retry_after)] * times)

    def sent(self, chat_id: int | None = None, method: str = "sendMessage") -> list[Call]:
        with self.cond:
            return [
                c
                for c in self.calls
                if c.method == method
                and c.status == 200
                and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))
            ]

    def wait_for(self, check: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until ``check()`` is true (it is looked at each time a call arrives)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                value = check()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("the bot did not do it in time")
                self.cond.wait(min(left, 0.2))

    def confirmed(self) -> int:
        """The offset the bot confirmed (every update below it is gone)."""
        with self.cond:
            return min((u["update_id"] for u in self.updates), default=self._next_update)

    # -- the API's side ----------------------------------------------------------------------

    def _answer(self, handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        handler.send_response(status)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _error(self, handler: BaseHTTPRequestHandler, status: int, description: str, retry_after: float = 0) -> None:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if retry_after:
            body["parameters"] = {"retry_after": retry_after}
        self._answer(handler, status, body)

    def _params(self, handler: BaseHTTPRequestHandler) -> tuple[dict[str, Any], dict[str, bytes]]:
        length = int(handler.headers.get("content-length") or 0)
        raw = handler.rfile.read(length) if length else b""
        kind = handler.headers.get("content-type", "")
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(handler.path).query))
        if kind.startswith("application/json"):
            return {**query, **json.loads(raw or b"{}")}, {}
        if kind.startswith("multipart/form-data"):
            message = BytesParser(policy=HTTP).parsebytes(b"content-type: " + kind.encode() + b"\r\n\r\n" + raw)
            params: dict[str, Any] = dict(query)
            files: dict[str, bytes] = {}
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                decoded = part.get_payload(decode=True)
                payload = decoded if isinstance(decoded, bytes) else b""
                if part.get_filename():
                    files[str(name)] = payload
                    params[str(name)] = part.get_filename()
                else:
                    params[str(name)] = payload.decode()
            return params, files
        return {**query, **dict(urllib.parse.parse_qsl(raw.decode()))}, {}

    def _dispatch(self, handler: BaseHTTPRequestHandler) -> None:
        path = urllib.parse.urlsplit(handler.path).path
        if path.startswith("/file/bot"):
            token, _, file_path = path.removeprefix("/file/bot").partition("/")
            if token not in self.tokens or file_path not in self.files:
                self._error(handler, 404, "Not Found")
                return
            data = self.files[file_path]
            handler.send_response(200)
            handler.send_header("content-length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
            return
        if not path.startswith("/bot"):
            self._error(handler, 404, "Not Found")
            return
        token, _, method = path.removeprefix("/bot").partition("/")
        params, files = self._params(handler)
        if token not in self.tokens:
            self._error(handler, 401, "Unauthorized")
            return
        with self.cond:
            failures = self.failures.get(method)
            failure = failures.pop(0) if failures else None
        if failure is not None:
            status, retry_after = failure
            with self.cond:
                self.calls.append(Call(method, params, time.monotonic(), files, status))
                self.cond.notify_all()
            words = {
                429: "Too Many Requests: retry later",
                401: "Unauthorized",
                403: "Forbidden: bot was blocked by the user",
            }
            self._error(handler, status, words.get(status, "Bad Request"), retry_after)
            return
        if method == "getUpdates" and self.webhook:
            with self.cond:
                self.calls.append(Call(method, params, time.monotonic(), files, 409))
                self.cond.notify_all()
            self._error(handler, 409, "Conflict: can't use getUpdates method while webhook is active")
            return
        if method == "getUpdates":
            self._answer(handler, 200, {"ok": True, "result": self._get_updates(params)})
            return
        with self.cond:
            self.calls.append(Call(method, params, time.monotonic(), files))
            self.cond.notify_all()
        result: Any = True
        if method == "getMe":
            result = {
                "id": int(TOKEN.split(":")[0]),
                "is_bot": True,
                "first_name": "Book Nook",
                "username": self.username,
            }
        elif method in {"sendMessage", "sendPhoto", "sendDocument"}:
            if len(str(params.get("text") or "").encode("utf-16-le")) // 2 > 4096:
                self._error(handler, 400, "Bad Request: message is too long")  # as the real API
                return
            with self.cond:
                message_id = self._next_message
                self._next_message += 1
            result = {"message_id": message_id, "chat": {"id": params.get("chat_id"), "type": "private"}, "date": 0}
        elif method == "getFile":
            file_id = str(params.get("file_id"))
            if file_id not in self.files:
                self._error(handler, 400, "Bad Request: invalid file_id")
                return
            result = {"file_id": file_id, "file_size": len(self.files[file_id]), "file_path": file_id}
        elif method == "setWebhook":
            with self.cond:
                self.webhook = dict(params)
        elif method == "deleteWebhook":
            with self.cond:
                self.webhook = {}
        elif method == "getWebhookInfo":
            with self.cond:
                result = {"url": self.webhook.get("url", ""), "pending_update_count": 0}
        elif method not in {"answerCallbackQuery"}:
            self._error(handler, 404, "Not Found: method not found")
            return
        self._answer(handler, 200, {"ok": True, "result": result})

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 50.0)
        deadline = time.monotonic() + timeout
        with self.cond:
            # The real API forgets what is below the offset: confirmed.
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            self.calls.append(Call("getUpdates", params, time.monotonic()))
            while not self.updates and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
            return list(self.updates[:100])
