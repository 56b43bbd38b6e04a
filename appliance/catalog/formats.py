"""Catalog files in and out.

In: a CSV (WooCommerce's product export, Shopify's product CSV, or any spreadsheet saved as CSV),
an Excel workbook (.xlsx, known by its content), or JSON (a list of products, each optionally with
its ``variants``). Reading is in two steps, so the owner sees what will happen before anything
changes:

1. ``read_table``: the file's rows and columns, as text, and a guessed ``mapping`` (which column
   is the name, the price, the stock...) that the admin shows in a preview to confirm or change;
2. ``build``: the products from the rows under a confirmed mapping. The whole file is checked
   first: the first bad row stops the import with its number and the reason, and the catalog is
   left as it was.

Real exports carry a byte-order mark, quoted multi-line descriptions, and variable products
whose price and stock live on their variation rows (WooCommerce's ``Type``/``Parent``;
Shopify's rows sharing a ``Handle``): these become one product with its variants.

Out: ``to_csv`` writes our own columns (CATALOG_COLUMNS, in the README), which ``build`` reads
back as they are.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from appliance.catalog.product import MAX_PRODUCTS, Product, check, parse_price, parse_stock, parse_yes_no
from appliance.kb.entry import EntryError
from appliance.text.textnorm import detect_language

MAX_FILE_BYTES = 20 * 1024 * 1024
# An .xlsx is a zip: 20 MB of it can unpack to gigabytes of XML (a zip bomb). Real catalogs
# unpack to 5-10 times their size; this is ten times that.
MAX_XLSX_UNPACKED = 200 * 1024 * 1024
MAX_COLUMNS = 200
_EXCEL_ROWS = 1_048_576  # a sheet's last row in Excel: a row numbered past it is a forged file
_TITLE_ROWS = 5  # one-cell rows above a sheet's header taken for its title, at most
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and any password-protected Office file
# What a mapping can name: one column each (``attributes``: several, each named for itself).
FIELDS = (
    "sku", "name", "name_fa", "name_en", "price", "sale_price", "currency", "stock", "in_stock",
    "link", "description", "parent", "enabled",
)  # fmt: skip
# Our own columns; each attribute a product has (size, colour...) is a column of its own after them.
CATALOG_COLUMNS = [
    "sku", "parent_sku", "name_fa", "name_en", "price", "currency", "stock", "in_stock", "link", "description",
    "enabled",
]  # fmt: skip
PRESETS = ("plain", "woocommerce", "shopify")

# Column names a spreadsheet may use for each field (compared case-folded, in fa and en).
_GUESS = {
    "sku": ["sku", "code", "product code", "item code", "کد", "کد کالا", "کد محصول", "شناسه", "variant sku"],
    "name_fa": ["name_fa", "نام", "نام کالا", "نام محصول", "عنوان", "نام فارسی", "محصول", "کالا"],
    "name_en": ["name_en", "english name", "نام انگلیسی", "name (en)"],
    "name": ["name", "title", "product", "product name", "item", "variant title"],
    "price": ["price", "regular price", "variant price", "قیمت", "مبلغ", "قیمت (تومان)", "قیمت فروش"],
    "sale_price": ["sale price", "قیمت با تخفیف", "قیمت تخفیف"],
    "currency": ["currency", "واحد پول", "واحد"],
    "stock": ["stock", "quantity", "qty", "inventory", "variant inventory qty", "موجودی", "تعداد"],
    "in_stock": ["in_stock", "in stock?", "in stock", "available", "وضعیت", "موجود"],
    "link": ["link", "url", "permalink", "لینک", "آدرس"],
    "description": ["description", "short description", "desc", "توضیحات", "توضیح", "body (html)"],
    "parent": ["parent", "parent_sku", "parent sku", "محصول مادر", "والد"],
    "enabled": ["enabled", "فعال"],
}
_ATTRIBUTE_GUESS = {"size", "colour", "color", "سایز", "رنگ", "اندازه", "جلد", "format", "model", "مدل"}
_TAG = re.compile(r"<[^>]+>")


@dataclass
class Table:
    """A catalog file's rows as text, and the mapping guessed for it."""

    name: str
    columns: list[str]
    rows: list[dict[str, str]]
    mapping: dict[str, Any] = field(default_factory=dict)
    # JSON products' own variants, kept with their product's row index
    variants: dict[int, list[dict[str, str]]] = field(default_factory=dict)
    # Each row's number in its sheet, where it isn't its index + 2 (a spreadsheet's header need
    # not be its first row, and blank rows are skipped): what an error names is what Excel shows.
    row_numbers: list[int] = field(default_factory=list)

    def where(self, i: int) -> str:
        """Row ``i`` as an error names it."""
        n = self.row_numbers[i] if i < len(self.row_numbers) else i + 2
        return f"{self.name} row {n}"


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")  # spreadsheets and WooCommerce write a byte-order mark
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise EntryError(f"{name} line {line}", "not UTF-8 text (save the file as UTF-8)", "entry.not_utf8") from None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def read_table(data: bytes, name: str) -> Table:
    """The file's columns and rows (nothing built yet); raises EntryError if it isn't a table."""
    if len(data) > MAX_FILE_BYTES:
        n = MAX_FILE_BYTES // 2**20
        raise EntryError(name, f"file larger than {n} MB", "entry.big_file", n=n)
    if _is_xlsx(data, name):
        table = _xlsx_table(data, name)
    else:
        table = _text_table(data, name)
    if not table.rows:
        raise EntryError(name, "no products found: the file is empty", "catalog.empty")
    if len(table.rows) > MAX_PRODUCTS:
        raise EntryError(name, f"more than {MAX_PRODUCTS} rows", "catalog.too_many", n=MAX_PRODUCTS)
    table.mapping = guess_mapping(table.columns)
    return table


