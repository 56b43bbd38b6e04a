"""The shop's data: ``backup``, ``verify-backup``, ``restore``, ``restore-offsite``, and a customer's data
(``export-customer``, ``erase-customer``)."""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from appliance.cli.base import data_dir_option, load_settings, main, open_store
from appliance.clock import utc_now
from appliance.ops.instance_lock import AlreadyRunning, InstanceLock


@main.command("backup")
@data_dir_option
@click.option(
    "--to",
    "target",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write the backup here (a USB disk, a network share) instead of backups/.",
)
@click.option("--if-exists", is_flag=True, help="Do nothing (and succeed) when there is no database yet.")
def backup_cmd(target: Path | None, if_exists: bool, **flags: Any) -> None:
    """Take a backup now (safe while the appliance runs)."""
    from appliance.ops import backup

    settings = load_settings(**flags)
    if not settings.db_path.exists():
        if if_exists:
            click.echo(f"no database at {settings.db_path} yet: nothing to back up")
            return
        raise click.ClickException(f"no database at {settings.db_path}")
    try:
        info = backup.take(settings.db_path, target or settings.backups_dir, utc_now())
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    if target is None:
        backup.rotate(settings.backups_dir, settings.backup_keep)
    click.echo(f"backup written: {info.path} ({info.size / 1e6:.1f} MB, integrity ok)")


@main.command("verify-backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def verify_backup(file: Path) -> None:
    """Check a backup file: integrity, schema version, what it holds."""
    from appliance.ops import backup

    try:
        info = backup.verify(file)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"{file}: integrity ok, schema version {info['schema_version']}, "
        f"{info['kb_entries']} knowledge-base entries, {info['conversations']} conversations"
    )


@main.command("restore")
@data_dir_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Don't ask for confirmation.")
def restore_cmd(file: Path, yes: bool, **flags: Any) -> None:
    """Replace the database with a backup (the appliance must be stopped; the current data is
    backed up first)."""
    from appliance.ops import backup

    settings = load_settings(**flags)
    lock = InstanceLock(settings.data_dir)
    try:
        lock.acquire()
    except AlreadyRunning as exc:
        raise click.ClickException(f"stop the appliance first: {exc}") from None
    try:
        if not yes:
            click.confirm(f"Replace {settings.db_path} with {file}?", abort=True)
        safety = backup.restore(file, settings.db_path, settings.backups_dir, utc_now())
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        lock.release()
    store = open_store(settings)  # migrates an older backup forward now, not at the next start
    store.close()
    if safety:
        click.echo(f"the previous database was saved as {safety}")
    click.echo(f"restored {file}")


def _customer_options(fn: Callable) -> Callable:
    fn = click.option(
        "--contact",
        default=None,
        help="Every conversation that left this e-mail address or phone number (in any of its forms). "
        "Nobody verified them: anyone can type an address.",
    )(fn)
    return click.option("--conversation", default=None, help="A conversation id (with its visitor's others).")(fn)


@main.command("export-customer")
@data_dir_option
@_customer_options
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
def export_customer(conversation: str | None, contact: str | None, output: Path | None, **flags: Any) -> None:
    """Everything stored about one customer, as JSON (a data-access request)."""
    from appliance.channels import records
    from appliance.conversations import privacy

    if not (conversation or contact):
        raise click.ClickException("give --conversation or --contact")
    store = open_store(load_settings(**flags))
    try:
        ids = privacy.customer_ids(store, conversation_id=conversation, contact_detail=contact)
        data = records.export_customer(store, ids)
    finally:
        store.close()
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if output:
        output.write_text(text + "\n", encoding="utf-8")
        click.echo(f"{len(data['conversations'])} conversation(s) written to {output}")
    else:
        click.echo(text)


@main.command("erase-customer")
@data_dir_option
@_customer_options
@click.option("--yes", is_flag=True, help="Don't ask for confirmation.")
def erase_customer(conversation: str | None, contact: str | None, yes: bool, **flags: Any) -> None:
    """Delete one customer's conversations for good (backups age out on their own schedule)."""
    from appliance.conversations import privacy

    if not (conversation or contact):
        raise click.ClickException("give --conversation or --contact")
    if not yes:
        click.confirm("Delete this customer's conversations for good?", abort=True)
    store = open_store(load_settings(**flags))
    try:
        n = privacy.erase_customer(
            store, privacy.customer_ids(store, conversation_id=conversation, contact_detail=contact)
        )
    finally:
        store.close()
    click.echo(f"erased {n} conversation(s)")


@main.command("restore-offsite")
@data_dir_option
@click.option(
    "--repo",
    "repository",
    required=True,
    help="The off-site repository, as on the backups page: a folder, sftp:user@host:/folder, s3:...",
)
@click.option(
    "--password-file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file holding the repository's password (the one the backups page showed once).",
)
@click.option(
    "--ssh-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="sftp: the key to sign in with (default: your own ssh setup).",
)
@click.option("--snapshot", default="latest", show_default=True, help="Which snapshot (an id from restic).")
def restore_offsite(repository: str, password_file: Path, ssh_key: Path | None, snapshot: str, **flags: Any) -> None:
    """Bring a lost data directory back from the off-site repository: the database (checked),
    the secret, the settings; then start the appliance on it as before."""
    from appliance.db import Store, write_meta
    from appliance.ops import offsite

    settings = load_settings(**flags)
    data_dir = settings.data_dir
    try:
        location = offsite.check_location(repository)
    except offsite.OffsiteError as exc:
        raise click.ClickException(f"not a repository address: {repository}") from exc
    if offsite.available() is None:
        raise click.ClickException("restic is not installed (Debian/Ubuntu: sudo apt-get install restic)")
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    lock = InstanceLock(data_dir)
    try:
        lock.acquire()
    except AlreadyRunning as exc:
        raise click.ClickException(f"stop the appliance first: {exc}") from None
    try:
        with tempfile_dir() as scratch:
            repo = offsite.Repo(
                location=location,
                password_file=password_file.resolve(),
                ssh_key=ssh_key.resolve() if ssh_key else None,
                known_hosts=scratch / "known_hosts" if ssh_key else None,
            )
            done = offsite.restore_data_dir(repo, data_dir, snapshot)
    except offsite.OffsiteError as exc:
        raise click.ClickException(_offsite_words(exc)) from None
    finally:
        lock.release()
    store = Store(settings.db_path)
    try:
        store.migrate()  # a snapshot from an older version moves forward now, not at the next start
        with store.write() as db:
            write_meta(db, "offsite_password_kept", utc_now().isoformat())  # they just typed it
    finally:
        store.close()
    click.echo(
        f"restored snapshot {done['snapshot']} of {done['time']} into {data_dir}: "
        f"{done['conversations']} conversations, {done['kb_entries']} knowledge-base entries"
    )


@contextlib.contextmanager
def tempfile_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="appliance-offsite-") as d:
        yield Path(d)


def _offsite_words(exc: Exception) -> str:
    """The failure in English words (the command line's language), restic's own after them."""
    from appliance import i18n
    from appliance.ops import offsite

    if not isinstance(exc, offsite.OffsiteError):
        return str(exc)
    said = i18n.t("en", exc.msgid)
    return f"{said} ({exc.detail})" if exc.detail else said
