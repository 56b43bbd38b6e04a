"""A larger chat model checks the entry retrieval chose, before the reply goes out.

Retrieval decides (docs/ARCHITECTURE.md); where the owner has configured a model that can read
(their own larger GGUF, or an OpenAI-compatible server), it may also *check*: it is shown the
customer's question and the top three entries, numbered, and asked which of them answer it ("0"
for none). Its verdict changes a decision only in directions that keep a wrong answer from going
out or that two independent signals agree on:

- an **answer** the model does not pick becomes **choices** (its pick first, when it has one): the
  customer clicks the right one, or "none of these" reaches the owner. It never becomes a
  hand-over on the model's word alone: the model may be the one that is wrong.
- **choices** whose first entry the model picks alone become an **answer**: retrieval found it
  likely and the model, reading question and entry together, agrees. A pick of the second or
  third choice only moves it first (retrieval did not rank it first; the customer confirms).
- an answer or choices where the model picks the first entry *and* another one of the three (the
  question asks two things: "how much is shipping and how long does it take?") is answered from
  **both entries**, each owner text as written (or phrased from both, if phrasing is on).

The check is off by default (``model_checks_answers``): the bundled 135M model picks at chance
(scripts/judge_check.py, docs/BENCHMARKS.md), so it would only turn right answers into menus.
``appliance eval --llm --check`` measures what a given model does on a shop's questions. The
check never makes a customer wait behind another customer's reply, and it is bounded by
``check_budget_s``: when the model is busy, slow, down or answers something unreadable, the
decision stands as retrieval made it.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from appliance.answering.decide import CLARIFY_CHOICES, Decision
from appliance.kb.retrieval import IndexedEntry
from appliance.llm.runtime import ModelError
from appliance.text.textnorm import ascii_digits

SYSTEM = (
    "You check a shop's FAQ answers before they are sent to a customer. You are shown the "
    "customer's question and numbered FAQ entries. Reply with only the number of the entry that "
    "answers the question. If the question asks two things and two entries each answer one, reply "
    "with both numbers, like 1,2. If no entry answers it, reply 0."
)
ANSWER_CHARS = 500  # of each entry's answer shown to the model: enough to judge, short to read
QUESTION_CHARS = 400
MAX_TOKENS = 8  # "1", "1,2", "0": a few tokens, with room for a space or a full stop
_THINKING = re.compile(r"<think>.*?(</think>|$)", re.S)
_LEADING_NUMBERS = re.compile(r"^\W*(\d(?:\s*(?:,|and|&|و|،)\s*\d)*)\b", re.I)

# Reasons a checked decision is recorded with (shown in the transcript; i18n "reason.*").
DOUBTED = "model_doubted"  # an answer the model did not pick: offered as choices
CONFIRMED = "model_confirmed"  # choices whose first the model picked: answered
JOINED = "model_joined"  # answered from two entries
REASONS = {DOUBTED, CONFIRMED, JOINED}


@dataclass(frozen=True)
class Verdict:
    """The model's reading: the entries (1-based, in the order shown) it says answer the
    question, ``()`` for "none", or ``None`` when there is no verdict (and why)."""

    picks: tuple[int, ...] | None
    why: str = ""
    ms: float = 0.0


def prompt(question: str, entries: list[IndexedEntry]) -> list[dict[str, str]]:
    lines = []
    for i, entry in enumerate(entries, 1):
        answer = " ".join(entry.answer.split())[:ANSWER_CHARS]
        lines.append(f"{i}. {entry.title}\n{answer}")
    user = "\n\n".join(lines) + f"\n\nCustomer's question: {' '.join(question.split())[:QUESTION_CHARS]}"
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def read_verdict(text: str, shown: int) -> tuple[int, ...] | None:
    """The entry numbers at the start of the model's reply; ``()`` for "0"; None when it is not
    an answer to the question asked (a sentence, a number out of range, a reasoning model's
    unfinished thoughts)."""
    text = ascii_digits(_THINKING.sub("", text).strip())
    found = _LEADING_NUMBERS.match(text)
    if found is None:
        return None
    numbers = [int(d) for d in re.findall(r"\d", found.group(1))]
    if numbers == [0]:
        return ()
    if 0 in numbers or any(n > shown for n in numbers):
        return None
    return tuple(dict.fromkeys(numbers))  # in the model's order, once each


class EntryChecker:
    def __init__(
        self,
        llm: Any,
        lookup: Callable[[str], IndexedEntry | None],
        *,
        languages: tuple[str, ...],
        budget_s: float = 3.0,
    ):
        self.llm = llm
        self.lookup = lookup  # entry id -> the indexed entry (the decider's index)
        # The model reads only the languages it writes well (model_languages): a model that can't
        # write Persian can't judge a Persian question either.
        self.languages = languages
        self.budget_s = budget_s

    def wanted(self, decision: Decision) -> bool:
        """Only retrieval's own decisions about knowledge-base entries (a product's, a follow-up's
        or a customer's pick have other reasons), where there are choices to read."""
        return (
            decision.kind in {"answer", "clarify"}
            and decision.reason in {"confident", "close_candidates"}
            and decision.lang in self.languages
            and len(decision.ranking) > 1
        )

    async def ask(self, question: str, entries: list[IndexedEntry]) -> Verdict:
        started = time.perf_counter()

        def done(picks: tuple[int, ...] | None, why: str = "") -> Verdict:
            return Verdict(picks, why, round((time.perf_counter() - started) * 1000, 1))

        if self.llm is None or not getattr(self.llm, "ready", False):
            return done(None, why="model not ready")
        if not getattr(self.llm, "free", True):
            # A customer never waits behind another customer's reply: the decision stands.
            return done(None, why="model busy with another reply")
        try:
            async with asyncio.timeout(self.budget_s):
                raw = await self.llm.complete(prompt(question, entries), max_tokens=MAX_TOKENS, temperature=0.0)
        except ModelError as exc:
            return done(None, why=f"model unavailable: {exc}")
        except TimeoutError:
            return done(None, why=f"model slower than {self.budget_s:g} s")
        picks = read_verdict(raw, len(entries))
        return done(picks, "" if picks is not None else "unreadable verdict")

    async def review(self, decision: Decision, question: str) -> Decision:
        """The decision, changed where the model's verdict says so (see the module's rules); the
        verdict is kept in its features for the transcript and the eval."""
        if not self.wanted(decision):
            return decision
        shown = [e for e in (self.lookup(i) for i in decision.ranking[:CLARIFY_CHOICES]) if e is not None]
        if len(shown) < 2:
            return decision
        verdict = await self.ask(question, shown)
        features = {
            **decision.features,
            "model_check": list(verdict.picks) if verdict.picks is not None else None,
            "model_check_ms": verdict.ms,
        }
        if verdict.why:
            features["model_check_note"] = verdict.why
        checked = replace(decision, features=features)
        picks = verdict.picks
        if picks is None:
            return checked
        picked = [shown[i - 1] for i in picks]
        others = [e for e in shown if e not in picked]
        passage = decision.passage if decision.kind == "answer" else 0
        if 1 in picks and len(picks) >= 2:
            # Retrieval's first and one more: a question that asks two things (an answer or
            # choices alike: such a question often splits retrieval's confidence between them).
            joined = [shown[0]] + [e for e in picked if e is not shown[0]][:1]
            return replace(checked, kind="answer", reason=JOINED, entries=joined, passage=passage)
        if decision.kind == "answer":
            if picks == (1,):
                return checked
            return replace(checked, kind="clarify", reason=DOUBTED, entries=(picked + others)[:CLARIFY_CHOICES])
        # choices
        if picks == (1,):
            return replace(checked, kind="answer", reason=CONFIRMED, entries=[shown[0]], passage=0)
        if picked:
            return replace(checked, entries=(picked + others)[:CLARIFY_CHOICES])
        return checked
