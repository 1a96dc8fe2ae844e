from erp.api import master_data, settings
from erp.api.routers import Router

router = Router(trailing_slash=True)
router.register("skus", master_data.SkuViewSet, basename="sku")
router.register("locations", master_data.LocationViewSet, basename="location")
router.register("channels", master_data.ChannelViewSet, basename="channel")
router.register("listings", master_data.ChannelListingViewSet, basename="listing")
router.register("approval-policies", settings.ApprovalPolicyViewSet, basename="approval-threshold")

urlpatterns = router.urls
