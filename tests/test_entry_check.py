"""A larger model's check of the chosen entry (answering/entry_check.py), on the demo bookshop's
real index, against a real OpenAI-compatible server on loopback whose verdicts the test sets: what
each verdict does to the decision and the reply, and that a slow, busy or rambling model leaves
the decision as retrieval made it."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from appliance.answering import entry_check
from appliance.answering.compose import Composer
from appliance.answering.decide import Decider
from appliance.answering.entry_check import EntryChecker, read_verdict
from appliance.cli import evaluate
from appliance.conversations.chat import ChatService
from appliance.db import Store
from appliance.kb import embedder
from appliance.kb import store as kb
from appliance.kb.retrieval import RetrievalIndex
from appliance.llm.openai import OpenAIServer
from appliance.llm.runtime import ModelRuntime
from appliance.owner import account as owner
from appliance.settings import Settings

from .fakes import FakeOpenAI, numbers_titled
from .helpers import (
    KB,
    QUESTIONS,
    Clock,
    events,
    make_api_client,
    password_hash,
    post,
    send,
    sign_in,
    start_chat,
    store_on_copy,
    write_jsonl,
)


@pytest.fixture
def judge() -> Iterator[FakeOpenAI]:
    """A larger model whose verdict (its ``reply``) the test sets."""
    with FakeOpenAI(model="judge") as server:
        yield server


@pytest.fixture(scope="module")
def store(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    s = store_on_copy(demo_db, tmp_path_factory.mktemp("check"))
    yield s
    s.close()


@pytest.fixture(scope="module")
def index(store: Store) -> RetrievalIndex:
    return RetrievalIndex(store, embedder.shared())


@pytest.fixture
def runtime(judge: FakeOpenAI) -> Iterator[ModelRuntime]:
    rt = ModelRuntime(OpenAIServer(judge.url, timeout_s=10), timeout_s=10).start()
    assert rt.wait_settled(30) and rt.ready, rt.status()
    yield rt
    rt.close()


def chat_with_check(
    store: Store, index: RetrievalIndex, llm: Any, budget_s: float = 5.0, **decider_kw: Any
) -> ChatService:
    composer = Composer(llm, phrase_with_model=False, model_languages=("en",), shop_name="Book Nook")
    checker = EntryChecker(llm, index.get, languages=("en",), budget_s=budget_s)
    return ChatService(
        store, Decider(index, **decider_kw), composer, lambda: datetime(2026, 12, 2, tzinfo=UTC), checker=checker
    )


def ask(chat: ChatService, question: str):
    async def go():
        return await chat.reply(chat.conversations.start(), question)

    return asyncio.run(go())


@pytest.mark.parametrize(
    "text, picks",
    [
        ("1", (1,)),
        (" 2.", (2,)),
        ("0", ()),
        ("1,2", (1, 2)),
        ("1, 3", (1, 3)),
        ("2 and 1", (2, 1)),
        ("۱", (1,)),  # a Persian-speaking model's digits
        ("<think>the first one is about returns</think>\n3", (3,)),
        ("1,1", (1,)),
        ("4", None),  # only three were shown
        ("1,0", None),
        ("12", None),
        ("The first entry answers it.", None),
        ("<think>the customer asks about", None),  # a reasoning model cut off mid-thought
        ("", None),
    ],
)
def test_the_verdict_is_read_strictly(text: str, picks: tuple[int, ...] | None) -> None:
    assert read_verdict(text, 3) == picks


def test_the_prompt_shows_the_entries_numbered_with_the_question(index: RetrievalIndex) -> None:
    entries = [index.get("shipping-cost-en"), index.get("shipping-cost-fa")]
    assert all(entries)
    messages = entry_check.prompt("  How much is\nshipping? ", entries)  # type: ignore[arg-type]
    user = messages[-1]["content"]
    assert messages[0]["role"] == "system" and "reply 0" in messages[0]["content"]
    assert user.startswith("1. ") and "\n\n2. " in user
    for entry in entries:  # each entry's title and answer, as the owner wrote them
        assert f"{entry.title}\n{' '.join(entry.answer.split())[:60]}" in user  # type: ignore[union-attr]
    assert user.endswith("Customer's question: How much is shipping?")


def test_a_confirmed_answer_goes_out_unchanged(store: Store, index: RetrievalIndex, judge: FakeOpenAI, runtime) -> None:
    judge.reply = lambda prompt: "1"
    turn = ask(chat_with_check(store, index, runtime), "How much is shipping?")
    assert (turn.decision.kind, turn.decision.reason) == ("answer", "confident")
    assert turn.decision.entry_ids == ["shipping-cost-en"]
    assert turn.reply.text == kb.get(store.read(), "shipping-cost-en").answer
    assert turn.decision.features["model_check"] == [1] and turn.decision.features["model_check_ms"] > 0
    # The model read the question and the top entries: the answer first.
    assert "How much is shipping?" in judge.prompts[-1]
    assert re.search(r"^1\. .*$", judge.prompts[-1], re.M)
    stored = json.loads(
        store.read().execute("SELECT scores FROM decisions WHERE id = ?", [turn.decision_id]).fetchone()[0]
    )
    assert stored["features"]["model_check"] == [1]


def test_an_answer_the_model_rejects_becomes_choices(
    store: Store, index: RetrievalIndex, judge: FakeOpenAI, runtime
) -> None:
    judge.reply = lambda prompt: "0"
    chat = chat_with_check(store, index, runtime)
    turn = ask(chat, "How much is shipping?")
    assert (turn.decision.kind, turn.decision.reason) == ("clarify", entry_check.DOUBTED)
    ids = [c["id"] for c in turn.reply.choices]
    # The customer still sees retrieval's choice among the others, and can pick "none of these".
    assert ids[0] == "shipping-cost-en" and len(ids) == 3
    assert turn.reply.composed_by == "template"
    # The owner sees it among the questions the bot was unsure of.
    assert "How much is shipping?" in [text for text, _ in chat.conversations.unsure_asked("2000")]


def test_the_model_s_own_pick_is_offered_first(store: Store, index: RetrievalIndex, judge: FakeOpenAI, runtime) -> None:
    judge.reply = lambda prompt: "2"
    turn = ask(chat_with_check(store, index, runtime), "How much is shipping?")
    assert turn.decision.kind == "clarify"
    ranking = turn.decision.ranking
    assert [c["id"] for c in turn.reply.choices][:2] == [ranking[1], ranking[0]]


def test_a_two_part_question_is_answered_from_both_entries(
    store: Store, index: RetrievalIndex, judge: FakeOpenAI, runtime
) -> None:
    judge.reply = numbers_titled("ship|deliver")
    question = "how long does shipping take and what does it cost?"
    # Forced to answer (the shipped thresholds would offer choices for this one).
    turn = ask(chat_with_check(store, index, runtime, answer_threshold=0.0001), question)
    assert (turn.decision.kind, turn.decision.reason) == ("answer", entry_check.JOINED)
    ids = turn.decision.entry_ids
    assert sorted(ids) == ["shipping-cost-en", "shipping-time-en"]
    answers = [kb.get(store.read(), i).answer for i in ids]
    assert turn.reply.text == "\n\n".join(answers)
    assert [s["id"] for s in turn.reply.sources] == ids


def test_choices_whose_first_the_model_confirms_are_answered(
    store: Store, index: RetrievalIndex, judge: FakeOpenAI, runtime
) -> None:
    judge.reply = lambda prompt: "1"
    chat = chat_with_check(store, index, runtime, answer_threshold=0.9999, clarify_threshold=0.0001)
    turn = ask(chat, "Do you have a student discount?")
    assert (turn.decision.kind, turn.decision.reason) == ("answer", entry_check.CONFIRMED)
    assert turn.decision.entry_ids == ["discounts-en"]
    assert turn.reply.text == kb.get(store.read(), "discounts-en").answer
    # A pick of the second choice only moves it first: retrieval didn't rank it first.
    judge.reply = lambda prompt: "2"
    turn = ask(chat, "Do you have a student discount?")
    assert turn.decision.kind == "clarify" and turn.reply.choices[0]["id"] == turn.decision.ranking[1]


@pytest.mark.parametrize(
    "verdict, note", [("I think the first entry answers it.", "unreadable verdict"), ("7", "unreadable verdict")]
)
def test_a_rambling_model_leaves_the_decision_as_it_was(
    store: Store, index: RetrievalIndex, judge: FakeOpenAI, runtime, verdict: str, note: str
) -> None:
    judge.reply = lambda prompt: verdict
    turn = ask(chat_with_check(store, index, runtime), "How much is shipping?")
    assert (turn.decision.kind, turn.decision.reason) == ("answer", "confident")
    assert turn.decision.features["model_check"] is None
    assert turn.decision.features["model_check_note"] == note


@pytest.mark.slow  # real waits for a slow server
def test_a_slow_or_busy_model_leaves_the_decision_as_it_was(
    store: Store, index: RetrievalIndex, judge: FakeOpenAI, runtime
) -> None:
    judge.reply = lambda prompt: "0"
    judge.delay_s = 3.0
    chat = chat_with_check(store, index, runtime, budget_s=0.5)
    started = time.monotonic()
    turn = ask(chat, "How much is shipping?")
    assert time.monotonic() - started < 2.5  # the budget, not the server, ended the wait
    assert (turn.decision.kind, turn.decision.reason) == ("answer", "confident")
    assert turn.decision.features["model_check_note"] == "model slower than 0.5 s"

    async def while_busy():
        # Another customer's reply holds the model: this customer doesn't wait behind it.
        other = asyncio.create_task(runtime.complete([{"role": "user", "content": "hello"}], max_tokens=4))
        while runtime.free:
            await asyncio.sleep(0.01)
        turn = await chat.reply(chat.conversations.start(), "How much is shipping?")
        await other
        return turn

    assert runtime.wait_settled(10)
    time.sleep(3)  # the cancelled request above finishes on the server side
    turn = asyncio.run(while_busy())
    assert (turn.decision.kind, turn.decision.reason) == ("answer", "confident")
    assert turn.decision.features["model_check_note"] == "model busy with another reply"


def test_without_a_model_nothing_is_checked(store: Store, index: RetrievalIndex) -> None:
    rt = ModelRuntime(None, not_configured_reason="test")
    turn = ask(chat_with_check(store, index, rt), "How much is shipping?")
    assert (turn.decision.kind, turn.decision.reason) == ("answer", "confident")
    assert turn.decision.features["model_check_note"] == "model not ready"


def test_eval_reports_what_the_check_did(judge: FakeOpenAI, tmp_path: Path) -> None:
    """`appliance eval --llm --check` with a model that rejects every entry: no answers, every
    answerable question offered as choices, and the check's counts and waits reported."""
    judge.reply = lambda prompt: "0"
    kb_path, questions = write_jsonl(tmp_path / "kb.jsonl", KB), write_jsonl(tmp_path / "q.jsonl", QUESTIONS)
    base = Settings(data_dir=tmp_path / "data", model_url=judge.url)
    metrics, rows = evaluate.run(kb_path, questions, with_llm=True, check=True, base=base)
    assert metrics["check_asked"] >= 4 and metrics["check_no_verdict"] == 0
    assert metrics["check_doubted"] >= 4 and metrics["check_confirmed"] == metrics["check_joined"] == 0
    assert metrics["in_scope_accuracy"] == 0.0 and metrics["wrong_answer_rate"] == 0.0
    assert metrics["in_scope_resolved"] == 1.0
    assert metrics["check_ms_p50"] > 0
    assert all(r["reason"] == entry_check.DOUBTED for r in rows if r["kind"] == "in_scope")
    # Without --check the model phrases but checks nothing.
    metrics, _ = evaluate.run(kb_path, questions, with_llm=True, base=base)
    assert "check_asked" not in metrics and metrics["in_scope_accuracy"] > 0


