"""Logging to stderr and to a rotating file in the data directory.

Nobody outside should be able to flush the log's history: the file keeps 10 x 10 MB, a line is
cut at ``MAX_LINE_CHARS``, and a kind of line (one logger, one message template) is written at
most ``PER_MINUTE`` times a minute, then once more to say the rest of that minute is left out.
"""

from __future__ import annotations

import logging
import logging.handlers
import threading
import time
from collections.abc import Callable

from appliance.conversations.privacy import MaskingFilter
from appliance.settings import Settings

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


MAX_LINE_CHARS = 2000
PER_MINUTE = 20


class FloodFilter(logging.Filter):
    """At most PER_MINUTE records of one kind a minute (a flood of bad requests, a loop gone
    wrong); errors with a traceback always pass (each may be the one that matters)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._clock = clock
        self._lock = threading.Lock()
        self._minute = -1
        self._seen: dict[tuple[str, str], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info:
            return True
        minute = int(self._clock() // 60)
        key = (record.name, str(record.msg))
        with self._lock:
            if minute != self._minute:
                self._minute, self._seen = minute, {}
            if len(self._seen) > 10_000:
                self._seen.clear()
            n = self._seen[key] = self._seen.get(key, 0) + 1
        if n == PER_MINUTE + 1:
            record.msg, record.args = f"{_cut(record.getMessage())} (more lines like this left out this minute)", None
            return True
        return n <= PER_MINUTE


class CutFilter(logging.Filter):
    """A message longer than MAX_LINE_CHARS is cut (a traceback is kept whole, apart)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if len(message) > MAX_LINE_CHARS:
            record.msg, record.args = _cut(message), None
        return True


def _cut(text: str) -> str:
    return text if len(text) <= MAX_LINE_CHARS else text[:MAX_LINE_CHARS] + f"... [{len(text)} characters]"


_ours: list[logging.Handler] = []


def configure(settings: Settings) -> None:
    settings.logs_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    level = getattr(logging, settings.log_level.upper(), logging.INFO)
    root = logging.getLogger()
    root.setLevel(level)
    for handler in _ours:  # configured again (tests, a restart in-process): replaced, not added to
        root.removeHandler(handler)
    _ours.clear()
    file_handler = logging.handlers.RotatingFileHandler(
        settings.logs_dir / "appliance.log", maxBytes=10 * 1024 * 1024, backupCount=10, encoding="utf-8"
    )
    stream_handler = logging.StreamHandler()
    for handler in (file_handler, stream_handler):
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(FloodFilter())
        handler.addFilter(CutFilter())
        handler.addFilter(MaskingFilter())  # no customer's e-mail, phone or card number in logs
        root.addHandler(handler)
        _ours.append(handler)
