"""Conversations and their replies: start one, read its history, send a message or pick a
clarifying choice (the reply streams back as server-sent events), ask for a person, and the
conversation's own event stream (the owner's replies, typing, state) for the open widget."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any, cast

import anyio
from litestar import Request, get, post
from litestar.params import JSONBody, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from litestar.response.base import ASGIResponse
from litestar.types import Receive, Scope, Send

from appliance import i18n
from appliance.clock import Clock
from appliance.conversations import push as push_mod
from appliance.conversations.chat import ChatService, MessageRejected
from appliance.conversations.presence import Presence
from appliance.conversations.push import Full, Hub
from appliance.conversations.store import Conversations
from appliance.db import Store
from appliance.settings import Settings
from appliance.web import visitors
from appliance.web.api.common import (
    DAY,
    MAX_ID,
    ApiError,
    Limits,
    chat_lang,
    check_limit,
    client_ip,
    network_of,
    rejected,
)
from appliance.web.limits import RateLimiter
from appliance.web.services import Inject


@dataclass
class StartRequest:
    lang: str = ""
    consent: bool = False


@dataclass
class MessageRequest:
    text: str
    client_id: str | None = None


@dataclass
class ChoiceRequest:
    entry_id: str
    label: str = ""


@dataclass
class HandoffRequest:
    lang: str = ""
    reason: str = "asked_for_person"  # or "clarification_failed": none of the offered choices fitted


def _event(name: str, data: dict[str, Any]) -> ServerSentEventMessage:
    return ServerSentEventMessage(event=name, data=json.dumps(data, ensure_ascii=False))


def _reply_events(
    text: str,
    settings: Inject[Settings],
    *,
    reply_id: int | None,
    kind: str | None,
    sources: list,
    choices: list,
    **extra: Any,
) -> list[ServerSentEventMessage]:
    """A finished reply as events: its text in pieces, then ``done`` with what the widget shows."""
    done = {
        "reply_id": reply_id,
        "kind": kind,
        "sources": sources if settings.show_sources else [],
        "choices": choices,
        "handoff": kind == "escalate",
        **extra,
    }
    # The reply is complete and checked before it is sent (see compose.py): it goes out in
    # pieces as it is written to the stream, never as unchecked model tokens.
    return [*(_event("delta", {"text": piece}) for piece in _pieces(text)), _event("done", done)]


def _turn_events(turn: Any, settings: Inject[Settings]) -> list[ServerSentEventMessage]:
    return _reply_events(
        turn.reply.text,
        settings,
        reply_id=turn.reply_id,
        kind=turn.decision.kind,
        sources=turn.reply.sources,
        choices=turn.reply.choices,
        reason=turn.decision.reason,
        lang=turn.decision.lang,
        composed_by=turn.reply.composed_by,
    )


def _pieces(text: str, size: int = 48) -> list[str]:
    """The text in pieces of about ``size`` characters, cut after whitespace; joined, exactly the text."""
    out: list[str] = []
    for word in re.findall(r"\s*\S+\s*|\s+", text):
        if out and len(out[-1]) < size:
            out[-1] += word
        else:
            out.append(word)
    return out


def _stream(events: AsyncIterator[ServerSentEventMessage]) -> ServerSentEvent:
    return ServerSentEvent(events, headers={"cache-control": "no-store", "x-accel-buffering": "no"})


@post(
    "/conversations",
    status_code=201,
    summary="Start a conversation",
    description="Creates a visitor (or reuses the one whose bearer token is sent) and a conversation. "
    "Keep `visitor_token`: it is shown once and is the only key to these conversations.",
)
async def start(
    request: Request,
    data: JSONBody[StartRequest],
    settings: Inject[Settings],
    chat: Inject[ChatService],
    store: Inject[Store],
    clock: Inject[Clock],
    limiter: Inject[RateLimiter],
    secret: Inject[bytes],
) -> dict[str, Any]:
    if settings.require_consent and not data.consent:
        raise ApiError(422, "consent_required", "the customer must agree to the privacy notice first")
    ip = client_ip(request, settings)
    check_limit(limiter, f"conv:ip:{visitors.network(ip)}", settings.ip_conversations_per_day, DAY)
    token = visitors.bearer(request)
    visitor_id = visitors.find(store, token)
    now = clock().isoformat()
    if visitor_id is None:
        visitor_id, token = await store.run(visitors.create, store, visitors.ip_hash(secret, ip), now)
    lang = data.lang if data.lang in i18n.LANGUAGES else ""
    conversation_id = await chat.start_conversation(
        lang=lang, visitor_id=visitor_id, consent_at=now if data.consent else None
    )
    shown = lang or settings.default_language
    shop = settings.shop_name or i18n.t(shown, "bot.the_shop")
    return {
        "conversation_id": conversation_id,
        "visitor_token": token,
        "greeting": settings.greeting_for(shown) or i18n.t(shown, "bot.greeting").format(shop=shop),
        "disclosure": i18n.t(shown, "widget.disclosure").format(shop=shop),
    }


@get("/conversations", summary="The visitor's conversations")
async def list_conversations(visitor: Inject[str], conversations: Inject[Conversations]) -> dict[str, Any]:
    return {"conversations": conversations.for_visitor(visitor)}


@get("/conversations/{conversation_id:str}/messages", summary="Conversation history")
async def history(
    own: Inject[str],
    conversations: Inject[Conversations],
    chat: Inject[ChatService],
    presence: Inject[Presence],
    settings: Inject[Settings],
    after: Annotated[int, QueryParameter(ge=0, le=MAX_ID)] = 0,
) -> dict[str, Any]:
    summary = conversations.summary(own)
    person = _person(presence, chat, summary, settings.default_language)
    return {"messages": conversations.history(own, after), **summary, **person}


def _person(presence: Presence, chat: ChatService, summary: dict, default_lang: str) -> dict[str, str]:
    """Whether a person is there now, or when one will reply (the widget says it under its title),
    for a conversation's ``summary``. The owner who took it over is there, switch or not."""
    if presence.online or summary["status"] == "human":
        return {"person": "online"}
    return {"person": "away", "reply_by": chat.composer.reply_by(summary["lang"] or default_lang)}


