"""The widget in real headless Chromium, on a shop page of another origin, against a real
`appliance serve --demo` process. Screenshots go to docs/ for people to look at."""

import sqlite3
import time

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC

from .helpers import (
    BUBBLE,
    DOCS,
    free_port,
    owner_session,
    start_server,
    stop,
    wait,
    wait_healthy,
)

pytestmark = pytest.mark.browser


def open_chat(driver, url: str) -> None:
    driver.get(url)
    launcher = wait(driver).until(EC.element_to_be_clickable((By.CSS_SELECTOR, "button[aria-expanded]")))
    launcher.click()
    frame = wait(driver).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "iframe[title]")))
    driver.switch_to.frame(frame)
    wait(driver).until(EC.element_to_be_clickable((By.ID, "text")))


def ask(driver, text: str) -> None:
    box = driver.find_element(By.ID, "text")
    box.send_keys(text)
    driver.find_element(By.ID, "send").click()


def bot_texts(driver) -> list[str]:
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".msg.bot:not(.intro) p:first-of-type")]


def wait_for_bot(driver, count: int, timeout: float = 30) -> list[str]:
    wait(driver, timeout).until(lambda d: len(bot_texts(d)) >= count and all(bot_texts(d)))
    return bot_texts(driver)


def shot(driver, name: str) -> None:
    DOCS.mkdir(exist_ok=True)
    driver.switch_to.default_content()
    driver.save_screenshot(str(DOCS / name))


def test_persian_question_streams_an_answer_right_to_left(browser, shop_site) -> None:
    open_chat(browser, f"{shop_site}/fa.html")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("dir") == "rtl"
    assert "دستیار خودکار" in browser.find_element(By.CSS_SELECTOR, ".intro").text  # bot disclosure
    ask(browser, "ارسال به شیراز چند روز طول می‌کشد؟")
    [answer] = wait_for_bot(browser, 1)
    assert "۳ تا ۵ روز کاری" in answer
    sources = browser.find_element(By.CSS_SELECTOR, ".msg.bot:not(.intro) .sources").text
    assert "زمان ارسال سفارش" in sources
    direction = browser.execute_script("return getComputedStyle(document.querySelector('.msg.customer')).direction")
    assert direction == "rtl"
    # a customer bubble sits on the inline-end side: the left, in right-to-left
    log_box = browser.find_element(By.ID, "log").rect
    mine = browser.find_element(By.CSS_SELECTOR, ".msg.customer").rect
    assert mine["x"] - log_box["x"] < log_box["width"] / 3
    shot(browser, "widget-fa.png")


def test_talk_to_a_person_with_contact_details(browser, shop_site, appliance_server) -> None:
    open_chat(browser, f"{shop_site}/en.html")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("dir") == "ltr"
    browser.find_element(By.ID, "person").click()
    [reply] = wait_for_bot(browser, 1)
    assert "a person will reply" in reply
    email = wait(browser).until(EC.visibility_of_element_located((By.ID, "contact-email")))
    email.send_keys("reader@example.com")
    browser.find_element(By.CSS_SELECTOR, "form.contact button[type=submit]").click()
    wait(browser).until(EC.text_to_be_present_in_element((By.ID, "log"), "Thanks, saved."))
    shot(browser, "widget-en.png")
    conn = sqlite3.connect(appliance_server["db"])
    row = conn.execute("SELECT status, contact_email FROM conversations WHERE contact_email != ''").fetchone()
    assert row == ("waiting", "reader@example.com")


def test_reload_keeps_the_conversation_and_rating_works(browser, shop_site, appliance_server) -> None:
    open_chat(browser, f"{shop_site}/en.html")
    ask(browser, "How much is shipping?")
    [answer] = wait_for_bot(browser, 1)
    assert "45,000 toman" in answer
    yes = wait(browser).until(EC.element_to_be_clickable((By.XPATH, "//div[@class='rating']/button[1]")))
    yes.click()
    wait(browser).until(EC.text_to_be_present_in_element((By.ID, "log"), "Thank you for your feedback."))
    browser.switch_to.default_content()
    browser.refresh()
    open_chat(browser, f"{shop_site}/en.html")
    wait(browser).until(EC.text_to_be_present_in_element((By.ID, "log"), "How much is shipping?"))
    assert any("45,000 toman" in t for t in bot_texts(browser))
    conn = sqlite3.connect(appliance_server["db"])
    assert conn.execute("SELECT count(*) FROM conversations WHERE rating = 1").fetchone()[0] >= 1


