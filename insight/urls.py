from django.urls import path

from insight.views import dashboards, kpi_tables, sync_health, thresholds

app_name = "insight"

urlpatterns = [
    path("", dashboards.home, name="home"),
    path("sync/", sync_health.sync_health, name="sync-health"),
    path("sync/<str:code>/", sync_health.channel_sync, name="channel-sync"),
    path("sync/<str:code>/retry/", sync_health.retry_channel, name="channel-sync-retry"),
    path("kpis/thresholds/", thresholds.thresholds, name="thresholds"),
    path("kpis/<slug:key>/", kpi_tables.kpi_page, name="kpi"),
    path("kpis/<slug:key>.csv", kpi_tables.kpi_csv, name="kpi-csv"),
    path("<slug:role>/", dashboards.dashboard, name="dashboard"),
]
