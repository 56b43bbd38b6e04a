"""A phone number in the Persian chat, measured in real Chromium: the bot's answer, the customer's
message and the owner's reply each show "+98 21 1234 5678" with the plus at the left end and
the groups in the order written (it showed "5678 1234 21 98+")."""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from .helpers import free_port, owner_session, start_server, stop, wait, wait_healthy

pytestmark = pytest.mark.browser

# Where each character of the first occurrence of ``s`` in ``el`` is drawn, across text nodes.
CHARS = """
const [el, s] = arguments;
const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
const nodes = []; let full = ""; let n;
while ((n = walker.nextNode())) { nodes.push([n, full.length]); full += n.data; }
const at = full.indexOf(s);
if (at < 0) return null;
const out = [];
for (let i = at; i < at + s.length; i++) {
  const [node, base] = nodes.find(([nd, b]) => b <= i && i < b + nd.data.length);
  const r = document.createRange();
  r.setStart(node, i - base); r.setEnd(node, i - base + 1);
  const box = r.getBoundingClientRect();
  out.push([full[i], box.left, box.right, box.top]);
}
return out;
"""


def reads_left_to_right(driver, element, run: str) -> list:
    chars = driver.execute_script(CHARS, element, run)
    assert chars is not None, f"{run!r} not in {element.text!r}"
    drawn = [c for c in chars if c[0].strip()]
    assert len({round(c[3]) for c in drawn}) == 1, chars  # on one line, so left and right mean order
    lefts = [c[1] for c in drawn]
    assert lefts == sorted(lefts) and lefts[0] == min(lefts), [(c[0], round(c[1])) for c in drawn]
    return drawn


@pytest.fixture
def shop(tmp_path):
    data_dir = tmp_path / "data"
    port = free_port()
    proc = start_server(data_dir, port, "--demo", "--model", "none")
    try:
        wait_healthy(port, proc, timeout=120)
        yield {"base": f"http://127.0.0.1:{port}", "db": data_dir / "appliance.db"}
    finally:
        stop(proc)


def test_a_phone_number_reads_left_to_right_in_the_persian_chat(browser, shop) -> None:
    owner = owner_session(shop)
    contact = {
        "title": "راه‌های تماس",
        "questions": "شماره تماس شما چیست؟\nچطور با شما تماس بگیرم؟",
        "answer": "با شماره +98 21 1234 5678 در ساعت کاری تماس بگیرید.",
        "lang": "fa",
        "enabled": "on",
    }
    assert owner.post("/admin/kb/contact-fa", data=contact).status_code < 400
    browser.set_window_size(390, 844)
    browser.get(shop["base"] + "/widget?lang=fa")
    wait(browser).until(EC.element_to_be_clickable((By.ID, "text")))

    browser.find_element(By.ID, "text").send_keys("شماره تماس شما چیست؟")
    browser.find_element(By.ID, "send").click()
    answer = wait(browser, 30).until(
        lambda d: [e for e in d.find_elements(By.CSS_SELECTOR, ".msg.bot:not(.intro) p") if "5678" in e.text]
    )[0]
    drawn = reads_left_to_right(browser, answer, "+98 21 1234 5678")
    assert drawn[0][0] == "+"  # the plus at the left end of the run
    assert browser.execute_script("return getComputedStyle(arguments[0]).direction", answer) == "rtl"

    browser.find_element(By.ID, "text").send_keys("شماره من ۰۹۱۲ ۱۲۳ ۴۵۶۷ است، با یک آدم واقعی حرف بزنم")
    browser.find_element(By.ID, "send").click()
    mine = wait(browser, 30).until(
        lambda d: [e for e in d.find_elements(By.CSS_SELECTOR, ".msg.customer p") if "۴۵۶۷" in e.text]
    )[0]
    reads_left_to_right(browser, mine, "۰۹۱۲ ۱۲۳ ۴۵۶۷")

    # the owner replies, with a left-to-right mark typed before the number (it didn't help)
    conv = browser.execute_script("return JSON.parse(localStorage.getItem('appliance.chat.v1')).conversation")
    time.sleep(1)
    said = "سلام، با \u200e+98 21 1234 5678 تماس بگیرید یا کد 12-34-AB را بفرستید"
    assert owner.post(f"/admin/conversations/{conv}/reply", data={"text": said}).status_code < 400
    reply = wait(browser, 30).until(EC.visibility_of_element_located((By.CSS_SELECTOR, ".msg.owner p")))
    wait(browser, 10).until(lambda d: "12-34-AB" in reply.text)
    assert reads_left_to_right(browser, reply, "+98 21 1234 5678")[0][0] == "+"
    reads_left_to_right(browser, reply, "12-34-AB")