def test_owner_reply_lights_the_badge(browser, shop_site, appliance_server) -> None:
    open_chat(browser, f"{shop_site}/en.html")
    ask(browser, "Do you ship abroad?")
    wait_for_bot(browser, 1)
    conv = browser.execute_script("return JSON.parse(localStorage.getItem('appliance.chat.v1')).conversation")
    conn = sqlite3.connect(appliance_server["db"])
    with conn:  # what the owner's reply from the inbox does
        conn.execute(
            "INSERT INTO messages (conversation_id, role, text, created_at) "
            "VALUES (?, 'owner', 'We can ship to Turkey by arrangement.', 'now')",
            [conv],
        )
    browser.switch_to.default_content()
    browser.refresh()  # the customer comes back later; the chat is closed
    badge = browser.find_element(By.CSS_SELECTOR, "button[aria-expanded] span")
    wait(browser).until(lambda d: badge.is_displayed() and badge.text == "1")
    open_chat_button = browser.find_element(By.CSS_SELECTOR, "button[aria-expanded]")
    assert "(1)" in open_chat_button.get_attribute("aria-label")
    open_chat_button.click()
    browser.switch_to.frame(browser.find_element(By.CSS_SELECTOR, "iframe[title]"))
    wait(browser).until(
        EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".msg.owner"), "We can ship to Turkey by arrangement.")
    )


def test_hostile_text_is_shown_as_text(browser, shop_site) -> None:
    open_chat(browser, f"{shop_site}/en.html")
    payload = "<img src=x onerror=alert(1)><script>alert(2)</script>"
    ask(browser, payload)
    wait_for_bot(browser, 1)
    mine = browser.find_element(By.CSS_SELECTOR, ".msg.customer p").text
    assert mine == payload
    assert not browser.find_elements(By.CSS_SELECTOR, ".log img, .log script")
    with pytest.raises(NoAlertPresentException):
        _ = browser.switch_to.alert.text


def test_phone_width_with_the_keyboard_open(browser, shop_site) -> None:
    browser.set_window_size(360, 640)
    open_chat(browser, f"{shop_site}/fa.html")
    browser.switch_to.default_content()
    frame = browser.find_element(By.CSS_SELECTOR, "iframe[title]").rect
    width = browser.execute_script("return window.innerWidth")
    assert frame["width"] == width  # full screen on a phone
    browser.switch_to.frame(browser.find_element(By.CSS_SELECTOR, "iframe[title]"))
    send = browser.find_element(By.ID, "send").rect
    assert send["x"] >= 0 and send["x"] + send["width"] <= width
    # the keyboard takes half the screen: the input must still be on screen
    browser.set_window_size(360, 360)
    time.sleep(0.3)
    box = browser.find_element(By.ID, "text").rect
    inner = browser.execute_script("return window.innerHeight")
    assert box["y"] + box["height"] <= inner
    shot(browser, "widget-fa-phone.png")


def test_only_the_shop_may_frame_the_widget(appliance_server) -> None:
    import urllib.request

    with urllib.request.urlopen(f"{appliance_server['base']}/widget?lang=en") as r:
        csp = r.headers["content-security-policy"]
    assert f"frame-ancestors 'self' http://127.0.0.1:{appliance_server['host_port']}" in csp


def test_consent_gates_the_first_message(browser, tmp_path) -> None:
    data_dir = tmp_path / "consent-data"
    port = free_port()
    proc = start_server(data_dir, port, "--demo", "--model", "none", settings={"require_consent": "true"})
    try:
        wait_healthy(port, proc, timeout=120)
        browser.get(f"http://127.0.0.1:{port}/widget?lang=en")
        assert not browser.find_element(By.ID, "send").is_enabled()
        browser.find_element(By.ID, "consent").click()
        ask(browser, "How much is shipping?")
        assert "45,000 toman" in wait_for_bot(browser, 1)[0]
        assert not browser.find_element(By.ID, "consent-row").is_displayed()
        conn = sqlite3.connect(data_dir / "appliance.db")
        assert conn.execute("SELECT count(*) FROM conversations WHERE consent_at IS NOT NULL").fetchone()[0] == 1
    finally:
        stop(proc)


