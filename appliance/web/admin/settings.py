"""The settings page: the settings an owner changes, grouped, in their language.

Values are checked by the settings object itself (the same coercion as settings.toml and the
environment), written to settings.toml, and applied at once where that is safe (shop, widget,
answers, e-mail, schedules read at their next run); model and network settings say they take
effect at the next start. An environment variable or a flag still wins over the file: the page
says which fields are fixed that way.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import get, post
from litestar.response import Template

from appliance import i18n
from appliance import settings as settings_mod
from appliance.answering.shop_calibration import Keeper, dial_on_history
from appliance.conversations import hours
from appliance.conversations.store import Conversations
from appliance.documents import fetch
from appliance.llm import files as model_files
from appliance.settings import Settings
from appliance.web.admin.core import Form, Page, owner_router
from appliance.web.services import AppServices, Inject

# Each field says itself whether the page shows it, in which group, whether it is secret and
# whether it applies only at the next start (settings._doc).
EDITABLE = {f.name for _, group in settings_mod.owner_fields() for f in group}
SECRET = {f.name for _, group in settings_mod.owner_fields() for f in group if f.metadata["secret"]}


def _fields(settings: Settings, lang: str, typed: dict[str, Any] | None = None) -> list[tuple[str, list[dict]]]:
    """The form's fields with their help in ``lang``; ``typed``: what the owner sent, shown again
    when it was refused."""
    current = {**settings.to_dict(), **(typed or {})}
    docs = {name: (kind, doc) for name, kind, doc in settings_mod.describe(lang)}
    out = []
    for group, group_fields in settings_mod.owner_fields():
        rows = []
        for f in group_fields:
            kind, doc = docs[f.name]
            value = current[f.name]
            rows.append(
                {
                    "name": f.name,
                    "kind": kind,
                    "doc": doc,
                    "value": "" if f.metadata["secret"] else (", ".join(value) if isinstance(value, list) else value),
                    "fixed": f"{settings_mod.ENV_PREFIX}{f.name.upper()}" in os.environ,
                    "restart": f.metadata["restart"],
                    "secret": f.metadata["secret"],
                }
            )
        out.append((group, rows))
    return out


DIAL_HISTORY_DAYS = 30  # the dial says what each position would have done with these days' questions


def _calibration(calibration: Keeper, conversations: Conversations) -> dict[str, Any] | None:
    """The shop's calibration report, each dial position with what it would have done with the
    shop's own recent questions (shop_calibration.dial_on_history)."""
    if not calibration.enabled or not calibration.report:
        return None
    since = (datetime.now(UTC) - timedelta(days=DIAL_HISTORY_DAYS)).isoformat()
    history = conversations.recent_confidences(since)
    return {**calibration.report, "dial": dial_on_history(calibration.report.get("dial") or [], history)}


def _settings_page(
    page: Page,
    settings: Settings,
    calibration: Keeper,
    conversations: Conversations,
    typed: dict[str, Any] | None = None,
    **ctx: Any,
) -> Template:
    models = [m.name for m in model_files.list_models(settings.models_dirs)]
    snippet = (
        f'<script src="{settings.base_url}/static/widget-loader-1.0.0.js" async data-lang="auto" '
        f'data-position="right" data-color="{settings.widget_color}"></script>'
    )
    return page(
        "admin/settings.html",
        groups=_fields(settings, page.lang, typed),
        models=models,
        snippet=snippet,
        calibration=_calibration(calibration, conversations),
        history_days=DIAL_HISTORY_DAYS,
        **{"error": None, "saved": False, **ctx},
    )


@get("/settings", sync_to_thread=True)
def settings_page(
    page: Inject[Page], settings: Inject[Settings], calibration: Inject[Keeper], conversations: Inject[Conversations]
) -> Template:
    return _settings_page(page, settings, calibration, conversations)


@post("/settings", sync_to_thread=True, status_code=200)
def save(data: Form, page: Inject[Page], services: Inject[AppServices]) -> Template:
    values: dict[str, str | bool] = {}
    kinds = {name: kind for name, kind, _ in settings_mod.describe()}
    for name in EDITABLE:
        if f"{settings_mod.ENV_PREFIX}{name.upper()}" in os.environ:
            continue  # fixed by the environment: the form can't change it
        kind = kinds[name]
        if kind == "bool":
            values[name] = data.get(name) == "on"
        elif name in data:
            if name in SECRET and not data[name]:
                continue  # an empty password box keeps the stored password
            values[name] = data[name]
    try:
        updated = services.settings.replace(**values)  # validates every value first
        hours.parse(updated.business_hours, updated.holidays, updated.timezone)
        if updated.catalog_feed_url.strip():
            # Said now, not at the first fetch in half an hour: the feed must be on the shop's own
            # sites (whether its name resolves to a public address is checked when it is read).
            feed = updated.catalog_feed_url.strip()
            fetch.check(feed, fetch.shop_origins(updated.public_url, updated.allowed_origins), allow_private=True)
        settings_mod.write_file(updated.data_dir, values)
    except (settings_mod.SettingsError, hours.HoursError, fetch.FetchError) as exc:
        error = i18n.refusal(page.lang, exc)
        return _settings_page(
            page,
            services.settings,
            services.calibration,
            services.chat.conversations,
            typed=values,
            error=error,
            status=422,
        )
    services.apply_settings(updated)
    return _settings_page(page, updated, services.calibration, services.chat.conversations, saved=True)


router = owner_router([settings_page, save])
