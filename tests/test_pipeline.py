"""The answer pipeline on the demo bookshop: real SQLite, real embeddings, real retrieval."""

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from appliance.answering.compose import Composer, facts, grounding_problems
from appliance.answering.decide import Decider
from appliance.conversations.chat import ChatService, MessageRejected
from appliance.db import Store
from appliance.kb import embedder
from appliance.kb import store as kb
from appliance.kb.entry import Entry
from appliance.kb.retrieval import RetrievalIndex, fts_query, trigrams
from appliance.llm.runtime import ModelRuntime

from .helpers import store_on_copy


def clock() -> datetime:
    return datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def store(demo_db: Path, tmp_path_factory: pytest.TempPathFactory):
    """This module's own copy of the demo bookshop: its tests store conversations."""
    s = store_on_copy(demo_db, tmp_path_factory.mktemp("kb"))
    yield s
    s.close()


@pytest.fixture(scope="module")
def index(store: Store) -> RetrievalIndex:
    return RetrievalIndex(store, embedder.shared())


def make_chat(store: Store, index: RetrievalIndex, llm: Any = None, **decider_kw: Any) -> ChatService:
    composer = Composer(llm, phrase_with_model=True, model_languages=("en",), shop_name="Book Nook")
    return ChatService(store, Decider(index, **decider_kw), composer, clock, max_message_chars=300)


def ask(chat: ChatService, *messages: str, conversation: str | None = None):
    async def go():
        conv = conversation or chat.conversations.start()
        return [await chat.reply(conv, m) for m in messages]

    turns = asyncio.run(go())
    return turns if len(turns) > 1 else turns[0]


@pytest.mark.parametrize(
    "question, entry",
    [
        ("ارسال به مشهد چند روز طول می‌کشد؟", "shipping-time-fa"),
        ("ارسال به مشهد چند روز طول مي‌كشد؟", "shipping-time-fa"),  # Arabic yeh and kaf
        ("هزینه پست چنده؟", "shipping-cost-fa"),
        ("کد تخفیف دانشجویی دارید؟", "discounts-fa"),
        ("پول از حسابم کم شد ولی سفارش ثبت نشد", "payment-failed-fa"),
        ("How much is shipping?", "shipping-cost-en"),
        ("Do you have a student discount?", "discounts-en"),
    ],
)
def test_answers_from_the_right_entry(store: Store, index: RetrievalIndex, question: str, entry: str) -> None:
    turn = ask(make_chat(store, index), question)
    assert turn.decision.kind == "answer", turn.decision
    assert turn.decision.entry_ids == [entry]
    assert turn.reply.composed_by == "owner_text"  # no model loaded
    assert turn.reply.text == kb.get(store.read(), entry).answer
    assert turn.reply.sources == [{"id": entry, "title": kb.get(store.read(), entry).title}]


@pytest.mark.parametrize(
    "question, entry",
    [
        ("ارسال به مشهد چند روز طول میکشد", "shipping-time-fa"),  # no ZWNJ
        ("can i send a book back?", "returns-en"),
    ],
)
def test_less_certain_questions_still_reach_the_right_entry(
    store: Store, index: RetrievalIndex, question: str, entry: str
) -> None:
    """Answered, or offered first among the choices: never escalated, never a wrong answer."""
    turn = ask(make_chat(store, index), question)
    assert turn.decision.ranking[0] == entry
    assert turn.decision.kind in {"answer", "clarify"}
    assert turn.decision.entries[0].id == entry


@pytest.mark.parametrize(
    "question",
    ["Do you sell second-hand laptops?", "آب و هوای فردا در شیراز چطور است؟", "What's the capital of Australia?"],
)
def test_out_of_scope_is_not_answered(store: Store, index: RetrievalIndex, question: str) -> None:
    turn = ask(make_chat(store, index), question)
    assert turn.decision.kind in {"escalate", "clarify"}
    if turn.decision.kind == "escalate":
        assert turn.decision.reason == "no_match"
        row = (
            store.read()
            .execute(
                "SELECT status FROM conversations c JOIN messages m ON m.conversation_id = c.id WHERE m.id = ?",
                [turn.message_id],
            )
            .fetchone()
        )
        assert row["status"] == "waiting"


