"""Per-role KPI dashboards at /insight/<role>/: tiles, a series and bars per KPI, the
period, channel, node and family in the URL so a view can be shared."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template import TemplateDoesNotExist
from django.template.loader import select_template
from django.utils import timezone
from django.views.decorators.http import require_GET

from erp import roles
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.rendering import render_page_or_fragment
from insight.forms import KpiFilterForm
from insight.kpis import all_kpis
from insight.kpis.wiring import DASHBOARD_PERMISSIONS
from insight.models import FactRefresh, KpiThreshold
from insight.views.figures import kpi_panel, query_string

DASHBOARDS = {
    "warehouse": ("Warehouse", roles.WAREHOUSE),
    "cs": ("Customer service", roles.CUSTOMER_SERVICE),
    "manager": ("Manager", roles.MANAGER),
    "finance": ("Finance", roles.FINANCE),
    "buyer": ("Buyer", roles.BUYER),
}
SYNC_TILE = "insight/partials/sync_health_tile.html"


def dashboards_for(user) -> list[tuple[str, str]]:
    return [
        (slug, title)
        for slug, (title, _) in DASHBOARDS.items()
        if user.has_perm(DASHBOARD_PERMISSIONS[slug])
    ]


@require_GET
@backoffice_view
def home(request):
    """The first dashboard the person may see, with the filters they came with."""
    mine = dashboards_for(request.user)
    if not mine:
        raise PermissionDenied("Your role has no KPI dashboard.")
    own = {slug for slug, (_, role) in DASHBOARDS.items() if role in roles.user_roles(request.user)}
    slug = next((slug for slug, _ in mine if slug in own), mine[0][0])
    target = redirect("insight:dashboard", role=slug)
    if request.GET:
        target["Location"] += f"?{request.GET.urlencode()}"
    return target


def _kpis_for(slug: str):
    role = DASHBOARDS[slug][1]
    return [kpi for kpi in all_kpis() if slug == "manager" or role in kpi.roles]


def _sync_tile(slug: str) -> dict:
    """The sync-health tile, on the manager dashboard, when insight's sync side is there."""
    if slug != "manager":
        return {}
    try:
        select_template([SYNC_TILE])
        from insight import sync_health
    except (TemplateDoesNotExist, ImportError):
        return {}
    return {"sync_tile": SYNC_TILE, **sync_health.tile_context()}


@require_GET
@backoffice_view
def dashboard(request, role):
    if role not in DASHBOARDS:
        raise Http404("No such dashboard.")
    forbid_unless_permitted(request.user, DASHBOARD_PERMISSIONS[role])
    form = KpiFilterForm(request.GET)
    filters, bucket = form.filters(timezone.localdate()), form.chosen_bucket()
    thresholds = {row.key: row for row in KpiThreshold.objects.all()}
    panels = [kpi_panel(kpi, filters, bucket, thresholds.get(kpi.key)) for kpi in _kpis_for(role)]
    context = {
        "section": "insight",
        "role": role,
        "title": DASHBOARDS[role][0],
        "dashboards": dashboards_for(request.user),
        "form": form,
        "filters": filters,
        "bucket": bucket,
        "query": query_string(filters, bucket),
        "panels": panels,
        "refresh": FactRefresh.objects.filter(name="facts").first(),
        **_sync_tile(role),
    }
    return render_page_or_fragment(
        request,
        page="insight/dashboard.html",
        fragment="insight/partials/dashboard_body.html",
        context=context,
    )
