"""Analytics on a seeded database, checked against hand-computed values."""

import csv
import io
import json
from datetime import UTC, datetime

from litestar.testing import TestClient

from appliance.reports import analytics

from .helpers import sign_in

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def seed(store) -> None:
    """Three conversations:
    a (Sat 2026-11-21 09:00): 'hours?' answered by 'hours' in 0.5 s; rated satisfied.
    b (Sat 2026-11-21 22:00): 'kish?' escalated no_match at 22:00:01; owner replies 22:30:01 (30 min).
    c (Sun 2026-11-22 10:00): 'person' escalated asked_for_person at 10:00:02; owner replies 11:00:02 (60 min);
       then 'hours?' answered by 'hours' in 1.5 s; rated not satisfied.
    And one eval conversation that must not count."""
    with store.write() as db:
        db.execute(
            "INSERT INTO kb_entries (id, title, answer, lang, created_at, updated_at) "
            "VALUES ('hours', 'Opening hours', '9-18', 'en', 't', 't')"
        )
        for cid, at, channel, rating in (
            ("a", "2026-11-21T09:00:00", "widget", 1),
            ("b", "2026-11-21T22:00:00", "widget", None),
            ("c", "2026-11-22T10:00:00", "widget", 0),
            ("e", "2026-11-22T10:00:00", "eval", None),
        ):
            db.execute(
                "INSERT INTO conversations (id, channel, created_at, updated_at, rating) VALUES (?, ?, ?, ?, ?)",
                [cid, channel, at, at, rating],
            )

        def turn(cid, q_at, text, r_at, kind, reason, entries):
            m = db.execute(
                "INSERT INTO messages (conversation_id, role, text, created_at) VALUES (?, 'customer', ?, ?)",
                [cid, text, q_at],
            ).lastrowid
            r = db.execute(
                "INSERT INTO messages (conversation_id, role, text, created_at) VALUES (?, 'bot', 'x', ?)", [cid, r_at]
            ).lastrowid
            db.execute(
                "INSERT INTO decisions (conversation_id, message_id, reply_id, kind, reason, entry_ids, "
                "query, lang, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'en', ?)",
                [cid, m, r, kind, reason, json.dumps(entries), text, r_at],
            )

        turn("a", "2026-11-21T09:00:00", "hours?", "2026-11-21T09:00:00.500000", "answer", "confident", ["hours"])
        turn("b", "2026-11-21T22:00:00", "kish?", "2026-11-21T22:00:01", "escalate", "no_match", [])
        db.execute(
            "INSERT INTO messages (conversation_id, role, text, created_at) VALUES ('b', 'owner', 'yes', "
            "'2026-11-21T22:30:01')"
        )
        turn("c", "2026-11-22T10:00:00", "person", "2026-11-22T10:00:02", "escalate", "asked_for_person", [])
        db.execute(
            "INSERT INTO messages (conversation_id, role, text, created_at) VALUES ('c', 'owner', 'hi', "
            "'2026-11-22T11:00:02')"
        )
        turn("c", "2026-11-22T11:05:00", "hours?", "2026-11-22T11:05:01.500000", "answer", "confident", ["hours"])
        turn("e", "2026-11-22T10:00:00", "hours?", "2026-11-22T10:00:01", "answer", "confident", ["hours"])


def test_numbers_match_hand_computed_values(admin: TestClient) -> None:
    seed(admin.app.state.services.store)
    rep = analytics.report(admin.app.state.services.store, NOW.replace(tzinfo=None), days=7)
    assert rep.per_day[-2:] == [("2026-11-21", 2), ("2026-11-22", 1)] and sum(n for _, n in rep.per_day) == 3
    assert rep.decisions == {"answer": 2, "escalate": 2}
    assert rep.share("answer") == 0.5 and rep.share("clarify") == 0.0
    assert dict(rep.reasons) == {"no_match": 1, "asked_for_person": 1}
    # bot first response: 0.5, 1, 2, 1.5 s -> median 1.25, p90 = 1.5 + 0.7 * 0.5 = 1.85
    assert rep.bot_first_response_s[0] == 1.25 and round(rep.bot_first_response_s[1], 2) == 1.85
    # owner: 30 and 60 min -> median 45, p90 57
    assert rep.owner_reply_min[0] == 45.0 and round(rep.owner_reply_min[1], 1) == 57.0
    assert rep.csat == (1, 2)
    assert rep.top_entries == [("hours", "Opening hours", 2)]
    assert rep.heatmap[5][9] == 1 and rep.heatmap[5][22] == 1 and rep.heatmap[6][10] == 1 and rep.heatmap[6][11] == 1
    assert sum(map(sum, rep.heatmap)) == 4
    tehran = analytics.report(admin.app.state.services.store, NOW.replace(tzinfo=None), days=7, tz="Asia/Tehran")
    assert tehran.heatmap[5][12] == 1 and tehran.heatmap[6][1] == 1  # 09:00 UTC is 12:30; 22:00 Sat is 01:30 Sun


