"""Read-only admin views of returns for support staff; changes go through the services
(policies and reasons through save_return_policy / save_return_reason)."""

from django.contrib import admin

from erp.admin import ReadOnlyAdmin
from returns.models import Refund, ReturnPolicy, ReturnReason, Rma, UnmatchedChannelReturn


@admin.register(ReturnPolicy)
class ReturnPolicyAdmin(ReadOnlyAdmin):
    list_display = [
        "channel",
        "product_family",
        "window_days",
        "return_shipping_paid_by",
        "restocking_fee_percent",
        "refund_timing",
        "never_restock",
        "always_inspect_serials",
    ]
    list_select_related = ["channel"]


@admin.register(ReturnReason)
class ReturnReasonAdmin(ReadOnlyAdmin):
    list_display = ["code", "label", "active", "counts_as_damage", "our_fault"]


@admin.register(Rma)
class RmaAdmin(ReadOnlyAdmin):
    list_display = ["number", "channel", "order", "state", "source", "expected_by", "authorized_at"]
    list_filter = ["state", "source"]
    list_select_related = ["channel", "order__channel"]
    search_fields = ["number", "order__external_id", "external_reference", "return_label_reference"]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["number", "rma", "channel", "state", "amount", "currency", "posted_at"]
    list_filter = ["state"]
    list_select_related = ["rma", "channel"]
    search_fields = ["number", "rma__number", "external_reference"]


@admin.register(UnmatchedChannelReturn)
class UnmatchedChannelReturnAdmin(ReadOnlyAdmin):
    list_display = [
        "reference",
        "channel",
        "source_format",
        "order_external_id",
        "first_seen_at",
        "times_seen",
        "resolved_at",
    ]
    list_filter = ["source_format"]
    list_select_related = ["channel"]
    search_fields = ["reference", "order_external_id"]
