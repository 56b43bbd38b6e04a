"""Latin runs in Persian text (issue #30): a phone number, an address or an order code in a
right-to-left sentence is isolated left to right where it is shown, or "+98 21 1234 5678" reads
"5678 1234 21 98+". The rule (appliance/text/bidi.py), the chat's copy of it, and the admin's
pages that show customers' and owners' words."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from litestar.testing import TestClient
from markupsafe import Markup

from appliance.text.bidi import PATTERN, ltr_runs, runs

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
        "نسخه‌ی iPhone 15 Pro را داریم",
        "سال ۱۴۰۲ بود و ۲ ساعت منتظر ماندم",
        "</script> و and/or",
    ],
)
def test_numbers_dates_and_words_are_left_alone(text: str) -> None:
    assert found(text) == []


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
    """The searches start once a word: a 2,000-letter word took half a second, 20,000 letters 40 s."""
    started = time.perf_counter()
    for text in ("a" * 100_000, "x." * 50_000, "a@" * 50_000, "۱ " * 50_000):
        runs(text)
    assert time.perf_counter() - started < 5


def test_the_chat_uses_the_same_rule() -> None:
    from appliance.web.widget import CHAT_VERSION

    script = (ROOT / "static" / f"widget-{CHAT_VERSION}.js").read_text(encoding="utf-8")
    assert f'var LTR_RUN = new RegExp({json.dumps(PATTERN)}, "g");' in script
    assert (ROOT / "static" / f"widget-{CHAT_VERSION}.css").exists()
    # written in what Python and JavaScript read alike (the chat's \d, \w, \s are ASCII only)
    assert not re.search(r"\\[dwsbDWSB]|\(\?<|\(\?P", PATTERN)


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
    listing = admin.get("/admin/kb" + fa).text
    assert PHONE in listing and '<bdi dir="ltr">sales@ketab.ir</bdi>' in listing

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
