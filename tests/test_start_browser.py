"""The chat on a shop's page whose site isn't allowed yet, in real headless Chromium against a real
`appliance serve --demo` process and a second local server (another port: another origin) acting
as the shop's site: nothing broken is shown, the refusal reaches the owner's home page, one click
allows the site, and after a reload the chat opens and answers. Screenshots go to docs/."""

from __future__ import annotations

import threading
import time
from functools import partial
from http.server import HTTPServer, SimpleHTTPRequestHandler

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from .helpers import DOCS, PASSWORD, free_port, reset_password, start_server, stop, wait, wait_healthy

pytestmark = pytest.mark.browser

PAGE = """<!doctype html>
<html lang="fa"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>کتاب‌فروشی</title></head><body><h1>کتاب‌فروشی نیلوفر</h1><p>صفحه‌ی فروشگاه</p>
<script src="{base}/static/widget-loader-1.1.0.js" async data-lang="fa" data-position="right"></script>
</body></html>"""


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory):
    data_dir = tmp_path_factory.mktemp("start-data")
    port, shop_port = free_port(), free_port()
    # No allowed_origins: the shop's site is not allowed yet (and not fixed by the environment).
    proc = start_server(data_dir, port, "--demo", "--model", "none", settings={"shop_name": "Book Nook"})
    wait_healthy(port, proc, timeout=120)
    base = f"http://127.0.0.1:{port}"
    root = tmp_path_factory.mktemp("shop-site")
    (root / "index.html").write_text(PAGE.format(base=base), encoding="utf-8")
    handler = partial(SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    site = HTTPServer(("127.0.0.1", shop_port), handler)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    reset_password(data_dir, PASSWORD, "--demo")
    yield {"base": base, "shop": f"http://127.0.0.1:{shop_port}"}
    site.shutdown()
    stop(proc)


def _visible_launchers(driver) -> int:
    return driver.execute_script(
        "return [...document.querySelectorAll('button[aria-expanded]')]"
        ".filter(b => getComputedStyle(b).display !== 'none' && b.offsetParent !== null).length"
    )


def test_a_refused_site_shows_nothing_and_the_owner_allows_it_in_one_click(browser, servers) -> None:
    shop = servers["shop"]
    browser.set_window_size(390, 844)
    browser.get(f"{shop}/index.html")
    # The loader asked and was told no: no button, no frame, nothing grey, at any time.
    time.sleep(3)
    assert _visible_launchers(browser) == 0
    assert browser.find_elements(By.CSS_SELECTOR, "iframe") == []
    DOCS.mkdir(exist_ok=True)
    browser.save_screenshot(str(DOCS / "start-refused-site-390.png"))

    # The owner signs in and finds the refusal on the home page.
    browser.set_window_size(1280, 900)
    browser.get(f"{servers['base']}/admin/login?lang=fa")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    alert = wait(browser).until(EC.visibility_of_element_located((By.CSS_SELECTOR, ".alert.refused")))
    assert shop in alert.text and "اجازه می‌دهید" in alert.text
    browser.save_screenshot(str(DOCS / "start-refusal-home-fa-1280.png"))
    alert.find_element(By.CSS_SELECTOR, "form[action='/admin/start/allow-site'] button").click()
    wait(browser).until(EC.url_contains("#start-site"))
    assert browser.find_elements(By.CSS_SELECTOR, ".alert.refused") == []
    assert shop in browser.find_element(By.ID, "start-site").text  # now among the allowed sites

    # Reload the shop's page: the chat opens and answers.
    browser.set_window_size(390, 844)
    browser.get(f"{shop}/index.html")
    launcher = wait(browser).until(EC.element_to_be_clickable((By.CSS_SELECTOR, "button[aria-expanded]")))
    launcher.click()
    frame = wait(browser).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "iframe[title]")))
    browser.switch_to.frame(frame)
    box = wait(browser).until(EC.element_to_be_clickable((By.ID, "text")))
    box.send_keys("ارسال به شیراز چند روز طول می‌کشد؟")
    browser.find_element(By.ID, "send").click()
    wait(browser, 30).until(
        lambda d: any(e.text for e in d.find_elements(By.CSS_SELECTOR, ".msg.bot:not(.intro) p:first-of-type"))
    )
    answer = browser.find_elements(By.CSS_SELECTOR, ".msg.bot:not(.intro) p:first-of-type")[0].text
    assert "روز" in answer
    browser.switch_to.default_content()
    browser.save_screenshot(str(DOCS / "start-allowed-chat-390.png"))
