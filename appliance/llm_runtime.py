"""The local language model, owned by one worker thread.

A ``llama_cpp.Llama`` object is not thread-safe, so exactly one thread ever touches it: the worker
started here. Requests queue up in a small bounded queue; when it is full the caller is told at
once (``ModelBusy``) and can answer from the knowledge base instead of making the customer wait.
Tokens travel back to the event loop with ``call_soon_threadsafe``; a cancel flag and a deadline
are checked between tokens, so a customer who leaves frees the model within one token.

States (shown in /healthz and ``appliance check``):

    none     no model configured: the appliance answers from the knowledge base only
    loading  reading the file and warming up
    ready    serving
    failed   the file is missing, corrupt or unloadable (``reason`` says which); knowledge-base only
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, AsyncIterator, Callable

from . import model_files

log = logging.getLogger(__name__)


class ModelState(str, Enum):
    NONE = "none"
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"


class ModelError(RuntimeError):
    """Base class: the model could not produce a reply; answer without it."""


class ModelUnavailable(ModelError):
    """No model is loaded (none configured, still loading, or failed)."""


class ModelBusy(ModelError):
    """The queue is full. ``position`` is how many jobs are already waiting."""

    def __init__(self, position: int):
        super().__init__(f"the model is busy ({position} replies waiting)")
        self.position = position


class ModelTimeout(ModelError):
    """The reply took longer than the configured limit."""


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

LlamaFactory = Callable[..., Any]


def _default_factory(**kwargs: Any) -> Any:
    from llama_cpp import Llama  # imported here: importing llama_cpp loads the native library

    return Llama(**kwargs)


class ModelRuntime:
    """One model, one thread, one bounded queue."""

    def __init__(
        self,
        path: Path | None,
        *,
        n_ctx: int = 2048,
        n_threads: int = 0,
        n_threads_batch: int = 0,
        queue_size: int = 4,
        timeout_s: float = 30.0,
        max_tokens: int = 200,
        not_configured_reason: str | None = None,
        missing_reason: str | None = None,
        llama_factory: LlamaFactory = _default_factory,
    ):
        cores = os.cpu_count() or 1
        self.path = path
        self.n_ctx = n_ctx
        # Generation leaves one core free: llama.cpp's OpenMP threads spin while waiting, and a
        # spinning thread on every core starves the event loop (measured on 2 cores: 174 tokens/s
        # bare, but 103 through the runtime with 2 threads, against 150 with 1). Reading the
        # prompt is one burst before the first token, so it gets every core.
        self.n_threads = n_threads or max(1, cores - 1)
        self.n_threads_batch = n_threads_batch or cores
        self.timeout_s = timeout_s
        self.max_tokens = max_tokens
        self._factory = llama_factory
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, queue_size))
        self._thread: threading.Thread | None = None
        self._settled = threading.Event()
        self._busy = threading.Event()
        self._llama: Any = None
        self._file_id: tuple[int, ...] | None = None
        self.load_seconds: float | None = None
        # Lifetime counters, for /healthz and the load test.
        self.counters = {"completed": 0, "cancelled": 0, "timed_out": 0, "refused_busy": 0, "failed": 0}
        if path is None:
            # A model asked for but not found is a failure; no model asked for is a choice.
            self.state = ModelState.FAILED if missing_reason else ModelState.NONE
            self.reason = missing_reason or not_configured_reason or "no model configured"
            self._settled.set()
        else:
            self.state = ModelState.LOADING
            self.reason = None

    # -- lifecycle -------------------------------------------------------------------------------
    @property
    def model_name(self) -> str | None:
        return self.path.name if self.path else None

    def start(self) -> "ModelRuntime":
        if self.path is None or self._thread is not None:
            return self
        self._thread = threading.Thread(target=self._run, name="model-worker", daemon=True)
        self._thread.start()
        return self

    def wait_settled(self, timeout: float | None = None) -> bool:
        """Block until loading has finished one way or the other."""
        return self._settled.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
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

    def status(self) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "model": self.model_name,
            "reason": self.reason,
            "queue_length": self._queue.qsize(),
            "queue_size": self._queue.maxsize,
            "busy": self._busy.is_set(),
            "n_ctx": self.n_ctx,
            "n_threads": self.n_threads,
            "n_threads_batch": self.n_threads_batch,
            "load_seconds": self.load_seconds,
            "file": self.file_state(),
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

        Raises ModelUnavailable, ModelBusy (at once, before any token) or ModelTimeout. Use it as
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

    # -- the worker thread -----------------------------------------------------------------------
    def _run(self) -> None:
        if not self._load():
            return
        failures_in_a_row = 0
        while True:
            job = self._queue.get()
            if job is _STOP:
                break
            if job.cancelled.is_set():
                self.counters["cancelled"] += 1
                continue
            self._busy.set()
            try:
                self._generate(job)
                failures_in_a_row = 0
            except Exception as exc:  # a model error must never kill the worker
                self.counters["failed"] += 1
                failures_in_a_row += 1
                log.exception("model generation failed")
                self._send(job, "error", ModelError(f"generation failed: {exc}"))
                if failures_in_a_row >= MAX_FAILURES_IN_A_ROW:
                    # A model that keeps failing only delays answers: switch to the knowledge base.
                    self.state = ModelState.FAILED
                    self.reason = f"the model failed {failures_in_a_row} replies in a row ({exc}); restart to retry"
                    log.error("answering from the knowledge base only: %s", self.reason)
                    self._fail_waiting(self.reason)
                    break
            finally:
                self._busy.clear()
        self._llama = None

    def _load(self) -> bool:
        assert self.path is not None
        started = time.monotonic()
        try:
            model_files.check_header(self.path)
            known = model_files.verify_known(self.path)
            if known is False:
                raise model_files.ModelFileError(
                    f"{self.path.name} does not match its known SHA-256: the file is damaged; "
                    "reinstall it with ./install.sh"
                )
            self._file_id = _file_id(self.path)
            self._llama = self._factory(
                model_path=str(self.path),
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                n_threads_batch=self.n_threads_batch,
                # Read the weights into memory instead of mapping the file: with a mapping, a
                # model file truncated or replaced while running killed the whole appliance with
                # SIGBUS at the next reply (tests/test_faults.py). Resident memory is the same.
                use_mmap=False,
                verbose=False,
            )
            # Warm-up: the first evaluation pays for allocating buffers; let no customer pay it.
            self._llama.create_chat_completion(
                messages=[{"role": "user", "content": "Hello"}], max_tokens=1, temperature=0.0
            )
        except Exception as exc:
            self._llama = None
            self._file_id = None
            self.state = ModelState.FAILED
            self.reason = _describe_load_error(self.path, exc)
            log.error("model not loaded, answering from the knowledge base only: %s", self.reason)
            self._settled.set()
            self._fail_waiting(self.reason)
            return False
        self.load_seconds = round(time.monotonic() - started, 3)
        self.state = ModelState.READY
        log.info("model %s ready in %.1f s", self.path.name, self.load_seconds)
        self._settled.set()
        return True

    def _fail_waiting(self, reason: str) -> None:
        """Answer every waiting job with ModelUnavailable (its customer gets the owner's text)."""
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                return
            if job is not _STOP:
                self._send(job, "error", ModelUnavailable(reason))

    def _generate(self, job: _Job) -> None:
        started = time.monotonic()
        deadline = started + self.timeout_s
        first_token_at = None
        n_pieces = 0
        stopped = "stop"
        chunks = self._llama.create_chat_completion(
            messages=job.messages,
            max_tokens=job.max_tokens,
            temperature=job.temperature,
            stream=True,
        )
        try:
            for chunk in chunks:
                if job.cancelled.is_set():
                    stopped = "cancelled"
                    break
                if time.monotonic() > deadline:
                    stopped = "timeout"
                    break
                choice = chunk["choices"][0]
                text = choice.get("delta", {}).get("content")
                if text:
                    if first_token_at is None:
                        first_token_at = time.monotonic()
                    n_pieces += 1
                    self._send(job, "token", text)
                if choice.get("finish_reason"):
                    stopped = choice["finish_reason"]
        finally:
            chunks.close()
        if stopped == "timeout":
            self.counters["timed_out"] += 1
            self._send(job, "error", ModelTimeout(f"no complete reply within {self.timeout_s:g} s"))
            return
        self.counters["cancelled" if stopped == "cancelled" else "completed"] += 1
        ended = time.monotonic()
        self._send(job, "done", {
            "stopped": stopped,
            "pieces": n_pieces,
            "queued_s": round(started - job.submitted, 4),
            "first_token_s": round(first_token_at - started, 4) if first_token_at else None,
            "total_s": round(ended - started, 4),
        })

    @staticmethod
    def _send(job: _Job, kind: str, payload: Any) -> None:
        try:
            job.loop.call_soon_threadsafe(job.out.put_nowait, (kind, payload))
        except RuntimeError:
            job.cancelled.set()  # the event loop is gone: nobody is listening


def _file_id(path: Path) -> tuple[int, ...]:
    st = path.stat()  # through a symlink: the file itself
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _describe_load_error(path: Path, exc: Exception) -> str:
    if isinstance(exc, model_files.ModelFileError):
        return str(exc)
    if isinstance(exc, ImportError):
        return f"llama-cpp-python is not installed ({exc}); run ./install.sh"
    return f"llama.cpp could not load {path.name}: {exc}"


def system_info() -> str | None:
    """llama.cpp's CPU feature line (AVX2 etc.), or None if llama-cpp-python isn't importable."""
    try:
        import llama_cpp
    except ImportError:
        return None
    info = llama_cpp.llama_print_system_info()
    return info.decode("utf-8", "replace") if isinstance(info, bytes) else str(info)
