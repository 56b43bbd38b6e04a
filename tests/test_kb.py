import json
from pathlib import Path

import pytest

from appliance import paths
from appliance.answering import embedder, kb, kb_formats
from appliance.answering.entry import EntryError
from appliance.db import Store


def test_demo_bookshop_is_bilingual_and_large_enough() -> None:
    entries = kb_formats.read_file(paths.demo_kb_path())
    assert len(entries) >= 25
    langs = {e.lang for e in entries}
    assert langs == {"fa", "en"}
    topics = " ".join(e.title for e in entries).lower()
    for word in ("ارسال", "مرجوع", "پرداخت", "ساعت", "تخفیف", "پیگیری", "ثبت‌نام"):
        assert word in topics, word
    assert all(e.questions and e.answer for e in entries)


@pytest.mark.slow  # real waits, real argon2 or a whole import: a second or more
def test_import_is_idempotent_and_keeps_history(store: Store) -> None:
    entries = kb_formats.read_file(paths.demo_kb_path())
    e5 = embedder.shared()
    assert kb.save(store, entries, embedder=e5, now="t1").created == len(entries)
    again = kb.save(store, entries, embedder=e5, now="t2")
    assert (again.created, again.updated, again.unchanged) == (0, 0, len(entries))
    assert kb.count(store.read()) == len(entries)
    entries[0].answer += " (updated)"
    assert kb.save(store, entries, embedder=e5, now="t3").updated == 1
    row = (
        store.read()
        .execute("SELECT answer, created_at, updated_at FROM kb_entries WHERE id = ?", [entries[0].id])
        .fetchone()
    )
    assert row["answer"].endswith("(updated)") and (row["created_at"], row["updated_at"]) == ("t1", "t3")
    assert [h["action"] for h in kb.history(store.read(), entries[0].id)] == ["create", "update"]


@pytest.mark.parametrize(
    "bad_line, reason",
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"id": "x", "lang": "en", "questions": ["q"]}), "missing answer"),
        (json.dumps({"id": "x", "lang": "de", "answer": "a", "questions": ["q"]}), "lang must be"),
        (json.dumps({"id": "kb-1", "lang": "en", "answer": "a", "questions": ["q"]}), "duplicate id"),
        (json.dumps(["a list"]), "expected an object"),
    ],
)
def test_bad_file_names_the_line_and_changes_nothing(tmp_path: Path, store: Store, bad_line: str, reason: str) -> None:
    good = json.dumps({"id": "kb-1", "lang": "en", "answer": "We open at 9.", "questions": ["hours?"]})
    path = tmp_path / "kb.jsonl"
    path.write_text(good + "\n\n" + bad_line + "\n", encoding="utf-8")
    with pytest.raises(EntryError) as err:
        kb_formats.read_file(path)
    assert err.value.where == "kb.jsonl line 3" and reason in str(err.value)
    assert kb.count(store.read()) == 0