def test_clarify_offers_the_top_entries(store: Store, index: RetrievalIndex) -> None:
    chat = make_chat(store, index, answer_threshold=0.9999, clarify_threshold=0.0001)
    turn = ask(chat, "how long does shipping take and what does it cost?")
    assert turn.decision.kind == "clarify"
    ids = [c["id"] for c in turn.reply.choices]
    # The two that fit, not a third whose score falls away from theirs (filler).
    assert set(ids) == {"shipping-time-en", "shipping-cost-en"}
    assert "not sure which" in turn.reply.text
    # Each with its answer's first sentence: the customer may need no second round trip.
    summary = {c["id"]: c["summary"] for c in turn.reply.choices}
    assert summary["shipping-cost-en"] == "Shipping is free for orders over 500,000 toman."

    async def pick():
        conv = chat.conversations.start()
        return await chat.choose(conv, "shipping-cost-en", "Shipping cost")

    chosen = asyncio.run(pick())
    assert chosen.decision.kind == "answer" and chosen.decision.reason == "chosen_by_customer"
    assert "45,000" in chosen.reply.text


@pytest.mark.parametrize(
    "message, kind, reason",
    [
        ("I want to talk to a real person", "escalate", "asked_for_person"),
        ("میخوام با اپراتور صحبت کنم", "escalate", "asked_for_person"),
        ("می‌خوام با یه آدم حرف بزنم", "escalate", "asked_for_person"),  # as customers type it
        ("This is unacceptable, my order is late again", "escalate", "upset"),
        ("از خدماتتون خیلی ناراضیم", "escalate", "upset"),
        # Upset without an angry word: a long wait, nothing arrived, the money back, "!!"
        ("دو هفته‌ست سفارشم نیومده، خیلی بی‌نظمید! پولمو پس بدین", "escalate", "upset"),
        ("سه هفته‌ست سفارش دادم کسی جواب نمیده", "escalate", "upset"),
        ("My order still hasn't arrived after two weeks, I want my money back", "escalate", "upset"),
        ("I will report you to consumer protection", "escalate", "upset"),
        ("سلام", "greeting", "greeting"),
        ("Hello!", "greeting", "greeting"),
        ("ممنون از شما", "thanks", "thanks"),
        ("thanks a lot!", "thanks", "thanks"),
        ("!!!", "escalate", "empty"),
    ],
)
def test_people_moods_and_small_talk(store: Store, index: RetrievalIndex, message: str, kind: str, reason: str) -> None:
    turn = ask(make_chat(store, index), message)
    assert (turn.decision.kind, turn.decision.reason) == (kind, reason)
    assert turn.reply.text and turn.reply.composed_by == "template"
    if kind == "greeting":
        assert "Book Nook" in turn.reply.text  # the shop's name, in the customer's language


def test_reply_in_the_customers_language(store: Store, index: RetrievalIndex) -> None:
    fa = ask(make_chat(store, index), "میخوام با اپراتور صحبت کنم")
    en = ask(make_chat(store, index), "I want to talk to a real person")
    assert fa.decision.lang == "fa" and "همکاران" in fa.reply.text
    assert en.decision.lang == "en" and "person" in en.reply.text


def test_follow_up_uses_the_conversation(store: Store, index: RetrievalIndex) -> None:
    chat = make_chat(store, index)
    alone = ask(chat, "و به مشهد؟")
    assert alone.decision.kind != "answer"
    first, follow = ask(chat, "ارسال به شیراز چند روز طول می‌کشد؟", "و به مشهد؟")
    assert first.decision.entry_ids == ["shipping-time-fa"]
    assert follow.decision.kind == "answer" and follow.decision.reason == "follow_up"
    assert follow.decision.entry_ids == ["shipping-time-fa"]


