"""Reading the journal in tests: the lines of the entry a document posted, by account role."""

from decimal import Decimal

from erp import events
from finance.models import JournalEntry
from fulfillment.models import Shipment
from fulfillment.services.shipping.messages import SHIPMENT_CONFIRMED


def posted(source_kind: str, source_id: int) -> JournalEntry:
    return JournalEntry.objects.get(source_kind=source_kind, source_id=source_id)


def lines_by_role(entry: JournalEntry) -> list[tuple]:
    """(role, channel code or "", Dr/Cr, amount, sku code or "") sorted, one per line."""
    rows = entry.lines.select_related("account__channel", "sku").order_by("id")
    result = []
    for line in rows:
        side, amount = ("Dr", line.debit) if line.debit else ("Cr", line.credit)
        channel = line.account.channel.code if line.account.channel else ""
        result.append((line.account.role, channel, side, amount, line.sku.code if line.sku else ""))
    return sorted(result)


def d(value) -> Decimal:
    return Decimal(value)


def shipment_event(order, *, cost="6.50", dropship=False, shipment=None) -> events.DomainEvent:
    """What fulfillment publishes when `order`'s (factory-built) shipment is confirmed."""
    shipment = shipment or Shipment.objects.get(order=order)
    shipment.cost = Decimal(cost) if cost else None
    return events.DomainEvent(
        SHIPMENT_CONFIRMED,
        {
            "shipment_id": shipment.pk,
            "shipment": shipment.number,
            "source": "warehouse",
            "order_id": order.pk,
            "channel_id": order.channel_id,
            "location_id": shipment.location_id,
            "carrier": "UPS",
            "cost": cost,
            "currency": order.currency,
            "lines": [
                {
                    "line_id": line.line.pk,
                    "sku_id": line.sku_id,
                    "quantity": line.quantity,
                    "lot_id": None,
                    "unit_price": str(line.line.unit_price),
                    "dropship": dropship,
                }
                for line in shipment.lines.select_related("line")
            ],
        },
        actor_id=None,
    )
