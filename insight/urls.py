from django.urls import path

from insight.views import sync_health

app_name = "insight"

urlpatterns = [
    path("sync/", sync_health.sync_health, name="sync-health"),
    path("sync/<str:code>/", sync_health.channel_sync, name="channel-sync"),
    path("sync/<str:code>/retry/", sync_health.retry_channel, name="channel-sync-retry"),
]