@pytest.mark.parametrize(
    "question", ["سفارشم هنوز نرسیده", "How long does a refund take?", "My order hasn't arrived yet"]
)
def test_an_ordinary_question_about_a_wait_is_not_taken_for_anger(
    store: Store, index: RetrievalIndex, question: str
) -> None:
    assert ask(make_chat(store, index), question).decision.reason != "upset"


@pytest.mark.parametrize(
    "first, follow_up, previous_entry",
    [
        ("هزینه ارسال چقدره؟", "میشه پس بدم؟", "shipping-cost-fa"),  # the issue's own conversation
        ("Can I return a book?", "do you repair laptops?", "returns-en"),
        ("How much is shipping?", "can I pay with bitcoin?", "shipping-cost-en"),
        ("ساعت کاری فروشگاه چیست؟", "پارکینگ دارید؟", "hours-fa"),
    ],
)
def test_a_follow_up_with_a_topic_of_its_own_is_not_answered_with_the_last_one(
    store: Store, index: RetrievalIndex, first: str, follow_up: str, previous_entry: str
) -> None:
    chat = make_chat(store, index)
    before, after = ask(chat, first, follow_up)
    assert before.decision.entry_ids == [previous_entry]
    assert not (after.decision.kind == "answer" and previous_entry in after.decision.entry_ids)
    assert after.reply.text != before.reply.text


def test_a_switch_of_topic_is_offered_its_own_entries(store: Store, index: RetrievalIndex) -> None:
    chat = make_chat(store, index)
    _, after = ask(chat, "هزینه ارسال چقدره؟", "میشه پس بدم؟")
    assert after.decision.kind in {"answer", "clarify"}
    assert "returns-fa" in after.decision.entry_ids  # returning a book, not the shipping cost


@pytest.mark.parametrize(
    "hostile",
    [
        '"',
        '""',
        "'",
        "*",
        "NEAR(a b)",
        "a OR",
        "(",
        ")",
        "^",
        "-",
        ":",
        'ship" OR "x',
        "col:value",
        "AND AND",
        "{}",
        "\\",
        "%_",
        "\x00",
    ],
)
def test_hostile_punctuation_never_breaks_the_fts_query(index: RetrievalIndex, hostile: str) -> None:
    ranking = index.search(f"shipping {hostile} cost")
    assert len(ranking) > 0
    index.search(hostile)  # alone, too


def test_fts_query_quotes_every_term() -> None:
    q = fts_query(trigrams('say "hi" OR NEAR'))
    assert all(part.startswith('"') and part.endswith('"') for part in q.split(" OR "))


def test_every_decision_is_stored_with_its_scores(store: Store, index: RetrievalIndex) -> None:
    turn = ask(make_chat(store, index), "How much is shipping?")
    row = store.read().execute("SELECT * FROM decisions WHERE id = ?", [turn.decision_id]).fetchone()
    assert (row["kind"], row["reason"]) == ("answer", "confident")
    assert json.loads(row["entry_ids"]) == ["shipping-cost-en"]
    scores = json.loads(row["scores"])
    assert scores["ranking"][0] == "shipping-cost-en" and 0 < scores["confidence"] <= 1
    assert {"fused", "centroid", "coverage"} <= set(scores["features"])
    messages = (
        store.read()
        .execute("SELECT role, text FROM messages WHERE conversation_id = ? ORDER BY id", [row["conversation_id"]])
        .fetchall()
    )
    assert [m["role"] for m in messages] == ["customer", "bot"]


def test_too_long_message_is_rejected_and_nothing_half_stored(store: Store, index: RetrievalIndex) -> None:
    chat = make_chat(store, index)
    conv = chat.conversations.start()
    with pytest.raises(MessageRejected) as err:
        asyncio.run(chat.reply(conv, "x" * 301))
    assert err.value.code == "too_long"
    assert store.read().execute("SELECT count(*) FROM messages WHERE conversation_id = ?", [conv]).fetchone()[0] == 0


