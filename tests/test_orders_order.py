"""Issue #32: an order is told only to the customer who proves it is theirs."""

from __future__ import annotations

import pytest

from appliance.orders.order import Order, normalize_number, proof_matches, public

ORDER = Order(
    "12345", "processing", "در حال آماده‌سازی", "2026-11-28", "", "پست", "", "",
    phone="+98 912 345 6789", email="Sara.Ahmadi@example.com",
)  # fmt: skip


@pytest.mark.unit
def test_order_numbers_as_customers_type_them() -> None:
    for typed in ("#۱۲۳۴۵", "12 345", "۱۲-۳۴۵", "١٢٣٤٥", " 12345 "):
        assert normalize_number(typed) == "12345", typed
    assert normalize_number("wc-1042") == "WC1042"


@pytest.mark.unit
def test_only_the_orders_own_phone_or_email_proves_it() -> None:
    for proof in (
        "۶۷۸۹",
        "6789",
        "0912 345 6789",
        "۰۹۱۲-۳۴۵-۶۷۸۹",
        "sara.ahmadi@example.com ",
        "SARA.AHMADI@EXAMPLE.COM",
    ):
        assert proof_matches(ORDER, proof), proof
    for proof in ("678", "1234", "other@example.com", "", "sara.ahmadi@example.co", "۰۰۰۰"):
        assert not proof_matches(ORDER, proof), proof
    # an order holding neither can't be proved at all
    assert not proof_matches(Order("7", "completed"), "0000") and not proof_matches(Order("7", "completed"), "@")


@pytest.mark.unit
def test_what_is_told_holds_nothing_personal() -> None:
    told = public(ORDER)
    assert told["status"] == "processing" and told["carrier"] == "پست"
    assert "phone" not in told and "email" not in told and "6789" not in str(told)
