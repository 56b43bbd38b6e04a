"""The owner's saved replies in the admin: their page (add, delete) and the reply box's quick
insert of one. The table is conversations/saved_replies.py's; the routes are served with the
inbox's (inbox.py's router lists ``HANDLERS``)."""

from __future__ import annotations

from litestar import get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from appliance import i18n
from appliance.clock import Clock
from appliance.conversations import saved_replies as saved
from appliance.db import Store
from appliance.web.admin.core import Form, Page, toast
from appliance.web.services import Inject


@get("/saved-replies/{reply_id:int}", sync_to_thread=True)
def saved_reply(page: Inject[Page], store: Inject[Store], reply_id: FromPath[int]) -> Template:
    """Quick insert: the reply box, filled with a saved reply (an htmx swap)."""
    text = saved.text_of(store.read(), reply_id)
    if text is None:
        raise NotFoundException()
    return page("admin/_reply_box.html", draft=text)


def _saved_page(page: Page, store: Store) -> Template:
    return page("admin/saved_replies.html", rows=saved.all_replies(store.read()))


@get("/saved-replies", sync_to_thread=True)
def saved_replies(page: Inject[Page], store: Inject[Store]) -> Template:
    return _saved_page(page, store)


@post("/saved-replies", sync_to_thread=True, status_code=200)
def add_saved_reply(page: Inject[Page], store: Inject[Store], clock: Inject[Clock], data: Form) -> Template:
    title, text = data.get("title", "").strip()[: saved.MAX_TITLE], data.get("text", "").strip()[: saved.MAX_TEXT]
    if title and text:
        saved.add(store, title, text, clock().isoformat())
        return toast(_saved_page(page, store), i18n.t(page.lang, "saved.added"))
    return _saved_page(page, store)


@post("/saved-replies/{reply_id:int}/delete", sync_to_thread=True, status_code=200)
def delete_saved_reply(page: Inject[Page], store: Inject[Store], reply_id: FromPath[int]) -> Template:
    saved.delete(store, reply_id)
    return toast(_saved_page(page, store), i18n.t(page.lang, "saved.deleted"))


HANDLERS = [saved_reply, saved_replies, add_saved_reply, delete_saved_reply]
