"""Off-site copies of the nightly backup, with restic (Debian's ``restic`` package).

A local backup dies with the disk it is on; restic sends it elsewhere, encrypted and deduplicated:
a folder on another disk, ``sftp:user@host:/folder`` (with a key this appliance makes) or any
S3-compatible store. Each copy is a snapshot of a small folder (``offsite/stage``) holding what a
deleted data directory needs to come back: the night's backup file as ``appliance.db``, the
secret (so visitors keep their conversations and links stay valid), ``settings.toml`` and the SSH
key. Then retention (``forget`` + ``prune``); a weekly ``restic check``; a monthly test restore
into a scratch folder whose database is opened read-only and checked.

The repository's password is made here, kept in ``offsite/restic-password`` (0600) and shown to
the owner once: without it the copies can't be read, and a copy that needs this machine to be read
is no off-site copy. restic is driven by subprocess with RESTIC_REPOSITORY / RESTIC_PASSWORD_FILE
in its environment: the password is never in a command line, a log line or a page after that.

Every outcome is written to ``meta`` (``offsite_*``) for the backups page; failures are kept as a
key of the catalogs and restic's own words, so the page says them in the owner's language.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import shlex
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from appliance.db import Store, read_meta, write_meta
from appliance.i18n import N_
from appliance.ops import backup
from appliance.settings import SETTINGS_FILE, Settings

log = logging.getLogger(__name__)

FOLDER = "offsite"  # in the data directory: the password, the SSH key, restic's cache, the stage
PASSWORD_FILE = "restic-password"
KEY_FILE = "ssh-key"  # ed25519; the .pub beside it goes into the server's authorized_keys
TAG = "appliance"
HOST = "appliance"  # one name whatever the machine is called: a new machine continues the series
SECRET_FILE = "secret.key"  # owner/secret.py's (ops can't import owner: it is a layer above)
STALE_AFTER_S = 2 * 24 * 3600  # the page warns past two days
SHORT_S, LONG_S = 300, 6 * 3600  # restic's time limits: a look at the repository; a transfer

ERRORS = {
    "no_restic": N_("offsite.err.no_restic"),
    "not_set_up": N_("offsite.err.not_set_up"),
    "bad_location": N_("offsite.err.bad_location"),
    "no_repository": N_("offsite.err.no_repository"),
    "wrong_password": N_("offsite.err.wrong_password"),
    "key_refused": N_("offsite.err.key_refused"),
    "unreachable": N_("offsite.err.unreachable"),
    "locked": N_("offsite.err.locked"),
    "timeout": N_("offsite.err.timeout"),
    "no_snapshot": N_("offsite.err.no_snapshot"),
    "damaged": N_("offsite.err.damaged"),
    "not_empty": N_("offsite.err.not_empty"),
    "failed": N_("offsite.err.failed"),
}

# restic 0.14 says what went wrong only in words (its exit code is 1 for all of it); the first
# pattern found names the failure.
_STDERR = (
    ("wrong_password", re.compile(r"wrong password|no key found", re.I)),
    ("key_refused", re.compile(r"permission denied \(publickey|unable to authenticate", re.I)),
    ("no_repository", re.compile(r"is there a repository at the following location|unable to open config file", re.I)),
    ("locked", re.compile(r"repository is already locked", re.I)),
    (
        "unreachable",
        re.compile(
            r"connection refused|connection timed out|no route to host|could not resolve|no such host|"
            r"ssh: connect|subprocess ssh|unable to start the sftp session|network is unreachable|dial tcp",
            re.I,
        ),
    ),
    ("bad_location", re.compile(r"invalid backend|unable to parse|does not exist: the (repository|backend)", re.I)),
)

_lock = threading.Lock()  # one restic at a time from this process (the nightly job, "send now")


class OffsiteError(RuntimeError):
    """restic could not do it. ``key`` (ERRORS) says why in the owner's language; ``detail`` is
    restic's own last words (no secrets: the password is in a file, the S3 keys in the env)."""

    def __init__(self, key: str, detail: str = ""):
        super().__init__(f"{key}: {detail}" if detail else key)
        self.key = key
        self.detail = detail

    @property
    def msgid(self) -> str:
        return ERRORS.get(self.key, ERRORS["failed"])