def _text_table(data: bytes, name: str) -> Table:
    text = _decode(data, name)
    stripped = text.lstrip()
    if name.lower().endswith(".json") or stripped.startswith(("[", "{")):
        table = _json_table(text, name)
    else:
        if stripped.lower().startswith(("<!doctype", "<html")):
            raise EntryError(name, "this is a web page, not a CSV or JSON catalog", "catalog.html")
        table = _csv_table(text, name)
    return table


def _csv_table(text: str, name: str) -> Table:
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next(reader, None)
        if not header:
            raise EntryError(name, "no products found: the file is empty", "catalog.empty")
        columns = [h.strip() for h in header]
        rows = []
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            rows.append({c: (values[i] if i < len(values) else "") for i, c in enumerate(columns) if c})
    except csv.Error as exc:
        raise EntryError(f"{name} line {reader.line_num}", f"not valid CSV ({exc})", "catalog.bad_csv") from None
    return Table(name, [c for c in columns if c], rows)


def _json_table(text: str, name: str) -> Table:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EntryError(f"{name} line {exc.lineno}", f"not valid JSON ({exc.msg})", "entry.bad_json") from None
    if isinstance(data, dict):
        data = data.get("products", data.get("items"))
    if not isinstance(data, list) or not all(isinstance(p, dict) for p in data):
        raise EntryError(name, "expected a list of products (objects)", "catalog.bad_json_shape")
    columns: dict[str, None] = {}
    rows, variants = [], {}
    for i, item in enumerate(data):
        row = {k: _text(v) for k, v in item.items() if k != "variants"}
        columns.update(dict.fromkeys(row))
        rows.append(row)
        if isinstance(item.get("variants"), list):
            variants[i] = [{k: _text(v) for k, v in var.items()} for var in item["variants"] if isinstance(var, dict)]
            for var in variants[i]:
                columns.update(dict.fromkeys(var))
    return Table(name, list(columns), rows, variants=variants)


def _is_xlsx(data: bytes, name: str) -> bool:
    """Whether the file is an Excel workbook, by its content (a catalog link's name says
    nothing); an old .xls or a locked workbook is refused here with what to do instead."""
    if data.startswith(_OLE2):
        raise EntryError(name, "an old Excel file (.xls) or a password-protected one", "catalog.xls")
    if data.startswith(b"PK\x03\x04"):
        return True
    if name.lower().endswith((".xlsx", ".xlsm")):  # a CSV or a web page would have been read as one
        raise EntryError(name, "not an Excel workbook, though named like one", "catalog.bad_xlsx")
    return False


