"""The inbox: a customer's unanswered question reaches the owner, the owner's reply reaches the
customer, and one click turns it into an entry the bot answers with next time."""

from datetime import timedelta
from urllib.parse import parse_qs

from litestar.testing import TestClient

from .helpers import (
    HOSTILE,
    SAME,
    csrf,
    customer_asks,
    events,
    post,
    seed,
    sign_in,
)

QUESTION = "Do you deliver to Kish island?"


def test_learning_loop_end_to_end(admin: TestClient) -> None:
    seed(admin)
    conv, token, done = customer_asks(admin, QUESTION)
    assert done["kind"] != "answer"
    auth = {"authorization": f"Bearer {token}"}
    if done["kind"] != "escalate":  # offered choices: the customer picks "none of these"
        admin.post(f"/api/v1/conversations/{conv}/handoff", json={"lang": "en"}, headers=auth)

    sign_in(admin)
    inbox = admin.get("/admin/inbox?lang=en")
    assert QUESTION in inbox.text and 'class="count"' in inbox.text
    page = admin.get(f"/admin/conversations/{conv}?lang=en")
    assert QUESTION in page.text and "hand to you" in page.text  # the bot's decision is shown

    reply = "Yes: we deliver to Kish island in 4-6 business days."
    sent = admin.post(
        f"/admin/conversations/{conv}/reply",
        data={"text": reply},
        headers={
            **SAME,
            "x-csrf-token": csrf(admin),
            "hx-request": "true",
            "hx-current-url": f"http://testserver/admin/conversations/{conv}?lang=en",
        },
    )
    assert sent.status_code == 200 and "the customer sees it" in sent.headers["hx-trigger"]  # a toast
    # the reply reaches the customer's widget, unread until seen
    history = admin.get(f"/api/v1/conversations/{conv}/messages", headers=auth).json()
    assert history["messages"][-1]["role"] == "owner" and history["messages"][-1]["text"] == reply
    assert history["unread"] == 1 and history["status"] == "answered"

    # one click: "save as a knowledge-base entry" opens the editor pre-filled
    link = sent.text.split('href="/admin/kb/new?')[1].split('"')[0].replace("&amp;", "&")
    prefill = {k: v[0] for k, v in parse_qs(link).items()}
    assert prefill == {"question": QUESTION, "answer": reply}
    form = admin.get(f"/admin/kb/new?{link}")
    assert QUESTION in form.text and "4-6 business days" in form.text
    saved = admin.post(
        "/admin/kb/new",
        data={"title": "Delivery to Kish", "questions": QUESTION, "answer": reply, "lang": "en", "enabled": "on"},
        headers={**SAME, "x-csrf-token": csrf(admin), "hx-request": "true"},
    )
    assert saved.status_code == 200

    # next time, the bot answers the same question itself
    _, _, again = customer_asks(admin, QUESTION)
    assert again["kind"] == "answer" and again["sources"][0]["title"] == "Delivery to Kish"


def test_inbox_views_search_resolve_and_reopen(admin: TestClient) -> None:
    seed(admin)
    conv, token, _ = customer_asks(admin, "I want to talk to a real person about order 881")
    customer_asks(admin, "when are you open")
    sign_in(admin)
    waiting = admin.get("/admin/inbox?view=waiting&lang=en").text
    assert "order 881" in waiting and "when are you open" not in waiting
    assert "when are you open" in admin.get("/admin/inbox?view=all&lang=en").text
    found = admin.get(
        "/admin/inbox", params={"view": "all", "q": "881"}, headers={"hx-request": "true", "hx-target": "inbox-rows"}
    )
    assert "order 881" in found.text and "<html" not in found.text
    token_header = {**SAME, "x-csrf-token": csrf(admin)}
    r = admin.post(f"/admin/conversations/{conv}/status", data={"status": "resolved"}, headers=token_header)
    assert r.status_code == 200
    assert "order 881" in admin.get("/admin/inbox?view=resolved").text
    # the customer writes again: the conversation is open again
    auth = {"authorization": f"Bearer {token}"}
    admin.post(f"/api/v1/conversations/{conv}/messages", json={"text": "when are you open"}, headers=auth)
    status = (
        admin.app.state.services.store.read()
        .execute("SELECT status FROM conversations WHERE id = ?", [conv])
        .fetchone()[0]
    )
    assert status == "open"


