"""Backups: consistent online snapshots, checked, rotated, restorable.

A snapshot is made with SQLite's online backup API from a read connection (writers keep going:
the copy is the database as of one moment), written to a temporary file in the target directory,
checked with ``PRAGMA integrity_check``, fsynced, then renamed into place: a backup file either is
complete and sound, or does not exist. Rotation keeps the newest N daily, weekly and monthly ones.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from appliance.conversations import events
from appliance.db import inspect

# A second backup within the same second gets "-2", "-3"...: it never replaces the first (the copy
# taken before a restore must not overwrite the very file being restored from).
NAME = re.compile(r"^appliance-(\d{8}T\d{6}Z)(?:-(\d+))?\.db$")
KEEP = {"daily": 7, "weekly": 4, "monthly": 6}


class BackupError(RuntimeError):
    """A backup or restore could not be done; the message says why. Nothing was left half-done."""


@dataclass
class BackupInfo:
    path: Path
    size: int
    taken_at: datetime


def _stamp(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ")


def verify(path: Path) -> dict:
    """Open a backup read-only and check it: integrity and schema. Raises BackupError."""
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    try:
        info = inspect(path, immutable=True)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path}: not a usable database ({exc})") from None
    if info["integrity"] != "ok":
        raise BackupError(f"{path}: integrity check failed: {info['integrity']}")
    return {
        "schema_version": info["schema"]["version"],
        "unknown_migrations": info["schema"]["unknown"],
        "kb_entries": info["kb_entries"],
        "conversations": info["conversations"],
    }


def take(db_path: Path, target_dir: Path, now: datetime) -> BackupInfo:
    """Snapshot the live database into ``target_dir`` (atomic; checked before it is kept)."""
    try:
        target_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"backup to {target_dir} failed: {exc}") from None
    final = _free_name(target_dir, _stamp(now))
    partial = final.with_name(final.name + ".partial")
    try:
        source = sqlite3.connect(str(db_path))
        dest = sqlite3.connect(str(partial))
        try:
            source.backup(dest)  # one consistent snapshot; writers are not blocked for long
        finally:
            dest.close()
            source.close()
        verify(partial)
        os.chmod(partial, 0o600)
        with open(partial, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(partial, final)
    except (OSError, sqlite3.Error) as exc:
        raise BackupError(f"backup to {target_dir} failed: {exc}") from None
    finally:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
    return BackupInfo(final, final.stat().st_size, now)


def _free_name(directory: Path, stamp: str) -> Path:
    final, n = directory / f"appliance-{stamp}.db", 1
    while final.exists() or final.with_name(final.name + ".partial").exists():
        n += 1
        final = directory / f"appliance-{stamp}-{n}.db"
    return final


def list_backups(directory: Path) -> list[BackupInfo]:
    out: list[tuple[int, BackupInfo]] = []
    if directory.is_dir():
        for p in directory.iterdir():
            m = NAME.match(p.name)
            if m:
                taken = datetime.strptime(m.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=None)
                out.append((int(m.group(2) or 1), BackupInfo(p, p.stat().st_size, taken)))
    return [b for _, b in sorted(out, key=lambda nb: (nb[1].taken_at, nb[0]), reverse=True)]


def rotate(directory: Path, keep: dict[str, int] = KEEP) -> list[Path]:
    """Keep the newest backup of each of the last N days, ISO weeks and months; delete the rest."""
    backups = list_backups(directory)
    kept: set[Path] = set()
    for kind, count in keep.items():
        seen: list[object] = []
        for b in backups:
            key = {
                "daily": b.taken_at.date().isoformat(),
                "weekly": tuple(b.taken_at.isocalendar()[:2]),
                "monthly": (b.taken_at.year, b.taken_at.month),
            }[kind]
            if key not in seen:
                seen.append(key)
                if len(seen) <= count:
                    kept.add(b.path)
    removed = []
    for b in backups:
        if b.path not in kept:
            b.path.unlink(missing_ok=True)
            removed.append(b.path)
    return removed


def install_file(backup_path: Path, db_path: Path) -> None:
    """Copy a verified backup over the database file, atomically, without the old WAL/SHM. The
    restored file's events go on after the ids the replaced one handed out (events.continue_after)."""
    staged = db_path.with_name(db_path.name + ".restoring")
    try:
        shutil.copyfile(backup_path, staged)
        _carry_events(db_path, staged)
        with open(staged, "rb") as fh:
            os.fsync(fh.fileno())
        for suffix in ("-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        os.replace(staged, db_path)
        os.chmod(db_path, 0o600)
    except OSError as exc:
        raise BackupError(f"restore failed, the database is unchanged: {exc}") from None
    finally:
        staged.unlink(missing_ok=True)


def _carry_events(live: Path, staged: Path) -> None:
    top = 0
    if live.exists():
        with contextlib.closing(sqlite3.connect(live)) as conn:  # its WAL is read too, if there is one
            top = events.high_water(conn)
    with contextlib.closing(sqlite3.connect(staged, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode = DELETE")  # the staged copy is written in place, no WAL beside it
        conn.execute("BEGIN IMMEDIATE")
        events.continue_after(conn, top)
        conn.execute("COMMIT")


def check_restorable(backup_path: Path) -> dict:
    info = verify(backup_path)
    if info["unknown_migrations"]:
        raise BackupError(
            f"{backup_path} was made by a newer version of the appliance "
            f"(migrations {info['unknown_migrations']}); upgrade first"
        )
    return info


def restore(backup_path: Path, db_path: Path, backups_dir: Path, now: datetime) -> Path | None:
    """Replace the database with a backup. The appliance must be stopped (the caller holds the
    instance lock). The current database is backed up first; stale WAL/SHM files are removed; a
    backup from an older version is migrated forward at the next start. Returns the safety copy."""
    check_restorable(backup_path)
    safety = None
    if db_path.exists():
        safety = take(db_path, backups_dir / "before-restore", now).path
    install_file(backup_path, db_path)
    return safety


def last_backup(directory: Path) -> BackupInfo | None:
    backups = list_backups(directory)
    return backups[0] if backups else None


def nightly(db_path: Path, backups_dir: Path, now: datetime, keep: dict[str, int] = KEEP) -> BackupInfo:
    """The scheduled job: a snapshot, then rotation. Raises BackupError (the scheduler logs it)."""
    info = take(db_path, backups_dir, now)
    rotate(backups_dir, keep)
    return info
