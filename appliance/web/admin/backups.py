"""Backups in the admin: the list (dates in the owner's calendar, sizes in words), "back up now",
and restore, confirmed in the owner's language.

A restore replaces everything, so a mis-click must not start one: the button is inside a panel
the owner opens on purpose, the box "I understand ..." must be ticked (the browser refuses the
form without it, and the server refuses a request whose ``confirm`` isn't that backup's own
name), and the admin asks once more in a dialog. It used to ask for the English word "RESTORE"
on a Persian page. The copies taken just before a restore are listed too, so a wrong restore can
be undone from the same page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
from litestar import Response, get, post
from litestar.response import Template

from appliance import i18n
from appliance.clock import Clock
from appliance.ops import backup
from appliance.owner import account as owner
from appliance.settings import Settings
from appliance.web.admin import core
from appliance.web.admin.core import Form, Page, owner_router
from appliance.web.services import AppServices, Inject

BEFORE_RESTORE = "before-restore"  # where a restore first copies the data it replaces


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
        **{"error": None, **ctx},
    )


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


router = owner_router([backups, back_up_now, restore])
