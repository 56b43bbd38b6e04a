"""A customer's data-access request across the channels: what conversations/privacy.py exports
(the conversations, their messages, the order lookups), and what the channels keep of their own
about those conversations (the e-mails of an e-mail conversation, whole: the messages hold only
the customer's new words). Erasure needs nothing here: the channels' rows go with their
conversation (ON DELETE CASCADE)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from appliance.channels import mail_threads
from appliance.conversations import privacy
from appliance.db import Store


def export_customer(store: Store, ids: list[str]) -> dict[str, Any]:
    data = privacy.export_customer(store, ids)
    data["emails"] = [
        {"conversation_id": cid, **asdict(said)} for cid in ids for said in mail_threads.thread(store, cid)
    ]
    return data
