#!/usr/bin/env python3
"""Screenshots of every admin page and the widget, in Persian and English, at phone and desktop
widths, for people to look at (not a test: nothing is asserted).

    .venv/bin/python scripts/screenshots.py                 # into ./screenshots/
    .venv/bin/python scripts/screenshots.py --out /tmp/shots --widths 390 1280

It starts `appliance serve --demo` in a fresh data directory (no model), sets the owner's
password, lets a customer ask for a person in Persian (so the inbox and a conversation have
something in them), then opens each page in headless Chromium and saves
``<page>-<lang>-<width>.png``; and the chat itself: a reply with choices
(``widget-choices-<lang>-<width>``) and a Persian follow-up (``widget-follow-up-fa-<width>``).
The home and settings pages are taken once the shop's calibration is fitted on its questions.
Needs the test tools (./install.sh --dev): selenium, chromium.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers import APPLIANCE, free_port, reset_password, start_chromium, start_server, stop, wait_healthy

PASSWORD = "screenshots owner password"
TALLEST = 4000  # px: one screenshot's height at most
PAGES = [
    ("home", "/admin/"),
    ("inbox", "/admin/inbox?view=all"),
    ("conversation", None),  # the customer's conversation, found at run time
    ("inbox-conversation", "two-panes"),  # the inbox with that conversation beside the list
    ("kb", "/admin/kb"),
    ("kb-new", "/admin/kb/new"),
    ("kb-import", "/admin/kb-import"),
    ("try", "/admin/try?q=هزینه ارسال چقدره؟"),
    ("catalog", "/admin/catalog"),
    ("orders", "/admin/orders"),
    ("documents", "/admin/documents"),
    ("document-preview", "upload"),  # the preview after uploading FAQ_PAGE through the form
    ("triggers", "/admin/triggers"),
    ("trigger-edit", "/admin/triggers/1"),
    ("analytics", "/admin/analytics"),
    ("settings", "/admin/settings"),
    ("backups", "/admin/backups"),
    ("channels", "/admin/channels"),
    ("channels-telegram", "/admin/channels/telegram"),
    ("channels-email", "/admin/channels/email"),
    ("alerts", "/admin/alerts"),
    ("webhooks", "/admin/webhooks"),
    ("saved-replies", "/admin/saved-replies"),
    ("widget", "/widget"),
    ("front-proactive", "front"),  # the appliance's own front page, with a proactive message's bubble
]


FAQ_PAGE = """<!doctype html><html lang="fa"><head><meta charset="utf-8"><title>پرسش‌های متداول</title></head>
<body><nav><a href="/">خانه</a></nav><main><h1>پرسش‌های متداول</h1>
<h2>کارت هدیه دارید؟</h2><p>بله، کارت هدیه از ۲۰۰ هزار تا ۲ میلیون تومان، تا یک سال معتبر.</p>
<h2>Gift wrapping</h2><p>Any book can be gift-wrapped with a handwritten card for 20,000 toman.</p>
<details><summary>Do you ship abroad?</summary><p>Not yet: only within Iran.</p></details>
</main></body></html>"""


def _shrink(path: Path) -> None:
    """256 colours: a third of the size, the text as sharp (the admin has few colours)."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def shoot(driver, width: int, stem: Path) -> list[Path]:
    """The page now open, whole, at ``width``: ``stem.png``, and for a page taller than a window
    can be (the settings on a phone) ``stem-2.png``, ``stem-3.png`` ... down to its end; reduced
    to 256 colours. Leaves the window 900 px tall."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    # The window's own bars take part of its height: add them, so the page fits.
    bars = driver.execute_script("return window.outerHeight - window.innerHeight") or 0
    driver.set_window_size(width, min(max(height, 600), TALLEST) + bars)
    wide = driver.execute_script("return document.documentElement.scrollWidth > document.documentElement.clientWidth")
    view = driver.execute_script("return window.innerHeight") or TALLEST
    shots = []
    for part, top in enumerate(range(0, max(height, 1), view), 1):
        driver.execute_script("window.scrollTo(0, arguments[0])", top)
        time.sleep(0.2)
        target = stem.with_name(stem.name + ("" if part == 1 else f"-{part}") + ".png")
        driver.save_screenshot(str(target))
        _shrink(target)
        print(f"{target}{'   (scrolls sideways)' if wide else ''}")
        shots.append(target)
    driver.set_window_size(width, 900)
    return shots


def _post(url: str, body: dict, token: str | None = None) -> bytes:
    headers = {"content-type": "application/json", **({"authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as r:
        return r.read()


def _photos_and_triggers(base: str, conv: str, token: str) -> None:
    """A customer's photo and the owner's PDF in the conversation; a proactive message for the
    front page and one for book pages (through the API and the admin, as in use)."""
    import io

    import httpx
    from PIL import Image

    from tests.helpers import pdf

    picture = io.BytesIO()
    Image.new("RGB", (900, 600), (180, 60, 50)).save(picture, "JPEG")
    httpx.post(
        f"{base}/api/v1/conversations/{conv}/attachments",
        files={"file": ("parcel.jpg", picture.getvalue(), "image/jpeg")},
        data={"text": "جلد کتاب پاره رسید", "lang": "fa"},
        headers={"authorization": f"Bearer {token}"},
        timeout=30,
    ).raise_for_status()
    owner = httpx.Client(base_url=base, timeout=30)
    same = {"sec-fetch-site": "same-origin"}
    owner.post("/admin/login", data={"password": PASSWORD, "next": "/admin/"}, headers=same)
    page = owner.get("/admin/").text
    marker = '"X-CSRF-Token": "'
    owner.headers.update({**same, "x-csrf-token": page[page.index(marker) + len(marker) :].split('"')[0]})
    owner.post(
        f"/admin/conversations/{conv}/reply",
        files={"file": ("راهنمای بازگرداندن کالا.pdf", pdf(), "application/pdf")},
        data={"text": "ببخشید! نسخه‌ی سالم فردا ارسال می‌شود. راهنمای بازگرداندن پیوست است."},
    ).raise_for_status()
    for form in (
        {
            "name": "خوشامد صفحه‌ی اول",
            "page": "/",
            "seconds": "1",
            "message_fa": "سلام! دنبال کتاب خاصی هستید؟ بپرسید.",
            "message_en": "Hi! Looking for a particular book? Just ask.",
        },
        {
            "name": "کتاب هدیه",
            "page": "/books/*",
            "seconds": "20",
            "scroll": "50",
            "visitors": "returning",
            "hours": "open",
            "every_days": "7",
            "message_fa": "برای هدیه دنبال کتاب می‌گردید؟ کادوپیچ رایگان است.",
            "message_en": "Choosing a book as a gift? Gift wrapping is free.",
        },
    ):
        data = {"visitors": "all", "lang": "", "hours": "any", "every_days": "1", "enabled": "on", **form}
        owner.post("/admin/triggers/new", data=data).raise_for_status()


def _marked_wrong(base: str) -> None:
    """A customer's question the bot answers, which the owner marks wrong (the home page's and
    the safety dial's "marked wrong by you")."""
    import re

    import httpx

    started = json.loads(_post(f"{base}/api/v1/conversations", {"lang": "fa"}))
    conv = started["conversation_id"]
    _post(
        f"{base}/api/v1/conversations/{conv}/messages",
        {"text": "زمان تحویل کتاب چقدره؟"},
        started["visitor_token"],
    )
    owner = httpx.Client(base_url=base, timeout=30)
    same = {"sec-fetch-site": "same-origin"}
    owner.post("/admin/login", data={"password": PASSWORD, "next": "/admin/"}, headers=same)
    page = owner.get(f"/admin/conversations/{conv}").text
    marker = '"X-CSRF-Token": "'
    owner.headers.update({**same, "x-csrf-token": page[page.index(marker) + len(marker) :].split('"')[0]})
    found = re.search(r'"decision_id": "(\d+)", "verdict": "wrong"', page)
    if found:
        owner.post(f"/admin/conversations/{conv}/verdict", data={"decision_id": found[1], "verdict": "wrong"})


