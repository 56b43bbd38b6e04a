import json
from pathlib import Path

import pytest

from appliance import kb, paths
from appliance.db import Store


@pytest.fixture
def store(data_dir: Path):
    s = Store(data_dir / "appliance.db")
    s.migrate()
    yield s
    s.close()


def test_demo_bookshop_is_bilingual_and_large_enough() -> None:
    entries = kb.read_jsonl(paths.demo_kb_path())
    assert len(entries) >= 25
    langs = {e.lang for e in entries}
    assert langs == {"fa", "en"}
    topics = " ".join(e.title for e in entries).lower()
    for word in ("ارسال", "مرجوع", "پرداخت", "ساعت", "تخفیف", "پیگیری", "ثبت‌نام"):
        assert word in topics, word
    assert all(e.questions and e.answer for e in entries)


def test_import_is_idempotent(store: Store) -> None:
    entries = kb.read_jsonl(paths.demo_kb_path())
    with store.write() as db:
        assert kb.upsert(db, entries, "t1") == len(entries)
    with store.write() as db:
        assert kb.upsert(db, entries, "t2") == 0
        assert kb.count(db) == len(entries)
    entries[0].answer += " (updated)"
    with store.write() as db:
        assert kb.upsert(db, entries, "t3") == 1
    row = store.read().execute("SELECT answer, created_at, updated_at FROM kb_entries WHERE id = ?",
                               [entries[0].id]).fetchone()
    assert row["answer"].endswith("(updated)") and (row["created_at"], row["updated_at"]) == ("t1", "t3")


@pytest.mark.parametrize("bad_line, reason", [
    ("{not json", "not valid JSON"),
    (json.dumps({"id": "x", "lang": "en", "questions": ["q"]}), "missing answer"),
    (json.dumps({"id": "x", "lang": "de", "answer": "a", "questions": ["q"]}), "lang must be"),
    (json.dumps({"id": "kb-1", "lang": "en", "answer": "a", "questions": ["q"]}), "duplicate id"),
    (json.dumps(["a list"]), "expected an object"),
])
def test_bad_file_names_the_line_and_changes_nothing(tmp_path: Path, store: Store, bad_line: str, reason: str) -> None:
    good = json.dumps({"id": "kb-1", "lang": "en", "answer": "We open at 9.", "questions": ["hours?"]})
    path = tmp_path / "kb.jsonl"
    path.write_text(good + "\n\n" + bad_line + "\n", encoding="utf-8")
    with pytest.raises(kb.EntryError) as err:
        kb.read_jsonl(path)
    assert err.value.where == "kb.jsonl line 3" and reason in str(err.value)
    assert kb.count(store.read()) == 0
