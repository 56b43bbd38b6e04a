"""A model on an OpenAI-compatible server (llama.cpp's llama-server, vLLM, Ollama, ...).

How a shop that outgrows one small box uses a bigger model on another machine or a GPU server:
``model_url = "http://10.0.0.5:8080/v1"`` (and ``model_api_key`` if the server wants one). The
runtime treats it like the local process: the same queue, deadline, cancellation and grounding
checks; a server that is down or answers garbage costs the reply in flight, which goes out as the
owner's text, and is tried again with backoff.
"""

from __future__ import annotations

import json
import queue
import socket
import threading
import time
from typing import Any

import httpx

from appliance.llm.backend import BackendCrashed, BackendStartFailed, Event

CONNECT_TIMEOUT_S = 5.0


class OpenAIServer:
    kind = "openai"

    def __init__(self, url: str, *, api_key: str = "", model: str = "", timeout_s: float = 30.0):
        base = url.rstrip("/")
        if not base.endswith("/v1"):
            base += "/v1"
        self.base = base
        self.api_key = api_key
        self.model = model  # empty: the first model the server lists
        self.timeout_s = timeout_s
        self.label = f"{model or 'model'} at {url}"
        self._client: httpx.Client | None = None
        self._events: queue.Queue = queue.Queue()
        self._response: httpx.Response | None = None
        self._lock = threading.Lock()
        self._cancelled: set[int] = set()

    def _http(self) -> httpx.Client:
        if self._client is None:
            headers = {"authorization": f"Bearer {self.api_key}"} if self.api_key else {}
            # trust_env=False: a proxy set for the shell must not reroute customers' questions.
            # The read timeout is a backstop only: the runtime's own deadline (timeout_s) cancels a
            # slow reply first and tells the customer it timed out.
            self._client = httpx.Client(
                headers=headers,
                trust_env=False,
                follow_redirects=False,
                timeout=httpx.Timeout(self.timeout_s + 10, connect=CONNECT_TIMEOUT_S),
            )
        return self._client

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> dict[str, Any]:
        started = time.monotonic()
        try:
            r = self._http().get(f"{self.base}/models", timeout=CONNECT_TIMEOUT_S * 2)
        except httpx.HTTPError as exc:
            raise BackendStartFailed(
                f"the model server at {self.base} does not answer ({_short(exc)})", retry=True
            ) from None
        if r.status_code in (401, 403):
            raise BackendStartFailed(
                f"the model server at {self.base} refused our key (HTTP {r.status_code}); check model_api_key",
                retry=True,
            )
        if r.status_code != 200:
            raise BackendStartFailed(
                f"the model server at {self.base} answered HTTP {r.status_code} to "
                "/models: is it an OpenAI-compatible server?",
                retry=True,
            )
        try:
            served = [m["id"] for m in r.json().get("data", []) if isinstance(m, dict) and m.get("id")]
        except (ValueError, AttributeError, TypeError):
            raise BackendStartFailed(
                f"the model server at {self.base} answered /models with something that is not an OpenAI model list",
                retry=True,
            ) from None
        if not self.model:
            if not served:
                raise BackendStartFailed(f"the model server at {self.base} serves no model", retry=True)
            self.model = served[0]
        elif served and self.model not in served:
            raise BackendStartFailed(
                f"the model server at {self.base} does not serve {self.model!r} (it serves {', '.join(served[:5])})",
                retry=True,
            )
        self.label = f"{self.model} at {self.base}"
        return {"load_seconds": round(time.monotonic() - started, 3), "served_models": served[:20], "system_info": None}

    def stop(self) -> None:
        self._close_response()
        if self._client is not None:
            self._client.close()
            self._client = None

    def check(self) -> None:
        pass  # a server's health shows in the next reply; polling it would only add load

    def kill(self) -> None:
        self._close_response()

    def pid(self) -> int | None:
        return None

    # -- one reply ---------------------------------------------------------------------------------
    def begin(self, job_id: int, messages: list[dict[str, str]], max_tokens: int, temperature: float) -> None:
        self._events = queue.Queue()
        body = {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
        }
        threading.Thread(target=self._stream, args=(job_id, body, self._events), name="model-http", daemon=True).start()

    def cancel(self, job_id: int) -> None:
        self._cancelled.add(job_id)
        # The server stops generating when the connection closes. A read blocked on a silent server
        # is not woken by close(), so the socket is shut down under it.
        self._close_response(shutdown=True)

    def next_event(self, timeout: float) -> Event | None:
        try:
            item = self._events.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None
        if isinstance(item, BackendCrashed):
            raise item
        return item

    # -- the stream, on its own thread so a silent server can't hold the dispatcher ----------------
    def _stream(self, job_id: int, body: dict[str, Any], events: queue.Queue) -> None:
        started = time.monotonic()
        first_token_at = None
        pieces = 0
        stopped = "stop"
        finished = False  # saw [DONE] or a finish_reason: a stream cut short is not a reply
        try:
            with self._http().stream("POST", f"{self.base}/chat/completions", json=body) as response:
                with self._lock:
                    self._response = response
                if response.status_code != 200:
                    response.read()
                    events.put(
                        ("error", f"the model server answered HTTP {response.status_code}: {response.text[:200]}")
                    )
                    return
                for line in response.iter_lines():
                    if job_id in self._cancelled:
                        stopped = "cancelled"
                        break
                    if not line or line.startswith(":"):
                        continue
                    if not line.startswith("data:"):
                        raise ValueError(f"not a server-sent event: {line[:80]!r}")
                    data = line[5:].strip()
                    if data == "[DONE]":
                        finished = True
                        break
                    chunk = json.loads(data)
                    if "error" in chunk:
                        events.put(("error", f"the model server reported: {str(chunk['error'])[:200]}"))
                        return
                    choice = chunk["choices"][0]
                    text = (choice.get("delta") or {}).get("content")
                    if text:
                        if first_token_at is None:
                            first_token_at = time.monotonic()
                        pieces += 1
                        events.put(("token", text))
                    if choice.get("finish_reason"):
                        stopped = choice["finish_reason"]
                        finished = True
            if not finished and stopped != "cancelled":
                events.put(
                    BackendCrashed(
                        f"the model server at {self.base} went away mid-reply (the stream ended without finishing)"
                    )
                )
                return
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            events.put(("error", f"the model server sent something that is not an OpenAI stream ({_short(exc)})"))
            return
        except httpx.HTTPError as exc:
            if job_id in self._cancelled:
                stopped = "cancelled"
            else:
                events.put(BackendCrashed(f"the model server at {self.base} went away ({_short(exc)})"))
                return
        finally:
            with self._lock:
                self._response = None
            self._cancelled.discard(job_id)
        events.put(
            (
                "done",
                {
                    "stopped": stopped,
                    "pieces": pieces,
                    "first_token_s": round(first_token_at - started, 4) if first_token_at else None,
                    "total_s": round(time.monotonic() - started, 4),
                },
            )
        )

    def _close_response(self, shutdown: bool = False) -> None:
        with self._lock:
            response = self._response
        if response is None:
            return
        if shutdown:
            stream = response.extensions.get("network_stream")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        try:
            response.close()
        except Exception:  # closing from another thread may race the reader; either way it ends
            pass


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."
