"""What customers ask and how the appliance copes: the numbers behind the analytics page.

Every figure is computed from the stored conversations, messages and decisions of the widget
channel (evaluations and the admin's own tries are not counted), over the last ``days`` days.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from appliance import i18n
from appliance.answering.decide import PRODUCT
from appliance.catalog import store as catalog_store
from appliance.conversations import triggers
from appliance.conversations.store import CUSTOMERS_ONLY
from appliance.db import Store
from appliance.kb import store as kb
from appliance.locale import N_

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]  # the CSV's (datetime.weekday() order)
# The heatmap's rows, as an Iranian week runs: Saturday first (datetime.weekday() numbers).
WEEK_FROM_SATURDAY = [5, 6, 0, 1, 2, 3, 4]
OUTCOMES = ("answer", "clarify", "escalate")


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


@dataclass
class Report:
    days: int
    per_day: list[tuple[str, int]]
    decisions: dict[str, int]
    reasons: list[tuple[str, int]]
    bot_first_response_s: tuple[float | None, float | None]
    owner_reply_min: tuple[float | None, float | None]
    csat: tuple[int, int]
    top_entries: list[tuple[str, str, int]]
    heatmap: list[list[int]]  # [weekday][hour]

    def share(self, kind: str) -> float | None:
        total = sum(self.decisions.get(k, 0) for k in OUTCOMES)
        return self.decisions.get(kind, 0) / total if total else None

    def percents(self) -> dict[str, int] | None:
        """Whole percentages of the outcomes that add up to 100 (largest remainder: rounding each
        on its own showed 33 + 33 + 33 = 99)."""
        total = sum(self.decisions.get(k, 0) for k in OUTCOMES)
        if not total:
            return None
        exact = {k: 100 * self.decisions.get(k, 0) / total for k in OUTCOMES}
        out = {k: int(v) for k, v in exact.items()}
        for k in sorted(OUTCOMES, key=lambda k: exact[k] - out[k], reverse=True)[: 100 - sum(out.values())]:
            out[k] += 1
        return out


def report(store: Store, now: datetime, days: int = 30, tz: str = "UTC") -> Report:
    db = store.read()
    since = (now - timedelta(days=days)).isoformat()
    widget = CUSTOMERS_ONLY  # every customer channel (the name is older than the other channels)

    counts = Counter(
        r[0][:10]
        for r in db.execute(f"SELECT c.created_at FROM conversations c WHERE {widget} AND c.created_at >= ?", [since])
    )
    start = (now - timedelta(days=days - 1)).date()
    per_day = [
        ((start + timedelta(days=i)).isoformat(), counts.get((start + timedelta(days=i)).isoformat(), 0))
        for i in range(days)
    ]

    decisions = dict(
        db.execute(
            f"SELECT d.kind, count(*) FROM decisions d JOIN conversations c ON c.id = d.conversation_id "
            f"WHERE {widget} AND d.created_at >= ? GROUP BY d.kind",
            [since],
        ).fetchall()
    )
    reasons = db.execute(
        f"SELECT d.reason, count(*) FROM decisions d JOIN conversations c ON c.id = d.conversation_id "
        f"WHERE {widget} AND d.kind = 'escalate' AND d.created_at >= ? GROUP BY d.reason ORDER BY 2 DESC",
        [since],
    ).fetchall()

    # Bot first response: a customer's message to the bot's reply to it.
    bot = [
        (datetime.fromisoformat(r[1]) - datetime.fromisoformat(r[0])).total_seconds()
        for r in db.execute(
            f"SELECT m.created_at, b.created_at FROM decisions d JOIN messages m ON m.id = d.message_id "
            f"JOIN messages b ON b.id = d.reply_id JOIN conversations c ON c.id = d.conversation_id "
            f"WHERE {widget} AND d.created_at >= ?",
            [since],
        )
    ]
    # Owner reply time: the first escalation of a conversation to the owner's first reply after it.
    owner = []
    for conv, escalated_at in db.execute(
        f"SELECT d.conversation_id, min(d.created_at) FROM decisions d JOIN conversations c "
        f"ON c.id = d.conversation_id WHERE {widget} AND d.kind = 'escalate' AND d.created_at >= ? "
        f"GROUP BY d.conversation_id",
        [since],
    ):
        reply = db.execute(
            "SELECT min(created_at) FROM messages WHERE conversation_id = ? AND role = 'owner' AND created_at >= ?",
            [conv, escalated_at],
        ).fetchone()[0]
        if reply:
            owner.append((datetime.fromisoformat(reply) - datetime.fromisoformat(escalated_at)).total_seconds() / 60)

    rated = db.execute(
        f"SELECT rating FROM conversations c WHERE {widget} AND c.rating IS NOT NULL AND c.updated_at >= ?", [since]
    ).fetchall()
    csat = (sum(1 for r in rated if r[0] == 1), len(rated))

    entry_counts: Counter[str] = Counter()
    for (ids,) in db.execute(
        f"SELECT d.entry_ids FROM decisions d JOIN conversations c ON c.id = d.conversation_id "
        f"WHERE {widget} AND d.kind = 'answer' AND d.created_at >= ?",
        [since],
    ):
        entry_counts.update(json.loads(ids)[:1])
    top = entry_counts.most_common(10)
    titles = kb.titles(db, [eid for eid, _ in top if not eid.startswith(PRODUCT)])
    # A product answer's id is "product:SKU": its name is the catalog's (it showed as the id).
    products = catalog_store.titles(db, [eid.removeprefix(PRODUCT) for eid, _ in top if eid.startswith(PRODUCT)])
    titles.update({PRODUCT + sku: name for sku, name in products.items()})
    top_entries = [(eid, titles.get(eid, eid), n) for eid, n in top]

    try:
        zone = ZoneInfo(tz)
    except Exception:
        zone = ZoneInfo("UTC")
    heat = [[0] * 24 for _ in range(7)]
    for (created,) in db.execute(
        f"SELECT m.created_at FROM messages m JOIN conversations c ON c.id = m.conversation_id "
        f"WHERE {widget} AND m.role = 'customer' AND m.created_at >= ?",
        [since],
    ):
        at = datetime.fromisoformat(created)
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        at = at.astimezone(zone)  # the shop's own hours and days
        heat[at.weekday()][at.hour] += 1

    return Report(
        days,
        per_day,
        decisions,
        reasons,
        (_percentile(bot, 0.5), _percentile(bot, 0.9)),
        (_percentile(owner, 0.5), _percentile(owner, 0.9)),
        csat,
        top_entries,
        heat,
    )


def bar_chart(points: list[tuple[str, int]], width: int = 720, height: int = 160) -> dict[str, Any]:
    """Geometry for a server-rendered SVG bar chart (the template draws it; no chart library),
    with its axis: the baseline, the highest value and the first and last day."""
    top = max((v for _, v in points), default=0) or 1
    step = width / max(len(points), 1)
    bars = [
        {
            "x": round(i * step + 1, 1),
            "w": round(max(step - 2, 1), 1),
            "h": round(v / top * (height - 20), 1),
            "y": round(height - v / top * (height - 20), 1),
            "label": day,
            "value": v,
        }
        for i, (day, v) in enumerate(points)
    ]
    return {"width": width, "height": height, "bars": bars, "max": top}


def heat_cells(grid: list[list[int]], lang: str = "en", cell: int = 22) -> dict[str, Any]:
    """Geometry for the weekday x hour heatmap: Saturday first, the days' names and the hours in
    the owner's language (the hours along the top, every three)."""
    top = max((v for row in grid for v in row), default=0) or 1
    left, head = 64, 16
    names = {d: i18n.label(lang, "weekday", WEEKDAYS[d].lower()) for d in range(7)}
    cells = [
        {
            "x": left + h * cell,
            "y": head + row * cell,
            "v": grid[d][h],
            "day": names[d],
            "hour": i18n.digits(h, lang),
            "count": i18n.digits(grid[d][h], lang),
            "opacity": round(0.08 + 0.92 * grid[d][h] / top, 2) if grid[d][h] else 0.04,
        }
        for row, d in enumerate(WEEK_FROM_SATURDAY)
        for h in range(24)
    ]
    return {
        "width": left + 24 * cell,
        "height": head + 7 * cell,
        "cells": cells,
        "cell": cell - 2,
        "days": [(names[d], head + row * cell + cell // 2 + 4) for row, d in enumerate(WEEK_FROM_SATURDAY)],
        "hours": [(i18n.digits(h, lang), left + h * cell + 2) for h in range(0, 24, 3)],
    }


def csv_table(rep: Report, table: str) -> tuple[list[str], list[list[Any]]]:
    if table == "daily":
        return ["date", "conversations"], [list(p) for p in rep.per_day]
    if table == "reasons":
        return ["reason", "escalations"], [list(r) for r in rep.reasons]
    if table == "entries":
        return ["entry_id", "title", "answers"], [list(e) for e in rep.top_entries]
    if table == "heatmap":
        return ["weekday", *[str(h) for h in range(24)]], [[WEEKDAYS[d], *row] for d, row in enumerate(rep.heatmap)]
    raise ValueError(table)


def median_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


# A duration said in words, in the largest unit that keeps it a small number (95 minutes is
# "1.6 hours"); one decimal under ten, none above ("s", "min" and "p90" were shown on Persian pages).
def duration_words(seconds: float | None, lang: str) -> str:
    if seconds is None:
        return "—"
    size = 1.0 if seconds < 60 else 60.0 if seconds < 3600 else 3600.0 if seconds < 172800 else 86400.0
    amount = seconds / size
    text = f"{amount:.1f}".removesuffix(".0") if amount < 10 else f"{amount:.0f}"
    if not text.isdigit():  # a fraction: "1.5 hours" (always the plural)
        fraction = {
            1.0: N_("an.dur_seconds_part"),
            60.0: N_("an.dur_minutes_part"),
            3600.0: N_("an.dur_hours_part"),
            86400.0: N_("an.dur_days_part"),
        }
        return i18n.t(lang, fraction[size]).format(amount=i18n.digits(text, lang))
    count = int(text)
    if size == 1.0:
        return i18n.tn(lang, "an.dur_seconds", count)
    if size == 60.0:
        return i18n.tn(lang, "an.dur_minutes", count)
    if size == 3600.0:
        return i18n.tn(lang, "an.dur_hours", count)
    return i18n.tn(lang, "an.dur_days", count)


@dataclass
class TriggerFigures:
    """One proactive message's figures over a period: how often it was shown, opened, closed and
    answered, and what became of the conversations it started (the bot's first decision in them
    after the customer's reply: an answer or choices, or a hand-over)."""

    trigger: Any
    shown: int = 0
    opened: int = 0
    closed: int = 0
    replied: int = 0
    answered: int = 0
    handover: int = 0

    def rate(self, part: int) -> int | None:
        return round(100 * part / self.shown) if self.shown else None


def trigger_figures(store: Store, now: datetime, days: int) -> list[TriggerFigures]:
    since = (now - timedelta(days=days)).isoformat()
    db = store.read()
    counts = triggers.counts(db, since)
    out = {t.id: TriggerFigures(t, **counts.get(t.id or 0, {})) for t in triggers.all_triggers(db)}
    for trigger_id, conversation_id, at in triggers.replied_in(db, since):
        row = db.execute(
            "SELECT kind FROM decisions WHERE conversation_id = ? AND created_at >= ? AND kind != 'held' "
            "ORDER BY id LIMIT 1",
            [conversation_id, at],
        ).fetchone()
        figures = out.get(trigger_id)
        if row is None or figures is None:
            continue
        if row["kind"] == "escalate":
            figures.handover += 1
        elif row["kind"] in ("answer", "clarify"):
            figures.answered += 1
    return list(out.values())
