"""Back-office routes: pages for people signed in with a session (the API lives under
/api/v1/)."""

from django.contrib.auth.views import LogoutView
from django.urls import include, path

from erp.views import api_tokens, approvals, dashboard, exceptions, master_data
from erp.views.auth import BackOfficeLoginView


def _screen_patterns(screen: master_data.Screen) -> list:
    kwargs = {"screen": screen}
    base = screen.path
    return [
        path(f"{base}/", master_data.record_list, kwargs, name=screen.urls["list"]),
        path(f"{base}/new/", master_data.record_create, kwargs, name=screen.urls["create"]),
        path(f"{base}/<int:pk>/", master_data.record_detail, kwargs, name=screen.urls["detail"]),
        path(f"{base}/<int:pk>/edit/", master_data.record_edit, kwargs, name=screen.urls["edit"]),
        path(
            f"{base}/<int:pk>/history/",
            master_data.record_history_tab,
            kwargs,
            name=screen.urls["history"],
        ),
    ]


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
    path("skus/options/", master_data.sku_options, name="sku-options"),
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
for _screen in master_data.SCREENS:
    urlpatterns += _screen_patterns(_screen)
