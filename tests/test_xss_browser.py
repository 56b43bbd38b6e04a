"""An XSS payload matrix through every place customer, knowledge-base, owner and settings text is
shown, in real headless Chromium against a real `appliance serve`.

Each payload would set ``window.__xss`` (or add an element) if it ever ran or became markup. On
every page the test checks that nothing ran, that no payload element exists in the DOM, and, where
the text is shown whole, that it reads exactly as typed. The strict CSP would block inline script
anyway; the DOM check catches an escaping mistake the CSP would hide. (E-mail: test_mail.py.)"""

import json
import os
import re
import sqlite3
import subprocess

import httpx
import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from .helpers import APPLIANCE, free_port, start_server, stop, wait_healthy

pytestmark = pytest.mark.browser


PASSWORD = "a long xss test password"
PAYLOADS = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=2">',
    '"><svg onload="window.__xss=3">',
    '\'><iframe srcdoc="<script>parent.__xss=4</script>"></iframe>',
    '<a href="javascript:window.__xss=5">click</a>',
    "{{ 7*7 }} ${7*7} {% if 1 %}x{% endif %}",
    '</textarea></title><b onmouseover="window.__xss=6">b</b>',
    'سلام <img src=x onerror="window.__xss=7"> متن فارسی',
]
ALL = " ".join(PAYLOADS)
SHOP = 'Nook <img src=x onerror="window.__xss=8">'
# Anything a payload would have added if it had become markup.
PROBE = """
const bad = document.body.querySelectorAll(
  'script:not([src]):not([type="application/json"]), img[src="x"], svg[onload], iframe[srcdoc], [onerror], [onload], [onmouseover], a[href^="javascript"]');
return {ran: window.__xss || null, elements: bad.length, found: Array.from(bad).map(e => e.outerHTML.slice(0, 200)), text: document.body.innerText};
"""


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory):
    data_dir = tmp_path_factory.mktemp("xss-data")
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPLIANCE_")}
    (data_dir / "settings.toml").write_text(
        f"shop_name = {json.dumps(SHOP)}\ngreeting_en = {json.dumps('Hi ' + ALL)}\n"
        f"privacy_notice = {json.dumps('Privacy ' + PAYLOADS[4])}\n",
        encoding="utf-8",
    )
    entries = data_dir.parent / "hostile.jsonl"
    entries.write_text(
        json.dumps(
            {
                "id": "xss-entry",
                "lang": "en",
                "title": f"Probe {PAYLOADS[1]} {PAYLOADS[0]}",
                "questions": ["what is the xss probe policy", f"probe {PAYLOADS[2]}"],
                "answer": f"The probe policy: {PAYLOADS[1]} {PAYLOADS[3]} {PAYLOADS[5]}",
                "tags": [PAYLOADS[6]],
            },
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    for command, stdin in ((["kb", "import", str(entries)], None), (["reset-password"], f"{PASSWORD}\n{PASSWORD}\n")):
        done = subprocess.run(
            [APPLIANCE, *command, "--data-dir", str(data_dir)],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
    port = free_port()
    proc = start_server(data_dir, port, "--model", "none")
    wait_healthy(port, proc, timeout=120)
    base = f"http://127.0.0.1:{port}"
    # A customer through the API: a hostile message, a rating comment, then a request for a person.
    started = httpx.post(f"{base}/api/v1/conversations", json={"lang": "en"}).json()
    auth = {"authorization": f"Bearer {started['visitor_token']}"}
    conv = started["conversation_id"]
    with httpx.stream(
        "POST",
        f"{base}/api/v1/conversations/{conv}/messages",
        headers=auth,
        json={"text": f"I want to talk to a person {ALL}"},
    ) as r:
        r.read()
    httpx.post(f"{base}/api/v1/conversations/{conv}/rating", headers=auth, json={"satisfied": False, "comment": ALL})
    httpx.post(f"{base}/api/v1/conversations/{conv}/contact", headers=auth, json={"email": "reader@example.com"})
    yield {"base": base, "conversation": conv, "db": data_dir / "appliance.db"}
    stop(proc)


def check_page(driver, where: str, *, shows: list[str] = ()) -> None:
    result = driver.execute_script(PROBE)
    assert result["ran"] is None, f"{where}: a payload ran ({result['ran']})"
    assert result["elements"] == 0, f"{where}: payload elements in the DOM: {result['found']}"
    for text in shows:
        assert text in result["text"], f"{where}: {text!r} not shown as text"
    with pytest.raises(NoAlertPresentException):
        _ = driver.switch_to.alert.text


def test_widget_shows_every_payload_as_text(browser, hostile_server) -> None:
    base = hostile_server["base"]
    browser.get(f"{base}/widget?lang=en")
    wait = WebDriverWait(browser, 30)
    wait.until(EC.element_to_be_clickable((By.ID, "text")))
    check_page(browser, "widget greeting", shows=["Hi " + ALL])
    for data in browser.find_elements(By.CSS_SELECTOR, 'script[type="application/json"]'):
        json.loads(data.get_attribute("textContent"))  # the strings block was not broken out of
    browser.find_element(By.ID, "text").send_keys(ALL)
    browser.find_element(By.ID, "send").click()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".msg.bot:not(.intro)")) >= 1)
    browser.find_element(By.ID, "text").send_keys("what is the xss probe policy")
    browser.find_element(By.ID, "send").click()
    wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".log"), "The probe policy:"))
    check_page(browser, "widget conversation", shows=[ALL, f"The probe policy: {PAYLOADS[1]}", PAYLOADS[5]])

    # The owner answers with a payload of their own; the customer reloads and sees it all as text.
    db = sqlite3.connect(hostile_server["db"])
    conv = db.execute("SELECT conversation_id FROM messages WHERE text = ?", [ALL]).fetchone()[0]
    db.close()
    owner = httpx.Client(base_url=base)
    owner.post("/admin/login", data={"password": PASSWORD}, headers={"origin": base})
    page = owner.get(f"/admin/conversations/{conv}").text
    token = re.search(r'"X-CSRF-Token": "([^"]+)"', page).group(1)
    sent = owner.post(
        f"/admin/conversations/{conv}/reply",
        data={"text": f"Owner says {ALL}"},
        headers={"origin": base, "x-csrf-token": token},
    )
    assert sent.status_code == 200
    browser.refresh()
    wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".log"), "Owner says"))
    check_page(browser, "widget after reload", shows=[ALL, f"Owner says {ALL}"])


