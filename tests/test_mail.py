"""Owner replies by e-mail, through a real SMTP server on loopback (aiosmtpd)."""

from datetime import timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from litestar.testing import TestClient

from appliance.app import create_app
from appliance.ops import mailer
from appliance.settings import Settings

from .helpers import SAME, Clock, csrf, customer_asks, free_port, password_hash, seed, sign_in


class Inbox:
    def __init__(self) -> None:
        self.messages = []
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content))
        self.envelopes.append(list(envelope.rcpt_tos))
        return "250 OK"


@pytest.fixture
def smtp():
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_owner_reply_is_e_mailed_to_the_customer(data_dir: Path, smtp) -> None:
    inbox, port = smtp
    clock = Clock()
    settings = Settings(
        data_dir=data_dir,
        model="none",
        shop_name="Book Nook",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        smtp_from="shop@booknook.example",
    )
    from appliance.owner import account as owner

    with TestClient(create_app(settings, clock=clock, with_scheduler=False)) as c:
        owner.set_password(c.app.state.services.store, password_hash(), clock)
        seed(c)
        conv, token, _ = customer_asks(c, "I want to talk to a real person")
        c.post(
            f"/api/v1/conversations/{conv}/contact",
            json={"email": "reader@example.com"},
            headers={"authorization": f"Bearer {token}"},
        )
        sign_in(c)
        c.post(
            f"/admin/conversations/{conv}/reply",
            data={"text": "Your parcel left today."},
            headers={**SAME, "x-csrf-token": csrf(c)},
        )
        assert mailer.deliver_due(c.app.state.services.store, settings, clock) == {"sent": 1, "failed": 0}
        [message] = inbox.messages
        assert message["To"] == "reader@example.com" and message["From"] == "shop@booknook.example"
        assert (
            "Book Nook" in message["Subject"] and "Your parcel left today." in message.get_payload(decode=True).decode()
        )
        assert mailer.deliver_due(c.app.state.services.store, settings, clock) == {"sent": 0, "failed": 0}  # sent once
        assert "sent" in c.get(f"/admin/conversations/{conv}?lang=en").text


def test_failures_are_kept_visible_and_retried(data_dir: Path, smtp) -> None:
    inbox, port = smtp
    clock = Clock()
    down = Settings(
        data_dir=data_dir,
        model="none",
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        smtp_security="none",
        smtp_from="shop@booknook.example",
    )
    with TestClient(create_app(down, clock=clock, with_scheduler=False)) as c:
        store = c.app.state.services.store
        mailer.enqueue(store, clock(), to="reader@example.com", subject="hi", body="hello")
        assert mailer.deliver_due(store, down, clock) == {"sent": 0, "failed": 1}
        row = store.read().execute("SELECT attempts, last_error, next_attempt_at FROM outbox").fetchone()
        assert row["attempts"] == 1 and row["last_error"]  # the reason is kept for the owner to see
        assert mailer.deliver_due(store, down, clock) == {"sent": 0, "failed": 0}  # not due yet
        clock.now += timedelta(minutes=2)
        up = down.replace(smtp_port=port)  # the mail server is back
        assert mailer.deliver_due(store, up, clock) == {"sent": 1, "failed": 0}
        assert len(inbox.messages) == 1


def test_no_smtp_means_no_e_mail_and_no_errors(data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir, model="none")
    assert not mailer.configured(settings)
    with TestClient(create_app(settings, with_scheduler=False)) as c:
        assert mailer.deliver_due(c.app.state.services.store, settings, Clock()) == {"sent": 0, "failed": 0}


def test_the_morning_digest_is_e_mailed_to_the_owner(data_dir: Path, smtp) -> None:
    from appliance.db import Store
    from appliance.ops import scheduler

    inbox, port = smtp
    clock = Clock()
    settings = _mailing(data_dir, port, shop_name="Book Nook")
    store = Store(settings.db_path)
    store.migrate()
    jobs = scheduler.build(settings, store, clock)
    jobs.get_job("morning_digest").func()
    jobs.get_job("send_mail").func()
    [message] = inbox.messages
    assert message["To"] == "owner@booknook.example" and "morning digest" in message["Subject"]
    assert "handed to you" in message.get_payload(decode=True).decode()
    store.close()