def _xlsx_cell(value: Any) -> str:
    """A cell's value as the same cell saved as CSV reads: 185000 not 185000.0, a date as
    2026-11-22, an empty cell as ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        # 15 significant digits, as Excel shows a number: a formula's 0.30000000000000004 is 0.3
        return str(int(value)) if value.is_integer() else f"{value:.15g}"
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


def _xlsx_table(data: bytes, name: str) -> Table:
    """The first sheet with anything in it, read by ``_sheet_table``. Cell values, never
    formulas (the value Excel saved with the file)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise EntryError(name, f"not a readable Excel workbook ({exc})", "catalog.bad_xlsx") from None
    if not any(p.filename == "xl/workbook.xml" for p in parts):  # a .docx, an .ods, a zip of CSVs
        raise EntryError(name, "a zip file, but not an Excel workbook", "catalog.bad_xlsx")
    # Checked before anything is unpacked: Python's zipfile never unpacks a part past the size
    # its directory declares (the CRC check fails instead), so this sum bounds the work.
    if sum(p.file_size for p in parts) > MAX_XLSX_UNPACKED:
        n = MAX_XLSX_UNPACKED // 2**20
        raise EntryError(name, f"unpacks to more than {n} MB", "catalog.xlsx_too_big", n=n)
    import openpyxl  # here: importing it costs a tenth of a second, and most catalogs are CSV

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
        try:
            for sheet in workbook.worksheets:
                table = _sheet_table(sheet, name)
                if table is not None:
                    return table
        finally:
            workbook.close()
    except EntryError:
        raise
    except Exception as exc:  # a damaged file fails anywhere inside openpyxl, with any error
        reason = f"not a readable Excel workbook ({type(exc).__name__}: {str(exc)[:200]})"
        raise EntryError(name, reason, "catalog.bad_xlsx") from None
    raise EntryError(name, "no products found: the file is empty", "catalog.empty")


def _sheet_table(sheet: Any, name: str) -> Table | None:
    """The sheet's table, or None when the sheet is empty. The header is the first row with two
    cells or more filled: a one-cell row above it is the sheet's title ("لیست قیمت آبان")."""
    # The dimension a file declares (A1:XFD1048576) is not trusted: padding every row to it
    # would be a million rows of 16,384 cells. Rows come as they are in the file, MAX_COLUMNS + 1
    # wide: the one past the limit tells a header that is too wide.
    sheet.reset_dimensions()
    titles: list[tuple[int, list[str]]] = []
    table = Table(name, [], [])
    for n, values in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS + 1, values_only=True), start=1):
        if n > _EXCEL_ROWS:
            raise EntryError(name, f"a row past row {_EXCEL_ROWS}", "catalog.bad_xlsx")
        if table.columns:  # a data row only as wide as the header (the rest is not read, as in a CSV)
            values = values[: len(table.columns)]
        if values.count(None) == len(values):  # a missing row (a gap in the file) costs no more
            continue
        cells = [_xlsx_cell(v) for v in values]
        filled = sum(1 for c in cells if c.strip())
        if not filled:
            continue
        if table.columns:
            _add_row(table, n, cells)
        elif filled == 1 and len(titles) < _TITLE_ROWS:
            titles.append((n, cells))
        else:
            header, *rest = [*titles, (n, cells)] if filled == 1 else [(n, cells)]
            _set_header(table, header[1])
            for m, row in rest:
                _add_row(table, m, row)
    if not table.columns and titles:  # a one-column sheet: its first row is the header after all
        _set_header(table, titles[0][1])
        for m, row in titles[1:]:
            _add_row(table, m, row)
    table.columns = [c for c in table.columns if c]  # positional while reading, as the rows' keys
    return table if table.columns else None


def _set_header(table: Table, cells: list[str]) -> None:
    if cells[MAX_COLUMNS:] and cells[MAX_COLUMNS].strip():
        n = MAX_COLUMNS
        raise EntryError(table.name, f"more than {n} columns", "catalog.too_many_columns", n=n)
    columns = [c.strip() for c in cells[:MAX_COLUMNS]]
    while columns and not columns[-1]:
        columns.pop()
    table.columns = columns


def _add_row(table: Table, n: int, cells: list[str]) -> None:
    if len(table.rows) >= MAX_PRODUCTS:  # stop reading: nothing past this could be imported
        raise EntryError(table.name, f"more than {MAX_PRODUCTS} rows", "catalog.too_many", n=MAX_PRODUCTS)
    table.rows.append({c: (cells[i] if i < len(cells) else "") for i, c in enumerate(table.columns) if c})
    table.row_numbers.append(n)


