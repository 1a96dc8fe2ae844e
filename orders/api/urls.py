from django.urls import path

from erp.api.routers import Router
from orders.api import views

router = Router()
router.register("orders", views.OrderViewSet, basename="order")

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
