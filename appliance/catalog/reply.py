"""The reply about a product, from the catalog's fields by a template in the customer's language.

Never the model's words: a price or a stock figure is exactly what the catalog holds (the
currency as the owner wrote it), so a reply can't invent a figure. Persian replies write the
figures in Persian digits with Persian grouping ("۴۵۰٬۰۰۰ تومان").
"""

from __future__ import annotations

from appliance import i18n
from appliance.catalog.match import in_language
from appliance.catalog.product import Product

_PREFIX_SYMBOLS = {"$", "€", "£", "US$"}


def money(number: str, currency: str, lang: str) -> str:
    whole, dot, frac = number.partition(".")
    grouped = f"{int(whole):,}" + (f".{frac}" if dot else "")
    if lang == "fa":
        grouped = i18n.digits(grouped.replace(",", "٬"), "fa")
    if not currency:
        return grouped
    return f"{currency}{grouped}" if currency in _PREFIX_SYMBOLS else f"{grouped} {currency}"


def variant_label(v: Product, lang: str) -> str:
    values = [in_language(value, lang) for value in v.attributes.values()]
    return "، ".join(values) if lang == "fa" else ", ".join(values)


_STATE = {"in": "bot.product.in", "few": "bot.product.few", "out": "bot.product.out"}


def availability(p: Product, lang: str, few_left: int) -> str:
    """What the catalog says of its stock ("" when the shop doesn't say)."""
    key = _STATE.get(p.availability(few_left))
    return i18n.t(lang, key).format(n=i18n.digits(p.stock, lang)) if key else ""


def describe(product: Product, chosen: list[Product], lang: str, few_left: int) -> str:
    """The reply: the product (or the variant the customer named), its price, its stock, its link."""
    item = chosen[0] if len(chosen) == 1 else product
    name = product.name(lang)
    if len(chosen) == 1 and chosen[0].attributes:
        name = f"{name} ({variant_label(chosen[0], lang)})"
    lines = [name]
    priced = [v for v in (chosen or [item]) if v.price] or ([product] if product.price else [])
    if not priced:
        lines.append(i18n.t(lang, "bot.product.no_price"))
    else:
        low = min(priced, key=lambda v: float(v.price))
        high = max(priced, key=lambda v: float(v.price))
        if low.price == high.price:
            lines.append(i18n.t(lang, "bot.product.price").format(price=money(low.price, low.currency, lang)))
        else:
            lines.append(
                i18n.t(lang, "bot.product.price_range").format(
                    low=money(low.price, low.currency, lang), high=money(high.price, high.currency, lang)
                )
            )
    if len(chosen) > 1:
        have, gone = [], []
        for v in chosen:
            label = variant_label(v, lang)
            state = v.availability(few_left)
            if state == "few":
                have.append(i18n.t(lang, "bot.product.few_of").format(name=label, n=i18n.digits(v.stock, lang)))
            elif state == "in":
                have.append(label)
            elif state == "out":
                gone.append(label)
        sep = "، " if lang == "fa" else ", "
        if have:
            lines.append(i18n.t(lang, "bot.product.variants_in").format(list=sep.join(have)))
        if gone:
            lines.append(i18n.t(lang, "bot.product.variants_out").format(list=sep.join(gone)))
    else:
        stock = availability(item, lang, few_left)
        if stock:
            lines.append(stock)
    link = item.link or product.link
    if link:
        lines.append(i18n.t(lang, "bot.product.link").format(link=link))
    return "\n".join(lines)
