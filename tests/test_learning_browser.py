"""Learning from use in real headless Chromium against a real `appliance serve --demo`, in
Persian: the owner approves a customer's wording on the knowledge-base page and picks the entry
for a question on a conversation page, each one click through htmx under the strict CSP."""

from __future__ import annotations

import json
import urllib.request

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from .helpers import free_port, reset_password, start_server, stop, wait_healthy

pytestmark = pytest.mark.browser

PASSWORD = "a long demo password"
PICKED = "ارسال کتاب به شیراز چقدر طول میکشه و هزینه‌اش چنده؟"
ASKED = "کتاب‌ها رو کادوپیچ هم می‌کنید؟ برای تولد دوستمه"


def _post(url: str, body: dict, token: str | None = None) -> str:
    headers = {"content-type": "application/json", **({"authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=60) as r:
        return r.read().decode()


def _done(stream: str) -> dict:
    return json.loads(stream.rsplit("data:", 1)[1])


@pytest.fixture
def shop(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    reset_password(data_dir, PASSWORD, "--demo")
    # Every question gets choices: the customer's pick is what is under test.
    (data_dir / "settings.toml").write_text("answer_threshold = 0.9999\nclarify_threshold = 0.0001\n")
    port = free_port()
    proc = start_server(data_dir, port, "--demo", "--model", "none")
    wait_healthy(port, proc, timeout=120)
    yield f"http://127.0.0.1:{port}"
    stop(proc)


def test_the_owner_teaches_the_bot_in_persian_with_one_click_each(browser, shop) -> None:
    started = json.loads(_post(f"{shop}/api/v1/conversations", {"lang": "fa"}))
    conv, token = started["conversation_id"], started["visitor_token"]
    choices = _done(_post(f"{shop}/api/v1/conversations/{conv}/messages", {"text": PICKED}, token))["choices"]
    picked = choices[0]
    _post(f"{shop}/api/v1/conversations/{conv}/choices", {"entry_id": picked["id"]}, token)
    _post(f"{shop}/api/v1/conversations/{conv}/messages", {"text": ASKED}, token)

    browser.get(f"{shop}/admin/kb?lang=fa")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "suggestions")))
    section = browser.find_element(By.ID, "suggestions")
    assert PICKED in section.text and "جمله‌های پیشنهادی مشتری‌ها" in section.text
    section.find_element(By.XPATH, ".//button[normalize-space()='افزودن به مطلب']").click()
    WebDriverWait(browser, 20).until(
        EC.text_to_be_present_in_element((By.CSS_SELECTOR, "#suggestions .alert-success"), "افزوده شد")
    )
    assert PICKED not in browser.find_element(By.ID, "suggestions").text

    browser.get(f"{shop}/admin/conversations/{conv}?lang=fa")
    learn = WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".learn")))
    assert "کدام مطلب به این سؤال پاسخ می‌دهد؟" in learn.text
    guess = learn.find_element(By.TAG_NAME, "button")
    title = guess.text
    guess.click()
    WebDriverWait(browser, 20).until(
        EC.text_to_be_present_in_element((By.ID, "toasts"), f"«\u2068{title}\u2069»")  # said in a toast
    )
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] if hasattr(browser, "get_log") else []
    assert not [e for e in errors if "Content Security Policy" in e["message"]], errors
