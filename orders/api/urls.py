from django.urls import path
from rest_framework.routers import DefaultRouter

from orders.api import views

router = DefaultRouter()
router.register("orders", views.OrderViewSet, basename="order")

urlpatterns = [
    path("channels/<str:code>/orders/", views.OrderIngestView.as_view(), name="order-ingest"),
    *router.urls,
]
