from django.urls import path

from erp.api.routers import Router
from returns.api import views
from returns.api.channel_returns import ChannelReturnIngestView

router = Router()
router.register("returns/rmas", views.RmaViewSet, basename="rma")
router.register("returns/refunds", views.RefundViewSet, basename="refund")
router.register("returns/reasons", views.ReturnReasonViewSet, basename="return-reason")

urlpatterns = [
    path("returns/figures/", views.ReturnFiguresView.as_view(), name="return-figures"),
    path(
        "channels/<str:code>/returns/",
        ChannelReturnIngestView.as_view(),
        name="channel-return-ingest",
    ),
    *router.urls,
]
