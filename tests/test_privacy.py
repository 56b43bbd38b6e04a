"""Retention, per-customer export and erasure, and personal details kept out of the logs."""

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from appliance.cli import main
from appliance.conversations import privacy
from appliance.db import Store
from appliance.ops.logs import configure
from appliance.orders import store as orders
from appliance.settings import Settings

from .helpers import bearer, post, send, sign_in, start_chat


def seed(store: Store) -> dict[str, str]:
    now = "2026-11-22T08:00:00+00:00"
    old = "2025-01-01T08:00:00+00:00"
    with store.write() as db:
        for cid, when, email in (
            ("recent", now, "reader@example.com"),
            ("ancient", old, ""),
            ("other", now, "someone@example.com"),
        ):
            db.execute(
                "INSERT INTO conversations (id, created_at, updated_at, contact_email) VALUES (?, ?, ?, ?)",
                [cid, when, when, email],
            )
            db.execute(
                "INSERT INTO messages (conversation_id, role, text, created_at) VALUES (?, 'customer', ?, ?)",
                [cid, f"secret message of {cid}", when],
            )
    return {"recent": now, "ancient": old}


def test_retention_deletes_old_conversations_and_leaves_no_copy(store: Store) -> None:
    seed(store)
    now = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    assert privacy.purge_old(store, now, 0) == 0  # 0 keeps everything
    assert privacy.purge_old(store, now, 365) == 1
    ids = {r[0] for r in store.read().execute("SELECT id FROM conversations")}
    assert ids == {"recent", "other"}
    assert store.read().execute("SELECT count(*) FROM messages WHERE conversation_id = 'ancient'").fetchone()[0] == 0
    store.close()
    raw = store.path.read_bytes() + (
        Path(f"{store.path}-wal").read_bytes() if Path(f"{store.path}-wal").exists() else b""
    )
    assert b"secret message of ancient" not in raw  # secure_delete + WAL truncated


def test_export_and_erase_by_contact(data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir, model="none")
    store = Store(settings.db_path)
    store.migrate()
    seed(store)
    with store.write() as db:  # an order asked about in the customer's conversation, and elsewhere
        orders.record_lookup(
            db, at="2026-12-01T10:00:00", conversation_id="recent", visitor=None, number="12345", outcome="found",
            source="sheet",
        )  # fmt: skip
        orders.record_lookup(
            db, at="2026-12-01T10:00:00", conversation_id="other", visitor=None, number="777", outcome="not_found",
            source="sheet",
        )  # fmt: skip
    store.close()
    runner = CliRunner()
    out = data_dir / "export.json"
    r = runner.invoke(
        main, ["export-customer", "--contact", "Reader@Example.com", "-o", str(out), "--data-dir", str(data_dir)]
    )
    assert r.exit_code == 0, r.output
    data = json.loads(out.read_text())
    assert [c["id"] for c in data["conversations"]] == ["recent"]
    assert data["conversations"][0]["messages"][0]["text"] == "secret message of recent"
    assert [(x["number"], x["outcome"]) for x in data["order_lookups"]] == [("12345", "found")]
    r = runner.invoke(main, ["erase-customer", "--contact", "reader@example.com", "--yes", "--data-dir", str(data_dir)])
    assert r.exit_code == 0 and "erased 1" in r.output
    store = Store(settings.db_path)
    assert {r[0] for r in store.read().execute("SELECT id FROM conversations")} == {"ancient", "other"}
    store.close()
    assert runner.invoke(main, ["erase-customer", "--yes", "--data-dir", str(data_dir)]).exit_code == 1


def test_personal_details_are_masked_in_logs(data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir, model="none")
    configure(settings)
    logging.getLogger("appliance.test").warning(
        "customer %s paid with 4111 1111 1111 1111, call ۰۹۱۲۳۴۵۶۷۸۹", "reader@example.com"
    )
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = (settings.logs_dir / "appliance.log").read_text(encoding="utf-8")
    for handler in [h for h in logging.getLogger().handlers if getattr(h, "_appliance", False)]:
        logging.getLogger().removeHandler(handler)
        handler.close()
    assert "[email]" in text and "[card]" in text and "[phone]" in text
    assert "reader@example.com" not in text and "4111" not in text and "0912" not in text


def test_mask_leaves_ordinary_numbers() -> None:
    assert privacy.mask("order 881, 3-5 days, 45,000 toman") == "order 881, 3-5 days, 45,000 toman"
    assert privacy.mask("1234 5678 9012 3456") != "[card]"  # not a valid card number (Luhn)


# -- whose data: the conversation and its visitor; unverified contact details only when chosen ----


def _visitor_with_contact(api, *, email: str = "", phone: str = "", token: str | None = None) -> tuple[str, str]:
    conv, token, _ = start_chat(api, "fa", token)
    r = api.post(f"/api/v1/conversations/{conv}/contact", json={"email": email, "phone": phone}, headers=bearer(token))
    assert r.status_code == 200, r.text
    send(api, conv, token, "پیام محرمانه " + conv)
    return conv, token


