"""The support mailbox as a customers' channel, against a real IMAP server (Dovecot, started by
the test; mail put in with APPEND) and a real SMTP server (aiosmtpd) on loopback: e-mails become
conversations, the bot answers in the thread only when sure, the owner's reply goes out in the
thread with the customer's e-mail quoted, automatic e-mails are never answered, a restart reads
nothing twice."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from litestar.testing import TestClient

from appliance.app import create_app
from appliance.channels import mail_out, mail_poll, mail_read, mail_threads
from appliance.conversations import events
from appliance.conversations.store import Channel, Conversations, Role, Status
from appliance.ops import mailer
from appliance.owner import account as owner
from appliance.settings import Settings

from . import imap_server
from .helpers import SAME, Clock, csrf, free_port, password_hash, pdf, sign_in

SHOP = "shop@booknook.example"
SARA = "sara@example.com"


class Sink:
    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []


@pytest.fixture
def dovecot() -> Iterator[imap_server.Dovecot]:
    if not imap_server.available():
        pytest.fail("dovecot is missing: ./install.sh --dev installs dovecot-imapd", pytrace=False)
    server = imap_server.Dovecot()
    yield server
    server.stop()


@pytest.fixture
def smtp() -> Iterator[tuple[Sink, int]]:
    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()


def _settings(data_dir: Path, imap_port: int, smtp_port: int, **more: Any) -> Settings:
    values: dict[str, Any] = {
        "shop_name": "کتاب‌سرا",
        "imap_host": "127.0.0.1",
        "imap_port": imap_port,
        "imap_security": "none",
        "imap_user": imap_server.USER,
        "imap_password": imap_server.PASSWORD,
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "smtp_security": "none",
        "smtp_from": SHOP,
    }
    return Settings(data_dir=data_dir, model="none", **{**values, **more})


def _app(settings: Settings, clock: Clock, demo_db: Path | None = None) -> TestClient:
    """The whole appliance, its channels running (the scheduler's mail job is called by hand)."""
    db = settings.data_dir / "appliance.db"
    if demo_db is not None and not db.exists():
        shutil.copy(demo_db, db)
    c = TestClient(create_app(settings, clock=clock, with_scheduler=False))
    c.__enter__()
    owner.set_password(c.app.state.services.store, password_hash(), clock)
    sign_in(c)
    # The worker's first look at the mailbox, at start, is over: a test's "check now" is its own.
    until(lambda: mail_poll.state(c.app.state.services.store).checked_at == clock().isoformat())
    return c


def until(what: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = what()
        if got:
            return got
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def check(c: TestClient, clock: Clock) -> mail_poll.State:
    """The owner's "check now", waited for: the worker read the mailbox and took what was new."""
    clock.now += timedelta(seconds=1)
    r = c.post("/admin/channels/email/check", headers={**SAME, "x-csrf-token": csrf(c), "hx-request": "true"})
    assert r.status_code == 200
    store = c.app.state.services.store
    return until(lambda: (s := mail_poll.state(store)).checked_at == clock().isoformat() and s)


def settled(c: TestClient) -> None:
    """The e-mail replies owed so far are queued (the reader is past every e-mail event)."""
    store = c.app.state.services.store
    until(lambda: events.place(store.read(), mail_out.READER) >= _last_event(store))


def _last_event(store: Any) -> int:
    """The last event the e-mail reader follows (the shop's side of an e-mail conversation)."""
    row = (
        store.read()
        .execute(
            "SELECT coalesce(max(id), 0) FROM events WHERE channel = 'email' AND kind IN (?, ?)",
            [events.BOT_MESSAGE, events.OWNER_MESSAGE],
        )
        .fetchone()
    )
    return int(row[0])


def deliver(c: TestClient, settings: Settings, clock: Clock) -> dict[str, int]:
    settled(c)
    return mailer.deliver_due(c.app.state.services.store, settings, clock)


def e_mail(
    text: str,
    *,
    subject: str = "سوال",
    sender: str = f"سارا <{SARA}>",
    reply_to: EmailMessage | None = None,
    html: str = "",
    headers: dict[str, str] | None = None,
    charset: str = "utf-8",
) -> tuple[bytes, str]:
    """A customer's e-mail as their mail program sends it, and its Message-ID."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = imap_server.USER
    msg["Subject"] = subject
    msg["Date"] = "Mon, 07 Dec 2026 10:15:00 +0330"
    msg["Message-ID"] = make_msgid(domain="example.com")
    if reply_to is not None:
        msg["In-Reply-To"] = reply_to["Message-ID"]
        msg["References"] = f"{reply_to.get('References', '')} {reply_to['Message-ID']}".strip()
    for name, value in (headers or {}).items():
        msg[name] = value
    if html:
        msg.set_content(html, subtype="html")
    else:
        msg.set_content(text, charset=charset)
    return msg.as_bytes(), msg["Message-ID"]


def conversation_of(c: TestClient, message_id: str) -> Any:
    return until(lambda: c.app.state.services.chat.conversations.by_channel_ref(Channel.EMAIL, message_id))


def said(c: TestClient, conversation_id: str, role: Role) -> list[str]:
    history = c.app.state.services.chat.conversations.history(conversation_id)
    return [m["text"] for m in history if m["role"] == role]


@pytest.mark.slow
def test_a_persian_question_is_answered_in_its_thread_and_the_reply_joins_it(
    data_dir: Path, demo_db: Path, dovecot, smtp
) -> None:
    sink, smtp_port = smtp
    clock = Clock()
    settings = _settings(data_dir, dovecot.port, smtp_port)
    c = _app(settings, clock, demo_db)
    try:
        raw, question_id = e_mail("سلام\nهزینه پست چقدر است؟\n\n--\nسارا", subject="پرسش درباره‌ی هزینه‌ی ارسال")
        assert b"=?utf-8?" in raw  # the subject travels RFC 2047-encoded
        dovecot.append(raw)
        state = check(c, clock)
        assert state.read == 1 and state.error == ""
        row = conversation_of(c, question_id)
        assert row["contact_email"] == SARA and row["status"] == Status.OPEN
        assert said(c, row["id"], Role.CUSTOMER) == ["سلام\nهزینه پست چقدر است؟"]  # no signature
        [answer] = said(c, row["id"], Role.BOT)
        assert deliver(c, settings, clock) == {"sent": 1, "failed": 0}
        [reply] = sink.messages
        assert reply["To"] == SARA and reply["From"] == SHOP
        assert reply["Subject"] == "Re: پرسش درباره‌ی هزینه‌ی ارسال"
        assert reply["In-Reply-To"] == question_id and question_id in reply["References"]
        assert reply["Auto-Submitted"] == "auto-replied"
        body = reply.get_content()
        assert body.startswith(answer) and "کتاب‌سرا" in body
        assert "سارا نوشت:" in body and "> هزینه پست چقدر است؟" in body  # her e-mail, quoted

        # She answers in the thread, quoting ours: the same conversation, only her new words.
        follow_up, follow_up_id = e_mail(
            f"کادوپیچ هم دارید؟\n\nOn Mon, Dec 7, 2026, کتاب‌سرا <{SHOP}> wrote:\n> {answer}",
            subject=f"Re: {reply['Subject']}",
            reply_to=reply,
        )
        dovecot.append(follow_up)
        assert check(c, clock).read == 2
        assert said(c, row["id"], Role.CUSTOMER)[-1] == "کادوپیچ هم دارید؟"
        assert c.app.state.services.chat.conversations.by_channel_ref(Channel.EMAIL, follow_up_id) is None
        assert deliver(c, settings, clock) == {"sent": 1, "failed": 0}
        second = sink.messages[-1]
        assert second["In-Reply-To"] == follow_up_id
        assert second["References"].split() == [question_id, reply["Message-ID"], follow_up_id]
        assert second["Subject"] == "Re: پرسش درباره‌ی هزینه‌ی ارسال"  # not "Re: Re:"
    finally:
        c.__exit__(None, None, None)


@pytest.mark.slow
def test_an_unsure_question_waits_for_the_owner_whose_reply_goes_out_in_the_thread(
    data_dir: Path, demo_db: Path, dovecot, smtp
) -> None:
    sink, smtp_port = smtp
    clock = Clock()
    settings = _settings(data_dir, dovecot.port, smtp_port)
    c = _app(settings, clock, demo_db)
    try:
        raw, question_id = e_mail("کتاب‌های دست دوم من را هم می‌خرید؟ حدود سیصد جلد دارم.", subject="فروش کتاب")
        dovecot.append(raw)
        check(c, clock)
        row = conversation_of(c, question_id)
        assert row["status"] == Status.WAITING
        handed = c.app.state.services.store.read().execute(
            "SELECT data FROM events WHERE kind = ? AND conversation_id = ?", [events.HANDED_OVER, row["id"]]
        )
        assert [json.loads(d[0])["reason"] for d in handed] == ["not_sure_by_email"]
        assert deliver(c, settings, clock) == {"sent": 0, "failed": 0} and sink.messages == []

        r = c.post(
            f"/admin/conversations/{row['id']}/reply",
            data={"text": "بله، فهرست کتاب‌ها را بفرستید تا قیمت بدهیم."},
            headers={**SAME, "x-csrf-token": csrf(c)},
        )
        assert r.status_code == 200
        assert deliver(c, settings, clock) == {"sent": 1, "failed": 0}
        [reply] = sink.messages
        assert reply["To"] == SARA and reply["In-Reply-To"] == question_id
        assert reply["Subject"] == "Re: فروش کتاب" and reply["Auto-Submitted"] is None  # a person wrote it
        body = reply.get_content()
        assert body.startswith("بله، فهرست کتاب‌ها را بفرستید تا قیمت بدهیم.")
        assert "> کتاب‌های دست دوم من را هم می‌خرید؟ حدود سیصد جلد دارم." in body
        assert c.app.state.services.chat.conversations.status(row["id"]) == Status.ANSWERED

        # A reply with a file: the file isn't attached, and the e-mail says so (no link to follow).
        r = c.post(
            f"/admin/conversations/{row['id']}/reply",
            files={"file": ("فهرست.pdf", pdf(), "application/pdf")},
            data={"text": "فرم قیمت‌گذاری پیوست است."},
            headers={**SAME, "x-csrf-token": csrf(c)},
        )
        assert r.status_code == 200
        assert deliver(c, settings, clock) == {"sent": 1, "failed": 0}
        with_file = sink.messages[-1]
        assert not with_file.is_multipart() and with_file["In-Reply-To"] == question_id
        assert "یک فایل هم برایتان فرستادیم" in with_file.get_content() and "http" not in with_file.get_content()
    finally:
        c.__exit__(None, None, None)


AUTOMATIC = {
    "auto_submitted": {"Auto-Submitted": "auto-replied"},
    "precedence": {"Precedence": "bulk"},
    "mailing_list": {"List-Id": "<news.shop.example>"},
    "auto_reply": {"X-Autoreply": "yes"},
    "bounce": {"Return-Path": "<>"},
}


@pytest.mark.slow
def test_automatic_e_mails_are_never_answered(data_dir: Path, demo_db: Path, dovecot, smtp) -> None:
    sink, smtp_port = smtp
    clock = Clock()
    settings = _settings(data_dir, dovecot.port, smtp_port)
    c = _app(settings, clock, demo_db)
    try:
        ids = []
        for headers in AUTOMATIC.values():
            raw, mid = e_mail("هزینه پست چقدر است؟", headers=headers)
            ids.append(mid)
            dovecot.append(raw)
        for sender in (f"Mail Delivery System <MAILER-DAEMON@{'mx.example.com'}>", f"کتاب‌سرا <{SHOP}>"):
            raw, mid = e_mail("هزینه پست چقدر است؟", sender=sender)
            ids.append(mid)
            dovecot.append(raw)
        report_id = make_msgid(domain="mx.example.com")
        dovecot.append(  # a delivery status notification, as a mail server writes one
            (
                "From: postmaster@mx.example.com\n"
                f"To: {imap_server.USER}\nSubject: Undelivered Mail Returned to Sender\nMessage-ID: {report_id}\n"
                'MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
                "--b\nContent-Type: text/plain; charset=utf-8\n\nهزینه پست چقدر است؟\n"
                "--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.com\n--b--\n"
            ).encode()
        )
        ids.append(report_id)
        state = check(c, clock)
        assert (state.read, state.skipped) == (0, len(ids))
        conversations = c.app.state.services.chat.conversations
        assert all(conversations.by_channel_ref(Channel.EMAIL, mid) is None for mid in ids)
        assert deliver(c, settings, clock) == {"sent": 0, "failed": 0}
        page = " ".join(c.get("/admin/channels/email?lang=fa").text.split())
        assert f'<dd class="mailbox-skipped">{len(ids)}'.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")) in page
    finally:
        c.__exit__(None, None, None)


@pytest.mark.slow
def test_a_restart_reads_nothing_twice(data_dir: Path, demo_db: Path, dovecot, smtp) -> None:
    sink, smtp_port = smtp
    clock = Clock()
    settings = _settings(data_dir, dovecot.port, smtp_port)
    c = _app(settings, clock, demo_db)
    raw, first_id = e_mail("هزینه پست چقدر است؟")
    dovecot.append(raw)
    try:
        assert check(c, clock).read == 1
    finally:
        c.__exit__(None, None, None)
    raw, second_id = e_mail("ساعت کاری فروشگاه چیست؟")  # arrives while the appliance is off
    dovecot.append(raw)
    clock.now += timedelta(minutes=5)
    c = _app(settings, clock)
    try:
        state = until(lambda: (s := mail_poll.state(c.app.state.services.store)).read == 2 and s)
        assert state.last_uid == 2
        assert check(c, clock).read == 2  # checked again: nothing new
        conversations = c.app.state.services.chat.conversations
        first = conversations.by_channel_ref(Channel.EMAIL, first_id)
        assert said(c, first["id"], Role.CUSTOMER) == ["هزینه پست چقدر است؟"]
        assert conversations.by_channel_ref(Channel.EMAIL, second_id) is not None
        assert deliver(c, settings, clock) == {"sent": 2, "failed": 0}
        assert len(sink.messages) == 2
    finally:
        c.__exit__(None, None, None)


@pytest.mark.slow
def test_a_wrong_password_is_said_on_the_admin_page(data_dir: Path, dovecot, smtp) -> None:
    clock = Clock()
    settings = _settings(data_dir, dovecot.port, smtp[1], imap_password="not-the-password")
    c = _app(settings, clock)
    try:
        state = check(c, clock)
        assert state.error == "auth" and imap_server.PASSWORD not in state.detail
        en = c.get("/admin/channels/email?lang=en").text
        assert "The mail server refused the user name or password" in en and 'data-state="auth"' in en
        fa = c.get("/admin/channels/email?lang=fa").text
        assert "سرور ایمیل نام کاربری یا گذرواژه را نپذیرفت" in fa and "not-the-password" not in fa
        form = c.get("/admin/settings?lang=fa").text  # where the owner corrects it
        assert "گذرواژه‌ی صندوق" in form and "SSL/TLS از ابتدا (درگاه ۹۹۳)" in form
        assert "not-the-password" not in form  # a secret is never shown again
    finally:
        c.__exit__(None, None, None)


@pytest.mark.slow
def test_an_html_only_e_mail_is_read_as_text(data_dir: Path, demo_db: Path, dovecot, smtp) -> None:
    clock = Clock()
    settings = _settings(data_dir, dovecot.port, smtp[1])
    c = _app(settings, clock, demo_db)
    try:
        html = (
            "<html><head><style>p{color:red}</style><script>alert(1)</script></head><body>"
            "<p>سلام،</p><p>ساعت کاری <b>فروشگاه</b> چیست؟</p>"
            '<div class="gmail_quote">در تاریخ ۱۶ آذر، کتاب‌سرا نوشت:<blockquote>پاسخ قبلی</blockquote></div>'
            "</body></html>"
        )
        raw, mid = e_mail("", html=html)
        dovecot.append(raw)
        check(c, clock)
        row = conversation_of(c, mid)
        assert said(c, row["id"], Role.CUSTOMER) == ["سلام،\nساعت کاری فروشگاه چیست؟"]
        page = c.get("/admin/channels/email?lang=en").text
        assert "alert(1)" not in page
    finally:
        c.__exit__(None, None, None)


# -- reading one e-mail (no server) -------------------------------------------------------------


def test_an_encoded_persian_subject_and_a_windows_1256_body_are_read() -> None:
    raw = (
        b"From: =?windows-1256?B?08fR5Q==?= <sara@example.com>\r\n"
        b"Subject: =?UTF-8?Q?=D8=A7=D8=B1=D8=B3=D8=A7=D9=84_=D8=A8=D9=87_=D8=B4=DB=8C=D8=B1=D8=A7=D8=B2?=\r\n"
        b"Message-ID: <q1@example.com>\r\n"
        b"Content-Type: text/plain; charset=windows-1256\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n"
    ) + "ارسال به شيراز چند روز طول مي‌کشد؟\r\n\r\n> پيام قبلي\r\n".encode("cp1256")
    mail = mail_read.read(raw, own=(SHOP,))
    assert mail.subject == "ارسال به شیراز" and mail.name == "ساره" and mail.sender == SARA
    assert mail.words == "ارسال به شيراز چند روز طول مي‌کشد؟" and mail.automatic == ""


def test_the_quoted_history_is_not_the_customers_new_words() -> None:
    gmail_fa = "ممنون، رسید.\n\n\u202bدر تاریخ دوشنبه ۱۷ آذر ۱۴۰۵، کتاب‌سرا <shop@booknook.example>\u202c نوشت:\n> سلام"
    gmail_en = "Thanks!\n\nOn Mon, Dec 7, 2026 at 10:00 AM Book Nook <shop@booknook.example>\nwrote:\n> hello"
    outlook = "Got it.\n\n-----Original Message-----\nFrom: Book Nook\nSent: Monday\nSubject: Re: order"
    own_words = "From: Tehran, to Shiraz: how long?"
    assert mail_read.new_words(gmail_fa) == "ممنون، رسید."
    assert mail_read.new_words(gmail_en) == "Thanks!"
    assert mail_read.new_words(outlook) == "Got it."
    assert mail_read.new_words(own_words) == own_words


def test_a_web_forms_e_mail_is_answered_at_its_reply_to() -> None:
    raw = (
        "From: Book Nook site <shop@booknook.example>\r\nReply-To: مریم <maryam@example.com>\r\n"
        "Subject: =?utf-8?b?2YHYsdmFINiq2YXYp9iz?=\r\nMessage-ID: <form1@booknook.example>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    ).encode() + "سفارشم کجاست؟".encode()
    mail = mail_read.read(raw, own=(SHOP,))  # From the shop's address, but a customer's
    assert mail.sender == "maryam@example.com" and mail.subject == "فرم تماس" and mail.automatic == ""
    ours = raw.replace("Reply-To: مریم <maryam@example.com>".encode(), b"X-Note: ours")
    assert mail_read.read(ours, own=(SHOP,)).automatic == "own"  # our own reply, come back: a loop


@pytest.mark.slow
@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_the_mailbox_is_read_over_tls_and_an_untrusted_certificate_is_said(
    data_dir: Path, smtp, security: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = imap_server.Dovecot(tls=True)
    try:
        port = server.tls_port if security == "ssl" else server.port
        clock = Clock()
        settings = _settings(data_dir, port, smtp[1], imap_security=security)
        c = _app(settings, clock)  # the system's authorities only: the test's certificate is refused
        try:
            state = mail_poll.state(c.app.state.services.store)
            assert state.error == "tls" and "certificate verify failed" in state.detail
            assert "The secure connection to the mail server failed" in c.get("/admin/channels/email?lang=en").text
            # The shop's authority trusted (as a system that knows it would): the same e-mail read.
            monkeypatch.setenv("SSL_CERT_FILE", str(server.certificate))
            raw, mid = e_mail("ارسال به خارج از کشور هم دارید؟")
            server.append(raw)
            state = check(c, clock)
            assert (state.error, state.read) == ("", 1)
            assert conversation_of(c, mid)["contact_email"] == SARA
        finally:
            c.__exit__(None, None, None)
    finally:
        server.stop()


@pytest.mark.slow
def test_a_persian_folder_is_read(data_dir: Path, dovecot, smtp) -> None:
    folder = "&Bn4GNAYqBswGKAYnBkYGzA-"  # «پشتیبانی» in IMAP's modified UTF-7 (RFC 3501 5.1.3)
    with dovecot.connect() as conn:
        assert conn.create(folder)[0] == "OK"
    raw, mid = e_mail("پرداختم ناموفق بود ولی پول کم شد")
    dovecot.append(raw, folder)
    dovecot.append(e_mail("this one is in INBOX, not the folder")[0])
    clock = Clock()
    c = _app(_settings(data_dir, dovecot.port, smtp[1], imap_folder="پشتیبانی"), clock)
    try:
        state = mail_poll.state(c.app.state.services.store)
        assert (state.error, state.read) == ("", 1)
        assert said(c, conversation_of(c, mid)["id"], Role.CUSTOMER) == ["پرداختم ناموفق بود ولی پول کم شد"]
    finally:
        c.__exit__(None, None, None)


def test_a_date_no_calendar_shows_never_stops_the_replies(store, clock, data_dir: Path) -> None:
    """ "Date: Fri, 31 Dec 9999 23:00:00 -1400" parses but overflows in the shop's time zone: the
    reply quoting it failed at every try and held every later reply back."""
    far = b"From: sara@example.com\r\nMessage-ID: <far@example.com>\r\nDate: Fri, 31 Dec 9999 23:00:00 -1400\r\n\r\nhi\r\n"
    assert mail_read.read(far).date == ""
    usual = far.replace(b"Fri, 31 Dec 9999 23:00:00 -1400", b"Mon, 07 Dec 2026 10:00:00 +0330")
    assert mail_read.read(usual).date == "2026-12-07T06:30:00+00:00"

    # One kept before the check (an older appliance's): the reply still goes, quoting no date.
    conversations = Conversations(store, clock)
    cid = conversations.start(lang="fa", channel=Channel.EMAIL, channel_ref="<far@example.com>")
    conversations.set_contact(cid, SARA, "")
    with store.write() as db:
        mail_threads.remember(
            db, "<far@example.com>", cid, incoming=True, now=clock().isoformat(), sender=SARA,
            subject="سفارش", body="سلام", sent_at="9999-12-31T23:00:00-14:00",
        )  # fmt: skip
    events.start_at_present(store, mail_out.READER, clock().isoformat())
    conversations.add_owner_reply(cid, "سلام، فردا ارسال می‌شود.")
    conversations.add_owner_reply(cid, "کد رهگیری را هم می‌فرستم.")
    settings = Settings(data_dir=data_dir, model="none", smtp_from=SHOP)
    assert mail_out.send_pending(store, clock, settings) == 2
    bodies = [r[0] for r in store.read().execute("SELECT body FROM outbox ORDER BY id")]
    assert "> سلام" in bodies[0] and "کد رهگیری" in bodies[1]
