"""Off-site copies with restic (ops/offsite.py): real restic against a local repository and an SFTP
server started here (Debian's openssh-server, on a free loopback port, with a throwaway host key
and an authorized key); the nightly hook, retention, the weekly check and the monthly test
restore as the scheduler runs them; the backups page (the password shown until kept, the age of
the last copy and its warning, failures in words); and a deleted data directory brought back by
`appliance restore-offsite` with the app starting on it with its conversations."""

from __future__ import annotations

import getpass
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from appliance import settings as settings_mod
from appliance.app import create_app
from appliance.conversations.store import Conversations
from appliance.db import Store, read_meta
from appliance.ops import backup, offsite, scheduler
from appliance.owner import account as owner
from appliance.settings import Settings

from .helpers import APPLIANCE, SAME, Clock, bearer, csrf, free_port, password_hash, send, sign_in, start_chat

DAY1 = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
QUESTION = "سلام، سفارش ۱۲۳۴ من کی به شیراز می‌رسد؟"


def _meta(store: Store, key: str) -> Any:
    return json.loads(read_meta(store.read(), key) or "null")


def _persian_conversation(store: Store, clock: Clock) -> str:
    conversations = Conversations(store, clock)
    conv = conversations.start(lang="fa")
    conversations.add_customer_message(conv, QUESTION)
    return conv


# -- addresses, without restic ---------------------------------------------------------------------


def test_repository_addresses_are_read_or_refused() -> None:
    assert offsite.parse_sftp("sftp:backup@nas.local:/srv/shop") == {
        "user": "backup",
        "host": "nas.local",
        "port": "22",
    }
    assert offsite.parse_sftp("sftp://u@127.0.0.1:2222//srv/shop") == {"user": "u", "host": "127.0.0.1", "port": "2222"}
    assert offsite.parse_sftp("/media/usb/shop") is None
    for good in ("/media/usb/shop", "sftp:u@h:/x", "s3:https://s3.example/bucket", " /mnt/پشتیبان "):
        assert offsite.check_location(good) == good.strip()
    hostile = ("sftp:-oProxyCommand=touch@x:/y", "sftp://u@-oProxyCommand=x/y", "/x" * 300)
    for bad, key in (("", "not_set_up"), ("پوشه/نسبی", "bad_location"), ("sftp:nohost", "bad_location")) + tuple(
        (h, "bad_location") for h in hostile
    ):
        with pytest.raises(offsite.OffsiteError) as caught:
            offsite.check_location(bad)
        assert caught.value.key == key


def test_the_password_is_made_once_and_kept_private(tmp_path: Path) -> None:
    made = offsite.ensure_password(tmp_path)
    assert made is not None and len(made) == 35 and made.count("-") == 5
    assert offsite.ensure_password(tmp_path) is None  # never made again: the owner wrote the first down
    assert offsite.read_password(tmp_path) == made
    assert (tmp_path / "offsite" / "restic-password").stat().st_mode & 0o777 == 0o600


# -- a local repository, as the scheduler drives it ----------------------------------------------------


@pytest.mark.slow
def test_nightly_copies_retention_check_and_test_restore_on_a_local_repository(data_dir: Path, tmp_path: Path) -> None:
    repo_dir = tmp_path / "usb disk" / "مخزن"  # spaces and Persian in the path
    settings = Settings(
        data_dir=data_dir,
        model="none",
        offsite_repository=str(repo_dir),
        offsite_keep_daily=2,
        offsite_keep_weekly=0,
        offsite_keep_monthly=0,
    )
    store = Store(settings.db_path)
    store.migrate()
    clock = Clock(DAY1)
    _persian_conversation(store, clock)
    offsite.ensure_password(data_dir)
    assert offsite.initialise(offsite.repo_for(settings)) is True
    assert offsite.initialise(offsite.repo_for(settings)) is False  # opened with its password, not made again

    jobs = scheduler.build(settings, store, clock)
    for day in range(4):  # four nights; two daily copies are kept
        clock.now = DAY1 + timedelta(days=day)
        jobs.get_job("nightly_backup").func()
        sent = _meta(store, "offsite_send_ok")
        assert sent is not None and sent["at"] == clock.now.isoformat()
    assert sent["removed"] == 1  # the fourth night forgot the second's copy
    kept = offsite.snapshots(offsite.repo_for(settings))
    assert [s.time for s in kept] == [DAY1 + timedelta(days=2), DAY1 + timedelta(days=3)]

    # The weekly check and the monthly test restore, as scheduled.
    check = jobs.get_job("offsite_check").trigger
    assert {f.name: str(f) for f in check.fields}["day_of_week"] == "fri"
    jobs.get_job("offsite_check").func()
    assert _meta(store, "offsite_check_ok") == {"at": clock.now.isoformat()}
    jobs.get_job("offsite_restore_test").func()
    tested = _meta(store, "offsite_restore_ok")
    assert tested is not None and tested["conversations"] == 1 and tested["snapshot"] == kept[-1].short_id
    assert not list(offsite.folder(data_dir).glob("restore-test-*"))  # the scratch folder is gone
    assert not (data_dir / "offsite" / "stage").exists()

    # A repository whose disk is gone: the local backup is still taken, the failure is noted.
    shutil.rmtree(repo_dir)
    clock.now += timedelta(days=1)
    jobs.get_job("nightly_backup").func()
    assert (read_meta(store.read(), "backup_last_ok") or "").startswith(clock.now.isoformat())
    failed = _meta(store, "offsite_send_error")
    assert failed is not None and failed["key"] == "no_repository"
    shown = offsite.status(store, clock.now)
    assert shown["send_error"]["key"] == "no_repository" and shown["minutes"] == 24 * 60
    store.close()


