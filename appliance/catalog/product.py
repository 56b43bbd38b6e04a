"""A product, or one variant of a product (a size, a colour), as the catalog keeps it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from appliance.kb.entry import EntryError
from appliance.text.textnorm import ascii_digits

MAX_SKU = 100
MAX_NAME = 300
MAX_DESCRIPTION = 5000
MAX_PRODUCTS = 50_000
SKU = re.compile(rf"[^\s/\\?#%<>\"']{{1,{MAX_SKU}}}")
# "450,000", "۴۵۰٬۰۰۰", "19.99", "1 250 000": grouping dropped, decimals kept as written.
_PRICE = re.compile(r"^\s*(?P<pre>[^\d]*?)\s*(?P<num>\d[\d,٬' \u00a0\u202f]*(?:[.٫]\d+)?)\s*(?P<post>[^\d]*?)\s*$")
_TRUE = {"1", "yes", "true", "y", "instock", "in stock", "in_stock", "موجود", "بله", "هست", "دارد", "available"}
_FALSE = {
    "0", "no", "false", "n", "outofstock", "out of stock", "out_of_stock", "ناموجود", "نه", "خیر", "نیست",
    "ندارد", "تمام شد", "unavailable", "sold out", "soldout",
}  # fmt: skip


@dataclass
class Product:
    sku: str
    name_fa: str = ""
    name_en: str = ""
    price: str = ""  # ASCII digits, as written, without grouping ("450000", "19.99"); "" not listed
    currency: str = ""  # as the owner wrote it ("تومان", "$", "EUR")
    stock: int | None = None  # None: not counted
    in_stock: bool | None = None  # the shop's own yes/no when it doesn't count
    attributes: dict[str, str] = field(default_factory=dict)  # {"size": "M", "colour": "blue"}
    link: str = ""
    description: str = ""
    parent_sku: str | None = None
    enabled: bool = True

    def name(self, lang: str) -> str:
        """The name in the customer's language when the shop wrote one, else the other."""
        first, second = (self.name_fa, self.name_en) if lang == "fa" else (self.name_en, self.name_fa)
        return first or second

    def availability(self, few_left: int) -> str:
        """in | few | out | unknown"""
        if self.stock is not None:
            if self.stock <= 0:
                return "out"
            return "few" if self.stock <= few_left else "in"
        if self.in_stock is None:
            return "unknown"
        return "in" if self.in_stock else "out"

    def to_row(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "parent_sku": self.parent_sku,
            "name_fa": self.name_fa,
            "name_en": self.name_en,
            "price": self.price,
            "currency": self.currency,
            "stock": self.stock,
            "in_stock": None if self.in_stock is None else int(self.in_stock),
            "attributes": json.dumps(self.attributes, ensure_ascii=False),
            "link": self.link,
            "description": self.description,
            "enabled": int(self.enabled),
        }

    @classmethod
    def from_row(cls, row: Any) -> Product:
        return cls(
            sku=row["sku"],
            name_fa=row["name_fa"],
            name_en=row["name_en"],
            price=row["price"],
            currency=row["currency"],
            stock=row["stock"],
            in_stock=None if row["in_stock"] is None else bool(row["in_stock"]),
            attributes=json.loads(row["attributes"] or "{}"),
            link=row["link"],
            description=row["description"],
            parent_sku=row["parent_sku"],
            enabled=bool(row["enabled"]),
        )


def parse_price(value: str, where: str = "") -> tuple[str, str]:
    """(number, currency written beside it) from a price as shops write it; ("", "") if empty."""
    value = ascii_digits(str(value or "")).strip()
    if not value:
        return "", ""
    found = _PRICE.match(value)
    if found is None:
        raise EntryError(where, f"price {value[:30]!r} is not a number", "catalog.bad_price", value=value[:30])
    number = re.sub(r"[,٬' \u00a0\u202f]", "", found["num"]).replace("٫", ".")
    if "." in number:
        whole, _, frac = number.partition(".")
        number = f"{int(whole)}.{frac}"
    else:
        number = str(int(number))
    currency = (found["pre"] or found["post"]).strip()
    return number, currency


def parse_stock(value: str, where: str = "") -> int | None:
    value = ascii_digits(str(value if value is not None else "")).strip()
    if not value:
        return None
    try:
        return int(float(value.replace(",", "")))
    except ValueError:
        raise EntryError(
            where, f"stock {value[:30]!r} is not a number", "catalog.bad_stock", value=value[:30]
        ) from None


def parse_yes_no(value: str, where: str = "") -> bool | None:
    value = str(value or "").strip().casefold()
    if not value:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise EntryError(where, f"in stock {value[:30]!r}: use yes or no", "catalog.bad_yes_no", value=value[:30])


def check(product: Product, where: str = "") -> Product:
    """The rules every product keeps, from a file or the admin's form."""
    product.sku = product.sku.strip()
    if not SKU.fullmatch(product.sku):
        raise EntryError(where, f"SKU {product.sku[:40]!r} is empty or has spaces or / ? # %", "catalog.bad_sku")
    product.name_fa, product.name_en = product.name_fa.strip(), product.name_en.strip()
    if not (product.name_fa or product.name_en):
        raise EntryError(where, "no name", "catalog.no_name")
    if max(len(product.name_fa), len(product.name_en)) > MAX_NAME:
        raise EntryError(where, f"name longer than {MAX_NAME} characters", "catalog.long_name", n=MAX_NAME)
    product.description = product.description.strip()[:MAX_DESCRIPTION]
    link = product.link.strip()
    if link and not re.match(r"https?://", link, re.I):
        raise EntryError(where, "the link must start with http:// or https://", "catalog.bad_link")
    product.link = link
    product.currency = product.currency.strip()[:20]
    return product
