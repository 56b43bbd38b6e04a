"""`appliance orders import FILE` and `appliance orders test NUMBER`: the owner's spreadsheet
imported from the shell with the mapping it used said, and the configured source asked for one
order (a WooCommerce-like server on loopback), printing what a customer would be told and
whether the order can be proved, never the phone number or e-mail themselves."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomli_w
from click.testing import CliRunner, Result

from appliance.cli import main
from appliance.db import Store
from appliance.orders import store as orders_store

from .test_orders_sources import KEY, SECRET, SHEET_CSV, Shop


def _cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False, env={})


def _settings(data_dir: Path, **values: object) -> None:
    (data_dir / "settings.toml").write_text(tomli_w.dumps(values), encoding="utf-8")


@pytest.fixture
def shop() -> Iterator[Shop]:
    server = Shop()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


def test_a_sheet_is_imported_and_its_orders_tested(data_dir: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "سفارش‌ها.csv"
    sheet.write_text(SHEET_CSV, encoding="utf-8")
    r = _cli("orders", "import", "--data-dir", str(data_dir), str(sheet))
    assert r.exit_code == 0 and r.output.strip().endswith(": 4 orders"), r.output
    assert "number=شماره سفارش" in r.output and "tracking_code=کد رهگیری" in r.output
    store = Store(data_dir / "appliance.db")
    assert orders_store.sheet_size(store.read()) == 4
    store.close()

    _settings(data_dir, orders_source="sheet")
    r = _cli("orders", "test", "--data-dir", str(data_dir), "۱۰۰۱")
    assert r.exit_code == 0, r.output
    assert "sheet: order 1001" in r.output and "status: shipped" in r.output and "carrier: پست پیشتاز" in r.output
    assert "phone to prove it: yes" in r.output and "e-mail to prove it: no" in r.output
    assert "2233" not in r.output and "0912" not in r.output  # the proof is never shown
    missing = _cli("orders", "test", "--data-dir", str(data_dir), "9999")
    assert missing.exit_code == 1 and "no order 9999" in missing.output


def test_a_column_the_guess_got_wrong_is_mapped_by_hand(data_dir: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "orders.csv"
    sheet.write_text("کد,وضعیت,شماره همراه\n۷۷,تحویل شد,۰۹۱۲۱۲۳۴۵۶۷\n", encoding="utf-8")
    refused = _cli("orders", "import", "--data-dir", str(data_dir), "--lang", "fa", str(sheet))
    assert refused.exit_code != 0 and "هیچ ستونی شمارهٔ سفارش را ندارد" in refused.output
    r = _cli("orders", "import", "--data-dir", str(data_dir), "--map", "number=کد", str(sheet))
    assert r.exit_code == 0 and ": 1 orders" in r.output, r.output
    again = _cli("orders", "import", "--data-dir", str(data_dir), str(sheet))  # remembered for these columns
    assert again.exit_code == 0 and "number=کد" in again.output, again.output
    wrong = _cli("orders", "import", "--data-dir", str(data_dir), "--map", "address=کد", str(sheet))
    assert wrong.exit_code != 0 and "FIELD one of" in wrong.output


@pytest.mark.slow
def test_the_woocommerce_connection_is_tested(data_dir: Path, shop: Shop) -> None:
    site = shop.url
    _settings(
        data_dir,
        public_url=site,
        fetch_private_addresses=True,
        orders_source="woocommerce",
        orders_url=site,
        orders_key=KEY,
        orders_secret=SECRET,
    )
    r = _cli("orders", "test", "--data-dir", str(data_dir), "1043")
    assert r.exit_code == 1 and "no order 1043" in r.output  # id 1043 is order WC-2001
    r = _cli("orders", "test", "--data-dir", str(data_dir), "WC-2001")
    assert r.exit_code == 0 and "woocommerce: order WC2001" in r.output and "status: completed" in r.output
    assert "tracking_code: 1Z999AA10123456784" in r.output and "e-mail to prove it: yes" in r.output
    assert "sara" not in r.output.lower() and "6789" not in r.output
    _settings(
        data_dir,
        public_url=site,
        fetch_private_addresses=True,
        orders_source="woocommerce",
        orders_url=site,
        orders_key=KEY,
        orders_secret="cs_not_the_right_one",
    )
    refused = _cli("orders", "test", "--data-dir", str(data_dir), "--lang", "fa", "1042")
    assert refused.exit_code != 0 and "کلید را نپذیرفت" in refused.output
    assert "cs_not_the_right_one" not in refused.output and KEY not in refused.output
    shop.mode = "hang"
    slow = _cli("orders", "test", "--data-dir", str(data_dir), "--timeout", "0.5", "1042")
    assert slow.exit_code != 0 and "didn't answer within 1 seconds" in slow.output  # half a second, not 0


def test_no_source_set_is_said(data_dir: Path) -> None:
    r = _cli("orders", "test", "--data-dir", str(data_dir), "1042")
    assert r.exit_code != 0 and "no order source is set" in r.output