@pytest.mark.slow
def test_a_lock_left_by_a_killed_restic_does_not_stop_the_next_night(data_dir: Path, tmp_path: Path) -> None:
    settings = Settings(data_dir=data_dir, model="none", offsite_repository=str(tmp_path / "repo"))
    store = Store(settings.db_path)
    store.migrate()
    _persian_conversation(store, Clock(DAY1))
    offsite.ensure_password(data_dir)
    repo = offsite.repo_for(settings)
    offsite.initialise(repo)
    # A restic killed mid-backup (power lost, a time limit) leaves its lock in the repository.
    program = offsite.available()
    assert program is not None
    killed = subprocess.Popen(
        [program, *repo.options(), "backup", "--stdin", "--stdin-filename", "نیمه‌کاره.db"],
        env=repo.env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    locks = tmp_path / "repo" / "locks"
    deadline = time.monotonic() + 20
    while not any(locks.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    killed.kill()
    killed.wait()
    assert any(locks.iterdir())
    with pytest.raises(offsite.OffsiteError) as busy:
        offsite._run_once(repo, ["check"], timeout=60, cwd=None)
    assert busy.value.key == "locked"
    info = backup.take(settings.db_path, settings.backups_dir, DAY1)
    offsite.send_backup(store, settings, info.path, DAY1)  # the stale lock removed, then sent
    offsite.check(repo)
    assert not any(locks.iterdir()) and len(offsite.snapshots(repo)) == 1
    store.close()


# -- an SFTP server of our own ------------------------------------------------------------------------


@dataclass
class Sshd:
    port: int
    authorized_keys: Path
    root: Path

    def url(self, folder: str) -> str:
        return f"sftp://{getpass.getuser()}@127.0.0.1:{self.port}/{self.root / folder}"


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[Sshd]:
    """Debian's sshd as the current user, on a free loopback port: public keys only."""
    here = tmp_path / "sshd"
    here.mkdir()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(here / "host_key")], check=True)
    keys = here / "authorized_keys"
    keys.write_text("")
    if os.geteuid() == 0:  # sshd as root wants its privilege-separation folder (Debian makes it at boot)
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    port = free_port()
    config = here / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {here / 'host_key'}\nPidFile {here / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {keys}\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PubkeyAuthentication yes\nPermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\n"
        "Subsystem sftp internal-sftp\n"
    )
    proc = subprocess.Popen(
        ["/usr/sbin/sshd", "-D", "-e", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            time.sleep(0.05)
    (here / "repos").mkdir()
    try:
        yield Sshd(port, keys, here / "repos")
    finally:
        proc.terminate()
        proc.wait(10)


def _owner_client(data_dir: Path, clock: Clock, **overrides: object) -> TestClient:
    settings = Settings(data_dir=data_dir, model="none", shop_name="کتاب‌فروشی", **overrides)  # type: ignore[arg-type]
    client = TestClient(create_app(settings, clock=clock, with_scheduler=False, with_channels=False))
    return client


def _htmx(c: TestClient, path: str, lang: str = "fa", **kwargs: object):
    headers = {
        **SAME,
        "x-csrf-token": csrf(c),
        "hx-request": "true",
        "hx-current-url": f"http://testserver/admin/backups?lang={lang}",
    }
    return c.post(path, headers=headers, **kwargs)  # type: ignore[arg-type]


@pytest.mark.slow
def test_the_owner_sets_up_an_sftp_repository_and_sends_a_copy(data_dir: Path, sshd: Sshd) -> None:
    clock = Clock(DAY1)
    with _owner_client(data_dir, clock) as c:
        store = c.app.state.services.store
        owner.set_password(store, password_hash(), clock)
        sign_in(c)
        url = sshd.url("shop")
        # The first try: the server doesn't know this appliance's key yet. The key is made and shown.
        refused = _htmx(c, "/admin/backups/offsite", data={"repository": url})
        assert refused.status_code == 422
        assert "سرور SFTP کلید این دستگاه را نپذیرفت" in refused.text
        public = offsite.public_key(data_dir)
        assert public is not None and public.startswith("ssh-ed25519 ") and public in refused.text
        assert c.app.state.services.settings.offsite_repository == url  # the choice is kept meanwhile

        sshd.authorized_keys.write_text(public + "\n")
        ready = _htmx(c, "/admin/backups/offsite", data={"repository": url})
        assert ready.status_code == 200, ready.text
        password = offsite.read_password(data_dir)
        assert password and password in ready.text and "همین حالا یادداشتش کنید" in ready.text
        assert (sshd.root / "shop" / "config").exists()  # restic made its repository on the server

        sent = _htmx(c, "/admin/backups/offsite/send")
        assert sent.status_code == 200, sent.text
        assert "آخرین نسخه‌ی بیرونی" in sent.text and "همین حالا" in sent.text
        snaps = offsite.snapshots(offsite.repo_for(c.app.state.services.settings))
        assert len(snaps) == 1 and snaps[0].short_id in sent.text

        # The one command brings the data back over SFTP too, with the appliance's key.
        written_down = data_dir.parent / "password.txt"
        written_down.write_text(password + "\n")
        elsewhere = data_dir.parent / "new-server"
        command = [APPLIANCE, "restore-offsite", "--repo", url, "--password-file", str(written_down)]
        command += ["--ssh-key", str(data_dir / "offsite" / "ssh-key"), "--data-dir", str(elsewhere)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert backup.verify(elsewhere / "appliance.db")["conversations"] == 0

        # "I have kept it": the box is needed, then the password is never shown again.
        assert _htmx(c, "/admin/backups/offsite/kept", data={}).status_code == 422
        assert _htmx(c, "/admin/backups/offsite/kept", data={"kept": "yes"}).status_code == 200
        assert password not in c.get("/admin/backups?lang=fa").text
        assert password not in c.get("/admin/backups?lang=en").text


# -- the page: age, warning, failures in words ----------------------------------------------------------


@pytest.mark.slow
def test_the_page_shows_the_age_warns_past_two_days_and_says_failures(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(DAY1)
    with _owner_client(data_dir, clock) as c:
        store = c.app.state.services.store
        owner.set_password(store, password_hash(), clock)
        sign_in(c)
        fa = c.get("/admin/backups?lang=fa").text
        assert "نسخه‌های بیرون از این سرور" in fa and "restore-offsite" in fa

        repo = tmp_path / "disk2"
        assert _htmx(c, "/admin/backups/offsite", data={"repository": str(repo)}).status_code == 200
        assert _htmx(c, "/admin/backups/offsite/send").status_code == 200
        clock.now = DAY1 + timedelta(hours=5)
        fa = c.get("/admin/backups?lang=fa").text
        assert "۵ ساعت پیش" in fa and "۱۴۰۵/۰۸/۱۰" in fa  # 2026-11-01 in the Jalali calendar
        assert "بیش از دو روز" not in fa

        clock.now = DAY1 + timedelta(days=3)
        sign_in(c)  # the owner's session of three days ago has ended
        fa = c.get("/admin/backups?lang=fa").text
        assert "۳ روز پیش" in fa and "بیش از دو روز پیش فرستاده شده" in fa
        en = c.get("/admin/backups?lang=en").text
        assert "3 days ago" in en and "more than two days old" in en

        # Another repository, made with another password: refused, in words.
        other = tmp_path / "someone-elses"
        (tmp_path / "pw").write_text("رمز دیگری\n")
        offsite.initialise(offsite.Repo(location=str(other), password_file=tmp_path / "pw"))
        wrong = _htmx(c, "/admin/backups/offsite", data={"repository": str(other)})
        assert wrong.status_code == 422 and "مخزن گذرواژه را نپذیرفت" in wrong.text
        wrong_en = _htmx(c, "/admin/backups/offsite", lang="en", data={"repository": str(other)})
        assert "The repository refused the password" in wrong_en.text

        # A server nobody listens on: unreachable, said so.
        nobody = f"sftp://root@127.0.0.1:{free_port()}//srv/shop"
        away = _htmx(c, "/admin/backups/offsite", data={"repository": nobody})
        assert away.status_code == 422 and "به مخزن دسترسی نشد" in away.text

        # Not an address at all.
        bad = _htmx(c, "/admin/backups/offsite", data={"repository": "پشتیبان‌ها"})
        assert bad.status_code == 422 and "این نشانی مخزن نیست" in bad.text

        # A send that fails is shown with its date.
        c.app.state.services.apply_settings(c.app.state.services.settings.replace(offsite_repository=str(other)))
        failed = _htmx(c, "/admin/backups/offsite/send")
        assert failed.status_code == 502 and "مخزن گذرواژه را نپذیرفت" in failed.text
        assert "فرستادن در ۱۴۰۵/۰۸/۱۳" in c.get("/admin/backups?lang=fa").text

        # A server without restic (a plain install): the page says how to install it.
        monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))
        fa = c.get("/admin/backups?lang=fa").text
        assert "restic روی این سرور نصب نیست" in fa and "sudo apt-get install restic" in fa
        c.app.state.services.apply_settings(c.app.state.services.settings.replace(offsite_repository=str(repo)))
        missing = _htmx(c, "/admin/backups/offsite/send", lang="en")
        assert missing.status_code == 502 and "restic is not installed on this server" in missing.text


# -- the one documented command ----------------------------------------------------------------------


@pytest.mark.slow
def test_a_deleted_data_directory_comes_back_with_one_command(data_dir: Path, tmp_path: Path) -> None:
    repo = tmp_path / "offsite-disk"
    settings_mod.write_file(data_dir, {"offsite_repository": str(repo), "shop_name": "کتاب‌فروشی"})
    settings = settings_mod.load({"data_dir": data_dir, "model": "none"}, environ={})
    with TestClient(create_app(settings, with_scheduler=False, with_channels=False)) as c:
        conv, token, _ = start_chat(c, "fa")
        assert send(c, conv, token, QUESTION).status_code in (200, 201)
        store = c.app.state.services.store
        offsite.ensure_password(data_dir)
        offsite.initialise(offsite.repo_for(settings))
        info = backup.take(settings.db_path, settings.backups_dir, datetime.now(UTC))
        offsite.send_backup(store, settings, info.path, datetime.now(UTC))
    written_down = tmp_path / "password.txt"
    shutil.copyfile(data_dir / "offsite" / "restic-password", written_down)

    shutil.rmtree(data_dir)  # the disk died
    command = [APPLIANCE, "restore-offsite", "--repo", str(repo), "--password-file", str(written_down)]
    done = subprocess.run([*command, "--data-dir", str(data_dir)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "1 conversations" in done.stdout
    assert (data_dir / "appliance.db").stat().st_mode & 0o777 == 0o600
    assert (data_dir / "offsite" / "restic-password").read_text() == written_down.read_text()

    again = subprocess.run([*command, "--data-dir", str(data_dir)], capture_output=True, text=True, timeout=120)
    assert again.returncode != 0 and "already holds a database" in again.stderr  # never over live data

    (tmp_path / "wrong.txt").write_text("not-the-password\n")
    wrong = subprocess.run(
        [APPLIANCE, "restore-offsite", "--repo", str(repo), "--password-file", str(tmp_path / "wrong.txt")]
        + ["--data-dir", str(tmp_path / "elsewhere")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert wrong.returncode != 0 and "refused the password" in wrong.stderr

    # The app starts on it; the visitor's token (the secret came back too) still opens the chat.
    restored = settings_mod.load({"data_dir": data_dir, "model": "none"}, environ={})
    assert restored.shop_name == "کتاب‌فروشی"  # settings.toml came back with the database
    with TestClient(create_app(restored, with_scheduler=False)) as c:
        history = c.get(f"/api/v1/conversations/{conv}/messages", headers=bearer(token))
        assert history.status_code == 200, history.text
        assert QUESTION in [m["text"] for m in history.json()["messages"]]
        assert offsite.configured(c.app.state.services.settings)  # the nightly copies go on
