"""The inbox in real headless Chromium, at a phone's width and a desktop's: the language switch
on a conversation's pages, one pane at a time on a phone with a way back, the reply box's draft,
and the analytics heat-map's labels at a readable size."""

from __future__ import annotations

import tempfile
import time

import httpx
import pytest
from selenium.webdriver.common.by import By

from .helpers import free_port, reset_password, start_chromium, start_server, stop, wait, wait_healthy

pytestmark = pytest.mark.browser

PASSWORD = "a long inbox password"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    from .helpers import chromium_paths

    if chromium_paths() is None:
        pytest.skip("Chromium/chromedriver not installed (./install.sh --dev installs them)")
    data_dir = tmp_path_factory.mktemp("inbox-data")
    reset_password(data_dir, PASSWORD, "--demo")
    port = free_port()
    proc = start_server(data_dir, port, "--demo", "--model", "none")
    wait_healthy(port, proc, timeout=120)
    base = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=base) as c:
        body = c.post("/api/v1/conversations", json={"lang": "fa"}).json()
        auth = {"authorization": f"Bearer {body['visitor_token']}"}
        c.post(
            f"/api/v1/conversations/{body['conversation_id']}/messages",
            json={"text": "میخوام با یه آدم واقعی حرف بزنم"},
            headers=auth,
        )
        c.post(
            f"/api/v1/conversations/{body['conversation_id']}/contact", json={"phone": "+989123456789"}, headers=auth
        )
    yield base, body["conversation_id"]
    stop(proc)


def _lang(driver) -> str:
    return driver.execute_script("return document.readyState === 'complete' ? document.documentElement.lang : ''")


def _switch_language(driver) -> None:
    """The owner's own tap on the visible switch (a real click: anything covering it would take it)."""
    wait(driver).until(_lang)
    before = _lang(driver)
    (button,) = [
        b for b in driver.find_elements(By.CSS_SELECTOR, "button[hx-post='/admin/language']") if b.is_displayed()
    ]
    button.click()
    wait(driver).until(lambda d: _lang(d) not in ("", before))


@pytest.mark.parametrize("width", [390, 1280])
def test_the_language_switch_a_pane_at_a_time_and_the_reply_draft(server, width: int) -> None:
    base, conv = server
    driver = start_chromium(tempfile.mkdtemp(), f"--window-size={width},900", "--lang=fa")
    try:
        driver.get(f"{base}/admin/login?next=/admin/inbox")
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        wait(driver).until(lambda d: "/admin/inbox" in d.current_url)

        # the language switch on a conversation's own page and in the two-pane inbox
        for page in (f"/admin/conversations/{conv}", f"/admin/inbox?view=waiting&c={conv}"):
            driver.get(base + page)
            first = _lang(driver)
            _switch_language(driver)
            assert conv in driver.current_url and "lang=" not in driver.current_url
            _switch_language(driver)
            assert _lang(driver) == first

        driver.get(f"{base}/admin/inbox?view=waiting&c={conv}&lang=fa")
        listed = driver.find_element(By.ID, "inbox-rows")
        back = driver.find_element(By.CSS_SELECTOR, ".inbox-pane .back")
        if width < 992:  # a phone: the conversation alone, and the way back to the list
            assert not listed.is_displayed() and back.is_displayed()
        else:
            assert listed.is_displayed() and not back.is_displayed()
        phone = driver.find_element(By.CSS_SELECTOR, ".contact bdi")
        assert phone.text == "+989123456789" and phone.get_attribute("dir") == "ltr"

        # the reply box keeps what was typed through a reload
        driver.find_element(By.ID, "reply").send_keys("سلام، کتاب‌تان فردا می‌رسد.")
        time.sleep(1)  # the draft is kept 300 ms after the last key
        driver.refresh()
        typed = "return (document.getElementById('reply') || {}).value"
        wait(driver).until(lambda d: d.execute_script(typed) == "سلام، کتاب‌تان فردا می‌رسد.")
        if width < 992:
            driver.find_element(By.CSS_SELECTOR, ".inbox-pane .back").click()
            wait(driver).until(lambda d: d.find_element(By.ID, "inbox-rows").is_displayed())

        # the heat-map's labels stay readable: drawn at its own size, scrolled on a phone
        driver.get(f"{base}/admin/analytics?lang=fa")
        size = driver.execute_script(
            "const t = document.querySelector('svg.heat-map text');"
            "const svg = t.ownerSVGElement;"
            "return parseFloat(getComputedStyle(t).fontSize) * svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;"
        )
        assert size >= 11, size
    finally:
        driver.quit()
