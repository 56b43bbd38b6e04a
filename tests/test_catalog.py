"""The product catalog: real exports in (WooCommerce, Shopify, a spreadsheet, JSON), products
found in customers' words, replies built from the catalog's fields, and the owner's command line.
Real SQLite files and the real app through Litestar's test client."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from appliance.catalog import formats, match, reply
from appliance.catalog import store as catalog_store
from appliance.catalog.product import Product, parse_price
from appliance.cli import main
from appliance.cli.evaluate import figures
from appliance.clock import utc_now
from appliance.db import Store
from appliance.kb.entry import EntryError

from .helpers import WOO, make_api_client, reply_of, send, start_chat

SET = Path(__file__).parent / "data" / "eval" / "shop_catalog"

SHOPIFY = (
    "Handle,Title,Body (HTML),Option1 Name,Option1 Value,Variant SKU,Variant Inventory Qty,Variant Price\n"
    "samsung-charger,Samsung 25W Charger,<p>Fast <b>charging</b></p>,Title,Default Title,SAM25,7,690000\n"
    "tee,Hafez T-Shirt,<p>Cotton</p>,Size,S,TEE-S,0,390000\n"
    "tee,,,,M,TEE-M,4,390000\n"
)
SHEET = 'کد,نام,قیمت,موجودی,رنگ\nA1,قاب آیفون 13,"۳۵۰٬۰۰۰ تومان",۵,مشکی\nA2,شارژر شیائومی 33 وات,540000,0,\n'


def _build(text: str, name: str = "x.csv") -> list[Product]:
    table = formats.read_table(text.encode(), name)
    return formats.build(table, table.mapping)


def test_woocommerce_export_with_bom_multiline_and_variations() -> None:
    products = {p.sku: p for p in _build(WOO, "wc-product-export.csv")}
    assert set(products) == {"BOOF", "HOOD", "HOOD-BL-M", "HOOD-BL-L", "HOOD-BK-M", "ZIP"}
    boof = products["BOOF"]
    assert (boof.name_fa, boof.price, boof.stock) == ("بوف کور", "185000", 12)
    assert "چاپ جدید" in boof.description  # the quoted line break stayed inside its cell
    kid = products["HOOD-BL-M"]
    assert kid.parent_sku == "HOOD" and kid.attributes == {"Color": "Blue", "Size": "M"}
    assert kid.name_en == "Classic Hoodie"  # the product's name, not "Classic Hoodie - Blue, M"
    assert products["HOOD-BK-M"].price == "850000"  # the sale price is what the customer pays


def test_shopify_rows_sharing_a_handle_are_one_product() -> None:
    products = {p.sku: p for p in _build(SHOPIFY, "products_export.csv")}
    assert products["SAM25"].parent_sku is None and products["SAM25"].stock == 7
    assert products["SAM25"].description == "Fast charging"  # no HTML reaches a reply
    assert products["TEE-M"].parent_sku == "tee" and products["TEE-M"].attributes == {"Size": "M"}
    assert products["tee"].name_en == "Hafez T-Shirt" and products["tee"].price == ""


def test_a_persian_spreadsheet_and_its_guessed_mapping() -> None:
    table = formats.read_table(SHEET.encode(), "کالاها.csv")
    assert table.mapping["sku"] == "کد" and table.mapping["name_fa"] == "نام" and table.mapping["attributes"] == ["رنگ"]
    a1, a2 = formats.build(table, table.mapping)
    assert (a1.price, a1.currency, a1.stock, a1.attributes) == ("350000", "تومان", 5, {"رنگ": "مشکی"})
    assert a2.availability(3) == "out"


def test_json_with_variants() -> None:
    data = [
        {
            "sku": "CAP",
            "name": "Baseball Cap",
            "price": 280000,
            "variants": [{"sku": "CAP-R", "colour": "Red", "stock": 3}],
        }
    ]
    cap, red = _build(json.dumps(data), "feed.json")
    assert red.parent_sku == "CAP" and red.price == "280000" and red.attributes == {"colour": "Red"}


@pytest.mark.parametrize(
    ("text", "name", "key"),
    [
        ("<!doctype html><html><body>Not found</body></html>", "feed.csv", "catalog.html"),
        ("colour,size\nred,M\n", "wrong.csv", "catalog.map_name"),
        ("name,price\nHoodie,cheap\n", "bad.csv", "catalog.bad_price"),
        ("sku,name,price\nA,Hoodie,1\nA,Cap,2\n", "dup.csv", "catalog.dup_sku"),
        ('[{"name": "x"', "broken.json", "entry.bad_json"),
        ("", "empty.csv", "catalog.empty"),
    ],
)
def test_bad_files_are_refused_with_the_reason(text: str, name: str, key: str) -> None:
    with pytest.raises(EntryError) as err:
        _build(text, name)
    assert err.value.key == key


def test_a_huge_file_is_refused_before_it_is_read() -> None:
    with pytest.raises(EntryError) as err:
        formats.read_table(b"x" * (formats.MAX_FILE_BYTES + 1), "big.csv")
    assert err.value.key == "entry.big_file"


def test_prices_as_shops_write_them() -> None:
    assert parse_price("۴۵۰٬۰۰۰ تومان") == ("450000", "تومان")
    assert parse_price("$19.99") == ("19.99", "$")
    assert parse_price("1 250 000") == ("1250000", "")
    assert reply.money("450000", "تومان", "fa") == "۴۵۰٬۰۰۰ تومان"
    assert reply.money("19.99", "$", "en") == "$19.99"


def _catalog_store(tmp_path: Path, text: str = WOO, name: str = "wc.csv") -> Store:
    s = Store(tmp_path / "appliance.db")
    s.migrate()
    table = formats.read_table(text.encode(), name)
    with s.write() as db:
        catalog_store.replace_all(
            db, formats.build(table, table.mapping), source=name, kind="file", mapping={}, now="t"
        )
    return s


def test_customers_words_find_the_product_and_variant(tmp_path: Path) -> None:
    s = _catalog_store(tmp_path)
    index = match.CatalogIndex(s)
    cases = {
        "بوف کور دارین؟ چنده؟": "BOOF",
        "boof koor darin?": "BOOF",
        "is the blue hoodie in M in stock": "HOOD-BL-M",
        "هودی آبی سایز L موجوده؟": "HOOD-BL-L",
        "how much is the clasic hoodie": "HOOD",  # a typo, no variant named: the product
    }
    for text, sku in cases.items():
        found = index.search(text)
        assert found.best is not None and found.best.sku == sku, (text, found.matches[:2])
        assert found.intent or text.startswith("how much")
    assert index.search("do you have harry potter?").best is None
    s.close()


def test_the_reply_is_the_catalogs_fields_exactly(tmp_path: Path) -> None:
    s = _catalog_store(tmp_path)
    index = match.CatalogIndex(s)
    m = index.search("هودی آبی مدیوم چنده؟").best
    assert m is not None
    text = reply.describe(m.group.product, m.chosen, "fa", few_left=3)
    assert "۸۹۰٬۰۰۰" in text and "فقط ۲ عدد" in text and "آبی" in text
    m = index.search("price of the classic hoodie").best
    assert m is not None
    text = reply.describe(m.group.product, m.chosen, "en", few_left=3)
    # each variant's own stock; the price range from the variants' own prices
    assert "from 850,000 to 890,000" in text and "Out of stock: Blue, L" in text
    assert figures(text) <= {"850000", "890000", "2"}
    s.close()


def test_an_import_keeps_what_the_owner_turned_off(tmp_path: Path) -> None:
    s = _catalog_store(tmp_path)
    with s.write() as db:
        catalog_store.set_enabled(db, "HOOD", False, now="t")
    assert "HOOD" not in {m.sku for m in match.CatalogIndex(s).search("classic hoodie price").matches}
    table = formats.read_table(WOO.encode(), "wc.csv")
    with s.write() as db:
        catalog_store.replace_all(
            db, formats.build(table, table.mapping), source="wc.csv", kind="file", mapping={}, now="t2"
        )
        assert catalog_store.get(db, "HOOD-BL-M").enabled is False  # type: ignore[union-attr]
    s.close()


@pytest.fixture
def shop(data_dir: Path, demo_db: Path):
    """The demo bookshop's app with the WooCommerce catalog imported."""
    with make_api_client(data_dir, demo_db, shop_calibration=False) as c:
        table = formats.read_table(WOO.encode(), "wc.csv")
        with c.app.state.services.store.write() as db:
            catalog_store.replace_all(
                db,
                formats.build(table, table.mapping, currency="تومان"),
                source="wc.csv",
                kind="file",
                mapping={},
                now=utc_now().isoformat(),
            )
        yield c


