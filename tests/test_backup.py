"""Backups: consistent while writing, checked, rotated, restorable; the CLI and the nightly job."""

import sqlite3
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from appliance import backup, scheduler
from appliance.cli import main
from appliance.db import Store
from appliance.instance_lock import InstanceLock
from appliance.settings import Settings

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)


def count(path: Path) -> int:
    return sqlite3.connect(path).execute("SELECT count(*) FROM meta").fetchone()[0]


def test_backup_while_messages_are_written(store: Store, tmp_path: Path) -> None:
    stop = threading.Event()
    written = [0]

    def writer() -> None:
        while not stop.is_set():
            with store.write() as db:
                db.execute("INSERT INTO meta (key, value) VALUES (?, 'x')", [f"k{written[0]}"])
            written[0] += 1

    t = threading.Thread(target=writer)
    t.start()
    try:
        while written[0] < 50:
            pass
        before = written[0]
        info = backup.take(store.path, tmp_path / "backups", NOW)
    finally:
        stop.set()
        t.join()
    assert backup.verify(info.path)["schema_version"] >= 1  # integrity ok
    assert before <= count(info.path) <= written[0]  # a consistent moment, nothing torn
    assert count(store.path) == written[0]  # and the writer lost nothing
    assert info.path.stat().st_mode & 0o777 == 0o600
    assert not list((tmp_path / "backups").glob("*.partial"))


def test_rotation_keeps_daily_weekly_monthly(tmp_path: Path) -> None:
    d = tmp_path / "backups"
    d.mkdir()
    start = datetime(2026, 1, 1, 3, 0)
    for i in range(120):  # four months of nightly backups
        (d / f"appliance-{(start + timedelta(days=i)).strftime('%Y%m%dT%H%M%SZ')}.db").write_bytes(b"x")
    (d / "notes.txt").write_text("not a backup")
    removed = backup.rotate(d)
    kept = backup.list_backups(d)
    assert len(removed) + len(kept) == 120
    days = sorted({b.taken_at.date() for b in kept}, reverse=True)
    assert days[:7] == [(start + timedelta(days=119 - i)).date() for i in range(7)]  # the last 7 nights
    assert len({(b.taken_at.year, b.taken_at.month) for b in kept}) == 4  # one per month (all 4 months)
    assert len(kept) <= 7 + 4 + 6
    assert (d / "notes.txt").exists()


def test_verify_rejects_a_broken_file(tmp_path: Path) -> None:
    bad = tmp_path / "appliance-20260101T000000Z.db"
    bad.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    with pytest.raises(backup.BackupError):
        backup.verify(bad)
    with pytest.raises(backup.BackupError, match="no such file"):
        backup.verify(tmp_path / "missing.db")


def test_restore_round_trip_with_a_safety_copy(data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir, model="none")
    store = Store(settings.db_path)
    store.migrate()
    with store.write() as db:
        db.execute("INSERT INTO meta (key, value) VALUES ('shop', 'before')")
    store.close()
    runner = CliRunner()
    made = runner.invoke(main, ["backup", "--data-dir", str(data_dir)])
    assert made.exit_code == 0 and "integrity ok" in made.output
    [taken] = backup.list_backups(settings.backups_dir)
    assert "schema version" in runner.invoke(main, ["verify-backup", str(taken.path)]).output

    store = Store(settings.db_path)
    with store.write() as db:
        db.execute("UPDATE meta SET value = 'after' WHERE key = 'shop'")
    store.close()
    # not while it runs
    with InstanceLock(data_dir):
        refused = runner.invoke(main, ["restore", str(taken.path), "--yes", "--data-dir", str(data_dir)])
        assert refused.exit_code == 1 and "stop the appliance first" in refused.output
    done = runner.invoke(main, ["restore", str(taken.path), "--yes", "--data-dir", str(data_dir)])
    assert done.exit_code == 0, done.output
    value = sqlite3.connect(settings.db_path).execute("SELECT value FROM meta WHERE key = 'shop'").fetchone()[0]
    assert value == "before"
    [safety] = backup.list_backups(settings.backups_dir / "before-restore")
    assert sqlite3.connect(safety.path).execute("SELECT value FROM meta WHERE key = 'shop'").fetchone()[0] == "after"


def test_backup_to_another_directory_and_a_clear_error(data_dir: Path, tmp_path: Path) -> None:
    settings = Settings(data_dir=data_dir, model="none")
    Store(settings.db_path).migrate()
    runner = CliRunner()
    usb = tmp_path / "usb"
    assert runner.invoke(main, ["backup", "--to", str(usb), "--data-dir", str(data_dir)]).exit_code == 0
    assert len(backup.list_backups(usb)) == 1
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the directory should be")
    r = runner.invoke(main, ["backup", "--to", str(blocked / "sub"), "--data-dir", str(data_dir)])
    assert r.exit_code == 1 and "backup to" in r.output and "failed" in r.output and "Traceback" not in r.output


def test_nightly_job_is_scheduled_and_catches_up(data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir, model="none", backup_time="02:15")
    store = Store(settings.db_path)
    store.migrate()
    jobs = scheduler.build(settings, store, lambda: NOW)
    fields = {f.name: str(f) for f in jobs.get_job("nightly_backup").trigger.fields}
    assert (fields["hour"], fields["minute"]) == ("2", "15")
    assert jobs.get_job("catch_up_backup") is not None  # no backup yet: one soon after start
    jobs.get_job("nightly_backup").func()  # run it as the scheduler would
    assert len(backup.list_backups(settings.backups_dir)) == 1
    ok = store.read().execute("SELECT value FROM meta WHERE key = 'backup_last_ok'").fetchone()[0]
    assert ok.startswith(NOW.isoformat())
    assert scheduler.build(settings, store, lambda: NOW).get_job("catch_up_backup") is None
    store.close()