@dataclass(frozen=True)
class Snapshot:
    id: str
    short_id: str
    time: datetime
    paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class Repo:
    """A repository and what restic needs to open it."""

    location: str
    password_file: Path
    ssh_key: Path | None = None  # None: ssh as the user running the command would (the CLI)
    known_hosts: Path | None = None
    cache_dir: Path | None = None  # None: --no-cache
    s3_key_id: str = ""
    s3_secret: str = ""

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RESTIC_", "AWS_"))}
        env.update(RESTIC_REPOSITORY=self.location, RESTIC_PASSWORD_FILE=str(self.password_file), LC_ALL="C")
        if self.cache_dir is not None:
            env["RESTIC_CACHE_DIR"] = str(self.cache_dir)
        if self.s3_key_id:
            env["AWS_ACCESS_KEY_ID"] = self.s3_key_id
        if self.s3_secret:
            env["AWS_SECRET_ACCESS_KEY"] = self.s3_secret
        return env

    def options(self) -> list[str]:
        out = [] if self.cache_dir is not None else ["--no-cache"]
        sftp = parse_sftp(self.location)
        if sftp and self.ssh_key is not None:
            out += ["-o", f"sftp.command={ssh_command(sftp, self.ssh_key, self.known_hosts)}"]
        return out


# -- where the repository is ----------------------------------------------------------------------

# A user or host never starts with "-": ssh would read "-oProxyCommand=..." as an option.
_NAME = r"[A-Za-z0-9_][A-Za-z0-9._-]*"
_SFTP_SHORT = re.compile(rf"^sftp:(?:(?P<user>{_NAME})@)?(?P<host>{_NAME}):(?P<path>.+)$")
_SFTP_URL = re.compile(rf"^sftp://(?:(?P<user>{_NAME})@)?(?P<host>{_NAME})(?::(?P<port>\d{{1,5}}))?/(?P<path>.+)$")
MAX_LOCATION = 500


def parse_sftp(location: str) -> dict[str, str] | None:
    """``sftp:user@host:/path`` or ``sftp://user@host:port//path``: its user, host and port."""
    m = _SFTP_URL.match(location) or _SFTP_SHORT.match(location)
    if not m:
        return None
    parts = m.groupdict()
    return {"user": parts.get("user") or "", "host": parts["host"], "port": parts.get("port") or "22"}


def check_location(location: str) -> str:
    """The repository as the owner typed it, trimmed, or OffsiteError("bad_location")."""
    location = location.strip()
    if not location:
        raise OffsiteError("not_set_up")
    if len(location) > MAX_LOCATION or any(c in location for c in "\n\r\0"):
        raise OffsiteError("bad_location", location[:80])
    if location.startswith("sftp"):
        if parse_sftp(location) is None:
            raise OffsiteError("bad_location", location)
    elif location.startswith("s3:"):
        if len(location) < 5:
            raise OffsiteError("bad_location", location)
    elif not location.startswith("/"):
        # restic's other backends (rest:, b2:, ...) work too, but a relative folder would land
        # wherever the service happens to start.
        if re.match(r"^[a-z0-9]+:", location) is None:
            raise OffsiteError("bad_location", location)
    return location


def ssh_command(sftp: dict[str, str], key: Path, known_hosts: Path | None) -> str:
    """The ssh that restic starts for sftp: this appliance's key only, never a password prompt
    (BatchMode: a scheduled job has nobody to type it), the server's key learnt the first time
    and held to after that."""
    parts = ["ssh", "-i", str(key), "-p", sftp["port"], "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes"]
    parts += ["-o", "ConnectTimeout=20", "-o", "ServerAliveInterval=30", "-o", "StrictHostKeyChecking=accept-new"]
    if known_hosts is not None:
        parts += ["-o", f"UserKnownHostsFile={known_hosts}"]
    parts += [f"{sftp['user']}@{sftp['host']}" if sftp["user"] else sftp["host"], "-s", "sftp"]
    return " ".join(shlex.quote(p) for p in parts)


def folder(data_dir: Path) -> Path:
    d = data_dir / FOLDER
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    return d


def available() -> str | None:
    """The restic program's path, or None (the page says how to install it)."""
    return shutil.which("restic")


def repo_for(settings: Settings, location: str | None = None) -> Repo:
    """The owner's repository, opened with this appliance's password and key."""
    d = folder(settings.data_dir)
    key = d / KEY_FILE
    return Repo(
        location=check_location(settings.offsite_repository if location is None else location),
        password_file=d / PASSWORD_FILE,
        ssh_key=key if key.exists() else None,
        known_hosts=d / "known_hosts",
        cache_dir=d / "cache",
        s3_key_id=settings.offsite_s3_key_id,
        s3_secret=settings.offsite_s3_secret,
    )


