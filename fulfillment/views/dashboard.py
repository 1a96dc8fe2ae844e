"""The warehouse dashboard (placeholder while the selectors land)."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from erp.views.access import backoffice_view, forbid_unless_permitted


@require_GET
@backoffice_view
def dashboard(request):
    forbid_unless_permitted(request.user, "fulfillment.view_wave")
    return render(request, "fulfillment/dashboard.html", {"section": "fulfillment"})
