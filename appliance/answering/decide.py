"""One decision per customer message: answer, clarify, escalate (or polite small talk).

Retrieval decides, not the language model (docs/ARCHITECTURE.md): the ranking's features go through a small
logistic model whose coefficients and thresholds are fitted on the development sets, all at once
(``scripts/calibrate.py`` writes ``calibration.json``). Its output is the probability that the
top entry is the right answer:

- ``answer``   probability ≥ answer threshold: the owner's text for the top entry;
- ``clarify``  ≥ clarify threshold: the customer picks among the top entries;
- ``escalate`` below that, or the customer asks for a person, or is upset.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from appliance.catalog.match import CatalogIndex, Match
from appliance.kb.retrieval import IndexedEntry, Ranking, RetrievalIndex, trigrams
from appliance.text.finglish import to_persian
from appliance.text.reading import Reading, read
from appliance.text.textnorm import detect_language, normalize

CALIBRATION_PATH = Path(__file__).with_name("calibration.json")
CLARIFY_CHOICES = 3
# A follow-up is answered from the conversation's reading only if the message alone ranks that
# entry among its first few (Decider._follow_up).
FOLLOW_UP_SUPPORT = 3
FOLLOW_UP_COVERAGE = 0.3  # ... and this share of its trigrams is in the entry's text
# Choices are the top entries within this much of the best fused score (z-score units).
CHOICE_GAP = 2.0
PRODUCT = "product:"  # a product's id among entry ids (decisions, choices)
# A product is found when its score (catalog/match.py) reaches PRODUCT_MATCH; products within
# PRODUCT_MARGIN of the best are offered as choices; a missing product's closest ones are offered
# from PRODUCT_NEAR. Fitted on the catalog set's dev questions (docs/BENCHMARKS.md).
PRODUCT_MATCH = 0.75
PRODUCT_MARGIN = 0.08
PRODUCT_NEAR = 0.4
# A product question ("keyboard, do you have one?") answered from a knowledge-base entry must find
# at least this share of the words it names in the entry (a word is found when this share of its
# trigrams is): a short FAQ's gift-wrapping entry is not an answer to a product it never names.
ENTRY_NAMES = 0.5
WORD_FOUND = 0.6


@dataclass
class Decision:
    kind: str  # answer | clarify | escalate | greeting | thanks | goodbye
    reason: str
    lang: str
    query: str
    confidence: float | None = None
    entries: list[IndexedEntry] = field(default_factory=list)
    passage: int = 0
    ranking: list[str] = field(default_factory=list)  # top entry ids, best first
    features: dict[str, Any] = field(default_factory=dict)  # the ranking's, and a check's verdict
    products: list[Match] = field(default_factory=list)  # a product question's product(s)

    @property
    def entry_ids(self) -> list[str]:
        return [e.id for e in self.entries] + [PRODUCT + m.sku for m in self.products]

    def scores(self) -> dict[str, Any]:
        return {"confidence": self.confidence, "features": self.features, "ranking": self.ranking}


@dataclass(frozen=True)
class Previous:
    """What a follow-up may lean on: the conversation's last question the bot could place, and
    the entries it answered it with or offered."""

    question: str
    entry_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Calibration:
    """Two logistic heads over the ranking's features: P(top entry is right) for answering,
    P(right entry among the top three) for offering choices instead of escalating."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    heads: dict[str, tuple[tuple[float, ...], float]]
    answer_threshold: float
    clarify_threshold: float

    def logit(self, feats: dict[str, float], head: str = "answer") -> float:
        coef, z = self.heads[head]
        for name, mu, sd, w in zip(self.features, self.mean, self.scale, coef, strict=False):
            z += w * (feats.get(name, mu) - mu) / sd
        return z

    def probability(self, feats: dict[str, float], head: str = "answer") -> float:
        z = self.logit(feats, head)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "heads": {name: {"coef": list(coef), "intercept": b} for name, (coef, b) in self.heads.items()},
            "answer_threshold": self.answer_threshold,
            "clarify_threshold": self.clarify_threshold,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        heads = {name: (tuple(h["coef"]), float(h["intercept"])) for name, h in data["heads"].items()}
        return cls(
            tuple(data["features"]),
            tuple(data["mean"]),
            tuple(data["scale"]),
            heads,
            float(data["answer_threshold"]),
            float(data["clarify_threshold"]),
        )


