"""Latin runs in Persian text (issue #30): a phone number, an address or an order code in a
right-to-left sentence is isolated left to right where it is shown, or "+98 21 1234 5678" reads
"5678 1234 21 98+"; so is a Latin phrase ("Galaxy A54", not "A54" alone) and each item of a
Persian list («S، M، L»). The rule (appliance/text/bidi.py), the chat's copy of it, and the
admin's pages that show customers' and owners' words."""

from __future__ import annotations

import json
import re
import string
import time
import unicodedata
from pathlib import Path

import pytest
from litestar.testing import TestClient
from markupsafe import Markup

from appliance.text.bidi import (
    _LTR_LETTERS,
    _RTL_LETTERS,
    PATTERN,
    RTL_PATTERN,
    RTL_TEXT_PATTERN,
    ltr_runs,
    reads_right_to_left,
    runs,
)

from .helpers import SAME, csrf, send, sign_in, start_chat

ROOT = Path(__file__).resolve().parents[1]


def found(text: str) -> list[str]:
    return [text[start:end] for start, end in runs(text)]


@pytest.mark.parametrize(
    ("text", "run"),
    [
        ("با شماره +98 21 1234 5678 تماس بگیرید.", "+98 21 1234 5678"),
        ("تلفن فروشگاه 021-12345678 است", "021-12345678"),
        ("موبایل: 0912 123 4567، ساعت ۹ تا ۱۸", "0912 123 4567"),
        ("شماره من ۰۹۱۲ ۱۲۳ ۴۵۶۷ است", "۰۹۱۲ ۱۲۳ ۴۵۶۷"),
        ("با +۹۸ ۲۱ ۱۲۳۴ ۵۶۷۸ تماس بگیرید", "+۹۸ ۲۱ ۱۲۳۴ ۵۶۷۸"),
        ("شماره ٠٩١٢١٢٣٤٥٦٧ را گرفتم", "٠٩١٢١٢٣٤٥٦٧"),  # Arabic-Indic digits
        ("تلفن (021) 1234 5678 از ۹ صبح", "(021) 1234 5678"),
        ("از خارج 0098 21 88776655 بگیرید", "0098 21 88776655"),
    ],
)
def test_a_phone_number_is_one_run_with_its_plus(text: str, run: str) -> None:
    assert found(text) == [run]


def test_addresses_paths_and_codes_are_runs() -> None:
    assert found("ایمیل پشتیبانی support@ketab.ir است.") == ["support@ketab.ir"]  # the full stop is the sentence's
    assert found("صفحه‌ی https://ketab.ir/books/، را ببینید") == ["https://ketab.ir/books/"]
    assert found("سایت ما www.ketab.ir است") == ["www.ketab.ir"]
    assert found("صفحه: */books/") == ["*/books/"]
    assert found("کد پیگیری 12-34-AB و شماره سفارش ORD-1402-77 را بفرستید") == ["12-34-AB", "ORD-1402-77"]
    assert found("سفارش #A123 ثبت شد") == ["#A123"]


def test_a_bracket_outside_a_phone_number_stays_outside() -> None:
    """A run with one bracket of a pair in it would show the other one mirrored beside it."""
    assert found("با ما تماس بگیرید (0912 123 4567)") == ["0912 123 4567"]


@pytest.mark.parametrize(
    "text",
    [
        "ارسال ۳ تا ۵ روز کاری طول می‌کشد و هزینه‌اش ۴۵٬۰۰۰ تومان است.",
        "ساعت کاری ۰۹:۰۰ تا ۱۸:۰۰، از ۱۴۰۵/۰۹/۰۱",
        "سال ۱۴۰۲ بود و ۲ ساعت منتظر ماندم",
        "پاوربانک را در ۳۰۰۰۰ نداریم. این‌ها را داریم: 10000 میلی‌آمپر، 20000 میلی‌آمپر",
        "</script> و and/or",  # an English text: its words bare
    ],
)
def test_numbers_dates_and_words_are_left_alone(text: str) -> None:
    assert found(text) == []


