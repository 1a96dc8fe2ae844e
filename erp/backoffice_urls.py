"""Back-office routes: pages for people signed in with a session (the API lives under
/api/v1/)."""

from django.contrib.auth.views import LogoutView
from django.urls import include, path

from erp.views import (
    api_tokens,
    approvals,
    dashboard,
    exceptions,
    master_data,
    queue_work,
    records,
    settings_screens,
)
from erp.views.auth import BackOfficeLoginView

urlpatterns = [
    path("login/", BackOfficeLoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("", dashboard.dashboard, name="dashboard"),
    path("exceptions/", exceptions.queue_index, name="exceptions"),
    path(
        "exceptions/integration-failures/<int:message_id>/retry/",
        exceptions.retry_outbox_message,
        name="outbox-retry",
    ),
    path(
        "exceptions/integration-failures/<int:message_id>/discard/",
        exceptions.discard_outbox_message,
        name="outbox-discard",
    ),
    path("exceptions/<slug:key>/", exceptions.queue_page, name="exception-queue"),
    path("exceptions/<slug:key>/stats/", exceptions.queue_stats, name="exception-queue-stats"),
    path("exceptions/<slug:key>/export.csv", queue_work.export, name="exception-queue-export"),
    path("exceptions/<slug:key>/sla/", queue_work.queue_sla, name="exception-queue-sla"),
    path("exceptions/<slug:key>/bulk/", queue_work.bulk_action, name="exception-queue-bulk"),
    path(
        "exceptions/<slug:key>/<int:object_id>/claim/",
        queue_work.claim,
        name="exception-queue-claim",
    ),
    path(
        "exceptions/<slug:key>/<int:object_id>/release/",
        queue_work.release,
        name="exception-queue-release",
    ),
    path("skus/options/", master_data.sku_options, name="sku-options"),
    path("settings/", records.settings_index, name="settings"),
    path("approvals/", approvals.approval_inbox, name="approval-inbox"),
    path("approvals/stats/", approvals.approval_stats, name="approval-stats"),
    path("approvals/<int:pk>/decide/", approvals.approval_decide, name="approval-decide"),
    path("settings/api-tokens/", api_tokens.token_list, name="api-token-list"),
    path("settings/api-tokens/new/", api_tokens.token_create, name="api-token-create"),
    path("settings/api-tokens/<int:pk>/", api_tokens.token_detail, name="api-token-detail"),
    path("settings/api-tokens/<int:pk>/edit/", api_tokens.token_edit, name="api-token-edit"),
    path("settings/api-tokens/<int:pk>/rotate/", api_tokens.token_rotate, name="api-token-rotate"),
    path("settings/api-tokens/<int:pk>/revoke/", api_tokens.token_revoke, name="api-token-revoke"),
    path("inventory/", include("inventory.urls")),
    path("orders/", include("orders.urls")),
]
for _screen in (*master_data.SCREENS, settings_screens.APPROVAL_POLICIES):
    urlpatterns += records.screen_urls(_screen)
