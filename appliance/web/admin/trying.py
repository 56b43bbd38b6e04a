"""The "try it" page of the admin (/admin/try): the owner asks a question as a customer would and
sees what the customer would get (the answer, the choices, or the hand-over to the owner) and
why, in words first and the scores folded below. Nothing of it is stored as a conversation; the
first time the owner tries, ``meta`` notes when (``TRIED_KEY``), which the home page's guided
start reads to tick "try it as a customer". Its routes are served by the knowledge base's router
(kb.py), the page it belongs with."""

from __future__ import annotations

import json

from litestar import get, post
from litestar.params import FromQuery
from litestar.response import Template
from sqlite_utils import Database

from appliance.clock import Clock
from appliance.conversations.chat import ChatService
from appliance.db import Store, read_meta, write_meta
from appliance.kb import store as kb
from appliance.reports import explain
from appliance.settings import Settings
from appliance.web.admin.core import Form, Page
from appliance.web.services import Inject

# When the owner first tried a question on the try page (an ISO time), in ``meta``.
TRIED_KEY = "owner_tried_at"
# Questions offered to a new owner, in the page's language: they show what each outcome looks like.
EXAMPLES = {
    "fa": ("هزینهٔ ارسال چقدره؟", "کی باز هستید؟", "می‌خوام با یه آدم صحبت کنم"),
    "en": ("How much is shipping?", "When are you open?", "Can I talk to a person?"),
}


def tried_at(db: Database) -> str | None:
    """When the owner first used the try page, or None: the guided start's "tried it"."""
    return read_meta(db, TRIED_KEY)


@get("/try", sync_to_thread=True)
def try_page(page: Inject[Page], store: Inject[Store], q: FromQuery[str] = "") -> Template:
    db = store.read()
    return page(
        "admin/try.html",
        question=q.strip()[:2000],
        examples=EXAMPLES[page.lang],
        entries=kb.count(db, enabled_only=True),
        tried=tried_at(db) is not None,
    )


@post("/try", status_code=200)
async def try_question(
    data: Form,
    page: Inject[Page],
    settings: Inject[Settings],
    chat: Inject[ChatService],
    store: Inject[Store],
    clock: Inject[Clock],
) -> Template:
    """What a customer asking this would get, with the scores: nothing is stored but the note
    that the owner has tried."""
    question = data.get("question", "").strip()[: settings.max_message_chars]
    if not question:
        return page("admin/_try_result.html", decision=None, reply=None, question="")
    decision, reply = await chat.preview(question)
    if tried_at(store.read()) is None:
        now = clock().isoformat()

        def note() -> None:
            with store.write() as db:
                write_meta(db, TRIED_KEY, now)

        await store.run(note)
    titles = {e.id: e.title for e in chat.decider.index.entries}
    lang = page.lang
    return page(
        "admin/_try_result.html",
        question=question,
        decision=decision,
        reply=reply,
        said=explain.preview_in_words(lang, decision, titles),
        ranking=[titles.get(i, "") for i in decision.ranking if titles.get(i)],
        features=json.dumps(decision.features, indent=1, ensure_ascii=False) if decision.features else "",
    )