# -- Latin phrases in a Persian text -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "run"),
    [
        ("قاب سیلیکونی (Galaxy A54)", ["Galaxy A54"]),  # "A54" alone swapped with "Galaxy"
        ("نسخه‌ی iPhone 13 Pro را داریم", ["iPhone 13 Pro"]),
        ("کابل شارژ USB-C انکر", ["USB-C"]),
        ("گوشی Redmi Note 12 موجود است.", ["Redmi Note 12"]),  # the full stop is the sentence's
        ("قاب Galaxy A54 برای 12-34-AB", ["Galaxy A54", "12-34-AB"]),
        ("کتاب‌های Café Müller و Node.js", ["Café Müller", "Node.js"]),
        ("قیمت Galaxy A54 1,800,000 تومان است", ["Galaxy A54 1,800,000"]),
        ("پیام خطا: Payment failed, please try again. بعد چه کنم؟", ["Payment failed, please try again"]),
        ("با Support Team به support@ketab.ir بنویسید", ["Support Team", "support@ketab.ir"]),
        ("سفارش #A123 و ORD-۱۴۰۲-77 ثبت شد", ["#A123", "ORD-۱۴۰۲-77"]),  # codes with Persian digits
        ("صفحه‌ی https://ketab.ir/books/، و */books/", ["https://ketab.ir/books/", "*/books/"]),
        ("iPhone ۱۳ را داریم؟ نه، ولی Galaxy ۵۴ را", ["iPhone", "Galaxy"]),  # Persian digits: the sentence's
    ],
)
def test_a_latin_phrase_in_a_persian_text_is_one_run(text: str, run: list[str]) -> None:
    assert found("سلام، " + text) == run


@pytest.mark.parametrize(
    ("text", "items"),
    [
        ("این‌ها را داریم: S، M، L", ["S", "M", "L"]),
        ("قاب سیلیکونی را در A24 نداریم. این‌ها را داریم: Galaxy A54، iPhone 13", ["A24", "Galaxy A54", "iPhone 13"]),
        ("رنگ‌ها: Black؛ White؟ یا Space Gray", ["Black", "White", "Space Gray"]),
        ("سایز XL یا XXL", ["XL", "XXL"]),  # a Persian word between them
    ],
)
def test_persian_punctuation_and_words_end_a_run(text: str, items: list[str]) -> None:
    """Each item of a Persian list is its own run, read in its place from the right (between two
    Latin letters an Arabic comma took their direction and the list read L، M، S)."""
    assert found(text) == items


def test_a_phone_number_keeps_to_one_line_and_a_phrase_does_not() -> None:
    shown = ltr_runs("موبایل: 0912 123 4567، یا Call Center 0912 123 4567 و Galaxy A54")
    assert shown == Markup(
        'موبایل: <bdi dir="ltr" class="text-nowrap">0912 123 4567</bdi>، یا '
        '<bdi dir="ltr">Call Center 0912 123 4567</bdi> و <bdi dir="ltr">Galaxy A54</bdi>'
    )
    assert ltr_runs("این‌ها را داریم: S، M، L") == Markup(
        'این‌ها را داریم: <bdi dir="ltr">S</bdi>، <bdi dir="ltr">M</bdi>، <bdi dir="ltr">L</bdi>'
    )


@pytest.mark.parametrize(
    ("text", "rtl"),
    [
        ("این‌ها را داریم: S، M، L", True),
        ("۱۲ عدد iPhone", True),  # a digit is not a letter: the first letter is Persian
        ("12 iPhone عدد", False),
        ("\u200fiPhone 13", True),  # a right-to-left mark typed first
        ("\u200eسلام", False),
        ("«؟» Hello", True),  # ؟ is a right-to-left letter for bidi (AL), the Arabic comma is not
        ("، Hello", False),
        ("We don't carry پاوربانک شیائومی in 30000mAh.", False),
        ("iPhone 13 را داریم", False),  # as the pages' dir=auto decides: left to right
        ("Привет, سلام", False),
        ("שלום Hello", True),
        ("", False),
        ("۱۲۳ - ...", False),
    ],
)
def test_a_text_reads_right_to_left_when_its_first_letter_does(text: str, rtl: bool) -> None:
    assert reads_right_to_left(text) is rtl