def guess_mapping(columns: list[str]) -> dict[str, Any]:
    """Which column holds which field, guessed from the header (the owner confirms it)."""
    folded = {c.casefold().strip(): c for c in columns}
    if {"type", "sku", "name", "regular price"} <= folded.keys():
        preset = "woocommerce"
    elif {"handle", "title", "variant price"} <= folded.keys():
        preset = "shopify"
    else:
        preset = "plain"
    mapping: dict[str, Any] = {"preset": preset}
    taken: set[str] = set()
    for fld, names in _GUESS.items():
        for candidate in names:
            column = folded.get(candidate)
            if column and column not in taken:
                mapping[fld] = column
                taken.add(column)
                break
    if preset == "shopify":
        mapping.update(sku="Variant SKU", name="Title", price="Variant Price", parent="Handle")
        mapping["stock"] = folded.get("variant inventory qty", "")
        mapping.pop("sale_price", None)
    if preset == "plain":
        # Columns named like an attribute (size, colour...), and in our own export every column
        # after ours (one per attribute); the owner ticks more or fewer in the preview.
        ours = set(CATALOG_COLUMNS) <= set(columns)
        mapping["attributes"] = [
            c
            for c in columns
            if c not in taken and (c.casefold() in _ATTRIBUTE_GUESS or (ours and c not in CATALOG_COLUMNS))
        ]
    return {k: v for k, v in mapping.items() if v not in ("", None)}


def check_mapping(mapping: dict[str, Any], columns: list[str], name: str) -> None:
    preset = mapping.get("preset", "plain")
    if preset not in PRESETS:
        raise EntryError(name, f"unknown kind of file {preset!r}", "catalog.bad_preset")
    for fld in FIELDS:
        column = mapping.get(fld)
        if column and column not in columns:
            raise EntryError(name, f"no column {column!r} in the file", "catalog.no_column", column=str(column)[:60])
    if not any(mapping.get(f) for f in ("name", "name_fa", "name_en")):
        raise EntryError(name, "say which column holds the product's name", "catalog.map_name")
    if not mapping.get("price") and not mapping.get("sale_price"):
        raise EntryError(name, "say which column holds the price", "catalog.map_price")


def build(table: Table, mapping: dict[str, Any], *, currency: str = "") -> list[Product]:
    """The products of a file under the owner's mapping; the first bad row stops it all."""
    check_mapping(mapping, table.columns, table.name)
    preset = mapping.get("preset", "plain")
    if preset == "shopify":
        products = _shopify(table, mapping, currency)
    else:
        products = _rows(table, mapping, currency, woo=preset == "woocommerce")
    seen: dict[str, str] = {}
    for where, p in products:
        if p.sku in seen:
            raise EntryError(where, f"SKU {p.sku!r} again (first at {seen[p.sku]})", "catalog.dup_sku", sku=p.sku[:40])
        seen[p.sku] = where
    known = set(seen)
    for where, p in products:
        if p.parent_sku and p.parent_sku not in known:
            raise EntryError(where, f"its parent {p.parent_sku!r} is not in the file", "catalog.no_parent")
    return [p for _, p in products]


def _cell(row: dict[str, str], mapping: dict[str, Any], fld: str) -> str:
    column = mapping.get(fld)
    return (row.get(column) or "").strip() if column else ""


def _names(row: dict[str, str], mapping: dict[str, Any]) -> tuple[str, str]:
    fa, en = _cell(row, mapping, "name_fa"), _cell(row, mapping, "name_en")
    name = _cell(row, mapping, "name")
    if name:
        if detect_language(name, "en") == "fa":
            fa = fa or name
        else:
            en = en or name
    return fa, en


def _product(
    row: dict[str, str], mapping: dict[str, Any], currency: str, where: str, sku: str, attributes: dict[str, str]
) -> Product:
    fa, en = _names(row, mapping)
    price, written = parse_price(_cell(row, mapping, "sale_price"), where)
    if not price:
        price, written = parse_price(_cell(row, mapping, "price"), where)
    description = _TAG.sub(" ", _cell(row, mapping, "description"))
    enabled = parse_yes_no(_cell(row, mapping, "enabled"), where)
    return check(
        Product(
            sku=sku,
            name_fa=fa,
            name_en=en,
            price=price,
            currency=_cell(row, mapping, "currency") or written or currency,
            stock=parse_stock(_cell(row, mapping, "stock"), where),
            in_stock=parse_yes_no(_cell(row, mapping, "in_stock"), where),
            attributes=attributes,
            link=_cell(row, mapping, "link"),
            description=" ".join(description.split()),
            enabled=enabled is not False,
        ),
        where,
    )


def _woo_attributes(row: dict[str, str]) -> dict[str, str]:
    out = {}
    for n in range(1, 10):
        label, value = row.get(f"Attribute {n} name", "").strip(), row.get(f"Attribute {n} value(s)", "").strip()
        if label and value:
            out[label] = value
    return out