def _ask(c: TestClient, text: str, lang: str = "fa") -> tuple[str, str, dict]:
    conv, token, _ = start_chat(c, lang)
    return conv, token, reply_of(send(c, conv, token, text).text)


def test_a_customer_asks_the_widget_about_a_product(shop: TestClient) -> None:
    _, _, done = _ask(shop, "بوف کور دارین؟ چنده؟")
    assert done["kind"] == "answer"
    assert "۱۸۵٬۰۰۰ تومان" in done["text"] and "موجود است" in done["text"]


def test_several_products_are_offered_as_choices_and_a_pick_answers(shop: TestClient) -> None:
    conv, token, done = _ask(shop, "hoodie price?", "en")
    assert done["kind"] == "clarify", done
    assert done["text"].startswith("We have more than one product by that name")
    ids = [ch["id"] for ch in done["choices"]]
    assert set(ids) == {"product:HOOD", "product:ZIP"}
    r = shop.post(
        f"/api/v1/conversations/{conv}/choices",
        json={"entry_id": "product:HOOD", "label": "Classic Hoodie"},
        headers={"authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200, r.text
    picked = reply_of(r.text)
    assert picked["kind"] == "answer" and "from 850,000 تومان to 890,000 تومان" in picked["text"]
    assert "In stock: Blue, M (only 2 left), Black, M." in picked["text"], picked["text"]


def test_product_choices_keep_their_names_when_the_widget_reloads_the_conversation(shop: TestClient) -> None:
    conv, token, done = _ask(shop, "hoodie price?", "en")
    assert done["kind"] == "clarify"
    history = shop.get(f"/api/v1/conversations/{conv}/messages", headers={"authorization": f"Bearer {token}"})
    assert history.status_code == 200, history.text
    [bot] = [m for m in history.json()["messages"] if m.get("kind") == "clarify"]
    assert {c["title"] for c in bot["choices"]} == {"Classic Hoodie", "Zip Hoodie"}


def test_a_shortened_name_that_fits_one_product_answers(shop: TestClient) -> None:
    _, _, done = _ask(shop, "hoodie in M, price?", "en")  # only the Classic Hoodie comes in M
    assert done["kind"] == "answer" and done["sources"][0]["id"] == "product:HOOD"


def test_one_product_two_variants_of_a_size_are_told_together(shop: TestClient) -> None:
    _, _, done = _ask(shop, "classic hoodie M price?", "en")
    assert done["kind"] == "answer" and done["sources"][0]["id"] == "product:HOOD"
    assert "Blue, M (only 2 left)" in done["text"] and "Black, M" in done["text"] and "Blue, L" not in done["text"]


def test_a_product_the_shop_doesnt_have_is_never_answered(shop: TestClient) -> None:
    _, _, done = _ask(shop, "do you have the red sneakers? how much?", "en")
    assert done["kind"] != "answer"
    assert "couldn't find that product" in done["text"]


def test_the_knowledge_base_still_answers_its_questions(shop: TestClient) -> None:
    _, _, done = _ask(shop, "ارسال به شیراز چند روز طول می‌کشد؟")
    assert done["kind"] in ("answer", "clarify") and not any(
        c["id"].startswith("product:") for c in done.get("choices", [])
    )


def _cli(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_command_line_import_and_export_round_trip(data_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "wc.csv"
    source.write_text(WOO, encoding="utf-8")
    r = _cli("catalog", "import", "--data-dir", str(data_dir), str(source))
    assert r.exit_code == 0 and "6 products" in r.output, r.output
    out = tmp_path / "export.csv"
    assert _cli("catalog", "export", "--data-dir", str(data_dir), "-o", str(out)).exit_code == 0
    again = tmp_path / "again"
    again.mkdir()
    r = _cli("catalog", "import", "--data-dir", str(again), str(out))
    assert r.exit_code == 0, r.output
    a, b = Store(data_dir / "appliance.db"), Store(again / "appliance.db")
    assert catalog_store.all_products(a.read()) == catalog_store.all_products(b.read())
    a.close(), b.close()
    bad = tmp_path / "bad.csv"
    bad.write_text("colour\nred\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["catalog", "import", "--data-dir", str(again), str(bad)])
    assert r.exit_code != 0 and "nothing imported" in r.output


@pytest.mark.slow
def test_eval_reports_the_catalog_metrics(tmp_path: Path) -> None:
    out = tmp_path / "m.json"
    r = _cli(
        "eval", "--kb", str(SET / "kb.jsonl"), "--catalog", str(SET / "catalog.csv"),
        "--questions", str(SET / "dev.jsonl"), "--out", str(out),
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    m = json.loads(out.read_text())
    assert m["product_questions"] > 50
    assert m["invented_figures"] == 0 and m["missing_product_answered"] == 0.0
    assert m["product_top1"] >= 0.9 and m["facts_exact"] >= 0.98


# -- the admin's catalog page ---------------------------------------------------------------------


@pytest.fixture
def owner_client(shop: TestClient) -> TestClient:
    from appliance.owner import account as owner

    from .helpers import password_hash, sign_in

    owner.set_password(shop.app.state.services.store, password_hash(), utc_now)
    sign_in(shop)
    return shop


def test_the_owner_imports_a_persian_spreadsheet_through_the_mapping_preview(owner_client: TestClient) -> None:
    from .helpers import SAME, csrf

    c = owner_client
    token = csrf(c)
    headers = {**SAME, "x-csrf-token": token, "hx-request": "true"}
    r = c.post(
        "/admin/catalog-import",
        files={"file": ("کالاها.csv", SHEET.encode(), "text/csv")},
        data={"currency": "تومان"},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    assert "قاب آیفون 13" in r.text and 'value="کد" selected' in r.text  # the guess, shown to confirm
    preview_token = r.text.split('name="token" value="')[1].split('"')[0]
    form = {"token": preview_token, "preset": "plain", "map_sku": "کد", "map_name_fa": "نام", "map_price": "قیمت"}
    form |= {"map_stock": "موجودی", "attributes": "رنگ", "currency": "تومان", "action": "import"}
    r = c.post("/admin/catalog-import/confirm", data=form, headers=headers)
    assert r.status_code == 200, r.text
    c.app.state.services.jobs.wait()
    [job] = c.app.state.services.jobs.of_kind("catalog")
    assert job.state == "done" and job.result.added == 2, job.error
    db = c.app.state.services.store.read()
    assert {p.sku for p in catalog_store.all_products(db)} == {"A1", "A2"}  # replaced: the Woo file's are gone
    # the same columns next time: the owner's mapping is offered again
    r = c.post("/admin/catalog-import", files={"file": ("b.csv", SHEET.encode(), "text/csv")}, headers=headers)
    assert 'value="موجودی" selected' in r.text


def test_a_wrong_file_is_refused_in_persian_and_changes_nothing(owner_client: TestClient) -> None:
    from .helpers import SAME, csrf

    c = owner_client
    headers = {**SAME, "x-csrf-token": csrf(c), "hx-request": "true"}
    r = c.post(
        "/admin/catalog-import?lang=fa",
        files={"file": ("feed.csv", b"<!doctype html><html>oops</html>", "text/csv")},
        headers={**headers, "hx-current-url": "http://testserver/admin/catalog?lang=fa"},
    )
    assert r.status_code == 422 and "صفحهٔ وب است" in r.text
    assert len(catalog_store.all_products(c.app.state.services.store.read())) == 6


def test_the_owner_edits_a_price_in_persian_digits_and_turns_a_product_off(owner_client: TestClient) -> None:
    from .helpers import post

    c = owner_client
    page = c.get("/admin/catalog?lang=fa")
    assert page.status_code == 200 and "بوف کور" in page.text and "Classic Hoodie" in page.text
    r = post(c, "/admin/catalog/BOOF", data={"price": "۱۹۵٬۰۰۰", "stock": "۳"})
    assert r.status_code == 200 and 'value="195000"' in r.text
    assert catalog_store.get(c.app.state.services.store.read(), "BOOF").stock == 3  # type: ignore[union-attr]
    r = post(c, "/admin/catalog/BOOF", data={"price": "ارزان", "stock": "1"})
    assert "is not a number" in r.text or "عدد نیست" in r.text
    _, _, done = _ask(c, "بوف کور چنده؟")
    assert "۱۹۵٬۰۰۰ تومان" in done["text"] and "فقط ۳ عدد" in done["text"]
    post(c, "/admin/catalog/BOOF/toggle")
    _, _, done = _ask(c, "بوف کور چنده؟")
    assert done["kind"] != "answer"
    found = c.get("/admin/catalog?q=بوف", headers={"hx-request": "true"})
    assert "بوف کور" in found.text and "Classic Hoodie" not in found.text
    export = c.get("/admin/catalog-export")
    assert export.headers["content-type"].startswith("text/csv") and "BOOF" in export.text
