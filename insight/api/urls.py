from django.urls import path

from insight.api import sync_views, views

urlpatterns = [
    path("insight/sync-health/", sync_views.SyncHealthView.as_view(), name="sync-health"),
    path(
        "insight/sync-health/<str:code>/",
        sync_views.ChannelSyncHealthView.as_view(),
        name="channel-sync-health",
    ),
    path("insight/kpis/", views.KpiListView.as_view(), name="insight-kpis"),
    path(
        "insight/kpi-thresholds/", views.ThresholdListView.as_view(), name="insight-kpi-thresholds"
    ),
    path("insight/kpis/<slug:key>/", views.KpiFiguresView.as_view(), name="insight-kpi"),
]
