"""The public chat API (/api/v1): what the widget uses, and what integrations may use.

Trust boundary: anyone on the internet. A visitor proves who they are with the bearer token
they were given when their first conversation started, and sees only their own conversations
(anything else is a 404, never a 403, so ids can't be probed). Every unsafe call is rate limited
per visitor and per IP before it reaches the pipeline or the model; bodies are size-capped.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, cast

import anyio
from litestar import Request, Response, Router, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import UploadFile
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException
from litestar.handlers import BaseRouteHandler
from litestar.params import Body, FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from litestar.response.base import ASGIResponse
from litestar.types import Receive, Scope, Send

from appliance import i18n
from appliance.clock import Clock
from appliance.conversations import attachments, hours, triggers
from appliance.conversations import push as push_mod
from appliance.conversations.chat import ChatService, MessageRejected
from appliance.conversations.presence import Presence
from appliance.conversations.push import Full, Hub
from appliance.conversations.store import Conversations
from appliance.db import Store
from appliance.settings import Settings
from appliance.text.textnorm import without_controls
from appliance.web import visitors
from appliance.web.limits import RateLimiter
from appliance.web.security import UNSAFE
from appliance.web.services import Inject

DAY = 86_400
MAX_ID = 2**63 - 1  # SQLite's largest integer: a bigger one in a query would be a 500, not a 422

log = logging.getLogger(__name__)


class ApiError(HTTPException):
    """An error with a stable code the widget translates, and a message for integrators."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(status_code=status, detail=message, headers=headers, extra={"code": code})


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


@dataclass
class ContactRequest:
    email: str = ""
    phone: str = ""


@dataclass
class RatingRequest:
    satisfied: bool
    comment: str = ""


@dataclass
class SeenRequest:
    message_id: int


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


@dataclass
class PhotoForm:
    file: UploadFile
    text: str = ""
    lang: str = ""


def _ip(request: Request, settings: Settings) -> str:
    return visitors.client_ip(request, settings.trusted_proxies)


def _lang(asked: str, settings: Settings) -> str:
    """The language a client asked for, or the shop's default when it isn't one of ours."""
    return asked if asked in i18n.LANGUAGES else settings.default_language


def _network(request: Request, settings: Settings) -> str:
    """What the per-address limits count (IPv6 by /64)."""
    return visitors.network(_ip(request, settings))


def _limit(limiter: RateLimiter, key: str, limit: int, window_s: int) -> None:
    retry = limiter.hit(key, limit, window_s)
    if retry is not None:
        raise ApiError(
            429, "rate_limited", "too many requests; try again shortly", headers={"retry-after": str(int(retry))}
        )


def _rejected(exc: MessageRejected) -> ApiError:
    return ApiError(404 if exc.code in {"no_conversation", "no_entry"} else 422, exc.code, str(exc))


def provide_visitor(request: Request, store: Inject[Store]) -> str:
    """The visitor whose bearer token came with the request, or a 401."""
    visitor_id = visitors.find(store, visitors.bearer(request))
    if visitor_id is None:
        raise ApiError(
            401, "unknown_visitor", "missing or unknown visitor token", headers={"www-authenticate": "Bearer"}
        )
    return visitor_id


def provide_own_conversation(
    conversation_id: FromPath[str], visitor: Inject[str], conversations: Inject[Conversations]
) -> str:
    """The conversation in the path, if it is this visitor's; any other is a 404 (never a 403,
    so that ids can't be probed)."""
    if not conversations.belongs_to(conversation_id, visitor):
        raise ApiError(404, "no_conversation", "no such conversation")
    return conversation_id


@dataclass
class Limits:
    """The per-visitor and per-IP limits of the request's visitor."""

    request: Request
    settings: Settings
    limiter: RateLimiter
    visitor: str

    def message(self) -> None:
        _limit(self.limiter, f"msg:v:{self.visitor}", self.settings.visitor_messages_per_minute, 60)
        _limit(
            self.limiter, f"msg:ip:{_network(self.request, self.settings)}", self.settings.ip_messages_per_minute, 60
        )

    def per_visitor(self, what: str, limit: int, window_s: int) -> None:
        _limit(self.limiter, f"{what}:v:{self.visitor}", limit, window_s)

    def per_network(self, what: str, limit: int, window_s: int) -> None:
        _limit(self.limiter, f"{what}:ip:{_network(self.request, self.settings)}", limit, window_s)


def provide_limits(
    request: Request, settings: Inject[Settings], limiter: Inject[RateLimiter], visitor: Inject[str]
) -> Limits:
    return Limits(request, settings, limiter, visitor)


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


