"""Demo stock: receipts at the warehouses, rules, a pending write-off, a transfer in transit."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from erp import roles
from erp.models import Channel, Location, Sku
from inventory.models import AllocationRule, InventoryAdjustment, StockLedgerEntry, Transfer
from inventory.services.adjustments import request_adjustment
from inventory.services.lots import register_lot
from inventory.services.movements import receive_stock
from inventory.services.rules import create_allocation_rule, set_safety_stock
from inventory.services.transfers import create_transfer

WAREHOUSES = ["WH-EAST", "WH-WEST", "WH-CENT"]


def seed_inventory(users) -> str:
    if StockLedgerEntry.objects.exists():
        return "already stocked"
    manager, warehouse = users[roles.MANAGER], users[roles.WAREHOUSE]
    nodes = list(Location.objects.filter(code__in=WAREHOUSES).order_by("code"))
    store = Location.objects.filter(code="ST-NYC").first()
    today = timezone.localdate()
    skus = list(Sku.objects.filter(active=True).order_by("code"))
    for index, sku in enumerate(skus):
        for offset, node in enumerate(nodes):
            quantity = (index * 7 + offset * 11) % 30
            if not quantity:
                continue
            lot = None
            if sku.lot_tracked:
                expires = (
                    today + timedelta(days=20 + (index * 13 + offset) % 300)
                    if sku.expiry_tracked
                    else None
                )
                lot = register_lot(
                    sku=sku, code=f"L{index:04d}{offset}", expires_on=expires, actor=manager
                )
            serials = (
                [f"{sku.code}-SN{offset}{n:03d}" for n in range(quantity)]
                if sku.serial_tracked
                else None
            )
            receive_stock(
                sku=sku,
                location=node,
                quantity=quantity,
                actor=warehouse,
                lot=lot,
                serials=serials,
                reference="DEMO-OPENING",
                reason="opening balance",
            )
        if store and index < 40 and not (sku.lot_tracked or sku.serial_tracked):
            receive_stock(
                sku=sku,
                location=store,
                quantity=4,
                actor=warehouse,
                reference="DEMO-OPENING",
                reason="store shelf",
            )
    for sku in skus[:25]:
        set_safety_stock(sku=sku, location=nodes[0], quantity=2, actor=manager)
    rules = {
        "AMZ-US": {"buffer": 2, "cap": Decimal("0.9")},
        "EBAY-US": {"buffer": 1, "threshold": 3},
        "B2B": {"protected": 5},
        "WMT": {"max_units": 50},
    }
    for code, values in rules.items():
        channel = Channel.objects.filter(code=code).first()
        if channel and not AllocationRule.objects.filter(channel=channel, sku=None).exists():
            create_allocation_rule(actor=manager, data={"channel": channel, **values})
    plain = [sku for sku in skus if not (sku.lot_tracked or sku.serial_tracked)]
    dear = max(plain[:60], key=lambda sku: sku.unit_cost)
    if not InventoryAdjustment.objects.exists():
        request_adjustment(
            sku=dear,
            location=nodes[1],
            quantity=-2,
            reason_code="damage",
            actor=warehouse,
            note="pallet dropped at the dock",
        )
    if not Transfer.objects.exists():
        create_transfer(
            from_location=nodes[0],
            to_location=nodes[2],
            actor=warehouse,
            reference="DEMO",
            lines=[{"sku": sku, "quantity": 2} for sku in plain[1:6]],
        )
    return f"{StockLedgerEntry.objects.count()} ledger entries"
