"""The catalog's storage: the only module that reads or writes ``products`` and
``catalog_imports``. ``catalog_version`` in ``meta`` goes up with every change, so the in-memory
matcher (match.py) knows when to reload.

An import replaces the catalog with the file's products (the file is the shop's list), but a
product the owner turned off in the admin stays off. The owner's edits of a price or a stock in
the admin last until the next import brings the shop's own figures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from appliance.catalog.product import Product, check, parse_price, parse_stock
from appliance.db import bump_meta, read_meta
from appliance.kb.entry import EntryError
from appliance.text.textnorm import normalize

PAGE = 50


@dataclass
class ImportRecord:
    at: str
    source: str
    kind: str
    products: int
    error: str
    mapping: dict[str, Any]


def bump_version(db: Database) -> None:
    bump_meta(db, "catalog_version")


def version(db: Database) -> int:
    value = read_meta(db, "catalog_version")
    return int(value) if value is not None else 0


def replace_all(db: Database, products: list[Product], *, source: str, kind: str, mapping: dict, now: str) -> int:
    """Inside the caller's write transaction: the catalog becomes ``products`` (turned-off ones
    stay off), and the import is recorded. Returns how many products."""
    off = {r[0] for r in db.execute("SELECT sku FROM products WHERE enabled = 0").fetchall()}
    db.execute("DELETE FROM products")
    rows = []
    for p in products:
        row = p.to_row()
        if p.sku in off:
            row["enabled"] = 0
        rows.append({**row, "updated_at": now})
    if rows:
        columns = list(rows[0])
        db.conn.executemany(
            f"INSERT INTO products ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            [[r[c] for c in columns] for r in rows],
        )
    record(db, now=now, source=source, kind=kind, products=len(rows), mapping=mapping)
    bump_version(db)
    return len(rows)


@dataclass
class Compared:
    """What an import changes, counted before it does: the summary the owner reads after it."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    kept_off: int = 0  # products the owner turned off that stay off

    @property
    def total(self) -> int:
        return self.added + self.updated + self.unchanged


def compare(db: Database, products: list[Product]) -> Compared:
    """The file's products against the catalog as it is (by SKU, every field the file sets)."""
    current = {p.sku: p for p in all_products(db)}
    out = Compared()
    incoming = set()
    for p in products:
        incoming.add(p.sku)
        old = current.get(p.sku)
        if old is None:
            out.added += 1
        else:
            row, was = p.to_row(), old.to_row()
            same = all(row[k] == was[k] for k in row if k != "enabled")
            out.unchanged += same
            out.updated += not same
            out.kept_off += not old.enabled
    out.removed = len(set(current) - incoming)
    return out


def record(db: Database, *, now: str, source: str, kind: str, products: int = 0, error: str = "", mapping=None):
    """One line of the import history (a failed sync too, with its error)."""
    db.execute(
        "INSERT INTO catalog_imports (at, source, kind, products, error, mapping) VALUES (?, ?, ?, ?, ?, ?)",
        [now, source[:500], kind, products, error[:1000], json.dumps(mapping or {}, ensure_ascii=False)],
    )
    db.execute("DELETE FROM catalog_imports WHERE id NOT IN (SELECT id FROM catalog_imports ORDER BY id DESC LIMIT 50)")


def imports(db: Database, limit: int = 10) -> list[ImportRecord]:
    rows = db.execute(
        "SELECT at, source, kind, products, error, mapping FROM catalog_imports ORDER BY id DESC LIMIT ?", [limit]
    ).fetchall()
    return [ImportRecord(r[0], r[1], r[2], r[3], r[4], json.loads(r[5] or "{}")) for r in rows]


def last_mapping(db: Database, columns: list[str]) -> dict[str, Any] | None:
    """The mapping the owner confirmed last for a file with these same columns."""
    for r in imports(db, 50):
        if not r.error and r.mapping.get("columns") == columns:
            return {k: v for k, v in r.mapping.items() if k != "columns"}
    return None


def _products(db: Database, where: str = "", params: list | None = None) -> list[Product]:
    """Products read whole, in the file's order (``where``: fixed SQL text, values in ``params``)."""
    cursor = db.execute(f"SELECT * FROM products {where} ORDER BY rowid", params or [])
    columns = [d[0] for d in cursor.description]
    return [Product.from_row(dict(zip(columns, row, strict=True))) for row in cursor.fetchall()]


def all_products(db: Database, *, enabled_only: bool = False) -> list[Product]:
    return _products(db, "WHERE enabled = 1" if enabled_only else "")


def count(db: Database) -> dict[str, int]:
    row = db.execute("SELECT COUNT(*), SUM(enabled = 0), SUM(parent_sku IS NULL) FROM products").fetchone()
    return {"all": row[0] or 0, "off": row[1] or 0, "products": row[2] or 0}


def get(db: Database, sku: str) -> Product | None:
    found = _products(db, "WHERE sku = ?", [sku])
    return found[0] if found else None


def variants(db: Database, sku: str) -> list[Product]:
    return _products(db, "WHERE parent_sku = ?", [sku])


def search(db: Database, text: str = "", *, page: int = 0) -> tuple[list[Product], int]:
    """The admin's list: products (not variants) whose name or SKU holds the text, a page at a time."""
    products = [p for p in all_products(db) if p.parent_sku is None]
    needle = normalize(text)
    if needle:
        products = [p for p in products if needle in normalize(f"{p.sku} {p.name_fa} {p.name_en}")]
    return products[page * PAGE : (page + 1) * PAGE], len(products)


def update(db: Database, sku: str, *, price: str, stock: str, now: str) -> Product:
    """The owner's edit of a price and a stock (inside the caller's write transaction)."""
    product = get(db, sku)
    if product is None:
        raise EntryError("", "that product no longer exists", "catalog.gone")
    number, _ = parse_price(price, "")
    product.price = number
    product.stock = parse_stock(stock, "")
    check(product)
    db.execute(
        "UPDATE products SET price = ?, stock = ?, updated_at = ? WHERE sku = ?", [number, product.stock, now, sku]
    )
    bump_version(db)
    return product


def set_enabled(db: Database, sku: str, enabled: bool, *, now: str) -> None:
    """Turn a product (and its variants) off or back on."""
    cursor = db.execute(
        "UPDATE products SET enabled = ?, updated_at = ? WHERE sku = ? OR parent_sku = ?", [int(enabled), now, sku, sku]
    )
    if cursor.rowcount == 0:
        raise EntryError("", "that product no longer exists", "catalog.gone")
    bump_version(db)


def titles(db: Database, skus: list[str]) -> dict[str, str]:
    """SKU -> the name a customer sees (a choice's button after the widget reloads the
    conversation), for the products that still exist."""
    if not skus:
        return {}
    marks = ",".join("?" * len(skus))
    rows = db.execute(f"SELECT sku, name_fa, name_en FROM products WHERE sku IN ({marks})", skus).fetchall()
    return {r[0]: r[1] or r[2] for r in rows}
