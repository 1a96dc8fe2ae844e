from rest_framework.routers import DefaultRouter

from erp.api import master_data

router = DefaultRouter(trailing_slash=True)
router.register("skus", master_data.SkuViewSet, basename="sku")
router.register("locations", master_data.LocationViewSet, basename="location")
router.register("channels", master_data.ChannelViewSet, basename="channel")
router.register("listings", master_data.ChannelListingViewSet, basename="listing")

urlpatterns = router.urls
