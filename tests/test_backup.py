"""Backups: consistent while writing, checked, rotated, restorable; the CLI and the nightly job."""

import json
import re
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from appliance import i18n
from appliance.cli import main
from appliance.db import Store
from appliance.kb.entry import Entry
from appliance.ops import backup, scheduler
from appliance.ops.instance_lock import InstanceLock
from appliance.settings import Settings

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


def shown_text(html: str) -> str:
    """The page's text as the owner reads it: no tags, no attributes."""
    return re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S))


def count(path: Path) -> int:
    return sqlite3.connect(path).execute("SELECT count(*) FROM meta").fetchone()[0]


@pytest.mark.slow  # real waits, real argon2 or a whole import: a second or more
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


def test_two_backups_in_the_same_second_keep_both(store: Store, tmp_path: Path) -> None:
    # Undoing a restore copies the live data into the folder it restores from, often within the
    # same second: that copy once replaced the very file about to be restored.
    first = backup.take(store.path, tmp_path, NOW)
    with store.write() as db:
        db.execute("INSERT INTO meta (key, value) VALUES ('later', 'x')")
    second = backup.take(store.path, tmp_path, NOW)
    assert first.path != second.path and second.path.name.endswith("-2.db")
    assert count(first.path) + 1 == count(second.path)
    assert [b.path for b in backup.list_backups(tmp_path)] == [second.path, first.path]  # newest first


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