@pytest.mark.model
def test_the_real_default_model_checks_an_answer(store: Store, index: RetrievalIndex, default_model: Path) -> None:
    """End to end with the bundled model in its own process: it is asked, its reply read and the
    decision left valid whatever it says (it picks at chance: why the check is off by default)."""
    rt = ModelRuntime(default_model, n_ctx=2048).start()
    try:
        assert rt.wait_settled(120) and rt.ready, rt.status()
        turn = ask(chat_with_check(store, index, rt, budget_s=60.0), "How much is shipping?")
        features = turn.decision.features
        assert "model_check" in features and features["model_check_ms"] > 0
        assert features.get("model_check_note") in {None, "unreadable verdict"}
        if features["model_check"] is None:
            assert (turn.decision.kind, turn.decision.reason) == ("answer", "confident")
        else:
            assert turn.decision.kind in {"answer", "clarify"}
            assert "shipping-cost-en" in turn.decision.entry_ids
        assert turn.reply.text
    finally:
        rt.close()


def test_choices_for_a_two_part_question_are_answered_from_both(
    store: Store, index: RetrievalIndex, judge: FakeOpenAI, runtime
) -> None:
    judge.reply = numbers_titled("ship|deliver")
    chat = chat_with_check(store, index, runtime, answer_threshold=0.9999, clarify_threshold=0.0001)
    turn = ask(chat, "how long does shipping take and what does it cost?")
    assert (turn.decision.kind, turn.decision.reason) == ("answer", entry_check.JOINED)
    assert sorted(turn.decision.entry_ids) == ["shipping-cost-en", "shipping-time-en"]
    # Two picks without retrieval's first are only choices, in the model's order.
    first = turn.decision.ranking[0]
    judge.reply = lambda prompt: "3,2"
    turn = ask(chat, "how long does shipping take and what does it cost?")
    assert turn.decision.kind == "clarify"
    assert [c["id"] for c in turn.reply.choices] == [*turn.decision.ranking[2:0:-1], first]


