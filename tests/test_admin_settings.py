"""The settings page: validated, written to settings.toml, applied at once."""

import json
import re
import tomllib

import pytest
from litestar.testing import TestClient

from appliance import settings as settings_mod
from appliance.web.widget import WIDGET_VERSION

from .helpers import (
    SAME,
    SETTINGS_FORM,
    csrf,
    sign_in,
)

FORM = SETTINGS_FORM
PERSIAN = {**SAME, "hx-request": "true", "hx-current-url": "http://testserver/admin/settings?lang=fa"}
ENGLISH = {**SAME, "hx-request": "true", "hx-current-url": "http://testserver/admin/settings?lang=en"}


def toast(r) -> str:
    """The "saved" toast the admin's script shows (core.toast: HX-Trigger)."""
    return json.loads(r.headers.get("hx-trigger") or "{}").get("appliance:toast", {}).get("text", "")


def shown(html: str) -> str:
    """The page's text as the owner reads it: no tags, no attributes."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)))


def test_page_in_both_languages(admin: TestClient) -> None:
    sign_in(admin)
    fa = admin.get("/admin/settings?lang=fa")
    assert fa.status_code == 200 and "نام فروشگاه" in fa.text and f"widget-loader-{WIDGET_VERSION}.js" in fa.text
    en = admin.get("/admin/settings?lang=en")
    assert "Shop name" in en.text and "applies after a restart" in en.text


def test_saving_validates_writes_and_applies(admin: TestClient, data_dir) -> None:
    sign_in(admin)
    headers = {**SAME, "x-csrf-token": csrf(admin)}
    r = admin.post("/admin/settings", data={**FORM, "smtp_password": "s3cret"}, headers=headers)
    assert r.status_code == 200 and toast(r) in ("Saved", "ذخیره شد")
    path = admin.app.state.services.settings.data_dir / "settings.toml"
    stored = tomllib.loads(path.read_text())
    assert stored["shop_name"] == "Book Nook 2" and stored["allowed_origins"] == [
        "https://a.example",
        "https://b.example",
    ]
    assert stored["show_sources"] is False  # an unticked box is saved as off
    assert path.stat().st_mode & 0o777 == 0o600 and "s3cret" not in r.text  # the password is never shown
    # applied at once: the widget's framing and greeting follow
    page = admin.get("/widget?lang=en")
    assert "frame-ancestors 'self' https://a.example https://b.example" in page.headers["content-security-policy"]
    assert "Book Nook 2" in page.text
    assert admin.app.state.services.chat.composer.phrase_budget_s == 0.5
    # an empty password box keeps the stored password
    admin.post("/admin/settings", data=FORM, headers=headers)
    assert tomllib.loads(path.read_text())["smtp_password"] == "s3cret"


def test_bad_values_are_refused_and_nothing_changes(admin: TestClient) -> None:
    sign_in(admin)
    path = admin.app.state.services.settings.data_dir / "settings.toml"
    before = path.read_text() if path.exists() else None
    r = admin.post(
        "/admin/settings", data={**FORM, "smtp_port": "twenty-five"}, headers={**SAME, "x-csrf-token": csrf(admin)}
    )
    assert r.status_code == 422 and "smtp_port" in r.text
    assert (path.read_text() if path.exists() else None) == before
    # Said in the owner's language, naming the field by its label; the hours too.
    persian = {**SAME, "x-csrf-token": csrf(admin), "hx-current-url": "http://testserver/admin/settings?lang=fa"}
    r = admin.post("/admin/settings", data={**FORM, "smtp_port": "بیست و پنج"}, headers=persian)
    assert r.status_code == 422 and "یک عدد صحیح بنویسید" in r.text and "invalid literal" not in r.text
    r = admin.post("/admin/settings", data={**FORM, "business_hours": "شنبه تا چهارشنبه ۹ تا ۱۸"}, headers=persian)
    assert r.status_code == 422 and "ساعت کاری «شنبه تا چهارشنبه ۹ تا ۱۸» خوانده نشد" in r.text
    # a product feed off the shop's own sites is refused when it is saved, not at its first fetch
    r = admin.post(
        "/admin/settings", data={**FORM, "catalog_feed_url": "https://evil.example/feed.csv"}, headers=persian
    )
    assert r.status_code == 422 and "«evil.example» جزو سایت‌های فروشگاه نیست" in r.text
    r = admin.post("/admin/settings", data={**FORM, "catalog_feed_url": "file:///etc/passwd"}, headers=persian)
    assert r.status_code == 422 and "نشانی معتبر نیست" in r.text
    english = {**persian, "hx-current-url": "http://testserver/admin/settings?lang=en"}
    r = admin.post("/admin/settings", data={**FORM, "timezone": "Mars/Olympus"}, headers=english)
    assert r.status_code == 422 and "unknown time zone “Mars/Olympus”" in r.text
    assert admin.app.state.services.settings.shop_name != "Book Nook 2"


@pytest.mark.slow  # fits a calibration or embeds a whole knowledge base: seconds
def test_the_answers_group_shows_the_shops_own_estimate_and_takes_persian_digits(admin: TestClient) -> None:
    from pathlib import Path

    from appliance.cli.evaluate import load_kb

    state = admin.app.state.services
    load_kb(state.store, Path(__file__).resolve().parents[1] / "appliance" / "demo" / "bookshop.jsonl")
    state.calibration.check()
    state.calibration.wait(180)
    sign_in(admin)
    fa = admin.get("/admin/settings?lang=fa").text
    assert "برآورد روی ۳۳ مطلب پایگاه دانش شما" in fa and "پاسخ نادرست حدود" in fa
    en = admin.get("/admin/settings?lang=en").text
    assert "Estimated on your 33 knowledge-base entries" in en
    # The safety dial says what each position would do here, before anything is saved.
    dial = state.calibration.report["dial"]
    assert [d["safety"] for d in dial] == [0.005, 0.01, 0.02, 0.03, 0.05]
    assert all(
        a["answered"] <= b["answered"] and a["wrong"] <= b["wrong"] for a, b in zip(dial, dial[1:], strict=False)
    )
    assert 'role="radiogroup"' in fa and fa.count('name="answer_safety"') == 5
    assert re.search(r'value="0.02" checked >\s*<span>حداکثر ۲٪ نادرست: پاسخ خودکار', fa)
    assert (
        "امن‌ترین" in fa and "most helpful" in en and re.search(r'value="0.005"  >\s*<span>At most 0.5\u00a0% wrong', en)
    )
    headers = {**SAME, "x-csrf-token": csrf(admin)}
    r = admin.post("/admin/settings", data={**FORM, "shop_calibration": "on", "answer_safety": "۰٫۰۱"}, headers=headers)
    assert r.status_code == 200, r.text
    assert state.settings.answer_safety == 0.01 and state.calibration.safety == 0.01
    state.calibration.wait(180)
    assert state.calibration.report["estimated"]["wrong"] <= 0.01


def test_the_model_s_check_is_turned_on_from_the_page_with_persian_digits(admin: TestClient) -> None:
    sign_in(admin)
    fa = admin.get("/admin/settings?lang=fa").text
    assert 'name="model_checks_answers"' in fa and "مدل زبانی پاسخ‌ها را پیش از فرستادن بسنجد" in fa
    assert admin.app.state.services.chat.checker is None  # off by default
    headers = {**SAME, "x-csrf-token": csrf(admin)}
    r = admin.post(
        "/admin/settings", data={**FORM, "model_checks_answers": "on", "check_budget_s": "۲٫۵"}, headers=headers
    )
    assert r.status_code == 200, r.text
    state = admin.app.state.services
    assert state.settings.model_checks_answers is True and state.settings.check_budget_s == 2.5
    # Applied at once: the rebuilt answer pipeline checks with the configured budget.
    assert state.chat.checker is not None and state.chat.checker.budget_s == 2.5
    saved = tomllib.loads((state.settings.data_dir / "settings.toml").read_text(encoding="utf-8"))
    assert saved["model_checks_answers"] is True and saved["check_budget_s"] == 2.5
    bad = admin.post("/admin/settings", data={**FORM, "check_budget_s": "سه"}, headers=headers)
    assert bad.status_code == 422 and state.settings.check_budget_s == 2.5 and state.settings.model_checks_answers


def test_persian_typed_into_the_form_is_kept_as_typed(admin: TestClient, data_dir) -> None:
    """The owner writes in Persian: the shop's name, the reply time, the greeting and the privacy
    notice are stored and shown back as typed (ZWNJ and Persian digits included), the widget
    greets with them, and a number typed in Persian digits is a number."""
    sign_in(admin)
    persian = {**SAME, "x-csrf-token": csrf(admin), "hx-current-url": "http://testserver/admin/settings?lang=fa"}
    typed = {
        "shop_name": "کتاب‌فروشی نور",
        "typical_reply_time": "تا ساعت ۱۲ ظهر",
        "greeting_fa": "سلام! چطور می‌توانیم کمکتان کنیم؟",
        "privacy_notice": "پیام‌های شما فقط برای پاسخ به خودتان نگه داشته می‌شود.",
        "retention_days": "۹۰",
    }
    r = admin.post("/admin/settings", data={**FORM, **typed}, headers=persian)
    assert r.status_code == 200 and toast(r) == "ذخیره شد"
    stored = tomllib.loads((data_dir / "settings.toml").read_text(encoding="utf-8"))
    assert {k: stored[k] for k in typed} == {**typed, "retention_days": 90}
    page = admin.get("/admin/settings?lang=fa").text
    assert 'value="کتاب‌فروشی نور"' in page and "پیام‌های شما فقط برای پاسخ به خودتان" in page
    assert 'value="۹۰"' not in page and 'value="90"' in page
    # each field's metadata: the secret boxes are password boxes, restart fields say so, in Persian
    assert re.search(r'type="password"[^>]*name="smtp_password"', page, re.S)
    assert page.count("پس از راه‌اندازی دوباره اعمال می‌شود") == 6
    widget = admin.get("/widget?lang=fa").text
    assert "سلام! چطور می‌توانیم کمکتان کنیم؟" in widget and "کتاب‌فروشی نور" in widget


def hours_form(**days: tuple[str, ...]) -> dict[str, str]:
    """The seven days as the browser sends them: ``sat=("09:00", "13:00", "16:00", "20:00")``;
    a day not named is closed."""
    form: dict[str, str] = {}
    for day in ("sat", "sun", "mon", "tue", "wed", "thu", "fri"):
        times = days.get(day, ())
        if times:
            form[f"hours_{day}_open"] = "on"
        for n, (opens, closes) in enumerate(zip(times[::2], times[1::2], strict=True), 1):
            form[f"hours_{day}_from{n}"], form[f"hours_{day}_to{n}"] = opens, closes
    return form


def test_the_hours_are_seven_days_in_words_and_stay_text_in_the_file(admin: TestClient, data_dir) -> None:
    """Business hours were a line of code ('sat-wed 09:00-18:00'): now seven days, Saturday
    first, switches and time fields; Persian digits taken; the file keeps the readable text."""
    sign_in(admin)
    page = admin.get("/admin/settings?lang=fa").text
    names = re.findall(r'<span class="form-check-label fw-semibold">([^<]+)</span>', page)
    assert names == ["شنبه", "یکشنبه", "دوشنبه", "سه‌شنبه", "چهارشنبه", "پنجشنبه", "جمعه"]
    assert (
        page.count('inputmode="numeric"') >= 14 and 'id="hours-fri-open" name="hours_fri_open"  >' in page
    )  # Friday closed
    week = ("۰۹:۰۰", "۱۳:۰۰", "۱۶:۰۰", "۲۰:۰۰")
    days = hours_form(sat=week, sun=week, mon=week, tue=week, wed=week, thu=("09:00", "13:00"))
    headers = {**PERSIAN, "x-csrf-token": csrf(admin)}
    r = admin.post("/admin/settings", data={**FORM, **days}, headers=headers)
    assert r.status_code == 200 and toast(r) == "ذخیره شد", shown(r.text)[:400]
    stored = tomllib.loads((data_dir / "settings.toml").read_text(encoding="utf-8"))
    assert stored["business_hours"] == "sat-wed 09:00-13:00, 16:00-20:00; thu 09:00-13:00"
    assert admin.app.state.services.settings.business_hours == stored["business_hours"]
    again = admin.get("/admin/settings?lang=en").text
    assert 'name="hours_sat_from2" value="16:00"' in again and 'name="hours_thu_to1" value="13:00"' in again


def test_times_of_day_are_typed_with_persian_digits_and_shown_in_them(admin: TestClient, data_dir) -> None:
    """The hours were type=time boxes: ۱۰:۳۰ typed on a Persian keyboard was ignored and the
    Persian page showed "09:00 AM". Now text boxes for digits (24-hour), Persian on Persian pages,
    and a phone's number pad without a colon is understood ("۱۸۳۰" is 18:30)."""
    sign_in(admin)
    page = admin.get("/admin/settings?lang=fa").text
    assert 'type="time"' not in page
    box = re.search(r'<input [^>]*id="hours-sat-from1"[^>]*>', page).group(0)
    for attribute in ('type="text"', 'inputmode="numeric"', 'dir="ltr"', 'placeholder="۰۹:۰۰"', 'value="۰۹:۰۰"'):
        assert attribute in box, (attribute, box)
    assert re.search(r'<input [^>]*placeholder="۰۹:۰۰"[^>]*id="set-backup_time"[^>]*value="۰۳:۰۰"', page)
    typed = {**hours_form(sat=("۱۰:۳۰", "۱۸۳۰"), thu=("۹:۱۵", "۱۳:۰۰")), "backup_time": "۰۴:۴۵", "digest_time": "۲۱۰۵"}
    r = admin.post("/admin/settings", data={**FORM, **typed}, headers={**PERSIAN, "x-csrf-token": csrf(admin)})
    assert r.status_code == 200 and toast(r) == "ذخیره شد", shown(r.text)[:400]
    stored = tomllib.loads((data_dir / "settings.toml").read_text(encoding="utf-8"))
    assert stored["business_hours"] == "sat 10:30-18:30; thu 09:15-13:00"
    assert (stored["backup_time"], stored["digest_time"]) == ("04:45", "21:05")
    fa = admin.get("/admin/settings?lang=fa").text
    assert 'name="hours_sat_from1" value="۱۰:۳۰"' in fa and 'name="hours_sat_to1" value="۱۸:۳۰"' in fa
    assert re.search(r'id="set-backup_time"[^>]*value="۰۴:۴۵"', fa) and "AM" not in shown(fa)
    en = admin.get("/admin/settings?lang=en").text  # Latin digits on English pages
    assert 'name="hours_thu_from1" value="09:15"' in en and re.search(r'id="set-digest_time"[^>]*value="21:05"', en)
    # a wrong time typed in Persian is said in the page's words, next to its day, in Persian digits
    bad = admin.post(
        "/admin/settings",
        data={**FORM, **hours_form(sat=("۱۸:۰۰", "۹:۰۰"))},
        headers={**PERSIAN, "x-csrf-token": csrf(admin)},
    )
    assert bad.status_code == 422 and "«از ۱۸:۰۰ تا ۰۹:۰۰»" in bad.text