# -- the password and the key ---------------------------------------------------------------------


def ensure_password(data_dir: Path) -> str | None:
    """Make the repository's password once (0600). Returns it when it was made just now."""
    path = folder(data_dir) / PASSWORD_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return None
    # Groups of five from an alphabet without look-alikes: written down by hand, typed back years later.
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    password = "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(6))
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(password + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return password


def read_password(data_dir: Path) -> str | None:
    path = data_dir / FOLDER / PASSWORD_FILE
    return path.read_text(encoding="ascii").strip() if path.exists() else None


def ensure_ssh_key(data_dir: Path) -> str:
    """This appliance's SSH key for an sftp repository (made once); returns its public half."""
    key = folder(data_dir) / KEY_FILE
    if not key.exists():
        try:
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "appliance-offsite", "-f", str(key)],
                check=True,
                capture_output=True,
                timeout=30,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise OffsiteError("failed", f"ssh-keygen: {exc}") from None
    return key.with_name(KEY_FILE + ".pub").read_text(encoding="ascii").strip()


def public_key(data_dir: Path) -> str | None:
    pub = data_dir / FOLDER / (KEY_FILE + ".pub")
    return pub.read_text(encoding="ascii").strip() if pub.exists() else None


# -- restic ---------------------------------------------------------------------------------------


def _run(repo: Repo, args: Sequence[str], *, timeout: float = SHORT_S, cwd: Path | None = None) -> str:
    """restic ``args`` on ``repo``; its stdout, or OffsiteError with the failure named.

    A restic that was killed (the machine lost power, a time limit here) leaves its lock in the
    repository, and restic 0.14 refuses every later ``forget``/``prune``/``check`` until it is
    removed: once, ``restic unlock`` (which removes only locks whose process is gone or that are
    older than 30 minutes) and the command again. A live lock still says "busy"."""
    try:
        return _run_once(repo, args, timeout=timeout, cwd=cwd)
    except OffsiteError as exc:
        if exc.key != "locked" or args[0] == "unlock":
            raise
    _run_once(repo, ["unlock"], timeout=SHORT_S, cwd=None)
    log.warning("off-site: removed a stale lock from the repository before restic %s", args[0])
    return _run_once(repo, args, timeout=timeout, cwd=cwd)


