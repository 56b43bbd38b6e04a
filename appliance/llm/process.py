"""The local model in its own process (``appliance.llm.worker``), seen from the web process.

The web process never imports ``llama_cpp``: a native crash costs the reply in flight, and the
runtime restarts the process. Two threads per process read its event pipe and its stderr (into
the log); the runtime's dispatcher thread waits on their queue with a deadline, so a hung
process is noticed and killed.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from appliance.child_process import child_env
from appliance.llm.backend import BackendCrashed, BackendStartFailed, Event, describe_signal

log = logging.getLogger("appliance.model")

_EXITED = object()


class LocalProcess:
    kind = "local"

    def __init__(
        self,
        path: Path,
        *,
        n_ctx: int,
        n_threads: int,
        n_threads_batch: int,
        nice: int = 19,
        load_timeout_s: float = 180.0,
        python: str | None = None,
    ):
        self.path = path
        self.label = path.name
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.n_threads_batch = n_threads_batch
        self.nice = nice
        self.load_timeout_s = load_timeout_s
        self.python = python or sys.executable
        self._proc: subprocess.Popen | None = None
        self._events: queue.Queue = queue.Queue()
        self._write_lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> dict[str, Any]:
        self.stop()
        read_fd, write_fd = os.pipe()
        cmd = [
            self.python,
            "-m",
            "appliance.llm.worker",
            "--model",
            str(self.path),
            "--n-ctx",
            str(self.n_ctx),
            "--threads",
            str(self.n_threads),
            "--threads-batch",
            str(self.n_threads_batch),
            "--nice",
            str(self.nice),
            "--events-fd",
            str(write_fd),
        ]
        try:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                pass_fds=(write_fd,),
                env=child_env(),
                start_new_session=True,
            )
        finally:
            os.close(write_fd)
        self._events = queue.Queue()
        proc, events = self._proc, self._events
        threading.Thread(
            target=self._read_events, args=(proc, os.fdopen(read_fd, "rb"), events), name="model-events", daemon=True
        ).start()
        threading.Thread(target=self._read_stderr, args=(proc,), name="model-stderr", daemon=True).start()
        deadline = time.monotonic() + self.load_timeout_s
        while True:
            try:
                item = events.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.kill()
                raise BackendCrashed(f"the model did not load within {self.load_timeout_s:g} s") from None
            if item is _EXITED:
                raise self._crash("while loading")
            if item.get("ev") == "ready":
                return {"load_seconds": item.get("load_seconds"), "system_info": item.get("system_info")}
            if item.get("ev") == "failed":
                self._wait_exit(5)
                raise BackendStartFailed(item.get("reason") or "the model could not be loaded")

    def stop(self) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            try:
                if proc.stdin is not None:
                    proc.stdin.close()  # the worker exits when its command pipe closes
            except OSError:
                pass
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self._proc = None

    def check(self) -> None:
        if self._proc is not None and self._proc.poll() is not None:
            raise self._crash("while idle")

    def kill(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(5)

    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    # -- one reply ---------------------------------------------------------------------------------
    def begin(self, job_id: int, messages: list[dict[str, str]], max_tokens: int, temperature: float) -> None:
        self._send(
            {"op": "generate", "id": job_id, "messages": messages, "max_tokens": max_tokens, "temperature": temperature}
        )

    def cancel(self, job_id: int) -> None:
        try:
            self._send({"op": "cancel", "id": job_id})
        except BackendCrashed:
            pass  # gone already: next_event says so

    def next_event(self, timeout: float) -> Event | None:
        try:
            item = self._events.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None
        if item is _EXITED:
            raise self._crash("while writing a reply")
        ev = item.get("ev")
        if ev == "token":
            return ("token", item.get("text", ""))
        if ev == "done":
            return ("done", {k: v for k, v in item.items() if k not in {"ev", "id"}})
        if ev == "error":
            return ("error", item.get("message", "generation failed"))
        return self.next_event(timeout)  # an event of a future protocol: skip it

    # -- plumbing ----------------------------------------------------------------------------------
    def _send(self, command: dict[str, Any]) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            raise self._crash("before the reply started")
        data = (json.dumps(command, ensure_ascii=False) + "\n").encode("utf-8")
        assert proc.stdin is not None  # started with stdin=PIPE
        with self._write_lock:
            try:
                proc.stdin.write(data)
                proc.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                raise self._crash("before the reply started") from None

    def _crash(self, when: str) -> BackendCrashed:
        returncode = self._wait_exit(5)
        name, description = describe_signal(returncode)
        what = f"{description} ({name})" if name else description
        return BackendCrashed(f"the model process died {when}: {what}", signal_name=name)

    def _wait_exit(self, timeout: float) -> int | None:
        proc = self._proc
        if proc is None:
            return None
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait(5)

    @staticmethod
    def _read_events(proc: subprocess.Popen, pipe: IO[bytes], events: queue.Queue) -> None:
        with pipe:
            for raw in pipe:
                try:
                    events.put(json.loads(raw))
                except ValueError:
                    log.warning("model process sent a line that is not an event: %r", raw[:200])
        events.put(_EXITED)

    @staticmethod
    def _read_stderr(proc: subprocess.Popen) -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                log.info("[model pid %d] %s", proc.pid, line[:2000])
