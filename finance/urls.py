"""Finance back-office routes, under /finance/ (see erp.urls); the API lives under
/api/v1/finance/."""

from django.urls import path

from finance.views import books, journal, margin

app_name = "finance"

urlpatterns = [
    path("", journal.journal, name="journal"),
    path("entries/<int:entry_id>/", journal.entry_detail, name="entry"),
    path(
        "documents/<slug:kind>/<int:source_id>/",
        journal.document_postings,
        name="document",
    ),
    path("accounts/", books.chart_of_accounts, name="accounts"),
    path("trial-balance/", books.trial_balance, name="trial-balance"),
    path("periods/", books.period_list, name="periods"),
    path("periods/close/", books.period_action, {"action": "close"}, name="period-close"),
    path("periods/lock/", books.period_action, {"action": "lock"}, name="period-lock"),
    path("periods/reopen/", books.period_action, {"action": "reopen"}, name="period-reopen"),
    path("valuation/", books.valuation, name="valuation"),
    path("margin/", margin.margin, name="margin"),
    path("margin.csv", margin.margin_csv, name="margin-csv"),
]