def _run_once(repo: Repo, args: Sequence[str], *, timeout: float, cwd: Path | None) -> str:
    program = available()
    if program is None:
        raise OffsiteError("no_restic")
    if not repo.password_file.exists():
        raise OffsiteError("not_set_up")
    try:
        done = subprocess.run(
            [program, *repo.options(), *args],
            env=repo.env(),
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise OffsiteError("timeout", f"restic {args[0]}: more than {timeout:.0f} s") from None
    except OSError as exc:
        raise OffsiteError("failed", str(exc)) from None
    if done.returncode != 0:
        raise _failure(done.stderr)
    return done.stdout


def _failure(stderr: str) -> OffsiteError:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    detail = " ".join(lines[-3:])[-400:]
    for key, pattern in _STDERR:
        if pattern.search(stderr):
            return OffsiteError(key, detail)
    return OffsiteError("failed", detail)


def _time(text: str) -> datetime:
    # restic writes nanoseconds; Python reads at most microseconds.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text.replace("Z", "+00:00"))
    return datetime.fromisoformat(text).astimezone(UTC)


def initialise(repo: Repo) -> bool:
    """Make the repository, or open the one already there with this password. True if made."""
    try:
        _run(repo, ["cat", "config"])
        return False
    except OffsiteError as exc:
        if exc.key != "no_repository":
            raise
    _run(repo, ["init"])
    return True


def snapshots(repo: Repo) -> list[Snapshot]:
    """The appliance's snapshots, oldest first."""
    out = json.loads(_run(repo, ["snapshots", "--json", "--tag", TAG]) or "[]")
    found = [
        Snapshot(s["id"], s.get("short_id", s["id"][:8]), _time(s["time"]), tuple(s.get("paths") or ()))
        for s in out or []
    ]
    return sorted(found, key=lambda s: s.time)  # by the instant: a machine's zone may have changed


def stage(data_dir: Path, backup_file: Path) -> Path:
    """The folder a snapshot is taken of: what a deleted data directory needs to come back."""
    where = folder(data_dir) / "stage"
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(mode=0o700)
    try:
        os.link(backup_file, where / "appliance.db")  # the same disk: no second copy of the data
    except OSError:
        shutil.copyfile(backup_file, where / "appliance.db")
    for name in (SECRET_FILE, SETTINGS_FILE):
        if (data_dir / name).exists():
            shutil.copy2(data_dir / name, where / name)
    key = data_dir / FOLDER / KEY_FILE
    if key.exists():
        (where / FOLDER).mkdir(mode=0o700)
        for part in (key, key.with_name(KEY_FILE + ".pub")):
            shutil.copy2(part, where / FOLDER / part.name)
    return where


def send(repo: Repo, data_dir: Path, backup_file: Path, now: datetime, keep: dict[str, int]) -> dict[str, Any]:
    """One snapshot of ``backup_file`` (and the secret, settings, key), then retention."""
    with _lock:
        where = stage(data_dir, backup_file)
        try:
            # "." from inside the stage: the snapshot's files sit at its root, whatever the data
            # directory was called, so a restore onto another machine finds them.
            at = now.astimezone().strftime("%Y-%m-%d %H:%M:%S")
            out = _run(
                repo,
                ["backup", "--json", "--host", HOST, "--tag", TAG, "--time", at, "."],
                timeout=LONG_S,
                cwd=where,
            )
        finally:
            shutil.rmtree(where, ignore_errors=True)
        summary: dict[str, Any] = next(
            (json.loads(ln) for ln in reversed(out.splitlines()) if '"summary"' in ln),
            {},
        )
        removed = _forget(repo, keep)
    return {
        "snapshot": str(summary.get("snapshot_id", ""))[:8],
        "added": int(summary.get("data_added", 0)),
        "removed": removed,
    }


def _forget(repo: Repo, keep: dict[str, int]) -> int:
    policy = [arg for kind, n in keep.items() if n > 0 for arg in (f"--keep-{kind}", str(n))]
    if not policy:  # no policy at all would be "keep everything" to restic: say it plainly
        return 0
    groups = json.loads(
        _run(repo, ["forget", "--json", "--tag", TAG, "--group-by", "host,tags", *policy], timeout=LONG_S) or "[]"
    )
    removed = sum(len(g.get("remove") or ()) for g in groups or ())
    if removed:
        _run(repo, ["prune"], timeout=LONG_S)
    return removed


def check(repo: Repo) -> None:
    """``restic check``: the repository's structure and indexes are sound."""
    with _lock:
        _run(repo, ["check"], timeout=LONG_S)


def _restore_into(repo: Repo, target: Path, snapshot: str = "latest") -> Snapshot:
    found = snapshots(repo)
    if not found:
        raise OffsiteError("no_snapshot")
    chosen = found[-1] if snapshot == "latest" else next((s for s in found if s.id.startswith(snapshot)), None)
    if chosen is None:
        raise OffsiteError("no_snapshot", snapshot)
    _run(repo, ["restore", chosen.id, "--target", str(target)], timeout=LONG_S)
    return chosen


def restore_test(repo: Repo, scratch_parent: Path) -> dict[str, Any]:
    """Restore the newest snapshot into a scratch folder and open its database read-only."""
    with _lock:
        scratch = Path(tempfile.mkdtemp(prefix="restore-test-", dir=scratch_parent))
        try:
            chosen = _restore_into(repo, scratch)
            try:
                info = backup.verify(scratch / "appliance.db")
            except backup.BackupError as exc:
                raise OffsiteError("damaged", str(exc)) from None
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return {"snapshot": chosen.short_id, "time": chosen.time.isoformat(), **info}


def restore_data_dir(repo: Repo, data_dir: Path, snapshot: str = "latest") -> dict[str, Any]:
    """Bring a lost data directory back from the repository: the database (checked before it is
    put in place), the secret, the settings and the SSH key; then this password file beside them,
    so the nightly copies go on. Refuses a data directory that still has a database."""
    if (data_dir / "appliance.db").exists():
        raise OffsiteError("not_empty", str(data_dir / "appliance.db"))
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".offsite-restore-", dir=data_dir))
    try:
        chosen = _restore_into(repo, scratch, snapshot)
        try:
            info = backup.check_restorable(scratch / "appliance.db")
        except backup.BackupError as exc:
            raise OffsiteError("damaged", str(exc)) from None
        for name in (SECRET_FILE, SETTINGS_FILE):
            if (scratch / name).exists() and not (data_dir / name).exists():
                os.replace(scratch / name, data_dir / name)
        mine = folder(data_dir)
        for part in (KEY_FILE, KEY_FILE + ".pub"):
            if (scratch / FOLDER / part).exists() and not (mine / part).exists():
                os.replace(scratch / FOLDER / part, mine / part)
        if not (mine / PASSWORD_FILE).exists():
            shutil.copyfile(repo.password_file, mine / PASSWORD_FILE)
            os.chmod(mine / PASSWORD_FILE, 0o600)
        os.replace(scratch / "appliance.db", data_dir / "appliance.db")  # last: it says "restored"
        os.chmod(data_dir / "appliance.db", 0o600)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {"snapshot": chosen.short_id, "time": chosen.time.isoformat(), **info}


