"""A customer's photo in the chat, and the files of a visitor's conversations.

A photo is refused before its body is read when the shop takes none, when it is over the shop's
size limit, or when the disk is nearly full; what arrives is re-encoded without its metadata
(conversations/attachments.py) and handed to a person."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.handlers import BaseRouteHandler
from litestar.params import Body, FromPath

from appliance.conversations import attachments
from appliance.conversations.chat import ChatService, MessageRejected
from appliance.conversations.store import Conversations
from appliance.db import Store
from appliance.settings import Settings
from appliance.web.api.common import DAY, ApiError, Limits, chat_lang, rejected
from appliance.web.services import Inject

log = logging.getLogger(__name__)


@dataclass
class PhotoForm:
    file: UploadFile
    text: str = ""
    lang: str = ""


PHOTO_ROUTE = "/conversations/{conversation_id:str}/attachments"
FORM_ROOM = 65_536  # the multipart form around the file: boundaries, the caption


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
    # a visitor costs nothing to make, so the disk is guarded per address too
    limits.per_network("photo", settings.photos_per_address_per_day, DAY)
    if not isinstance(data.file, UploadFile):
        raise ApiError(422, "attachment.empty", "send the photo as the form's `file`")
    content = await data.file.read()
    lang = chat_lang(data.lang, settings)
    try:
        # One picture of a visitor's at a time, two in the process: drawing one costs memory.
        async with _photo_turns(request).turn(limits.visitor):
            turn = await chat.send_photo(
                own, content, data.file.filename or "photo", data.text, lang, settings.attachment_max_bytes
            )
    except attachments.AttachmentRefused as exc:
        raise _photo_refused(exc.key, str(exc)) from None
    except MessageRejected as exc:
        raise (_photo_refused(exc.code, str(exc)) if exc.code.startswith("attachment.") else rejected(exc)) from None
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
