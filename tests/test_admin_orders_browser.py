"""The Orders page in real headless Chromium against a real server (issue #32): the owner picks
the spreadsheet, uploads it, maps its columns and imports it, saves, tests an order number; a
customer asks about an order in the chat; the page's audit log and the inbox's card show it. In
Persian and English at 390 and 1280 px: nothing scrolls sideways, every control is 44 px tall to
tap on a phone. Screenshots go to /tmp/shots-orders/ for people to look at."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from .helpers import demo_server, events
from .test_accessibility_browser import _violations

pytestmark = pytest.mark.browser

PASSWORD = "an orders page owner password"
SHOTS = Path("/tmp/shots-orders")
SHEET = (
    "شماره سفارش,وضعیت,تاریخ,تاریخ ارسال,شرکت حمل,کد رهگیری,موبایل\n"
    "1001,ارسال شده,1405/09/10,1405/09/12,پست پیشتاز,RR123456789IR,0912 345 4321\n"
    "1002,در حال آماده سازی,1405/09/15,,,,09351112222\n"
    "1003,لغو شده,1405/09/16,,,,09120000000\n"
)
# Controls a finger taps (a radio or a box is tapped by its whole label).
TARGETS = """
return [...document.querySelectorAll(
    "main button, main .btn, main select, main summary, main label.form-check, main label.list-group-item, "
    + "main input:not([type=radio]):not([type=checkbox]):not([type=hidden])")]
  .filter(e => e.offsetParent !== null)
  .map(e => ({what: e.outerHTML.slice(0, 90), height: e.getBoundingClientRect().height}))
"""


def _api(base: str, path: str, body: dict, token: str | None = None) -> str:
    headers = {"content-type": "application/json", **({"authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(base + path, json.dumps(body).encode(), headers, method="POST")
    with urllib.request.urlopen(request, timeout=60) as r:
        return r.read().decode()


def _customer(base: str, *texts: str) -> tuple[str, list[str]]:
    """A customer's conversation: its id and the bot's replies."""
    started = json.loads(_api(base, "/api/v1/conversations", {"lang": "fa"}))
    conv, token = started["conversation_id"], started["visitor_token"]
    replies = []
    for text in texts:
        got = events(_api(base, f"/api/v1/conversations/{conv}/messages", {"text": text}, token))
        replies.append("".join(d.get("text", "") for name, d in got if name == "delta"))
    return conv, replies


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with demo_server(tmp_path_factory.mktemp("orders-data"), PASSWORD) as base:
        yield base


def _sign_in(driver, base: str, lang: str) -> None:
    driver.get(f"{base}/admin/login?lang={lang}")
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(driver, 20).until(lambda d: "/admin/login" not in d.current_url)


def _click(driver, element) -> None:
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element)
    element.click()


def _shoot(driver, name: str) -> Path:
    """The whole page, its window as tall as it is."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    width = driver.get_window_size()["width"]
    height = driver.execute_script("return document.documentElement.scrollHeight")
    bars = driver.execute_script("return window.outerHeight - window.innerHeight") or 0
    driver.set_window_size(width, min(max(height, 600), 5000) + bars)
    time.sleep(0.3)
    path = SHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    driver.set_window_size(width, 900)
    return path


def _fits(driver, where: str) -> None:
    """Nothing scrolls sideways, on a phone every control is at least 44 px tall, and axe-core
    finds no serious or critical violation."""
    wide = driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert wide <= 0, f"{where}: scrolls sideways by {wide} px"
    if driver.get_window_size()["width"] <= 400:
        small = [t for t in driver.execute_script(TARGETS) if t["height"] < 44]
        assert not small, f"{where}: {small}"
    found = _violations(driver)
    assert not found, f"{where}: {found}"


