from django.urls import path

from insight.views import dashboards, kpi_tables, thresholds

app_name = "insight"

urlpatterns = [
    path("", dashboards.home, name="home"),
    path("kpis/thresholds/", thresholds.thresholds, name="thresholds"),
    path("kpis/<slug:key>/", kpi_tables.kpi_page, name="kpi"),
    path("kpis/<slug:key>.csv", kpi_tables.kpi_csv, name="kpi-csv"),
    path("<slug:role>/", dashboards.dashboard, name="dashboard"),
]
