"""The analytics page: server-rendered SVG charts (no chart library, no CDN) and CSV exports."""

from __future__ import annotations

import csv
import io

from litestar import Request, Response, get
from litestar.params import FromQuery
from litestar.response import Template

from .. import analytics, kb_formats
from .admin import _page, owner_router

PERIODS = (7, 30, 90)


def _days(days: int) -> int:
    return days if days in PERIODS else 30


@get("/analytics", sync_to_thread=True)
def page(request: Request, days: FromQuery[int] = 30) -> Template:
    rep = analytics.report(request.app.state.store, request.app.state.clock(), _days(days),
                           request.app.state.settings.timezone)
    return _page(request, "admin/analytics.html", rep=rep, periods=PERIODS, days=_days(days),
                 chart=analytics.bar_chart(rep.per_day), heat=analytics.heat_cells(rep.heatmap),
                 fmt=analytics.median_text)


@get("/analytics.csv", sync_to_thread=True)
def export(request: Request, table: FromQuery[str] = "daily", days: FromQuery[int] = 30) -> Response:
    rep = analytics.report(request.app.state.store, request.app.state.clock(), _days(days),
                           request.app.state.settings.timezone)
    try:
        header, rows = analytics.csv_table(rep, table)
    except ValueError:
        return Response({"error": "unknown_table"}, status_code=404)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([kb_formats.spreadsheet_safe(cell) for cell in row] for row in rows)
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{table}-{_days(days)}d.csv"'})


router = owner_router([page, export])