HEARTBEAT_S = 15.0  # a comment line this often: proxies keep the stream open, a gone widget is noticed
RECHECK_BEATS = 4  # and the database is read again this often even unwoken (a missed wake-up costs a minute)


_EVENT_ID = re.compile(r"[0-9]{1,18}")  # ASCII digits only: "²" and "۱" pass str.isdigit()


def _last_event_id(request: Request, after: int) -> int:
    header = request.headers.get("last-event-id", "").strip()
    if not header:
        return after
    if not _EVENT_ID.fullmatch(header):
        raise ApiError(400, "bad_last_event_id", "Last-Event-ID must be the id of a message this stream sent")
    return max(after, int(header))


class _HeldStream(ServerSentEvent):
    """A stream that gives its place in the hub back however the response ends: the stream's
    own ``finally`` never runs when the client has gone before the first event (a generator
    that never started has nothing to close), and those places leaked for good."""

    def __init__(self, events: AsyncIterator[ServerSentEventMessage], release: Callable[[], None]):
        super().__init__(events, headers={"cache-control": "no-store", "x-accel-buffering": "no"})
        self._release = release

    def to_asgi_response(self, *args: Any, **kwargs: Any) -> ASGIResponse:
        return cast("ASGIResponse", _Releasing(super().to_asgi_response(*args, **kwargs), self._release))


@dataclass
class _Releasing:
    response: ASGIResponse
    release: Callable[[], None]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.response(scope, receive, send)
        finally:
            self.release()


@get(
    "/conversations/{conversation_id:str}/events",
    summary="The owner's replies as they come (server-sent events)",
    description="A stream for the open widget: `message` (an owner's reply or a notice, with its id as "
    "the event's id), `state` (status and unread count), `typing` (the owner is typing). Reconnect with "
    "`Last-Event-ID` (or `?after=`) to get what was missed, once. 503 `streams_full` when the appliance "
    "holds as many streams as it allows: poll `/messages` instead.",
    media_type="text/event-stream",
)
async def events(
    request: Request,
    own: Inject[str],
    visitor: Inject[str],
    conversations: Inject[Conversations],
    settings: Inject[Settings],
    push: Inject[Hub],
    presence: Inject[Presence],
    chat: Inject[ChatService],
    after: Annotated[int, QueryParameter(ge=0, le=MAX_ID)] = 0,
) -> ServerSentEvent:
    last = _last_event_id(request, after)
    try:
        # Given back by _HeldStream whatever happens from here: nothing between this and the
        # return awaits, so the response is always made.
        listener = push.listen(own, network_of(request, settings), visitor)
    except Full as exc:
        raise ApiError(
            503, "streams_full", f"too many open chats ({exc.reason}); poll instead", headers={"retry-after": "60"}
        ) from None

    async def stream() -> AsyncIterator[ServerSentEventMessage]:
        nonlocal last
        try:
            check, beats, state = True, 0, None
            while not listener.closed:
                if check:
                    new, summary = await anyio.to_thread.run_sync(conversations.pushed, own, last)
                    for message in new:
                        last = message["id"]
                        yield ServerSentEventMessage(
                            event="message", id=str(last), data=json.dumps(message, ensure_ascii=False)
                        )
                    now = {
                        "status": summary["status"],
                        "unread": summary["unread"],
                        "seen_by_owner": summary["seen_by_owner"],
                        **_person(presence, chat, summary, settings.default_language),
                    }
                    if now != state:
                        state = now
                        yield _event("state", now)
                try:
                    what = await asyncio.wait_for(listener.wake.get(), HEARTBEAT_S)
                except TimeoutError:
                    beats += 1
                    check = beats % RECHECK_BEATS == 0
                    yield ServerSentEventMessage(comment="ping")
                    continue
                check = what != push_mod.TYPING
                if not check:
                    yield _event("typing", {})
        finally:
            push.leave(listener)

    return _HeldStream(stream(), lambda: push.leave(listener))


