"""The time, as everything in the appliance reads it: one ``Clock`` passed in, so that tests
(and the clock-jump tests) can move it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)
