from django.urls import path

from insight.api import views

urlpatterns = [
    path("insight/sync-health/", views.SyncHealthView.as_view(), name="sync-health"),
    path(
        "insight/sync-health/<str:code>/",
        views.ChannelSyncHealthView.as_view(),
        name="channel-sync-health",
    ),
]
