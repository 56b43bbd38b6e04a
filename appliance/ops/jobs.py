"""Long work the owner started from the admin (a document's import, a catalog's), run in a thread
of its own so it neither holds the event loop nor ends when the owner leaves the page.

A job says what it is doing (``stage``) and how far it is (``done`` of ``total``), which the
admin's status fragment polls; it ends with its ``result`` (the summary) or its ``error`` (the
reason, shown in the owner's language). One job per ``(kind, key)`` runs at a time: a second
start of the same document or catalog is refused and the running one is returned. The registry
keeps the running jobs and the last few finished ones, nothing more, so its memory is bounded.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from appliance import i18n

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
KEEP_FINISHED = 20  # finished jobs kept for their summaries (the newest ones)
MAX_RUNNING = 4  # the machine has few cores: more imports at once would only be slower


class Busy(Exception):
    """Too many jobs already running: try again once one has finished."""


@dataclass(eq=False)
class Job:
    """One piece of long work. Its fields are written by its thread and read by the pages; each
    is replaced whole (never mutated in place), so a reader always sees a consistent value."""

    id: str
    kind: str
    key: str
    title: str
    started_at: str
    state: str = QUEUED
    stage: str = ""  # what it is doing now, a key the page shows in words
    done: int = 0
    total: int = 0
    result: Any = None
    error: BaseException | None = None
    finished_at: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # what the page needs to offer "try again"

    @property
    def running(self) -> bool:
        return self.state in (QUEUED, RUNNING)

    @property
    def percent(self) -> int:
        if self.state == DONE:
            return 100
        return int(100 * self.done / self.total) if self.total else 0

    def reason(self, lang: str) -> str:
        """Why it failed, in the owner's language: the error's own words when it has a key (a
        row of the file, a page that can't be read), else that something went wrong on our side."""
        if self.error is None:
            return ""
        if getattr(self.error, "key", ""):
            return i18n.refusal(lang, self.error)
        return i18n.t(lang, "import.unexpected")

    def step(self, stage: str, done: int = 0, total: int = 0) -> None:
        """Called by the work as it goes (from its thread)."""
        self.stage, self.done, self.total = stage, done, total


class Jobs:
    """The running and recently finished jobs, by id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._threads: dict[str, threading.Thread] = {}

    def start(
        self,
        kind: str,
        key: str,
        title: str,
        work: Callable[[Job], Any],
        *,
        now: Callable[[], str],
        extra: dict[str, Any] | None = None,
    ) -> tuple[Job, bool]:
        """Start ``work(job)`` in a thread of its own; ``(job, True)``. When a job of the same kind
        and key is still running, nothing starts: ``(that job, False)``. Busy when too many run."""
        with self._lock:
            for job in self._jobs.values():
                if job.running and job.kind == kind and job.key == key:
                    return job, False
            if sum(j.running for j in self._jobs.values()) >= MAX_RUNNING:
                raise Busy()
            job = Job(secrets.token_urlsafe(9), kind, key, title, now(), extra=extra or {})
            self._jobs[job.id] = job
            self._forget_old()
            thread = threading.Thread(target=self._run, args=(job, work, now), name=f"job-{kind}", daemon=True)
            self._threads[job.id] = thread
        thread.start()
        return job, True

    def _run(self, job: Job, work: Callable[[Job], Any], now: Callable[[], str]) -> None:
        job.state = RUNNING
        try:
            job.result = work(job)
            job.state = DONE
        except Exception as exc:  # the reason is shown to the owner; nothing was half-written
            log.warning("%s import of %r failed: %s", job.kind, job.key, exc, exc_info=not hasattr(exc, "key"))
            job.error = exc
            job.state = FAILED
        finally:
            job.finished_at = now()
            with self._lock:
                self._threads.pop(job.id, None)

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if not j.running]
        finished.sort(key=lambda j: j.finished_at)
        for job in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self._jobs[job.id]

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def of_kind(self, kind: str) -> list[Job]:
        """This kind's jobs, the newest first."""
        with self._lock:
            jobs = [j for j in self._jobs.values() if j.kind == kind]
        return sorted(jobs, key=lambda j: j.started_at, reverse=True)

    def running(self, kind: str, key: str | None = None) -> Job | None:
        """The running job of this kind (and key), if any."""
        return next((j for j in self.of_kind(kind) if j.running and (key is None or j.key == key)), None)

    def wait(self, timeout: float = 30.0) -> None:
        """Until every running job has finished (tests; the app's shutdown), at most ``timeout``."""
        with self._lock:
            threads = list(self._threads.values())
        for thread in threads:
            thread.join(timeout)