_running: set[asyncio.Future] = set()
# The reply being worked out for each message (conversation id, message id): a retried send
# waits for it instead of answering the same message again.
_answering: dict[tuple[str, int], asyncio.Future] = {}


def _keep(task: asyncio.Future) -> asyncio.Future:
    """Hold a reference until the task is done (asyncio keeps only weak ones), and log its
    failure, with the traceback, whether or not the customer is still waiting for it."""
    _running.add(task)

    def done(t: asyncio.Future) -> None:
        _running.discard(t)
        if not t.cancelled() and t.exception() is not None:
            log.error("reply failed", exc_info=t.exception())

    task.add_done_callback(done)
    return task


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
    ip = _ip(request, settings)
    _limit(limiter, f"conv:ip:{visitors.network(ip)}", settings.ip_conversations_per_day, DAY)
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
        "greeting": i18n.t(shown, "bot.greeting").format(shop=shop),
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
        listener = push.listen(own, _network(request, settings), visitor)
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
    own: Inject[str],
    data: JSONBody[MessageRequest],
    settings: Inject[Settings],
    chat: Inject[ChatService],
    limits: Inject[Limits],
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
        raise _rejected(exc) from None
    # Nothing may be awaited from here until the task is registered (see below).
    key = (conversation_id, message_id)
    task = _answering.get(key)
    if not duplicate:
        # The answer is worked out and stored even if the customer closes the page meanwhile
        # (their stream is cancelled, the task is not): they find it when they come back, and no
        # message is left with neither a reply nor an escalation. Started here, before any
        # await, so a retry arriving a moment later finds it.
        task = _answering[key] = _keep(asyncio.ensure_future(chat.answer(conversation_id, message_id, data.text)))
        task.add_done_callback(lambda _: _answering.pop(key, None))

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
        except Exception:  # the message is stored; the owner sees it even if the bot failed (logged by _keep)
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
        raise _rejected(exc) from None

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
    lang = _lang(data.lang, settings)
    reason = data.reason if data.reason in {"asked_for_person", "clarification_failed"} else "asked_for_person"
    turn = await chat.handoff(own, i18n.t(lang, "widget.person_label"), lang, reason=reason)
    return {"message_id": turn.message_id, "reply_id": turn.reply_id, "text": turn.reply.text, "handoff": True}


PHOTO_ROUTE = "/conversations/{conversation_id:str}/attachments"
FORM_ROOM = 65_536  # the multipart form around the file: boundaries, the caption


PHOTOS_PER_NETWORK_PER_DAY = 100  # a visitor costs nothing to make: the disk is guarded per address too
KEEP_FREE_BYTES = 1_000_000_000  # photos stop before they fill the disk the database needs


def _photo_size_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """A photo is refused before its body is read: when the shop takes none, when its
    Content-Length is over the shop's limit, when the disk is nearly full."""
    settings = connection.app.state.services.settings
    if not settings.customer_photos:
        raise ApiError(403, "photos_off", "this shop doesn't take photos in the chat")
    if shutil.disk_usage(settings.data_dir).free < KEEP_FREE_BYTES:
        log.warning("a customer's photo was refused: less than 1 GB free in %s", settings.data_dir)
        raise ApiError(507, "storage_full", "the shop can't take photos right now", headers={"retry-after": "3600"})
    length = connection.headers.get("content-length", "")
    if length.isdigit() and int(length) > settings.attachment_max_bytes + FORM_ROOM:
        raise ApiError(413, "attachment.too_big", f"the photo is larger than {settings.attachment_max_mb} MB")


_PHOTO_STATUS = {
    "attachment.too_big": 413,
    "attachment.not_image": 415,
    "attachment.one_at_a_time": 429,
    "attachment.busy": 503,
}


def _photo_refused(code: str, message: str) -> ApiError:
    status = _PHOTO_STATUS.get(code, 422)  # too_many_pixels, damaged, empty: 422
    retry = {"retry-after": "5" if status == 429 else "60"} if status in {429, 503} else None
    return ApiError(status, code, message, headers=retry)


def _photo_turns(request: Request) -> attachments.PhotoTurns:
    wired = request.app.state.services
    if wired.photo_turns is None:  # made on the event loop that uses it (its semaphore belongs to that loop)
        wired.photo_turns = attachments.PhotoTurns()
    return wired.photo_turns


