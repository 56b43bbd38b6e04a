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


def test_seven_days_saturday_first_and_back_to_the_same_text() -> None:
    """The admin edits the hours as seven days; settings.toml keeps the readable text."""
    days = hours.week(SPEC)
    assert [d for d, _ in days] == ["sat", "sun", "mon", "tue", "wed", "thu", "fri"]
    assert (
        days[0] == ("sat", [("09:00", "18:00")]) and days[5] == ("thu", [("09:00", "13:00")]) and days[6] == ("fri", [])
    )
    periods = {d: tuple((hours.minutes(a), hours.minutes(b)) for a, b in p) for d, p in days}
    assert hours.spec(periods) == SPEC
    assert hours.spec({}) == ""  # closed all week: the promise says "soon"


def test_split_hours_a_midday_break() -> None:
    """Two periods a day, as many Iranian shops keep: closed 13:00-16:00."""
    s = hours.parse("sat-wed 09:00-13:00, 16:00-20:00")
    sunday = datetime(2026, 11, 22, tzinfo=UTC)  # Tehran is UTC+3:30
    at = lambda h, m: sunday.replace(hour=h, minute=m)  # noqa: E731
    assert s.is_open(at(6, 0)) and not s.is_open(at(10, 0)) and s.is_open(at(13, 0))  # 09:30, 13:30, 16:30
    assert s.next_opening(at(10, 0)).strftime("%a %H:%M") == "Sun 16:00"
    assert hours.promise(s, at(10, 0), "fa") == "وقتی فروشگاه باز شود، یکشنبه ساعت ۱۶:۰۰"
    assert hours.week("sat-wed 09:00-13:00, 16:00-20:00")[0] == ("sat", [("09:00", "13:00"), ("16:00", "20:00")])


def test_open_until_midnight_and_the_night_after() -> None:
    """Closing at 00:00 is midnight; past midnight is said as the next day from 00:00. A day
    closing before it opens (18:00-09:00: a swapped pair far likelier than a night shift) is
    refused with how to say it."""
    s = hours.parse("thu 18:00-00:00; fri 00:00-02:00")
    thursday_late = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)  # Thursday 23:30 Tehran
    friday_early = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)  # Friday 01:30 Tehran
    assert s.is_open(thursday_late) and s.is_open(friday_early)
    assert not s.is_open(datetime(2026, 11, 26, 23, 0, tzinfo=UTC))  # Friday 02:30
    with pytest.raises(hours.HoursError) as refused:
        hours.day_periods([("18:00", "09:00")])
    assert refused.value.key == "hours.backwards"
    from appliance import i18n

    said = i18n.refusal("fa", refused.value)
    assert "۰۰:۰۰" in said and "روز بعد" in said


@pytest.mark.parametrize(
    "periods, key",
    [
        ([("۲۵:۰۰", "۲۶:۰۰")], "hours.bad_time"),
        ([("9:75", "18:00")], "hours.bad_time"),
        ([("09:00", "13:00"), ("12:00", "18:00")], "hours.overlap"),
        ([("09:00", "10:00"), ("11:00", "12:00"), ("13:00", "14:00")], "hours.too_many"),
    ],
)
def test_a_day_s_periods_are_checked(periods, key) -> None:
    with pytest.raises(hours.HoursError) as refused:
        hours.day_periods(periods)
    assert refused.value.key == key


def test_times_in_persian_digits() -> None:
    assert hours.day_periods([("۰۹:۳۰", "۱۸:۰۰")]) == ((570, 1080),)
    assert hours.minutes("9") == 540 and hours.minutes("۹:۰۵") == 545
    assert hours.parse("sat ۰۹:۰۰-۱۸:۰۰").windows == {5: ((540, 1080),)}


def test_a_hand_over_agrees_with_the_header_when_the_owner_is_online() -> None:
    """The widget's header said someone was online while the hand-over said the reply comes
    Saturday 09:00: with the owner online, the hand-over says a person answers shortly (even
    after hours, even with a fixed reply time); away, it says when the shop opens."""
    import asyncio

    from appliance.answering.compose import Composer
    from appliance.answering.decide import Decision

    late = datetime(2026, 11, 26, 16, 0, tzinfo=UTC)  # Thursday 19:30 Tehran: closed
    schedule = hours.parse(SPEC)
    online = [True]
    for fixed in ("", "by tomorrow noon"):
        composer = Composer(
            None,
            phrase_with_model=False,
            model_languages=("en",),
            shop_name="Book Nook",
            typical_reply_time=fixed,
            reply_promise=lambda lang: hours.promise(schedule, late, lang),
            person_online=lambda: online[0],
        )

        def hand_over(lang: str, question: str, composer: Composer = composer) -> str:
            decision = Decision("escalate", "asked_for_person", lang, question)
            return asyncio.run(composer.compose(decision, question)).text

        online[0] = True
        said = hand_over("en", "I want to talk to a real person")
        assert "within a few minutes" in said and "Saturday" not in said and "tomorrow" not in said
        persian = hand_over("fa", "می‌خواهم با یک آدم واقعی صحبت کنم")
        assert "همین چند دقیقه‌ی دیگر" in persian and "شنبه" not in persian
        online[0] = False
        away = hand_over("en", "I want to talk to a real person")
        assert ("by tomorrow noon" if fixed else "when we open, Saturday at 09:00") in away