def test_restore_of_an_older_schema_migrates_forward(data_dir: Path, tmp_path: Path) -> None:
    import sqlite_utils

    from appliance.db import connect, schema_state
    from appliance.migrations import MIGRATIONS

    old = tmp_path / "old.db"
    conn = connect(old)
    MIGRATIONS.apply(sqlite_utils.Database(conn, execute_plugins=False), stop_before="0003_visitors_and_widget")
    conn.execute("INSERT INTO meta (key, value) VALUES ('from', 'an older version')")
    conn.close()
    assert backup.verify(old)["schema_version"] == 2
    settings = Settings(data_dir=data_dir, model="none")
    result = CliRunner().invoke(main, ["restore", str(old), "--yes", "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(settings.db_path)
    state = schema_state(sqlite_utils.Database(conn, execute_plugins=False))
    assert state["pending"] == [] and state["version"] == len(MIGRATIONS._migrations)
    assert conn.execute("SELECT value FROM meta WHERE key = 'from'").fetchone()[0] == "an older version"


FULL_DISK = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)       # a full disk: writes fail with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))
from appliance.cli import main
sys.argv = ["appliance", "backup", "--data-dir", sys.argv[1]]
main()
"""


def test_a_full_disk_gives_a_clear_error_and_keeps_the_live_data(data_dir: Path) -> None:
    import subprocess
    import sys

    settings = Settings(data_dir=data_dir, model="none")
    store = Store(settings.db_path)
    store.migrate()
    with store.write() as db:
        db.conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", [(f"k{i}", "v" * 500) for i in range(200)])
    store.close()
    before = settings.db_path.read_bytes()
    result = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(data_dir)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1, result.stderr
    assert "backup to" in result.stderr and "failed" in result.stderr and "Traceback" not in result.stderr
    assert backup.list_backups(settings.backups_dir) == []  # no half-written backup left behind
    assert not list(settings.backups_dir.glob("*.partial"))
    assert settings.db_path.read_bytes() == before
    assert sqlite3.connect(settings.db_path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_restore_from_the_admin_while_running(data_dir: Path) -> None:
    from litestar.testing import TestClient

    from appliance.app import create_app
    from appliance.kb import embedder
    from appliance.kb import store as kb
    from appliance.owner import account as owner

    from .helpers import (
        SAME,
        asgi_get,
        csrf,
        password_hash,
        sign_in,
    )

    settings = Settings(data_dir=data_dir, model="none")
    with TestClient(create_app(settings, with_scheduler=False)) as c:
        store = c.app.state.services.store
        owner.set_password(store, password_hash(), c.app.state.services.clock)
        kb.save(
            store,
            [Entry("hours", "Opening hours", "We open at 9:00.", "en", ["when are you open"])],
            embedder=embedder.shared(),
            now="t0",
        )
        sign_in(c)
        headers = {**SAME, "x-csrf-token": csrf(c)}
        empty = c.get("/admin/backups?lang=fa").text
        assert "هنوز پشتیبانی گرفته نشده" in empty and "همین حالا پشتیبان بگیر" in empty  # the empty state
        taken = c.post("/admin/backups", headers={**headers, "hx-request": "true"})
        toast = json.loads(taken.headers["hx-trigger"])["appliance:toast"]["text"]
        assert taken.status_code == 200 and toast in ("Backup taken", "پشتیبان گرفته شد")
        [snapshot] = backup.list_backups(settings.backups_dir)
        # Listed in the owner's calendar and words: a Jalali date, a size in مگابایت/کیلوبایت, no "MB".
        fa = c.get("/admin/backups?lang=fa").text
        jalali = i18n.when(snapshot.taken_at.isoformat() + "+00:00", "fa", settings.timezone)
        assert jalali.startswith("۱۴") and jalali in fa and ("کیلوبایت" in fa or "مگابایت" in fa)
        assert " MB" not in fa and "RESTORE" not in fa and snapshot.path.name not in shown_text(fa)
        en = c.get("/admin/backups?lang=en").text
        assert i18n.when(snapshot.taken_at.isoformat() + "+00:00", "en", settings.timezone) in en
        kb.save(
            store,
            [Entry("hours", "Opening hours", "We open at 10:00.", "en", ["when are you open"])],
            embedder=embedder.shared(),
            now="t1",
        )
        assert "10:00" in c.app.state.services.chat.decider.decide("when are you open").entries[0].answer
        # A mis-click restores nothing: the box "I understand ..." of this very backup must be ticked
        # (the English word RESTORE, once asked on Persian pages, is no confirmation now).
        persian = {**headers, "hx-request": "true", "hx-current-url": "http://testserver/admin/backups?lang=fa"}
        for confirm in ({}, {"confirm": "RESTORE"}, {"confirm": "on"}, {"confirm": "appliance-20000101T000000Z.db"}):
            refused = c.post("/admin/backups/restore", data={"name": snapshot.path.name, **confirm}, headers=persian)
            assert refused.status_code == 422 and "گزینه‌ی «می‌دانم…» را تیک بزنید" in refused.text
            assert "10:00" in kb.get(store.read(), "hours").answer
        assert 'hx-confirm="داده‌ها به پشتیبان' in refused.text and "required" in refused.text
        done = c.post(
            "/admin/backups/restore", data={"name": snapshot.path.name, "confirm": snapshot.path.name}, headers=headers
        )
        assert done.status_code == 200 and done.headers["hx-redirect"] == "/admin/login"
        # the running appliance answers from the restored data at once
        assert kb.get(store.read(), "hours").answer == "We open at 9:00."
        assert "9:00" in c.app.state.services.chat.decider.decide("when are you open").entries[0].answer
        assert json.loads(asgi_get(c.app, "/healthz")[1])["database"]["ok"]
        [safety] = backup.list_backups(settings.backups_dir / "before-restore")
        assert "10:00" in sqlite3.connect(safety.path).execute("SELECT answer FROM kb_entries").fetchone()[0]
        # ... listed on the page, so a wrong restore is undone from there
        sign_in(c)
        headers = {**SAME, "x-csrf-token": csrf(c)}
        page = c.get("/admin/backups?lang=fa").text
        assert "نسخه‌های پیش از بازگردانی" in page and f'value="{safety.path.name}"' in page
        undo = c.post(
            "/admin/backups/restore",
            data={"name": safety.path.name, "from": "before-restore", "confirm": safety.path.name},
            headers=headers,
        )
        assert undo.status_code == 200 and kb.get(store.read(), "hours").answer == "We open at 10:00."
        sign_in(c)  # a restore signs every session out
        elsewhere = c.post(
            "/admin/backups/restore",
            data={"name": "../appliance.db", "from": "../..", "confirm": "../appliance.db"},
            headers={**SAME, "x-csrf-token": csrf(c)},
        )
        assert elsewhere.status_code == 404 and kb.get(store.read(), "hours").answer == "We open at 10:00."


def test_a_restore_keeps_the_live_password_and_ends_every_session(data_dir: Path) -> None:
    """A backup from before a password change brought the old password back, and with it the
    sessions the owner had ended."""
    from litestar.testing import TestClient

    from appliance.app import create_app
    from appliance.owner import account as owner

    from .helpers import (
        SAME,
        csrf,
        password_hash,
        sign_in,
    )

    settings = Settings(data_dir=data_dir, model="none")
    with TestClient(create_app(settings, with_scheduler=False)) as c:
        store, clock = c.app.state.services.store, c.app.state.services.clock
        owner.set_password(store, owner.hash_password("the old password, leaked"), clock)
        assert sign_in(c, "the old password, leaked").status_code == 303
        headers = {**SAME, "x-csrf-token": csrf(c)}
        assert c.post("/admin/backups", headers=headers).status_code == 200  # the backup has the old password
        [snapshot] = backup.list_backups(settings.backups_dir)
        owner.set_password(store, password_hash(), clock)  # changed after the leak
        sign_in(c)
        headers = {**SAME, "x-csrf-token": csrf(c)}
        done = c.post(
            "/admin/backups/restore", data={"name": snapshot.path.name, "confirm": snapshot.path.name}, headers=headers
        )
        assert done.status_code == 200
        assert store.read().execute("SELECT count(*) FROM sessions").fetchone()[0] == 0
        assert c.get("/admin/", follow_redirects=False).status_code == 303  # signed out here too
        assert sign_in(c, "the old password, leaked").status_code == 401
        assert sign_in(c).status_code == 303
