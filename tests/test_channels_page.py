"""The channels page: every way customers reach the shop and the owner hears of them, each with
its state in words (fa and en) and its own page; the navigation leads there."""

from __future__ import annotations

import dataclasses

from litestar.testing import TestClient

from appliance.conversations.store import Channel

from .helpers import sign_in


def test_every_channel_with_its_state_and_its_page(admin: TestClient) -> None:
    services = admin.app.state.services
    sign_in(admin)
    page = admin.get("/admin/channels?lang=fa").text
    for title in ("گفتگوی سایت", "ربات تلگرام یا بله", "ایمیل پشتیبانی", "خبر به گوشی شما", "وب‌هوک‌ها"):
        assert title in page
    for href in ("/admin/channels/telegram", "/admin/channels/email", "/admin/alerts", "/admin/webhooks"):
        assert f'href="{href}"' in page
        assert admin.get(href).status_code == 200  # each card's page is there
    assert page.count("خاموش") == 4  # only the website chat is on in a new appliance
    assert 'href="/admin/channels" aria-current="page"' in page  # the navigation knows where it is

    # A bot and a mailbox set up, and a week of conversations through them.
    services.apply_settings(
        dataclasses.replace(
            services.settings,
            bot_platform="bale",
            bot_token="123:abc",
            imap_host="127.0.0.1",
            imap_user="support@example.com",
        )
    )
    conversations = services.chat.conversations
    for channel in (Channel.BALE, Channel.BALE, Channel.EMAIL, Channel.WIDGET, Channel.CLI):
        conversations.start(channel=channel)
    page = admin.get("/admin/channels?lang=en").text
    assert page.count(">On<") == 3
    assert "support@example.com" in page
    assert "2 conversations in the last week" in page  # the bot's
    assert "1 conversation in the last week" in page  # the mailbox's and the website's, not the CLI's
    fa = admin.get("/admin/channels?lang=fa").text
    assert "۲ گفتگو در هفتهٔ گذشته" in fa


def test_the_channels_page_is_the_owners_only(admin: TestClient) -> None:
    r = admin.get("/admin/channels", follow_redirects=False)
    assert r.status_code in (302, 303, 401)
