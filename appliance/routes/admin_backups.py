"""Backups in the admin: the list, "back up now", and restore with confirmation."""

from __future__ import annotations

import anyio
from litestar import Request, Response, get, post
from litestar.response import Template

from .. import backup, owner
from .admin import Form, _page, owner_router

CONFIRM_WORD = "RESTORE"


def _list(request: Request, **ctx) -> Template:
    settings = request.app.state.settings
    return _page(request, "admin/backups.html", backups=backup.list_backups(settings.backups_dir),
                 confirm_word=CONFIRM_WORD, **{"error": None, "message": None, **ctx})


@get("/backups", sync_to_thread=True)
def backups(request: Request) -> Template:
    return _list(request)


@post("/backups", status_code=200)
async def back_up_now(request: Request) -> Template:
    settings = request.app.state.settings
    try:
        info = await anyio.to_thread.run_sync(
            lambda: backup.take(settings.db_path, settings.backups_dir, request.app.state.clock()))
    except backup.BackupError as exc:
        return _list(request, error=str(exc), status=500)
    return _list(request, message=info.path.name)


@post("/backups/restore", status_code=200)
async def restore(request: Request, data: Form) -> Response:
    """Replace the data with a backup, while running. The current data is backed up first."""
    settings, state = request.app.state.settings, request.app.state
    if data.get("confirm", "").strip() != CONFIRM_WORD:
        return _list(request, error="backups.confirm_needed", status=422)
    names = {b.path.name: b.path for b in backup.list_backups(settings.backups_dir)}
    source = names.get(data.get("name", ""))
    if source is None:
        return _list(request, error="backups.unknown", status=404)

    def work() -> None:
        backup.check_restorable(source)
        backup.take(settings.db_path, settings.backups_dir / "before-restore", state.clock())
        live = owner.credentials(state.store)
        state.store.replace_file(lambda: backup.install_file(source, settings.db_path))
        owner.put_back_credentials(state.store, live)
        state.chat.decider.index.invalidate()
        state.calibration.reload()

    try:
        await anyio.to_thread.run_sync(work)
    except backup.BackupError as exc:
        return _list(request, error=str(exc), status=500)
    # The restored database has its own sessions: sign in again.
    return Response("", status_code=200, headers={"hx-redirect": "/admin/login"})


router = owner_router([backups, back_up_now, restore])
