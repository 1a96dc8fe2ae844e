from rest_framework.routers import DefaultRouter

from fulfillment.api import views

router = DefaultRouter()
router.register("carriers", views.CarrierViewSet, basename="carrier")
router.register("carrier-services", views.CarrierServiceViewSet, basename="carrier-service")
router.register("rate-cards", views.RateCardViewSet, basename="rate-card")
router.register("boxes", views.BoxViewSet, basename="box")
router.register("slots", views.SlotViewSet, basename="slot")
router.register(
    "channel-fulfillment-policies", views.ChannelPolicyViewSet, basename="channel-policy"
)

urlpatterns = router.urls
