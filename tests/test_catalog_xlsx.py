"""Catalogs kept in Excel (.xlsx): real workbooks written here with openpyxl, read the way the
same sheet saved as CSV reads (numbers without ".0", dates as 2026-11-22, empty cells empty,
Persian kept), through ``formats.read_table`` and ``build``, the admin's upload (the real app)
and the command line; and the files that are refused, each with its reason in the owner's
language and nothing imported."""

from __future__ import annotations

import csv
import io
import time
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from appliance import i18n
from appliance.catalog import formats
from appliance.catalog import store as catalog_store
from appliance.catalog.product import MAX_PRODUCTS
from appliance.cli import main
from appliance.db import Store
from appliance.kb.entry import EntryError

from .helpers import SAME, WOO, csrf, sign_in

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET1 = "xl/worksheets/sheet1.xml"


def _xlsx(*sheets: list[list[Any]], titles: tuple[str, ...] = ()) -> bytes:
    """A workbook with these sheets' rows, as openpyxl saves it."""
    wb = openpyxl.Workbook()
    for i, rows in enumerate(sheets):
        ws = wb.active if i == 0 else wb.create_sheet()
        if i < len(titles):
            ws.title = titles[i]
        for row in rows:
            ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _rewrite(data: bytes, part: str, change: Callable[[bytes], bytes]) -> bytes:
    """The workbook with one of its parts changed, as a hand-made or hostile file would be."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == part:
                body, before = change(body), body
                assert body != before, "the change found nothing to change"
            dst.writestr(info.filename, body)
    return out.getvalue()


def _refused(data: bytes, name: str = "کالاها.xlsx") -> EntryError:
    with pytest.raises(EntryError) as err:
        formats.read_table(data, name)
    return err.value


# A shop's price list as owners keep it: a title above the table, a blank row, Persian headers,
# numbers Excel stores as numbers, a date, empty cells, a blank row between the products.
PRICE_LIST = [
    ["لیست قیمت کتاب‌فروشی — آبان"],
    [],
    ["کد", "نام", "قیمت", "موجودی", "رنگ", "تاریخ ورود", "وزن (کیلو)"],
    ["A1", "بوف کور", 185000, 12, None, datetime(2026, 11, 22), 0.1 * 3],
    [None] * 7,
    ["A2", "قاب آیفون ۱۳", 350000.0, None, "مشکی", date(2026, 1, 2), 19.99],
    ["A3", "شارژر شیائومی ۳۳ وات", "۵۴۰٬۰۰۰ تومان", 0, "سفید", None, 1],
]


def test_a_persian_price_list_reads_as_its_csv_would() -> None:
    table = formats.read_table(_xlsx(PRICE_LIST), "لیست قیمت.xlsx")
    assert table.columns == ["کد", "نام", "قیمت", "موجودی", "رنگ", "تاریخ ورود", "وزن (کیلو)"]
    assert table.rows[0] == {
        "کد": "A1", "نام": "بوف کور", "قیمت": "185000", "موجودی": "12", "رنگ": "",
        "تاریخ ورود": "2026-11-22", "وزن (کیلو)": "0.3",
    }  # fmt: skip
    assert table.rows[1]["قیمت"] == "350000" and table.rows[1]["تاریخ ورود"] == "2026-01-02"
    assert table.rows[1]["وزن (کیلو)"] == "19.99" and table.rows[1]["نام"] == "قاب آیفون ۱۳"
    assert table.row_numbers == [4, 6, 7]  # the rows as Excel numbers them, the blank one skipped
    assert table.mapping == {
        "preset": "plain", "sku": "کد", "name_fa": "نام", "price": "قیمت", "stock": "موجودی", "attributes": ["رنگ"],
    }  # fmt: skip
    a1, a2, a3 = formats.build(table, table.mapping, currency="تومان")
    assert (a1.sku, a1.name_fa, a1.price, a1.stock, a1.attributes) == ("A1", "بوف کور", "185000", 12, {})
    assert (a2.price, a2.stock, a2.attributes) == ("350000", None, {"رنگ": "مشکی"})
    assert (a3.price, a3.currency, a3.stock) == ("540000", "تومان", 0)


def _woo_as_sheet() -> list[list[Any]]:
    """The WooCommerce export the CSV tests read, as Excel holds it once opened and saved:
    numbers are numbers ("185,000" stays text, as Excel keeps a quoted grouping)."""
    rows = list(csv.reader(io.StringIO(WOO.lstrip("\ufeff"))))
    return [[int(v) if v.isdigit() else (v or None) for v in row] for row in rows]


def test_a_woocommerce_export_saved_as_xlsx_gives_the_products_its_csv_gives() -> None:
    table = formats.read_table(_xlsx(_woo_as_sheet()), "wc-product-export.xlsx")
    assert table.mapping["preset"] == "woocommerce"
    from_csv = formats.read_table(WOO.encode(), "wc-product-export.csv")
    assert table.rows == from_csv.rows
    products = formats.build(table, table.mapping, currency="تومان")
    assert products == formats.build(from_csv, from_csv.mapping, currency="تومان")
    kid = {p.sku: p for p in products}["HOOD-BL-M"]
    assert kid.parent_sku == "HOOD" and kid.attributes == {"Color": "Blue", "Size": "M"} and kid.stock == 2
    assert "چاپ جدید" in products[0].description  # a line break inside a cell stays in its cell


def test_the_first_sheet_with_anything_in_it_is_read_whatever_the_file_is_called() -> None:
    data = _xlsx([], [["sku", "name", "price"], ["B1", "Blue Hoodie", 890000]], titles=("راهنما", "کالاها"))
    for name in ("export.xlsx", "feed.csv", "download"):  # a feed link's name says nothing
        table = formats.read_table(data, name)
        assert table.rows == [{"sku": "B1", "name": "Blue Hoodie", "price": "890000"}], name


def test_a_formula_gives_the_value_excel_saved_with_it() -> None:
    data = _xlsx([["sku", "name", "price"], ["C1", "کلاه", 1]])
    data = _rewrite(
        data,
        SHEET1,
        lambda xml: xml.replace(b'<c r="C2" t="n"><v>1</v></c>', b'<c r="C2"><f>B9*2</f><v>280000</v></c>'),
    )
    assert formats.read_table(data, "x.xlsx").rows[0]["price"] == "280000"


def test_a_bad_row_is_named_by_its_row_in_the_sheet() -> None:
    rows = [["لیست قیمت"], ["کد", "نام", "قیمت"], ["A1", "بوف کور", 185000], ["A2", "سه‌تار", "ارزان"]]
    table = formats.read_table(_xlsx(rows), "کالاها.xlsx")
    with pytest.raises(EntryError) as err:
        formats.build(table, table.mapping)
    assert err.value.key == "catalog.bad_price" and err.value.where == "کالاها.xlsx row 4"
    assert "۴" in i18n.refusal("fa", err.value)


def test_a_forged_dimension_does_not_make_a_million_rows() -> None:
    """A sheet may declare it spans A1:XFD1048576; padding rows to that would be 16,384 cells a
    row for a million rows. The rows are read as they are in the file."""
    data = _xlsx([["sku", "name", "price"], ["A", "Cap", 1]])
    data = _rewrite(
        data, SHEET1, lambda xml: xml.replace(b'<dimension ref="A1:C2"/>', b'<dimension ref="A1:XFD1048576"/>')
    )
    started = time.perf_counter()
    table = formats.read_table(data, "x.xlsx")
    assert table.rows == [{"sku": "A", "name": "Cap", "price": "1"}]
    assert time.perf_counter() - started < 1.0


def _billion_laughs(xml: bytes) -> bytes:
    entities = '<!ENTITY a0 "ha">' + "".join(f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10))
    return b"<!DOCTYPE worksheet [" + entities.encode() + b"]>" + xml.replace(b"<t>Cap</t>", b"<t>&a9;</t>")


def _garbage(xml: bytes) -> bytes:
    return xml[: len(xml) // 2] + b"<row r='x'><c><<<"


def _truncated() -> bytes:
    data = _xlsx(PRICE_LIST)
    return data[: len(data) // 2]  # an upload cut off half-way


def _docx_like() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


# A Compound File header: what an Excel 97-2003 .xls starts with, and what Excel wraps a
# password-protected .xlsx in (the encrypted package inside it).
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)


@pytest.mark.parametrize(
    ("make", "key", "fa", "en"),
    [
        (lambda: OLE2, "catalog.xls", "اکسل قدیمی", "password"),
        (_truncated, "catalog.bad_xlsx", "خوانا نیست", "damaged"),
        (_docx_like, "catalog.bad_xlsx", "خوانا نیست", "damaged"),
        (lambda: b"sku,name,price\nA,Cap,1\n", "catalog.bad_xlsx", "خوانا نیست", "damaged"),
        (lambda: _rewrite(_xlsx([["sku", "name", "price"], ["A", "Cap", 1]]), SHEET1, _garbage), "catalog.bad_xlsx", "خوانا نیست", "damaged"),
        (lambda: _rewrite(_xlsx([["sku", "name", "price"], ["A", "Cap", 1]]), SHEET1, _billion_laughs), "catalog.bad_xlsx", "خوانا نیست", "damaged"),
        (lambda: _xlsx([[f"ستون {i}" for i in range(201)], ["x"] * 201]), "catalog.too_many_columns", "بیش از ۲۰۰ ستون", "more than 200 columns"),
        (lambda: _xlsx([["لیست قیمت"], [], ["کد", "نام", "قیمت"]]), "catalog.empty", "خالی", "empty"),
    ],
    ids=["xls-or-password", "truncated", "a-zip-not-a-workbook", "csv-named-xlsx", "broken-sheet", "billion-laughs", "201-columns", "header-only"],
)  # fmt: skip
def test_a_file_that_cannot_be_read_is_refused_with_the_reason(
    make: Callable[[], bytes], key: str, fa: str, en: str
) -> None:
    started = time.perf_counter()
    err = _refused(make())
    assert err.key == key, err
    assert fa in i18n.refusal("fa", err) and en in i18n.refusal("en", err)
    assert time.perf_counter() - started < 2.0  # refused, not chewed on


@pytest.mark.slow
def test_a_zip_bomb_is_refused_before_anything_is_unpacked() -> None:
    """201 MB of zeros packed into 0.2 MB beside a real workbook: the parts' sizes are added
    up from the zip's directory before openpyxl opens it."""
    out = io.BytesIO(_xlsx([["sku", "name", "price"], ["A", "Cap", 1]]))
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as z, z.open("xl/media/image1.bin", "w") as fh:
        for _ in range(201):
            fh.write(bytes(2**20))
    data = out.getvalue()
    assert len(data) < formats.MAX_FILE_BYTES // 50
    started = time.perf_counter()
    err = _refused(data)
    assert time.perf_counter() - started < 0.5
    assert err.key == "catalog.xlsx_too_big"
    assert "۲۰۰ مگابایت" in i18n.refusal("fa", err) and "200 MB" in i18n.refusal("en", err)


