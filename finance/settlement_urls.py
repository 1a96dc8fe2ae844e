"""Settlement back-office routes, under /finance/settlements/ (see erp.urls)."""

from django.urls import path

from finance import settlement_views as views

app_name = "settlements"

urlpatterns = [
    path("", views.settlement_list, name="list"),
    path("upload/", views.upload, name="upload"),
    path("imports/<int:import_id>/", views.import_progress, name="import"),
    path("<int:settlement_id>/", views.settlement_detail, name="detail"),
    path("variances/<int:variance_id>/accept/", views.accept_variance, name="variance-accept"),
    path("variances/<int:variance_id>/dispute/", views.dispute_variance, name="variance-dispute"),
]
