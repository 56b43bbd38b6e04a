"""Learning from use, as the knowledge-base page shows it: customers' wordings waiting for the
owner's approval, and the recent answers the bot was least sure of, for the owner to mark right or
wrong (the mark itself is conversations/store.py's ``mark_answer``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from appliance.clock import Clock
from appliance.conversations.store import Conversations
from appliance.db import Store
from appliance.kb import store as kb
from appliance.kb import suggestions

REVIEW_DAYS = 30  # the bot's answers offered for the owner's review: this recent


def to_review(store: Store, conversations: Conversations, clock: Clock) -> dict[str, Any]:
    """``suggested``: the wordings waiting for the owner; ``review``: the least sure answers of
    the last REVIEW_DAYS, each with its entry's title."""
    db = store.read()
    review = conversations.least_sure_answers((clock() - timedelta(days=REVIEW_DAYS)).isoformat())
    titles = kb.titles(db, sorted({r["entry_id"] for r in review}))
    for r in review:
        r["title"] = titles.get(r["entry_id"], r["entry_id"])
    return {"suggested": suggestions.pending(db), "review": review}
