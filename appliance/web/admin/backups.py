"""Backups in the admin: the list (dates in the owner's calendar, sizes in words), "back up now",
and restore, confirmed in the owner's language.

A restore replaces everything, so a mis-click must not start one: the button is inside a panel
the owner opens on purpose, the box "I understand ..." must be ticked (the browser refuses the
form without it, and the server refuses a request whose ``confirm`` isn't that backup's own
name), and the admin asks once more in a dialog. It used to ask for the English word "RESTORE"
on a Persian page. The copies taken just before a restore are listed too, so a wrong restore can
be undone from the same page.

Off-site copies (ops/offsite.py) are set up here too: the repository, the password shown until
the owner confirms they kept it, this appliance's SSH key for an sftp server, the last copy and
its age (a warning past two days), the last check and test restore, and "send now".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
from litestar import Response, get, post
from litestar.response import Template

from appliance import i18n
from appliance import settings as settings_mod
from appliance.clock import Clock
from appliance.i18n import N_
from appliance.ops import backup, offsite
from appliance.owner import account as owner
from appliance.settings import Settings
from appliance.web.admin import core
from appliance.web.admin.core import Form, Page, owner_router
from appliance.web.services import AppServices, Inject

BEFORE_RESTORE = "before-restore"  # where a restore first copies the data it replaces
KEPT_NEEDED = N_("offsite.kept_needed")
FAILED = {
    "send": N_("offsite.failed_send"),
    "check": N_("offsite.failed_check"),
    "restore": N_("offsite.failed_restore"),
}


def _folders(settings: Settings) -> dict[str, Path]:
    """The backups the page lists, by the form's ``from``: nightly and taken by hand (""), and
    the copies taken before a restore."""
    return {"": settings.backups_dir, BEFORE_RESTORE: settings.backups_dir / BEFORE_RESTORE}


def size_in_words(size: int, lang: str) -> str:
    """A file's size as the owner reads it: "۱٫۴ مگابایت", "1.4 MB", "۳۲۰ کیلوبایت"."""
    if size >= 1_000_000:
        return i18n.t(lang, "backups.size_mb").format(size=i18n.digits(f"{size / 1e6:.1f}", lang))
    return i18n.t(lang, "backups.size_kb").format(size=i18n.digits(max(1, round(size / 1000)), lang))


def _rows(folder: Path, lang: str) -> list[dict[str, Any]]:
    return [
        {
            "name": b.path.name,
            "at": b.taken_at.isoformat() + "+00:00",  # the file's name is UTC
            "size": size_in_words(b.size, lang),
        }
        for b in backup.list_backups(folder)
    ]


def _list(page: Page, settings: Settings, **ctx: Any) -> Template:
    lang = page.lang
    folders = _folders(settings)
    return page(
        "admin/backups.html",
        backups=_rows(folders[""], lang),
        before_restore=_rows(folders[BEFORE_RESTORE], lang),
        keep=settings.backup_keep,
        backup_time=settings.backup_time,
        offsite=_offsite(page, settings),
        **{"error": None, "offsite_error": None, "typed": "", **ctx},
    )


def _offsite(page: Page, settings: Settings) -> dict[str, Any]:
    """The off-site card: what is set up, the last copy and its age, what failed, in words."""
    data_dir = settings.data_dir
    shown = offsite.status(page.store, page.clock())
    return {
        **shown,
        "restic": offsite.available() is not None,
        "repository": settings.offsite_repository,
        "configured": offsite.configured(settings),
        "s3_key_set": bool(settings.offsite_s3_key_id),
        "keep": offsite.keep_of(settings),
        "password": None if shown["password_kept"] else offsite.read_password(data_dir),
        "public_key": offsite.public_key(data_dir),
        "errors": offsite.ERRORS,
        "failed": FAILED,
        "data_dir": str(data_dir),
    }


@get("/backups", sync_to_thread=True)
def backups(page: Inject[Page], settings: Inject[Settings]) -> Template:
    return _list(page, settings)


@post("/backups", status_code=200)
async def back_up_now(page: Inject[Page], settings: Inject[Settings], clock: Inject[Clock]) -> Template:
    try:
        info = await anyio.to_thread.run_sync(lambda: backup.take(settings.db_path, settings.backups_dir, clock()))
    except backup.BackupError as exc:
        return _list(page, settings, error=str(exc), status=500)
    response = _list(page, settings, taken=info.path.name)
    return core.toast(response, i18n.t(page.lang, "backups.done"))


