"""Owner replies by e-mail, through a real SMTP server on loopback (aiosmtpd)."""

from datetime import timedelta
from email import message_from_bytes
from pathlib import Path

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
    settings = Settings(
        data_dir=data_dir,
        model="none",
        shop_name="Book Nook",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        smtp_from="shop@booknook.example",
        owner_email="owner@booknook.example",
    )
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
