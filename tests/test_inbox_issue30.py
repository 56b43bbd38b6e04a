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


def test_waiting_times_are_said_in_words_and_contacts_keep_their_plus(admin: TestClient, clock) -> None:
    """«۰ ساعت و ۰ دقیقه منتظر» and «راه تماس: 989123456789+» (the plus at the wrong end)."""
    from datetime import timedelta

    seed(admin)
    conv, token, _ = start_chat(admin, "fa")
    send(admin, conv, token, "میخوام با یه آدم واقعی حرف بزنم")
    r = admin.post(f"/api/v1/conversations/{conv}/contact", json={"phone": "+989123456789"}, headers=bearer(token))
    assert r.status_code == 200, r.text
    sign_in(admin)
    for later, fa, en in (
        (timedelta(0), "همین الان نوشت", "just now"),
        (timedelta(minutes=3), "۳ دقیقه در انتظار", "waiting 3 minutes"),
        (timedelta(hours=2, minutes=5), "۲ ساعت در انتظار", "waiting 2 hours"),
        (timedelta(days=3, hours=1), "۳ روز در انتظار", "waiting 3 days"),
    ):
        clock.now += later
        sign_in(admin)  # three days on, the session has ended
        page = admin.get("/admin/inbox?lang=fa").text
        assert fa in page and "۰ ساعت" not in page and "۰ دقیقه" not in page
        assert en in admin.get("/admin/inbox?lang=en").text
    page = admin.get(f"/admin/inbox?c={conv}&lang=fa").text
    assert '<bdi dir="ltr">+989123456789</bdi>' in page  # in the list and in the conversation
    assert 'href="tel:+989123456789"' in page and "راه تماس" in page


def test_the_inbox_on_a_phone_shows_one_pane_with_a_way_back_and_an_empty_state(admin: TestClient) -> None:
    seed(admin)
    sign_in(admin)
    empty = admin.get("/admin/inbox?lang=fa").text
    assert "empty-state" in empty and 'href="/admin/try"' in empty  # says what to do
    conv, token, _ = start_chat(admin, "fa")
    send(admin, conv, token, "میخوام با یه آدم واقعی حرف بزنم")
    page = admin.get(f"/admin/inbox?c={conv}&lang=fa").text
    # the list is hidden below the desktop width, the conversation shown, with the way back
    assert 'class="inbox-list col-lg-5 col-xl-4 d-none d-lg-block"' in page
    assert 'class="btn btn-link px-0 d-lg-none back" href="/admin/inbox?view=waiting&amp;lang=fa"' in page
    assert "بازگشت به" in page and "bi-arrow-right" in page  # pointing the reading way
    assert f'data-draft="reply:{conv}"' in page  # the reply box keeps a draft
    assert admin.get(f"/admin/conversations/{conv}?lang=fa").text.count(f'data-draft="reply:{conv}"') == 1


def test_saved_replies_say_saved_ask_before_deleting_and_have_an_empty_state(admin: TestClient) -> None:
    import json

    sign_in(admin)
    page = admin.get("/admin/saved-replies?lang=fa").text
    assert "هنوز پاسخ آماده‌ای ندارید" in page and 'data-draft="saved-reply:new"' in page
    r = post(
        admin,
        "/admin/saved-replies?lang=fa",
        data={"title": "شماره کارت", "text": "۶۰۳۷-۹۹۷۱-۲۳۴۵-۶۷۸۹ به نام کتاب‌سرا"},
    )
    assert r.status_code == 200 and "۶۰۳۷-۹۹۷۱" in r.text
    assert json.loads(r.headers["hx-trigger"])["appliance:toast"]["text"] == "پاسخ آماده ذخیره شد."
    assert 'hx-confirm="پاسخ آماده‌ی «\u2068شماره کارت\u2069» پاک شود؟"' in r.text
    reply_id = re.search(r'hx-post="/admin/saved-replies/(\d+)/delete"', r.text).group(1)
    gone = post(admin, f"/admin/saved-replies/{reply_id}/delete?lang=fa")
    assert (
        "۶۰۳۷-۹۹۷۱" not in gone.text and "پاک شد" in json.loads(gone.headers["hx-trigger"])["appliance:toast"]["text"]
    )


def _trigger(c: TestClient, **form: str):
    data = {
        "name": "کتاب‌های تازه",
        "message_fa": "دنبال کتاب خاصی هستید؟ بپرسید.",
        "message_en": "Looking for a particular book? Ask me.",
        "page": "/books/*",
        "seconds": "۲۰",  # typed on a Persian keyboard
        "scroll": "۰",
        "visitors": "all",
        "lang": "",
        "hours": "any",
        "every_days": "1",
        "enabled": "on",
        **form,
    }
    return post(c, "/admin/triggers/new?lang=fa", data=data)


