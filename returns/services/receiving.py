"""Receipt at the dock: returned units enter `inspection` at the receiving node.

Every unit goes through inventory's `receive_stock` (ledger kind return_receipt, reference
= the RMA number). A serial that is not the one expected, or never shipped on the order,
and items that are not on the RMA at all are received too, and flagged as discrepancies
for customer service to look at.
"""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from erp.errors import Conflict, NotFound, ValidationFailed
from erp.models import Sku
from erp.roles import require_permission
from inventory.models import Lot, MovementKind, StockStatus
from inventory.services.movements import receive_stock
from inventory.services.validation import check_quantity
from returns import selectors
from returns.models import Discrepancy, ReceivedItem, ReturnReceipt, RmaLine
from returns.services import states
from returns.services.locking import lock_rma


@dataclass
class _Arrival:
    """Units of one SKU (and lot) to book in, and the received-item rows they become."""

    sku: Sku
    quantity: int
    lot: Lot | None
    serials: list[str]
    rma_line: RmaLine | None = None
    note: str = ""
    discrepancy: str = Discrepancy.NONE
    serial_discrepancies: dict[str, str] = field(default_factory=dict)


@transaction.atomic
def receive_return(
    *,
    rma_id: int,
    location,
    lines: list[dict] = (),
    unexpected: list[dict] = (),
    actor,
    note: str = "",
) -> ReturnReceipt:
    """Receive returned units of an RMA into `inspection` at `location`.

    `lines`: [{rma_line_id, quantity, serials, lot}] (lot by code; defaults to the lot
    expected on the line). A line takes at most what is still outstanding on it; extra
    units are recorded as `unexpected`: [{sku, quantity, note, serials, lot}] (sku by code).
    """
    require_permission(actor, "returns.receive_return", action="receive returns")
    if not lines and not unexpected:
        raise ValidationFailed("Scan at least one unit.", field="lines", code="required")
    rma = lock_rma(rma_id)
    if rma.state not in selectors.RECEIVABLE_RMA_STATES:
        raise Conflict(
            f"{rma.number} is {rma.get_state_display().lower()}; it takes no more receipts.",
            field="state",
            code="not_receivable",
        )
    rma_lines = {
        line.pk: line
        for line in rma.lines.select_related("sku", "lot", "reason", "order_line").order_by("pk")
    }
    shipped = selectors.shipped_units([line.order_line_id for line in rma_lines.values()])
    arrivals = _line_arrivals(lines, rma_lines, shipped) + _unexpected_arrivals(unexpected)
    now = timezone.now()
    receipt = ReturnReceipt.objects.create(
        rma=rma, location=location, received_by=actor, received_at=now, note=note[:500]
    )
    for arrival in arrivals:
        _book_in(arrival, rma=rma, receipt=receipt, location=location, actor=actor)
    states.advance(rma, actor=actor)
    return receipt


def _line_arrivals(lines, rma_lines: dict[int, RmaLine], shipped) -> list[_Arrival]:
    arrivals, taken = [], {}
    for index, data in enumerate(lines):
        where = f"lines[{index}]"
        line = rma_lines.get(data.get("rma_line_id"))
        if line is None:
            raise ValidationFailed(
                "That line is not on this RMA; receive the item as unexpected.",
                field=f"{where}.rma_line_id",
                code="not_on_rma",
            )
        quantity = data.get("quantity")
        check_quantity(quantity, field=f"{where}.quantity")
        outstanding = line.outstanding - taken.get(line.pk, 0)
        if quantity > outstanding:
            raise ValidationFailed(
                f"{line.sku.code}: {outstanding} still expected on this line, {quantity} scanned. "
                "Receive the extra units as unexpected.",
                field=f"{where}.quantity",
                code="more_than_authorized",
            )
        taken[line.pk] = taken.get(line.pk, 0) + quantity
        arrival = _Arrival(
            sku=line.sku,
            quantity=quantity,
            lot=_received_lot(line.sku, data.get("lot"), line.lot, f"{where}.lot"),
            serials=_received_serials(line.sku, data.get("serials"), quantity, f"{where}.serials"),
            rma_line=line,
            note=str(data.get("note", ""))[:500],
        )
        if line.lot and arrival.lot and arrival.lot.pk != line.lot_id:
            arrival.discrepancy = Discrepancy.LOT_MISMATCH
        units = shipped.get(line.order_line_id)
        for serial in arrival.serials:
            if units is None or serial not in units.serials:
                arrival.serial_discrepancies[serial] = Discrepancy.SERIAL_NOT_SHIPPED
            elif line.serials and serial not in line.serials:
                arrival.serial_discrepancies[serial] = Discrepancy.SERIAL_NOT_EXPECTED
        arrivals.append(arrival)
    return arrivals