@pytest.mark.slow
def test_a_sheet_longer_than_a_catalog_holds_stops_being_read() -> None:
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(["name", "price"])
    for i in range(MAX_PRODUCTS + 1):
        ws.append([f"کالای {i}", 1000 + i])
    out = io.BytesIO()
    wb.save(out)
    err = _refused(out.getvalue())
    assert err.key == "catalog.too_many" and "بیش از ۵۰۰۰۰ ردیف" in i18n.refusal("fa", err)


@pytest.mark.slow
def test_a_row_numbered_past_excels_last_row_is_refused() -> None:
    """A forged row number (r="1048577"): the rows between are gaps that cost nothing, and the
    file stops at the sheet's last possible row instead of counting on for ever."""
    data = _xlsx([["sku", "name", "price"], ["A", "Cap", 1]])
    data = _rewrite(
        data, SHEET1, lambda xml: xml.replace(b'<row r="2">', b'<row r="1048577">').replace(b'r="A2"', b'r="A1048577"')
    )
    started = time.perf_counter()
    err = _refused(data)
    assert err.key == "catalog.bad_xlsx" and "past row 1048576" in err.reason
    assert time.perf_counter() - started < 10


# -- the owner's upload and the command line ----------------------------------------------------------


@pytest.fixture
def owner(admin: TestClient) -> TestClient:
    sign_in(admin)
    return admin


