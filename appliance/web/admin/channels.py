"""The channels page: where customers reach the shop and how the owner hears of them, each with
its state in words and the way to its own page (the website chat, the Telegram or Bale bot, the
support mailbox, alerts on the owner's phone, webhooks to the shop's own systems)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from litestar import get
from litestar.response import Template

from appliance.channels import telegram, webhook_store, webpush
from appliance.clock import Clock
from appliance.conversations.store import Conversations
from appliance.db import Store
from appliance.locale import N_
from appliance.settings import Settings
from appliance.web.admin.core import Page, owner_router
from appliance.web.services import Inject

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Card:
    key: str  # the channel's name (conversations' channel where it has conversations)
    icon: str
    title: str  # msgid
    text: str  # msgid: what it is, in a sentence
    href: str
    on: bool
    detail: str = ""  # a value shown as it is when on (an address, a count)
    said_on: str = N_("chan.state.on")  # msgid of its state in words when on

    @property
    def state(self) -> str:
        return self.said_on if self.on else N_("chan.state.off")

    @property
    def shown(self) -> str:
        return self.detail if self.on else ""


def cards(settings: Settings, store: Store) -> list[Card]:
    bot = bool(settings.bot_platform and settings.bot_token)
    mailbox = bool(settings.imap_host and settings.imap_user)
    endpoints = len(webhook_store.endpoints(store))
    # Alerts are on when they can reach the owner: a device turned on, or the owner's own chat
    # with the bot linked (whichever the setting asks for), not merely when the setting says so.
    via = settings.alerts_via
    by_push = via in ("push", "both") and bool(webpush.devices(store))
    by_bot = via in ("bot", "both") and bot and telegram.owner_linked(store)
    alerts = by_push or by_bot
    return [
        Card(
            "widget",
            "chat-dots",
            N_("chan.widget"),
            N_("chan.widget_text"),
            "/admin/settings#group-widget",
            True,
        ),
        Card(
            "bot",
            "telegram",
            N_("chan.bot"),
            N_("chan.bot_text"),
            "/admin/channels/telegram",
            bot,
            settings.bot_platform,
        ),
        Card(
            "email",
            "envelope",
            N_("chan.email"),
            N_("chan.email_text"),
            "/admin/channels/email",
            mailbox,
            settings.imap_user,
        ),
        Card(
            "alerts",
            "phone-vibrate",
            N_("chan.alerts"),
            N_("chan.alerts_text"),
            "/admin/alerts",
            alerts,
        ),
        Card(
            "webhooks",
            "plug",
            N_("chan.webhooks"),
            N_("chan.webhooks_text"),
            "/admin/webhooks",
            endpoints > 0,
            str(endpoints),
            N_("chan.state.endpoints"),
        ),
    ]


@get("/channels", sync_to_thread=True)
def channels_page(
    page: Inject[Page],
    settings: Inject[Settings],
    store: Inject[Store],
    conversations: Inject[Conversations],
    clock: Inject[Clock],
) -> Template:
    counts = conversations.counts_by_channel((clock() - WEEK).isoformat())
    # The bot's conversations are Telegram's or Bale's, whichever it is on.
    counts["bot"] = counts.get("telegram", 0) + counts.get("bale", 0)
    return page("admin/channels.html", cards=cards(settings, store), counts=counts)


router = owner_router([channels_page])
