"""Logging to stderr and to a rotating file in the data directory."""

from __future__ import annotations

import logging
import logging.handlers

from .privacy import MaskingFilter
from .settings import Settings

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


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
        settings.logs_dir / "appliance.log", maxBytes=5 * 1024 * 1024, backupCount=5, encoding="utf-8"
    )
    stream_handler = logging.StreamHandler()
    for handler in (file_handler, stream_handler):
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(MaskingFilter())  # no customer's e-mail, phone or card number in logs
        root.addHandler(handler)
        _ours.append(handler)
