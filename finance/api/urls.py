from django.urls import path

from erp.api.routers import Router
from finance.api import views

router = Router()
router.register("finance/accounts", views.AccountViewSet, basename="finance-account")
router.register("finance/journal-entries", views.JournalEntryViewSet, basename="journal-entry")
router.register("finance/periods", views.PeriodViewSet, basename="finance-period")

urlpatterns = [
    path("finance/margin/", views.MarginView.as_view(), name="finance-margin"),
    path("finance/trial-balance/", views.TrialBalanceView.as_view(), name="finance-trial-balance"),
    *router.urls,
]
