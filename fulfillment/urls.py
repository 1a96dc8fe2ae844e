"""Fulfillment back-office routes, under /fulfillment/ (see erp.urls)."""

from django.urls import path

from fulfillment.views import dashboard, master_data, packing, picking, shipments, short_picks

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
    path("waves/panel/", dashboard.waves_panel, name="waves-panel"),
    path("waves/build/", dashboard.build_waves, name="build-waves"),
    path("waves/<int:wave_id>/", picking.wave_detail, name="wave"),
    path("pick-lists/<int:pick_list_id>/", picking.pick_list_page, name="pick-list"),
    path(
        "pick-lists/<int:pick_list_id>/tasks/<int:task_id>/confirm/",
        picking.confirm_task,
        name="pick-confirm",
    ),
    path(
        "pick-lists/<int:pick_list_id>/tasks/<int:task_id>/short/",
        picking.short_task,
        name="pick-short",
    ),
    path(
        "short-picks/<int:short_pick_id>/resolve/",
        short_picks.resolve_short_pick,
        name="short-pick-resolve",
    ),
    path("pack/", packing.pack_station, name="pack"),
    path("pack/<int:order_id>/", packing.pack, name="pack-order"),
    path("packages/<int:package_id>/label/", packing.create_label, name="package-label"),
    path(
        "packages/<int:package_id>/packing-slip.pdf",
        shipments.packing_slip_pdf,
        name="packing-slip",
    ),
    path("shipments/", shipments.shipment_list, name="shipment-list"),
    path("shipments/manifest/", shipments.confirm_manifest, name="shipment-manifest"),
    path("shipments/<int:shipment_id>/", shipments.shipment_detail, name="shipment"),
    path("shipments/<int:shipment_id>/label.pdf", shipments.label_pdf, name="label-pdf"),
    path(
        "shipments/<int:shipment_id>/confirm/",
        shipments.confirm_shipment,
        name="shipment-confirm",
    ),
    path("shipments/<int:shipment_id>/void/", shipments.void_label, name="shipment-void"),
]
for _screen in master_data.SCREENS:
    urlpatterns += _screen_patterns(_screen)
