"""Inventory back-office routes, included under /inventory/ by erp.backoffice_urls.

SKU, node and channel codes may contain "/", so pages addressed by a code take the rest
of the path; actions on a channel are addressed by its id.
"""

from django.urls import path

from inventory.views import adjustments, availability, counts, movements, stock, transfers

urlpatterns = [
    path("", stock.stock_search, name="stock-search"),
    path("skus/<path:code>/", stock.sku_stock, name="stock-sku"),
    path("nodes/<path:code>/", stock.node_stock, name="stock-node"),
    path("receive/", movements.receive, name="stock-receive"),
    path("status-change/", movements.change_status, name="stock-status-change"),
    path("adjustments/", adjustments.adjustment_list, name="adjustment-list"),
    path("adjustments/new/", adjustments.adjustment_create, name="adjustment-create"),
    # Named <model>-detail: the approvals inbox links a request to its subject by that name.
    path(
        "adjustments/<int:pk>/",
        adjustments.adjustment_detail,
        name="inventoryadjustment-detail",
    ),
    path(
        "adjustments/<int:pk>/decide/",
        adjustments.adjustment_decide,
        name="adjustment-decide",
    ),
    path("availability/", availability.availability_index, name="availability-index"),
    path(
        "availability/<path:code>/",
        availability.channel_availability,
        name="stock-availability",
    ),
    path(
        "channels/<int:channel_id>/rules/new/",
        availability.rule_create,
        name="allocation-rule-create",
    ),
    path("rules/<int:pk>/edit/", availability.rule_edit, name="allocation-rule-edit"),
    path("rules/<int:pk>/delete/", availability.rule_delete, name="allocation-rule-delete"),
    path(
        "channels/<int:channel_id>/safety-stock/",
        availability.safety_stock_set,
        name="safety-stock-set",
    ),
    path("counts/", counts.count_list, name="count-list"),
    path("counts/new/", counts.count_create, name="count-create"),
    path("counts/<int:pk>/", counts.count_detail, name="count-detail"),
    path("counts/<int:pk>/lookup/", counts.count_lookup, name="count-lookup"),
    path("counts/<int:pk>/record/", counts.count_record, name="count-record"),
    path("counts/<int:pk>/close/", counts.count_close, name="count-close"),
    path("transfers/", transfers.transfer_list, name="transfer-list"),
    path("transfers/new/", transfers.transfer_create, name="transfer-create"),
    path("transfers/<int:pk>/", transfers.transfer_detail, name="transfer-detail"),
    path("transfers/<int:pk>/receive/", transfers.transfer_receive, name="transfer-receive"),
    path("transfers/<int:pk>/close/", transfers.transfer_close, name="transfer-close"),
]