def _unexpected_arrivals(unexpected) -> list[_Arrival]:
    arrivals = []
    codes = {str(data.get("sku", "")) for data in unexpected}
    skus = {sku.code: sku for sku in Sku.objects.filter(code__in=codes)}
    for index, data in enumerate(unexpected):
        where = f"unexpected[{index}]"
        sku = skus.get(str(data.get("sku", "")))
        if sku is None:
            raise ValidationFailed(
                f"No SKU {data.get('sku')!r}.", field=f"{where}.sku", code="does_not_exist"
            )
        quantity = data.get("quantity")
        check_quantity(quantity, field=f"{where}.quantity")
        arrivals.append(
            _Arrival(
                sku=sku,
                quantity=quantity,
                lot=_received_lot(sku, data.get("lot"), None, f"{where}.lot"),
                serials=_received_serials(sku, data.get("serials"), quantity, f"{where}.serials"),
                note=str(data.get("note", ""))[:500],
                discrepancy=Discrepancy.UNEXPECTED_ITEM,
            )
        )
    return arrivals


def _received_lot(sku: Sku, code, expected: Lot | None, where: str) -> Lot | None:
    if not code:
        if sku.lot_tracked and expected is None:
            raise ValidationFailed(
                f"{sku.code} is lot-tracked: scan the lot.", field=where, code="required"
            )
        return expected
    if not sku.lot_tracked:
        raise ValidationFailed(f"{sku.code} is not lot-tracked.", field=where, code="not_tracked")
    lot = Lot.objects.filter(sku=sku, code=str(code)).first()
    if lot is None:
        raise ValidationFailed(
            f"No lot {code} of {sku.code} ever existed here.", field=where, code="does_not_exist"
        )
    return lot


def _received_serials(sku: Sku, serials, quantity: int, where: str) -> list[str]:
    serials = [str(serial).strip() for serial in serials or [] if str(serial).strip()]
    if not sku.serial_tracked:
        if serials:
            raise ValidationFailed(
                f"{sku.code} is not serial-tracked.", field=where, code="not_tracked"
            )
        return []
    if len(serials) != quantity or len(set(serials)) != len(serials):
        raise ValidationFailed(
            f"{sku.code} is serial-tracked: scan {quantity} distinct serials.",
            field=where,
            code="count",
        )
    return serials


def _book_in(arrival: _Arrival, *, rma, receipt, location, actor) -> None:
    reason = (
        f"return {arrival.rma_line.reason.code}" if arrival.rma_line else "return: unexpected item"
    )
    receive_stock(
        sku=arrival.sku,
        location=location,
        quantity=arrival.quantity,
        actor=actor,
        status=StockStatus.INSPECTION,
        lot=arrival.lot,
        serials=arrival.serials or None,
        reference=rma.number,
        reason=reason,
        kind=MovementKind.RETURN_RECEIPT,
    )
    common = {
        "receipt": receipt,
        "rma": rma,
        "rma_line": arrival.rma_line,
        "sku": arrival.sku,
        "location": location,
        "lot": arrival.lot,
        "received_at": receipt.received_at,
        "note": arrival.note,
    }
    if arrival.serials:
        items = [
            ReceivedItem(
                **common,
                serial=serial,
                quantity=1,
                discrepancy=arrival.serial_discrepancies.get(serial, arrival.discrepancy),
            )
            for serial in arrival.serials
        ]
    else:
        items = [ReceivedItem(**common, quantity=arrival.quantity, discrepancy=arrival.discrepancy)]
    ReceivedItem.objects.bulk_create(items)
    if arrival.rma_line is not None:
        arrival.rma_line.quantity_received += arrival.quantity
        arrival.rma_line.save(update_fields=["quantity_received"])


@transaction.atomic
def resolve_discrepancy(*, item_id: int, actor, resolution: str) -> ReceivedItem:
    """Customer service (or the dock) settles a flagged unit: what was found and done."""
    require_permission(actor, "returns.change_receiveditem", action="resolve return discrepancies")
    if not resolution.strip():
        raise ValidationFailed("Say how it was resolved.", field="resolution", code="required")
    item = ReceivedItem.objects.select_for_update().filter(pk=item_id).first()
    if item is None:
        raise NotFound("No such received item.", field="item")
    if not item.discrepancy:
        raise Conflict("This unit was received as expected.", field="discrepancy", code="none")
    if item.discrepancy_resolved_at:
        raise Conflict(
            "This discrepancy is already resolved.", field="discrepancy", code="resolved"
        )
    item.discrepancy_resolved_at = timezone.now()
    item.discrepancy_resolved_by = actor
    item.discrepancy_resolution = resolution.strip()[:500]
    item.save(
        update_fields=[
            "discrepancy_resolved_at",
            "discrepancy_resolved_by",
            "discrepancy_resolution",
        ]
    )
    return item
