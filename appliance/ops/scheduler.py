"""Scheduled jobs, inside the one appliance process (one scheduler: jobs never run twice).

Jobs run in the scheduler's worker threads, never on the event loop. A job that was missed
because the machine was off runs once at the next start (``coalesce`` + a grace time).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from appliance.catalog import feed
from appliance.conversations import events, privacy
from appliance.db import Store, write_meta
from appliance.kb.entry import EntryError
from appliance.ops import backup, mailer, offsite
from appliance.orders import feed as orders_feed
from appliance.reports import digest
from appliance.settings import Settings

log = logging.getLogger(__name__)
MISFIRE_GRACE_S = 12 * 3600


def parse_time(value: str) -> tuple[int, int]:
    hour, _, minute = value.partition(":")
    h, m = int(hour), int(minute or 0)
    if not (0 <= h < 24 and 0 <= m < 60):
        raise ValueError(f"not a time of day: {value!r}")
    return h, m


def build(
    settings: Settings, store: Store, clock: Callable[[], datetime], current: Callable[[], Settings] | None = None
) -> BackgroundScheduler:
    """``current`` returns the settings in force when a job runs (the admin may have changed them);
    the times of day are read once, here."""
    current = current or (lambda: settings)
    scheduler = BackgroundScheduler(
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_S}
    )
    try:
        hour, minute = parse_time(settings.digest_time)
    except ValueError:
        log.error("digest_time %r is not HH:MM; using 07:30", settings.digest_time)
        hour, minute = 7, 30

    def morning_digest() -> None:
        try:
            summary = digest.build(store, clock)
            log.info("morning digest: %s", summary)
            now_settings = current()
            if now_settings.owner_email and mailer.configured(now_settings):
                mailer.enqueue(
                    store,
                    clock(),
                    to=now_settings.owner_email,
                    subject=digest.subject(now_settings),
                    body=digest.as_text(summary, now_settings),
                )
        except Exception:  # logged, never silent; the next run tries again
            log.exception("morning digest failed")

    scheduler.add_job(morning_digest, CronTrigger(hour=hour, minute=minute), id="morning_digest", replace_existing=True)

    def nightly_backup() -> None:
        now = clock()
        try:
            info = backup.nightly(settings.db_path, settings.backups_dir, now, current().backup_keep)
            _remember(store, "backup_last_ok", f"{now.isoformat()} {info.path.name} {info.size}")
            log.info("nightly backup: %s (%d bytes)", info.path.name, info.size)
            offsite.after_nightly(store, current(), info.path, now)  # never raises; noted for the page
        except Exception as exc:  # shown on the admin home page, never silent
            _remember(store, "backup_last_error", f"{now.isoformat()} {exc}")
            log.exception("nightly backup failed")

    try:
        b_hour, b_minute = parse_time(settings.backup_time)
    except ValueError:
        log.error("backup_time %r is not HH:MM; using 03:00", settings.backup_time)
        b_hour, b_minute = 3, 0
    scheduler.add_job(
        nightly_backup, CronTrigger(hour=b_hour, minute=b_minute), id="nightly_backup", replace_existing=True
    )

    def retention() -> None:
        try:
            days = current().retention_days
            removed = privacy.purge_old(store, clock(), days)
            if removed:
                log.info("retention: deleted %d conversations older than %d days", removed, days)
            # The channels, webhooks and alerts read events within minutes; a webhook retries a day.
            events.prune(store, clock())
        except Exception:
            log.exception("retention job failed")

    scheduler.add_job(
        retention, CronTrigger(hour=(b_hour + 1) % 24, minute=b_minute), id="retention", replace_existing=True
    )

    def send_mail() -> None:
        try:
            result = mailer.deliver_due(store, current(), clock)
            if result["failed"]:
                log.warning("e-mail: %d sent, %d failed (will retry)", result["sent"], result["failed"])
        except Exception:
            log.exception("e-mail job failed")

    scheduler.add_job(send_mail, "interval", seconds=60, id="send_mail", replace_existing=True)

    def catalog_feed() -> None:
        # Checked every half hour rather than scheduled every N hours: the owner may set or
        # change the feed in the admin at any time, and the next check follows it.
        now_settings = current()
        try:
            if feed.due(store, now_settings, clock()):
                n = feed.sync(store, now_settings, clock())
                log.info("product feed: %d products and variants", n)
        except EntryError:
            pass  # recorded in the catalog's import history, shown on the catalog page
        except Exception:
            log.exception("product feed failed")

    scheduler.add_job(catalog_feed, "interval", minutes=30, id="catalog_feed", replace_existing=True)

    def orders_sheet() -> None:
        # The owner's spreadsheet of orders at its address, checked like the product feed.
        now_settings = current()
        try:
            if orders_feed.due(store, now_settings, clock()):
                n = orders_feed.sync(store, now_settings, clock())
                log.info("orders sheet: %d orders", n)
        except EntryError:
            pass  # recorded in the orders' import history
        except Exception:
            log.exception("orders sheet failed")

    scheduler.add_job(orders_sheet, "interval", minutes=30, id="orders_sheet", replace_existing=True)
    # Off-site (ops/offsite.py): the repository checked weekly on Friday, a test restore on the
    # 1st of each month, two hours after the backup (a quiet hour; each does nothing unless set up).
    scheduler.add_job(
        lambda: offsite.weekly_check(store, current(), clock()),
        CronTrigger(day_of_week="fri", hour=(b_hour + 2) % 24, minute=b_minute),
        id="offsite_check",
        replace_existing=True,
    )
    scheduler.add_job(
        lambda: offsite.monthly_restore_test(store, current(), clock()),
        CronTrigger(day=1, hour=(b_hour + 2) % 24, minute=b_minute),
        id="offsite_restore_test",
        replace_existing=True,
    )
    # The machine was off at backup time: catch up soon after start.
    last = backup.last_backup(settings.backups_dir)
    if last is None or (clock().replace(tzinfo=None) - last.taken_at).total_seconds() > 26 * 3600:
        scheduler.add_job(
            nightly_backup,
            "date",
            run_date=datetime.now() + timedelta(seconds=60),
            id="catch_up_backup",
            replace_existing=True,
        )
    return scheduler


def _remember(store: Store, key: str, value: str) -> None:
    with store.write() as db:
        write_meta(db, key, value)


class ClockWatch:
    """Notices the system clock jumping (an NTP correction after a dead RTC battery, a hand-set
    clock) and puts the scheduler right.

    APScheduler keeps absolute wall-clock run times. After a jump back, an interval job's next run
    lies in the "future" by the size of the jump: e-mail to customers would stop for that long.
    After a jump forward, the scheduler sleeps on (its timer is monotonic) past jobs now due.
    Daily jobs are safe either way: their next run was fixed after they ran, so a jump back never
    runs a backup or a digest twice, and a jump forward runs a missed one once (``coalesce``).
    """

    def __init__(
        self,
        scheduler: BackgroundScheduler,
        *,
        threshold_s: float = 120,
        every_s: float = 15,
        wall: Callable[[], float] = time.time,
        mono: Callable[[], float] = time.monotonic,
    ):
        self.scheduler = scheduler
        self.threshold_s = threshold_s
        self.every_s = every_s
        self.wall, self.mono = wall, mono
        self._offset = wall() - mono()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.jumps: list[float] = []

    def check(self) -> float | None:
        """The jump since the last check, in seconds (+ forward, - back), if it was one."""
        offset = self.wall() - self.mono()
        jump, self._offset = offset - self._offset, offset
        if abs(jump) < self.threshold_s:
            return None
        self.on_jump(jump)
        return jump

    def on_jump(self, jump: float) -> None:
        self.jumps.append(jump)
        log.warning(
            "the system clock jumped %s by %.0f s; rescheduling the periodic jobs",
            "forward" if jump > 0 else "back",
            abs(jump),
        )
        if self.scheduler.running:
            now = datetime.now(self.scheduler.timezone)
            for job in self.scheduler.get_jobs():
                if isinstance(job.trigger, IntervalTrigger):
                    job.modify(next_run_time=now)
            self.scheduler.wakeup()

    def start(self) -> ClockWatch:
        self._thread = threading.Thread(target=self._run, name="clock-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.check()
            except Exception:  # never let the watch die silently
                log.exception("clock watch failed")