# -- what the scheduler runs, and what the page reads ---------------------------------------------


def configured(settings: Settings) -> bool:
    """An off-site repository was set up (its password exists) and is named in the settings."""
    return bool(settings.offsite_repository.strip()) and (settings.data_dir / FOLDER / PASSWORD_FILE).exists()


def keep_of(settings: Settings) -> dict[str, int]:
    return {
        "daily": settings.offsite_keep_daily,
        "weekly": settings.offsite_keep_weekly,
        "monthly": settings.offsite_keep_monthly,
    }


def _note(store: Store, key: str, value: dict[str, Any]) -> None:
    with store.write() as db:
        write_meta(db, key, json.dumps(value, ensure_ascii=False))


def _failed(store: Store, what: str, now: datetime, exc: Exception) -> None:
    err = exc if isinstance(exc, OffsiteError) else OffsiteError("failed", str(exc)[-400:])
    _note(store, f"offsite_{what}_error", {"at": now.isoformat(), "key": err.key, "detail": err.detail})
    log.error("off-site %s failed: %s", what, err)


def send_backup(store: Store, settings: Settings, backup_file: Path, now: datetime) -> dict[str, Any]:
    """Send one backup file now; the outcome is noted for the page. Raises OffsiteError."""
    try:
        done = send(repo_for(settings), settings.data_dir, backup_file, now, keep_of(settings))
    except Exception as exc:
        _failed(store, "send", now, exc)
        raise
    done = {"at": now.isoformat(), **done}
    _note(store, "offsite_send_ok", done)
    log.info(
        "off-site copy: snapshot %s, %d bytes added, %d forgotten", done["snapshot"], done["added"], done["removed"]
    )
    return done


def after_nightly(store: Store, settings: Settings, backup_file: Path, now: datetime) -> None:
    """The nightly backup was taken: send it, when a repository is set up. Never raises: the
    local backup is done whatever happens here, and the page shows the failure."""
    if not configured(settings):
        return
    with contextlib.suppress(Exception):  # noted and logged by send_backup
        send_backup(store, settings, backup_file, now)


def weekly_check(store: Store, settings: Settings, now: datetime) -> None:
    if not configured(settings):
        return
    try:
        check(repo_for(settings))
        _note(store, "offsite_check_ok", {"at": now.isoformat()})
        log.info("off-site check: the repository is sound")
    except Exception as exc:
        _failed(store, "check", now, exc)


def monthly_restore_test(store: Store, settings: Settings, now: datetime) -> None:
    if not configured(settings):
        return
    try:
        done = restore_test(repo_for(settings), folder(settings.data_dir))
        _note(store, "offsite_restore_ok", {"at": now.isoformat(), **done})
        log.info("off-site test restore: snapshot %s opens, %d conversations", done["snapshot"], done["conversations"])
    except Exception as exc:
        _failed(store, "restore", now, exc)


def status(store: Store, now: datetime) -> dict[str, Any]:
    """What the page shows: for send, check and restore, the last success and the last failure
    (if newer); the last copy's age in minutes and whether it is older than two days."""
    db = store.read()
    out: dict[str, Any] = {}
    for what in ("send", "check", "restore"):
        ok = json.loads(read_meta(db, f"offsite_{what}_ok") or "null")
        err = json.loads(read_meta(db, f"offsite_{what}_error") or "null")
        if ok and err and err["at"] < ok["at"]:
            err = None
        out[what] = ok
        out[f"{what}_error"] = err
    last = out["send"]
    out["minutes"] = None
    out["stale"] = False  # none sent yet: the page says so in its own words
    if last:
        age = (now - datetime.fromisoformat(last["at"])).total_seconds()
        out["minutes"] = max(0, int(age // 60))
        out["stale"] = age > STALE_AFTER_S
    out["password_kept"] = read_meta(db, "offsite_password_kept") is not None
    return out


def password_kept(store: Store, now: datetime) -> None:
    """The owner said they keep the password: it is never shown again."""
    with store.write() as db:
        write_meta(db, "offsite_password_kept", now.isoformat())
