"""Back-office routes for orders, under /orders/ (see erp.backoffice_urls)."""

from django.urls import path

from erp.views.records import screen_urls
from orders.views import (
    ingestion_errors,
    manual_orders,
    order_actions,
    order_list,
    order_page,
    settings,
)

app_name = "orders"

urlpatterns = [
    path("", order_list.order_list, name="list"),
    path("new/", manual_orders.create_manual_order, name="create"),
    path("<int:order_id>/", order_page.order_detail, name="detail"),
    path("<int:order_id>/release/", order_actions.release_order, name="release"),
    path("<int:order_id>/hold/", order_actions.hold_order, name="hold"),
    path("<int:order_id>/cancel/", order_actions.cancel_order, name="cancel"),
    path("<int:order_id>/reroute/", order_actions.reroute_order, name="reroute"),
    path("<int:order_id>/ship-to/", order_actions.edit_ship_to, name="ship-to"),
    path(
        "<int:order_id>/lines/<int:line_id>/cancel/",
        order_actions.cancel_line,
        name="line-cancel",
    ),
    path(
        "ingestion-errors/<int:error_id>/",
        ingestion_errors.ingestion_error_detail,
        name="ingestion-error",
    ),
    path(
        "ingestion-errors/<int:error_id>/replay/",
        ingestion_errors.replay_error,
        name="ingestion-error-replay",
    ),
    path(
        "ingestion-errors/<int:error_id>/resolve/",
        ingestion_errors.resolve_error,
        name="ingestion-error-resolve",
    ),
]
for _screen in settings.SCREENS:
    urlpatterns += screen_urls(_screen)
