"""KPI thresholds: the digest lists a KPI past its threshold. Managers edit them; every
change keeps its history with who and why."""

from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods

from erp.errors import DomainError
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.forms import add_domain_errors
from insight.forms import ThresholdForm
from insight.kpis import all_kpis
from insight.models import KpiThreshold
from insight.services.thresholds import set_threshold


@require_http_methods(["GET", "POST"])
@backoffice_view
def thresholds(request):
    forbid_unless_permitted(request.user, "insight.view_kpithreshold")
    current = {row.key: row for row in KpiThreshold.objects.all()}
    editing, form = request.POST.get("key", ""), None
    if request.method == "POST":
        forbid_unless_permitted(request.user, "insight.change_kpithreshold")
        form = ThresholdForm(request.POST)
        if form.is_valid():
            try:
                set_threshold(key=editing, actor=request.user, **form.cleaned_data)
            except DomainError as error:
                add_domain_errors(form, error)
            else:
                return redirect("insight:thresholds")
    rows = []
    for kpi in all_kpis():
        threshold = current.get(kpi.key)
        initial = {
            "value": threshold.value if threshold else None,
            "direction": threshold.direction
            if threshold
            else ("below" if kpi.good == "high" else "above"),
            "active": threshold.active if threshold else True,
        }
        bound = (
            form
            if form is not None and editing == kpi.key
            else ThresholdForm(initial=initial, auto_id=f"id_{kpi.key}_%s")
        )
        rows.append({"kpi": kpi, "threshold": threshold, "form": bound})
    history = KpiThreshold.history.select_related("history_user").order_by(
        "-history_date", "-history_id"
    )[:50]
    names = {kpi.key: kpi.name for kpi in all_kpis()}
    context = {
        "section": "insight",
        "rows": rows,
        "history": [
            {"record": record, "name": names.get(record.key, record.key)} for record in history
        ],
        "can_edit": request.user.has_perm("insight.change_kpithreshold"),
    }
    status = 400 if form is not None and form.errors else 200
    return TemplateResponse(request, "insight/thresholds.html", context, status=status)