def _rows(table: Table, mapping: dict[str, Any], currency: str, *, woo: bool) -> list[tuple[str, Product]]:
    out: list[tuple[str, Product]] = []
    ids: dict[str, str] = {}  # WooCommerce: a variation's Parent is "id:123" or the parent's SKU
    for i, row in enumerate(table.rows):
        where = table.where(i)
        sku = _cell(row, mapping, "sku") or (f"id-{row['ID']}" if woo and row.get("ID") else f"row-{i + 2}")
        if woo and row.get("ID"):
            ids[f"id:{row['ID'].strip()}"] = sku
        if woo:
            kind = row.get("Type", "").strip().lower()
            attributes = _woo_attributes(row) if kind == "variation" else {}
        else:
            attributes = {c: row.get(c, "").strip() for c in mapping.get("attributes", []) if row.get(c, "").strip()}
        product = _product(row, mapping, currency, where, sku, attributes)
        parent = _cell(row, mapping, "parent")
        product.parent_sku = ids.get(parent, parent) or None
        out.append((where, product))
        for j, var in enumerate(table.variants.get(i, [])):
            v_where = f"{where} variant {j + 1}"
            merged = {**row, **var}
            v_sku = _cell(var, mapping, "sku") or f"{sku}-{j + 1}"
            attrs = {k: v for k, v in var.items() if k.casefold() in _ATTRIBUTE_GUESS and v.strip()}
            variant = _product(merged, mapping, currency, v_where, v_sku, attrs)
            variant.parent_sku = sku
            out.append((v_where, variant))
    if woo:
        # A variation's name is "Hoodie - Blue, M": its product's name is what customers say.
        names = {p.sku: (p.name_fa, p.name_en) for _, p in out}
        for _, p in out:
            if p.parent_sku in names:
                p.name_fa, p.name_en = names[p.parent_sku]
    return out


def _shopify(table: Table, mapping: dict[str, Any], currency: str) -> list[tuple[str, Product]]:
    """Shopify: rows sharing a Handle are one product's variants; the first carries the Title."""
    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for i, row in enumerate(table.rows):
        handle = row.get("Handle", "").strip()
        if not handle:
            raise EntryError(table.where(i), "no Handle", "catalog.no_handle")
        groups.setdefault(handle, []).append((i, row))
    out: list[tuple[str, Product]] = []
    for handle, rows in groups.items():
        first = rows[0][1]
        variant_rows = [
            (i, r) for i, r in rows if r.get("Variant Price", "").strip() or r.get("Variant SKU", "").strip()
        ]
        single = len(variant_rows) == 1 and first.get("Option1 Value", "").strip() in ("", "Default Title")
        if single:
            i, row = variant_rows[0]
            merged = {**row, "Title": first.get("Title", ""), "Body (HTML)": first.get("Body (HTML)", "")}
            sku = _cell(row, mapping, "sku") or handle
            out.append((table.where(i), _product(merged, mapping, currency, "", sku, {})))
            continue
        where = table.where(rows[0][0])
        parent = _product(
            {**first, "Variant Price": ""}, {**mapping, "price": None, "stock": None}, currency, where, handle, {}
        )
        out.append((where, parent))
        for i, row in variant_rows:
            merged = {**row, "Title": first.get("Title", ""), "Body (HTML)": ""}
            attrs = {}
            for n in (1, 2, 3):
                label = first.get(f"Option{n} Name", "").strip()
                value = row.get(f"Option{n} Value", "").strip()
                if label and value:
                    attrs[label] = value
            sku = _cell(row, mapping, "sku") or f"{handle}-{i + 2}"
            variant = _product(merged, mapping, currency, table.where(i), sku, attrs)
            variant.parent_sku = handle
            out.append((table.where(i), variant))
    return out


def to_csv(products: list[Product]) -> str:
    """Our own CSV (with a byte-order mark, for spreadsheets), readable back by ``build`` with the
    guessed mapping as it is."""
    attributes = list(dict.fromkeys(name for p in products for name in p.attributes))
    out = io.StringIO()
    writer = csv.DictWriter(out, CATALOG_COLUMNS + attributes, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for p in products:
        row: dict[str, Any] = {**p.to_row(), **p.attributes}
        row["in_stock"] = "" if p.in_stock is None else ("yes" if p.in_stock else "no")
        row["stock"] = "" if p.stock is None else p.stock
        row["parent_sku"] = p.parent_sku or ""
        row["enabled"] = "yes" if p.enabled else "no"
        writer.writerow(row)
    return "\ufeff" + out.getvalue()
