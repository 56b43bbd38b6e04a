"""Turning a decision into the words the customer reads.

The facts always come from the owner's text. When a chat model is loaded and phrasing is on, the
model may rewrite the owner's answer for this customer; the rewrite is shown only if it passes a
grounding check in code: every number, price, date, code, URL and e-mail address in it appears in
the sources, every one in a (single-passage) source survives, it is in the customer's language,
and it adds no link or image. Otherwise the owner's text is shown as written. A model reply is
checked whole before the customer sees any of it, so nothing unchecked is ever streamed.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from appliance import i18n
from appliance.answering.decide import PRODUCT, Decision
from appliance.catalog import reply as product_reply
from appliance.catalog.match import in_language
from appliance.documents import reply as document_reply
from appliance.kb.index import first_sentence
from appliance.llm.runtime import ModelError
from appliance.text.textnorm import detect_language, normalize

_URL = re.compile(r"(?:https?://|www\.)[^\s<>()\"']+", re.I)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_NUMBER = re.compile(r"\d+(?:[.,:/]\d+)*")
_CODE = re.compile(r"\b(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[A-Za-z0-9][\w-]{2,}\b")
_MARKUP = re.compile(r"!\[|\]\(|<\s*(img|a|script|iframe)\b", re.I)

# The fixed instructions come first so llama.cpp reuses their KV cache from one reply to the next.
SYSTEM_PROMPT = (
    "You are a friendly customer support assistant. Answer the customer's question using only the "
    "shop's information below, in one to three sentences. Copy numbers, prices, dates, codes, links "
    "and e-mail addresses exactly. Never add anything that is not in the information."
)
# Words a polite rephrasing may use that the sources need not contain.
_COURTESY = set(
    """
a an the and or but if so to of in on at by for with from as is are was were be been am i you your
yours we our us it its this that these those there here yes no not can could will would may might
please thank thanks sure happy glad help hello hi dear certainly course of do does did have has had
just also only all any some more most very what which who when where why how about into than then
them they their he she his her my me mine one ones get got let know see need needs want wants
""".split()
)
_SCAFFOLD = re.compile(r"shop'?s? (answer|information)|customer'?s? question|rewrite|information:|assistant", re.I)
_CONTENT_WORD = re.compile(r"[^\W\d_]{3,}")
MAX_NOVEL_WORDS = 2
LANGUAGE_NAMES = {"fa": "Persian", "en": "English"}


def _clean_number(token: str) -> str:
    # "500,000" and "500000" are the same price; a trailing full stop is punctuation.
    return token.replace(",", "").rstrip(".:/")


def facts(text: str) -> set[str]:
    """The checkable facts in a text: numbers, codes, URLs, e-mail addresses (normalised)."""
    norm = normalize(text)
    found: set[str] = set()
    for url in _URL.findall(norm):
        found.add("url:" + url.rstrip(".,;:!?"))
    for email in _EMAIL.findall(norm):
        found.add("email:" + email)
    without_links = _EMAIL.sub(" ", _URL.sub(" ", norm))
    for code in _CODE.findall(without_links):
        found.add("code:" + code)
    for number in _NUMBER.findall(without_links):
        found.add("num:" + _clean_number(number))
    return found


def novel_words(reply: str, allowed_text: str) -> list[str]:
    """Content words of the reply that appear nowhere in the sources or the question: a promise
    or a claim without a number ("we'll send a return label") shows up here."""
    known = set(_CONTENT_WORD.findall(normalize(allowed_text))) | _COURTESY
    novel = []
    for word in _CONTENT_WORD.findall(normalize(reply)):
        # plural/verb endings: "orders" for "order", "arrives" for "arrive"
        stems = {
            word,
            word.rstrip("s"),
            word[:-2] if word.endswith("ed") else word,
            word[:-3] if word.endswith("ing") else word,
        }
        if not stems & known:
            novel.append(word)
    return sorted(set(novel))


def repeated_words(reply: str, source: str, times: int = 4) -> list[str]:
    """Words the reply repeats far more often than the source: a small model stuck in a loop
    ("درخاصر، درخاصر، درخاصر ...", seen in tests/test_prompt_injection.py) adds few *new* words."""
    counts = Counter(_CONTENT_WORD.findall(normalize(reply)))
    in_source = Counter(_CONTENT_WORD.findall(normalize(source)))
    return sorted(w for w, n in counts.items() if n >= times and n > 2 * in_source[w])


def grounding_problems(
    reply: str, sources: list[str], lang: str, *, require_all: bool, question: str = ""
) -> list[str]:
    """Why a model reply may not be shown (an empty list: it may be shown)."""
    problems = []
    source_text = "\n".join(sources)
    have, allowed = facts(reply), facts(source_text)
    invented = sorted(have - allowed)
    if invented:
        problems.append("not in the sources: " + ", ".join(invented))
    if require_all:
        dropped = sorted(allowed - have)
        if dropped:
            problems.append("left out: " + ", ".join(dropped))
    if _MARKUP.search(reply) and not _MARKUP.search(source_text):
        problems.append("adds a link or an image")
    if not reply.strip():
        problems.append("empty")
    elif detect_language(reply, lang) != lang:
        problems.append(f"not in {LANGUAGE_NAMES.get(lang, lang)}")
    if len(reply) > 2 * len(source_text) + 200:
        problems.append("much longer than the source")
    if _SCAFFOLD.search(reply):
        problems.append("repeats the instructions")
    looping = repeated_words(reply, source_text)
    if looping:
        problems.append("repeats itself: " + ", ".join(looping[:3]))
    novel = novel_words(reply, f"{source_text}\n{question}")
    if len(novel) > MAX_NOVEL_WORDS:
        problems.append("words not in the sources: " + ", ".join(novel[:8]))
    return problems


def _value_asked(word: str, lang: str) -> str:
    """A value the customer asked for, as the reply names it: a size or a model code as written
    on the product ("XL", "A24"), a quantity in the reply's digits ("۳۰۰۰۰ mAh")."""
    if word.isascii() and word.isalnum() and any(ch.isalpha() for ch in word) and len(word) <= 6:
        if word.isalpha() or not word[0].isdigit():
            return word.upper()
    return i18n.digits(in_language(word, lang).replace("_", "."), lang)


