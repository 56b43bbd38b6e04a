"""Retention, per-customer export and erasure, and personal details kept out of the logs."""

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from appliance import privacy
from appliance.cli import main
from appliance.db import Store
from appliance.logging_setup import configure
from appliance.settings import Settings


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