def test_page_and_csv_in_both_languages(admin: TestClient) -> None:
    seed(admin.app.state.services.store)
    admin.app.state.services.clock = lambda: NOW.replace(tzinfo=None)
    sign_in(admin)
    for lang, word in (("en", "Conversations per day"), ("fa", "گفتگو در هر روز")):
        page = admin.get(f"/admin/analytics?days=7&lang={lang}")
        assert page.status_code == 200 and word in page.text and "<svg" in page.text
        assert "<script" not in page.text.split("<main")[1]  # charts are SVG drawn by the server
    r = admin.get("/admin/analytics.csv?table=reasons&days=7")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["reason", "escalations"] and sorted(rows[1:]) == [["asked_for_person", "1"], ["no_match", "1"]]
    assert admin.get("/admin/analytics.csv?table=nope").status_code == 404


def test_the_persian_page_speaks_persian(admin: TestClient) -> None:
    """Weekdays were English from Monday, units Latin ("s", "min"), the heatmap had no hours and
    the chart no axis; shares of 1/3 each showed 33 + 33 + 33 = 99."""
    seed(admin.app.state.services.store)
    admin.app.state.services.clock = lambda: NOW.replace(tzinfo=None)
    sign_in(admin)
    page = admin.get("/admin/analytics?days=7&lang=fa").text
    heat = page[page.index('<svg class="heat-map"') :]
    days = [heat.index(f">{d}</text>") for d in ("شنبه", "یکشنبه", "دوشنبه", "سه‌شنبه", "چهارشنبه", "پنجشنبه", "جمعه")]
    assert days == sorted(days)  # Saturday first, in Persian
    assert ">Mon<" not in heat and ">۲۱</text>" in heat  # hours along the top, Persian digits
    assert "۱٫۲ ثانیه" in page and "۴۵ دقیقه" in page and " s<" not in page and " min<" not in page
    assert "بیشینه" in page and "۱۴۰۵/۰۹/۰۱" in page  # the chart's axis: its top value and Jalali days
    assert "۵۰٪" in page  # shares as the reader writes them
    report = analytics.Report(
        7,
        [],
        {"answer": 1, "clarify": 1, "escalate": 1},
        [],
        (None, None),
        (None, None),
        (0, 0),
        [],
        [[0] * 24 for _ in range(7)],
    )
    assert sum(report.percents().values()) == 100


def test_a_product_among_the_most_used_answers_is_named_and_links_to_the_catalog(admin: TestClient) -> None:
    """A product answer's id ("product:BOOF") showed as the id, linked to a knowledge-base entry
    that doesn't exist."""
    from appliance.catalog import formats
    from appliance.catalog import store as catalog_store

    from .helpers import WOO

    store = admin.app.state.services.store
    seed(store)
    table = formats.read_table(WOO.encode(), "wc.csv")
    with store.write() as db:
        catalog_store.replace_all(
            db, formats.build(table, table.mapping), source="wc.csv", kind="file", mapping={}, now="t"
        )
        db.execute(
            "INSERT INTO decisions (conversation_id, message_id, kind, reason, entry_ids, query, lang, created_at) "
            "VALUES ('a', 1, 'answer', 'product', ?, 'بوف کور دارین؟', 'fa', '2026-11-21T09:10:00')",
            [json.dumps(["product:BOOF"])],
        )
    rep = analytics.report(store, NOW.replace(tzinfo=None), days=7)
    assert ("product:BOOF", "بوف کور", 1) in rep.top_entries
    admin.app.state.services.clock = lambda: NOW.replace(tzinfo=None)
    sign_in(admin)
    page = admin.get("/admin/analytics?days=7&lang=fa").text
    assert '<a class="flex-grow-1" href="/admin/catalog?q=BOOF"><bdi>بوف کور</bdi></a>' in page
