from erp.api.routers import Router
from purchasing.api import views

router = Router(trailing_slash=True)
router.register("suppliers", views.SupplierViewSet, basename="supplier")
router.register("supplier-items", views.SupplierItemViewSet, basename="supplier-item")
router.register("purchase-orders", views.PurchaseOrderViewSet, basename="purchase-order")
router.register("purchasing/receipts", views.ReceiptViewSet, basename="purchase-receipt")
router.register("purchasing/over-receipts", views.OverReceiptViewSet, basename="over-receipt")
router.register("purchasing/landed-charges", views.LandedChargeViewSet, basename="landed-charge")

router.register("purchasing/proposals", views.ProposalViewSet, basename="proposal")

urlpatterns = router.urls
