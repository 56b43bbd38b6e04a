"""Business hours with the Friday weekend and Jalali holidays, and the promise made to customers."""

from datetime import UTC, datetime

import pytest

from appliance.conversations import hours

SPEC = "sat-wed 09:00-18:00; thu 09:00-13:00"
TEHRAN_NOON_SUNDAY = datetime(2026, 11, 22, 8, 30, tzinfo=UTC)  # Sunday 12:00 in Tehran


def test_open_and_closed() -> None:
    s = hours.parse(SPEC)
    assert s.is_open(TEHRAN_NOON_SUNDAY)
    friday = datetime(2026, 11, 27, 8, 30, tzinfo=UTC)
    assert not s.is_open(friday)  # the weekend
    thursday_afternoon = datetime(2026, 11, 26, 11, 30, tzinfo=UTC)  # 15:00 Tehran
    assert not s.is_open(thursday_afternoon)
    # Thursday 15:00 -> next opening is Saturday 09:00 (Friday closed)
    opening = s.next_opening(thursday_afternoon)
    assert (opening.strftime("%a %H:%M")) == "Sat 09:00"


def test_holidays_are_skipped() -> None:
    # 1405/09/01 is Sunday 2026-11-22
    s = hours.parse(SPEC, holidays=("1405-09-01",))
    assert not s.is_open(TEHRAN_NOON_SUNDAY)
    assert s.next_opening(TEHRAN_NOON_SUNDAY).strftime("%Y-%m-%d %H:%M") == "2026-11-23 09:00"


def test_the_promise_in_both_languages() -> None:
    s = hours.parse(SPEC)
    assert hours.promise(s, TEHRAN_NOON_SUNDAY, "en") == "usually within the hour"
    late = datetime(2026, 11, 26, 16, 0, tzinfo=UTC)  # Thursday 19:30 Tehran
    assert hours.promise(s, late, "en") == "when we open, Saturday at 09:00"
    assert hours.promise(s, late, "fa") == "وقتی فروشگاه باز شود، شنبه ساعت ۰۹:۰۰"
    assert hours.promise(hours.parse(""), late, "fa") == "به‌زودی"  # never open


def test_every_day_is_named_in_both_languages() -> None:
    """The names come from the catalogs (weekday.long.*), as the sentences do."""
    s = hours.parse("mon-sun 09:00-10:00")
    names = {}
    for offset in range(7):
        now = datetime(2026, 11, 23 + offset, 8, 0, tzinfo=UTC)  # 11:30 Tehran, Monday first
        names[hours.DAYS[offset]] = (hours.promise(s, now, "en"), hours.promise(s, now, "fa"))
    assert names["mon"] == ("when we open, Tuesday at 09:00", "وقتی فروشگاه باز شود، سه‌شنبه ساعت ۰۹:۰۰")
    assert names["fri"][0] == "when we open, Saturday at 09:00"
    assert len({en for en, _ in names.values()}) == len({fa for _, fa in names.values()}) == 7


@pytest.mark.parametrize("spec", ["saturday 9-18", "sat-xyz 09:00-18:00", "sat 18:00-09:00"])
def test_bad_specs_are_explained(spec: str) -> None:
    with pytest.raises(hours.HoursError):
        hours.parse(spec)
    with pytest.raises(hours.HoursError, match="Jalali"):
        hours.parse(SPEC, holidays=("2026/01/01",))


def test_the_escalation_reply_uses_the_business_hours(data_dir) -> None:
    import asyncio

    from appliance.db import Store
    from appliance.settings import Settings
    from appliance.web.services import build_chat

    late = datetime(2026, 11, 26, 16, 0, tzinfo=UTC)  # Thursday 19:30 Tehran
    store = Store(data_dir / "appliance.db")
    store.migrate()
    chat = build_chat(Settings(data_dir=data_dir, model="none", shop_name="Book Nook"), store, None, lambda: late)

    async def go():
        return await chat.reply(chat.conversations.start(), "I want to talk to a real person")

    turn = asyncio.run(go())
    assert "when we open, Saturday at 09:00" in turn.reply.text
    fixed = build_chat(
        Settings(data_dir=data_dir, model="none", typical_reply_time="by tomorrow noon"), store, None, lambda: late
    )

    async def go_fixed():
        return await fixed.reply(fixed.conversations.start(), "I want to talk to a real person")

    assert "by tomorrow noon" in asyncio.run(go_fixed()).reply.text
    store.close()