def test_the_owners_reply_appears_in_the_open_widget_and_survives_a_dropped_network(
    browser, shop_site, appliance_server
) -> None:
    open_chat(browser, f"{shop_site}/en.html")
    ask(browser, "I want to talk to a real person")
    wait_for_bot(browser, 1)
    conv = browser.execute_script("return JSON.parse(localStorage.getItem('appliance.chat.v1')).conversation")
    owner = owner_session(appliance_server)
    time.sleep(1)  # the widget's stream is open (it opens after the first answer)

    owner.get(f"/admin/conversations/{conv}")  # the owner opens it: the customer sees "Seen"
    wait(browser, 10).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".msg.customer .seen"), "Seen"))
    owner.post(f"/admin/conversations/{conv}/typing")
    wait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".typing"))
    sent = time.monotonic()
    owner.post(f"/admin/conversations/{conv}/reply", data={"text": "Hello, I'm here. Which order is it?"})
    wait(browser, 10).until(
        EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".msg.owner"), "Hello, I'm here. Which order is it?")
    )
    print(f"owner reply visible in the open widget after {(time.monotonic() - sent) * 1000:.0f} ms (no reload)")

    # the network drops; the owner answers twice meanwhile; the network comes back
    browser.execute_cdp_cmd("Network.enable", {})
    offline = {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", offline)
    time.sleep(1)
    for text in ("It left us on Monday.", "The tracking code is TR-4471."):
        owner.post(f"/admin/conversations/{conv}/reply", data={"text": text})
    time.sleep(1)
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", {**offline, "offline": False})
    wait(browser, 30).until(EC.text_to_be_present_in_element((By.ID, "log"), "The tracking code is TR-4471."))
    time.sleep(2)  # anything doubled would be here by now
    owners = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".msg.owner p")]
    assert owners == ["Hello, I'm here. Which order is it?", "It left us on Monday.", "The tracking code is TR-4471."]
    shot(browser, "widget-owner-live-en.png")


def _jpeg(path, size=(1200, 800), colour=(200, 40, 40)) -> str:
    from PIL import Image

    Image.new("RGB", size, colour).save(path, "JPEG")
    return str(path)