def test_the_settings_help_is_in_persian_digits(admin: TestClient) -> None:
    """«(0.02 یعنی ۲٪)» in the Persian help: every figure in the help is in Persian digits (web
    and repository addresses, which are typed in Latin letters, aside)."""
    sign_in(admin)
    page = admin.get("/admin/settings?lang=fa").text
    helps = re.findall(r'<div class="form-text[^"]*" id="set-[\w]+-help">(.*?)</div>', page, flags=re.S)
    assert len(helps) > 20
    for text in helps:
        # names as typed: web addresses, this machine, S3 (the storage, and a restic "s3:" address)
        words = re.sub(r"https?://\S+|\b[sS]3\b:?\S*|\b127\.0\.0\.1\b|UTF-8", "", shown(text))
        assert not re.search(r"[0-9]", words), text
    assert "(۰٫۰۲ یعنی ۲٪)" in page


@pytest.mark.parametrize(
    "days, day, says",
    [
        ({"sat": ("18:00", "09:00")}, "sat", "«از ۱۸:۰۰ تا ۰۹:۰۰»: ساعت بستن باید بعد از ساعت باز شدن باشد"),
        ({"mon": ("۲۵:۰۰", "۲۶:۰۰")}, "mon", "«۲۵:۰۰» ساعت درستی نیست"),
        ({"tue": ("09:00", "13:00", "12:00", "18:00")}, "tue", "نوبت دوم پیش از پایان نوبت اول شروع می‌شود"),
    ],
)
def test_wrong_hours_are_refused_next_to_their_day(admin: TestClient, data_dir, days, day, says) -> None:
    sign_in(admin)
    path = data_dir / "settings.toml"
    before = path.read_text() if path.exists() else None
    r = admin.post(
        "/admin/settings",
        data={**FORM, **hours_form(**days), "shop_name": "نام تازه"},
        headers={**PERSIAN, "x-csrf-token": csrf(admin)},
    )
    assert r.status_code == 422 and says in r.text
    row = r.text[r.text.index(f'id="hours-{day}"') :]
    row = row[: row.index("</div>\n        </div>", row.index('role="alert"'))]
    assert "list-group-item-danger" in r.text and says in row and "is-invalid" in row
    assert (path.read_text() if path.exists() else None) == before  # nothing saved, the shop's name neither
    assert 'value="نام تازه"' in r.text  # what was typed is kept
    typed = days[day]
    persian = typed[0].translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))  # shown in the page's digits
    assert f'name="hours_{day}_from1" value="{persian}"' in r.text


