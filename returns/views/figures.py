"""Return figures: return rate by SKU, channel and reason, how much of what came back was
sold again (recoverable rate) or damaged, and how long a return takes from authorization
to refund, for a period and a channel. The bars are drawn here as inline SVG; the numbers
are the same the API gives (returns.selectors)."""

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.views.decorators.http import require_GET

from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.rendering import render_page_or_fragment
from returns import selectors
from returns.forms import FiguresFilterForm
from returns.models import ReturnReason

GROUPINGS = (("sku", "SKU"), ("channel", "Channel"), ("reason", "Reason"))
TOP_SKUS = 20


def percent(ratio: Decimal | None) -> Decimal | None:
    if ratio is None:
        return None
    return (ratio * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _bar(ratio: Decimal | None, scale: Decimal) -> Decimal:
    """Bar length out of 100: the ratio against the chart's largest (never above 100)."""
    if not ratio or not scale:
        return Decimal(0)
    return min((ratio / scale * 100).quantize(Decimal("0.1")), Decimal(100))


def chart_rows(rows: list[dict], labels: dict[str, str]) -> list[dict]:
    """The rows with their percentages and bar lengths. The return rate's bars are scaled
    to the largest rate shown (rates of a few per cent stay readable); recoverable and
    damage rates are shares of what was inspected, drawn against 100 %."""
    largest = max((row["return_rate"] or 0 for row in rows), default=0)
    return [
        {
            **row,
            "label": labels.get(row["key"], row["key"]),
            "return_percent": percent(row["return_rate"]),
            "recoverable_percent": percent(row["recoverable_rate"]),
            "damage_percent": percent(row["damage_rate"]),
            "return_bar": _bar(row["return_rate"], largest),
            "recoverable_bar": _bar(row["recoverable_rate"], Decimal(1)),
            "damage_bar": _bar(row["damage_rate"], Decimal(1)),
        }
        for row in rows
    ]


def duration_label(value: timedelta | None) -> str:
    if value is None:
        return "—"
    hours = int(value.total_seconds() // 3600)
    if hours < 48:
        return f"{hours} h {int(value.total_seconds() // 60) % 60:02d} min"
    return f"{hours // 24} d {hours % 24} h"


def _group(by: str, period: dict, reason_labels: dict) -> dict:
    figures = selectors.return_figures(by=by, **period)
    # Most returned first; SKUs nobody returned carry no information here.
    rows = sorted(figures["rows"], key=lambda row: (-row["returned"], str(row["key"])))
    shown, hidden = rows, 0
    if by == "sku":
        returned = [row for row in rows if row["returned"]]
        shown, hidden = returned[:TOP_SKUS], len(rows) - len(returned[:TOP_SKUS])
    labels = reason_labels if by == "reason" else {}
    return {
        "by": by,
        "rows": chart_rows(shown, labels),
        "hidden": hidden,
        "totals": chart_rows([figures["totals"]], {})[0],
    }


@require_GET
@backoffice_view
def figures(request):
    forbid_unless_permitted(request.user, "returns.view_rma")
    filters = FiguresFilterForm(request.GET)
    period = filters.period()
    reason_labels = dict(ReturnReason.objects.values_list("code", "label"))
    groups = [{**_group(by, period, reason_labels), "title": title} for by, title in GROUPINGS]
    cycle = selectors.return_cycle_time(**period)
    context = {
        "section": "returns",
        "filters": filters,
        "groups": groups,
        "totals": groups[0]["totals"],
        "cycle": {
            "count": cycle["count"],
            "average": duration_label(cycle["average"]),
            "longest": duration_label(cycle["longest"]),
        },
    }
    return render_page_or_fragment(
        request,
        page="returns/figures.html",
        fragment="returns/partials/figures_body.html",
        context=context,
    )