def test_a_photo_goes_both_ways_and_a_hostile_file_named_jpg_is_refused(
    browser, shop_site, appliance_server, tmp_path
) -> None:
    open_chat(browser, f"{shop_site}/fa.html")
    picker = browser.find_element(By.ID, "photo")
    # An HTML page and an SVG named .jpg: refused, said in Persian, nothing shown as sent
    for name, content in (
        ("parcel.jpg", "<!doctype html><script>parent.alert(1)</script>"),
        ("logo.jpg", '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    ):
        hostile = tmp_path / name
        hostile.write_text(content, encoding="utf-8")
        picker.send_keys(str(hostile))
        wait(browser, 15).until(EC.text_to_be_present_in_element((By.ID, "status"), "عکس نیست"))
        assert not browser.find_elements(By.CSS_SELECTOR, ".msg.customer")
        browser.execute_script(
            "document.getElementById('status').hidden = true; document.getElementById('status').textContent = ''"
        )
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018

    # A real photo with a few words: shown as the shop stored it, and the bot says a person will look
    browser.find_element(By.ID, "text").send_keys("کتاب پاره به دستم رسید")
    picker.send_keys(_jpeg(tmp_path / "damaged.jpg"))
    loaded = "return [...document.querySelectorAll(arguments[0])].filter(i => i.complete && i.naturalWidth > 0).length"
    wait(browser, 20).until(lambda d: d.execute_script(loaded, ".msg.customer img.photo") == 1)
    wait(browser, 20).until(lambda d: any("عکس" in t for t in bot_texts(d)))
    assert "کتاب پاره به دستم رسید" in browser.find_element(By.CSS_SELECTOR, ".msg.customer").text
    src = browser.execute_script("return document.querySelector('.msg.customer img.photo').src")
    assert src.startswith("blob:")  # fetched with the visitor's token, not from a guessable address

    # The owner sees it in the admin, and sends an image back: it appears in the open chat
    conv = browser.execute_script("return JSON.parse(localStorage.getItem('appliance.chat.v1')).conversation")
    owner = owner_session(appliance_server)
    page = owner.get(f"/admin/conversations/{conv}").text
    file_id = page.split('src="/admin/attachments/', 1)[1].split('"', 1)[0]
    got = owner.get(f"/admin/attachments/{file_id}")
    assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
    time.sleep(1)  # the widget's stream is open
    with open(_jpeg(tmp_path / "replacement.jpg", (600, 400), (40, 160, 60)), "rb") as fh:
        sent = owner.post(
            f"/admin/conversations/{conv}/reply",
            files={"file": ("جایگزین.jpg", fh.read(), "image/jpeg")},
            data={"text": "این نسخه‌ی سالم است که فردا می‌فرستیم"},
        )
    assert sent.status_code == 200
    wait(browser, 10).until(lambda d: d.execute_script(loaded, ".msg.owner img.photo") == 1)
    assert "نسخه‌ی سالم" in browser.find_element(By.CSS_SELECTOR, ".msg.owner").text
    shot(browser, "widget-photo-fa.png")

    # and in the owner's own browser the customer's photo shows in the transcript
    browser.switch_to.default_content()
    browser.get(f"{appliance_server['base']}/admin/login")
    for cookie in owner.cookies.jar:
        browser.add_cookie({"name": cookie.name, "value": cookie.value, "path": "/"})
    browser.get(f"{appliance_server['base']}/admin/conversations/{conv}")
    wait(browser, 10).until(lambda d: d.execute_script(loaded, ".transcript .attachment img") == 2)


def test_a_proactive_message_fires_once_and_a_closed_one_keeps_them_away_for_the_day(
    browser, shop_site, appliance_server
) -> None:
    owner = owner_session(appliance_server)
    for form in (
        {"name": "gift", "page": "/books/*", "seconds": "1", "message_en": "Looking for a gift? Ask me."},
        {"name": "checkout", "script_name": "checkout-help", "message_en": "Stuck at checkout? I can help."},
        {"name": "persian", "page": "/کتاب/*", "lang": "fa", "message_fa": "کتاب هدیه می‌خواهید؟"},
    ):
        data = {
            "visitors": "all",
            "lang": "",
            "hours": "any",
            "every_days": "1",
            "enabled": "on",
            "scroll": "0",
            **form,
        }
        assert owner.post("/admin/triggers/new", data=data).status_code == 200
    made = {t["id"] for lang in ("fa", "en") for t in owner.get(f"/api/v1/triggers?lang={lang}").json()["triggers"]}
    try:
        browser.get(f"{shop_site}/کتاب/هدیه.html")  # the browser asks for /%DA%A9%D8%AA...
        wait(browser, 15).until(lambda d: d.execute_script(BUBBLE) == ["کتاب هدیه می‌خواهید؟×"])
        # from the keyboard: Enter on the message opens the chat
        browser.find_element(By.XPATH, "//div[@role='status']/span").send_keys(Keys.ENTER)
        wait(browser).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "iframe[title]")))
        assert browser.execute_script(BUBBLE) == []
        browser.get(f"{shop_site}/en.html")  # not a book page: nothing
        time.sleep(3)
        assert browser.execute_script(BUBBLE) == []
        browser.get(f"{shop_site}/books/gift.html?utm_source=instagram")  # a campaign's address: still a book page
        wait(browser, 15).until(lambda d: d.execute_script(BUBBLE) == ["Looking for a gift? Ask me.×"])
        shot(browser, "widget-proactive-en.png")
        browser.find_element(By.XPATH, "//div[@role='status']/span").click()  # opens the chat
        frame = wait(browser).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "iframe[title]")))
        browser.switch_to.frame(frame)
        wait(browser).until(
            EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".msg.bot.proactive"), "Looking for a gift?")
        )
        ask(browser, "Do you wrap books as gifts?")
        wait_for_bot(browser, 2)  # the proactive message and the reply
        browser.switch_to.default_content()
        # once a day: the same page again shows nothing
        browser.get(f"{shop_site}/books/gift.html")
        time.sleep(4)
        assert browser.execute_script(BUBBLE) == []
        # a single-page shop fires one from its own script; the visitor closes it
        browser.get(f"{shop_site}/checkout.html")
        wait(browser, 15).until(
            lambda d: d.execute_script("return !!(window.SupportWidget && document.querySelector('iframe[title]'))")
        )
        browser.execute_script("window.SupportWidget.trigger('checkout-help')")
        wait(browser, 15).until(lambda d: d.execute_script(BUBBLE) == ["Stuck at checkout? I can help.×"])
        browser.find_element(By.XPATH, "//div[@role='status']/button").click()
        assert browser.execute_script(BUBBLE) == []
        time.sleep(1)
        browser.execute_script("window.SupportWidget.trigger('checkout-help')")
        time.sleep(3)
        assert browser.execute_script(BUBBLE) == []

        db = sqlite3.connect(appliance_server["db"])
        events = db.execute(
            "SELECT t.name, e.event, count(*) FROM trigger_events e JOIN triggers t ON t.id = e.trigger_id "
            "GROUP BY t.name, e.event ORDER BY t.name, e.event"
        ).fetchall()
        db.close()
        assert events == [
            ("checkout", "closed", 1),
            ("checkout", "shown", 1),
            ("gift", "opened", 1),
            ("gift", "replied", 1),
            ("gift", "shown", 1),
            ("persian", "opened", 1),
            ("persian", "shown", 1),
        ]
        assert "Looking for a gift?" in owner.get("/admin/triggers?lang=en").text
    finally:
        for trigger_id in made:
            owner.post(f"/admin/triggers/{trigger_id}/delete")
