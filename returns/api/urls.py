from django.urls import path

from erp.api.routers import Router
from returns.api import views

router = Router()
router.register("returns/rmas", views.RmaViewSet, basename="rma")
router.register("returns/refunds", views.RefundViewSet, basename="refund")
router.register("returns/reasons", views.ReturnReasonViewSet, basename="return-reason")

urlpatterns = [
    path("returns/figures/", views.ReturnFiguresView.as_view(), name="return-figures"),
    *router.urls,
]
