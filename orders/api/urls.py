from django.urls import path

from erp.api.routers import Router
from orders.api import views

router = Router()
router.register("orders", views.OrderViewSet, basename="order")

urlpatterns = [
    path("channels/<str:code>/orders/", views.OrderIngestView.as_view(), name="order-ingest"),
    *router.urls,
]
