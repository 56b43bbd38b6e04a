import sqlite3
import threading
from pathlib import Path

import pytest
import sqlite_utils

from appliance.db import DatabaseError, Store, connect, migrate, schema_state
from appliance.migrations import MIGRATIONS


def test_migrations_on_empty_database_and_rerun(data_dir: Path) -> None:
    store = Store(data_dir / "appliance.db")
    applied = store.migrate()
    assert applied == [m.name for m in MIGRATIONS._migrations]
    tables = set(store.read().table_names())
    assert {"meta", "owner", "setup_tokens", "kb_entries", "kb_phrasings", "_sqlite_migrations"} <= tables
    assert store.migrate() == []  # re-running applies nothing
    state = schema_state(store.read())
    assert state["pending"] == [] and state["version"] == len(MIGRATIONS._migrations)
    store.close()


def test_pragmas(data_dir: Path) -> None:
    conn = connect(data_dir / "x.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    assert conn.execute("PRAGMA secure_delete").fetchone()[0] == 1


def test_database_from_a_newer_version_is_refused(data_dir: Path) -> None:
    store = Store(data_dir / "appliance.db")
    store.migrate()
    with store.write() as db:
        db["_sqlite_migrations"].insert(
            {"migration_set": "appliance", "name": "9999_from_the_future", "applied_at": "2030-01-01"}
        )
    with pytest.raises(DatabaseError, match="newer version"):
        store.migrate()
    store.close()


def test_a_failing_migration_leaves_the_database_untouched(data_dir: Path) -> None:
    """The same machinery our MIGRATIONS use: each migration and its record in one transaction."""
    from sqlite_utils.migrations import Migrations

    conn = connect(data_dir / "appliance.db")
    migrate(conn)
    extra = Migrations("appliance-test")

    @extra(name="0001_half_done")
    def half_done(db: sqlite_utils.Database) -> None:
        db.execute("CREATE TABLE half (x)")
        raise RuntimeError("disk full")

    db = sqlite_utils.Database(conn, execute_plugins=False)
    with pytest.raises(RuntimeError):
        extra.apply(db)
    assert "half" not in db.table_names()
    assert [m.name for m in extra.pending(db)] == ["0001_half_done"]


def test_write_rolls_back_on_error(data_dir: Path) -> None:
    store = Store(data_dir / "appliance.db")
    store.migrate()
    with pytest.raises(ValueError):
        with store.write() as db:
            db.execute("INSERT INTO meta (key, value) VALUES ('a', '1')")
            raise ValueError("boom")
    assert store.read().execute("SELECT count(*) FROM meta").fetchone()[0] == 0
    store.close()


def test_concurrent_writers_and_readers_lose_nothing(data_dir: Path) -> None:
    store = Store(data_dir / "appliance.db")
    store.migrate()
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(50):
                with store.write() as db:
                    db.execute("INSERT INTO meta (key, value) VALUES (?, ?)", [f"{n}-{i}", "v"])
                store.read().execute("SELECT count(*) FROM meta").fetchone()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.read().execute("SELECT count(*) FROM meta").fetchone()[0] == 200
    store.close()


def test_foreign_keys_cascade(data_dir: Path) -> None:
    store = Store(data_dir / "appliance.db")
    store.migrate()
    with store.write() as db:
        db.execute(
            "INSERT INTO kb_entries (id, title, answer, lang, created_at, updated_at) "
            "VALUES ('a', 't', 'x', 'en', 'now', 'now')"
        )
        db.execute("INSERT INTO kb_phrasings (entry_id, text, position) VALUES ('a', 'q', 0)")
    with store.write() as db:
        db.execute("DELETE FROM kb_entries WHERE id = 'a'")
    assert store.read().execute("SELECT count(*) FROM kb_phrasings").fetchone()[0] == 0
    with pytest.raises(sqlite3.IntegrityError):
        with store.write() as db:
            db.execute("INSERT INTO kb_phrasings (entry_id, text, position) VALUES ('nope', 'q', 0)")
    store.close()


def test_not_a_database_is_a_clear_error(data_dir: Path) -> None:
    path = data_dir / "appliance.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises((DatabaseError, sqlite3.DatabaseError)):
        Store(path).migrate()


def test_a_failed_upgrade_says_how_to_roll_back(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(data_dir / "appliance.db")
    store.migrate()

    @MIGRATIONS(name="9000_broken_for_this_test")
    def broken(db: sqlite_utils.Database) -> None:
        db.execute("CREATE TABLE half (x)")
        raise RuntimeError("disk full")

    try:
        with pytest.raises(DatabaseError, match="left as it was.*appliance restore"):
            store.migrate()
        assert "half" not in store.read().table_names()
    finally:
        MIGRATIONS._migrations.pop()
    store.close()


def test_connections_of_finished_threads_are_closed(data_dir: Path) -> None:
    """Worker threads come and go; their read connections (and file descriptors) must not pile up."""
    import os
    import threading

    store = Store(data_dir / "appliance.db")
    store.migrate()

    def fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    def read_once() -> None:
        assert store.read().execute("SELECT count(*) FROM kb_entries").fetchone()[0] == 0

    for _ in range(3):  # warm up: the first threads' connections, SQLite's own files
        t = threading.Thread(target=read_once)
        t.start()
        t.join()
    before = fds()
    for _ in range(200):
        t = threading.Thread(target=read_once)
        t.start()
        t.join()
    assert store.reader_count <= 2  # the newest thread's, and perhaps this one's
    assert fds() <= before + 2
    store.close()