def test_reply_validation_and_escaping(admin: TestClient) -> None:
    seed(admin)
    conv, _, _ = customer_asks(admin, f"I want to talk to a real person {HOSTILE}")
    sign_in(admin)
    page = admin.get(f"/admin/conversations/{conv}")
    assert "<script>alert" not in page.text and "&lt;script&gt;" in page.text
    assert "<script>alert" not in admin.get("/admin/inbox").text
    empty = admin.post(
        f"/admin/conversations/{conv}/reply", data={"text": "  "}, headers={**SAME, "x-csrf-token": csrf(admin)}
    )
    assert empty.status_code == 422
    assert admin.get("/admin/conversations/nope").status_code == 404
    forged = admin.post(f"/admin/conversations/{conv}/reply", data={"text": "hi"}, headers=SAME)
    assert forged.status_code == 403


def test_live_takeover_silences_the_bot(admin: TestClient) -> None:
    seed(admin)
    conv, token, _ = customer_asks(admin, "when are you open")
    auth = {"authorization": f"Bearer {token}"}
    sign_in(admin)
    token_header = {**SAME, "x-csrf-token": csrf(admin)}
    assert (
        admin.post(f"/admin/conversations/{conv}/takeover", data={"on": "1"}, headers=token_header).status_code == 200
    )
    history = admin.get(f"/api/v1/conversations/{conv}/messages", headers=auth).json()
    assert history["status"] == "human"
    assert history["messages"][-1]["role"] == "system" and "has joined" in history["messages"][-1]["text"]

    # the customer asks something the bot knows: the bot stays silent, the owner answers
    evs = events(
        admin.post(f"/api/v1/conversations/{conv}/messages", json={"text": "can i return a book"}, headers=auth).text
    )
    assert [n for n, _ in evs] == ["accepted", "done"] and evs[-1][1]["kind"] == "held"
    roles = [m["role"] for m in admin.get(f"/api/v1/conversations/{conv}/messages", headers=auth).json()["messages"]]
    assert roles[-1] == "customer"  # no bot message after it
    admin.post(f"/admin/conversations/{conv}/reply", data={"text": "Yes, within 7 days."}, headers=token_header)
    assert admin.app.state.services.chat.conversations.status(conv) == "human"

    # handed back: the bot answers again
    admin.post(f"/admin/conversations/{conv}/takeover", data={"on": "0"}, headers=token_header)
    evs = events(
        admin.post(f"/api/v1/conversations/{conv}/messages", json={"text": "when are you open"}, headers=auth).text
    )
    assert evs[-1][1]["kind"] == "answer"


def test_takeover_while_the_bot_is_thinking_drops_the_bots_words(admin: TestClient) -> None:
    import asyncio

    seed(admin)
    chat = admin.app.state.services.chat
    conv = chat.conversations.start()
    message_id, _ = chat.conversations.add_customer_message(conv, "when are you open")
    decision = chat.decider.decide("when are you open")
    reply = asyncio.run(chat.composer.compose(decision, "when are you open"))
    chat.conversations.take_over(conv, True, "A person has joined.")  # the owner joins between deciding and sending
    turn = chat.conversations.record_turn(conv, message_id, decision, reply, 1.0)
    assert turn.decision.kind == "held" and turn.reply_id is None
    bot = (
        admin.app.state.services.store.read()
        .execute("SELECT count(*) FROM messages WHERE conversation_id = ? AND role = 'bot'", [conv])
        .fetchone()[0]
    )
    assert bot == 0