@lru_cache(maxsize=1)
def default_calibration() -> Calibration:
    return Calibration.from_dict(json.loads(CALIBRATION_PATH.read_text(encoding="utf-8")))


# -- messages that are not questions for the knowledge base -----------------------------------
# Matched on normalised text (textnorm.normalize): Persian letters unified, lower case.

_HUMAN = re.compile(
    r"\b(human|real person|a person|live agent|an agent|operator|representative|someone real|"
    r"speak to someone|talk to someone|customer service agent|talk to (the )?(owner|manager|staff)|"
    r"اپراتور|کارشناس|انسان|آدم واقعی|شخص واقعی|با مدیر|پشتیبان واقعی|با خود فروشنده|"
    r"صحبت با (یک |یه )?(نفر|شخص|کسی|آدم)|با (یک |یه )?(آدم|انسان|شخص|نفر|کارمند)( واقعی)? ?(حرف|صحبت)|"
    r"(حرف|صحبت) (بزنم|کنم) با (یک |یه )?(آدم|انسان|شخص|نفر|کارمند))\b"
)
_UPSET = re.compile(
    r"\b(complaint|complain|terrible|awful|horrible|angry|upset|furious|unacceptable|scam|fraud|"
    r"rude|disgusting|ridiculous|useless|disappointed|outraged|lawyer|sue you|"
    r"شکایت|افتضاح|ناراضی|ناراضیم|عصبانی|عصبانیم|کلاهبردار|کلاهبرداری|بی ?شرم|مسخره|بدترین|"
    r"ناامید|اعتراض|فاجعه|بی ?انصاف|دزد|دزدی)\b"
)
# Upset or urgent without an angry word: a long wait, nobody answering, something not arrived, a
# demand for the money back. Each alone can be an ordinary question ("how long does a refund
# take", "my order hasn't arrived yet", «سفارشم هنوز نرسیده»); two together, or one said with
# "!!", are a customer who needs a person (upset()). Threats to complain need nothing more.
_LONG_WAIT = re.compile(
    r"\b((\d+|two|three|four|five|six|several|many) (weeks?|months?)|still waiting|for ages|"
    r"(\d+|دو|سه|چهار|پنج|شش|چند|یک|یه) ?(هفته|ماه)(ه|ست| است)?\b)"
)
_NOBODY = re.compile(
    r"\b((no ?one|nobody|no body) (answers|replies|responds|answered|replied|responded|picks up)|no (reply|answer|response)|"
    r"(کسی|هیچکس|هیچ کس) جواب|جواب (نمیدید|نمیدین|نمیدن|نمی دید|نمی دهید|نمیده|ندادید|ندادین)|خبری (نشد|نیست))"
)
_NOT_ARRIVED = re.compile(
    r"\b(not (arrived|come|here|received|delivered|shipped)|hasn ?t (arrived|come|shipped)|"
    r"never (arrived|came|got)|didn ?t (arrive|get|receive)|haven ?t (received|got)|"
    r"نیومده|نیامده|نرسیده|نرسید|دستم نرسید|ارسال نشده|نفرستادید|نفرستادین)"
)
_DEMAND = re.compile(
    r"\b((give|send|pay) (me )?(back )?my money|my money back|refund me|i (want|demand) (a |my )?(full )?refund|"
    r"i demand|پولمو|پولم رو|پول منو|پولم را|وجهمو|وجهم رو|پس بدین|پس بدید|برگردونید|برگردونین)"
)
_ANGRY_EXTRA = re.compile(
    r"\b(pissed|fed up|incompetent|ripped off|rip ?off|wtf|shame on you|report you|consumer protection|"
    r"chargeback|never (buy|order|shop)(ing)? (from|here|with you)|"
    r"بی ?نظم|بی ?نظمی|بی ?نظمید|بی ?مسئولیت|آشغال|مزخرف|بی ?ادب|شاکی|کلافه|بی ?عرضه|"
    r"سو ?استفاده|خجالت بکشید|پیگیری قانونی|تعزیرات|پلیس فتا)\b"
)