def test_forged_or_wrong_values_are_refused_next_to_the_field(admin: TestClient, data_dir) -> None:
    """«فارسی» as the default language and «۲۵:۰۰» as the backup time were saved with «ذخیره شد و
    اعمال شد» (25:00 became 03:00 at the next start). The language is a list now, but a forged
    POST is refused all the same; each refusal is said under its field, in the owner's language."""
    sign_in(admin)
    path = data_dir / "settings.toml"
    before = path.read_text() if path.exists() else None
    headers = {**PERSIAN, "x-csrf-token": csrf(admin)}
    typed = {"default_language": "فارسی", "backup_time": "۲۵:۰۰", "smtp_security": "tls", "shop_name": "نور"}
    r = admin.post("/admin/settings", data={**FORM, **typed}, headers=headers)
    assert r.status_code == 422 and not toast(r)
    assert (path.read_text() if path.exists() else None) == before
    assert admin.app.state.services.settings.default_language == "fa"
    for name, says in [
        ("default_language", "«فارسی» یکی از گزینه‌های «زبان پیش‌فرض» نیست"),
        ("backup_time", "«۲۵:۰۰» ساعت درستی نیست"),
        ("smtp_security", "«tls» یکی از گزینه‌های «حفاظت اتصال» نیست"),
    ]:
        field = re.search(rf'<[^>]+id="set-{name}"[^>]*>', r.text).group(0)
        assert "is-invalid" in field and f"set-{name}-error" in field, field
        feedback = re.search(rf'id="set-{name}-error" role="alert"[^>]*>([^<]+)<', r.text).group(1)
        assert says in feedback, feedback
    assert "۳ مورد را باید درست کنید" in r.text  # the summary at the top links to each
    assert 'value="۲۵:۰۰"' in r.text and 'value="نور"' in r.text  # typed values kept
    ok = admin.post("/admin/settings", data={**FORM, "backup_time": "۰۳:۳۰", "digest_time": "۷:۰۵"}, headers=headers)
    assert ok.status_code == 200 and toast(ok) == "ذخیره شد"
    stored = tomllib.loads(path.read_text(encoding="utf-8"))
    assert (stored["backup_time"], stored["digest_time"]) == ("03:30", "07:05")