def test_a_phone_number_is_stored_in_one_form_and_found_in_any(api) -> None:
    first, _ = _visitor_with_contact(api, phone="+98 912 123-4567")
    second, _ = _visitor_with_contact(api, phone="۰۹۱۲ ۱۲۳ ۴۵۶۷")  # Persian digits, national form
    rows = dict(api.app.state.services.store.read().execute("SELECT id, contact_phone FROM conversations").fetchall())
    assert rows[first] == rows[second] == "+989121234567"
    store = api.app.state.services.store
    for typed in ("0912-123-4567", "+98 (912) 1234567", "00989121234567", "۰۹۱۲۱۲۳۴۵۶۷"):
        assert set(privacy.customer_ids(store, contact_detail=typed)) == {first, second}, typed
    assert privacy.erase_customer(store, privacy.customer_ids(store, contact_detail="0912 123 4567")) == 2
    assert store.read().execute("SELECT count(*) FROM conversations").fetchone()[0] == 0


def test_bad_phone_numbers_are_refused(api) -> None:
    conv, token, _ = start_chat(api, "en")
    for bad in ("12", "+98 912 abc 4567", "1" * 16, "+", "0912;DROP"):
        r = api.post(f"/api/v1/conversations/{conv}/contact", json={"phone": bad}, headers=bearer(token))
        assert r.status_code == 422 and r.json()["error"] == "bad_phone", bad


def test_someone_elses_address_doesnt_make_their_data_part_of_an_export_or_erasure(admin, demo_db) -> None:
    """A visitor who types the victim's e-mail address: the owner's "export/erase this customer"
    on the attacker's conversation covers the attacker (their conversations) only; the victim's
    conversation is offered as a separate, explicit choice with a warning."""
    victim, _ = _visitor_with_contact(admin, email="victim@example.com")
    attacker, attacker_token = _visitor_with_contact(admin, email="Victim@Example.com")
    attacker_again, _ = _visitor_with_contact(admin, token=attacker_token, phone="09120000000")  # same visitor
    sign_in(admin)
    page = admin.get(f"/admin/conversations/{attacker}?lang=en")
    assert "1 other conversation left the same e-mail address or phone number" in page.text
    assert "1 other one)" in page.text  # this conversation and the same visitor's other one
    exported = admin.get(f"/admin/conversations/{attacker}/export").json()
    assert {c["id"] for c in exported["conversations"]} == {attacker, attacker_again}
    assert victim not in json.dumps(exported)
    chosen = admin.get(f"/admin/conversations/{attacker}/export?include=contact").json()
    assert {c["id"] for c in chosen["conversations"]} == {attacker, attacker_again, victim}
    r = post(admin, f"/admin/conversations/{attacker}/erase", data={})
    assert r.status_code == 200
    left = {r[0] for r in admin.app.state.services.store.read().execute("SELECT id FROM conversations")}
    assert left == {victim}


def test_stored_phone_numbers_are_put_in_one_form_on_upgrade(store: Store) -> None:
    with store.write() as db:
        for cid, typed in (("a", "+98 912 123-4567"), ("b", "0912 123 4567"), ("c", "call me maybe")):
            db.execute(
                "INSERT INTO conversations (id, created_at, updated_at, contact_phone) VALUES (?, 't', 't', ?)",
                [cid, typed],
            )
        db.execute("DELETE FROM _sqlite_migrations WHERE name = '0010_phone_numbers_in_one_form'")
    assert store.migrate() == ["0010_phone_numbers_in_one_form"]
    rows = dict(store.read().execute("SELECT id, contact_phone FROM conversations").fetchall())
    assert rows == {"a": "+989121234567", "b": "+989121234567", "c": "call me maybe"}


def test_nobody_outside_can_flush_the_log(tmp_path: Path) -> None:
    """A line per bad request (a body that stops halfway, say) could fill the rotating log and
    push its history out: each kind of line is written at most PER_MINUTE times a minute, and a
    line is cut at MAX_LINE_CHARS."""
    from appliance.ops import logs as logging_setup

    now = [0.0]
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Keep()
    handler.addFilter(logging_setup.FloodFilter(clock=lambda: now[0]))
    handler.addFilter(logging_setup.CutFilter())
    logger = logging.getLogger("appliance.test_flood")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        for i in range(500):
            logger.warning("client went away during its request: POST %s", "/x" * 3000 if i == 0 else f"/{i}")
        logger.warning("another kind of line")
        now[0] += 60
        logger.warning("client went away during its request: POST %s", "/next-minute")
    finally:
        logger.removeHandler(handler)
    went_away = [r for r in records if r.startswith("client went away")]
    assert len(went_away) == logging_setup.PER_MINUTE + 2  # 20, the "left out" line, the next minute's
    assert "more lines like this left out this minute" in went_away[logging_setup.PER_MINUTE]
    assert "another kind of line" in records
    assert max(len(r) for r in records) < logging_setup.MAX_LINE_CHARS + 100