CHATS = {  # the widget's conversations: name -> {lang: the customer's messages}
    "widget-choices": {
        "fa": ["ارسال کتاب به شیراز چقدر طول میکشه و هزینه‌اش چنده؟"],
        "en": ["how long does shipping take and what does it cost?"],
    },
    "widget-follow-up": {"fa": ["هزینه ارسال چقدره؟", "میشه پس بدم؟"]},
}


def _chat(driver, base: str, lang: str, texts: list[str]) -> None:
    """A new visitor's chat in the widget (not framed: open), each message sent as a customer
    would and its reply waited for."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.get(f"{base}/widget?lang={lang}")
    driver.execute_script("localStorage.clear()")
    driver.get(f"{base}/widget?lang={lang}")
    for text in texts:
        replies = len(driver.find_elements(By.CSS_SELECTOR, ".msg.bot"))
        # Enter, as a customer on a computer sends: a click would leave the pointer over a choice.
        driver.find_element(By.ID, "text").send_keys(text, Keys.ENTER)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            time.sleep(0.5)
            if (
                driver.find_element(By.ID, "send").is_enabled()
                and len(driver.find_elements(By.CSS_SELECTOR, ".msg.bot")) > replies
            ):
                break
    time.sleep(1)
    # The whole conversation in the picture: the window as much taller as the chat's log scrolls.
    more = driver.execute_script("var log = document.getElementById('log'); return log.scrollHeight - log.clientHeight")
    driver.set_window_size(driver.get_window_size()["width"], 900 + (more or 0))
    time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    parser.add_argument("--widths", type=int, nargs="+", default=[390, 1280])
    parser.add_argument("--langs", nargs="+", default=["fa", "en"])
    parser.add_argument("--pages", nargs="+", help="only these pictures (names as in the file names, e.g. home kb)")
    args = parser.parse_args()
    wanted = set(args.pages or [name for name, _ in PAGES] + list(CHATS))
    args.out.mkdir(parents=True, exist_ok=True)

    from selenium.webdriver.common.by import By

    work = Path(tempfile.mkdtemp(prefix="shots-"))
    data = work / "data"
    reset_password(data, PASSWORD, "--demo")
    # The catalog set's products (books, phone accessories, clothing with variants).
    catalog = ROOT / "tests" / "data" / "eval" / "shop_catalog" / "catalog.csv"
    subprocess.run(
        [APPLIANCE, "catalog", "import", "--demo", "--data-dir", str(data), str(catalog), "--currency", "تومان"],
        check=True,
        capture_output=True,
    )
    faq = work / "پرسش‌های متداول.html"
    faq.write_text(FAQ_PAGE, encoding="utf-8")
    subprocess.run(
        [APPLIANCE, "kb", "import", "--demo", "--data-dir", str(data), str(faq)], check=True, capture_output=True
    )
    port = free_port()
    proc = start_server(data, port, "--demo", "--model", "none")
    base = f"http://127.0.0.1:{port}"
    driver = start_chromium(work / "chrome")
    try:
        wait_healthy(port, proc, timeout=180)
        started = json.loads(_post(f"{base}/api/v1/conversations", {"lang": "fa"}))
        conv, token = started["conversation_id"], started["visitor_token"]
        # A question the bot answers (the owner's right/wrong mark), one it hands over (the owner's
        # "which entry answers this?"), and a customer's pick among choices (a suggested wording).
        for text in (
            "ارسال به شیراز چند روز طول می‌کشه؟",
            "کتاب‌ها رو کادوپیچ هم می‌کنید؟ برای تولد دوستمه",
            "بوف کور دارین؟ چنده؟",
        ):
            _post(f"{base}/api/v1/conversations/{conv}/messages", {"text": text}, token)
        _post(f"{base}/api/v1/conversations/{conv}/contact", {"email": "reader@example.com"}, token)
        other = json.loads(_post(f"{base}/api/v1/conversations", {"lang": "fa"}))
        done = _post(
            f"{base}/api/v1/conversations/{other['conversation_id']}/messages",
            {"text": "ارسال کتاب به شیراز چقدر طول میکشه و هزینه‌اش چنده؟"},
            other["visitor_token"],
        ).decode()
        choices = json.loads(done.rsplit("data:", 1)[1]).get("choices") or []
        if choices:
            _post(
                f"{base}/api/v1/conversations/{other['conversation_id']}/choices",
                {"entry_id": choices[0]["id"], "label": choices[0]["title"]},
                other["visitor_token"],
            )
        _photos_and_triggers(base, conv, token)
        _marked_wrong(base)
        # The chats first: the home and settings pages then count the same questions in every picture.
        for lang in args.langs:
            for width in args.widths:
                for name, chats in CHATS.items():
                    if lang in chats and name in wanted:
                        driver.set_window_size(width, 900)
                        _chat(driver, base, lang, chats[lang])
                        shoot(driver, width, args.out / f"{name}-{lang}-{width}")
                        driver.execute_script("localStorage.clear()")  # the widget page's picture: a new visitor
        driver.get(f"{base}/admin/login")
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit], form button").click()
        time.sleep(1)
        # The shop's own calibration is fitted in the background after the demo's import; the
        # settings page shows its estimate and safety dial once it is there, and under each
        # position what it would have done with the customers' questions above.
        deadline = time.monotonic() + (240 if wanted & {"home", "settings"} else 0)
        while time.monotonic() < deadline:
            driver.get(f"{base}/admin/settings")
            if driver.find_elements(By.CSS_SELECTOR, "#set-answer_safety .dial-history"):
                break
            time.sleep(5)
        else:
            if wanted & {"home", "settings"}:
                print("the safety dial has no line on the shop's questions yet", file=sys.stderr)
        for lang in args.langs:
            for width in args.widths:
                driver.set_window_size(width, 900)
                for name, path in PAGES:
                    if name not in wanted:
                        continue
                    if path == "upload":
                        driver.get(f"{base}/admin/documents?lang={lang}")
                        driver.find_element(By.ID, "file").send_keys(str(faq))
                        send = driver.find_element(
                            By.CSS_SELECTOR, "form[hx-post='/admin/documents/upload'] button[type=submit]"
                        )
                        driver.execute_script(
                            "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", send
                        )
                        send.click()
                        time.sleep(2)
                    elif path == "front":
                        # Once a day per visitor: forget this browser's visitor so the bubble shows again.
                        driver.get(f"{base}/?lang={lang}")
                        driver.execute_script("localStorage.clear()")
                        driver.get(f"{base}/?lang={lang}")
                        time.sleep(4)
                    else:
                        path = f"/admin/inbox?view=all&c={conv}" if path == "two-panes" else path
                        path = path or f"/admin/conversations/{conv}"
                        driver.get(f"{base}{path}{'&' if '?' in path else '?'}lang={lang}")
                    time.sleep(0.3)
                    shoot(driver, width, args.out / f"{name}-{lang}-{width}")
    finally:
        driver.quit()
        stop(proc)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
