"""The shop's Telegram or Bale bot in the admin (/admin/channels/telegram): whether it works, in
words (off, connected as @name, the token refused, the last error, the last customer update), and
the owner's own chat linked with a one-time code, where the alerts go. The bot itself is
channels/telegram.py; its token is on the settings page (group "channels")."""

from __future__ import annotations

from litestar import get, post
from litestar.response import Template

from appliance import i18n
from appliance.channels import telegram
from appliance.clock import Clock
from appliance.db import Store
from appliance.web.admin.core import Page, owner_router, toast
from appliance.web.services import Inject


def _page(page: Page, store: Store, code: str = "") -> Template:
    settings = page.settings
    state = telegram.status(store) if settings.bot_platform and settings.bot_token else {}
    # What another bot (an earlier token or platform) said is nothing about this one.
    if state.get("bot") != telegram.bot_id(settings):
        state = {}
    return page(
        "admin/telegram.html",
        partial="admin/_telegram_body.html",
        platform=settings.bot_platform,
        has_token=bool(settings.bot_token),
        mode=telegram.mode(settings),
        state=state,
        linked=telegram.owner_linked(store),
        code=code,
        minutes=telegram.LINK_CODE_MINUTES,
    )


@get("/channels/telegram", sync_to_thread=True)
def telegram_page(page: Inject[Page], store: Inject[Store]) -> Template:
    return _page(page, store)


@post("/channels/telegram/code", sync_to_thread=True, status_code=200)
def telegram_code(page: Inject[Page], store: Inject[Store], clock: Inject[Clock], secret: Inject[bytes]) -> Template:
    """A new code for linking the owner's chat (shown once; the last one stops working)."""
    code = telegram.new_link_code(store, secret, clock())
    return _page(page, store, code=code)


@post("/channels/telegram/unlink", sync_to_thread=True, status_code=200)
def telegram_unlink(page: Inject[Page], store: Inject[Store]) -> Template:
    telegram.unlink_owner(store)
    return toast(_page(page, store), i18n.t(page.lang, "tg.unlinked"))


router = owner_router([telegram_page, telegram_code, telegram_unlink])