def test_an_english_text_keeps_its_words_bare() -> None:
    """In a text that reads left to right Latin words are not runs: dir=auto skips isolates, so an
    English sentence cut into isolates took its direction from one Persian word in it."""
    assert found("Hello, how are you? Galaxy A54, iPhone 13 Pro") == ["A54"]  # a code, as before
    assert found("I ordered کتاب yesterday, where is it? Call 0912 123 4567") == ["0912 123 4567"]
    assert found("We have: S، M، L") == []


def _letters(cls: str) -> set[str]:
    chars, i = set(), 0
    cls = cls.encode().decode("unicode_escape")
    while i < len(cls):
        if i + 2 < len(cls) and cls[i + 1] == "-":
            chars |= {chr(c) for c in range(ord(cls[i]), ord(cls[i + 2]) + 1)}
            i += 3
        else:
            chars.add(cls[i])
            i += 1
    return chars


def test_the_letters_are_the_unicode_bidi_classes() -> None:
    """The classes are written out for JavaScript (no \\p{...} without the u flag): each of their
    characters is of its class, and the Persian block is there whole."""
    rtl, ltr = _letters(_RTL_LETTERS), _letters(_LTR_LETTERS)
    assigned = [c for c in rtl | ltr if unicodedata.category(c) != "Cn"]
    assert all(unicodedata.bidirectional(c) in (("R", "AL") if c in rtl else ("L",)) for c in assigned)
    block = {chr(c) for c in range(0x0600, 0x0700) if unicodedata.bidirectional(chr(c)) in ("R", "AL")}
    assert block <= rtl and set(string.ascii_letters) <= ltr
    assert not {"\u060c", "۱", "١", "0", " "} & (rtl | ltr)  # the Arabic comma and digits are weak


def test_ltr_runs_escapes_the_text_and_isolates_each_run() -> None:
    shown = ltr_runs('<img src=x onerror="alert(1)"> شماره +98 21 1234 5678 & ایمیل a&b@ketab.ir')
    assert isinstance(shown, Markup)
    assert shown == Markup(
        "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; شماره "
        '<bdi dir="ltr" class="text-nowrap">+98 21 1234 5678</bdi> &amp; ایمیل a&amp;<bdi dir="ltr">b@ketab.ir</bdi>'
    )
    # a URL's own & and quotes are escaped inside the run too
    assert ltr_runs("https://ketab.ir/?a=1&b=2") == Markup('<bdi dir="ltr">https://ketab.ir/?a=1&amp;b=2</bdi>')
    # what came as Markup is text here like anything else: nothing is ever unescaped
    assert ltr_runs(Markup("<b>0912 123 4567</b>")) == Markup(
        '&lt;b&gt;<bdi dir="ltr" class="text-nowrap">0912 123 4567</bdi>&lt;/b&gt;'
    )
    assert ltr_runs(None) == Markup("") and ltr_runs("سلام") == Markup("سلام")


def test_a_long_word_is_read_in_linear_time() -> None:
    """The searches start once a word: a 2,000-letter word took half a second, 20,000 letters 40 s.
    A phrase is read once too, in a Persian text (each 100,000 characters long: ~0.1 s each)."""
    started = time.perf_counter()
    for text in ("a" * 100_000, "x." * 50_000, "a@" * 50_000, "۱ " * 50_000):
        runs(text)
    for body in ("a " * 50_000, "a، " * 33_333, "a.b@" * 25_000, "1 a " * 25_000, "a-" * 50_000, "(1) " * 25_000):
        runs("س " + body)
    assert time.perf_counter() - started < 5


