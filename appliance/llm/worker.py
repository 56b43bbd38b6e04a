"""The model's own process: one ``llama_cpp.Llama``, driven over a pipe by ``llm_process``.

This is the only module that imports ``llama_cpp``. It runs as ``python -m appliance.llm.worker``,
so a native crash in llama.cpp (an illegal instruction on a CPU it was not built for, a segfault,
the kernel's OOM killer) ends this process, never the web process that serves the widget, the
inbox and the admin (docs/ARCHITECTURE.md, "The model").

Protocol: one JSON object per line. The parent writes commands on our stdin::

    {"op": "generate", "id": 7, "messages": [...], "max_tokens": 200, "temperature": 0.2}
    {"op": "cancel", "id": 7}

and reads events from the pipe whose descriptor it passed in ``--events-fd``::

    {"ev": "ready", "load_seconds": 1.2, "system_info": "AVX2 = 1 | ..."}
    {"ev": "failed", "reason": "..."}          loading failed; the process then exits
    {"ev": "token", "id": 7, "text": "..."}
    {"ev": "done", "id": 7, "stopped": "stop", "pieces": 12, "first_token_s": 0.1, "total_s": 0.4}
    {"ev": "error", "id": 7, "message": "..."}

Our stdout is pointed at stderr before llama.cpp is loaded, so nothing it prints can corrupt the
event stream; stderr goes to the parent's log. End of stdin (the parent is gone) ends the process.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from appliance.child_process import lower_priority

# CPU features llama.cpp's portable build needs (install.sh builds the haswell baseline).
REQUIRED_CPU_FLAGS = ("avx2", "fma", "f16c")
TOKEN_BATCH_S = 0.05


def cpu_flags(cpuinfo: str | None = None) -> set[str] | None:
    """The feature flags the CPU advertises (Linux), or None where they can't be read."""
    if cpuinfo is None:
        try:
            # APPLIANCE_CPUINFO: another file in /proc/cpuinfo's format (the tests play an old CPU).
            cpuinfo = Path(os.environ.get("APPLIANCE_CPUINFO", "/proc/cpuinfo")).read_text(errors="replace")
        except OSError:
            return None
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return None


def missing_cpu_flags(cpuinfo: str | None = None) -> list[str]:
    """The features this x86-64 CPU lacks for our llama.cpp build (empty: it can run it)."""
    import platform

    if platform.machine().lower() not in {"x86_64", "amd64"}:
        return []
    flags = cpu_flags(cpuinfo)
    if flags is None:
        return []  # not Linux, or no /proc: let llama.cpp try
    return [f for f in REQUIRED_CPU_FLAGS if f not in flags]


