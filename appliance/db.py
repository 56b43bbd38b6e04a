"""The one SQLite database: connections, the single writer, migrations, and the ``meta`` notes.

WAL lets readers run while the writer writes. Every write goes through ``Store.write()``: one
dedicated connection guarded by one lock, each transaction opened with ``BEGIN IMMEDIATE`` so a
writer never has to upgrade a read lock (the cause of SQLITE_BUSY dead-ends). Reads use one
connection per thread.

Code running on the event loop never waits for that lock itself: it hands its write to the
writer thread with ``await store.run(fn)`` (Datasette's ``execute_write_fn`` does the same).
While an import or a restore holds the lock, the loop goes on serving everyone else.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils

from appliance.migrations import MIGRATIONS

BUSY_TIMEOUT_MS = 5000
T = TypeVar("T")


def inserted_id(cursor: sqlite3.Cursor) -> int:
    """The id of the row an INSERT just added (sqlite3 types it as optional: None only for
    statements that insert nothing)."""
    assert cursor.lastrowid is not None
    return cursor.lastrowid


# -- meta: the database's own notes, by key ----------------------------------------------------
# The only code that writes the ``meta`` table: the knowledge base's and the catalog's versions,
# the owner's presence switch, the last backup's outcome, the shop's calibration. Each takes the
# transaction it runs in (``store.read()``, or the ``db`` of a ``store.write()``), so a version
# moves in the same transaction as the change it counts.


def read_meta(db: sqlite_utils.Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def read_meta_like(db: sqlite_utils.Database, pattern: str) -> dict[str, str]:
    """The notes whose key matches ``pattern`` (SQL LIKE: ``backup_last_%``), by key."""
    return dict(db.execute("SELECT key, value FROM meta WHERE key LIKE ?", [pattern]).fetchall())


def write_meta(db: sqlite_utils.Database, key: str, value: str) -> None:
    """Inside the caller's write transaction."""
    db.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [key, value],
    )


def bump_meta(db: sqlite_utils.Database, key: str) -> None:
    """A counter up by one (from 1 when there is none yet), inside the caller's write transaction."""
    db.execute(
        "INSERT INTO meta (key, value) VALUES (?, '1') ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
        [key],
    )


class DatabaseError(RuntimeError):
    """The database can't be used as it is; the message says why and what to do."""


def connect(path: Path | str, *, readonly: bool = False, durable: bool = True) -> sqlite3.Connection:
    """A connection with the pragmas every connection here must have. ``durable=False`` is for
    throw-away databases only (the calibration's copies of the knowledge base): no fsync, so
    their writes don't queue the shop's own commits behind them on the disk."""
    if readonly:
        conn = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True, check_same_thread=False, isolation_level=None)
    else:
        conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    if not readonly:
        conn.execute("PRAGMA journal_mode = WAL")
        # FULL: a reply acknowledged to a customer survives a power cut, not only a crash.
        conn.execute("PRAGMA synchronous = FULL" if durable else "PRAGMA synchronous = OFF")
        # Erased customer data is overwritten, not left in free pages.
        conn.execute("PRAGMA secure_delete = ON")
    return conn


def schema_state(db: sqlite_utils.Database) -> dict:
    """Applied and pending migrations, and any applied migration this code does not know."""
    applied = [m.name for m in MIGRATIONS.applied(db)]
    known = {m.name for m in MIGRATIONS._migrations}
    return {
        "applied": applied,
        "pending": [m.name for m in MIGRATIONS.pending(db)],
        "unknown": [name for name in applied if name not in known],
        "version": len(applied),
    }