def upset(norm: str) -> bool:
    """An upset or urgent customer (normalised text), who goes to a person whatever the
    knowledge base holds: anger or a threat to complain, or two of a long wait, nobody
    answering, something not arrived, a demand for the money back, and "!!"."""
    if _UPSET.search(norm) or _ANGRY_EXTRA.search(norm):
        return True
    signals = (
        bool(_LONG_WAIT.search(norm)) + bool(_NOBODY.search(norm)) + bool(_NOT_ARRIVED.search(norm))
        + bool(_DEMAND.search(norm)) + (norm.count("!") >= 2)
    )  # fmt: skip
    return signals >= 2


# A message that only makes sense with the one before: "and to Vancouver?", "what about iPads?",
# «آیپد چی؟», «و برای کرج؟».
_ELLIPTIC = re.compile(r"^(and|what about|how about|also|or|و|یا|اون|پس)\b|\b(چی|چطور|چطوره|how about it)\s*[?؟!.]*$")


_GREETING = re.compile(
    r"\b(hi|hello|hey|hiya|good (morning|afternoon|evening)|greetings|salam|"
    r"سلام|درود|وقت (شما )?بخیر|صبح بخیر|عصر بخیر|شب بخیر|روز بخیر|خسته نباشید|علیک)\b"
)
_THANKS = re.compile(
    r"\b(thanks|thank you|thx|ty|cheers|much appreciated|great|perfect|ok|okay|"
    r"ممنون|ممنونم|مرسی|سپاس|سپاسگزارم|متشکرم|تشکر|دستت درد نکنه|دست شما درد نکنه|عالی|باشه|اوکی|لطف کردید)\b"
)
_GOODBYE = re.compile(r"\b(bye|goodbye|see you|خداحافظ|خدانگهدار|بدرود)\b")
# Words that may surround small talk without making it a question ("thanks a lot, dear").
_FILLER = re.compile(
    r"[\W_]+|\b(so|very|much|a lot|lot|again|dear|all|you|there|for|the|your|help|and|"
    r"خیلی|زیاد|عزیز|جان|دوست|از|شما|بازم|هم|و|برای|کمک|تون|بابت)\b"
)


def _only(pattern: re.Pattern, text: str) -> bool:
    """True if the message is nothing but this kind of small talk."""
    if not pattern.search(text):
        return False
    rest = _FILLER.sub(" ", pattern.sub(" ", text))
    return not rest.strip()


def small_talk(text: str) -> str | None:
    return _small_talk(normalize(text))


def _small_talk(norm: str) -> str | None:
    for kind, pattern in (("greeting", _GREETING), ("thanks", _THANKS), ("goodbye", _GOODBYE)):
        if _only(pattern, norm):
            return kind
    return None


# -- the decision --------------------------------------------------------------------------------


def _fitting(
    text: str, lang: str, fitting: list[Match], best: float, ranking: list[str], feats: dict[str, float]
) -> Decision:
    """The one product that fits is the answer; several are offered as choices (with the best
    product's score as the decision's confidence)."""
    if len(fitting) == 1:
        return Decision(
            "answer", "product", lang, text, fitting[0].score, ranking=ranking, features=feats, products=fitting
        )
    return Decision(
        "clarify", "close_products", lang, text, best, ranking=ranking, features=feats,
        products=fitting[:CLARIFY_CHOICES],
    )  # fmt: skip


def _unoffered(text: str, lang: str, best: Match, ranking: list[str], feats: dict[str, float]) -> Decision:
    """A value the product isn't sold in ("XL" of a shirt made up to L): never the nearest
    variant's answer; what it is sold in, each a choice."""
    variants = [Match(best.group, best.score, [v], best.covered, best.unoffered) for v in best.group.variants]
    return Decision(
        "clarify", "no_such_variant", lang, text, best.score, ranking=ranking,
        features={**feats, "unoffered": 1.0}, products=variants,
    )  # fmt: skip