def test_the_page_speaks_in_words_not_codes(admin: TestClient) -> None:
    """No setting shown by its code name, no 'fa یا en', 'closest یا handover', HH:MM or
    settings.toml; every choice a list in words; times as time fields; sections with headings."""
    sign_in(admin)
    for lang in ("fa", "en"):
        page = admin.get(f"/admin/settings?lang={lang}").text
        text = shown(page)
        for code in ("settings.toml", "HH:MM", "«closest»", "'closest'", "handover", "starttls", "#rrggbb", "frame-ancestors",
                     "IANA", "fa یا en", "fa or en", "default_language", "smtp_port", "business_hours", "GGUF",
                     "sat-wed", "appliance eval", "(0-1)"):  # fmt: skip
            assert code not in text, (lang, code)
        for name in ("default_language", "smtp_security", "catalog_missing", "timezone", "model"):
            assert re.search(rf'<select class="form-select" id="set-{name}"', page), (lang, name)
        for name in ("backup_time", "digest_time"):
            assert re.search(rf'<input type="text" inputmode="numeric"[^>]*id="set-{name}"', page), (lang, name)
        assert (
            page.count('<section class="card mb-3" id="settings-') == len(settings_mod.GROUPS)
            and 'data-draft="settings"' in page
        )
    fa = admin.get("/admin/settings?lang=fa").text
    assert ">فارسی</option>" in fa and ">انگلیسی</option>" in fa and ">پرسش را به من بسپار</option>" in fa
    assert ">تهران</option>" in fa and "رمزگذاری پس از اتصال" in fa


