"""Spoken Persian as customers type it, read in the written form the owner's answers use."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.cli.evaluate import load_kb
from appliance.db import Store
from appliance.kb import embedder
from appliance.kb.retrieval import RetrievalIndex
from appliance.text.colloquial import to_written
from appliance.text.reading import other_readings

ZWNJ = "\u200c"


@pytest.mark.parametrize(
    "spoken, written",
    [
        ("میشه بیام؟", f"می{ZWNJ}شود بیام؟"),
        ("کی میرسه", f"کی می{ZWNJ}رسد"),
        ("قیمتش چنده؟", "قیمتش چند است؟"),
        ("کد تخفیف دارین؟", "کد تخفیف دارید؟"),
        ("گوشیمو میخوام عوض کنم", f"گوشیم را می{ZWNJ}خواهم عوض کنم"),
        ("نمی\u200cتونم بیام، کسی میاد؟", f"نمی{ZWNJ}توانم بیام، کسی می{ZWNJ}آید؟"),
        ("شمارتونو بدید", "شمارتان را بدید"),
        ("تا کی تضمین داره", "تا کی تضمین دارد"),
        ("ارسال به شهرستان میکنین؟", f"ارسال به شهرستان می{ZWNJ}کنید؟"),
        ("باطری", "باتری"),
    ],
)
def test_spoken_forms_become_written(spoken: str, written: str) -> None:
    assert to_written(spoken) == written


@pytest.mark.parametrize(
    "text",
    [
        "مانتو و پالتو دارید؟",  # -تو is part of the word, not "your + را"
        "میوه و میله",  # words that start like a verb with می
        "زمان ارسال سفارش چقدر است؟",  # already written
        "بده",  # give / bad: left as it is
        "do you ship to Canada? 3 items",
        "کد تخفیف دارید",
    ],
)
def test_written_persian_and_other_text_are_left_alone(text: str) -> None:
    assert to_written(text) == text


def test_only_a_spoken_question_is_read_again() -> None:
    assert other_readings("زمان ارسال سفارش چقدر است؟") == []
    assert other_readings("where is my order") == []
    assert other_readings("هزینه ارسال چنده؟") == ["هزینه ارسال چند است؟"]
    # Finglish read in Persian letters, and that reading's spoken words in the written form
    finglish = other_readings("hazine ersal chande?")
    assert any("چند است" in reading for reading in finglish), finglish


def test_a_spoken_question_finds_the_entry_written_formally(tmp_path: Path) -> None:
    kb = tmp_path / "kb.jsonl"
    kb.write_text(
        "\n".join(
            [
                '{"id": "hours", "questions": ["ساعت کاری فروشگاه چیست؟"], "answer": "شنبه تا پنجشنبه ۹ تا ۱۸ باز هستیم.", "lang": "fa"}',
                '{"id": "returns", "questions": ["آیا می\u200cتوانم کالا را مرجوع کنم؟"], "answer": "تا ۷ روز کالا را پس می\u200cگیریم.", "lang": "fa"}',
                '{"id": "shipping", "questions": ["هزینه ارسال چقدر است؟"], "answer": "ارسال با پست ۵۰ هزار تومان است.", "lang": "fa"}',
            ]
        ),
        encoding="utf-8",
    )
    store = Store(tmp_path / "appliance.db")
    store.migrate()
    try:
        load_kb(store, kb)
        index = RetrievalIndex(store, embedder.shared())
        spoken = index.search("میتونم پسش بدم؟", lang="fa")
        assert spoken.entries[int(spoken.order[0])].id == "returns"
        # the written reading is what moved it: its best centroid score is the reading's
        written = index.search(to_written("میتونم پسش بدم؟"), lang="fa")
        assert spoken.centroid.max() >= written.centroid.max() - 1e-6
    finally:
        store.close()