def test_knowledge_base_changes_are_seen_at_once(store: Store, index: RetrievalIndex) -> None:
    chat = make_chat(store, index)
    question = "Do you sell board games?"
    assert ask(chat, question).decision.kind != "answer"
    entry = Entry(
        "board-games-en",
        "Board games",
        "Yes: we sell board games for all ages, from 300,000 toman.",
        "en",
        ["Do you sell board games?", "Do you have board games?"],
    )
    kb.save(store, [entry], embedder=embedder.shared(), now="t1")
    turn = ask(chat, question)
    assert turn.decision.kind == "answer" and turn.decision.entry_ids == ["board-games-en"]
    kb.delete(store, "board-games-en", now="t2")
    assert ask(chat, question).decision.entry_ids != ["board-games-en"]


def test_disabled_entries_are_never_answered(store: Store, index: RetrievalIndex) -> None:
    entry = kb.get(store.read(), "gift-wrap-fa")
    entry.enabled = False
    kb.save(store, [entry], embedder=embedder.shared(), now="t3")
    try:
        turn = ask(make_chat(store, index), "کادوپیچ دارید؟")
        assert "gift-wrap-fa" not in turn.decision.entry_ids + turn.decision.ranking
    finally:
        entry.enabled = True
        kb.save(store, [entry], embedder=embedder.shared(), now="t4")


def test_long_documents_are_split_and_the_right_passage_cited(store: Store, index: RetrievalIndex) -> None:
    policy = "\n\n".join(
        [
            "Returns policy. " + "We want you to be happy with every book you buy from us. " * 6,
            "Damaged books: if a book arrives damaged, photograph it and we replace it within 5 business days. " * 3,
            "Gift cards are valid for 12 months and can't be exchanged for cash. " * 7,
        ]
    )
    doc = Entry("policy-en", "Returns and gift card policy", policy, "en", ["What is your returns policy?"])
    kb.save(store, [doc], embedder=embedder.shared(), now="t5")
    try:
        passages = store.read().execute("SELECT text FROM kb_passages WHERE entry_id = 'policy-en'").fetchall()
        assert len(passages) >= 3 and all(len(p[0]) <= 600 for p in passages)
        ranking = index.search("how long are gift cards valid for?", lang="en")
        i = [e.id for e in ranking.entries].index("policy-en")
        assert "Gift cards" in ranking.entries[i].passages[ranking.best_passage(i)]
    finally:
        kb.delete(store, "policy-en", now="t6")


# -- grounding --------------------------------------------------------------------------------

SOURCE = "Shipping is free for orders over 500,000 toman. Smaller orders pay a flat 45,000 toman. Code STUDENT10."


def test_grounding_rejects_an_invented_number() -> None:
    problems = grounding_problems(
        "Shipping costs 50,000 toman, free over 500,000 toman with STUDENT10.", [SOURCE], "en", require_all=False
    )
    assert problems and "num:50000" in problems[0]


def test_grounding_rejects_invented_codes_links_and_promises() -> None:
    assert grounding_problems("Use code STUDENT20.", [SOURCE], "en", require_all=False)
    assert grounding_problems("See https://evil.example for 45,000 toman.", [SOURCE], "en", require_all=False)
    assert grounding_problems("![img](https://x) 45,000", [SOURCE], "en", require_all=False)
    promise = grounding_problems(
        "We will also mail you a printed voucher and a refund label.", [SOURCE], "en", require_all=False
    )
    assert any("words not in the sources" in p for p in promise)


def test_grounding_accepts_a_faithful_rephrasing() -> None:
    ok = "Sure! Orders over 500000 toman ship for free; smaller orders pay a flat 45,000 toman. Code STUDENT10."
    assert grounding_problems(ok, [SOURCE], "en", require_all=True) == []


def test_grounding_wants_every_fact_kept_and_the_right_language() -> None:
    assert any("left out" in p for p in grounding_problems("Shipping is free.", [SOURCE], "en", require_all=True))
    assert any("not in Persian" in p for p in grounding_problems(SOURCE, [SOURCE], "fa", require_all=False))