def test_a_greeting_per_language(admin: TestClient, data_dir) -> None:
    """English visitors were greeted in Persian (one greeting for both languages). An old single
    greeting is shown, and kept, as the default language's."""
    services = admin.app.state.services
    services.settings = services.settings.replace(greeting="سلام! به کتاب‌فروشی خوش آمدید.")
    assert "سلام! به کتاب‌فروشی خوش آمدید." in admin.get("/widget?lang=fa").text
    assert "سلام! به کتاب‌فروشی" not in admin.get("/widget?lang=en").text  # the English chat: the built-in greeting
    sign_in(admin)
    page = admin.get("/admin/settings?lang=fa").text
    assert re.search(r'id="set-greeting_fa" name="greeting_fa"[^>]*>سلام! به کتاب‌فروشی خوش آمدید.</textarea>', page)
    typed = {"greeting_fa": "سلام! چه کتابی می‌خواهید؟", "greeting_en": "Hello! Which book are you after?"}
    r = admin.post("/admin/settings", data={**FORM, **typed}, headers={**PERSIAN, "x-csrf-token": csrf(admin)})
    assert r.status_code == 200
    stored = tomllib.loads((data_dir / "settings.toml").read_text(encoding="utf-8"))
    assert {k: stored[k] for k in typed} == typed and stored["greeting"] == ""
    assert "سلام! چه کتابی می‌خواهید؟" in admin.get("/widget?lang=fa").text
    en = admin.get("/widget?lang=en").text
    assert "Hello! Which book are you after?" in en and "چه کتابی" not in en
    started = admin.post("/api/v1/conversations", json={"lang": "en"})  # the chat API says the same
    assert started.json()["greeting"] == "Hello! Which book are you after?"


