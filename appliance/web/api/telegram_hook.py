"""Telegram's (or Bale's) server posting the shop's bot's updates (webhook mode, when the public
address is https: channels/telegram.py sets the webhook).

Trust boundary: anyone on the internet can reach this address. Telegram proves itself with the
secret it was given at setWebhook, in X-Telegram-Bot-Api-Secret-Token (compared in constant
time); the path token, unguessable too, names the bot (another is a 404, as if nothing were
here). No CSRF check: no browser and no cookie are involved. The update is stored as a polled one
is, then the answer is 200 at once, the bot's answer coming in the background (Telegram waits
for the 200 before it sends the next update, and posts again what wasn't answered in time).
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from litestar import Request, post
from litestar.params import FromPath

from appliance.channels import telegram
from appliance.web.api.common import ApiError

BODY_MAX_BYTES = 64 * 1024  # an update is a few kB; a photo comes as its file id, not its bytes
SECRET_HEADER = "x-telegram-bot-api-secret-token"


@post(
    "/channels/telegram/{path_token:str}",
    status_code=200,
    request_max_body_size=BODY_MAX_BYTES,
    include_in_schema=False,
)
async def telegram_update(request: Request, path_token: FromPath[str]) -> dict[str, Any]:
    hooked = telegram.hooked(path_token)
    if hooked is None:
        raise ApiError(404, "not_found", "no such address")
    given = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode(), hooked.secret.encode()):
        raise ApiError(401, "unauthorized", "the secret token is wrong")
    try:
        update = json.loads(await request.body())
    except ValueError:
        raise ApiError(400, "bad_request", "the body is not JSON") from None
    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
        raise ApiError(400, "bad_request", "not an update")
    await hooked.bot.take(update)
    return {"ok": True}
