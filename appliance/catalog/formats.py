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
import re
from typing import Any

from appliance.catalog.product import MAX_PRODUCTS, Product, check, parse_price, parse_stock, parse_yes_no
from appliance.documents import tables
from appliance.documents.tables import MAX_COLUMNS, MAX_FILE_BYTES, MAX_XLSX_UNPACKED, Table
from appliance.kb.entry import EntryError
from appliance.locale import N_
from appliance.text.textnorm import detect_language

# Reading a table is documents/tables.py's (the orders' spreadsheet is read the same way); its names
# stay importable from here, as the catalog's.
__all__ = ["MAX_COLUMNS", "MAX_FILE_BYTES", "MAX_XLSX_UNPACKED", "Table", "read_table"]
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


# The catalog's words for a file that holds no catalog.
WORDS = tables.Words(
    empty=N_("catalog.empty"),
    web_page=N_("catalog.html"),
    not_a_list=N_("catalog.bad_json_shape"),
    too_many=N_("catalog.too_many"),
    list_keys=("products", "items"),
)


def read_table(data: bytes, name: str) -> Table:
    """The file's columns and rows (nothing built yet) and the guessed mapping; raises
    EntryError if it isn't a table (documents/tables.py reads it)."""
    table = tables.read(data, name, max_rows=MAX_PRODUCTS, words=WORDS)
    table.mapping = guess_mapping(table.columns)
    return table


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