def test_the_owner_reads_what_the_check_did(judge: FakeOpenAI, data_dir: Path, demo_db: Path) -> None:
    """The whole app with a checking server: a two-part Persian question answered from both
    entries, and an answer the model doubted, as the owner reads them in the transcript."""
    pick = numbers_titled("ارسال|ship|deliver")
    judge.reply = lambda prompt: "0" if "hours" in prompt.lower() else pick(prompt)
    with make_api_client(
        data_dir, demo_db, model_url=judge.url, model_checks_answers=True, model_languages=("en", "fa")
    ) as c:
        assert c.app.state.services.llm.wait_settled(30) and c.app.state.services.llm.ready
        owner.set_password(c.app.state.services.store, password_hash(), Clock())
        conv, token, _ = start_chat(c, "fa")
        joined = events(send(c, conv, token, "ارسال به شیراز چند روز طول میکشه و هزینه‌اش چنده؟").text)[-1][1]
        assert (joined["kind"], joined["reason"]) == ("answer", entry_check.JOINED)
        assert {s["id"] for s in joined["sources"]} == {"shipping-time-fa", "shipping-cost-fa"}
        doubted = events(send(c, conv, token, "What are your opening hours?").text)[-1][1]
        assert (doubted["kind"], doubted["reason"]) == ("clarify", entry_check.DOUBTED)
        assert "hours-en" in [choice["id"] for choice in doubted["choices"]]
        sign_in(c)
        fa = c.get(f"/admin/conversations/{conv}?lang=fa").text
        assert "پاسخ با «\u2068" in fa and "\u2069» و «\u2068" in fa
        assert "پرسش دو بخش داشت؛ پاسخ از دو مطلب" in fa
        assert "مدل زبانی گفت این مطلب پاسخ پرسش نیست" in fa
        en = c.get(f"/admin/conversations/{conv}?lang=en").text
        assert "the question asked two things; answered from two entries" in en
        # The owner's "try a question" gives what a customer would get, the check included.
        tried = post(c, "/admin/try?lang=en", data={"question": "how long does shipping take and what does it cost?"})
        assert tried.status_code == 200 and "answered from two entries" in tried.text
        assert "Asked which one the customer means" in en and "the model said the entry doesn&#39;t answer it" in en
