"""Backups in the admin: the list, "back up now", and restore with confirmation."""

from __future__ import annotations

from typing import Any

import anyio
from litestar import Response, get, post
from litestar.response import Template

from appliance.clock import Clock
from appliance.ops import backup
from appliance.owner import account as owner
from appliance.settings import Settings
from appliance.web.admin.core import Form, Page, owner_router
from appliance.web.services import AppServices, Inject

CONFIRM_WORD = "RESTORE"


def _list(page: Page, settings: Settings, **ctx: Any) -> Template:
    return page(
        "admin/backups.html",
        backups=backup.list_backups(settings.backups_dir),
        confirm_word=CONFIRM_WORD,
        **{"error": None, "message": None, **ctx},
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
    return _list(page, settings, message=info.path.name)


@post("/backups/restore", status_code=200)
async def restore(
    data: Form, page: Inject[Page], settings: Inject[Settings], services: Inject[AppServices]
) -> Response:
    """Replace the data with a backup, while running. The current data is backed up first."""
    if data.get("confirm", "").strip() != CONFIRM_WORD:
        return _list(page, settings, error="backups.confirm_needed", status=422)
    names = {b.path.name: b.path for b in backup.list_backups(settings.backups_dir)}
    source = names.get(data.get("name", ""))
    if source is None:
        return _list(page, settings, error="backups.unknown", status=404)

    def work() -> None:
        backup.check_restorable(source)
        backup.take(settings.db_path, settings.backups_dir / "before-restore", services.clock())
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
