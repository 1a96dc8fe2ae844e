from django.urls import path

from erp.api import master_data, queues, settings
from erp.api.routers import Router

router = Router(trailing_slash=True)
router.register("skus", master_data.SkuViewSet, basename="sku")
router.register("locations", master_data.LocationViewSet, basename="location")
router.register("channels", master_data.ChannelViewSet, basename="channel")
router.register("listings", master_data.ChannelListingViewSet, basename="listing")
router.register("approval-policies", settings.ApprovalPolicyViewSet, basename="approval-threshold")

_ITEM = "queues/<slug:key>/items/<int:object_id>"
urlpatterns = [
    path(f"{_ITEM}/claim/", queues.ClaimItemView.as_view(), name="queue-item-claim"),
    path(f"{_ITEM}/assign/", queues.AssignItemView.as_view(), name="queue-item-assign"),
    path(f"{_ITEM}/release/", queues.ReleaseItemView.as_view(), name="queue-item-release"),
    *router.urls,
]
