"""The analytics page: server-rendered SVG charts (no chart library, no CDN) and CSV exports."""

from __future__ import annotations

import csv
import io

from litestar import Response, get
from litestar.params import FromQuery
from litestar.response import Template

from appliance.clock import Clock
from appliance.db import Store
from appliance.kb import formats as kb_formats
from appliance.reports import analytics
from appliance.settings import Settings
from appliance.web.admin.core import Page, owner_router
from appliance.web.services import Inject

PERIODS = (7, 30, 90)


def _days(days: int) -> int:
    return days if days in PERIODS else 30


@get("/analytics", sync_to_thread=True)
def analytics_page(
    page: Inject[Page],
    store: Inject[Store],
    clock: Inject[Clock],
    settings: Inject[Settings],
    days: FromQuery[int] = 30,
) -> Template:
    rep = analytics.report(store, clock(), _days(days), settings.timezone)
    return page(
        "admin/analytics.html",
        rep=rep,
        periods=PERIODS,
        days=_days(days),
        chart=analytics.bar_chart(rep.per_day),
        heat=analytics.heat_cells(rep.heatmap, page.lang),
        duration=lambda seconds: analytics.duration_words(seconds, page.lang),
        trigger_rows=analytics.trigger_figures(store, clock(), _days(days)),
    )


@get("/analytics.csv", sync_to_thread=True)
def export(
    store: Inject[Store],
    clock: Inject[Clock],
    settings: Inject[Settings],
    table: FromQuery[str] = "daily",
    days: FromQuery[int] = 30,
) -> Response:
    rep = analytics.report(store, clock(), _days(days), settings.timezone)
    try:
        header, rows = analytics.csv_table(rep, table)
    except ValueError:
        return Response({"error": "unknown_table"}, status_code=404)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([kb_formats.spreadsheet_safe(cell) for cell in row] for row in rows)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{table}-{_days(days)}d.csv"'},
    )


router = owner_router([analytics_page, export])
