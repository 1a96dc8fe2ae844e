from django.urls import path

from erp.api.routers import Router
from inventory.api import views

router = Router()
router.register("stock/balances", views.StockBalanceViewSet, basename="stock-balance")
router.register("stock/lot-balances", views.LotBalanceViewSet, basename="lot-balance")
router.register("stock/ledger", views.LedgerViewSet, basename="ledger-entry")
router.register("stock/transfers", views.TransferViewSet, basename="transfer")
router.register("stock/adjustments", views.AdjustmentViewSet, basename="adjustment")
router.register("stock/reservations", views.ReservationViewSet, basename="reservation")
router.register("allocation-rules", views.AllocationRuleViewSet, basename="allocation-rule")

urlpatterns = [
    path("stock/receipts/", views.ReceiptView.as_view(), name="stock-receipt"),
    path("stock/status-changes/", views.StatusChangeView.as_view(), name="stock-status-change"),
    path(
        "channels/<str:code>/availability/",
        views.ChannelAvailabilityView.as_view(),
        name="channel-availability",
    ),
    *router.urls,
]
