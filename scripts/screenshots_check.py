#!/usr/bin/env python3
"""Screenshots of what a checking model does (answering/entry_check.py), as customer and owner see it.

    .venv/bin/python scripts/screenshots_check.py --out docs/screenshots

The demo bookshop served with ``model_checks_answers`` on and, as its model, a scripted
OpenAI-compatible server on loopback (tests/fakes.py's ``FakeOpenAI``): it names the
shipping entries for a question about shipping, and none for a question about opening hours.
No model here can judge for real (docs/BENCHMARKS.md, fourth round); the pictures are of the
appliance's side: a two-part question answered from two entries in the widget (Persian and
English), and the transcripts where the owner reads what the model did. Written as
``check-widget-<lang>-<width>.png`` and ``check-conversation-<n>-<lang>-<width>.png``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from screenshots import _post, _shrink, shoot  # a sibling script: the same requests and pictures

from tests.fakes import FakeOpenAI as Judge
from tests.fakes import numbers_titled
from tests.helpers import free_port, reset_password, start_chromium, start_server, stop, wait_healthy

PASSWORD = "correct horse battery staple"
TWO_PART = {
    "en": "how long does shipping take and what does it cost?",
    "fa": "ارسال به شیراز چند روز طول میکشه و هزینه‌اش چنده؟",
}
DOUBTED = "What are your opening hours?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    judge = Judge()
    threading.Thread(target=judge.serve_forever, daemon=True).start()
    shipping = numbers_titled(r"ship|deliver|ارسال")
    judge.reply = lambda prompt: "0" if "hours" in prompt.lower() else shipping(prompt)
    work = Path(tempfile.mkdtemp(prefix="shots-check-"))
    data = work / "data"
    reset_password(data, PASSWORD, "--demo")
    (data / "settings.toml").write_text(
        f'model_url = "{judge.url}"\nmodel_checks_answers = true\nmodel_languages = ["en", "fa"]\n', encoding="utf-8"
    )
    port = free_port()
    proc = start_server(data, port, "--demo")
    base = f"http://127.0.0.1:{port}"
    driver = start_chromium(work / "chrome")
    try:
        wait_healthy(port, proc, timeout=180)
        conversations = []
        for lang, question in TWO_PART.items():
            for width in (390, 1280):
                # A new visitor each time: the widget keeps its conversation in localStorage.
                driver.get(f"{base}/widget?lang={lang}")
                driver.execute_script("localStorage.clear()")
                driver.set_window_size(width, 900)
                driver.get(f"{base}/widget?lang={lang}")
                time.sleep(1)
                box = driver.find_element(By.ID, "text")
                box.send_keys(question)
                box.send_keys(Keys.ENTER)
                time.sleep(5)
                shot = args.out / f"check-widget-{lang}-{width}.png"  # the widget as a phone shows it
                driver.save_screenshot(str(shot))
                _shrink(shot)
                print(shot)
            kept = json.loads(driver.execute_script("return localStorage.getItem('appliance.chat.v1')"))
            conversations.append(kept["conversation"])
        doubted = json.loads(_post(f"{base}/api/v1/conversations", {"lang": "en"}))
        _post(
            f"{base}/api/v1/conversations/{doubted['conversation_id']}/messages",
            {"text": DOUBTED},
            doubted["visitor_token"],
        )
        conversations.append(doubted["conversation_id"])
        driver.get(f"{base}/admin/login")
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit], form button").click()
        time.sleep(1)
        for lang in ("fa", "en"):
            for width in (390, 1280):
                for n, conversation in enumerate(conversations, 1):
                    driver.set_window_size(width, 900)
                    driver.get(f"{base}/admin/conversations/{conversation}?lang={lang}")
                    time.sleep(0.5)
                    shoot(driver, width, args.out / f"check-conversation-{n}-{lang}-{width}")
    finally:
        driver.quit()
        stop(proc)
        judge.shutdown()


if __name__ == "__main__":
    main()
