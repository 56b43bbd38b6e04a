"""Proactive messages: the owner's triggers in the admin (Persian typed in, Persian digits), what
the widget is given, the server's word on whether one may be shown (the owner's limit, nothing
more that day after a visitor closed one), and each trigger's figures. The real app on a real
SQLite file; the widget's side runs in Chromium (tests/test_widget_browser.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from appliance.conversations import triggers
from appliance.owner import account as owner

from .helpers import Clock, bearer, make_api_client, password_hash, post, send, sign_in, start_chat

VISITOR = "v-0123456789abcdef"


def _trigger(c, **form: str) -> int:
    data = {
        "name": "کتاب هدیه",
        "message_fa": "دنبال هدیه می‌گردید؟ بپرسید تا کمک کنم.",
        "message_en": "Looking for a gift? Ask me.",
        "page": "/books/*",
        "seconds": "۱۵",  # typed on a Persian keyboard
        "scroll": "۵۰",
        "visitors": "all",
        "lang": "",
        "hours": "any",
        "every_days": "1",
        "enabled": "on",
        **form,
    }
    r = post(c, "/admin/triggers/new", data=data)
    assert r.status_code == 200 and r.headers.get("hx-redirect") == "/admin/triggers", r.text
    return max(t.id or 0 for t in triggers.all_triggers(c.app.state.services.store.read()))


def _client(data_dir: Path, demo_db: Path, clock: Clock, **settings):
    return make_api_client(data_dir, demo_db, clock, **settings)


def test_the_owner_makes_edits_and_turns_off_a_trigger_in_persian(data_dir: Path, demo_db: Path) -> None:
    with make_api_client(data_dir, demo_db) as c:
        owner.set_password(c.app.state.services.store, password_hash(), lambda: Clock()())
        sign_in(c)
        trigger_id = _trigger(c)
        saved = triggers.get(c.app.state.services.store.read(), trigger_id)
        assert saved is not None and (saved.seconds, saved.scroll, saved.name) == (15, 50, "کتاب هدیه")
        page = c.get("/admin/triggers?lang=fa").text
        assert "کتاب هدیه" in page and "دنبال هدیه می‌گردید؟" in page and "پس از ۱۵ ثانیه" in page
        # refused with the reason in Persian, and what was typed is kept
        r = post(
            c,
            f"/admin/triggers/{trigger_id}",
            data={"name": "کتاب هدیه", "message_fa": "", "message_en": "", "lang": "fa"},
        )
        assert r.status_code == 422 and "پیام را دست‌کم" in r.text and 'value="کتاب هدیه"' in r.text
        r = post(
            c,
            f"/admin/triggers/{trigger_id}",
            data={"name": "x", "message_en": "hi", "seconds": "یک", "every_days": "1"},
        )
        assert r.status_code == 422 and "ثانیه‌ها عددی" in r.text
        r = post(c, f"/admin/triggers/{trigger_id}", data={"name": "x", "message_en": "hi", "script_name": "<b>"})
        assert r.status_code == 422
        post(c, f"/admin/triggers/{trigger_id}/enabled", data={"on": "0"})
        assert c.get("/api/v1/triggers?lang=fa").json()["triggers"] == []
        post(c, f"/admin/triggers/{trigger_id}/delete")
        assert triggers.get(c.app.state.services.store.read(), trigger_id) is None
        assert c.get("/admin/triggers/999").status_code == 404


def test_the_widget_gets_the_triggers_for_its_language_and_the_hour(data_dir: Path, demo_db: Path) -> None:
    # 2026-11-22 08:00 UTC is a Sunday, 11:30 in Tehran: the shop is open
    clock = Clock()
    with _client(data_dir, demo_db, clock) as c:
        owner.set_password(c.app.state.services.store, password_hash(), clock)
        sign_in(c)
        anywhere = _trigger(c, name="all", page="", seconds="0", scroll="0")
        english = _trigger(c, name="en only", lang="en", message_fa="")
        closed = _trigger(c, name="after hours", hours="closed")
        script = _trigger(c, name="checkout", script_name="checkout-help")
        fa = {t["id"]: t for t in c.get("/api/v1/triggers?lang=fa").json()["triggers"]}
        assert set(fa) == {anywhere, script} and fa[script]["script"] == "checkout-help"
        assert "text" not in fa[anywhere] and "message_fa" not in fa[anywhere]  # the words come with "shown"
        assert {t["id"] for t in c.get("/api/v1/triggers?lang=en").json()["triggers"]} == {anywhere, english, script}
        clock.now += timedelta(hours=12)  # 23:30 in Tehran
        assert closed in {t["id"] for t in c.get("/api/v1/triggers?lang=fa").json()["triggers"]}


def test_shown_at_most_as_often_as_the_owner_allows_and_never_after_a_close_that_day(
    data_dir: Path, demo_db: Path
) -> None:
    clock = Clock()
    with _client(data_dir, demo_db, clock) as c:
        owner.set_password(c.app.state.services.store, password_hash(), clock)
        sign_in(c)
        daily = _trigger(c, name="daily", every_days="1")
        weekly = _trigger(c, name="weekly", every_days="7")
        fresh = _trigger(c, name="only once", every_days="0")

        def shown(trigger_id: int, visitor: str = VISITOR) -> dict:
            r = c.post(f"/api/v1/triggers/{trigger_id}/shown", json={"visitor_id": visitor, "lang": "fa"})
            assert r.status_code == 200, r.text
            return r.json()

        first = shown(daily)
        assert first == {"show": True, "text": "دنبال هدیه می‌گردید؟ بپرسید تا کمک کنم."}
        assert shown(daily)["show"] is False  # once a day
        clock.now += timedelta(days=1, minutes=1)
        assert shown(daily)["show"] is True
        assert shown(weekly)["show"] is True
        clock.now += timedelta(days=2)
        assert shown(weekly)["show"] is False  # once a week
        # a visitor who closes one sees none again that day (the shop's day), of any trigger
        clock.now = clock.now.replace(hour=19, minute=0)  # 22:30 in Tehran
        assert shown(daily)["show"] is True
        assert c.post(f"/api/v1/triggers/{daily}/closed", json={"visitor_id": VISITOR}).json() == {"saved": True}
        assert shown(fresh)["show"] is False
        clock.now += timedelta(hours=1)  # 23:30 in Tehran: still that day
        assert shown(fresh)["show"] is False
        clock.now += timedelta(hours=1)  # 00:30 in Tehran: the next day
        assert shown(fresh)["show"] is True
        clock.now += timedelta(days=40)
        assert shown(fresh)["show"] is False  # "only once" is once
        # another visitor is counted on their own; a made-up id or trigger is refused
        assert shown(weekly, "v-another-visitor-1")["show"] is True
        assert shown(fresh, "v-another-visitor-1")["show"] is True
        assert c.post(f"/api/v1/triggers/{daily}/shown", json={"visitor_id": "<x>"}).status_code == 422
        assert c.post("/api/v1/triggers/424242/shown", json={"visitor_id": VISITOR}).status_code == 404
        assert c.post(f"/api/v1/triggers/{daily}/clicked", json={"visitor_id": VISITOR}).status_code == 404
        # an event for a trigger never shown to this visitor isn't counted
        assert c.post(f"/api/v1/triggers/{daily}/opened", json={"visitor_id": "v-never-shown-99"}).json() == {
            "saved": False
        }


def test_a_reply_to_a_proactive_message_is_in_the_conversation_and_its_figures(data_dir: Path, demo_db: Path) -> None:
    clock = Clock()
    with _client(data_dir, demo_db, clock) as c:
        owner.set_password(c.app.state.services.store, password_hash(), clock)
        sign_in(c)
        trigger_id = _trigger(c, name="shipping help", message_en="Questions about delivery? Ask me.")
        for n, (visitor, question) in enumerate(
            [
                ("v-customer-one-1", "How long does delivery to Shiraz take?"),
                ("v-customer-two-2", "zxqv plorbnik wubwub"),
                ("v-customer-three", None),
            ]
        ):
            assert c.post(f"/api/v1/triggers/{trigger_id}/shown", json={"visitor_id": visitor, "lang": "en"}).json()[
                "show"
            ]
            if question is None:
                c.post(f"/api/v1/triggers/{trigger_id}/closed", json={"visitor_id": visitor})
                continue
            c.post(f"/api/v1/triggers/{trigger_id}/opened", json={"visitor_id": visitor})
            conv, token, _ = start_chat(c, "en")
            body = {"trigger_id": trigger_id, "visitor_id": visitor, "lang": "en"}
            first = c.post(f"/api/v1/conversations/{conv}/proactive", json=body, headers=bearer(token)).json()
            assert first["message_id"]
            again = c.post(f"/api/v1/conversations/{conv}/proactive", json=body, headers=bearer(token)).json()
            assert again["message_id"] is None  # once per showing
            clock.now += timedelta(seconds=5 + n)
            send(c, conv, token, question)
            history = c.get(f"/api/v1/conversations/{conv}/messages", headers=bearer(token)).json()["messages"]
            assert [m["role"] for m in history[:2]] == ["bot", "customer"]
            assert history[0]["text"] == "Questions about delivery? Ask me."
        # someone else's conversation can't be used
        _, stranger, _ = start_chat(c, "en")
        r = c.post(
            f"/api/v1/conversations/{conv}/proactive",
            json={"trigger_id": trigger_id, "visitor_id": "v-customer-one-1"},
            headers=bearer(stranger),
        )
        assert r.status_code == 404

        from appliance.reports import analytics

        (row,) = analytics.trigger_figures(c.app.state.services.store, clock(), 30)
        assert (row.shown, row.opened, row.closed, row.replied, row.answered, row.handover) == (3, 2, 1, 2, 1, 1)
        page = c.get("/admin/analytics?lang=en").text
        assert "shipping help" in page and "Handed over" in page
        assert "shipping help" in c.get("/admin/triggers?lang=fa").text


def test_retention_forgets_old_trigger_events(data_dir: Path, demo_db: Path) -> None:
    from appliance.conversations import privacy
    from appliance.db import Store

    store = Store(data_dir / "appliance.db")
    store.migrate()
    clock = Clock()
    trigger = triggers.Trigger(name="t", message_en="hi", id=None)
    trigger.id = triggers.save(store, trigger, clock().isoformat())
    assert triggers.may_show(store, trigger, VISITOR, clock(), "Asia/Tehran")
    privacy.purge_old(store, clock() + timedelta(days=40), 30)
    assert triggers.counts(store.read(), "") == {}
    # kept for ever (retention_days = 0), the events still go after half a year
    assert triggers.may_show(store, trigger, "v-second-visitor", clock(), "Asia/Tehran")
    privacy.purge_old(store, clock() + timedelta(days=100), 0)
    assert triggers.counts(store.read(), "")[trigger.id]["shown"] == 1
    privacy.purge_old(store, clock() + timedelta(days=181), 0)
    assert triggers.counts(store.read(), "") == {}
    store.close()


def test_one_address_is_shown_at_most_the_shops_daily_number_however_many_visitors(
    data_dir: Path, demo_db: Path
) -> None:
    """Each showing is a row written: made-up visitor ids from one address stop at the setting
    (proactive_shown_per_address_per_day)."""
    clock = Clock()
    with _client(data_dir, demo_db, clock, proactive_shown_per_address_per_day=3) as c:
        owner.set_password(c.app.state.services.store, password_hash(), clock)
        sign_in(c)
        daily = _trigger(c, name="daily", every_days="1")
        codes = [
            c.post(f"/api/v1/triggers/{daily}/shown", json={"visitor_id": f"v-made-up-visitor-{i}"}).status_code
            for i in range(5)
        ]
        assert codes == [200, 200, 200, 429, 429]