def test_admin_shows_every_payload_as_text(browser, hostile_server) -> None:
    base, conv = hostile_server["base"], hostile_server["conversation"]
    browser.get(f"{base}/admin/login?lang=en")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait = WebDriverWait(browser, 30)
    wait.until(EC.url_contains("/admin/"))
    wait.until(lambda d: "/login" not in d.current_url)
    pages = [
        ("/admin/?lang=en", []),
        ("/admin/inbox?lang=en", []),
        ("/admin/inbox?view=all&lang=en&q=script", []),
        (f"/admin/conversations/{conv}?lang=en", [f"I want to talk to a person {ALL}", ALL]),
        ("/admin/kb?lang=en", [f"Probe {PAYLOADS[1]}"]),
        ("/admin/kb?lang=en&q=probe", [f"Probe {PAYLOADS[1]}"]),
        ("/admin/kb/xss-entry?lang=en", []),
        ("/admin/analytics?lang=en", []),
        ("/admin/settings?lang=en", []),
        ("/admin/inbox?lang=fa", []),
        (f"/admin/conversations/{conv}?lang=fa", [ALL]),
    ]
    for path, shows in pages:
        browser.get(base + path)
        wait.until(lambda d: d.execute_script("return document.readyState") == "complete")
        check_page(browser, path, shows=shows)
    # Form fields hold the text as their value, unbroken.
    browser.get(f"{base}/admin/kb/xss-entry?lang=en")
    assert browser.find_element(By.ID, "title").get_attribute("value") == f"Probe {PAYLOADS[1]} {PAYLOADS[0]}"
    assert PAYLOADS[3] in browser.find_element(By.ID, "answer").get_attribute("value")
    browser.get(f"{base}/admin/settings?lang=en")
    assert SHOP in [e.get_attribute("value") for e in browser.find_elements(By.CSS_SELECTOR, "input")]

    # htmx fragments: the try-a-question box and the owner's reply, typed in the page.
    browser.get(f"{base}/admin/try?lang=en")
    browser.find_element(By.ID, "question").send_keys(f"what is the xss probe policy {PAYLOADS[2]}")
    browser.find_element(By.CSS_SELECTOR, "#try-form button[type=submit]").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "try-result"), "The probe policy:"))
    check_page(browser, "try-a-question", shows=[f"The probe policy: {PAYLOADS[1]}"])
    browser.get(f"{base}/admin/conversations/{conv}?lang=en")
    browser.find_element(By.ID, "reply").send_keys(f"Reply {ALL}")
    send = browser.find_element(By.CSS_SELECTOR, "form.reply-form button[type=submit]")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", send)
    send.click()
    wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#toasts .toast")))
    check_page(browser, "conversation after the owner's reply", shows=[f"Reply {ALL}"])
