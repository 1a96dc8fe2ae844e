"""Checks every movement service applies before touching stock."""

from erp.errors import ValidationFailed
from erp.input_bounds import max_length
from inventory.models import SerialNumber

SERIAL_MAX_LENGTH = max_length(SerialNumber, "serial")


def check_quantity(quantity, *, field: str = "quantity") -> None:
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
        raise ValidationFailed(
            "Quantity must be a whole number above zero.", field=field, code="min_value"
        )


def check_sku_and_location(sku, location) -> None:
    if not sku.active:
        raise ValidationFailed(f"SKU {sku.code} is inactive.", field="sku", code="inactive")
    if not location.active:
        raise ValidationFailed(
            f"Location {location.code} is inactive.", field="location", code="inactive"
        )


def check_lot_and_serials(*, sku, lot, serials, quantity: int, receiving: bool) -> list[str]:
    """Lot required exactly for lot-tracked SKUs; on receipt, one unseen serial per unit."""
    if sku.lot_tracked and lot is None:
        raise ValidationFailed(
            f"{sku.code} is lot-tracked: give the lot.", field="lot", code="required"
        )
    if not sku.lot_tracked and lot is not None:
        raise ValidationFailed(f"{sku.code} is not lot-tracked.", field="lot", code="not_tracked")
    if lot is not None and lot.sku_id != sku.pk:
        raise ValidationFailed(
            f"Lot {lot.code} belongs to another SKU.", field="lot", code="wrong_sku"
        )
    if not receiving or not sku.serial_tracked:
        if serials:
            raise ValidationFailed(
                f"{sku.code} is not serial-tracked.", field="serials", code="not_tracked"
            )
        return []
    serials = [serial.strip() for serial in serials or [] if serial.strip()]
    if len(serials) != quantity or len(set(serials)) != len(serials):
        raise ValidationFailed(
            f"{sku.code} is serial-tracked: give {quantity} distinct serials.",
            field="serials",
            code="count",
        )
    too_long = [serial for serial in serials if len(serial) > SERIAL_MAX_LENGTH]
    if too_long:
        raise ValidationFailed(
            f"Serials are at most {SERIAL_MAX_LENGTH} characters: {too_long[0][:20]}… is longer.",
            field="serials",
            code="max_length",
        )
    in_stock = list(
        SerialNumber.objects.filter(
            sku=sku, serial__in=serials, state=SerialNumber.State.IN_STOCK
        ).values_list("serial", flat=True)
    )
    if in_stock:
        raise ValidationFailed(
            f"Serial {', '.join(sorted(in_stock))} is already in stock.",
            field="serials",
            code="serial_in_stock",
        )
    return serials