def test_saved_replies_and_private_notes(admin: TestClient) -> None:
    seed(admin)
    conv, token, _ = customer_asks(admin, "I want to talk to a real person")
    sign_in(admin)
    headers = {**SAME, "x-csrf-token": csrf(admin)}
    admin.post(
        "/admin/saved-replies", data={"title": "Parcel sent", "text": "Your parcel left us today."}, headers=headers
    )
    page = admin.get(f"/admin/conversations/{conv}?lang=en")
    assert "Parcel sent" in page.text
    reply_id = page.text.split('hx-get="/admin/saved-replies/')[1].split('"')[0]
    box = admin.get(f"/admin/saved-replies/{reply_id}", headers={"hx-request": "true"})
    assert box.text.strip().startswith("<textarea") and "Your parcel left us today." in box.text
    admin.post(
        f"/admin/conversations/{conv}/note", data={"text": "Customer is a regular; be generous."}, headers=headers
    )
    assert "be generous" in admin.get(f"/admin/conversations/{conv}").text
    # a private note never reaches the customer
    history = admin.get(f"/api/v1/conversations/{conv}/messages", headers={"authorization": f"Bearer {token}"})
    assert "be generous" not in history.text
    admin.post(f"/admin/saved-replies/{reply_id}/delete", headers=headers)
    assert "Parcel sent" not in admin.get("/admin/saved-replies").text


def test_export_and_erase_a_customer_from_the_admin(admin: TestClient) -> None:
    seed(admin)
    conv, token, _ = customer_asks(admin, "I want to talk to a real person")
    auth = {"authorization": f"Bearer {token}"}
    admin.post(f"/api/v1/conversations/{conv}/contact", json={"email": "reader@example.com"}, headers=auth)
    other, _, _ = customer_asks(admin, "when are you open")
    sign_in(admin)
    exported = admin.get(f"/admin/conversations/{conv}/export")
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    assert [c["id"] for c in exported.json()["conversations"]] == [conv]
    erased = admin.post(f"/admin/conversations/{conv}/erase", headers={**SAME, "x-csrf-token": csrf(admin)})
    assert erased.headers["hx-redirect"] == "/admin/inbox"
    ids = {r[0] for r in admin.app.state.services.store.read().execute("SELECT id FROM conversations")}
    assert conv not in ids and other in ids  # the other customer is untouched
    assert admin.get(f"/api/v1/conversations/{conv}/messages", headers=auth).status_code in (401, 404)


def test_waiting_badge_fragment_and_how_long(admin: TestClient, clock) -> None:
    seed(admin)
    sign_in(admin)
    empty = admin.get("/admin/inbox/count", headers={"hx-request": "true"})
    assert 'data-count="0"' in empty.text and "hidden" in empty.text
    customer_asks(admin, "I want to talk to a real person")
    clock.now += timedelta(hours=2, minutes=5)
    badge = admin.get("/admin/inbox/count", headers={"hx-request": "true"})
    assert 'data-count="1"' in badge.text and 'hx-trigger="every 30s"' in badge.text
    assert "waiting 2 hours" in admin.get("/admin/inbox?lang=en").text


