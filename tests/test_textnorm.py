import pytest

from appliance.text.textnorm import detect_language, normalize, words


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("كتاب", "کتاب"),  # Arabic kaf -> Persian
        ("علي", "علی"),  # Arabic yeh -> Persian
        ("مدرسة", "مدرسه"),  # teh marbuta
        ("مى‌خواهم", "میخواهم"),  # alef maksura; ZWNJ after the verb prefix
        ("نمی خواهم", "نمیخواهم"),
        ("کتاب‌های خوب", "کتابهای خوب"),  # plural suffix joined
        ("خانه ای", "خانه ای"),  # a lone word is left alone
        ("كِتَابٌ", "کتاب"),  # harakat stripped
        ("کتـــاب", "کتاب"),  # tatweel
        ("۱۲۳٬۴۵۶ تومان", "123,456 تومان"),  # Persian digits and thousands separator
        ("٣ تا ٥ روز", "3 تا 5 روز"),  # Arabic-Indic digits
        ("\u202bسلام\u202c", "سلام"),  # bidi embedding marks
        ("Hello  WORLD", "hello world"),
        ("ﻛﺘﺎب", "کتاب"),  # presentation forms (NFKC)
        ("چطور؟", "چطور?"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    "forms",
    [
        ["کتاب‌ها", "کتاب ها", "کتابها", "کتاب\u200cها"],
        ["می‌کشد", "می کشد", "میکشد", "مي‌كشد"],
        ["بزرگ‌ترین", "بزرگ ترین", "بزرگترین"],
    ],
)
def test_zwnj_variants_meet(forms: list[str]) -> None:
    assert len({normalize(f) for f in forms}) == 1


def test_words_after_normalising() -> None:
    assert words("نمی‌خواهم کتاب‌ها را، لطفاً") == ["نمیخواهم", "کتابها", "را", "لطفا"]


@pytest.mark.parametrize(
    "text, lang",
    [
        ("سلام، هزینه ارسال چقدر است؟", "fa"),
        ("how much is shipping?", "en"),
        ("سفارش STUDENT10 کار نمی‌کند", "fa"),
        ("12345", "fa"),
    ],
)
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text, default="fa") == lang


def test_times_in_the_owners_calendar() -> None:
    from appliance.i18n import when

    stored = "2026-11-22T08:00:00+00:00"
    assert when(stored, "fa", "Asia/Tehran") == "۱۴۰۵/۰۹/۰۱ ۱۱:۳۰"  # Jalali, Tehran time, Persian digits
    assert when(stored, "en", "Asia/Tehran") == "2026-11-22 11:30"
    assert when(stored, "en", "Not/AZone") == "2026-11-22 08:00"  # a bad zone shows UTC, not an error
    assert when("not a date", "fa") == "not a date"