def _speaks_of(entry: IndexedEntry, words: tuple[str, ...]) -> bool:
    """Whether the entry's own text holds most of the words the question names (a word in Latin
    letters also in its Persian readings: "garanti" is «گارانتی»)."""

    def found(word: str) -> bool:
        forms = [word, to_persian(word), to_persian(word, short=True)] if word.isascii() else [word]
        for form in forms:
            grams = trigrams(form)
            if grams and len(grams & entry.trigrams) >= WORD_FOUND * len(grams):
                return True
        return False

    return sum(found(w) for w in words) >= ENTRY_NAMES * len(words)


def _plausible(ranking: Ranking) -> list[IndexedEntry]:
    """The entries worth offering: the first few, cut where the scores fall away from the best
    (one likely entry beside two unlikely ones is offered alone, not with filler)."""
    if not len(ranking):
        return []
    best = float(ranking.fused[ranking.order[0]])
    return [e for i, e in zip(ranking.order, ranking.top(CLARIFY_CHOICES), strict=False)
            if best - float(ranking.fused[i]) <= CHOICE_GAP]  # fmt: skip


class Decider:
    def __init__(
        self,
        index: RetrievalIndex,
        calibration: Calibration | None = None,
        *,
        answer_threshold: float = 0.0,
        clarify_threshold: float = 0.0,
        default_lang: str = "fa",
        catalog: CatalogIndex | None = None,
        missing_product: str = "closest",
    ):
        self.index = index
        self.catalog = catalog
        self.missing_product = missing_product  # closest | handover
        self.default_lang = default_lang
        # The owner's fixed thresholds (settings), if any, win over every calibration.
        self._fixed = (answer_threshold, clarify_threshold)
        self.use_calibration(calibration or default_calibration())

    def use_calibration(self, calibration: Calibration) -> None:
        """Switch to another calibration (the shop's own, once fitted): one assignment each, so a
        decision in flight sees the old or the new, never half of each."""
        self.calibration = calibration
        self.answer_threshold = self._fixed[0] or calibration.answer_threshold
        self.clarify_threshold = self._fixed[1] or calibration.clarify_threshold

    def decide(self, message: str | Reading, *, previous: Previous | None = None) -> Decision:
        """What to do with a customer's message (read once at the door: ``text.reading``; a
        string is read here). Finglish is Persian: the reply and the templates are too."""
        reading = message if isinstance(message, Reading) else read(message, self.default_lang)
        text, norm, lang = reading.text, reading.norm, reading.lang
        if not norm or not any(ch.isalnum() for ch in norm):
            return Decision("escalate", "empty", lang, text)
        if _HUMAN.search(norm):
            # "انسان در جستجوی معنا دارید؟" names a book, not a wish to talk to a human
            product = self._product(reading, Decision("escalate", "no_match", lang, text))
            if product is not None and product.kind == "answer":
                return product
            return self._escalate(reading, "asked_for_person")
        if upset(norm):
            return self._escalate(reading, "upset")
        kind = _small_talk(norm)
        if kind:
            return Decision(kind, kind, lang, text)

        alone = self.index.search(reading, lang=lang)
        decision = self._from_ranking(text, lang, alone)
        product = self._product(reading, decision)
        if product is not None:
            return product
        if decision.kind != "answer" and (same := self.index.exact(reading)) is not None:
            # Worded exactly as a phrasing of one entry, the owner's or one they approved from a
            # customer: the owner said these words are that entry's.
            return Decision(
                "answer", "exact_phrasing", lang, text, decision.confidence, [same], 0, decision.ranking,
                decision.features,
            )  # fmt: skip
        if previous is None or decision.kind == "answer":
            # Answered on its own evidence: a message with a topic of its own is decided alone,
            # whatever came before.
            return decision
        return self._follow_up(reading, alone, decision, previous)

    def _follow_up(self, reading: Reading, alone: Ranking, decision: Decision, previous: Previous) -> Decision:
        """A message the knowledge base can't place alone, read with the conversation's last
        question ("and to Mashhad?" means nothing alone). What that reading answers is answered
        only with the message's own evidence for the same entry: ranked among the first few
        alone, and its words found in the entry. "can I return it?" after a shipping question
        reads as shipping when glued to it, and «پارکینگ داره؟» after the address as the
        address; alone, neither points there, and a confident wrong answer costs more than a menu."""
        text, norm, lang = reading.text, reading.norm, reading.lang
        combined = read(f"{previous.question} {text}", lang=lang)
        together = self.index.search(combined, lang=lang)
        follow = self._from_ranking(combined.text, lang, together)
        product = self._product(combined, follow)
        if product is not None and product.kind == "answer":
            product.reason, product.query = "follow_up", text
            return product
        elliptic = bool(_ELLIPTIC.search(norm))
        if (
            follow.kind == "answer"
            and (
                self._supports(alone, follow.entries[0].id)
                # "and to Mashhad?" names no topic: it continues the one just answered
                or (elliptic and follow.entries[0].id in previous.entry_ids[:1])
            )
        ):
            follow.reason, follow.query = "follow_up", text
            return follow
        if follow.kind == "escalate" and decision.kind == "escalate":
            return decision
        # Likely entries from both readings. An elliptic message ("and to Vancouver?") continues
        # the last topic: the conversation's reading first, the entry just read included. Any
        # other puts its own reading's entries before the one the customer has just read.
        seen = set(previous.entry_ids)
        read_together = _plausible(together)
        if elliptic:
            order = [*read_together, *_plausible(alone)]
        else:
            fresh = [e for e in read_together if e.id not in seen]
            order = [*fresh, *_plausible(alone), *read_together]
        pool = list({e.id: e for e in order}.values())  # each entry once, at its first place
        feats = {**decision.features, "follow_up": 1.0}
        return Decision(
            "clarify", "follow_up_choices", lang, text, decision.confidence, pool[:CLARIFY_CHOICES], 0,
            decision.ranking, feats,
        )  # fmt: skip

    @staticmethod
    def _supports(alone: Ranking, entry_id: str) -> bool:
        """Whether the message alone points to this entry: among its first few, and a good share
        of its words found in the entry's own text."""
        for i in alone.order[:FOLLOW_UP_SUPPORT]:
            if alone.entries[int(i)].id == entry_id:
                return alone.coverage(int(i)) >= FOLLOW_UP_COVERAGE
        return False

    def _product(self, reading: Reading, kb_decision: Decision) -> Decision | None:
        """A question about a product of the catalog (or about one the shop doesn't have), or
        None when the knowledge base should answer it."""
        if self.catalog is None or not len(self.catalog):
            return None
        text, lang = reading.text, reading.lang
        found = self.catalog.search(reading)
        ranking = [PRODUCT + m.sku for m in found.matches]
        best = found.best
        feats = {"product_score": best.score if best else 0.0, "product_intent": float(found.intent)}
        if (
            kb_decision.kind == "answer"
            and found.intent
            and found.named
            and kb_decision.entries
            and kb_decision.entries[0].lang == lang
            and not _speaks_of(kb_decision.entries[0], found.named)
        ):
            # "do you have a mechanical keyboard?" is about the catalog, whatever entry of a short
            # FAQ ranks first: decided as a product question, the FAQ's answer set aside. (Words
            # are compared within one language: an English question answered from a Persian
            # entry has none of its words, and is left to the ranking.)
            feats["entry_silent"] = 1.0
            kb_decision = Decision("escalate", "no_match", lang, text, kb_decision.confidence)
        if best is not None and best.score >= PRODUCT_MATCH:
            if kb_decision.kind == "answer" and not found.intent:
                return None  # "do you repair the Galaxy A54?": the knowledge base's answer
            close = [m for m in found.matches if m.score >= max(PRODUCT_MATCH, best.score - PRODUCT_MARGIN)]
            if best.unoffered and len(close) == 1:
                return _unoffered(text, lang, best, ranking, feats)
            close = [m for m in close if not m.unoffered] or close
            return _fitting(text, lang, close, best.score, ranking, feats)
        whole = [m for m in found.matches if m.covered >= 0.999]
        if best is not None and whole and (found.intent or kb_decision.kind != "answer"):
            # Every word asked is in these products' names, which the customer shortened
            # ("hoodie price?"): the one such product, or a choice among them, never "missing".
            if len(whole) == 1 and whole[0].partial:
                # ... but a name said only in part, and nothing else of the product, may name one
                # the shop doesn't have («سووشون» where it sells «سووشون نوجوان»): offered, not answered.
                return Decision(
                    "clarify", "partly_named", lang, text, best.score, ranking=ranking, features=feats, products=whole
                )
            return _fitting(text, lang, whole, best.score, ranking, feats)
        if found.intent and found.words and kb_decision.kind == "escalate" and kb_decision.reason == "no_match":
            # Asked about a product the shop doesn't have: said so, never answered as if it had it.
            near = [m for m in found.matches if m.score >= PRODUCT_NEAR][:CLARIFY_CHOICES]
            if near and near[0].unoffered and self.missing_product == "closest":
                # the closest product, asked in a value it isn't sold in: what it is sold in
                return _unoffered(text, lang, near[0], ranking, feats)
            if self.missing_product == "closest" and near:
                return Decision(
                    "clarify", "no_such_product", lang, text, feats["product_score"], ranking=ranking,
                    features=feats, products=near,
                )  # fmt: skip
            return Decision(
                "escalate", "no_such_product", lang, text, feats["product_score"], ranking=ranking, features=feats
            )
        return None

    def _escalate(self, reading: Reading, reason: str) -> Decision:
        # Keep the best matches for the owner's eyes, though the customer gets a person.
        ranking = self.index.search(reading, lang=reading.lang)
        return Decision(
            "escalate",
            reason,
            reading.lang,
            reading.text,
            ranking=[e.id for e in ranking.top(5)],
            features=ranking.features(),
        )

    def _from_ranking(self, query: str, lang: str, ranking: Ranking) -> Decision:
        if len(ranking) == 0:
            return Decision("escalate", "empty_knowledge_base", lang, query)
        feats = ranking.features()
        p = self.calibration.probability(feats, "answer")
        top_ids = [e.id for e in ranking.top(5)]
        confident, confidence, answer_feats = p >= self.answer_threshold, p, feats
        shipped = default_calibration()
        if not confident and self.calibration is not shipped and not self._fixed[0]:
            # A shop's own calibration only adds answers: what the shipped one answers with
            # confidence stays answered (on a big knowledge base of confusable entries the shop's
            # own estimate can be the more cautious one: clinc150_en, docs/BENCHMARKS.md).
            p_shipped = shipped.probability(feats, "answer")
            if p_shipped >= shipped.answer_threshold:
                confident, confidence, answer_feats = True, p_shipped, {**feats, "p_shop": p}
        if confident:
            best = int(ranking.order[0])
            return Decision(
                "answer",
                "confident",
                lang,
                query,
                confidence,
                [ranking.entries[best]],
                ranking.best_passage(best),
                top_ids,
                answer_feats,
            )
        p_choices = self.calibration.probability(feats, "clarify")
        feats = {**feats, "p_choices": p_choices}
        if p_choices >= self.clarify_threshold:
            return Decision("clarify", "close_candidates", lang, query, p, _plausible(ranking), 0, top_ids, feats)
        return Decision("escalate", "no_match", lang, query, p, [], 0, top_ids, feats)

    def answer_with(self, entry_id: str, text: str) -> Decision | None:
        """The customer picked a clarifying choice: answer with that entry (or product)."""
        if entry_id.startswith(PRODUCT):
            found = self.catalog.get(entry_id.removeprefix(PRODUCT)) if self.catalog is not None else None
            if found is None:
                return None
            group, chosen = found
            lang = detect_language(text, self.default_lang)
            match = Match(group, 1.0, chosen)
            return Decision("answer", "chosen_by_customer", lang, text, 1.0, ranking=[entry_id], products=[match])
        entry = self.index.get(entry_id)
        if entry is None:
            return None
        lang = detect_language(text, self.default_lang)
        return Decision("answer", "chosen_by_customer", lang, text, 1.0, [entry], 0, [entry.id])
