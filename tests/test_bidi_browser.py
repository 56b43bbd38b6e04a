"""Latin text in the Persian chat, measured in real Chromium. A phone number in the bot's answer,
the customer's message and the owner's reply shows "+98 21 1234 5678" with the plus at the left
end and the groups in the order written (it showed "5678 1234 21 98+"). A product's model reads
"Galaxy A54" (it showed "A54 Galaxy"), and a Persian list of sizes reads S، M، L from the right
like the buttons under it (it was one left-to-right run). An English reply is drawn as before."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from appliance.text.bidi import reads_right_to_left, runs, stays_on_one_line

from .helpers import APPLIANCE, free_port, owner_session, start_server, stop, wait, wait_healthy

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


# -- Latin phrases and Persian lists: the catalog's replies and choices ------------------------------

# A WooCommerce export: a phone case made for two models, a shirt in three sizes, a power bank
# whose capacities are written in Persian (for the English reply).
CATALOG = (
    '\ufeffID,Type,SKU,Name,Published,"In stock?",Stock,"Regular price",Parent,'
    '"Attribute 1 name","Attribute 1 value(s)"\n'
    '21,variable,TEE,تیشرت طرح حافظ,1,1,,,,سایز,"S, M, L"\n'
    "22,variation,TEE-S,تیشرت طرح حافظ - S,1,1,5,420000,id:21,سایز,S\n"
    "23,variation,TEE-M,تیشرت طرح حافظ - M,1,1,7,420000,id:21,سایز,M\n"
    "24,variation,TEE-L,تیشرت طرح حافظ - L,1,1,9,450000,id:21,سایز,L\n"
    '31,variable,PB,پاوربانک شیائومی,1,1,,,,ظرفیت,"10000 میلی‌آمپر, 20000 میلی‌آمپر"\n'
    "32,variation,PB-10,پاوربانک شیائومی - 10000,1,1,8,1150000,id:31,ظرفیت,10000 میلی‌آمپر\n"
    "33,variation,PB-20,پاوربانک شیائومی - 20000,1,1,6,1800000,id:31,ظرفیت,20000 میلی‌آمپر\n"
    '71,variable,CASE,قاب سیلیکونی,1,1,,,,مدل گوشی,"Galaxy A54, iPhone 13"\n'
    "72,variation,CASE-A54,قاب سیلیکونی - Galaxy A54,1,1,5,190000,id:71,مدل گوشی,Galaxy A54\n"
    "73,variation,CASE-13,قاب سیلیکونی - iPhone 13,1,1,5,210000,id:71,مدل گوشی,iPhone 13\n"
)

# Each <bdi> in ``el``: its text, whether it keeps to one line, and its box.
BDIS = """
return [...arguments[0].querySelectorAll('bdi')].map(b => {
  const r = b.getBoundingClientRect();
  return {text: b.textContent, nowrap: b.classList.contains('text-nowrap'),
          left: r.left, right: r.right, top: r.top, bottom: r.bottom};
});
"""

BOX = "const r = arguments[0].getBoundingClientRect(); return {left: r.left, right: r.right, top: r.top, bottom: r.bottom};"

# A copy of ``el`` beside it holding its text alone (no <bdi>): the text as it was drawn before.
PLAIN_COPY = """
const copy = arguments[0].cloneNode(false);
copy.textContent = arguments[0].textContent;
arguments[0].after(copy);
return copy;
"""


@pytest.fixture(scope="module")
def catalog_shop(tmp_path_factory):
    """The demo shop with the catalog imported as an owner would (`appliance catalog import`)."""
    data_dir = tmp_path_factory.mktemp("bidi-shop") / "data"
    csv = data_dir.parent / "products.csv"
    csv.write_text(CATALOG, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPLIANCE_")}
    command = [APPLIANCE, "catalog", "import", "--demo", "--data-dir", str(data_dir), "--currency", "تومان", str(csv)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    port = free_port()
    proc = start_server(data_dir, port, "--demo", "--model", "none")
    try:
        wait_healthy(port, proc, timeout=120)
        yield {"base": f"http://127.0.0.1:{port}", "db": data_dir / "appliance.db"}
    finally:
        stop(proc)


def open_chat(driver, base: str, lang: str, width: int) -> None:
    driver.set_window_size(width, 844 if width < 600 else 900)
    driver.get(f"{base}/widget?lang={lang}")
    wait(driver).until(EC.element_to_be_clickable((By.ID, "text")))


def ask(driver, text: str, wanted: str):
    """The first paragraph of the bot's reply to ``text``, which says ``wanted``, once the reply
    is complete (its choices shown)."""
    before = len(driver.find_elements(By.CSS_SELECTOR, ".choices"))
    driver.find_element(By.ID, "text").send_keys(text)
    driver.find_element(By.ID, "send").click()
    wait(driver, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".choices")) > before)
    return [e for e in driver.find_elements(By.CSS_SELECTOR, ".msg.bot:not(.intro) p") if wanted in e.text][-1]


def isolated(driver, element) -> dict[str, dict]:
    return {b["text"]: b for b in driver.execute_script(BDIS, element)}


def read_right_to_left(*boxes: dict) -> bool:
    """Each box comes after the one before it in a right-to-left paragraph: on the same line and
    to its left, or on a line below."""
    for a, b in zip(boxes, boxes[1:], strict=False):
        same_line = abs(a["top"] - b["top"]) < 4
        if not (b["right"] <= a["left"] + 0.5 if same_line else b["top"] >= a["bottom"] - 4):
            return False
    return True


def drawn(driver, element) -> list[tuple[str, float, float]]:
    """Each character of ``element``, where it is drawn from the element's own corner."""
    box = driver.execute_script(BOX, element)
    text = driver.execute_script("return arguments[0].textContent", element)
    chars = driver.execute_script(CHARS, element, text)
    return [(c, round(left - box["left"], 1), round(top - box["top"], 1)) for c, left, _, top in chars]


