from django.urls import path

from erp.api.routers import Router
from orders.api import settings, views

router = Router()
router.register("orders", views.OrderViewSet, basename="order")
router.register("settings/order-policies", settings.OrderPolicyViewSet, basename="order-policy")
router.register("settings/shipping-zones", settings.ShippingZoneViewSet, basename="shipping-zone")
router.register("settings/shipping-rates", settings.ShippingRateViewSet, basename="shipping-rate")
router.register(
    "settings/drop-ship-sources", settings.DropshipSourceViewSet, basename="dropship-source"
)
router.register(
    "settings/substitution-rules", settings.SubstitutionRuleViewSet, basename="substitution-rule"
)

urlpatterns = [
    path("channels/<str:code>/orders/", views.OrderIngestView.as_view(), name="order-ingest"),
    path("manual-orders/", views.ManualOrderView.as_view(), name="manual-order-create"),
    path(
        "ingestion-errors/<int:error_id>/replay/",
        views.IngestionErrorReplayView.as_view(),
        name="ingestion-error-replay",
    ),
    *router.urls,
]