@dataclass
class Reply:
    text: str
    composed_by: str  # owner_text | model | template
    sources: list[dict[str, str]] = field(default_factory=list)
    choices: list[dict[str, str]] = field(default_factory=list)
    model_rejected: str | None = None
    model_stats: dict[str, Any] = field(default_factory=dict)


class Composer:
    def __init__(
        self,
        llm: Any,
        *,
        phrase_with_model: bool,
        model_languages: tuple[str, ...],
        shop_name: str = "",
        max_tokens: int = 200,
        typical_reply_time: str = "",
        reply_promise: Any = None,
        person_online: Any = None,
        phrase_budget_s: float | None = None,
        few_left: int = 3,
        document_of: Any = None,
    ):
        self.llm = llm
        # entry id -> the document it is a section of (title, link), or None: such an answer is
        # the section's own sentences with the document named, not a rephrasing.
        self.document_of = document_of
        self.few_left = few_left  # a stock at or below this is "only N left"
        self.typical_reply_time = typical_reply_time
        # lang -> when a person will reply (from the business hours), when no fixed text is set
        self.reply_promise = reply_promise
        # () -> whether the owner is online now (conversations/presence.py): the widget's header
        # says so, and a hand-over then says a person answers shortly, not "Saturday at 09:00".
        self.person_online = person_online
        self.phrase_with_model = phrase_with_model
        # None: wait for the model however long it takes (tests that study the model's own words).
        self.phrase_budget_s = phrase_budget_s
        self.model_languages = model_languages
        self.shop_name = shop_name
        self.max_tokens = max_tokens

    def _t(self, lang: str, key: str) -> str:
        shop = self.shop_name or i18n.t(lang, "bot.the_shop")
        return i18n.t(lang, key).format(shop=shop)

    async def compose(self, decision: Decision, question: str) -> Reply:
        lang = decision.lang
        if decision.products and decision.kind in {"answer", "clarify"}:
            return self._product(decision)
        if decision.kind == "answer":
            return await self._answer(decision, question)
        if decision.kind == "clarify":
            # Each with its answer's first sentence: the customer may need no other click.
            choices = [{"id": e.id, "title": e.title, "summary": first_sentence(e.answer)} for e in decision.entries]
            return Reply(self._t(lang, "bot.clarify"), "template", choices=choices)
        if decision.kind in {"greeting", "thanks", "goodbye"}:
            return Reply(self._t(lang, i18n.LABELS["bot_reply"][decision.kind]), "template")
        key = {
            "asked_for_person": "bot.escalate.person",
            "clarification_failed": "bot.escalate.person",
            "upset": "bot.escalate.upset",
            "attachment": "bot.escalate.photo",
        }.get(decision.reason, "bot.escalate.unknown")
        text = f"{self._t(lang, key)} {i18n.t(lang, 'bot.reply_time').format(when=self.reply_by(lang))}"
        if decision.reason == "no_such_product":
            text = f"{self._t(lang, 'bot.product.missing')} {text}"
        return Reply(text, "template")

    def reply_by(self, lang: str) -> str:
        """When a person will reply, in the customer's words: shortly when the owner is online
        (what the widget's header says then), else the owner's fixed text, or from the business
        hours ("when we open, Wednesday at 09:00")."""
        if self.person_online is not None and self.person_online():
            return i18n.t(lang, "hours.promise.now")
        return (
            self.typical_reply_time
            or (self.reply_promise(lang) if self.reply_promise else "")
            or i18n.t(lang, "bot.reply_time.default")
        )

    def _product(self, decision: Decision) -> Reply:
        """About a product: the catalog's fields in a template, never the model's words."""
        lang = decision.lang
        if decision.kind == "answer":
            m = decision.products[0]
            text = product_reply.describe(m.group.product, m.chosen, lang, self.few_left)
            return Reply(text, "template", sources=[{"id": PRODUCT + m.sku, "title": m.group.product.name(lang)}])
        choices = []
        for m in decision.products:
            title = m.group.product.name(lang)
            if len(m.chosen) == 1 and m.chosen[0].attributes:
                title = f"{title} ({product_reply.variant_label(m.chosen[0], lang)})"
            choices.append({"id": PRODUCT + m.sku, "title": title})
        if decision.reason == "no_such_product":
            text = f"{self._t(lang, 'bot.product.missing')} {self._t(lang, 'bot.product.closest')}"
        elif decision.reason == "no_such_variant":
            m = decision.products[0]
            labels = [product_reply.variant_label(v, lang) for c in decision.products for v in c.chosen]
            asked = " ".join(_value_asked(w, lang) for w in m.unoffered) or "?"
            text = i18n.t(lang, "bot.product.not_offered").format(
                name=m.group.product.name(lang),
                asked=asked,
                list=("، " if lang == "fa" else ", ").join(labels),
            )
        elif decision.reason == "partly_named":
            text = self._t(lang, "bot.product.did_you_mean")
        else:
            text = self._t(lang, "bot.product.choose")
        return Reply(text, "template", choices=choices)

    def owner_text(self, decision: Decision, n: int = 0) -> str:
        entry = decision.entries[n]
        if len(entry.passages) > 1:
            # A long document: cite the passage that answers, not the whole page (the passage
            # retrieval found is the first entry's; a second, joined entry starts at its top).
            passage = decision.passage if n == 0 else 0
            return entry.passages[min(passage, len(entry.passages) - 1)]
        return entry.answer

    async def _answer(self, decision: Decision, question: str) -> Reply:
        # One entry, or two when a checking model found the question asks two things
        # (entry_check.py): each owner text as written, one after the other.
        texts, sources, cited = [], [], False
        for n, entry in enumerate(decision.entries):
            text = self.owner_text(decision, n)
            document = self.document_of(entry.id) if self.document_of is not None else None
            if document is not None:
                quoted = document_reply.excerpt(text, question)
                text = document_reply.cite(quoted, document.title, document.link, decision.lang)
                sources.append({"id": entry.id, "title": f"{document.title}: {entry.title}"})
                cited = True
            else:
                sources.append({"id": entry.id, "title": entry.title})
            texts.append(text)
        text = "\n\n".join(texts)
        reply = Reply(text, "owner_text", sources=sources)
        if cited:  # a document's own sentences with the document named, not a rephrasing
            return reply
        if not self._may_phrase(decision.lang):
            return reply
        if self.phrase_budget_s is not None and not getattr(self.llm, "free", True):
            # Rephrasing is a courtesy; the facts are the owner's. A customer never waits behind
            # another customer's rephrasing (with 50 customers, answers waited 4.6 s at p95:
            # docs/BENCHMARKS.md).
            reply.model_rejected = "model busy with another reply"
            return reply
        messages = [
            {"role": "system", "content": f"{SYSTEM_PROMPT}\n\nInformation: {text}"},
            {"role": "user", "content": question.strip()[:500]},
        ]
        stats: dict[str, Any] = {}
        try:
            async with (
                asyncio.timeout(self.phrase_budget_s),
                contextlib.aclosing(
                    self.llm.stream(messages, max_tokens=self.max_tokens, temperature=0.2, stats=stats)
                ) as pieces,
            ):
                phrased = "".join([p async for p in pieces]).strip()
        except ModelError as exc:
            reply.model_rejected = f"model unavailable: {exc}"
            return reply
        except TimeoutError:  # leaving the stream cancels the job between two tokens
            reply.model_rejected = f"model slower than {self.phrase_budget_s:g} s"
            return reply
        problems = grounding_problems(phrased, texts, decision.lang, require_all=True, question=question)
        reply.model_stats = stats
        if problems:
            reply.model_rejected = "; ".join(problems)
            return reply
        return Reply(phrased, "model", sources=sources, model_stats=stats)

    def _may_phrase(self, lang: str) -> bool:
        return (
            self.phrase_with_model
            and self.llm is not None
            and getattr(self.llm, "ready", False)
            and lang in self.model_languages
        )
