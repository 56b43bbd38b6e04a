"""Every string the appliance shows exists in Persian and English: pybabel's extraction (babel.cfg,
run here through babel.messages.extract) finds every msgid the code and the templates use, both
catalogs translate each one, with every plural form, and hold nothing else; and a missing
translation is English and a log line, never an error page."""

from __future__ import annotations

import gettext
import logging
import os
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po
from litestar.testing import TestClient

from appliance import i18n
from appliance import settings as settings_mod
from appliance.conversations.store import Role, Status
from appliance.llm.runtime import ModelState
from appliance.web.admin import settings as admin_settings

from .helpers import sign_in

ROOT = Path(__file__).resolve().parents[1]


def _extract() -> dict[str, dict]:
    """msgid -> {"plural": bool, "where": [...]}, as `pybabel extract -F babel.cfg` finds them."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, str(ROOT / "babel.cfg"))
    found: dict[str, dict] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(str(ROOT), method_map, options_map):
        key = message[0] if isinstance(message, tuple) else message
        entry = found.setdefault(key, {"plural": False, "where": []})
        entry["plural"] |= isinstance(message, tuple)
        entry["where"].append(f"{filename}:{lineno}")
    return found


@pytest.fixture(scope="module")
def extracted() -> dict[str, dict]:
    return _extract()


def _catalog(lang: str) -> Catalog:
    with (i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=lang)


@pytest.fixture(scope="module")
def catalogs() -> dict[str, Catalog]:
    return {lang: _catalog(lang) for lang in i18n.LANGUAGES}


def test_the_extractor_sees_the_templates_the_code_and_the_tables(extracted: dict[str, dict]) -> None:
    where = {w.split(":")[0] for entry in extracted.values() for w in entry["where"]}
    assert any(w.endswith(".html") for w in where) and any(w.endswith("i18n.py") for w in where)
    assert any(w.endswith("locale/__init__.py") for w in where) and any(w.endswith("settings.py") for w in where)
    assert "nav.inbox" in extracted and "status.open" in extracted and "entry.bad_csv" in extracted
    assert extracted["an.days"]["plural"] and "widget.send" in extracted
    assert len(extracted) > 600


def test_every_message_is_translated_in_both_languages(extracted: dict[str, dict], catalogs) -> None:
    for lang, catalog in catalogs.items():
        missing = {key: entry["where"] for key, entry in extracted.items() if catalog.get(key) is None}
        assert not missing, (lang, missing)
        for message in catalog:
            if not message.id:
                continue
            key = message.id[0] if isinstance(message.id, tuple) else message.id
            forms = message.string if isinstance(message.string, tuple) else (message.string,)
            assert all(form.strip() for form in forms), (lang, key)
            assert message.pluralizable == extracted[key]["plural"], (lang, key, "plural in one and not the other")


def test_no_catalog_holds_an_unused_or_obsolete_message(extracted: dict[str, dict], catalogs) -> None:
    for lang, catalog in catalogs.items():
        unused = [m.id for m in catalog if m.id and (m.id[0] if isinstance(m.id, tuple) else m.id) not in extracted]
        assert not unused, (lang, unused)
        assert not catalog.obsolete and not [m.id for m in catalog if m.fuzzy and m.id], lang


def test_plural_forms_are_babel_s_and_complete(catalogs) -> None:
    for lang, catalog in catalogs.items():
        assert catalog.plural_forms == get_plural(lang).plural_forms
        assert catalog.num_plurals == (2 if lang == "en" else get_plural("fa").num_plurals)
        for message in catalog:
            if message.pluralizable:
                assert len(message.string) == catalog.num_plurals, (lang, message.id)
                assert all("{n}" in form for form in message.string), (lang, message.id)


def test_plural_forms() -> None:
    assert i18n.tn("en", "an.days", 1) == "1 day"
    assert i18n.tn("en", "an.days", 30) == "30 days"
    assert i18n.tn("fa", "an.days", 30) == "۳۰ روز"
    assert i18n.tn("fa", "an.days", 1) == "۱ روز"
    text = i18n.tn("en", "set.calibration_estimate", 1, answered=50, clarified=20, handed=30, wrong="0.5")
    assert text.startswith("Estimated on your 1 knowledge-base entry:")
    page = i18n.context("en")
    assert page["ngettext"]("an.days", "an.days", 2) == "2 days" and page["_"]("nav.inbox") == "Inbox"  # type: ignore[operator]


def test_every_shown_value_has_a_label() -> None:
    assert set(i18n.LABELS["status"]) == {s.value for s in Status}
    assert set(i18n.LABELS["role"]) == {r.value for r in Role}
    assert set(i18n.LABELS["model_state"]) == {s.value for s in ModelState}
    assert set(i18n.LABELS["setting"]) == admin_settings.EDITABLE
    assert set(i18n.LABELS["settings_group"]) == set(settings_mod.GROUPS)
    assert set(i18n.LABELS["weekday_long"]) == set(i18n.LABELS["weekday"])


def _without(lang: str, *keys: str) -> gettext.GNUTranslations:
    """``lang``'s catalog as if ``keys`` had never been translated."""
    catalog = _catalog(lang)
    for key in keys:
        catalog.delete(key)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    translations = gettext.GNUTranslations(compiled)
    translations.add_fallback(i18n._Missing())
    return translations


