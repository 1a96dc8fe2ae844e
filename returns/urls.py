"""Returns back-office routes, under /returns/ (see erp.urls); the API lives under
/api/v1/returns/."""

from django.urls import path

from erp.views.records import screen_urls
from returns.views import (
    dock,
    figures,
    inspection,
    queue_actions,
    replacements,
    rma_create,
    rma_page,
    rmas,
    settings,
)

app_name = "returns"

urlpatterns = [
    path("", rmas.rma_list, name="list"),
    path("new/", rma_create.rma_create, name="create"),
    path("dock/", dock.dock, name="dock"),
    path("figures/", figures.figures, name="figures"),
    path("<int:rma_id>/", rma_page.rma_detail, name="detail"),
    path("<int:rma_id>/refund/", rma_page.request_refund, name="refund"),
    path("<int:rma_id>/close/", rma_page.close_rma, name="close"),
    path("<int:rma_id>/cancel/", rma_page.cancel_rma, name="cancel"),
    path("<int:rma_id>/replacement/", replacements.create_replacement, name="replacement"),
    path("<int:rma_id>/receive/", dock.receive, name="receive"),
    path("<int:rma_id>/inspect/", inspection.inspection_screen, name="inspect"),
    path(
        "<int:rma_id>/inspect/<int:item_id>/",
        inspection.inspect_item,
        name="inspect-item",
    ),
    # Named <model>-detail: the approvals inbox links a refund request to its page by it.
    path("refunds/<int:refund_id>/", rma_page.refund_detail, name="refund-detail"),
    path("refunds/<int:refund_id>/withdraw/", rma_page.withdraw_refund, name="refund-withdraw"),
    path(
        "received-items/<int:item_id>/resolve/",
        queue_actions.resolve_discrepancy,
        name="discrepancy-resolve",
    ),
    path(
        "channel-returns/<int:entry_id>/retry/",
        queue_actions.retry_channel_return,
        name="channel-return-retry",
    ),
    path(
        "channel-returns/<int:entry_id>/dismiss/",
        queue_actions.dismiss_channel_return,
        name="channel-return-dismiss",
    ),
    path(
        "repairs/<int:repair_id>/complete/",
        queue_actions.complete_repair,
        name="repair-complete",
    ),
]
for _screen in settings.SCREENS:
    urlpatterns += screen_urls(_screen)
