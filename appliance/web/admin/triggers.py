"""Proactive messages in the admin: the shop's triggers (where, when, to whom, what it says in
Persian and English, how often at most), each with its figures. Triggers are conversations/triggers.py's."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from litestar import Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from appliance import i18n
from appliance.clock import Clock
from appliance.conversations import triggers
from appliance.db import Store
from appliance.locale import N_
from appliance.reports import analytics
from appliance.web.admin.core import Form, Page, flash, owner_router
from appliance.web.services import Inject

FIGURES_DAYS = 30
# The field a refusal is about: its message goes under that field, not only at the page's top.
FIELD_OF = {
    "trigger.no_name": "name",
    "trigger.no_message": "message",
    "trigger.too_long": "message",
    "trigger.bad_seconds": "seconds",
    "trigger.bad_scroll": "scroll",
    "trigger.bad_every": "every_days",
    "trigger.bad_script_name": "script_name",
}


def _form(
    page: Page,
    trigger: triggers.Trigger | None,
    status: int = 200,
    error: str = "",
    typed: dict | None = None,
    error_field: str = "",
) -> Template:
    """The trigger's form; ``typed``: what the owner sent, shown again when it was refused."""
    current: dict[str, Any] = asdict(trigger or triggers.Trigger(name=""))
    if typed is not None:
        current.update({k: v for k, v in typed.items() if k in current and k != "id"})
        current["enabled"] = typed.get("enabled") == "on"
    return page(
        "admin/trigger_form.html",
        v=current,
        trigger_id=trigger.id if trigger else None,
        error=error,
        error_field=error_field,
        status=status,
        choices={
            "visitors": triggers.VISITORS,
            "lang": triggers.LANGS,
            "hours": triggers.HOURS,
            "every_days": triggers.EVERY_DAYS,
        },
    )


def _found(store: Store, trigger_id: int) -> triggers.Trigger:
    found = triggers.get(store.read(), trigger_id)
    if found is None:
        raise NotFoundException()
    return found


@get("/triggers", sync_to_thread=True)
def trigger_list(page: Inject[Page], store: Inject[Store], clock: Inject[Clock]) -> Template:
    return page(
        "admin/triggers.html",
        rows=analytics.trigger_figures(store, clock(), FIGURES_DAYS),
        days=FIGURES_DAYS,
    )


@get("/triggers/new", sync_to_thread=True)
def new_trigger(page: Inject[Page]) -> Template:
    return _form(page, None)


@get("/triggers/{trigger_id:int}", sync_to_thread=True)
def edit_trigger(page: Inject[Page], store: Inject[Store], trigger_id: FromPath[int]) -> Template:
    return _form(page, _found(store, trigger_id))


def _save(page: Page, store: Store, clock: Clock, data: dict[str, str], trigger_id: int | None) -> Response:
    try:
        trigger = triggers.from_form(data)
        trigger.id = trigger_id
        triggers.save(store, trigger, clock().isoformat())
    except triggers.TriggerError as exc:
        existing = triggers.get(store.read(), trigger_id) if trigger_id is not None else None
        return _form(
            page,
            existing,
            status=422,
            error=i18n.t(page.lang, exc.key),
            typed=data,
            error_field=FIELD_OF.get(exc.key, ""),
        )
    return _back(N_("trig.saved"))


def _back(said: str) -> Response:
    """To the list, which says what was done (a toast on the page it lands on)."""
    return flash(Response("", status_code=200, headers={"hx-redirect": "/admin/triggers"}), said)


@post("/triggers/new", sync_to_thread=True, status_code=200)
def create_trigger(page: Inject[Page], store: Inject[Store], clock: Inject[Clock], data: Form) -> Response:
    return _save(page, store, clock, data, None)


@post("/triggers/{trigger_id:int}", sync_to_thread=True, status_code=200)
def update_trigger(
    page: Inject[Page], store: Inject[Store], clock: Inject[Clock], trigger_id: FromPath[int], data: Form
) -> Response:
    _found(store, trigger_id)
    return _save(page, store, clock, data, trigger_id)


@post("/triggers/{trigger_id:int}/enabled", sync_to_thread=True, status_code=200)
def toggle_trigger(store: Inject[Store], clock: Inject[Clock], trigger_id: FromPath[int], data: Form) -> Response:
    _found(store, trigger_id)
    on = data.get("on") == "1"
    triggers.set_enabled(store, trigger_id, on, clock().isoformat())
    return _back(N_("trig.turned_on") if on else N_("trig.turned_off"))


@post("/triggers/{trigger_id:int}/delete", sync_to_thread=True, status_code=200)
def delete_trigger(store: Inject[Store], trigger_id: FromPath[int]) -> Response:
    _found(store, trigger_id)
    triggers.delete(store, trigger_id)
    return _back(N_("trig.deleted"))


router = owner_router(
    [trigger_list, new_trigger, edit_trigger, create_trigger, update_trigger, toggle_trigger, delete_trigger]
)