def test_a_missing_translation_is_english_and_a_log_line(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(i18n._catalogs, "fa", _without("fa", "nav.inbox", "an.days"))  # the Persian lost
    monkeypatch.setattr(i18n, "_warned", set())
    with caplog.at_level(logging.WARNING, logger="appliance.i18n"):
        assert i18n.t("fa", "nav.inbox") == "Inbox"
        assert i18n.t("fa", "nav.inbox") == "Inbox"
        assert i18n.tn("fa", "an.days", 3) == "۳ days"
        assert i18n.t("fa", "no.such.key") == "no.such.key"
        assert i18n.label("fa", "status", "archived") == "archived"
    messages = [r.getMessage() for r in caplog.records]
    assert sum("nav.inbox" in m for m in messages) == 1  # once, not on every page view
    assert any("no.such.key" in m for m in messages) and any("archived" in m for m in messages)


def test_a_page_with_a_missing_translation_still_renders(admin: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(i18n._catalogs, "fa", _without("fa", "nav.inbox", "home.waiting"))
    monkeypatch.setitem(i18n._catalogs, "en", _without("en", "home.waiting"))
    sign_in(admin)
    page = admin.get("/admin/?lang=fa")
    assert page.status_code == 200
    assert "Inbox" in page.text and "home.waiting" in page.text and 'dir="rtl"' in page.text


def test_a_missing_or_stale_mo_is_compiled_from_the_po(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh checkout or a wheel has no .mo: the .po is compiled in memory; a .mo older than its
    .po is not believed."""
    po = tmp_path / "fa" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_bytes((i18n.LOCALE_DIR / "fa" / "LC_MESSAGES" / "messages.po").read_bytes())
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    persian = _catalog("fa").get("nav.inbox").string  # type: ignore[union-attr]
    assert not po.with_suffix(".mo").exists() and i18n._read("fa").gettext("nav.inbox") == persian
    stale = _catalog("fa")
    stale.get("nav.inbox").string = "STALE"  # type: ignore[union-attr]
    with po.with_suffix(".mo").open("wb") as fh:
        write_mo(fh, stale)
    os.utime(po.with_suffix(".mo"), (1, 1))
    assert i18n._read("fa").gettext("nav.inbox") == persian
    os.utime(po.with_suffix(".mo"), None)
    assert i18n._read("fa").gettext("nav.inbox") == "STALE"


def test_pybabel_compiles_the_catalogs(tmp_path: Path) -> None:
    """What install.sh runs: no errors, one .mo for each language."""
    import shutil

    shutil.copytree(i18n.LOCALE_DIR, tmp_path / "locale", ignore=shutil.ignore_patterns("*.mo", "*.py", "__pycache__"))
    pybabel = Path(sys.executable).with_name("pybabel")
    done = subprocess.run(
        [str(pybabel), "compile", "--statistics", "-d", str(tmp_path / "locale")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert {p.parts[-3] for p in (tmp_path / "locale").rglob("*.mo")} == set(i18n.LANGUAGES)


def test_every_setting_the_owner_changes_has_persian_help(admin: TestClient, catalogs) -> None:
    """The Persian settings page showed English help under each field; the settings not on the
    page have Persian help too (`appliance settings --explain --lang fa`)."""
    import dataclasses

    for f in dataclasses.fields(settings_mod.Settings):
        persian = catalogs["fa"].get(f.metadata["doc"])
        assert persian is not None and any("\u0600" <= ch <= "\u06ff" for ch in persian.string), f.name
        assert catalogs["en"].get(f.metadata["doc"]).string == f.metadata["doc"], f.name  # type: ignore[union-attr]
    sign_in(admin)
    fa = admin.get("/admin/settings?lang=fa").text
    en = admin.get("/admin/settings?lang=en").text
    assert "نام فروشگاه، که در پنجره‌ی گفتگو" in fa and "The shop&#39;s name, shown in the chat window" not in fa
    assert "The shop&#39;s name, shown in the chat window" in en