def test_facts_normalise_persian_digits() -> None:
    assert facts("۴۵٬۰۰۰ تومان") == facts("45,000 toman") == {"num:45000"}


class InventingModel:
    """A stand-in for a model that invents a delivery time: the one place a fake model is used,
    because what a real tiny model says is not repeatable."""

    ready = True

    def __init__(self, text: str):
        self.text = text

    async def stream(self, messages, **kwargs):
        assert "Information:" in messages[0]["content"]  # the owner's text reaches the model
        for word in self.text.split(" "):
            yield word + " "


def test_an_invented_fact_falls_back_to_the_owners_text(store: Store, index: RetrievalIndex) -> None:
    chat = make_chat(store, index, llm=InventingModel("Delivery to Shiraz takes 6-8 days."))
    turn = ask(chat, "How long does delivery to Shiraz take?")
    assert turn.reply.composed_by == "owner_text"
    assert turn.reply.text == kb.get(store.read(), "shipping-time-en").answer
    assert "not in the sources" in turn.reply.model_rejected
    row = store.read().execute("SELECT scores, composed_by FROM decisions WHERE id = ?", [turn.decision_id]).fetchone()
    assert "model_rejected" in json.loads(row["scores"]) and row["composed_by"] == "owner_text"


def test_a_grounded_rephrasing_is_used(store: Store, index: RetrievalIndex) -> None:
    text = (
        "Sure! Orders arrive within 1-2 business days in Tehran and 3-5 business days in other cities; "
        "orders placed before 14:00 are shipped the same day."
    )
    turn = ask(make_chat(store, index, llm=InventingModel(text)), "How long does delivery to Shiraz take?")
    assert turn.reply.composed_by == "model" and turn.reply.text == text.strip()


def test_persian_replies_use_the_owners_text(store: Store, index: RetrievalIndex) -> None:
    chat = make_chat(store, index, llm=InventingModel("this should never be called"))
    turn = ask(chat, "ارسال به شیراز چند روز طول می‌کشد؟")
    assert turn.reply.composed_by == "owner_text"  # the default model doesn't write Persian


@pytest.mark.model
def test_end_to_end_with_the_real_default_model(store: Store, index: RetrievalIndex, default_model: Path) -> None:
    runtime = ModelRuntime(default_model, n_ctx=2048).start()
    try:
        assert runtime.wait_settled(120) and runtime.ready
        chat = make_chat(store, index, llm=runtime)
        turn = ask(chat, "What are your opening hours?")
        assert turn.decision.kind == "answer" and turn.decision.entry_ids == ["hours-en"]
        source = kb.get(store.read(), "hours-en").answer
        # Whoever wrote the words, the customer gets only the owner's facts.
        assert turn.reply.composed_by in {"model", "owner_text"}
        assert (
            grounding_problems(turn.reply.text, [source], "en", require_all=False, question="") == []
            or turn.reply.composed_by == "owner_text"
        )
        assert facts(turn.reply.text) <= facts(source)
        if turn.reply.composed_by == "owner_text":
            assert turn.reply.model_rejected  # the model was asked, and its answer was checked
    finally:
        runtime.close()


def test_a_question_worded_as_a_phrasing_is_that_entrys(store: Store, index: RetrievalIndex) -> None:
    # Scores that would offer choices for anything: the owner's own wording still gets its entry.
    chat = make_chat(store, index, answer_threshold=0.9999, clarify_threshold=0.0001)
    turn = ask(chat, "ارسال رایگان دارید؟")  # a phrasing of shipping-cost-fa, as typed (no ZWNJ, ي)
    assert (turn.decision.kind, turn.decision.reason) == ("answer", "exact_phrasing")
    assert turn.decision.entry_ids == ["shipping-cost-fa"]
    assert index.exact("ارسال  رايگان  داريد") is not None  # normalised: spaces, Arabic yeh
    assert index.exact("رایگان") is None  # one word is too little to be sure of