def test_none_of_these_is_recorded_as_failed_clarification(admin: TestClient) -> None:
    seed(admin)
    conv, token, _ = customer_asks(admin, "when are you open")
    r = admin.post(
        f"/api/v1/conversations/{conv}/handoff",
        json={"lang": "en", "reason": "clarification_failed"},
        headers={"authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200
    reason = (
        admin.app.state.services.store.read()
        .execute("SELECT reason FROM decisions WHERE conversation_id = ? ORDER BY id DESC LIMIT 1", [conv])
        .fetchone()[0]
    )
    assert reason == "clarification_failed"


def test_a_conversation_handed_back_is_among_the_answered(admin: TestClient) -> None:
    """It left "waiting" and showed under "all" only."""
    seed(admin)
    conv, _, _ = customer_asks(admin, "I want to talk to a real person about my order")
    sign_in(admin)
    for on in ("1", "0"):
        r = post(admin, f"/admin/conversations/{conv}/takeover", data={"on": on})
        assert r.status_code == 200
    assert conv in admin.get("/admin/inbox?view=answered").text
    assert conv not in admin.get("/admin/inbox?view=waiting").text


def test_why_a_conversation_came_is_said_in_words_and_the_home_page_links_to_it(admin: TestClient) -> None:
    seed(admin)
    conv, _, _ = customer_asks(admin, "میخوام با یه آدم واقعی حرف بزنم")
    sign_in(admin)
    inbox = admin.get("/admin/inbox?lang=fa").text
    assert "مشتری خواست با یک نفر حرف بزند" in inbox and "asked_for_person" not in inbox
    assert "the customer asked for a person" in admin.get("/admin/inbox?lang=en").text
    transcript = admin.get(f"/admin/conversations/{conv}?lang=fa").text
    assert "asked_for_person" not in transcript and "مشتری خواست با یک نفر حرف بزند" in transcript
    home = admin.get("/admin/?lang=fa").text
    assert f'href="/admin/conversations/{conv}"' in home


def test_save_as_entry_pairs_the_reply_with_the_customers_question(admin: TestClient) -> None:
    """It paired the owner's answer with "I want to talk to a real person"."""
    import html
    import re
    from urllib.parse import parse_qs, urlsplit

    seed(admin)
    conv, token, _ = customer_asks(admin, QUESTION)
    auth = {"authorization": f"Bearer {token}"}
    admin.post(f"/api/v1/conversations/{conv}/messages", json={"text": "میخوام با یه آدم واقعی حرف بزنم"}, headers=auth)
    sign_in(admin)
    r = post(admin, f"/admin/conversations/{conv}/reply", data={"text": "Yes, Kish takes 4 days."})
    assert r.status_code == 200
    page = admin.get(f"/admin/conversations/{conv}?lang=en").text
    link = html.unescape(re.search(r'href="(/admin/kb/new\?[^"]+)"', page).group(1))
    assert parse_qs(urlsplit(link).query)["question"] == [QUESTION]


def test_try_a_question_says_the_decision_in_a_sentence(admin: TestClient) -> None:
    """It showed raw JSON scores; now a sentence, with the details folded."""
    seed(admin)
    sign_in(admin)
    en = post(admin, "/admin/try?lang=en", data={"question": "when are you open"}).text
    assert "Answered with «\u2068Opening hours\u2069»" in en and "% sure" in en
    assert en.index("Answered with") < en.index("<details>") < en.index("<pre")  # scores folded
    fa = post(admin, "/admin/try?lang=fa", data={"question": "when are you open"}).text
    assert "پاسخ با «\u2068Opening hours\u2069»" in fa and "٪ مطمئن" in fa
    person = post(admin, "/admin/try?lang=fa", data={"question": "میخوام با یه آدم واقعی حرف بزنم"}).text
    assert "به شما سپرد: مشتری خواست با یک نفر حرف بزند" in person


# -- the owner's morning: two panes, suggested answers, decisions in words -------------------------


def _asked(c: TestClient, text: str, lang: str = "en") -> tuple[str, str]:
    from .helpers import send, start_chat

    conv, token, _ = start_chat(c, lang)
    send(c, conv, token, text)
    return conv, token


def test_the_inbox_shows_the_list_and_the_chosen_conversation_side_by_side(admin: TestClient) -> None:
    seed(admin)
    first, token = _asked(admin, "Do you deliver to Kish island?")
    second, _ = _asked(admin, "آیا به کیش هم ارسال دارید؟", "fa")
    r = admin.post(
        f"/api/v1/conversations/{first}/contact",
        json={"email": "reader@example.com"},
        headers={"authorization": f"Bearer {token}"},
    )
    assert r.status_code in {200, 201, 204}, r.text
    sign_in(admin)
    page = admin.get(f"/admin/inbox?view=waiting&c={first}&lang=en").text
    assert 'class="inbox-layout row g-3 has-conversation"' in page and 'id="inbox-rows"' in page  # both panes
    assert "Do you deliver to Kish island?" in page and "آیا به کیش" in page
    assert f'c={first}&amp;lang=en" aria-current="true"' in page  # the chosen one, marked in the list
    assert "Persian" in page and "Customer&#39;s language: English" in page  # each customer's language
    assert '<bdi dir="ltr">reader@example.com</bdi>' in page  # and how to reach them
    # the bot's decision in words on its reply, the scores folded under it
    assert "Handed to you:" in page and '<details class="said small">' in page
    assert "The bot&#39;s guess:" in page  # the list says what the bot would have answered
    # the closest answers offered in the reply box, one click to insert and edit
    assert 'hx-get="/admin/entries/' in page
    entry_id = page.split('hx-get="/admin/entries/')[1].split("/")[0]
    box = admin.get(f"/admin/entries/{entry_id}/as-reply", headers={"hx-request": "true"}).text
    assert box.startswith("<textarea") and ("Kish" in box or "9:00" in box or "7 days" in box)
    assert admin.get("/admin/entries/no-such-entry/as-reply").status_code == 404

    # a reply sent from the two-pane inbox comes back to it, not to the conversation's own page
    headers = {**SAME, "x-csrf-token": csrf(admin), "hx-request": "true"}
    at = {"hx-current-url": f"http://testserver/admin/inbox?view=waiting&c={first}&lang=en"}
    sent = admin.post(f"/admin/conversations/{first}/reply", data={"text": "Yes, 4-6 days."}, headers={**headers, **at})
    assert sent.status_code == 200 and 'id="inbox-rows"' in sent.text and "Yes, 4-6 days." in sent.text
    # resolving from the inbox moves on to the next waiting conversation
    done = admin.post(f"/admin/conversations/{first}/status", data={"status": "resolved"}, headers={**headers, **at})
    assert done.headers["hx-location"] == f"/admin/inbox?view=waiting&c={second}&lang=en"
    # the conversation's own page (from an e-mail, the home page) still works on its own
    alone = admin.get(f"/admin/conversations/{second}?lang=fa").text
    assert 'id="inbox-rows"' not in alone and "زبان مشتری: فارسی" in alone


def test_an_answer_is_told_in_words_with_its_second_choice(admin: TestClient) -> None:
    seed(admin)
    conv, _ = _asked(admin, "what are your opening hours?")
    sign_in(admin)
    page = admin.get(f"/admin/conversations/{conv}?lang=en").text
    assert "Answered with «\u2068Opening hours\u2069»" in page and "% sure; second choice «\u2068Returns\u2069»" in page
    page = admin.get(f"/admin/conversations/{conv}?lang=fa").text
    assert "پاسخ با «\u2068Opening hours\u2069»" in page and "٪ مطمئن" in page


def test_the_open_conversation_and_the_list_are_read_again_as_they_change(admin: TestClient) -> None:
    seed(admin)
    conv, token = _asked(admin, "I want to talk to a real person")
    sign_in(admin)
    page = admin.get(f"/admin/inbox?view=waiting&c={conv}&lang=en").text
    assert 'hx-trigger="every 5s"' in page and 'hx-trigger="every 10s"' in page
    from .helpers import send

    send(admin, conv, token, "It is order 4471, it never came")  # while the owner is looking
    part = admin.get(f"/admin/conversations/{conv}/transcript?lang=en", headers={"hx-request": "true"}).text
    assert part.lstrip().startswith('<ol class="transcript')  # the transcript alone
    assert "It is order 4471, it never came" in part
    rows = admin.get(
        f"/admin/inbox?view=waiting&c={conv}&lang=en", headers={"hx-request": "true", "hx-target": "inbox-rows"}
    ).text
    assert rows.lstrip().startswith("<a ") and "aria-current" in rows