def test_triggers_read_their_page_as_a_path_confirm_deleting_and_say_saved(admin: TestClient) -> None:
    """«صفحه: */books/»: the pattern's star jumped to the other end in Persian."""
    sign_in(admin)
    empty = admin.get("/admin/triggers?lang=fa").text
    assert "empty-state" in empty and 'href="/admin/triggers/new"' in empty
    bad = _trigger(admin, seconds="بیست")  # not a number: said under its field, what was typed kept
    assert bad.status_code == 422 and 'id="seconds" class="form-control is-invalid"' in bad.text
    assert 'class="invalid-feedback" role="alert" id="seconds-error"' in bad.text and "کتاب‌های تازه" in bad.text
    saved = _trigger(admin)
    assert saved.headers["hx-redirect"] == "/admin/triggers" and saved.cookies.get("admin_flash") == "trig.saved"
    page = admin.get("/admin/triggers?lang=fa").text
    assert "پیام آغازگر ذخیره شد." in page  # the toast on the page it lands on
    assert 'صفحه‌های زیر <bdi dir="ltr"><code>/books/</code></bdi>' in page and "*/books/" not in page
    assert "پس از ۲۰ ثانیه" in page
    assert 'hx-confirm="' in page.split('/delete"')[1].split(">")[0]  # deleting asks first
    _trigger(admin, name="سبد خرید", page="/cart")
    page = admin.get("/admin/triggers?lang=en").text
    assert 'Only the page <bdi dir="ltr"><code>/cart</code></bdi>' in page
    trigger_id = re.search(r'hx-post="/admin/triggers/(\d+)/delete"', page).group(1)
    gone = post(admin, f"/admin/triggers/{trigger_id}/delete")
    assert gone.cookies.get("admin_flash") == "trig.deleted"


def test_analytics_says_times_in_words_with_text_alternatives_and_a_readable_heatmap(admin: TestClient) -> None:
    """ "p90" and Latin units on the Persian page; 6 px heat-map labels on a phone."""
    sign_in(admin)
    empty = admin.get("/admin/analytics?lang=fa").text
    assert "empty-state" in empty and "هنوز گفتگویی نبوده" in empty
    seed(admin)
    conv, token, _ = start_chat(admin, "fa")
    send(admin, conv, token, "میخوام با یه آدم واقعی حرف بزنم")
    post(admin, f"/admin/conversations/{conv}/reply", data={"text": "سلام، در خدمتم."})
    _, token2, _ = start_chat(admin, "en")
    page = admin.get("/admin/analytics?lang=fa").text
    assert "p90" not in page and "۹ پاسخ از هر ۱۰ پاسخ" in page
    assert not re.search(r"\d(\.\d)? ?(s|min|ms)\b", page.split('id="main"')[1])  # no Latin units
    assert "ثانیه" in page and "empty-state" not in page
    # the charts say what they show, in words
    assert '<title id="per-day-alt">نمودار گفتگوها در هر روز: روی هم ۲ گفتگو در ۳۰ روز' in page
    assert '<title id="heat-alt">بیشترین پیام‌ها:' in page
    # the heat-map keeps its size (12 px labels) and scrolls sideways on a phone
    heat = page[page.index('<svg class="heat-map"') :].split(">")[0]
    assert 'width="592"' in heat and 'font-size="12"' in heat
    assert 'class="overflow-x-auto heat-scroll" dir="ltr"' in page  # from the days' names and midnight
    en = admin.get("/admin/analytics?lang=en").text
    assert "9 in 10 replies within" in en and "p90" not in en


def test_durations_in_words() -> None:
    from appliance.reports.analytics import duration_words

    assert duration_words(1.23, "fa") == "۱٫۲ ثانیه" and duration_words(1.23, "en") == "1.2 seconds"
    assert duration_words(1, "en") == "1 second" and duration_words(45 * 60, "fa") == "۴۵ دقیقه"
    assert duration_words(95 * 60, "en") == "1.6 hours" and duration_words(3 * 86400, "fa") == "۳ روز"
    assert duration_words(None, "fa") == "—"


# -- a button pressed is not a question typed --------------------------------------------------------

POTTER = "جلد سوم هری پاتر رو دارید؟ نسخهٔ جلد سخت"
PERSON_LABEL = "می‌خواهم با یک نفر صحبت کنم"  # the words the chat stores for the button


def _rows(page: str) -> list[str]:
    """The inbox list's (or the home page's waiting list's) previews."""
    return [
        html.unescape(t).strip() for t in re.findall(r'<span dir="auto" class="[^"]*\blast\b[^"]*">(.*?)</span>', page)
    ]


