"""A shop's own calibration, fitted from its knowledge base alone (experimental: `appliance eval
--shop-calibration`; the appliance still decides with the global calibration)."""

from __future__ import annotations

from pathlib import Path

from appliance import embedder, kb_formats, shop_calibration
from appliance.decide import Calibration, Decider, default_calibration
from appliance.db import Store
from appliance.evaluate import load_kb
from appliance.retrieval import RetrievalIndex

DEMO = Path(__file__).resolve().parents[1] / "appliance" / "demo"


def test_the_pool_of_questions_no_shop_answers() -> None:
    for lang in ("fa", "en"):
        pool = shop_calibration.oos_pool(lang)
        assert len(pool) >= 300 and len(set(pool)) == len(pool)
        assert not any(line.startswith("#") for line in pool)


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
