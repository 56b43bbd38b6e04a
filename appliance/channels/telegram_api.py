"""The Telegram Bot API, as far as the shop's bot uses it (Bale's bot API has the same methods at
another address: ``BASES``).

One ``BotApi`` per token, on one ``httpx.AsyncClient``. Every method answers the ``result`` of
the API's ``{"ok": true, "result": ...}``; a refusal raises ``ApiError`` with what the caller
needs to decide: 401 (the token was refused: stop), 403 (the customer blocked the bot: skip),
429 with ``retry_after`` (wait that long), others (try again later). The token is part of every
URL, so no URL, request or httpx error text is ever logged or shown: ``ApiError`` says only the
method and the API's own description.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import httpx

BASES = {"telegram": "https://api.telegram.org", "bale": "https://tapi.bale.ai"}
_TOKEN_IN_URL = re.compile(r"/bot[^/\s\"']+")


class _NoToken(logging.Filter):
    """httpx logs every request's URL at INFO, and a Bot API URL holds the token: the logs show
    ``/bot<token>`` instead, whoever made the request."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/bot" in message:
            record.msg, record.args = _TOKEN_IN_URL.sub("/bot<token>", message), None
        return True


logging.getLogger("httpx").addFilter(_NoToken())
CONNECT_TIMEOUT_S = 10.0
TIMEOUT_S = 30.0  # a call that isn't a long poll


class ApiError(Exception):
    """The API refused a call, or couldn't be reached (``status`` 0)."""

    def __init__(self, method: str, status: int, description: str = "", retry_after: float = 0.0):
        super().__init__(f"{method}: {status} {description}".strip())
        self.method = method
        self.status = status
        self.description = description
        self.retry_after = retry_after

    @property
    def unauthorized(self) -> bool:
        return self.status == 401

    @property
    def blocked(self) -> bool:
        """The chat can't be written to (the customer blocked the bot, or the chat is gone). Any
        other refusal of a send (a text too long, say) is a fault of ours, logged and retried,
        never taken for a customer who left."""
        if not self.method.startswith("send"):
            return False
        return self.status == 403 or (self.status == 400 and "chat not found" in self.description.lower())


def base_for(platform: str, api_base: str) -> str:
    return (api_base or BASES.get(platform, BASES["telegram"])).rstrip("/")


class BotApi:
    def __init__(self, base: str, token: str, *, client: httpx.AsyncClient | None = None):
        self.base = base.rstrip("/")
        self._token = token
        self._client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(TIMEOUT_S, connect=CONNECT_TIMEOUT_S), follow_redirects=False
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        timeout: float | None = None,
    ) -> Any:
        url = f"{self.base}/bot{self._token}/{method}"
        kwargs: dict[str, Any] = {}
        if timeout is not None:
            kwargs["timeout"] = httpx.Timeout(timeout, connect=CONNECT_TIMEOUT_S)
        try:
            if files:
                # multipart: nested values (reply_markup) go as JSON text, as the API expects
                data = {k: v if isinstance(v, str) else json.dumps(v) for k, v in (params or {}).items()}
                resp = await self._client.post(url, data=data, files=files, **kwargs)
            else:
                resp = await self._client.post(url, json=params or {}, **kwargs)
        except httpx.HTTPError as exc:
            # The exception's text would quote the URL, token included: name only its kind.
            raise ApiError(method, 0, type(exc).__name__) from None
        try:
            body = resp.json()
        except ValueError:
            raise ApiError(method, resp.status_code, "not JSON") from None
        if not isinstance(body, dict):
            raise ApiError(method, resp.status_code, "not an object")
        if body.get("ok") is True:
            return body.get("result")
        params_ = body.get("parameters") or {}
        retry = float(params_.get("retry_after") or 0) if isinstance(params_, dict) else 0.0
        status = int(body.get("error_code") or resp.status_code or 0)
        raise ApiError(method, status, str(body.get("description") or "")[:200], retry_after=retry)

    async def get_me(self) -> dict[str, Any]:
        return await self.call("getMe")

    async def get_updates(self, offset: int, timeout: int) -> list[dict[str, Any]]:
        result = await self.call(
            "getUpdates",
            {"offset": offset, "timeout": timeout, "allowed_updates": ["message", "callback_query"]},
            timeout=timeout + TIMEOUT_S,
        )
        return result if isinstance(result, list) else []

    async def send_message(self, chat_id: int | str, text: str, markup: dict[str, Any] | None = None) -> Any:
        params: dict[str, Any] = {"chat_id": chat_id, "text": text}
        if markup:
            params["reply_markup"] = markup
        return await self.call("sendMessage", params)

    async def send_file(
        self, method: str, field: str, chat_id: int | str, name: str, data: bytes, mime: str, caption: str = ""
    ) -> Any:
        """sendPhoto (field "photo") or sendDocument (field "document"), uploaded."""
        params: dict[str, Any] = {"chat_id": str(chat_id)}
        if caption:
            params["caption"] = caption
        return await self.call(method, params, files={field: (name, data, mime)})

    async def answer_callback(self, callback_id: str, text: str = "") -> Any:
        params: dict[str, Any] = {"callback_query_id": callback_id}
        if text:
            params["text"] = text
        return await self.call("answerCallbackQuery", params)

    async def download(self, file_id: str, max_bytes: int) -> bytes | None:
        """A file a customer sent (getFile, then its path under /file/bot<token>/), or None when
        it is larger than ``max_bytes`` (said by getFile, or found while reading)."""
        info = await self.call("getFile", {"file_id": file_id})
        if not isinstance(info, dict) or not info.get("file_path"):
            return None
        if int(info.get("file_size") or 0) > max_bytes:
            return None
        url = f"{self.base}/file/bot{self._token}/{info['file_path']}"
        chunks: list[bytes] = []
        size = 0
        try:
            async with self._client.stream("GET", url) as resp:
                if resp.status_code != 200:
                    raise ApiError("getFile", resp.status_code, "download")
                async for chunk in resp.aiter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        return None
                    chunks.append(chunk)
        except httpx.HTTPError as exc:
            raise ApiError("getFile", 0, type(exc).__name__) from None
        return b"".join(chunks)
