"""Persian as customers type it: Finglish (Persian in Latin letters) and Arabic letters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from appliance.answering.decide import Decider
from appliance.cli.evaluate import load_kb
from appliance.db import Store
from appliance.kb import embedder
from appliance.kb.retrieval import RetrievalIndex
from appliance.text.finglish import looks_finglish, readings, to_persian
from appliance.text.textnorm import for_embedding

DEMO = Path(__file__).resolve().parents[1] / "appliance" / "demo" / "bookshop.jsonl"


@pytest.mark.parametrize(
    "text",
    [
        "gheymate taviz lcd iphone 11 chande?",
        "salam ketabo mikham pas bedam",
        "hazine ersal chande",
        "naghdi bedam ya kart?",
    ],
)
def test_finglish_is_recognised(text: str) -> None:
    assert looks_finglish(text)
    assert all(any("\u0600" <= ch <= "\u06ff" for ch in r) for r in readings(text))


@pytest.mark.parametrize(
    "text",
    [
        "do you have a store in toronto",
        "how much is shipping?",
        "can I pay by card",
        "سلام، کتاب دارید؟",
        "1234",
        "is the black friday stuff refundable",
    ],
)
def test_english_and_persian_are_not_finglish(text: str) -> None:
    assert not looks_finglish(text) and readings(text) == []


def test_transliteration_keeps_brands_and_models() -> None:
    assert "iphone 11" in to_persian("gheymate lcd iphone 11 chande")
    assert to_persian("chand", short=True) == "چند" and to_persian("goshi") == "گوشی"


def test_arabic_letters_embed_like_persian_ones() -> None:
    arabic, persian = "كد تخفيف داريد؟ ٣ تا", "کد تخفیف دارید؟ ۳ تا"
    assert for_embedding(arabic) == for_embedding(persian) == "کد تخفیف دارید؟ 3 تا"
    vectors = embedder.shared().queries([arabic, persian])
    assert np.allclose(vectors[0], vectors[1])
    assert for_embedding("می\u200cخواهم") == "می\u200cخواهم"  # ZWNJ kept for the embedder


@pytest.fixture(scope="module")
def decider(tmp_path_factory: pytest.TempPathFactory):
    store = Store(tmp_path_factory.mktemp("finglish") / "appliance.db")
    store.migrate()
    load_kb(store, DEMO)
    yield Decider(RetrievalIndex(store, embedder.shared()))
    store.close()


@pytest.mark.parametrize(
    "question, entry",
    [
        ("hazine ersal chande?", "shipping-cost-fa"),
        ("sefaresham kay mirese?", "shipping-time-fa"),
    ],
)
def test_a_finglish_question_finds_the_persian_entry_and_is_answered_in_persian(
    decider: Decider, question: str, entry: str
) -> None:
    decision = decider.decide(question)
    assert decision.lang == "fa"
    assert decision.ranking[0] == entry, decision.ranking[:3]