@post("/backups/restore", status_code=200)
async def restore(
    data: Form, page: Inject[Page], settings: Inject[Settings], services: Inject[AppServices]
) -> Response:
    """Replace the data with a backup, while running. The current data is backed up first."""
    folder = _folders(settings).get(data.get("from", ""))
    names = {b.path.name: b.path for b in backup.list_backups(folder)} if folder else {}
    name = data.get("name", "")
    source = names.get(name)
    if source is None:
        return _list(page, settings, error="backups.unknown", status=404)
    if data.get("confirm", "") != name:  # the box "I understand" of this very backup
        return _list(page, settings, error="backups.confirm_needed", unconfirmed=name, status=422)

    def work() -> None:
        backup.check_restorable(source)
        backup.take(settings.db_path, settings.backups_dir / BEFORE_RESTORE, services.clock())
        live = owner.credentials(services.store)
        services.store.replace_file(lambda: backup.install_file(source, settings.db_path))
        owner.put_back_credentials(services.store, live)
        services.after_restore()

    try:
        await anyio.to_thread.run_sync(work)
    except backup.BackupError as exc:
        return _list(page, settings, error=str(exc), status=500)
    # The restored database has its own sessions: sign in again.
    return Response("", status_code=200, headers={"hx-redirect": "/admin/login"})


# -- off-site copies ------------------------------------------------------------------------------


@post("/backups/offsite", status_code=200)
async def offsite_set_up(data: Form, page: Inject[Page], services: Inject[AppServices]) -> Template:
    """Name the repository and make it (or open the one there with this appliance's password).
    The choice is saved even when restic can't reach it yet: an sftp server first needs this
    appliance's key, which is made now and shown."""
    current = services.settings
    location = data.get("repository", "").strip()
    values: dict[str, Any] = {"offsite_repository": location}
    for field in ("offsite_s3_key_id", "offsite_s3_secret"):
        if data.get(field, "").strip():  # empty: unchanged, as on the settings page
            values[field] = data[field].strip()

    def work() -> Settings:
        offsite.check_location(location)
        checked = settings_mod.check(values)
        settings_mod.write_file(current.data_dir, values)
        updated = current.replace(**checked)
        services.apply_settings(updated)
        offsite.ensure_password(updated.data_dir)
        if offsite.parse_sftp(location):
            offsite.ensure_ssh_key(updated.data_dir)
        offsite.initialise(offsite.repo_for(updated))
        return updated

    try:
        updated = await anyio.to_thread.run_sync(work)
    except (offsite.OffsiteError, settings_mod.SettingsError) as exc:
        return _list(page, services.settings, offsite_error=_said(exc), typed=location, status=422)
    return core.toast(_list(page, updated), i18n.t(page.lang, "offsite.ready"))


def _said(exc: Exception) -> dict[str, str]:
    """An error for the template: a msgid, and the program's own words beside it."""
    if isinstance(exc, offsite.OffsiteError):
        return {"key": exc.msgid, "detail": exc.detail}
    return {"key": offsite.ERRORS["failed"], "detail": str(exc)}


@post("/backups/offsite/kept", sync_to_thread=True, status_code=200)
def offsite_password_kept(data: Form, page: Inject[Page], settings: Inject[Settings]) -> Template:
    """The owner says they keep the password: it is not shown again."""
    if data.get("kept") != "yes":
        return _list(page, settings, offsite_error={"key": KEPT_NEEDED, "detail": ""}, status=422)
    offsite.password_kept(page.store, page.clock())
    return _list(page, settings)


@post("/backups/offsite/send", status_code=200)
async def offsite_send_now(page: Inject[Page], settings: Inject[Settings], clock: Inject[Clock]) -> Template:
    """A backup now, sent at once (the same as the nightly job's)."""
    if not offsite.configured(settings):
        return _list(page, settings, offsite_error=_said(offsite.OffsiteError("not_set_up")), status=409)

    def work() -> None:
        now = clock()
        info = backup.take(settings.db_path, settings.backups_dir, now)
        offsite.send_backup(page.store, settings, info.path, now)

    try:
        await anyio.to_thread.run_sync(work)
    except (offsite.OffsiteError, backup.BackupError) as exc:
        return _list(page, settings, offsite_error=_said(exc), status=502)
    return core.toast(_list(page, settings), i18n.t(page.lang, "offsite.sent"))


router = owner_router([backups, back_up_now, restore, offsite_set_up, offsite_password_kept, offsite_send_now])