@pytest.mark.slow
def test_latin_phrases_and_a_persian_list_read_in_order_in_the_persian_chat(browser, catalog_shop, tmp_path) -> None:
    """«قاب سیلیکونی (Galaxy A54)» showed "(A54 Galaxy)", and «این‌ها را داریم: S، M، L» was one
    left-to-right run, read L، M، S from the right while the buttons under it went S, M, L.
    Screenshots go to $BIDI_SHOTS (default: the test's temporary directory)."""
    shots = Path(os.environ.get("BIDI_SHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    open_chat(browser, catalog_shop["base"], "fa", 390)

    reply = ask(browser, "قاب سیلیکونی گلکسی A24 چنده؟", "iPhone 13")
    assert "را در A24 نداریم. این‌ها را داریم: Galaxy A54، iPhone 13" in reply.text
    assert browser.execute_script("return getComputedStyle(arguments[0]).direction", reply) == "rtl"
    found = isolated(browser, reply)
    assert list(found) == ["A24", "Galaxy A54", "iPhone 13"]  # each model one run, "Galaxy" in it
    assert read_right_to_left(found["Galaxy A54"], found["iPhone 13"])
    reads_left_to_right(browser, reply, "Galaxy A54")  # "Galaxy" left of "A54"
    galaxy = next(b for b in browser.find_elements(By.CSS_SELECTOR, ".choices button") if "Galaxy" in b.text)
    assert galaxy.text == "قاب سیلیکونی (Galaxy A54)" and list(isolated(browser, galaxy)) == ["Galaxy A54"]
    reads_left_to_right(browser, galaxy, "Galaxy A54")
    name = browser.execute_script(CHARS, galaxy, "قاب سیلیکونی")
    assert min(c[1] for c in name) >= isolated(browser, galaxy)["Galaxy A54"]["right"]  # the name first, at the right

    reply = ask(browser, "تیشرت طرح حافظ سایز XL دارین؟", "S، M، L")
    assert "این‌ها را داریم: S، M، L" in reply.text
    found = isolated(browser, reply)
    assert found["S"]["left"] > found["M"]["right"] and found["M"]["left"] > found["L"]["right"], found
    assert read_right_to_left(found["S"], found["M"], found["L"]) and not any(r["nowrap"] for r in found.values())
    sizes = [b for b in browser.find_elements(By.CSS_SELECTOR, ".choices button") if "حافظ" in b.text]
    assert [b.text for b in sizes] == ["تیشرت طرح حافظ (S)", "تیشرت طرح حافظ (M)", "تیشرت طرح حافظ (L)"]
    assert read_right_to_left(*(browser.execute_script(BOX, b) for b in sizes))  # the buttons in the same order
    # the same text without its isolates, as it was drawn: one left-to-right run, S at the left
    plain = browser.execute_script(PLAIN_COPY, reply)
    before = {c[0]: c[1] for c in browser.execute_script(CHARS, plain, "S، M، L")}
    assert before["S"] < before["M"] < before["L"]
    browser.execute_script("arguments[0].remove()", plain)
    browser.save_screenshot(str(shots / "chat-fa-390.png"))

    browser.set_window_size(1280, 900)
    time.sleep(0.3)
    found = isolated(browser, reply)
    assert read_right_to_left(found["S"], found["M"], found["L"])
    galaxy_reply = next(e for e in browser.find_elements(By.CSS_SELECTOR, ".msg.bot p") if "iPhone" in e.text)
    found = isolated(browser, galaxy_reply)
    assert read_right_to_left(found["A24"], found["Galaxy A54"], found["iPhone 13"])
    reads_left_to_right(browser, galaxy_reply, "Galaxy A54")
    browser.save_screenshot(str(shots / "chat-fa-1280.png"))


@pytest.mark.slow
def test_an_english_reply_is_drawn_as_before(browser, catalog_shop) -> None:
    """Isolating Latin phrases is for a Persian text: an English reply naming Persian values keeps
    its words bare, reads left to right, and every character is where it was without the isolates
    (with all its words isolated, dir=auto would have taken its direction from the Persian)."""
    open_chat(browser, catalog_shop["base"], "en", 1280)
    reply = ask(browser, "xiaomi powerbank 30000mAh price?", "We don")
    assert "10000 میلی‌آمپر" in reply.text
    assert browser.execute_script("return getComputedStyle(arguments[0].parentNode).direction", reply) == "ltr"
    text = browser.execute_script("return arguments[0].textContent", reply)
    assert not reads_right_to_left(text)
    found = list(isolated(browser, reply))
    assert found == [text[a:b] for a, b in runs(text)] and not any(" " in run for run in found), found  # no phrase
    plain = browser.execute_script(PLAIN_COPY, reply)
    isolates, bare = drawn(browser, reply), drawn(browser, plain)
    assert [(c, top) for c, _, top in isolates] == [(c, top) for c, _, top in bare]  # each letter on its line
    assert max(abs(a[1] - b[1]) for a, b in zip(isolates, bare, strict=True)) < 0.5  # and in its place
    assert isolates[0][:2] == ("W", 0.0)  # "We" at the left edge


@pytest.mark.slow
def test_the_chat_cuts_text_into_runs_as_the_admin_does(browser, catalog_shop) -> None:
    """The widget's copy of the rule, run on the owner's replies: the same runs as bidi.runs, the
    same phone numbers kept on one line, in Persian and English texts."""
    texts = [
        "قاب سیلیکونی (Galaxy A54)",
        "این‌ها را داریم: S، M، L؛ و USB-C یا Redmi Note 12؟",
        "پیام خطا: Payment failed, please try again. بعد چه کنم؟",
        "با ۰۹۱۲ ۱۲۳ ۴۵۶۷ یا support@ketab.ir تماس بگیرید، کد ORD-1402-77 و https://ketab.ir/books/",
        "سلام، Call 0912 123 4567 now و رم 8 GB",
        "iPhone 13 را داریم",
        "We have پاوربانک شیائومی in 10000 and 20000, call +98 21 1234 5678 or see /books/new/",
    ]
    owner = owner_session(catalog_shop)
    open_chat(browser, catalog_shop["base"], "fa", 1280)
    ask(browser, "قاب سیلیکونی گلکسی A24 چنده؟", "iPhone 13")
    conv = browser.execute_script("return JSON.parse(localStorage.getItem('appliance.chat.v1')).conversation")
    time.sleep(1)  # the widget's stream is open
    for text in texts:
        assert owner.post(f"/admin/conversations/{conv}/reply", data={"text": text}).status_code < 400
    shown = wait(browser, 30).until(
        lambda d: (ps := d.find_elements(By.CSS_SELECTOR, ".msg.owner p")) and len(ps) == len(texts) and ps
    )
    for text, p in zip(texts, shown, strict=True):
        assert browser.execute_script("return arguments[0].textContent", p) == text
        in_chat = [(b["text"], b["nowrap"]) for b in browser.execute_script(BDIS, p)]
        assert in_chat == [(text[a:b], stays_on_one_line(text[a:b])) for a, b in runs(text)], text
