"""Fulfillment back-office routes, under /fulfillment/ (see erp.urls)."""

from django.urls import path

from erp.views.records import screen_urls
from fulfillment.views import dashboard, master_data, packing, picking, shipments, short_picks

app_name = "fulfillment"


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
    urlpatterns += screen_urls(_screen, prefix="setup/")
