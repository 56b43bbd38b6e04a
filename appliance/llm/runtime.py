"""The language model, supervised: one dispatcher thread, one bounded queue, one backend.

The backend is llama.cpp in its own child process (``llm_process``) or an OpenAI-compatible server
(``llm_openai``); the web process never loads llama.cpp itself. Requests queue in a small bounded
queue; when it is full the caller is told at once (``ModelBusy``) and answers from the knowledge
base. Tokens travel back to the event loop with ``call_soon_threadsafe``; a cancel flag and a
deadline are checked between tokens, so a customer who leaves frees the model within one token.

When the backend dies (a native crash, the OOM killer, a hang past the deadline, a server that
went away) the reply in flight fails (its customer gets the owner's text), the appliance goes on
answering from the knowledge base, and the backend is restarted with backoff. A local model that
crashes ``MAX_CRASHES`` times within ``CRASH_WINDOW_S`` stays off until the owner restarts it
(admin home, or a restart of the appliance); a remote server is probed again for ever, slowly.

States (shown in /healthz, the admin home and ``appliance check``):

    none        no model configured: the appliance answers from the knowledge base only
    loading     starting the process and warming up, or connecting to the server
    ready       serving
    restarting  the backend died; it is started again after ``retry_in_s``
    failed      the file is missing or damaged, it keeps crashing, or the server can't be used
                (``reason`` says which); knowledge-base only
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import queue
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from appliance.llm.backend import (
    Backend,
    BackendCrashed,
    BackendStartFailed,
    ModelBusy,
    ModelError,
    ModelTimeout,
    ModelUnavailable,
)

__all__ = ["ModelBusy", "ModelError", "ModelRuntime", "ModelState", "ModelTimeout", "ModelUnavailable"]

log = logging.getLogger(__name__)


class ModelState(StrEnum):
    NONE = "none"
    LOADING = "loading"
    READY = "ready"
    RESTARTING = "restarting"
    FAILED = "failed"


@dataclass
class _Job:
    messages: list[dict[str, str]]
    max_tokens: int
    temperature: float
    loop: asyncio.AbstractEventLoop
    out: asyncio.Queue
    cancelled: threading.Event = field(default_factory=threading.Event)
    submitted: float = field(default_factory=time.monotonic)


_STOP = object()
MAX_FAILURES_IN_A_ROW = 3
MAX_CRASHES = 3
CRASH_WINDOW_S = 600.0
BACKOFF_S = (1.0, 5.0, 30.0)
REMOTE_RETRY_MAX_S = 60.0
# After the deadline, how long a backend has to acknowledge a cancel before it is killed as hung.
HANG_GRACE_S = 5.0


class ModelRuntime:
    """One model, one dispatcher thread, one bounded queue."""

    def __init__(
        self,
        source: Path | Backend | None,
        *,
        n_ctx: int = 2048,
        n_threads: int = 0,
        n_threads_batch: int = 0,
        nice: int = 19,
        queue_size: int = 4,
        timeout_s: float = 30.0,
        max_tokens: int = 200,
        not_configured_reason: str | None = None,
        missing_reason: str | None = None,
    ):
        cores = os.cpu_count() or 1
        self.n_ctx = n_ctx
        # The model runs at a lower priority (``nice``) than the web process, so its threads take
        # only the CPU that customers' decisions leave; it may then use every core.
        self.n_threads = n_threads or cores
        self.n_threads_batch = n_threads_batch or cores
        self.nice = nice
        self.timeout_s = timeout_s
        self.max_tokens = max_tokens
        if isinstance(source, Path):
            from appliance.llm.process import LocalProcess

            source = LocalProcess(
                source, n_ctx=n_ctx, n_threads=self.n_threads, n_threads_batch=self.n_threads_batch, nice=nice
            )
        self.backend: Backend | None = source
        self.path: Path | None = getattr(source, "path", None)
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, queue_size))
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()
        self._settled = threading.Event()
        self._busy = threading.Event()
        self._ids = itertools.count(1)
        self._file_id: tuple[int, ...] | None = None
        self._crashes: deque[float] = deque()
        self.load_seconds: float | None = None
        self.system_info: str | None = None
        self.retry_at: float | None = None
        self.last_crash: dict[str, Any] | None = None
        # Lifetime counters, for /healthz and the load test.
        self.counters = {
            "completed": 0,
            "cancelled": 0,
            "timed_out": 0,
            "refused_busy": 0,
            "failed": 0,
            "crashed": 0,
            "restarts": 0,
        }
        self.reason: str | None = None
        if source is None:
            # A model asked for but not found is a failure; no model asked for is a choice.
            self.state = ModelState.FAILED if missing_reason else ModelState.NONE
            self.reason = missing_reason or not_configured_reason or "no model configured"
            self._settled.set()
        else:
            self.state = ModelState.LOADING

    # -- lifecycle -------------------------------------------------------------------------------
    @property
    def model_name(self) -> str | None:
        return self.backend.label if self.backend is not None else None

    def start(self) -> ModelRuntime:
        if self.backend is None or (self._thread is not None and self._thread.is_alive()):
            return self
        self._closing.clear()
        self._thread = threading.Thread(target=self._run, name="model-dispatcher", daemon=True)
        self._thread.start()
        return self

    def restart(self) -> bool:
        """The owner's "start the model again": forget past crashes and start afresh. False when
        there is nothing to restart (no model configured) or it is already running."""
        if self.backend is None or self.state in (ModelState.READY, ModelState.LOADING):
            return False
        self._stop_thread()
        self._crashes.clear()
        self.state, self.reason, self.retry_at = ModelState.LOADING, None, None
        self._settled.clear()
        self.start()
        return True

    def wait_settled(self, timeout: float | None = None) -> bool:
        """Block until loading has finished one way or the other."""
        return self._settled.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        self._stop_thread(timeout)

    def _stop_thread(self, timeout: float = 10.0) -> None:
        self._closing.set()
        if self._thread is None:
            return
        # Drop waiting jobs: their customers get the knowledge-base answer.
        self._fail_waiting("the appliance is shutting down")
        try:
            self._queue.put(_STOP, timeout=timeout)
        except queue.Full:
            pass
        self._thread.join(timeout)
        self._thread = None
        # Jobs that slipped in, and a stop marker the thread never took (it must not end the next).
        self._fail_waiting("the model was stopped", keep_stop=False)

    def status(self) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "backend": self.backend.kind if self.backend is not None else None,
            "model": self.model_name,
            "reason": self.reason,
            "queue_length": self._queue.qsize(),
            "queue_size": self._queue.maxsize,
            "busy": self._busy.is_set(),
            "n_ctx": self.n_ctx,
            "n_threads": self.n_threads,
            "n_threads_batch": self.n_threads_batch,
            "load_seconds": self.load_seconds,
            "pid": self.backend.pid() if self.backend is not None else None,
            "file": self.file_state(),
            "last_crash": self.last_crash,
            "retry_in_s": round(max(0.0, self.retry_at - time.monotonic()), 1) if self.retry_at else None,
            "counters": dict(self.counters),
        }

    def file_state(self) -> str | None:
        """Is the loaded model's file still on disk as it was? "ok", "missing" or "changed" (the
        loaded copy keeps working; a restart would find the file's problem), None if none loaded."""
        if self._file_id is None or self.path is None:
            return None
        try:
            return "ok" if _file_id(self.path) == self._file_id else "changed"
        except OSError:
            return "missing"

    @property
    def ready(self) -> bool:
        return self.state is ModelState.READY

    @property
    def free(self) -> bool:
        """Loaded, nothing generating and nothing waiting: a job sent now starts at once."""
        return self.ready and not self._busy.is_set() and self._queue.empty()

    # -- the public, async side ----------------------------------------------------------------
    async def stream(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int | None = None,
        temperature: float = 0.2,
        stats: dict[str, Any] | None = None,
    ) -> AsyncIterator[str]:
        """Yield the reply's text pieces as the model produces them.

        Raises ModelUnavailable, ModelBusy (at once, before any token), ModelTimeout, or
        ModelError (the backend failed or crashed mid-reply). Use it as
        ``async with contextlib.aclosing(rt.stream(...)) as it`` so that leaving early cancels the
        job at once instead of when the generator is garbage-collected. ``stats`` is filled with
        timings and the stop reason when the reply ends.
        """
        if self.state is not ModelState.READY:
            raise ModelUnavailable(self.reason or f"model is {self.state.value}")
        job = _Job(
            messages=messages,
            max_tokens=max_tokens or self.max_tokens,
            temperature=temperature,
            loop=asyncio.get_running_loop(),
            out=asyncio.Queue(),
        )
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            self.counters["refused_busy"] += 1
            raise ModelBusy(self._queue.qsize()) from None
        try:
            while True:
                kind, payload = await job.out.get()
                if kind == "token":
                    yield payload
                elif kind == "error":
                    raise payload
                else:
                    if stats is not None:
                        stats.update(payload)
                    return
        finally:
            job.cancelled.set()

    async def complete(self, messages: list[dict[str, str]], **kwargs: Any) -> str:
        parts = []
        async for piece in self.stream(messages, **kwargs):
            parts.append(piece)
        return "".join(parts)

    # -- the dispatcher thread -------------------------------------------------------------------
    def _run(self) -> None:
        assert self.backend is not None
        try:
            while not self._closing.is_set():
                # Loaded and served until told to stop, or failed to load or died: then a retry,
                # if one is scheduled.
                if self._load() and self._serve() is _STOP:
                    return
                if not self._wait_to_retry():
                    return
        finally:
            self.backend.stop()
            self._settled.set()

    def _load(self) -> bool:
        assert self.backend is not None
        if self.state is not ModelState.RESTARTING:
            self.state = ModelState.LOADING
        try:
            info = self.backend.start()
        except BackendStartFailed as exc:
            self._file_id = None
            self.reason = str(exc)
            if exc.retry:  # a server not up yet: keep trying, slowly
                self._schedule_retry(self._remote_backoff(), str(exc))
            else:
                self.state, self.retry_at = ModelState.FAILED, None
                log.error("model not loaded, answering from the knowledge base only: %s", exc)
            self._settled.set()
            self._fail_waiting(self.reason)
            return False
        except (BackendCrashed, OSError) as exc:
            self._file_id = None
            self._crashed(exc)
            self._settled.set()
            return False
        try:
            self._file_id = _file_id(self.path) if self.path is not None else None
        except OSError:
            self._file_id = None
        self.load_seconds = info.get("load_seconds")
        self.system_info = info.get("system_info") or self.system_info
        self.state, self.reason, self.retry_at = ModelState.READY, None, None
        log.info("model %s ready in %.1f s", self.model_name, self.load_seconds or 0.0)
        self._settled.set()
        return True

    def _serve(self) -> object | None:
        """Answer jobs until told to stop (returns _STOP) or the backend dies (returns None)."""
        assert self.backend is not None
        failures_in_a_row = 0
        while True:
            try:
                job = self._queue.get(timeout=0.5)
            except queue.Empty:
                try:  # a process that dies while idle is restarted before a customer needs it
                    self.backend.check()
                except BackendCrashed as exc:
                    self._crashed(exc)
                    return None
                continue
            if job is _STOP:
                return _STOP
            if job.cancelled.is_set():
                self.counters["cancelled"] += 1
                continue
            self._busy.set()
            try:
                self._generate(job)
                failures_in_a_row = 0
            except BackendCrashed as exc:
                # The crash is recorded (state, counters) before the customer hears of it, so that
                # whoever looks at /healthz on the failure sees it.
                self._crashed(exc)
                self._send(job, "error", exc)
                return None
            except ModelError as exc:
                self.counters["failed"] += 1
                failures_in_a_row += 1
                log.error("model reply failed: %s", exc)
                self._send(job, "error", exc)
                if failures_in_a_row >= MAX_FAILURES_IN_A_ROW and self.backend.kind != "local":
                    # A server that keeps failing may be overloaded or restarting: ask again later.
                    self._schedule_retry(
                        self._remote_backoff(), f"the model server failed {failures_in_a_row} replies in a row ({exc})"
                    )
                    self._fail_waiting(self.reason or "")
                    return None
                if failures_in_a_row >= MAX_FAILURES_IN_A_ROW:
                    # A model that keeps failing only delays answers: switch to the knowledge base.
                    self.state = ModelState.FAILED
                    self.reason = f"the model failed {failures_in_a_row} replies in a row ({exc}); restart it to retry"
                    log.error("answering from the knowledge base only: %s", self.reason)
                    self._fail_waiting(self.reason)
                    return _STOP
            finally:
                self._busy.clear()

    def _generate(self, job: _Job) -> None:
        assert self.backend is not None
        backend = self.backend
        job_id = next(self._ids)
        started = time.monotonic()
        deadline = started + self.timeout_s
        backend.begin(job_id, job.messages, job.max_tokens, job.temperature)
        cancel_sent_at: float | None = None
        timed_out = False
        while True:
            now = time.monotonic()
            if cancel_sent_at is None and (job.cancelled.is_set() or now > deadline):
                timed_out = not job.cancelled.is_set()
                backend.cancel(job_id)
                cancel_sent_at = now
            if cancel_sent_at is not None and now - cancel_sent_at > HANG_GRACE_S:
                backend.kill()
                raise BackendCrashed(
                    f"the model stopped responding (no reply {HANG_GRACE_S:g} s after it was asked to stop); restarted"
                )
            # Short waits: a customer's cancel or the deadline is noticed within 50 ms.
            event = backend.next_event(0.05)
            if event is None:
                continue
            kind, payload = event
            if kind == "token":
                if cancel_sent_at is None:
                    self._send(job, "token", payload)
            elif kind == "error":
                raise ModelError(f"generation failed: {payload}")
            elif kind == "done":
                break
        if timed_out:
            self.counters["timed_out"] += 1
            self._send(job, "error", ModelTimeout(f"no complete reply within {self.timeout_s:g} s"))
            return
        cancelled = payload.get("stopped") == "cancelled" or job.cancelled.is_set()
        self.counters["cancelled" if cancelled else "completed"] += 1
        self._send(job, "done", {**payload, "queued_s": round(started - job.submitted, 4)})

    # -- crashes and restarts --------------------------------------------------------------------
    def _crashed(self, exc: BaseException) -> None:
        now = time.monotonic()
        self.counters["crashed"] += 1
        self._crashes.append(now)
        while self._crashes and now - self._crashes[0] > CRASH_WINDOW_S:
            self._crashes.popleft()
        signal_name = getattr(exc, "signal_name", None)
        self.last_crash = {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "reason": str(exc),
            "signal": signal_name,
        }
        log.error("the model crashed: %s", exc)
        remote = self.backend is not None and self.backend.kind != "local"
        if remote:
            self._schedule_retry(self._remote_backoff(), str(exc))
        elif len(self._crashes) >= MAX_CRASHES:
            self.state, self.retry_at = ModelState.FAILED, None
            hint = (
                " The llama.cpp build does not suit this CPU: run ./install.sh again (it builds for any "
                "x86-64 CPU with AVX2), then restart the model."
                if signal_name == "SIGILL"
                else ""
            )
            self.reason = (
                f"the model crashed {len(self._crashes)} times in {CRASH_WINDOW_S / 60:g} minutes "
                f"(last: {exc}); it stays off until you restart it.{hint}"
            )
            log.error("answering from the knowledge base only: %s", self.reason)
        else:
            delay = BACKOFF_S[min(len(self._crashes) - 1, len(BACKOFF_S) - 1)]
            self._schedule_retry(delay, f"{exc}; restarting")
        self._fail_waiting(self.reason or str(exc))

    def _schedule_retry(self, delay: float, reason: str) -> None:
        self.state = ModelState.RESTARTING
        self.reason = f"{reason} (next try in {delay:g} s)"
        self.retry_at = time.monotonic() + delay

    def _remote_backoff(self) -> float:
        tries = self.counters["restarts"] + 1
        return min(REMOTE_RETRY_MAX_S, 2.0 ** min(tries, 6))

    def _wait_to_retry(self) -> bool:
        """Sleep until the scheduled retry (False: closing, or failed for good)."""
        if self.state is not ModelState.RESTARTING or self.retry_at is None:
            return False
        while not self._closing.is_set():
            remaining = self.retry_at - time.monotonic()
            if remaining <= 0:
                self.counters["restarts"] += 1
                return True
            try:
                job = self._queue.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            if job is _STOP:
                return False
            self._send(job, "error", ModelUnavailable(self.reason or "the model is restarting"))
        return False

    def _fail_waiting(self, reason: str, *, keep_stop: bool = True) -> None:
        """Answer every waiting job with ModelUnavailable (its customer gets the owner's text)."""
        saw_stop = False
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is _STOP:
                saw_stop = True
            else:
                self._send(job, "error", ModelUnavailable(reason))
        if saw_stop and keep_stop:
            self._queue.put_nowait(_STOP)  # the dispatcher still has to see it

    @staticmethod
    def _send(job: _Job, kind: str, payload: Any) -> None:
        try:
            job.loop.call_soon_threadsafe(job.out.put_nowait, (kind, payload))
        except RuntimeError:
            job.cancelled.set()  # the event loop is gone: nobody is listening


