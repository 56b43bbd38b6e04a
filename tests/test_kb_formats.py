import json
from pathlib import Path

import pytest

from appliance.db import Store
from appliance.kb import embedder
from appliance.kb import formats as kb_formats
from appliance.kb import store as kb
from appliance.kb.entry import Entry, EntryError

GOOD_CSV = (
    "id,title,questions,answer,lang,tags,enabled\n"
    'hours,Opening hours,"When are you open?\nAre you open on Friday?",We open 9-18 Saturday to Wednesday.,en,"hours, shop",true\n'
    "ship,ارسال,ارسال چند روز است؟ | هزینه ارسال,ارسال ۳ تا ۵ روز کاری است.,fa,,\n"
)

GOOD_MD = """lang: en
## Opening hours {#hours}
Q: When are you open?
Q: Are you open on Friday?

We open 9-18, Saturday to Wednesday.

Closed on Fridays.

## Gift wrapping
We wrap any book for 20,000 toman.
"""


def test_csv_import() -> None:
    entries = kb_formats.parse(GOOD_CSV.encode(), "kb.csv")
    assert [e.id for e in entries] == ["hours", "ship"]
    assert entries[0].questions == ["When are you open?", "Are you open on Friday?"]
    assert entries[0].tags == ["hours", "shop"]
    assert entries[1].questions == ["ارسال چند روز است؟", "هزینه ارسال"]


def test_markdown_import() -> None:
    entries = kb_formats.parse(GOOD_MD.encode(), "faq.md")
    assert [e.id for e in entries] == ["hours", "gift-wrapping"]
    assert entries[0].questions == ["When are you open?", "Are you open on Friday?"]
    assert entries[0].answer == "We open 9-18, Saturday to Wednesday.\n\nClosed on Fridays."
    assert all(e.lang == "en" for e in entries)


def test_markdown_detects_persian() -> None:
    entries = kb_formats.parse("## ساعت کاری\nشنبه تا چهارشنبه ۹ تا ۱۸\n".encode(), "faq.md")
    assert entries[0].lang == "fa" and entries[0].title == "ساعت کاری"


@pytest.mark.parametrize(
    "name, content, where, reason",
    [
        ("kb.csv", "id,answer\nx,y\n", "kb.csv row 1", "missing columns: lang"),
        ("kb.csv", "id,title,answer,lang\na,A,ok,en\nb,B,,en\n", "kb.csv row 3", "missing answer"),
        ("kb.csv", "id,title,answer,lang\na,A,ok,en\na,B,ok,en\n", "kb.csv row 3", "duplicate id"),
        ("kb.csv", "id,title,answer,lang\na,A,ok,en,extra\n", "kb.csv row 2", "more cells than columns"),
        ("kb.csv", "id,title,answer,lang\na,A,ok,xx\n", "kb.csv row 2", "lang must be"),
        ("faq.md", "intro text\n## A\nanswer\n", "faq.md line 1", "text before the first heading"),
        ("faq.md", "## A\nanswer\n## Empty\n\n", "faq.md line 3", "has no answer"),
        (
            "kb.jsonl",
            '{"id": "a", "lang": "en", "answer": "x", "questions": ["q"]}\n{"id": "b"',
            "kb.jsonl line 2",
            "not valid JSON",
        ),
        ("kb.txt", "whatever", "kb.txt", "unknown file type"),
    ],
)
def test_bad_files_name_the_place(name: str, content: str, where: str, reason: str) -> None:
    with pytest.raises(EntryError) as err:
        kb_formats.parse(content.encode(), name)
    assert err.value.where == where
    assert reason in err.value.reason


def test_not_utf8_is_rejected_with_its_line() -> None:
    data = b"id,title,answer,lang\n" + "a,é,x,en\n".encode("latin-1")
    with pytest.raises(EntryError) as err:
        kb_formats.parse(data, "kb.csv")
    assert err.value.where == "kb.csv line 2" and "UTF-8" in err.value.reason


