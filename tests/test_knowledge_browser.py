"""The knowledge pages in real headless Chromium against a real `appliance serve --demo`, in
Persian and English, 390 and 1280 px wide: nothing wider than the screen (the KB's «زبان» header
broke mid-word on a phone), a long document's import showing its progress while it runs and its
summary after, select all ticking the proposals and the count following. Screenshots go to
$KNOWLEDGE_SHOTS (default: the test's temporary directory) to be looked at."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from .helpers import demo_server, wait

pytestmark = pytest.mark.browser
PASSWORD = "a long demo password"
PAGES = ("/admin/kb", "/admin/kb/new", "/admin/kb-import", "/admin/documents", "/admin/catalog", "/admin/try")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with demo_server(tmp_path_factory.mktemp("knowledge-data"), PASSWORD) as base:
        yield base


def _faq(path: Path, tag: str, n: int = 60) -> Path:
    parts = [
        f"<h2>پرسش شمارهٔ {i}: ارسال {tag} به شهر {i} چند روز طول می‌کشد؟</h2><p>ارسال به شهر {i} معمولاً {i % 5 + 2} روز کاری طول می‌کشد و هزینهٔ آن {i} هزار تومان است.</p>"
        for i in range(1, n + 1)
    ]
    path.write_text(
        '<!doctype html><html lang="fa"><head><meta charset="utf-8"><title>پرسش‌های ارسال</title></head>'
        f"<body><main><h1>پرسش‌های ارسال</h1>{''.join(parts)}</main></body></html>",
        encoding="utf-8",
    )
    return path


def _sign_in(driver, base: str) -> None:
    driver.get(f"{base}/admin/kb?lang=fa")
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait(driver).until(EC.presence_of_element_located((By.ID, "kb-rows")))


def _no_overflow(driver, where: str) -> None:
    wide = driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert wide <= 1, (where, wide)


def test_the_knowledge_pages_fit_a_phone_and_a_desktop(browser, server, tmp_path: Path) -> None:
    shots = Path(os.environ.get("KNOWLEDGE_SHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    _sign_in(browser, server)
    for width in (390, 1280):
        browser.set_window_size(width, 900)
        for lang in ("fa", "en"):
            for path in PAGES:
                browser.get(f"{server}{path}?lang={lang}")
                wait(browser).until(EC.presence_of_element_located((By.ID, "main")))
                _no_overflow(browser, f"{path} {lang} {width}")
                name = path.strip("/").replace("/", "-")
                browser.save_screenshot(str(shots / f"{name}-{lang}-{width}.png"))
            # an entry with its history (the demo's)
            browser.get(f"{server}/admin/kb?lang={lang}")
            browser.find_element(By.CSS_SELECTOR, "#kb-rows .kb-row a").click()
            wait(browser).until(EC.presence_of_element_located((By.ID, "history-title")))
            _no_overflow(browser, f"entry {lang} {width}")
            assert "create" not in browser.find_element(By.CSS_SELECTOR, ".history").text
            browser.save_screenshot(str(shots / f"kb-entry-{lang}-{width}.png"))


@pytest.mark.parametrize("lang, width", [("fa", 390), ("en", 1280)])
def test_a_long_document_imports_with_progress_in_the_browser(browser, server, tmp_path: Path, lang, width) -> None:
    shots = Path(os.environ.get("KNOWLEDGE_SHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    browser.set_window_size(width, 900)
    _sign_in(browser, server)
    browser.get(f"{server}/admin/documents?lang={lang}")
    browser.find_element(By.ID, "file").send_keys(
        str(_faq(tmp_path / f"faq-{lang}.html", "پیشتاز" if lang == "fa" else "سفارشی"))
    )
    upload = browser.find_element(By.CSS_SELECTOR, "form[hx-post='/admin/documents/upload'] button[type=submit]")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", upload)
    upload.click()  # in view, above the phone's tab bar
    wait(browser, 60).until(EC.presence_of_element_located((By.ID, "proposals")))
    count = browser.find_element(By.ID, "selected-count")
    every = browser.find_element(By.CSS_SELECTOR, "#proposals button[hx-vals*='all']")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", every)
    every.click()
    wait(browser).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#proposals input:checked")) == 60)
    wait(browser).until(lambda d: ("۶۰" if lang == "fa" else "60") in d.find_element(By.ID, "selected-count").text)
    assert count is not None
    _no_overflow(browser, "preview")
    browser.save_screenshot(str(shots / f"document-preview-{lang}-{width}.png"))
    confirm = browser.find_element(By.CSS_SELECTOR, "form[hx-post='/admin/documents/confirm'] button[type=submit]")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", confirm)
    confirm.click()
    card = wait(browser, 30).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".import-job")))
    assert card.is_displayed()
    browser.save_screenshot(str(shots / f"documents-importing-{lang}-{width}.png"))
    # The card is polled and replaced every second: read it in one step in the page, never stale.
    state = "var c = document.querySelector('.import-job'); return c && c.getAttribute('data-job-state')"
    wait(browser, 240).until(lambda d: d.execute_script(state) == "done")
    wait(browser).until(EC.text_to_be_present_in_element((By.ID, "documents-list"), "پرسش‌های ارسال"))
    _no_overflow(browser, "after")
    browser.save_screenshot(str(shots / f"documents-done-{lang}-{width}.png"))
    text = browser.execute_script("return document.querySelector('.import-job').innerText")
    assert ("۶۰ پرسش‌وپاسخ" if lang == "fa" else "60 questions and answers") in text, text