def test_the_owner_imports_an_excel_file_through_the_mapping_preview(owner: TestClient) -> None:
    c = owner
    page = c.get("/admin/catalog?lang=fa")
    assert 'accept=".csv,.json,.txt,.xlsx"' in page.text and "فایل اکسل (xlsx) هم خوانده می‌شود" in page.text
    headers = {**SAME, "x-csrf-token": csrf(c), "hx-request": "true"}
    r = c.post(
        "/admin/catalog-import?lang=fa",
        files={"file": ("لیست قیمت.xlsx", _xlsx(PRICE_LIST), XLSX_TYPE)},
        data={"currency": "تومان"},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    assert "بوف کور" in r.text and "شارژر شیائومی ۳۳ وات" in r.text and 'value="کد" selected' in r.text
    token = r.text.split('name="token" value="')[1].split('"')[0]
    form = {"token": token, "preset": "plain", "map_sku": "کد", "map_name_fa": "نام", "map_price": "قیمت"}
    form |= {"map_stock": "موجودی", "attributes": "رنگ", "currency": "تومان", "action": "import"}
    r = c.post("/admin/catalog-import/confirm?lang=fa", data=form, headers=headers)
    assert r.status_code == 200, r.text
    c.app.state.services.jobs.wait()
    [job] = c.app.state.services.jobs.of_kind("catalog")
    assert job.state == "done" and job.result.added == 3, job.error
    products = {p.sku: p for p in catalog_store.all_products(c.app.state.services.store.read())}
    assert (products["A1"].name_fa, products["A1"].price, products["A1"].stock) == ("بوف کور", "185000", 12)
    assert products["A2"].attributes == {"رنگ": "مشکی"}

    # A broken workbook: refused in Persian, the catalog as it was.
    r = c.post(
        "/admin/catalog-import?lang=fa",
        files={"file": ("لیست قیمت.xlsx", _truncated(), XLSX_TYPE)},
        headers={**headers, "hx-current-url": "http://testserver/admin/catalog?lang=fa"},
    )
    assert r.status_code == 422 and "فایل اکسل (xlsx) خوانا نیست" in r.text
    assert "Traceback" not in r.text and "BadZipFile" not in r.text
    assert len(catalog_store.all_products(c.app.state.services.store.read())) == 3


def test_the_command_line_imports_an_excel_file(data_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "لیست قیمت.xlsx"
    source.write_bytes(_xlsx(PRICE_LIST))
    r = CliRunner().invoke(main, ["catalog", "import", "--data-dir", str(data_dir), "--currency", "تومان", str(source)])
    assert r.exit_code == 0 and "3 products" in r.output, r.output
    store = Store(data_dir / "appliance.db")
    try:
        assert catalog_store.get(store.read(), "A3").price == "540000"  # type: ignore[union-attr]
    finally:
        store.close()
    broken = tmp_path / "old.xlsx"
    broken.write_bytes(OLE2)
    r = CliRunner().invoke(main, ["catalog", "import", "--data-dir", str(data_dir), str(broken)])
    assert r.exit_code != 0 and "nothing imported" in r.output and "password" in r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)  # a message, not a traceback