def test_a_bad_file_changes_nothing(store: Store, tmp_path: Path) -> None:
    good = kb_formats.parse(GOOD_CSV.encode(), "kb.csv")
    kb.save(store, good, embedder=embedder.shared(), now="t0")
    before = kb_formats.export(kb.all_entries(store.read()), "jsonl")
    bad = GOOD_CSV.replace("We open 9-18", "We now open 8-20") + "broken,,,,zz\n"
    with pytest.raises(EntryError):
        kb.save(store, kb_formats.parse(bad.encode(), "kb.csv"), embedder=embedder.shared(), now="t1")
    assert kb_formats.export(kb.all_entries(store.read()), "jsonl") == before


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "md"])
def test_export_round_trip(fmt: str) -> None:
    entries = kb_formats.parse(GOOD_CSV.encode(), "kb.csv")
    entries[0].answer = "# Not a heading inside\nWe open 9-18."
    again = kb_formats.parse(kb_formats.export(entries, fmt).encode(), f"kb.{fmt}")
    for a, b in zip(entries, again, strict=False):
        assert (a.id, a.title, a.questions, a.lang) == (b.id, b.title, b.questions, b.lang)
        assert a.answer.replace("# Not", "Not") in b.answer.replace("# Not", "Not")
    if fmt != "md":
        assert [e.to_dict() for e in again] == [e.to_dict() for e in entries]


def test_eval_format_uses_intent_as_title() -> None:
    line = {
        "id": "kb-000",
        "intent": "account_blocked",
        "questions": ["why is my account frozen"],
        "answer": "We look into it. Reference code: KB-000-2473.",
        "marker": "KB-000-2473",
        "lang": "en",
    }
    [entry] = kb_formats.parse(json.dumps(line).encode(), "kb.jsonl")
    assert entry.title == "account blocked"


@pytest.mark.timeout(20)  # cubic backtracking took 32 s on this line at 500 spaces, hours at 5,000
def test_a_heading_built_to_backtrack_is_refused_at_once() -> None:
    for spaces in (350, 5000):
        with pytest.raises(EntryError, match="line 1"):
            kb_formats.parse(("# a" + " " * spaces + "x\nanswer\n").encode(), "evil.md")


def test_headings_with_ids_closing_hashes_and_persian_titles() -> None:
    entries = kb_formats.parse(
        "## Shipping {#ship} ##\nQ: how long?\nTwo days.\n\n# تعویض باتری\nسه روز\n".encode(), "faq.md"
    )
    assert [(e.id, e.title, e.questions) for e in entries] == [
        ("ship", "Shipping", ["how long?"]),
        ("taviz-batri", "تعویض باتری", []),  # ids are Latin: a Persian title is spelled in Latin letters
    ]


@pytest.mark.parametrize("bad", ["../inbox", "a/b", "x y", "سلام", "a" * 101, "id?x=1", "a%2fb"])
def test_an_id_outside_latin_letters_digits_dash_underscore_is_refused(bad: str) -> None:
    line = json.dumps({"id": bad, "title": "t", "answer": "a", "lang": "en"})
    with pytest.raises(EntryError, match="kb.jsonl line 2.*Latin letters"):
        kb_formats.parse(('{"id": "ok", "title": "t", "answer": "a", "lang": "en"}\n' + line).encode(), "kb.jsonl")
    if " " not in bad:  # "{#x y}" is no id in Markdown: it stays in the title
        with pytest.raises(EntryError, match="Latin letters"):
            kb_formats.parse(f"# Title {{#{bad}}}\nanswer\n".encode(), "faq.md")


def test_ids_made_from_titles_are_latin() -> None:
    assert kb_formats.slug("ساعت کاری") == "saat-kari"
    assert kb_formats.slug("هزینه‌ی ارسال ۲۰۲۶") == "hzinh-i-arsal-2026"
    assert kb_formats.slug("Café crème!") == "cafe-creme"
    assert kb_formats.slug("؟؟؟") == "entry"


def test_an_overlong_line_is_named() -> None:
    with pytest.raises(EntryError, match="line 2.*longer than"):
        kb_formats.parse(("# Title\n" + "x" * 30_000 + "\n").encode(), "big.md")


def test_csv_export_quotes_formulas_and_reimports_unchanged() -> None:
    evil = Entry(
        id="e1",
        title='=HYPERLINK("http://evil.example","click")',
        lang="en",
        answer="+1 555 0100 or -5% off, @home",
        questions=["=cmd|' /C calc'!A0", "how much?"],
    )
    text = kb_formats.export([evil], "csv")
    for cell in ("\"'=HYPERLINK", "'+1 555", "'=cmd|"):
        assert cell in text
    again = kb_formats.parse(text.encode(), "export.csv")
    assert again == [evil]
