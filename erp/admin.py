"""Django admin for support staff: read-mostly. Business writes go through the back office
and the API, which call the services; only integration endpoints are configured here."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from erp.models import (
    ApprovalPolicy,
    ApprovalRequest,
    Channel,
    ChannelListing,
    Endpoint,
    IdempotencyRecord,
    Location,
    OutboxMessage,
    Sku,
)


class ReadOnlyAdmin(SimpleHistoryAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Sku)
class SkuAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "barcode", "product_family", "unit_cost", "active"]
    search_fields = ["code", "name", "barcode"]
    list_filter = ["active", "product_family", "lot_tracked", "serial_tracked"]


@admin.register(Location)
class LocationAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "kind", "region", "can_ship", "active"]
    list_filter = ["kind", "active"]


@admin.register(Channel)
class ChannelAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "kind", "currency", "ship_by_sla_hours", "active"]


@admin.register(ChannelListing)
class ChannelListingAdmin(ReadOnlyAdmin):
    list_display = ["channel", "channel_sku", "sku", "active"]
    list_select_related = ["channel", "sku"]
    search_fields = ["channel_sku", "sku__code"]


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    list_display = ["code", "kind", "url", "active"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["id", "topic", "endpoint", "state", "attempts", "next_attempt_at", "created_at"]
    list_filter = ["state", "topic"]
    search_fields = ["dedupe_key"]
    readonly_fields = [field.name for field in OutboxMessage._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(ApprovalPolicy)
class ApprovalPolicyAdmin(SimpleHistoryAdmin):
    list_display = ["kind", "label", "threshold", "permission", "active"]


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "summary", "amount", "state", "requested_by", "decided_by"]
    list_filter = ["state", "kind"]


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ["key", "user", "path", "status_code", "created_at"]