def test_the_inbox_previews_the_question_not_the_none_of_these_press(admin: TestClient) -> None:
    """The inbox showed «می‌خواهم با یک نفر صحبت کنم», what the chat sends for «هیچ‌کدام», instead
    of the customer's question about Harry Potter; the transcript showed it as typed."""
    seed(admin)
    conv, token, _ = start_chat(admin, "fa")
    send(admin, conv, token, POTTER)
    r = admin.post(
        f"/api/v1/conversations/{conv}/handoff",
        json={"lang": "fa", "reason": "clarification_failed"},
        headers=bearer(token),
    )
    assert r.status_code == 200, r.text
    sign_in(admin)
    inbox = admin.get("/admin/inbox?lang=fa").text
    assert _rows(inbox) == [POTTER]
    assert PERSON_LABEL not in inbox
    home = admin.get("/admin/?lang=fa").text
    assert POTTER in home and PERSON_LABEL not in home  # the home page's waiting list

    page = admin.get(f"/admin/conversations/{conv}?lang=fa").text
    assert "روی «هیچ‌کدام» زد: هیچ‌کدام از گزینه‌ها نبود و خواست با یک نفر صحبت کند" in page
    assert PERSON_LABEL not in page  # not as if the customer had typed it
    assert (
        "Pressed “None of these”: none of the choices fitted, asked for a person"
        in admin.get(f"/admin/conversations/{conv}?lang=en").text
    )

    # the customer's own chat is as it was: the button's words as their message
    history = admin.get(f"/api/v1/conversations/{conv}/messages", headers=bearer(token)).json()["messages"]
    assert [m["text"] for m in history if m["role"] == "customer"] == [POTTER, PERSON_LABEL]

    # "save as an entry" on the owner's reply asks the question, not the press
    post(admin, f"/admin/conversations/{conv}/reply", data={"text": "بله، جلد سخت هم داریم."})
    (link,) = _save_links(admin.get(f"/admin/conversations/{conv}?lang=fa").text)
    assert link["question"] == POTTER


def test_talk_to_a_person_is_said_in_words_even_once_the_owner_has_the_chat(admin: TestClient) -> None:
    """With the owner in the chat the bot's decision is only "held": the press is still a press."""
    conv, token, _ = start_chat(admin, "fa")
    send(admin, conv, token, POTTER)
    sign_in(admin)
    post(admin, f"/admin/conversations/{conv}/takeover", data={"on": "1"})
    r = admin.post(f"/api/v1/conversations/{conv}/handoff", json={"lang": "fa"}, headers=bearer(token))
    assert r.status_code == 200, r.text
    assert _rows(admin.get("/admin/inbox?view=answered&lang=fa").text) == [POTTER]
    page = admin.get(f"/admin/conversations/{conv}?lang=fa").text
    assert "روی «صحبت با یک نفر» زد: خواست با یک نفر صحبت کند" in page and PERSON_LABEL not in page

    # a customer who only pressed the button: the inbox says so in words, not «—» or the label
    only, only_token, _ = start_chat(admin, "fa")
    admin.post(f"/api/v1/conversations/{only}/handoff", json={"lang": "fa"}, headers=bearer(only_token))
    assert _rows(admin.get("/admin/inbox?lang=fa").text) == ["روی «صحبت با یک نفر» زد: خواست با یک نفر صحبت کند"]


def test_which_entry_answers_this_offers_the_bots_choices_first(admin: TestClient) -> None:
    """The bot offered returns, tracking and shipping; «کدام مطلب به این سؤال پاسخ می‌دهد؟»
    suggested returns, payment and hours (the top of the ranking)."""
    from appliance.answering.compose import Reply
    from appliance.answering.decide import Decision
    from appliance.kb import embedder
    from appliance.kb import store as kb
    from appliance.kb.entry import Entry
    from appliance.kb.retrieval import IndexedEntry

    services = admin.app.state.services
    titles = {
        "returns": "پس دادن کتاب",
        "tracking": "پیگیری سفارش",
        "shipping": "هزینهٔ ارسال",
        "payment": "روش‌های پرداخت",
        "hours": "ساعت کاری",
    }
    kb.save(
        services.store,
        [Entry(i, t, f"پاسخ {t}", "fa", [t]) for i, t in titles.items()],
        embedder=embedder.shared(),
        now="t0",
    )
    conv, token, _ = start_chat(admin, "fa")
    asked = "سفارشم رسید ولی خراب بود، چکار کنم؟"
    message_id, _ = services.chat.conversations.add_customer_message(conv, asked)
    offered = [IndexedEntry(i, titles[i], "", "fa", [], frozenset()) for i in ("returns", "tracking", "shipping")]
    decision = Decision(
        "clarify", "close_candidates", "fa", asked, 0.3, offered, ranking=["returns", "payment", "hours", "tracking"]
    )
    services.chat.conversations.record_turn(conv, message_id, decision, Reply("کدام یک؟", "template"), 1.0)
    admin.post(
        f"/api/v1/conversations/{conv}/handoff",
        json={"lang": "fa", "reason": "clarification_failed"},
        headers=bearer(token),
    )
    sign_in(admin)
    page = admin.get(f"/admin/conversations/{conv}?lang=fa").text
    (learn,) = re.findall(r'<div class="learn[^"]*">(.*?)</div>', page, re.S)
    assert "کدام مطلب به این سؤال پاسخ می‌دهد؟" in learn
    shown = [html.unescape(t) for t in re.findall(r"<button[^>]*>(.*?)</button>", learn)]
    # what the customer was offered first, in the bot's order, then the closest others
    assert shown == ["پس دادن کتاب", "پیگیری سفارش", "هزینهٔ ارسال", "روش‌های پرداخت", "ساعت کاری"]
    # the reply box's quick answers start with them too
    assert re.findall(r'hx-get="/admin/entries/([a-z]+)/as-reply"', page)[:3] == ["returns", "tracking", "shipping"]