@post(
    PHOTO_ROUTE,
    status_code=200,
    summary="Send a photo",
    description="`multipart/form-data`: `file` (a JPEG, PNG, WebP or GIF picture; what it is is read from "
    "its content), `text` (a few words with it), `lang`. The picture is stored re-encoded, without its "
    "metadata, and passed to a person: the reply says so. 415 `attachment.not_image` for anything that "
    "isn't a picture, 413 for one over the limit, 422 `attachment.too_many_pixels` for one with more pixels "
    "than can be drawn safely (or `attachment.damaged`), 429 `attachment.one_at_a_time` while the "
    "visitor's last photo is still being handled, 503 `attachment.busy` when too many are, 403 "
    "`photos_off` when the shop doesn't take photos, 507 `storage_full` when the appliance's disk is "
    "nearly full.",
    # The largest photo the shop allows, and room for the form around it (the router's cap is a
    # message's).
    request_max_body_size=25_000_000 + FORM_ROOM,
    guards=[_photo_size_guard],
)
async def send_photo(
    request: Request,
    own: Inject[str],
    data: Annotated[PhotoForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    settings: Inject[Settings],
    chat: Inject[ChatService],
    limits: Inject[Limits],
) -> dict[str, Any]:
    limits.message()
    limits.per_visitor("photo", settings.attachments_per_hour, 3600)
    limits.per_network("photo", PHOTOS_PER_NETWORK_PER_DAY, DAY)
    if not isinstance(data.file, UploadFile):
        raise ApiError(422, "attachment.empty", "send the photo as the form's `file`")
    content = await data.file.read()
    lang = _lang(data.lang, settings)
    try:
        # One picture of a visitor's at a time, two in the process: drawing one costs memory.
        async with _photo_turns(request).turn(limits.visitor):
            turn = await chat.send_photo(
                own, content, data.file.filename or "photo", data.text, lang, settings.attachment_max_bytes
            )
    except attachments.AttachmentRefused as exc:
        raise _photo_refused(exc.key, str(exc)) from None
    except MessageRejected as exc:
        raise (_photo_refused(exc.code, str(exc)) if exc.code.startswith("attachment.") else _rejected(exc)) from None
    sent = chat.conversations.history(own, after=turn.message_id - 1)
    return {
        "message": sent[0] if sent else None,
        "reply_id": turn.reply_id,
        "text": turn.reply.text,
        "handoff": turn.reply_id is not None,
    }


@get(
    "/attachments/{attachment_id:str}",
    summary="A photo or file in one of the visitor's conversations",
    description="The bytes as stored (a re-encoded image or the owner's PDF), with `Content-Disposition`, "
    "`X-Content-Type-Options: nosniff` and a sandboxing CSP. 404 for a file that isn't in one of this "
    "visitor's conversations.",
    media_type="application/octet-stream",
    sync_to_thread=True,  # a PDF can be megabytes: read off the event loop
)
def attachment(
    visitor: Inject[str], store: Inject[Store], conversations: Inject[Conversations], attachment_id: FromPath[str]
) -> Response:
    row = attachments.get(store.read(), attachment_id)
    if row is None or not conversations.belongs_to(row["conversation_id"], visitor):
        raise ApiError(404, "not_found", "no such file")
    return Response(row["data"], media_type=row["mime"], headers=attachments.headers(row))


# -- proactive messages ---------------------------------------------------------------------------

TRIGGER_CALLS_PER_MINUTE = 120  # per network: a page view makes two or three
# Each showing is a row: one network may not write more than this a day (an office of a hundred
# browsers, each seeing a few), however many made-up visitor ids it sends.
TRIGGER_SHOWN_PER_DAY = 500


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
    _limit(limiter, f"trigger:ip:{_network(request, settings)}", TRIGGER_CALLS_PER_MINUTE, 60)
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
    lang = _lang(lang, settings)
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
    lang = _lang(data.lang, settings)
    if not found.message(lang):
        return {"show": False, "text": ""}
    _limit(limiter, f"trigger-shown:ip:{_network(request, settings)}", TRIGGER_SHOWN_PER_DAY, DAY)
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
    limits.per_visitor("proactive", SAVES_PER_HOUR, 3600)
    _visitor_id(data.visitor_id)
    found = _trigger(store, data.trigger_id)
    lang = _lang(data.lang, settings)
    now = clock().isoformat()

    def reply() -> int | None:
        if not found.message(lang) or not triggers.record(store, data.trigger_id, data.visitor_id, "replied", now, own):
            return None
        return chat.conversations.add_proactive(own, found.message(lang))

    message_id = await store.run(reply)
    return {"message_id": message_id}


# Contact details and ratings: owner-only data a visitor may set, ten times an hour.
SAVES_PER_HOUR = 10


async def _save(limits: Limits, what: str, save: Callable[[], Awaitable[None]]) -> dict[str, bool]:
    limits.per_visitor(what, SAVES_PER_HOUR, 3600)
    try:
        await save()
    except MessageRejected as exc:
        raise _rejected(exc) from None
    return {"saved": True}


@post(
    "/conversations/{conversation_id:str}/contact", status_code=200, summary="Leave an e-mail address or phone number"
)
async def contact(
    own: Inject[str], data: JSONBody[ContactRequest], chat: Inject[ChatService], limits: Inject[Limits]
) -> dict[str, bool]:
    return await _save(limits, "contact", lambda: chat.set_contact(own, data.email, data.phone))


@post("/conversations/{conversation_id:str}/rating", status_code=200, summary="Rate the conversation")
async def rate(
    own: Inject[str], data: JSONBody[RatingRequest], chat: Inject[ChatService], limits: Inject[Limits]
) -> dict[str, bool]:
    # Stripped of control and direction-override characters as messages are: shown in the admin.
    comment = without_controls(data.comment)
    return await _save(limits, "rate", lambda: chat.rate(own, data.satisfied, comment))


@post("/conversations/{conversation_id:str}/seen", status_code=200, summary="Mark replies as read")
async def seen(
    own: Inject[str], data: JSONBody[SeenRequest], chat: Inject[ChatService], limits: Inject[Limits]
) -> dict[str, bool]:
    # Each call is a write: unthrottled, one visitor could keep the single writer busy. The
    # widget calls it when replies come into view, far less often than this.
    limits.per_visitor("seen", SEEN_PER_MINUTE, 60)
    if not 0 <= data.message_id <= MAX_ID:
        raise ApiError(422, "bad_message_id", "message_id must be a message's id")
    await chat.mark_seen(own, data.message_id)
    return {"saved": True}


SEEN_PER_MINUTE = 60

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def _error_response(request: Request, exc: HTTPException) -> Response:
    code = (exc.extra or {}).get("code") if isinstance(exc.extra, dict) else None
    if code is None and exc.status_code == 400 and "utf-8" in f"{exc.detail} {exc.extra}".lower():
        # msgspec >= 0.23 reports a body that isn't UTF-8 as a decode error (older ones raised
        # UnicodeDecodeError, answered by app._bad_encoding): the same answer either way.
        return Response({"error": "bad_encoding", "message": "the request body is not valid UTF-8"}, status_code=400)
    body = {"error": code or _CODES.get(exc.status_code, "error"), "message": exc.detail}
    return Response(body, status_code=exc.status_code, headers=exc.headers or {})


def _browser_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Only the shop's own pages may drive a visitor's browser here: any site could start
    conversations from its visitors' browsers with a `text/plain` POST (a "simple" request that
    needs no CORS preflight). So a body must be JSON, and a browser's Origin must be this
    appliance or one of the shop's sites (`allowed_origins`). Other programs send no Origin."""
    if connection.scope.get("method") not in UNSAFE:
        return
    kind = connection.headers.get("content-type", "").split(";")[0].strip().lower()
    # A photo is a form; it needs the visitor's bearer token, which no other site's page can send
    # without the browser asking this appliance first (CORS), and the Origin check below.
    photo = connection.scope["path"].endswith("/attachments") and kind == "multipart/form-data"
    if kind != "application/json" and not photo:
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    origin = connection.headers.get("origin")
    if origin is None:
        return
    settings = connection.app.state.services.settings
    # Ours: the host the browser asked for (whatever the scheme at a TLS proxy), or the configured
    # address; theirs: the shop's sites.
    if origin.split("://", 1)[-1].lower() == connection.headers.get("host", "").lower():
        return
    if origin.rstrip("/").lower() not in {
        settings.base_url.rstrip("/").lower(),
        *(o.rstrip("/").lower() for o in settings.allowed_origins),
    }:
        raise ApiError(403, "forbidden_origin", "this site may not use the shop's chat")


def make_router(settings: Inject[Settings]) -> Router:
    return Router(
        path="/api/v1",
        guards=[_browser_guard],
        route_handlers=[
            start,
            list_conversations,
            history,
            events,
            send,
            choose,
            handoff,
            send_photo,
            attachment,
            list_triggers,
            trigger_shown,
            trigger_event,
            proactive,
            contact,
            rate,
            seen,
        ],
        request_max_body_size=settings.max_request_bytes,
        dependencies={
            "visitor": Provide(provide_visitor, sync_to_thread=False),
            "own": Provide(provide_own_conversation, sync_to_thread=False),
            "limits": Provide(provide_limits, sync_to_thread=False),
        },
        exception_handlers={HTTPException: _error_response},
        tags=["chat"],
    )
