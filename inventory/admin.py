"""Read-only admin views of inventory for support staff; stock changes only through services."""

from django.contrib import admin

from erp.admin import ReadOnlyAdmin
from inventory.models import (
    AllocationRule,
    InventoryAdjustment,
    Lot,
    Reservation,
    StockBalance,
    StockLedgerEntry,
    Transfer,
)


@admin.register(StockLedgerEntry)
class StockLedgerEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "sku",
        "location",
        "status",
        "quantity",
        "kind",
        "reference",
        "actor",
        "occurred_at",
    ]
    list_filter = ["kind", "status"]
    list_select_related = ["sku", "location", "actor"]
    search_fields = ["sku__code", "reference"]


@admin.register(StockBalance)
class StockBalanceAdmin(ReadOnlyAdmin):
    list_display = ["sku", "location", "status", "on_hand", "reserved"]
    list_select_related = ["sku", "location"]
    search_fields = ["sku__code"]


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin):
    list_display = ["id", "sku", "location", "channel", "line_reference", "quantity", "state"]
    list_select_related = ["sku", "location", "channel"]


@admin.register(InventoryAdjustment)
class InventoryAdjustmentAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "sku",
        "location",
        "quantity",
        "reason_code",
        "value",
        "state",
        "requested_by",
    ]
    list_select_related = ["sku", "location", "requested_by"]


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ["number", "from_location", "to_location", "state", "shipped_at"]


@admin.register(Lot)
class LotAdmin(ReadOnlyAdmin):
    list_display = ["sku", "code", "expires_on"]


@admin.register(AllocationRule)
class AllocationRuleAdmin(ReadOnlyAdmin):
    list_display = ["channel", "sku", "protected", "buffer", "cap", "max_units", "threshold"]
