from django.urls import path

from insight.api import views

urlpatterns = [
    path("insight/kpis/", views.KpiListView.as_view(), name="insight-kpis"),
    path(
        "insight/kpi-thresholds/", views.ThresholdListView.as_view(), name="insight-kpi-thresholds"
    ),
    path("insight/kpis/<slug:key>/", views.KpiFiguresView.as_view(), name="insight-kpi"),
]