def inspect(path: Path, *, immutable: bool = False) -> dict:
    """Open a database read-only and report its integrity, schema state and size in entries and
    conversations. ``immutable`` for a file nothing writes (a backup): SQLite then skips locking.
    Raises sqlite3.DatabaseError for a file that isn't a database."""
    uri = f"file:{Path(path)}?mode=ro" + ("&immutable=1" if immutable else "")
    conn = sqlite3.connect(uri, uri=True)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        state = schema_state(sqlite_utils.Database(conn, execute_plugins=False))
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        counts = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] if t in tables else 0
            for t in ("kb_entries", "conversations")
        }
    finally:
        conn.close()
    return {"integrity": integrity, "schema": state, **counts}


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply pending migrations in order; returns their names. Refuses a database from a newer version."""
    db = sqlite_utils.Database(conn, execute_plugins=False)
    state = schema_state(db)
    if state["unknown"]:
        raise DatabaseError(
            "this database was written by a newer version of the appliance "
            f"(unknown migrations: {', '.join(state['unknown'])}); upgrade the appliance or "
            "restore a backup made by this version"
        )
    try:
        MIGRATIONS.apply(db)
    except Exception as exc:
        # Each migration runs in its own transaction: the one that failed left nothing behind.
        done = [m.name for m in MIGRATIONS.applied(db)]
        raise DatabaseError(
            f"upgrading the database failed ({type(exc).__name__}: {exc}); it was left as it was "
            f"(schema {len(done)}). To roll back, reinstall the previous version, or restore the "
            "backup install.sh took before upgrading: appliance restore FILE"
        ) from exc
    return state["pending"]


class Store:
    """Owns the database file: one writer connection behind a lock, a read connection per thread."""

    def __init__(self, path: Path | str, *, durable: bool = True):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._writer = connect(self.path, durable=durable)
        except sqlite3.DatabaseError as exc:
            raise DatabaseError(f"{self.path}: can't open the database: {exc}") from None
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._generation = 0  # bumped when the file is replaced (restore): readers reconnect
        # Each read connection with the thread that owns it. Worker threads come and go (anyio
        # retires a thread idle for 10 s): a finished thread's connection is closed when the next
        # one is opened. Kept for ever, they were a slow leak of memory and file descriptors
        # (scripts/loadtest.py --soak-minutes 30: +28 MiB an hour).
        self._readers: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._readers_lock = threading.Lock()
        # The thread async code writes through (one: writes are serial anyway).
        self._write_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db-writer")

    def migrate(self) -> list[str]:
        with self._write_lock:
            return migrate(self._writer)

    @contextmanager
    def write(self) -> Iterator[sqlite_utils.Database]:
        """One write transaction; commits on success, rolls back on any error."""
        with self._write_lock:
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield sqlite_utils.Database(conn, execute_plugins=False)
                conn.execute("COMMIT")
            except BaseException:
                # Also when COMMIT itself failed (a full disk): a transaction left open would make
                # every later BEGIN fail, and the appliance would not recover when space returns.
                if conn.in_transaction:
                    with suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                raise

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)``, which writes through ``write()``, on the writer thread and await its
        result without blocking the event loop. Once started it finishes even if the awaiting
        request is cancelled (a customer closing the page): a write is never left half-done."""
        future = self._write_thread.submit(functools.partial(fn, *args))
        return await asyncio.shield(asyncio.wrap_future(future))

    def read(self) -> sqlite_utils.Database:
        """This thread's read connection (it sees every committed write)."""
        conn = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "generation", None) != self._generation:
            conn = connect(self.path)
            self._local.conn = conn
            self._local.generation = self._generation
            with self._readers_lock:
                alive = []
                for thread, other in self._readers:
                    if thread.is_alive():
                        alive.append((thread, other))
                    else:
                        other.close()
                self._readers = [*alive, (threading.current_thread(), conn)]
        return sqlite_utils.Database(conn, execute_plugins=False)

    def truncate_wal(self) -> None:
        """Fold the WAL into the database file and empty it (after erasing customer data, so no
        copy of it stays in the WAL). A checkpoint can't run inside a transaction: under the lock."""
        with self._write_lock:
            self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    @property
    def reader_count(self) -> int:
        with self._readers_lock:
            return len(self._readers)

    def replace_file(self, install: Callable[[], None]) -> list[str]:
        """Swap the database file while the appliance runs (a restore from the admin).

        Every connection is closed, ``install()`` puts the new file in place (the WAL and SHM of
        the old one removed), and the writer reopens and migrates the new file forward. A request
        reading at that very moment fails once; nothing writes meanwhile (the writer lock is held).
        """
        with self._write_lock:
            with self._readers_lock:
                for _, conn in self._readers:
                    conn.close()
                self._readers.clear()
            self._generation += 1
            self._writer.close()
            try:
                install()
            finally:
                self._writer = connect(self.path)
            return migrate(self._writer)

    def close(self) -> None:
        self._write_thread.shutdown(wait=True)
        with self._readers_lock:
            for _, conn in self._readers:
                conn.close()
            self._readers.clear()
        with self._write_lock:
            self._writer.close()
