"""Proactive messages on the shop's pages: which may show now, asking to show one (recorded,
within the owner's limits), the visitor opening or closing it, and the customer's answer to it.
What a trigger is and when it may show is conversations/triggers.py's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from appliance.clock import Clock
from appliance.conversations import hours, triggers
from appliance.conversations.chat import ChatService
from appliance.db import Store
from appliance.settings import Settings
from appliance.web import limits as rate_limits
from appliance.web.api.common import DAY, MAX_ID, ApiError, Limits, chat_lang, check_limit, network_of
from appliance.web.limits import RateLimiter
from appliance.web.services import Inject


@dataclass
class TriggerEvent:
    # Not "visitor": a validation error on a field named like a dependency is taken for the
    # server's fault (a 500) by Litestar.
    visitor_id: str
    lang: str = ""


@dataclass
class ProactiveRequest:
    trigger_id: int
    visitor_id: str
    lang: str = ""


def _shop_open(settings: Settings, now: Any) -> bool:
    try:
        return hours.parse(settings.business_hours, settings.holidays, settings.timezone).is_open(now)
    except hours.HoursError:
        return True  # hours the owner hasn't set right: "while open" triggers still show


def _visitor_id(visitor: str) -> str:
    if not triggers.valid_visitor(visitor):
        raise ApiError(422, "bad_visitor", "visitor_id must be the widget's random id (8-64 letters and digits)")
    return visitor


def _trigger_call(request: Request, settings: Settings, limiter: RateLimiter, visitor: str) -> None:
    check_limit(limiter, f"trigger:ip:{network_of(request, settings)}", rate_limits.TRIGGER_CALLS_PER_MINUTE, 60)
    _visitor_id(visitor)


@get(
    "/triggers",
    summary="The shop's proactive messages that may be shown now",
    description="For the widget: each trigger's conditions (page address pattern, seconds on the page, "
    "scroll depth in per cent, new or returning visitors, or the name a page fires it by with "
    "`SupportWidget.trigger(name)`). The message itself comes with `/triggers/{id}/shown`.",
    sync_to_thread=True,
)
def list_triggers(
    store: Inject[Store], settings: Inject[Settings], clock: Inject[Clock], lang: FromQuery[str] = ""
) -> Response:
    lang = chat_lang(lang, settings)
    found = triggers.for_widget(store.read(), lang, _shop_open(settings, clock()))
    return Response({"triggers": found}, headers={"cache-control": "no-store"})


def _trigger(store: Store, trigger_id: int) -> triggers.Trigger:
    found = triggers.get(store.read(), trigger_id) if 0 < trigger_id <= MAX_ID else None
    if found is None or not found.enabled:
        raise ApiError(404, "no_trigger", "no such proactive message")
    return found


@post(
    "/triggers/{trigger_id:int}/shown",
    status_code=200,
    summary="Ask to show a proactive message",
    description="`show` is false when this visitor has seen it as often as the owner allows, or closed "
    "one today; otherwise it is recorded as shown and `text` is the message in `lang`.",
)
async def trigger_shown(
    request: Request,
    trigger_id: FromPath[int],
    data: JSONBody[TriggerEvent],
    store: Inject[Store],
    settings: Inject[Settings],
    clock: Inject[Clock],
    limiter: Inject[RateLimiter],
) -> dict[str, Any]:
    _trigger_call(request, settings, limiter, data.visitor_id)
    found = _trigger(store, trigger_id)
    lang = chat_lang(data.lang, settings)
    if not found.message(lang):
        return {"show": False, "text": ""}
    # each showing is a row: however many made-up visitor ids one address sends
    shown_cap = settings.proactive_shown_per_address_per_day
    check_limit(limiter, f"trigger-shown:ip:{network_of(request, settings)}", shown_cap, DAY)
    shown = await store.run(triggers.may_show, store, found, data.visitor_id, clock(), settings.timezone)
    return {"show": shown, "text": found.message(lang) if shown else ""}


@post(
    "/triggers/{trigger_id:int}/{event:str}",
    status_code=200,
    summary="The visitor opened the chat from a proactive message, or closed it",
    description="`event`: `opened` (the chat opened from the bubble) or `closed` (the bubble closed: no "
    "proactive message again today). Counted only after it was shown to this visitor, once a showing.",
)
async def trigger_event(
    request: Request,
    trigger_id: FromPath[int],
    event: FromPath[str],
    data: JSONBody[TriggerEvent],
    store: Inject[Store],
    settings: Inject[Settings],
    clock: Inject[Clock],
    limiter: Inject[RateLimiter],
) -> dict[str, bool]:
    if event not in {"opened", "closed"}:
        raise ApiError(404, "not_found", "the event is opened or closed")
    _trigger_call(request, settings, limiter, data.visitor_id)
    _trigger(store, trigger_id)
    saved = await store.run(triggers.record, store, trigger_id, data.visitor_id, event, clock().isoformat())
    return {"saved": saved}


@post(
    "/conversations/{conversation_id:str}/proactive",
    status_code=200,
    summary="The customer answers a proactive message",
    description="Called before the customer's first message after opening the chat from a proactive "
    "message: the message is stored in the conversation (the owner reads what they answer) and counted "
    "as replied. Once per showing.",
)
async def proactive(
    own: Inject[str],
    data: JSONBody[ProactiveRequest],
    store: Inject[Store],
    settings: Inject[Settings],
    clock: Inject[Clock],
    chat: Inject[ChatService],
    limits: Inject[Limits],
) -> dict[str, Any]:
    limits.per_visitor("proactive", rate_limits.SAVES_PER_HOUR, 3600)
    _visitor_id(data.visitor_id)
    found = _trigger(store, data.trigger_id)
    lang = chat_lang(data.lang, settings)
    now = clock().isoformat()

    def reply() -> int | None:
        if not found.message(lang) or not triggers.record(store, data.trigger_id, data.visitor_id, "replied", now, own):
            return None
        return chat.conversations.add_proactive(own, found.message(lang))

    message_id = await store.run(reply)
    return {"message_id": message_id}
