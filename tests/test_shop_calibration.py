"""A shop's own calibration, fitted from its knowledge base alone (and the owner's judgements of
real questions): what the live appliance decides with after every change of the knowledge base."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from appliance.answering import shop_calibration
from appliance.answering.decide import Calibration, Decider, default_calibration
from appliance.cli.evaluate import load_kb
from appliance.db import Store
from appliance.kb import embedder
from appliance.kb import formats as kb_formats
from appliance.kb.retrieval import RetrievalIndex

DEMO = Path(__file__).resolve().parents[1] / "appliance" / "demo"


def test_the_pool_of_questions_no_shop_answers() -> None:
    for lang in ("fa", "en"):
        pool = shop_calibration.oos_pool(lang)
        assert len(pool) >= 300 and len(set(pool)) == len(pool)
        assert not any(line.startswith("#") for line in pool)


@pytest.mark.slow  # fits a calibration or embeds a whole knowledge base: seconds
def test_fits_the_demo_shop_from_its_knowledge_base(data_dir: Path) -> None:
    kb_file = next(DEMO.glob("*.jsonl"))
    entries = kb_formats.read_file(kb_file)
    calibration, report = shop_calibration.fit(entries, embedder.shared())
    assert not report.used_prior_only
    assert report.examples["in_scope"] >= 33 and report.examples["id_oos"] > 0 and report.examples["ood_oos"] >= 300
    assert 0.05 <= report.answer_threshold < 1 and 0.05 <= report.clarify_threshold < 1
    # Its own estimate keeps wrong answers within the default safety, with the optimism margin.
    assert report.estimated["wrong"] * shop_calibration.OPTIMISM <= shop_calibration.DEFAULT_SAFETY + 1e-9
    assert Calibration.from_dict(calibration.to_dict()) == calibration
    assert calibration.heads["answer"] != default_calibration().heads["answer"]  # it learnt something

    store = Store(data_dir / "appliance.db")
    store.migrate()
    load_kb(store, kb_file)
    decider = Decider(RetrievalIndex(store, embedder.shared()))
    decider.use_calibration(calibration)
    assert decider.answer_threshold == report.answer_threshold
    assert decider.decide("How many days does delivery to Shiraz take?").kind == "answer"
    assert decider.decide("who won the football match last night").kind == "escalate"
    store.close()


def test_owner_thresholds_win_over_any_calibration(data_dir: Path) -> None:
    store = Store(data_dir / "appliance.db")
    store.migrate()
    decider = Decider(RetrievalIndex(store, embedder.shared()), answer_threshold=0.42)
    decider.use_calibration(default_calibration())
    assert decider.answer_threshold == 0.42
    store.close()


@pytest.mark.slow  # fits a calibration or embeds a whole knowledge base: seconds
def test_the_live_appliance_keeps_its_own_calibration(data_dir: Path) -> None:
    from litestar.testing import TestClient

    from appliance.app import create_app
    from appliance.settings import Settings

    settings = Settings(data_dir=data_dir, model="none")
    with TestClient(create_app(settings)) as client:
        state = client.app.state.services
        keeper = state.calibration
        keeper.wait(60)
        assert keeper.current is None  # an empty knowledge base: the shipped calibration
        load_kb(state.store, next(DEMO.glob("*.jsonl")))
        # The next customer's search sees the change and starts a fit in the background.
        response = client.post("/api/v1/conversations", json={"lang": "en"}).json()
        client.post(
            f"/api/v1/conversations/{response['conversation_id']}/messages",
            json={"text": "how long does delivery take?"},
            headers={"authorization": f"Bearer {response['visitor_token']}"},
        )
        keeper.wait(120)
        assert keeper.current is not None and keeper.report["entries"] == 33
        assert state.chat.decider.calibration is keeper.current
        fitted = keeper.current
        # The owner asks for more safety: fitted again, stricter.
        keeper.configure(safety=0.005, enabled=True)
        keeper.wait(120)
        assert keeper.current.answer_threshold >= fitted.answer_threshold
        assert state.chat.decider.answer_threshold == keeper.current.answer_threshold
        stored = keeper.current
    # After a restart the stored calibration is used as it is: no fit.
    with TestClient(create_app(settings.replace(answer_safety=0.005))) as client:
        keeper = client.app.state.services.calibration
        assert keeper.current == stored and not keeper.check()
        assert client.app.state.services.chat.decider.calibration == stored


@pytest.mark.slow  # fits a calibration or embeds a whole knowledge base: seconds
def test_a_shop_calibration_only_adds_answers(data_dir: Path) -> None:
    """What the shipped calibration answers with confidence stays answered, however cautious the
    shop's own fit is (on 150 confusable entries it was the more cautious one)."""
    from dataclasses import replace

    store = Store(data_dir / "appliance.db")
    store.migrate()
    load_kb(store, next(DEMO.glob("*.jsonl")))
    decider = Decider(RetrievalIndex(store, embedder.shared()))
    question = "When will my order arrive?"  # an owner's phrasing, word for word
    assert decider.decide(question).kind == "answer"
    cautious = replace(
        default_calibration(),
        answer_threshold=0.9999,
        heads={**default_calibration().heads, "answer": ((0.0,) * 14, -5.0)},
    )
    decider.use_calibration(cautious)
    decision = decider.decide(question)
    assert decision.kind == "answer" and decision.confidence >= default_calibration().answer_threshold
    assert decision.features["p_shop"] < 0.01
    assert decider.decide("who won the football match last night").kind == "escalate"
    store.close()


