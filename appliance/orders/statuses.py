"""A status as a shop's system or its owner writes it, as one of order.STATUSES and its label.

WooCommerce's REST API gives a slug only: its own statuses are ours, "checkout-draft" (an order
still at the checkout, WooCommerce Blocks) is "pending", and any other slug is a status a plugin
or the shop added ("awaiting-shipment"): "custom", labelled with the slug's words. An owner's
spreadsheet says it in words («ارسال شد», "Delivered"): the words we know are mapped, any others
are "custom" with the owner's own words as the label, which the customer is shown.
"""

from __future__ import annotations

from appliance.text.textnorm import normalize

WOOCOMMERCE = ("pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed")
_WOO_ALIASES = {"checkout-draft": "pending"}

# An owner's words for each status (compared normalised: letters, spaces, ZWNJ and case aside).
_WORDS = {
    "pending": [
        "در انتظار پرداخت", "منتظر پرداخت", "پرداخت نشده", "در انتظار", "pending", "pending payment",
        "awaiting payment", "unpaid", "checkout-draft",
    ],
    "processing": [
        "در حال پردازش", "در حال آماده‌سازی", "در حال آماده سازی", "آماده‌سازی", "در حال بسته‌بندی",
        "پردازش", "ثبت شد", "پرداخت شد", "processing", "preparing", "paid",
    ],
    "on-hold": ["در انتظار بررسی", "معلق", "نگه داشته شده", "on-hold", "on hold"],
    "shipped": ["ارسال شد", "ارسال شده", "ارسال", "تحویل پست شد", "shipped", "sent", "dispatched", "posted"],
    "completed": ["تحویل شد", "تحویل شده", "تکمیل شده", "تکمیل شد", "completed", "complete", "delivered", "done"],
    "cancelled": ["لغو شد", "لغو شده", "لغو", "کنسل", "کنسل شد", "cancelled", "canceled"],
    "refunded": ["مرجوع شد", "مرجوع شده", "مرجوعی", "بازپرداخت شد", "refunded", "returned"],
    "failed": ["ناموفق", "پرداخت ناموفق", "failed", "payment failed"],
}  # fmt: skip
_BY_WORDS = {normalize(w): status for status, words in _WORDS.items() for w in words}


def from_woocommerce(slug: str) -> tuple[str, str]:
    """(status, label) for a WooCommerce status slug."""
    slug = slug.strip().lower().removeprefix("wc-")
    if slug in WOOCOMMERCE:
        return slug, ""
    if slug in _WOO_ALIASES:
        return _WOO_ALIASES[slug], ""
    return "custom", slug.replace("-", " ").replace("_", " ")


def from_words(text: str) -> tuple[str, str]:
    """(status, label) for a status in the owner's words; the words stay as its label."""
    written = " ".join(text.split())
    return _BY_WORDS.get(normalize(written), "custom"), written
