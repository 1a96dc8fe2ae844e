from django.urls import path

from erp.api.routers import Router
from fulfillment.api import views

router = Router()
router.register("carriers", views.CarrierViewSet, basename="carrier")
router.register("carrier-services", views.CarrierServiceViewSet, basename="carrier-service")
router.register("rate-cards", views.RateCardViewSet, basename="rate-card")
router.register("boxes", views.BoxViewSet, basename="box")
router.register("slots", views.SlotViewSet, basename="slot")
router.register(
    "channel-fulfillment-policies", views.ChannelPolicyViewSet, basename="channel-policy"
)
router.register("pick-lists", views.PickListViewSet, basename="pick-list")
router.register("pick-tasks", views.PickTaskViewSet, basename="pick-task")
router.register("packages", views.PackageViewSet, basename="package")
router.register("shipments", views.ShipmentViewSet, basename="shipment")

urlpatterns = [
    path("labels/", views.LabelView.as_view(), name="label-create"),
    path(
        "external-shipments/",
        views.ExternalShipmentView.as_view(),
        name="external-shipment-create",
    ),
    *router.urls,
]