SHORT_FAQ = Path(__file__).resolve().parent / "data" / "eval" / "shop_woo" / "kb.jsonl"


@pytest.mark.slow  # fits a calibration twice: seconds
def test_a_short_faq_is_not_a_magnet(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Eight entries, one phrasing each, make eight near misses: too few to learn from. The
    pool's closest questions stand in for the rest, and a question about freight to Dubai is no
    longer answered from the shop's shipping cost."""
    entries = kb_formats.read_file(SHORT_FAQ)
    assert len(entries) == 8
    store = Store(data_dir / "appliance.db")
    store.migrate()
    load_kb(store, SHORT_FAQ)
    decider = Decider(RetrievalIndex(store, embedder.shared()))
    freight = "هزینه ارسال بار به دبی با کشتی"

    calibration, report = shop_calibration.fit(entries, embedder.shared())
    assert report.stand_ins == shop_calibration.MIN_NEAR_MISSES - 8
    assert report.examples["id_oos"] == shop_calibration.MIN_NEAR_MISSES
    assert report.estimated["wrong"] * shop_calibration.OPTIMISM <= shop_calibration.DEFAULT_SAFETY + 1e-9
    decider.use_calibration(calibration)
    assert decider.decide(freight).kind != "answer"
    assert decider.decide("هزینه ارسال چقدر است؟").kind == "answer"  # the owner's own words still are

    monkeypatch.setattr(shop_calibration, "MIN_NEAR_MISSES", 0)  # as it was: the eight alone
    magnet, before = shop_calibration.fit(entries, embedder.shared())
    assert before.stand_ins == 0 and before.answer_threshold < report.answer_threshold
    decider.use_calibration(magnet)
    assert decider.decide(freight).kind == "answer"
    store.close()


def test_choices_are_offered_down_to_where_answerable_questions_still_get_them() -> None:
    from appliance.answering.shop_calibration import OFFERED, OPTIMISM, Example, _weights, choose_clarify_threshold

    def examples(p_answerable: list[float], in_top3: bool = True) -> tuple[np.ndarray, list[Example], np.ndarray]:
        ex = [Example({}, False, in_top3, "in_scope") for _ in p_answerable]
        ex += [Example({}, False, False, "ood_oos") for _ in range(50)]
        p = np.array(p_answerable + [0.3] * 50)  # unanswerable ones don't move it
        return p, ex, _weights(ex)

    # A small shop: its answerable examples score low, so choices start lower than shipped...
    low = [i * 0.004 for i in range(100)]  # 0.000 ... 0.396
    p, ex, w = examples(low)
    t = choose_clarify_threshold(p, ex, w, ceiling=0.52)
    assert t < 0.52
    # (the held-out phrasings' scores halved: customers' own words score lower)
    offered = sum(x >= t * OPTIMISM for x in low) / len(low)
    assert OFFERED - 0.02 <= offered <= OFFERED
    # ...only examples whose right entry a menu would hold count...
    p, ex, w = examples(low, in_top3=False)
    assert choose_clarify_threshold(p, ex, w, ceiling=0.52) == 0.52
    # ...never higher than the shipped threshold, and unchanged with nothing to go by.
    p, ex, w = examples([0.99] * 50)
    assert choose_clarify_threshold(p, ex, w, ceiling=0.3) == 0.3
    ex = [Example({}, False, False, "ood_oos")]
    assert choose_clarify_threshold(np.array([0.9]), ex, _weights(ex), ceiling=0.52) == 0.52


def test_the_dial_on_the_shops_own_questions() -> None:
    from appliance.answering.shop_calibration import dial_on_history

    dial = [{"safety": 0.01, "answer_threshold": 0.9}, {"safety": 0.05, "answer_threshold": 0.5}, {"safety": 0.02}]
    history = [
        {"confidence": 0.95, "verdict": "right"},
        {"confidence": 0.7, "verdict": "wrong"},
        {"confidence": 0.6, "verdict": None},
        {"confidence": 0.2, "verdict": None},
    ]
    safe, helpful, old = dial_on_history(dial, history)
    assert safe["history"] == {"questions": 4, "answered": 1, "marked_wrong": 0}
    assert helpful["history"] == {"questions": 4, "answered": 3, "marked_wrong": 1}
    assert old["history"] is None  # fitted before positions kept their thresholds
    assert all(d["history"] is None for d in dial_on_history(dial, []))
