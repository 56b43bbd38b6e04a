"""axe-core (tests/vendor/axe-core-4.14.1.min.js, from the npm registry) inside real headless
Chromium, against every admin page, the signed-out pages, an error page and the chat, in Persian
and English, at 390 and 1280 px: no serious or critical violation. The rules are axe's own
(WCAG 2.0-2.2 A and AA and its best practices); a violation is reported with its rule, the
elements it found and the page, width and language it was seen on."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from .helpers import demo_server

pytestmark = pytest.mark.browser

AXE = (Path(__file__).parent / "vendor" / "axe-core-4.14.1.min.js").read_text(encoding="utf-8")
PASSWORD = "an accessible owner password"
SERIOUS = ("serious", "critical")

# Every page the owner reaches from the navigation, and the pages one level down.
PAGES = [
    "/admin/",
    "/admin/inbox?view=all",
    "/admin/inbox?view=all&c={conv}",
    "/admin/conversations/{conv}",
    "/admin/saved-replies",
    "/admin/kb",
    "/admin/kb/new",
    "/admin/kb/hours-en",
    "/admin/try",
    "/admin/documents",
    "/admin/catalog",
    "/admin/orders",
    "/admin/triggers",
    "/admin/triggers/new",
    "/admin/analytics",
    "/admin/settings",
    "/admin/backups",
    "/admin/channels",
    "/admin/channels/telegram",
    "/admin/channels/email",
    "/admin/alerts",
    "/admin/webhooks",
    "/admin/no-such-page",
]


def _post(base: str, path: str, body: dict, token: str | None = None) -> dict:
    headers = {"content-type": "application/json", **({"authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(base + path, json.dumps(body).encode(), headers, method="POST")
    with urllib.request.urlopen(request, timeout=60) as r:
        body = r.read()  # a message's answer is a stream of events: read to its end
        return json.loads(body or b"{}") if "json" in r.headers.get("content-type", "") else {}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory):
    with demo_server(tmp_path_factory.mktemp("axe-data"), PASSWORD) as base:
        # A Persian customer handed to the owner, with a way to reach them: the inbox has a row.
        started = _post(base, "/api/v1/conversations", {"lang": "fa"})
        conv, token = started["conversation_id"], started["visitor_token"]
        _post(
            base, f"/api/v1/conversations/{conv}/messages", {"text": "می‌خوام با یه آدم حرف بزنم، سفارشم نرسیده"}, token
        )
        _post(base, f"/api/v1/conversations/{conv}/contact", {"phone": "+989123456789"}, token)
        yield base, conv


def _violations(driver) -> list[dict]:
    driver.execute_script(AXE)
    result = driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        axe.run(document, {resultTypes: ["violations"]})
          .then(r => done(r.violations.map(v => ({
              id: v.id, impact: v.impact, help: v.help,
              nodes: v.nodes.slice(0, 4).map(n => n.target.join(" ") + " :: " + (n.failureSummary || "").slice(0, 200))}))))
          .catch(e => done([{id: "axe-error", impact: "critical", help: String(e), nodes: []}]));
        """
    )
    return [v for v in result if v["impact"] in SERIOUS]


def _check(driver, where: str, found: list) -> None:
    for violation in _violations(driver):
        found.append((where, violation["id"], violation["help"], violation["nodes"]))


def test_no_serious_or_critical_violation_on_any_page(browser, shop) -> None:
    base, conv = shop
    browser.set_script_timeout(60)
    found: list = []
    for lang in ("fa", "en"):
        for width in (390, 1280):
            browser.set_window_size(width, 900)
            browser.delete_all_cookies()
            browser.get(f"{base}/admin/login?lang={lang}")
            _check(browser, f"/admin/login {lang} {width}", found)
            browser.find_element(By.ID, "password").send_keys(PASSWORD)
            browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
            WebDriverWait(browser, 20).until(lambda d: "/admin/login" not in d.current_url)
            for page in PAGES:
                path = page.format(conv=conv)
                browser.get(f"{base}{path}{'&' if '?' in path else '?'}lang={lang}")
                WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.TAG_NAME, "main")))
                _check(browser, f"{path} {lang} {width}", found)
            # The chat as a customer sees it, and after a question (a reply, choices or a hand-over).
            browser.get(f"{base}/widget?lang={lang}")
            WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.TAG_NAME, "textarea")))
            _check(browser, f"/widget {lang} {width}", found)
    assert not found, "\n".join(f"{w}: {rule} ({help}) {nodes}" for w, rule, help, nodes in found)