@post(
    "/conversations/{conversation_id:str}/messages",
    status_code=200,
    summary="Send a message; the reply streams back",
    description="Server-sent events: `accepted` (the message is stored), `delta` (reply text), "
    "`done` (decision, sources, choices), or `error`. Send a `client_id` to make "
    "retries safe: the same id is stored once and gets the same reply.",
    media_type="text/event-stream",
)
async def send(
    request: Request,
    own: Inject[str],
    data: JSONBody[MessageRequest],
    settings: Inject[Settings],
    chat: Inject[ChatService],
    limits: Inject[Limits],
    secret: Inject[bytes],
) -> ServerSentEvent:
    conversation_id = own
    if data.client_id is not None and not (0 < len(data.client_id) <= 64):
        raise ApiError(422, "bad_client_id", "client_id must be 1 to 64 characters")
    # Retries count against the limit too: 30 parallel resends of one client_id were 30 free
    # requests (the widget retries three times at most, well within it).
    limits.message()
    try:
        message_id, duplicate = await chat.accept(conversation_id, data.text, data.client_id)
    except MessageRejected as exc:
        raise rejected(exc) from None
    # Nothing may be awaited from here until the task is registered (see below).
    task = chat.answering(conversation_id, message_id)
    if not duplicate:
        # The answer is worked out and stored even if the customer closes the page meanwhile
        # (their stream is cancelled, the task is not): they find it when they come back, and no
        # message is left with neither a reply nor an escalation. Started here, before any
        # await, so a retry arriving a moment later finds it.
        # The order desk counts guessed order numbers by the network (IPv6 by /64), kept as a
        # keyed hash as visitors' addresses are: a new visitor per guess is free, a network isn't.
        network = visitors.ip_hash(secret, network_of(request, settings))
        task = chat.answer_in_background(conversation_id, message_id, data.text, network=network)

    async def events() -> AsyncIterator[ServerSentEventMessage]:
        yield _event("accepted", {"message_id": message_id, "duplicate": duplicate})
        if duplicate:
            earlier = chat.conversations.reply_to(message_id)
            if earlier is not None:  # a retried send: the same reply again, nothing recomputed
                for event in _reply_events(
                    earlier["text"],
                    settings,
                    reply_id=earlier["id"],
                    kind=earlier.get("kind"),
                    sources=earlier.get("sources", []),
                    choices=earlier.get("choices", []),
                    replayed=True,
                ):
                    yield event
                return
            if task is None:
                # Handled already without a reply (a person has taken over) or still on its way
                # from elsewhere: a retry never starts the work again.
                yield _event(
                    "done",
                    {
                        "reply_id": None,
                        "kind": "pending",
                        "sources": [],
                        "choices": [],
                        "handoff": False,
                        "replayed": True,
                    },
                )
                return
        assert task is not None  # a first send started it; a retry without one returned above
        try:
            turn = await asyncio.shield(task)
        except Exception:  # the message is stored; the owner sees it even if the bot failed (chat.py logs it)
            yield _event("error", {"code": "reply_failed", "message": "the reply failed; your message was kept"})
            return
        for event in _turn_events(turn, settings):
            yield event

    return _stream(events())


@post(
    "/conversations/{conversation_id:str}/choices",
    status_code=200,
    summary="Pick one of the clarifying choices; the reply streams back",
    media_type="text/event-stream",
)
async def choose(
    own: Inject[str],
    data: JSONBody[ChoiceRequest],
    settings: Inject[Settings],
    chat: Inject[ChatService],
    limits: Inject[Limits],
) -> ServerSentEvent:
    limits.message()
    try:
        turn = await chat.choose(own, data.entry_id, data.label or "")
    except MessageRejected as exc:
        raise rejected(exc) from None

    async def events() -> AsyncIterator[ServerSentEventMessage]:
        yield _event("accepted", {"message_id": turn.message_id, "duplicate": False})
        for event in _turn_events(turn, settings):
            yield event

    return _stream(events())


@post("/conversations/{conversation_id:str}/handoff", status_code=200, summary="Ask for a person")
async def handoff(
    own: Inject[str],
    data: JSONBody[HandoffRequest],
    settings: Inject[Settings],
    chat: Inject[ChatService],
    limits: Inject[Limits],
) -> dict[str, Any]:
    limits.message()
    lang = chat_lang(data.lang, settings)
    reason = data.reason if data.reason in {"asked_for_person", "clarification_failed"} else "asked_for_person"
    turn = await chat.handoff(own, i18n.t(lang, "widget.person_label"), lang, reason=reason)
    return {"message_id": turn.message_id, "reply_id": turn.reply_id, "text": turn.reply.text, "handoff": True}
