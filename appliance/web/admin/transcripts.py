"""A conversation's transcript as the owner reads it in the inbox: each of the bot's answers said
in words (reports/explain.py), the knowledge base's closest answers to each question (the bot's
best guesses, and what the reply box offers to insert), the guesses offered for "which entry
answers this?", and "save as an entry" on each of the owner's replies."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from appliance.answering.decide import PRODUCT, small_talk
from appliance.catalog import store as catalog_store
from appliance.conversations.store import Conversations, Role
from appliance.db import Store
from appliance.kb import store as kb
from appliance.reports.explain import decision_in_words

# Customer messages that aren't a question the knowledge base could answer: "talk to a person",
# "none of these", an empty one, small talk. "Save as an entry" pairs the owner's reply with the
# question before them (it paired it with "I want to talk to a real person").
NOT_A_QUESTION = {"asked_for_person", "clarification_failed", "attachment", "empty", "greeting", "thanks", "goodbye"}
PHOTO = "attachment"  # a customer's photo (its caption is the message's text)


GUESSES = 3  # entries offered for "which entry answers this?"
AFTER_OFFERED = 2  # ... and after the choices the bot offered for the question, the closest others


def asked_before(messages: list[dict[str, Any]], n: int) -> tuple[str, bool]:
    """What the owner's reply ``messages[n]`` answers: the customer's messages since the previous
    reply (the owner's, or the bot's to an earlier question), photos' captions included, small talk
    and "a person, please" left out; and whether a photo without words was among them. After a
    reply to a photo of a damaged book, "save as an entry" offered the laptop question asked before
    it, with the returns answer: a photo with no caption gives no question, never an older one."""
    asked: list[str] = []
    photo = False
    for m in reversed(messages[:n]):
        if m["role"] == Role.OWNER:
            break
        if m["role"] == Role.BOT:
            # The bot's replies after the customer's message are passed by; once that message is
            # found, a reply before it answered an earlier question: the span starts after it.
            if asked or photo:
                break
            continue
        if m["role"] != Role.CUSTOMER or m["pressed"]:  # a button pressed is no question
            continue
        text = (m["text"] or "").strip()
        if m["asked_reason"] == PHOTO or m["attachments"]:
            photo = photo or not text
            if text:
                asked.append(text)
        elif m["asked_reason"] not in NOT_A_QUESTION and text and not small_talk(text):
            # (small talk the bot never read, in a conversation the owner took over, too)
            asked.append(text)
    return "\n".join(reversed(asked)), photo and not asked


def for_owner(conversations: Conversations, store: Store, conversation_id: str, lang: str) -> list[dict[str, Any]]:
    out, ranked = conversations.transcript(conversation_id), []
    db = store.read()
    ids = sorted(
        {i for item in out for i in [*item["ranking"][: GUESSES + AFTER_OFFERED], *item["offered"], *item["entry_ids"]]}
    )
    products = [i.removeprefix(PRODUCT) for i in ids if i.startswith(PRODUCT)]
    entries = kb.titles(db, [i for i in ids if not i.startswith(PRODUCT)])
    titles = {**entries, **{PRODUCT + sku: name for sku, name in catalog_store.titles(db, products).items()}}
    for n, item in enumerate(out):
        if item["role"] == Role.CUSTOMER:
            ranked = [titles[i] for i in item["ranking"] if i in titles]
            # The knowledge base's answers closest to the question: the bot's best guesses, and
            # what the owner's reply box offers to insert. The choices the bot offered this
            # customer come first (it offered returns, tracking and shipping; "which entry answers
            # this?" suggested returns, payment and hours), then the closest others.
            offered = [i for i in item["offered"] if i in entries]
            others = [i for i in item["ranking"] if i in entries and i not in offered]
            item["closest"] = [(i, entries[i]) for i in [*offered, *others[: AFTER_OFFERED if offered else GUESSES]]]
        if item["role"] == Role.CUSTOMER and not item["pressed"] and item["asked_reason"] not in NOT_A_QUESTION:
            # A question the bot handed over, offered choices for, or answered wrongly (the
            # owner's mark on the reply after it): the owner says which entry answers it.
            reply = out[n + 1] if n + 1 < len(out) and out[n + 1]["role"] == Role.BOT else {}
            wrong = set(reply.get("entry_ids", [])) if reply.get("verdict") == "wrong" else set()
            if item["asked_kind"] in {"escalate", "clarify"} or wrong:
                item["guesses"] = [(i, t) for i, t in item["closest"] if i not in wrong]
        if item["role"] == Role.BOT and item["kind"]:
            chosen = [titles.get(i, i) for i in item["entry_ids"]]
            item["said"] = decision_in_words(lang, item["kind"], item["reason"], item["confidence"], chosen, ranked)
        if item["role"] == Role.OWNER and item["text"]:
            question, item["photo_only"] = asked_before(out, n)
            item["save_link"] = "/admin/kb/new?" + urlencode({"question": question, "answer": item["text"]})
    return out


def suggested(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The closest answers to the customer's last question, for the reply box."""
    asked = [
        m
        for m in messages
        if m["role"] == Role.CUSTOMER and not m["pressed"] and m["asked_reason"] not in NOT_A_QUESTION
    ]
    return asked[-1].get("closest", []) if asked else []