def test_the_owner_sets_up_a_spreadsheet_and_sees_the_lookups(browser, server, tmp_path: Path) -> None:
    base = server
    _sign_in(browser, base, "en")
    browser.get(f"{base}/admin/orders?lang=en")
    # Picking the spreadsheet shows its fields and the upload, nothing saved yet.
    sheet = browser.find_element(By.CSS_SELECTOR, "input[name=source][value=sheet]")
    _click(browser, sheet)
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "orders-upload")))
    hours = browser.find_element(By.ID, "orders-orders_sheet_hours")
    hours.clear()
    hours.send_keys("۰")
    _click(browser, browser.find_element(By.CSS_SELECTOR, "#orders-settings button[type=submit]"))
    toast = WebDriverWait(browser, 10).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#toasts .toast")))
    assert "saved" in toast.text.lower()
    # The spreadsheet: uploaded, its columns guessed from their Persian names, imported.
    path = tmp_path / "سفارش‌ها.csv"
    path.write_text(SHEET, encoding="utf-8")
    browser.find_element(By.ID, "file").send_keys(str(path))
    _click(browser, browser.find_element(By.CSS_SELECTOR, "#orders-upload button[type=submit]"))
    mapped = WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "map-number")))
    assert mapped.get_attribute("value") == "شماره سفارش"
    assert "RR123456789IR" in browser.find_element(By.TAG_NAME, "main").text
    _fits(browser, "sheet preview en 1280")
    _shoot(browser, "orders-sheet-preview-en-1280")
    _click(browser, browser.find_element(By.CSS_SELECTOR, "button[name=action][value=import]"))
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "orders-settings")))
    assert "3 orders imported" in browser.find_element(By.TAG_NAME, "main").text
    # Test the connection with a number in Persian digits.
    number = browser.find_element(By.ID, "orders-test-number")
    number.send_keys("۱۰۰۱")
    _click(browser, browser.find_element(By.CSS_SELECTOR, "button[hx-post='/admin/orders/test']"))
    found = WebDriverWait(browser, 10).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#orders-test .alert")))
    assert "Order 1001 was found" in found.text and "RR123456789IR" in found.text and "4321" not in found.text

    # Customers ask: one proves the order is theirs, one guesses.
    told, replies = _customer(base, "سفارش ۱۰۰۱ کجاست؟", "۴۳۲۱")
    assert "RR123456789IR" in replies[-1], replies
    _customer(base, "where is my order 1002?", "5555")
    browser.get(f"{base}/admin/orders?lang=en")
    log = browser.find_element(By.ID, "orders-log").text
    assert "told to its customer" in log and "proof didn't match" in log
    browser.get(f"{base}/admin/conversations/{told}?lang=en")
    card = WebDriverWait(browser, 10).until(
        EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".conversation-orders"), "RR123456789IR")
    )
    assert card
    assert "proved" in browser.find_element(By.CSS_SELECTOR, ".conversation-orders").text


def test_the_page_fits_a_phone_and_a_desktop_in_both_languages(browser, server) -> None:
    base = server
    conversation, _ = _customer(base, "سفارش ۱۰۰۱ کجاست؟", "۴۳۲۱")
    browser.set_script_timeout(60)
    for lang in ("fa", "en"):
        browser.delete_all_cookies()
        _sign_in(browser, base, lang)
        for width in (390, 1280):
            browser.set_window_size(width, 900)
            browser.get(f"{base}/admin/orders?lang={lang}")
            WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "orders-settings")))
            _fits(browser, f"orders {lang} {width}")
            _shoot(browser, f"orders-{lang}-{width}")
            # The JSON address's fields, picked and not saved; the test's answer.
            _click(browser, browser.find_element(By.CSS_SELECTOR, "input[name=source][value=json]"))
            WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "orders-map-status")))
            _fits(browser, f"orders json {lang} {width}")
            _shoot(browser, f"orders-json-{lang}-{width}")
            browser.get(f"{base}/admin/orders?lang={lang}")
            browser.find_element(By.ID, "orders-test-number").send_keys("1001")
            _click(browser, browser.find_element(By.CSS_SELECTOR, "button[hx-post='/admin/orders/test']"))
            WebDriverWait(browser, 10).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#orders-test .alert")))
            _fits(browser, f"orders test {lang} {width}")
            _shoot(browser, f"orders-test-{lang}-{width}")
            # The inbox's card beside the conversation.
            browser.get(f"{base}/admin/inbox?view=all&c={conversation}&lang={lang}")
            WebDriverWait(browser, 10).until(
                EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".conversation-orders"), "RR123456789IR")
            )
            _fits(browser, f"inbox card {lang} {width}")
            _shoot(browser, f"inbox-card-{lang}-{width}")
    browser.set_window_size(1280, 900)
