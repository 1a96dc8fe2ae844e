"""Post what happened before finance listened: shipments, refunds, receipts and adjustments
that have no posting yet are replayed through the same posting rules, with the payload
their event carries. Idempotent (one posting per event and document), so it can run again.
"""

from django.db import transaction
from django.db.models import Exists, OuterRef

from erp import events
from finance import posting_rules as rules
from finance.models import JournalEntry
from fulfillment.models import Shipment
from fulfillment.services.shipping.messages import SHIPMENT_CONFIRMED, event_payload
from inventory.models import InventoryAdjustment, MovementKind, StockLedgerEntry
from inventory.services.adjustments import ADJUSTMENT_POSTED
from inventory.services.movements import STOCK_RECEIVED
from returns.models import Refund, RefundState
from returns.services.refunds import REFUND_POSTED


def _unposted(queryset, event: str, kind: str):
    posted = JournalEntry.objects.filter(event=event, source_kind=kind, source_id=OuterRef("pk"))
    return queryset.filter(~Exists(posted)).order_by("pk")


def _replay(rule, name: str, payload: dict, actor_id, occurred_at) -> None:
    rule(events.DomainEvent(name, payload, actor_id=actor_id, occurred_at=occurred_at))


@transaction.atomic
def replay_unposted() -> dict[str, int]:
    """Post every document that should have posted and did not; returns counts by kind.
    Stock first (receipts put the value on the books before shipments take it off)."""
    done = {"stock_receipt": 0, "adjustment": 0, "shipment": 0, "refund": 0}
    receipts = _unposted(
        StockLedgerEntry.objects.filter(
            kind__in=[MovementKind.RECEIPT, MovementKind.RETURN_RECEIPT], quantity__gt=0
        ),
        STOCK_RECEIVED,
        "stock_receipt",
    )
    for entry in receipts.iterator():
        payload = {
            "ledger_entry_id": entry.pk,
            "kind": entry.kind,
            "reference": entry.reference,
            "sku_id": entry.sku_id,
            "location_id": entry.location_id,
            "status": entry.status,
            "quantity": entry.quantity,
        }
        _replay(
            rules.post_stock_receipt, STOCK_RECEIVED, payload, entry.actor_id, entry.occurred_at
        )
        done["stock_receipt"] += 1
    adjustments = _unposted(
        InventoryAdjustment.objects.filter(state=InventoryAdjustment.State.POSTED),
        ADJUSTMENT_POSTED,
        "adjustment",
    )
    for adjustment in adjustments.iterator():
        payload = {
            "adjustment_id": adjustment.pk,
            "reference": f"ADJ-{adjustment.pk}",
            "sku_id": adjustment.sku_id,
            "location_id": adjustment.location_id,
            "status": adjustment.status,
            "quantity": adjustment.quantity,
            "unit_value": str(adjustment.unit_cost),
            "reason_code": adjustment.reason_code,
            "write_off": adjustment.is_write_off,
        }
        _replay(
            rules.post_adjustment,
            ADJUSTMENT_POSTED,
            payload,
            adjustment.requested_by_id,
            adjustment.posted_at,
        )
        done["adjustment"] += 1
    shipments = _unposted(
        Shipment.objects.filter(state=Shipment.State.SHIPPED).select_related("order", "carrier"),
        SHIPMENT_CONFIRMED,
        "shipment",
    )
    for shipment in shipments:
        payload = event_payload(shipment.order, shipment, [])
        payload["lines"] = [
            {
                "line_id": line.line_id,
                "sku_id": line.sku_id,
                "quantity": line.quantity,
                "lot_id": line.lot_id,
                "unit_price": str(line.line.unit_price),
                "dropship": bool(line.allocation and line.allocation.dropship),
            }
            for line in shipment.lines.select_related("line", "allocation")
        ]
        _replay(
            rules.post_shipment,
            SHIPMENT_CONFIRMED,
            payload,
            shipment.shipped_by_id,
            shipment.shipped_at,
        )
        done["shipment"] += 1
    refunds = _unposted(
        Refund.objects.filter(
            state__in=[RefundState.POSTED, RefundState.POSTED_ON_CHANNEL]
        ).select_related("rma", "channel"),
        REFUND_POSTED,
        "refund",
    )
    for refund in refunds:
        payload = {
            "refund_id": refund.pk,
            "refund_number": refund.number,
            "rma_id": refund.rma_id,
            "rma_number": refund.rma.number,
            "order_id": refund.order_id,
            "channel": refund.channel.code,
            "currency": refund.currency,
            "amount": str(refund.amount),
            "items_amount": str(refund.items_amount),
            "tax_amount": str(refund.tax_amount),
            "shipping_amount": str(refund.shipping_amount),
            "restocking_fee": str(refund.restocking_fee),
        }
        _replay(rules.post_refund, REFUND_POSTED, payload, refund.requested_by_id, refund.posted_at)
        done["refund"] += 1
    return done