def test_hostile_text_in_an_e_mail_is_plain_text_and_injects_no_header(data_dir: Path, smtp) -> None:
    inbox, port = smtp
    clock = Clock()
    payload = '<img src=x onerror=alert(1)><script>alert("mail")</script> <a href="javascript:alert(2)">x</a>'
    settings = Settings(
        data_dir=data_dir,
        model="none",
        shop_name="Nook <b>\r\nBcc: victim@example.com",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        smtp_from="shop@booknook.example",
    )
    from appliance.owner import account as owner

    with TestClient(create_app(settings, clock=clock, with_scheduler=False)) as c:
        owner.set_password(c.app.state.services.store, password_hash(), clock)
        seed(c)
        conv, token, _ = customer_asks(c, f"I want to talk to a real person {payload}")
        c.post(
            f"/api/v1/conversations/{conv}/contact",
            json={"email": "reader@example.com"},
            headers={"authorization": f"Bearer {token}"},
        )
        sign_in(c)
        c.post(f"/admin/conversations/{conv}/reply", data={"text": payload}, headers={**SAME, "x-csrf-token": csrf(c)})
        assert mailer.deliver_due(c.app.state.services.store, settings, clock) == {"sent": 1, "failed": 0}
    [message] = inbox.messages
    assert not message.is_multipart() and message.get_content_type() == "text/plain"  # no HTML to run
    assert payload in message.get_payload(decode=True).decode()  # shown as written
    assert message["Bcc"] is None and "\n" not in message["Subject"] and "\r" not in message["Subject"]
    assert inbox.envelopes == [["reader@example.com"]]


# -- the owner's test e-mail, and the guided start's "notifications" --------------------------------


class Refusing:
    """A mail server that refuses the owner's address, as a real one does with a mistyped one."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return f"550 5.1.1 <{address}>: mailbox unavailable"


def _owner_app(settings: Settings, clock: Clock) -> TestClient:
    from appliance.owner import account as owner

    c = TestClient(create_app(settings, clock=clock, with_scheduler=False))
    c.__enter__()
    owner.set_password(c.app.state.services.store, password_hash(), clock)
    sign_in(c)
    return c


def _test_mail(c: TestClient, lang: str = "fa") -> str:
    r = c.post(f"/admin/start/test-mail?lang={lang}", headers={**SAME, "x-csrf-token": csrf(c), "hx-request": "true"})
    assert r.status_code == 200
    return " ".join(r.text.split())


def _notify_ticked(c: TestClient) -> bool:
    return 'class="list-group-item py-3 step done" id="start-notify"' in c.get("/admin/").text


def _mailing(data_dir: Path, port: int, **more: Any) -> Settings:
    """Settings that send the owner's mail through the sink on ``port``."""
    return Settings(
        data_dir=data_dir,
        model="none",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        smtp_from="shop@booknook.example",
        owner_email="owner@booknook.example",
        **more,
    )


def test_a_test_e_mail_reaches_the_owner_and_only_then_notifications_tick(data_dir: Path, smtp) -> None:
    """The step ticked with any mail server and address, a made-up one too."""
    inbox, port = smtp
    clock = Clock()
    settings = _mailing(data_dir, port, shop_name="کتاب‌فروشی نیلوفر")
    c = _owner_app(settings, clock)
    try:
        home = c.get("/admin/").text
        assert not _notify_ticked(c) and "هنوز ایمیلی به شما نرسیده است" in home
        assert 'href="/admin/settings#settings-email"' in home  # lands on the e-mail section's top
        page = c.get("/admin/settings").text
        assert 'id="settings-email"' in page and 'hx-post="/admin/start/test-mail"' in page
        assert page.index('id="settings-email"') < page.index('id="test-mail"')
        said = _test_mail(c)
        assert "ایمیل آزمایشی به \u2068owner@booknook.example\u2069 فرستاده شد" in said and "alert-success" in said
        [message] = inbox.messages
        assert message["To"] == "owner@booknook.example" and inbox.envelopes == [["owner@booknook.example"]]
        assert "کتاب‌فروشی نیلوفر" in str(make_header(decode_header(message["Subject"])))
        assert "ایمیل آزمایشی" in message.get_payload(decode=True).decode()
        assert c.app.state.services.store.read().execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 0
        clock.now += timedelta(minutes=5)
        home = c.get("/admin/").text
        assert _notify_ticked(c) and "ایمیل آزمایشی به نشانی شما فرستاده شد، ۵ دقیقه پیش" in home
        # another address: not proven yet
        c.app.state.services.apply_settings(c.app.state.services.settings.replace(owner_email="new@booknook.example"))
        assert not _notify_ticked(c)
    finally:
        c.__exit__(None, None, None)


