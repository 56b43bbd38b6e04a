"""The system clock jumping under the scheduler (an NTP correction, a hand-set clock)."""

import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from appliance.db import Store
from appliance.ops import scheduler
from appliance.settings import Settings


class FakeWall:
    """time.time() plus an offset the test moves, as `date -s` would."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.mark.slow  # real waits, real argon2 or a whole import: a second or more
def test_a_jump_back_does_not_stop_the_mail_job(data_dir: Path) -> None:
    jobs = BackgroundScheduler()
    ran = threading.Event()
    jobs.add_job(ran.set, "interval", seconds=60, id="send_mail")
    jobs.start()
    try:
        # What an hour's jump back leaves behind: the next run an hour and a minute "ahead".
        jobs.get_job("send_mail").modify(next_run_time=datetime.now(jobs.timezone) + timedelta(hours=1))
        wall = FakeWall()
        watch = scheduler.ClockWatch(jobs, wall=wall)
        assert not ran.wait(1.5)  # stalled
        wall.offset = -3600
        assert watch.check() == pytest.approx(-3600, abs=5)
        assert ran.wait(5), "the mail job did not run after the clock was put right"
        assert watch.jumps and watch.jumps[0] < 0
    finally:
        jobs.shutdown(wait=False)


def test_drift_and_small_corrections_are_not_jumps() -> None:
    jobs = BackgroundScheduler()
    wall = FakeWall()
    watch = scheduler.ClockWatch(jobs, wall=wall, threshold_s=120)
    wall.offset = 30  # NTP slewing a slow clock: nothing to do
    assert watch.check() is None
    wall.offset = 30 + 7200
    assert watch.check() == pytest.approx(7200, abs=5)
    assert watch.check() is None  # measured from the last check, not from the start


def test_daily_jobs_keep_their_next_run_when_the_clock_jumps(data_dir: Path) -> None:
    """A backup or digest must not run twice because the clock went back past its time."""
    settings = Settings(data_dir=data_dir, model="none", backup_time="03:00", digest_time="07:30")
    store = Store(settings.db_path)
    store.migrate()
    jobs = scheduler.build(settings, store, datetime.now)
    jobs.start(paused=True)
    try:
        before = {j.id: j.next_run_time for j in jobs.get_jobs() if j.id in ("nightly_backup", "morning_digest")}
        scheduler.ClockWatch(jobs).on_jump(-3 * 3600)
        after = {j.id: j.next_run_time for j in jobs.get_jobs() if j.id in ("nightly_backup", "morning_digest")}
        assert after == before and len(after) == 2
        mail = jobs.get_job("send_mail").next_run_time
        assert abs((mail - datetime.now(mail.tzinfo)).total_seconds()) < 5  # the mail job: due now
    finally:
        jobs.shutdown(wait=False)
        store.close()
