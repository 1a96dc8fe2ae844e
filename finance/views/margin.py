"""Margin per channel, SKU or order, from the postings: a table, a server-drawn SVG chart
and a streamed CSV export of the same rows."""

from decimal import Decimal

from django.shortcuts import render
from django.views.decorators.http import require_GET

from erp.exports import export_format, export_response
from erp.views.access import backoffice_view, forbid_unless_permitted
from finance import selectors
from finance.forms import MarginFilterForm

VIEW_MARGIN = "finance.view_journalline"
TABLE_ROWS = 200
CHART_BARS = 12
CHART_WIDTH, LABEL_WIDTH, BAR_HEIGHT, GAP = 720, 150, 14, 10


def margin_chart(rows: list[selectors.MarginRow]) -> dict:
    """Geometry of a horizontal bar chart: per row a revenue bar and a margin bar (left of
    the axis when negative), scaled to the largest figure."""
    shown = rows[:CHART_BARS]
    scale_max = max(
        [abs(figure) for row in shown for figure in (row.revenue, row.margin)] or [Decimal(1)]
    ) or Decimal(1)
    plot = CHART_WIDTH - LABEL_WIDTH - 90
    negative = any(row.margin < 0 for row in shown)
    axis = LABEL_WIDTH + (plot // 4 if negative else 0)
    span = plot - (axis - LABEL_WIDTH)
    bars = []
    for index, row in enumerate(shown):
        top = 10 + index * (2 * BAR_HEIGHT + GAP)
        revenue_width = int(span * row.revenue / scale_max) if row.revenue > 0 else 0
        margin_width = int(span * abs(row.margin) / scale_max)
        bars.append(
            {
                "label": (row.label or "(none)")[:22],
                "label_y": top + BAR_HEIGHT + 4,
                "revenue_y": top,
                "revenue_width": revenue_width,
                "revenue": row.revenue,
                "margin_y": top + BAR_HEIGHT,
                "margin_x": axis - margin_width if row.margin < 0 else axis,
                "margin_width": margin_width,
                "margin": row.margin,
                "negative": row.margin < 0,
                "value_x": axis + max(revenue_width, margin_width if row.margin >= 0 else 0) + 6,
            }
        )
    height = 20 + len(shown) * (2 * BAR_HEIGHT + GAP)
    return {"bars": bars, "width": CHART_WIDTH, "height": height, "axis": axis}


@require_GET
@backoffice_view
def margin(request):
    forbid_unless_permitted(request.user, VIEW_MARGIN)
    filters = MarginFilterForm(request.GET)
    values = filters.values()
    rows = list(selectors.margin_rows(**values))
    return render(
        request,
        "finance/margin.html",
        {
            "section": "finance",
            "filters": filters,
            "group": values["group"],
            "rows": rows[:TABLE_ROWS],
            "row_count": len(rows),
            "total": selectors.margin_total(rows),
            "chart": margin_chart(rows),
            "query": request.GET.urlencode(),
        },
    )


CSV_HEADER = [
    "group",
    "id",
    "name",
    "detail",
    "revenue",
    "refunds",
    "cogs",
    "fees",
    "shipping",
    "margin",
]


@require_GET
@backoffice_view
def margin_csv(request):
    forbid_unless_permitted(request.user, VIEW_MARGIN)
    values = MarginFilterForm(request.GET).values()
    rows = (
        [
            values["group"],
            row.key if row.key is not None else "",
            row.label,
            row.detail,
            row.revenue,
            row.refunds,
            row.cogs,
            row.fees,
            row.shipping,
            row.margin,
        ]
        for row in selectors.margin_rows(**values)
    )
    fmt = export_format(request, default="csv")
    return export_response(fmt, f"margin-by-{values['group']}", CSV_HEADER, rows)
