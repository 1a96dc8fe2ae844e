"""Which units a pick takes: lots first-expiring first, or the lot scanned (unexpired and
at the node, flagged off the suggestion); one scanned serial per unit of a serial-tracked
SKU. What a lot can still give is its sellable on-hand less what was picked from it and
has not shipped yet (stock leaves the balance at shipment). The lot balances and serials
stay locked, so two pickers cannot take the same last units."""

from datetime import date

from django.db.models import F, Sum
from django.utils import timezone

from erp.errors import ValidationFailed
from fulfillment.models import PickConfirmation, PickTask
from inventory.models import Lot, LotBalance, SerialNumber, StockStatus

T = PickTask.State


def confirmations_for(task, quantity, lot_code, serials, actor, scanned) -> list[PickConfirmation]:
    sku, serials = task.sku, [s.strip() for s in serials or () if s and s.strip()]
    if lot_code and not sku.lot_tracked:
        raise ValidationFailed(
            f"{sku.code} is not lot-tracked.", field="lot_code", code="not_tracked"
        )
    if serials and not sku.serial_tracked:
        raise ValidationFailed(
            f"{sku.code} is not serial-tracked.", field="serials", code="not_tracked"
        )
    made = {"task": task, "picked_by": actor, "scanned_barcode": scanned}
    if sku.serial_tracked:
        return [
            PickConfirmation(quantity=1, serial=serial, lot=lot, off_suggestion=off, **made)
            for serial, lot, off in _serials(task, quantity, serials, lot_code)
        ]
    if not sku.lot_tracked:
        return [PickConfirmation(quantity=quantity, **made)]
    lots = _pickable_lots(task)
    if lot_code:
        lot = _scanned_lot(task, lot_code, quantity, lots)
        off = lot.pk != lots[0][0].pk
        return [PickConfirmation(quantity=quantity, lot=lot, off_suggestion=off, **made)]
    return [PickConfirmation(quantity=take, lot=lot, **made) for lot, take in _fefo(lots, quantity)]


def _today() -> date:
    return timezone.localdate()


def _pickable_lots(task: PickTask) -> list[tuple[Lot, int]]:
    """Unexpired sellable lots at the node, first-expiring first (no expiry last), with
    what each can still give. The lot balances stay locked: two pickers cannot both take
    the last units of a lot."""
    balances = list(
        LotBalance.objects.select_for_update(of=("self",))
        .filter(sku_id=task.sku_id, location_id=task.location_id, status=StockStatus.SELLABLE)
        .select_related("lot")
        .order_by("pk")
    )
    held = dict(
        _unshipped_picks(task)
        .filter(lot__isnull=False)
        .values("lot_id")
        .annotate(held=Sum(F("quantity") - F("consumed")))
        .values_list("lot_id", "held")
    )
    today = _today()
    lots = [
        (balance.lot, balance.on_hand - held.get(balance.lot_id, 0))
        for balance in balances
        if not (balance.lot.expires_on and balance.lot.expires_on < today)
    ]
    lots = [(lot, free) for lot, free in lots if free > 0]
    return sorted(lots, key=lambda row: (row[0].expires_on or date.max, row[0].code))


def _unshipped_picks(task: PickTask):
    """Units of this SKU picked at this node and not shipped yet (cancelled picks went back)."""
    return PickConfirmation.objects.filter(
        task__sku_id=task.sku_id, task__location_id=task.location_id, consumed__lt=F("quantity")
    ).exclude(task__state=T.CANCELLED)


def _fefo(lots, quantity: int) -> list[tuple[Lot, int]]:
    plan, remaining = [], quantity
    for lot, free in lots:
        if remaining == 0:
            break
        take = min(free, remaining)
        plan.append((lot, take))
        remaining -= take
    if remaining:
        raise ValidationFailed(
            f"Only {quantity - remaining} units of unexpired lots are here: report a short pick.",
            field="quantity",
            code="insufficient_lot_stock",
        )
    return plan


def _scanned_lot(task, lot_code: str, quantity: int, lots) -> Lot:
    lot = Lot.objects.filter(sku_id=task.sku_id, code=lot_code.strip()).first()
    if lot is None:
        raise ValidationFailed(
            f"{lot_code} is not a lot of {task.sku.code}.", field="lot_code", code="unknown_lot"
        )
    if lot.expires_on and lot.expires_on < _today():
        raise ValidationFailed(
            f"Lot {lot.code} expired on {lot.expires_on}: it cannot be picked.",
            field="lot_code",
            code="lot_expired",
        )
    free = next((free for candidate, free in lots if candidate.pk == lot.pk), 0)
    if free < quantity:
        raise ValidationFailed(
            f"Only {free} of lot {lot.code} can be picked at {task.location.code}.",
            field="lot_code",
            code="lot_not_here",
        )
    return lot


def _serials(task, quantity: int, serials: list[str], lot_code):
    """(serial, lot, off the FEFO suggestion) per unit; each serial in sellable stock at the
    node and not picked for another order already."""
    sku = task.sku
    if len(serials) != quantity or len(set(serials)) != len(serials):
        raise ValidationFailed(
            f"{sku.code} is serial-tracked: scan {quantity} different serials.",
            field="serials",
            code="count",
        )
    records = {
        record.serial: record
        for record in SerialNumber.objects.select_for_update(of=("self",))
        .select_related("lot")
        .filter(sku=sku, serial__in=serials)
        .order_by("pk")
    }
    here = [
        serial
        for serial in serials
        if serial in records
        and records[serial].state == SerialNumber.State.IN_STOCK
        and records[serial].location_id == task.location_id
        and records[serial].status == StockStatus.SELLABLE
    ]
    missing = [serial for serial in serials if serial not in here]
    if missing:
        raise ValidationFailed(
            f"Serial {', '.join(missing)} is not in sellable stock at {task.location.code}.",
            field="serials",
            code="serial_not_here",
        )
    taken = list(_unshipped_picks(task).filter(serial__in=serials).values_list("serial", flat=True))
    if taken:
        raise ValidationFailed(
            f"Serial {', '.join(sorted(taken))} is already picked.",
            field="serials",
            code="serial_already_picked",
        )
    if not sku.lot_tracked:
        return [(serial, None, False) for serial in serials]
    return _serial_lots(task, serials, records, lot_code)


def _serial_lots(task, serials, records, lot_code):
    first = _pickable_lots(task)
    suggested = first[0][0].pk if first else None
    units = []
    for serial in serials:
        lot = records[serial].lot
        if lot_code and (lot is None or lot.code != lot_code.strip()):
            raise ValidationFailed(
                f"Serial {serial} is not from lot {lot_code}.", field="serials", code="wrong_lot"
            )
        if lot is not None and lot.expires_on and lot.expires_on < _today():
            raise ValidationFailed(
                f"Serial {serial} is from lot {lot.code}, expired on {lot.expires_on}.",
                field="serials",
                code="lot_expired",
            )
        units.append((serial, lot, bool(lot and lot.pk != suggested)))
    return units
