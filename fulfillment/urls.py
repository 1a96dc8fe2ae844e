"""Fulfillment back-office routes, under /fulfillment/ (see erp.urls)."""

from django.urls import path

from fulfillment.views import dashboard, master_data

app_name = "fulfillment"


def _screen_patterns(screen: master_data.Screen) -> list:
    kwargs = {"screen": screen}
    base = f"setup/{screen.path}"
    views = {
        "list": ("", master_data.record_list),
        "create": ("new/", master_data.record_create),
        "detail": ("<int:pk>/", master_data.record_detail),
        "edit": ("<int:pk>/edit/", master_data.record_edit),
        "history": ("<int:pk>/history/", master_data.record_history_tab),
    }
    return [
        path(f"{base}/{suffix}", view, kwargs, name=screen.route_name(action))
        for action, (suffix, view) in views.items()
    ]


urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
]
for _screen in master_data.SCREENS:
    urlpatterns += _screen_patterns(_screen)
