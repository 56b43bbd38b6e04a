"""Scheduled jobs, inside the one appliance process (one scheduler: jobs never run twice).

Jobs run in the scheduler's worker threads, never on the event loop. A job that was missed
because the machine was off runs once at the next start (``coalesce`` + a grace time).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from . import digest
from .db import Store
from .settings import Settings

log = logging.getLogger(__name__)
MISFIRE_GRACE_S = 12 * 3600


def parse_time(value: str) -> tuple[int, int]:
    hour, _, minute = value.partition(":")
    h, m = int(hour), int(minute or 0)
    if not (0 <= h < 24 and 0 <= m < 60):
        raise ValueError(f"not a time of day: {value!r}")
    return h, m


def build(settings: Settings, store: Store, clock: Callable[[], datetime]) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(job_defaults={"coalesce": True, "max_instances": 1,
                                                  "misfire_grace_time": MISFIRE_GRACE_S})
    try:
        hour, minute = parse_time(settings.digest_time)
    except ValueError:
        log.error("digest_time %r is not HH:MM; using 07:30", settings.digest_time)
        hour, minute = 7, 30

    def morning_digest() -> None:
        try:
            summary = digest.build(store, clock)
            log.info("morning digest: %s", summary)
        except Exception:  # logged, never silent; the next run tries again
            log.exception("morning digest failed")

    scheduler.add_job(morning_digest, CronTrigger(hour=hour, minute=minute), id="morning_digest",
                      replace_existing=True)
    return scheduler