def test_a_test_e_mail_says_why_it_was_not_sent(data_dir: Path) -> None:
    clock = Clock()
    refusing = Controller(Refusing(), hostname="127.0.0.1", port=free_port())
    refusing.start()
    settings = Settings(
        data_dir=data_dir,
        model="none",
        smtp_host="127.0.0.1",
        smtp_port=refusing.port,
        smtp_security="none",
        smtp_from="shop@booknook.example",
        owner_email="owner@booknook.example",
    )
    c = _owner_app(settings, clock)
    services = c.app.state.services
    try:
        # a server that refuses the address: its reason
        said = _test_mail(c)
        assert "ایمیل را نپذیرفت" in said and "550 5.1.1" in said and "mailbox unavailable" in said
        assert "alert-danger" in said and not _notify_ticked(c)
        # nothing listening on the port
        services.apply_settings(services.settings.replace(smtp_port=free_port()))
        said = _test_mail(c)
        assert "وصل نشد" in said and "روی این درگاه سروری پاسخ نمی‌دهد" in said
        assert "Can&#39;t connect to the mail server" in _test_mail(c, "en")
        # a made-up server's name
        services.apply_settings(services.settings.replace(smtp_host="mail.booknook.invalid"))
        assert "چنین سروری پیدا نشد" in _test_mail(c)
        # a few a quarter of an hour: the sixth waits
        assert "دقیقه‌ی دیگر دوباره امتحان کنید" not in _test_mail(c)
        assert "۱۵ دقیقه‌ی دیگر دوباره امتحان کنید" in _test_mail(c)
    finally:
        c.__exit__(None, None, None)
        refusing.stop()


def test_a_test_e_mail_without_the_settings_says_what_is_missing(data_dir: Path) -> None:
    c = _owner_app(Settings(data_dir=data_dir, model="none", smtp_host="mail.example.ir"), Clock())
    try:
        said = _test_mail(c)
        assert "نخست این‌ها را پر و ذخیره کنید" in said and "ایمیل شما برای خلاصه صبح" in said
        assert "سرور ایمیل" not in said.split("ذخیره کنید")[1]  # the server is filled in
    finally:
        c.__exit__(None, None, None)


def test_the_digest_sent_to_the_owner_ticks_notifications_and_a_failed_test_after_it_unticks(
    data_dir: Path, smtp
) -> None:
    from appliance.ops import scheduler

    inbox, port = smtp
    clock = Clock()
    settings = _mailing(data_dir, port)
    c = _owner_app(settings, clock)
    try:
        jobs = scheduler.build(settings, c.app.state.services.store, clock)
        jobs.get_job("morning_digest").func()
        assert not _notify_ticked(c)  # queued is not sent
        jobs.get_job("send_mail").func()
        assert len(inbox.messages) == 1 and _notify_ticked(c)
        assert "خلاصه‌ی روزانه به ایمیل شما فرستاده شد" in c.get("/admin/").text
        clock.now += timedelta(hours=1)
        c.app.state.services.apply_settings(c.app.state.services.settings.replace(smtp_port=free_port()))
        c.app.state.services.apply_settings(c.app.state.services.settings.replace(smtp_host="127.0.0.1"))
        assert "وصل نشد" in _test_mail(c)
        assert not _notify_ticked(c)  # the latest word is that it doesn't work
    finally:
        c.__exit__(None, None, None)