def test_the_chat_uses_the_same_rule() -> None:
    from appliance.web.widget import CHAT_STYLE_VERSION, CHAT_VERSION

    script = (ROOT / "static" / f"widget-{CHAT_VERSION}.js").read_text(encoding="utf-8")
    assert f'var LTR_RUN = new RegExp({json.dumps(PATTERN)}, "g");' in script
    assert f'var LTR_PHRASE = new RegExp({json.dumps(RTL_PATTERN)}, "g");' in script
    assert f"var RTL_TEXT = new RegExp({json.dumps(RTL_TEXT_PATTERN)});" in script
    assert (ROOT / "static" / f"widget-{CHAT_STYLE_VERSION}.css").exists()
    # written in what Python and JavaScript read alike (the chat's \d, \w, \s are ASCII only)
    for pattern in (PATTERN, RTL_PATTERN, RTL_TEXT_PATTERN):
        assert not re.search(r"\\[dwsbDWSBpP]|\(\?<|\(\?P", pattern)


# -- the admin's pages ------------------------------------------------------------------------------

PHONE = '<bdi dir="ltr" class="text-nowrap">+98 21 1234 5678</bdi>'


def test_the_admin_isolates_phones_in_the_kb_the_inbox_the_transcript_and_the_try_page(admin: TestClient) -> None:
    sign_in(admin)
    h = {**SAME, "x-csrf-token": csrf(admin), "hx-request": "true"}
    fa = "?lang=fa"
    answer = "برای سفارش تلفنی با شماره +98 21 1234 5678 تماس بگیرید یا به sales@ketab.ir بنویسید."
    r = admin.post(
        "/admin/kb/new" + fa,
        data={"title": "سفارش تلفنی", "questions": "سفارش تلفنی دارید؟", "answer": answer, "lang": "fa", "enabled": "on"},
        headers=h,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    r = admin.post(
        "/admin/kb/new" + fa,
        data={"title": "قاب سیلیکونی (Galaxy A54)", "questions": "قاب گلکسی دارید؟", "answer": "این‌ها را داریم: S، M، L",
              "lang": "fa", "enabled": "on"},
        headers=h,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    listing = admin.get("/admin/kb" + fa).text
    assert PHONE in listing and '<bdi dir="ltr">sales@ketab.ir</bdi>' in listing
    assert 'قاب سیلیکونی (<bdi dir="ltr">Galaxy A54</bdi>)' in listing
    assert 'داریم: <bdi dir="ltr">S</bdi>، <bdi dir="ltr">M</bdi>، <bdi dir="ltr">L</bdi>' in listing

    conv, token, _ = start_chat(admin, "fa")
    send(admin, conv, token, "می‌خوام با یه آدم واقعی حرف بزنم")
    send(admin, conv, token, "شماره من ۰۹۱۲ ۱۲۳ ۴۵۶۷ است، کد سفارش 12-34-AB")
    inbox = admin.get("/admin/inbox" + fa + "&view=all").text
    assert '<bdi dir="ltr" class="text-nowrap">۰۹۱۲ ۱۲۳ ۴۵۶۷</bdi>' in inbox

    # the owner typed a left-to-right mark before the number (it didn't help): the run is isolated
    r = admin.post(
        f"/admin/conversations/{conv}/reply" + fa, data={"text": "با \u200e+98 21 1234 5678 تماس بگیرید"}, headers=h
    )
    assert r.status_code == 200, r.text
    page = admin.get(f"/admin/conversations/{conv}" + fa).text
    assert f"با \u200e{PHONE} تماس بگیرید" in page
    assert '<bdi dir="ltr" class="text-nowrap">۰۹۱۲ ۱۲۳ ۴۵۶۷</bdi> است، کد سفارش <bdi dir="ltr">12-34-AB</bdi>' in page

    tried = admin.post("/admin/try" + fa, data={"question": "سفارش تلفنی دارید؟ شماره‌ام 0912 123 4567 است"}, headers=h)
    assert tried.status_code == 200 and '<bdi dir="ltr" class="text-nowrap">0912 123 4567</bdi>' in tried.text
    assert PHONE in tried.text  # the reply