def build_runtime(settings: Any) -> ModelRuntime:
    """The model runtime the settings ask for: a model server (``model_url``), a local GGUF file in
    its own process, or none. A model file that can't be found means knowledge-base-only mode."""
    from appliance.llm import files as model_files

    kwargs: dict[str, Any] = dict(
        n_ctx=settings.n_ctx,
        n_threads=settings.n_threads,
        n_threads_batch=settings.n_threads_batch,
        nice=settings.model_nice,
        queue_size=settings.model_queue_size,
        timeout_s=settings.model_timeout_s,
        max_tokens=settings.max_reply_tokens,
    )
    if settings.model_url:
        from appliance.llm.openai import OpenAIServer

        server = OpenAIServer(
            settings.model_url,
            api_key=settings.model_api_key,
            model=settings.model_server_model,
            timeout_s=settings.model_timeout_s,
        )
        return ModelRuntime(server, **kwargs)
    try:
        path = model_files.resolve(settings.model, settings.models_dirs)
    except model_files.ModelFileError as exc:
        log.error("model not loaded, answering from the knowledge base only: %s", exc)
        return ModelRuntime(None, missing_reason=str(exc), **kwargs)
    if path is None:
        log.info("no model configured: answering from the knowledge base only")
        return ModelRuntime(None, not_configured_reason="no model configured (model = none)", **kwargs)
    return ModelRuntime(path, **kwargs)


def _file_id(path: Path) -> tuple[int, ...]:
    st = path.stat()  # through a symlink: the file itself
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