class Worker:
    def __init__(self, events: Any, args: argparse.Namespace):
        self.events = events
        self.args = args
        self.llama: Any = None
        self._write_lock = threading.Lock()
        self._cancelled: set[int] = set()
        self._jobs: list[dict[str, Any]] = []
        self._wake = threading.Condition()

    def emit(self, **event: Any) -> None:
        line = json.dumps(event, ensure_ascii=False) + "\n"
        with self._write_lock:
            self.events.write(line)
            self.events.flush()

    # -- commands from the parent, read on their own thread so a cancel arrives mid-reply ----------
    def read_commands(self) -> None:
        for line in sys.stdin:
            try:
                cmd = json.loads(line)
            except ValueError:
                continue
            op = cmd.get("op")
            with self._wake:
                if op == "cancel":
                    self._cancelled.add(cmd.get("id"))
                elif op == "generate":
                    self._jobs.append(cmd)
                self._wake.notify()
        os._exit(0)  # stdin closed: the parent is gone (or wants us gone); stop mid-token if need be

    def next_job(self) -> dict[str, Any]:
        with self._wake:
            while not self._jobs:
                self._wake.wait()
            return self._jobs.pop(0)

    # -- the model -------------------------------------------------------------------------------
    def load(self) -> None:
        from appliance.llm import files as model_files

        path = Path(self.args.model)
        started = time.monotonic()
        missing = missing_cpu_flags()
        if missing:
            raise RuntimeError(
                f"this CPU lacks {', '.join(m.upper() for m in missing)}, which the model runtime needs "
                "(any x86-64 server CPU since 2013 has them): answering from the knowledge base only; "
                "a model server elsewhere can be used instead (model_url)"
            )
        model_files.check_header(path)
        if model_files.verify_known(path) is False:
            raise model_files.ModelFileError(
                f"{path.name} does not match its known SHA-256: the file is damaged; reinstall it with ./install.sh"
            )
        from llama_cpp import Llama, llama_print_system_info  # loads the native library: only here

        self.llama = Llama(
            model_path=str(path),
            n_ctx=self.args.n_ctx,
            n_threads=self.args.threads,
            n_threads_batch=self.args.threads_batch,
            # Read the weights into memory instead of mapping the file: with a mapping, a model file
            # truncated or replaced while running killed the process with SIGBUS at the next reply.
            use_mmap=False,
            verbose=False,
        )
        # Warm-up: the first evaluation pays for allocating buffers; let no customer pay it.
        self.llama.create_chat_completion(
            messages=[{"role": "user", "content": "Hello"}], max_tokens=1, temperature=0.0
        )
        info = llama_print_system_info()
        self.emit(
            ev="ready",
            load_seconds=round(time.monotonic() - started, 3),
            system_info=info.decode("utf-8", "replace") if isinstance(info, bytes) else str(info),
            pid=os.getpid(),
        )

    def generate(self, job: dict[str, Any]) -> None:
        job_id = job["id"]
        started = time.monotonic()
        first_token_at = None
        pieces = 0
        stopped = "stop"
        chunks = self.llama.create_chat_completion(
            messages=job["messages"], max_tokens=job["max_tokens"], temperature=job["temperature"], stream=True
        )
        # Tokens go out in small batches (the first at once): each event wakes three threads and
        # the event loop of the web process, and at 100 tokens a second that was felt there.
        pending: list[str] = []
        sent_at = 0.0
        try:
            for chunk in chunks:
                if job_id in self._cancelled:
                    stopped = "cancelled"
                    break
                choice = chunk["choices"][0]
                text = choice.get("delta", {}).get("content")
                if text:
                    now = time.monotonic()
                    if first_token_at is None:
                        first_token_at = now
                    pieces += 1
                    pending.append(text)
                    if now - sent_at >= TOKEN_BATCH_S:
                        self.emit(ev="token", id=job_id, text="".join(pending))
                        pending, sent_at = [], now
                if choice.get("finish_reason"):
                    stopped = choice["finish_reason"]
        finally:
            chunks.close()
        if pending:
            self.emit(ev="token", id=job_id, text="".join(pending))
        self.emit(
            ev="done",
            id=job_id,
            stopped=stopped,
            pieces=pieces,
            first_token_s=round(first_token_at - started, 4) if first_token_at else None,
            total_s=round(time.monotonic() - started, 4),
        )

    def serve(self) -> None:
        while True:
            job = self.next_job()
            with self._wake:
                if job["id"] in self._cancelled:
                    self._cancelled.discard(job["id"])
                    self.emit(ev="done", id=job["id"], stopped="cancelled", pieces=0, first_token_s=None, total_s=0.0)
                    continue
            try:
                self.generate(job)
            except Exception as exc:  # a failed reply is the parent's to count; the process lives on
                self.emit(ev="error", id=job["id"], message=f"{type(exc).__name__}: {exc}")
            finally:
                self._cancelled.discard(job["id"])


def _lower_our_priority(nice: int) -> None:
    """Customers' decisions come first: the model only gets the CPU the web process leaves, and if
    memory runs out the kernel ends this process, not the one serving the shop."""
    lower_priority(nice)
    try:
        Path("/proc/self/oom_score_adj").write_text("1000")
    except OSError:
        pass
    try:  # die with the parent even if it is killed outright (Linux only)
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="appliance.llm.worker")
    parser.add_argument("--model", required=True)
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--threads-batch", type=int, default=1)
    parser.add_argument("--nice", type=int, default=0)
    parser.add_argument("--events-fd", type=int, required=True)
    args = parser.parse_args(argv)
    events = os.fdopen(args.events_fd, "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)  # anything written to stdout (by us or llama.cpp) lands in the log, not the events
    sys.stdout = sys.stderr
    _lower_our_priority(args.nice)
    worker = Worker(events, args)
    threading.Thread(target=worker.read_commands, name="commands", daemon=True).start()
    try:
        worker.load()
    except Exception as exc:
        worker.emit(ev="failed", reason=_describe_load_error(Path(args.model), exc))
        events.close()
        os._exit(3)
    worker.serve()


def _describe_load_error(path: Path, exc: Exception) -> str:
    from appliance.llm.files import ModelFileError

    if isinstance(exc, ModelFileError) or isinstance(exc, RuntimeError) and "CPU lacks" in str(exc):
        return str(exc)
    if isinstance(exc, ImportError):
        return f"llama-cpp-python is not installed ({exc}); run ./install.sh"
    return f"llama.cpp could not load {path.name}: {exc}"


if __name__ == "__main__":
    main()
