"""The shop's support mailbox in the admin (/admin/channels/email): whether it is read, in
words (off, the last check, how many e-mails became conversations and how many automatic ones
were left alone, the last failure such as a refused password), and "check now". Reading it is
channels/mail_poll.py's; its address and password are on the settings page (group "channels")."""

from __future__ import annotations

from datetime import datetime, timedelta

from litestar import get, post
from litestar.response import Template

from appliance import i18n
from appliance.channels import mail_poll
from appliance.clock import Clock
from appliance.db import Store
from appliance.ops import mailer
from appliance.web.admin.core import Page, owner_router, toast
from appliance.web.services import AppServices, Inject

ASKING_FOR = timedelta(minutes=2)  # a check takes seconds; past this, "checking" is stale


def _page(page: Page, store: Store) -> Template:
    settings = page.settings
    state = mail_poll.state(store)
    if state.account != mail_poll.account(settings):
        state = mail_poll.State()  # what was said of another mailbox says nothing of this one
    asked = mail_poll.asked(store)
    return page(
        "admin/mailbox.html",
        partial="admin/_mailbox_body.html",
        on=bool(settings.imap_host),
        sends=mailer.configured(settings),
        state=state,
        # "check now" pressed and not yet done: the part asks again in a moment (htmx polls).
        checking=bool(settings.imap_host and _pending(asked, state.checked_at, page.clock())),
    )


def _pending(asked: str, checked_at: str, now: datetime) -> bool:
    """A "check now" not yet done, asked lately (an appliance run without its channels never
    does it: the page stops asking after a while)."""
    if not asked or asked <= (checked_at or ""):
        return False
    try:
        return now - datetime.fromisoformat(asked) < ASKING_FOR
    except ValueError:
        return False


@get("/channels/email", sync_to_thread=True)
def mailbox_page(page: Inject[Page], store: Inject[Store]) -> Template:
    return _page(page, store)


@post("/channels/email/check", sync_to_thread=True, status_code=200)
def mailbox_check(
    page: Inject[Page], store: Inject[Store], clock: Inject[Clock], services: Inject[AppServices]
) -> Template:
    """Read the mailbox now: the channel's worker is asked (it holds the only connection), and
    the page's state part polls until the check is done."""
    mail_poll.ask(store, clock().isoformat())
    services.bell.ring()
    return toast(_page(page, store), i18n.t(page.lang, "mailbox.checking"))


router = owner_router([mailbox_page, mailbox_check])
