"""The landing page: every exception queue at a glance, and the size of master data."""

from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from erp import selectors
from erp.views.access import backoffice_view
from erp.views.exceptions import queue_summaries

MASTER_DATA_TILES = (
    ("skus", "Active SKUs", "sku-list", "erp.view_sku"),
    ("locations", "Active locations", "location-list", "erp.view_location"),
    ("channels", "Active channels", "channel-list", "erp.view_channel"),
    ("listings", "Active listings", "listing-list", "erp.view_channellisting"),
)


@require_GET
@backoffice_view
def dashboard(request):
    counts = selectors.master_data_counts()
    tiles = [
        {
            "label": label,
            "count": counts[key],
            "url": reverse(url_name) if request.user.has_perm(permission) else None,
        }
        for key, label, url_name, permission in MASTER_DATA_TILES
    ]
    context = {
        "section": "dashboard",
        "summaries": queue_summaries(request.user),
        "tiles": tiles,
    }
    return render(request, "erp/dashboard.html", context)
