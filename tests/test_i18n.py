"""Every string the appliance shows exists in Persian and English: each key used in a template or
in the code is checked against i18n.STRINGS, no key is built at run time, plurals have their
forms, and a missing translation is English and a log line, never an error page."""

from __future__ import annotations

import ast
import logging
import re
from pathlib import Path

import pytest
from litestar.testing import TestClient

from appliance import i18n
from appliance.conversations.store import Role, Status
from appliance.llm.runtime import ModelState
from appliance.web.admin import settings as admin_settings

from .helpers import sign_in

PACKAGE = Path(__file__).resolve().parents[1] / "appliance"
TEMPLATES = sorted((PACKAGE / "templates").rglob("*.html"))
# A call of t() or tn() in a template, and its first argument as written.
TEMPLATE_CALL = re.compile(r"\b(t|tn)\(\s*([^,)]*)")
# Template arguments that are a key passed in by the handler: the handlers pass literal keys
# (checked below with the rest of the code's literals).
PASSED_KEYS = {"error"}


def _template_keys() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in TEMPLATES:
        for _, arg in TEMPLATE_CALL.findall(path.read_text(encoding="utf-8")):
            arg = arg.strip()
            literal = re.fullmatch(r"""(["'])([^"']+)\1""", arg)
            assert literal or arg in PASSED_KEYS, f"{path.name}: t({arg}...) builds its key at run time"
            if literal:
                found.setdefault(literal.group(2), []).append(path.name)
    return found


def _code_keys() -> dict[str, list[str]]:
    """Keys given as literals to i18n.t/tn (or a helper taking (lang, key)) and as error= values
    the templates translate, across the package."""
    found: dict[str, list[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            args: list[ast.expr] = []
            if name in {"t", "tn", "_t"} and len(node.args) >= 2:
                args.append(node.args[1])
            if name == "again" and node.args:  # the sign-in page's error, by key
                args.append(node.args[0])
            args += [k.value for k in node.keywords if k.arg == "error"]
            for arg in args:
                if isinstance(arg, ast.JoinedStr):
                    raise AssertionError(f"{path.name}:{node.lineno}: a key built with an f-string")
                candidates = [arg.body, arg.orelse] if isinstance(arg, ast.IfExp) else [arg]
                for c in candidates:
                    if (
                        isinstance(c, ast.Constant)
                        and isinstance(c.value, str)
                        and re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", c.value)
                    ):
                        found.setdefault(c.value, []).append(path.name)
    return found


def _constants() -> set[str]:
    """Every string literal in the package's code."""
    out = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                out.add(node.value)
    return out


def test_every_string_has_both_languages() -> None:
    for key, entry in i18n.STRINGS.items():
        assert set(entry) == set(i18n.LANGUAGES), key
        for lang, value in entry.items():
            if isinstance(value, dict):
                assert "other" in value and (lang != "en" or "one" in value), (key, lang)
                assert all(v.strip() and "{n}" in v for v in value.values()), (key, lang)
            else:
                assert value.strip(), (key, lang)


def test_every_key_used_exists() -> None:
    used = {**_template_keys(), **_code_keys()}
    for group in i18n.LABELS.values():
        used.update({key: ["i18n.LABELS"] for key in group.values()})
    missing = {key: where for key, where in used.items() if key not in i18n.STRINGS}
    assert not missing, missing
    assert len(used) > 200  # the scan sees the templates and the code


def test_no_string_is_dead() -> None:
    """Each string is used: by a template, by the code, through LABELS, or sent to the widget
    (web/widget.py sends every "widget." string to the chat window's script)."""
    used = set(_template_keys()) | (_constants() & set(i18n.STRINGS))
    used |= {key for group in i18n.LABELS.values() for key in group.values()}
    unused = [key for key in i18n.STRINGS if key not in used and not key.startswith("widget.")]
    assert not unused, unused


def test_every_shown_value_has_a_label() -> None:
    assert set(i18n.LABELS["status"]) == {s.value for s in Status}
    assert set(i18n.LABELS["role"]) == {r.value for r in Role}
    assert set(i18n.LABELS["model_state"]) == {s.value for s in ModelState}
    assert set(i18n.LABELS["setting"]) == admin_settings.EDITABLE
    assert set(i18n.LABELS["settings_group"]) == {group for group, _ in admin_settings.GROUPS}


def test_plural_forms() -> None:
    assert i18n.tn("en", "an.days", 1) == "1 day"
    assert i18n.tn("en", "an.days", 30) == "30 days"
    assert i18n.tn("fa", "an.days", 30) == "۳۰ روز"
    text = i18n.tn("en", "set.calibration_estimate", 1, answered=50, clarified=20, handed=30, wrong="0.5")
    assert text.startswith("Estimated on your 1 knowledge-base entry:")


def test_a_missing_translation_is_english_and_a_log_line(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(i18n.STRINGS, "nav.inbox", {"en": "Inbox"})  # the Persian one lost
    monkeypatch.setattr(i18n, "_warned", set())
    with caplog.at_level(logging.WARNING, logger="appliance.i18n"):
        assert i18n.t("fa", "nav.inbox") == "Inbox"
        assert i18n.t("fa", "no.such.key") == "no.such.key"
        assert i18n.label("fa", "status", "archived") == "archived"
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "nav.inbox" in messages and "no.such.key" in messages and "archived" in messages


def test_a_page_with_a_missing_translation_still_renders(admin: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(i18n.STRINGS, "nav.inbox", {"en": "Inbox"})
    monkeypatch.delitem(i18n.STRINGS, "home.waiting")
    sign_in(admin)
    page = admin.get("/admin/?lang=fa")
    assert page.status_code == 200
    assert "Inbox" in page.text and "home.waiting" in page.text and 'dir="rtl"' in page.text


def test_every_setting_the_owner_changes_has_persian_help(admin: TestClient) -> None:
    """The Persian settings page showed English help under each field."""
    from appliance import settings as settings_mod

    assert set(settings_mod.HELP_FA) == admin_settings.EDITABLE
    assert all(any("\u0600" <= ch <= "\u06ff" for ch in text) for text in settings_mod.HELP_FA.values())
    sign_in(admin)
    fa = admin.get("/admin/settings?lang=fa").text
    en = admin.get("/admin/settings?lang=en").text
    assert "نام فروشگاه، در ابزارک گفتگو" in fa and "The shop&#39;s name, shown in the widget" not in fa
    assert "The shop&#39;s name, shown in the widget" in en
