"""What a visitor tells the shop besides messages: a way to reach them (e-mail, phone), their
rating of the conversation, and which replies they have read. Each is a write: limited per visitor."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from litestar import post
from litestar.params import JSONBody

from appliance.conversations.chat import ChatService, MessageRejected
from appliance.text.textnorm import without_controls
from appliance.web import limits as rate_limits
from appliance.web.api.common import MAX_ID, ApiError, Limits, rejected
from appliance.web.services import Inject


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


async def _save(limits: Limits, what: str, save: Callable[[], Awaitable[None]]) -> dict[str, bool]:
    limits.per_visitor(what, rate_limits.SAVES_PER_HOUR, 3600)
    try:
        await save()
    except MessageRejected as exc:
        raise rejected(exc) from None
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
    limits.per_visitor("seen", rate_limits.SEEN_PER_MINUTE, 60)
    if not 0 <= data.message_id <= MAX_ID:
        raise ApiError(422, "bad_message_id", "message_id must be a message's id")
    await chat.mark_seen(own, data.message_id)
    return {"saved": True}
