"""Issue #30 in the inbox: "save as an entry" pairs the reply with what it answers (the damaged
book's photo, not the laptop asked before it); contacts, pages and waiting times read right in
Persian; the saved replies' page says "saved" and asks before deleting."""

from __future__ import annotations

import html
import io
import re
from urllib.parse import parse_qs, urlsplit

from litestar.testing import TestClient
from PIL import Image

from .helpers import bearer, post, seed, send, sign_in, start_chat

LAPTOP = "لپ تاپ هم تعمیر میکنید؟"
RETURNS = "کتابی که آسیب‌دیده رسیده را تا ۷ روز پس می‌گیریم؛ عکسش کافی است، هزینه‌ی ارسال با ماست."


def _photo() -> bytes:
    img = Image.new("RGB", (400, 300), (200, 40, 40))
    out = io.BytesIO()
    img.save(out, "JPEG")
    return out.getvalue()


def _send_photo(c: TestClient, conv: str, token: str, caption: str = "") -> None:
    r = c.post(
        f"/api/v1/conversations/{conv}/attachments",
        files={"file": ("book.jpg", _photo(), "image/jpeg")},
        data={"text": caption, "lang": "fa"},
        headers=bearer(token),
    )
    assert r.status_code == 200, r.text


def _save_links(page: str) -> list[dict[str, str]]:
    links = [html.unescape(h) for h in re.findall(r'href="(/admin/kb/new\?[^"]+)"', page)]
    return [{k: v[0] for k, v in parse_qs(urlsplit(h).query, keep_blank_values=True).items()} for h in links]


def test_save_as_entry_after_a_photo_of_a_damaged_book_is_not_the_laptop_question(admin: TestClient) -> None:
    """The form held «لپ تاپ هم تعمیر میکنید؟» with the returns answer."""
    seed(admin)
    conv, token, _ = start_chat(admin, "fa")
    send(admin, conv, token, LAPTOP)
    _send_photo(admin, conv, token)  # a photo of the damaged book, no words
    sign_in(admin)
    assert post(admin, f"/admin/conversations/{conv}/reply", data={"text": RETURNS}).status_code == 200
    page = admin.get(f"/admin/conversations/{conv}?lang=fa").text
    (link,) = _save_links(page)
    assert link["answer"] == RETURNS
    assert link["question"] == ""  # never the older, unrelated question
    assert "مشتری فقط عکس فرستاد" in page  # and the page says why the question is empty

    # the customer explains in the photo's caption: that caption is the question
    _send_photo(admin, conv, token, caption="کتابم با جلد پاره رسید، عوضش می‌کنید؟")
    post(admin, f"/admin/conversations/{conv}/reply", data={"text": "بله، همین امروز یکی نو می‌فرستیم."})
    page = admin.get(f"/admin/conversations/{conv}?lang=fa").text
    first, second = _save_links(page)
    assert first["question"] == "" and second["question"] == "کتابم با جلد پاره رسید، عوضش می‌کنید؟"


def test_save_as_entry_takes_every_message_since_the_last_reply(admin: TestClient) -> None:
    seed(admin)
    conv, token, _ = start_chat(admin, "fa")
    send(admin, conv, token, LAPTOP)
    sign_in(admin)
    post(admin, f"/admin/conversations/{conv}/reply", data={"text": "نه، فقط کتاب."})
    post(admin, f"/admin/conversations/{conv}/takeover", data={"on": "1"})  # the bot is quiet now
    send(admin, conv, token, "سلام")
    send(admin, conv, token, "کتاب صوتی هم دارید؟")
    send(admin, conv, token, "برای بچه‌ها")
    post(admin, f"/admin/conversations/{conv}/reply", data={"text": "بله، در بخش کودک."})
    first, second = _save_links(admin.get(f"/admin/conversations/{conv}?lang=fa").text)
    assert first["question"] == LAPTOP
    assert second["question"] == "کتاب صوتی هم دارید؟\nبرای بچه‌ها"  # the greeting left out
