"""The settings page: validated, written to settings.toml, applied at once."""

import json
import re
import tomllib

import pytest
from litestar.testing import TestClient

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
    assert fa.status_code == 200 and "نام فروشگاه" in fa.text and "widget-loader-1.0.0.js" in fa.text
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
    assert r.status_code == 422 and "«evil.example» سایت فروشگاه نیست" in r.text
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