def test_the_widget_s_header_and_a_hand_over_agree(admin: TestClient, clock) -> None:
    """The header said someone was online while the hand-over said the reply comes Saturday at
    09:00. Online: both say a person is there; away: the header doesn't say so, and both give
    the same time."""
    from datetime import UTC, datetime

    from .helpers import reply_of, send, start_chat

    def hand_over() -> str:
        conv, token, _ = start_chat(admin, "en")
        return reply_of(send(admin, conv, token, "I want to talk to a real person").text)["text"]

    services = admin.app.state.services
    clock.now = datetime(2026, 11, 26, 16, 0, tzinfo=UTC)  # Thursday 19:30 in Tehran: closed
    services.presence.set_available(True)  # the switch, from an open admin page
    header = admin.get("/widget?lang=en").text
    assert 'class="presence online"' in header and "is online now" in header
    said = hand_over()
    assert "within a few minutes" in said and "Saturday" not in said, said
    services.presence.set_available(False)
    header = admin.get("/widget?lang=en").text
    presence = header.split('id="presence"')[1].split("</p>")[0]
    assert "online" not in presence and "when we open, Saturday at 09:00" in presence
    assert "when we open, Saturday at 09:00" in hand_over()


def test_the_orders_group_keeps_its_key_and_secret_unseen(admin: TestClient, data_dir) -> None:
    """The orders' source is a list in words; the WooCommerce key and secret are written to
    settings.toml and never shown back (an empty box keeps them); a mapping that isn't JSON is
    refused under its field, in the owner's language."""
    sign_in(admin)
    page = admin.get("/admin/settings?lang=fa").text
    assert 'id="settings-orders"' in page and re.search(r'<select class="form-select" id="set-orders_source"', page)
    assert ">ووکامرس</option>" in page and ">هیچ‌جا: ربات سفارش‌ها را نمی‌جوید</option>" in page
    headers = {**PERSIAN, "x-csrf-token": csrf(admin)}
    orders = {
        "orders_source": "woocommerce",
        "orders_url": "https://shop.example",
        "orders_key": "ck_a1b2c3d4e5",
        "orders_secret": "cs_f6e5d4c3b2",
        "orders_handover_statuses": "on-hold\nfailed\nدر انتظار بررسی",
        "orders_json_mapping": "",
        "orders_sheet_hours": "۱۲",
    }
    r = admin.post("/admin/settings", data={**FORM, **orders}, headers=headers)
    assert r.status_code == 200 and toast(r) == "ذخیره شد"
    stored = tomllib.loads((data_dir / "settings.toml").read_text(encoding="utf-8"))
    assert (stored["orders_key"], stored["orders_secret"], stored["orders_sheet_hours"]) == (
        "ck_a1b2c3d4e5",
        "cs_f6e5d4c3b2",
        12,
    )
    assert stored["orders_handover_statuses"] == ["on-hold", "failed", "در انتظار بررسی"]
    shown_again = admin.get("/admin/settings?lang=en").text
    assert "ck_a1b2c3d4e5" not in shown_again and "cs_f6e5d4c3b2" not in shown_again
    kept = admin.post(
        "/admin/settings", data={**FORM, **orders, "orders_key": "", "orders_secret": ""}, headers=headers
    )
    assert kept.status_code == 200
    assert tomllib.loads((data_dir / "settings.toml").read_text(encoding="utf-8"))["orders_secret"] == "cs_f6e5d4c3b2"
    bad = admin.post(
        "/admin/settings", data={**FORM, **orders, "orders_json_mapping": "وضعیت = data.state"}, headers=headers
    )
    assert bad.status_code == 422 and "cs_f6e5d4c3b2" not in bad.text
    feedback = re.search(r'id="set-orders_json_mapping-error" role="alert"[^>]*>([^<]+)<', bad.text).group(1)
    assert "در هر خط یک فیلد، نشانهٔ = و یک مسیر نقطه‌دار" in feedback, feedback
