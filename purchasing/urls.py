"""Purchasing back-office routes, included under /purchasing/ (namespace `purchasing`).

PO and over-receipt pages are named `<model>-detail`: the approvals inbox links a request
to its subject by that name.
"""

from django.urls import path

from purchasing.views import purchase_orders, receiving, replenishment, rtv, suppliers

app_name = "purchasing"
urlpatterns = [
    path("", purchase_orders.purchase_order_list, name="po-list"),
    path("orders/new/", purchase_orders.purchase_order_edit, name="po-create"),
    path("orders/<int:pk>/", purchase_orders.purchase_order_detail, name="purchaseorder-detail"),
    path("orders/<int:pk>/edit/", purchase_orders.purchase_order_edit, name="po-edit"),
    path("orders/<int:pk>/submit/", purchase_orders.purchase_order_submit, name="po-submit"),
    path("orders/<int:pk>/decide/", purchase_orders.purchase_order_decide, name="po-decide"),
    path("orders/<int:pk>/cancel/", purchase_orders.purchase_order_cancel, name="po-cancel"),
    path("orders/<int:pk>/close/", purchase_orders.purchase_order_close, name="po-close"),
    path(
        "orders/<int:pk>/mark-sent/", purchase_orders.purchase_order_mark_sent, name="po-mark-sent"
    ),
    path("orders/<int:pk>/charges/", purchase_orders.purchase_order_charge, name="po-charge"),
    path("orders/<int:pk>/file.<str:kind>", purchase_orders.purchase_order_file, name="po-file"),
    path("over-receipts/<int:pk>/", purchase_orders.over_receipt_detail, name="overreceipt-detail"),
    path("receive/", receiving.receive_screen, name="receive"),
    path("receive/<int:pk>/", receiving.receive_line, name="receive-line"),
    path(
        "receive/<int:pk>/lines/<int:line_id>/over-receipt/",
        receiving.request_over_receipt,
        name="over-receipt-request",
    ),
    path("proposals/", replenishment.proposal_queue, name="proposal-queue"),
    path("proposals/run/", replenishment.run_now, name="replenishment-run"),
    path("proposals/settings/", replenishment.settings_edit, name="replenishment-settings"),
    path("proposals/<int:pk>/accept/", replenishment.proposal_accept, name="proposal-accept"),
    path("proposals/<int:pk>/drop/", replenishment.proposal_drop, name="proposal-drop"),
    path(
        "proposals/lines/<int:pk>/quantity/",
        replenishment.line_quantity,
        name="proposal-line-quantity",
    ),
    path("proposals/lines/<int:pk>/drop/", replenishment.line_drop, name="proposal-line-drop"),
    path("suppliers/<int:pk>/rtv/", rtv.rtv_open, name="rtv-open"),
    path("rtv/<int:pk>/<slug:action>/", rtv.rtv_action, name="rtv-action"),
    path("suppliers/", suppliers.supplier_list, name="supplier-list"),
    path("suppliers/new/", suppliers.supplier_edit, name="supplier-create"),
    path("suppliers/<int:pk>/", suppliers.supplier_detail, name="supplier-detail"),
    path("suppliers/<int:pk>/edit/", suppliers.supplier_edit, name="supplier-edit"),
    path("suppliers/<int:pk>/prices/", suppliers.supplier_item_save, name="supplier-item-save"),
    path("suppliers/<int:pk>/price-list/", suppliers.price_list_import, name="price-list-import"),
]
