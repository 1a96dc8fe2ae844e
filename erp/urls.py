from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from erp.views.favicon import favicon

urlpatterns = [
    path("api/v1/", include("erp.api.urls")),
    path("api/v1/", include("inventory.api.urls")),
    path("api/v1/", include("orders.api.urls")),
    path("api/v1/", include("returns.api.urls")),
    path("api/v1/", include("fulfillment.api.urls")),
    path("api/v1/", include("purchasing.api.urls")),
    path("api/v1/", include("finance.api.urls")),
    path("api/v1/", include("finance.settlement_api")),
    path("api/v1/", include("insight.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("admin/", admin.site.urls),
    path("favicon.ico", favicon, name="favicon"),
    path("fulfillment/", include("fulfillment.urls")),
    path("returns/", include("returns.urls")),
    path("purchasing/", include("purchasing.urls")),
    path("finance/settlements/", include("finance.settlement_urls")),
    path("finance/", include("finance.urls")),
    path("insight/", include("insight.urls")),
    path("", include("erp.backoffice_urls")),
]
handler404 = "erp.api.errors.not_found"
