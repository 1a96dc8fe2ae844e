"""Packing: which box, what went in it, what it weighs.

Cartonization is deliberately simple: the smallest active box (by volume) whose volume
takes the items' volume at a fill factor, whose inner dimensions take the largest item
and whose weight limit takes the items plus the box. The packer may choose another box;
both are recorded. Only units picked at the node and not packed yet can be packed; the
order is packed once nothing is left to pick and every picked unit is in a package.
"""

from dataclasses import dataclass, field

from django.db import transaction

from erp import fastsql
from erp.errors import Conflict, NotFound, ValidationFailed
from erp.models import Location
from erp.roles import require_permission
from fulfillment import locking
from fulfillment.models import Box, Package, PackageLine
from orders.models import OrderState
from orders.services import in_fulfillment
from orders.services.locking import lock_order

# Items fill at most this share of a box: the rest is void fill and the shape of things.
FILL_PERCENT = 80
PACKABLE_STATES = {OrderState.PICKING, OrderState.PACKED, OrderState.PARTIALLY_SHIPPED}


@dataclass
class BoxSuggestion:
    box: Box | None
    items_volume_mm3: int
    needed_volume_mm3: int
    items_weight_grams: int
    explanation: str
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (box code, why not)


def suggest_box(items, boxes=None) -> BoxSuggestion:
    """The smallest active box that fits `items` ((sku, quantity) pairs), and why.
    `boxes`: the active boxes, when the caller has read them already."""
    items = [(sku, quantity) for sku, quantity in items if quantity > 0]
    volume = sum(sku.length_mm * sku.width_mm * sku.height_mm * qty for sku, qty in items)
    weight = sum(sku.weight_grams * qty for sku, qty in items)
    needed = -(-volume * 100 // FILL_PERCENT)
    measured = [sorted((s.length_mm, s.width_mm, s.height_mm)) for s, _ in items]
    measured = [dims for dims in measured if all(dims)]
    unmeasured = sorted({sku.code for sku, _ in items if not all(_dims(sku))})
    rejected = []
    if boxes is None:
        boxes = active_boxes()
    boxes = sorted(boxes, key=lambda b: (b.volume_mm3, b.code))
    for box in boxes:
        inner = sorted((box.length_mm, box.width_mm, box.height_mm))
        reason = _why_not(box, inner, needed, weight, measured)
        if reason:
            rejected.append((box.code, reason))
            continue
        note = f" ({', '.join(unmeasured)} without dimensions: check by eye)" if unmeasured else ""
        return BoxSuggestion(
            box,
            volume,
            needed,
            weight,
            f"{box.code} is the smallest box that takes {volume / 1e6:.2f} l of items at "
            f"{FILL_PERCENT}% fill ({needed / 1e6:.2f} l) and {weight + box.tare_grams} g "
            f"with the box{note}.",
            rejected,
        )
    return BoxSuggestion(
        None,
        volume,
        needed,
        weight,
        "No box fits: split the items over several packages or use the item's own carton.",
        rejected,
    )


def _dims(sku) -> tuple[int, int, int]:
    return sku.length_mm, sku.width_mm, sku.height_mm


def _why_not(box: Box, inner, needed: int, weight: int, measured) -> str:
    if box.volume_mm3 < needed:
        return f"too small ({box.volume_mm3 / 1e6:.2f} l < {needed / 1e6:.2f} l)"
    if weight + box.tare_grams > box.max_weight_grams:
        return f"too heavy ({weight + box.tare_grams} g > {box.max_weight_grams} g)"
    for dims in measured:
        if any(side > limit for side, limit in zip(dims, inner, strict=True)):
            return f"an item ({'×'.join(map(str, dims))} mm) does not fit"
    return ""


@transaction.atomic
def pack_order(
    *,
    order_id: int,
    location_id: int,
    lines: dict,
    box_code: str | None,
    weight_grams: int,
    actor,
    dimensions: tuple[int, int, int] | None = None,
) -> Package:
    """Record a package of `lines` ({order line id: units}) packed at a node, in the box
    `box_code` (or, without a box, the given outer `dimensions` in mm), weighing
    `weight_grams`. Refused: more than was picked there and not packed yet, a box that
    cannot carry the weight, a cancelled order."""
    require_permission(actor, "fulfillment.add_package", action="pack orders")
    wanted = _parse_lines(lines)
    boxes = active_boxes()
    box = _box(box_code, boxes)
    dims = _package_dimensions(box, dimensions)
    _check_weight(weight_grams, box)
    order = lock_order(order_id)
    if order.state == OrderState.CANCELLED:
        raise Conflict(
            f"Order {order} was cancelled: do not pack it.", field="order", code="cancelled"
        )
    if order.state not in PACKABLE_STATES:
        raise Conflict(
            f"Order {order} is {order.get_state_display().lower()}: nothing is picked to pack.",
            field="order",
            code="not_picked",
        )
    [location] = fastsql.select(Location, "t.id = %s", [location_id]) or [None]
    if location is None:
        raise NotFound("No such location.", field="location_id")
    order_lines = {line.pk: line for line in locking.order_lines_with_skus(order.pk)}
    packable = packable_quantities(order, location_id)
    for line_id, quantity in wanted.items():
        if line_id not in order_lines:
            raise ValidationFailed(
                f"Line {line_id} is not on order {order}.",
                field=f"lines.{line_id}",
                code="not_on_order",
            )
        if quantity > packable.get(line_id, 0):
            raise ValidationFailed(
                f"Line {order_lines[line_id].line_number}: {packable.get(line_id, 0)} picked at "
                f"{location.code} and not packed yet; {quantity} cannot be packed.",
                field=f"lines.{line_id}",
                code="more_than_picked",
            )
    suggestion = suggest_box([(order_lines[pk].sku, qty) for pk, qty in wanted.items()], boxes)
    [package] = fastsql.insert(
        [
            Package(
                order=order,
                location=location,
                box=box,
                suggested_box=suggestion.box,
                length_mm=dims[0],
                width_mm=dims[1],
                height_mm=dims[2],
                weight_grams=weight_grams,
                packed_by=actor,
            )
        ]
    )
    fastsql.insert(
        [PackageLine(package=package, line_id=pk, quantity=qty) for pk, qty in wanted.items()],
        returning=False,
    )
    in_fulfillment.note_warehouse_event(
        order=order,
        kind="packed",
        message=f"Package {package.number}: {sum(wanted.values())} units in "
        f"{box.code if box else 'own carton'}, {weight_grams} g, at {location.code}.",
        actor=actor,
    )
    if order.state == OrderState.PICKING and _everything_packed(order):
        in_fulfillment.mark_packed(order=order, actor=actor, message="every picked unit packed")
    return package


def _parse_lines(lines) -> dict[int, int]:
    if not isinstance(lines, dict) or not lines:
        raise ValidationFailed("Choose the lines to pack.", field="lines", code="required")
    wanted = {}
    for key, quantity in lines.items():
        try:
            line_id = int(key)
        except (TypeError, ValueError):
            raise ValidationFailed(
                f"{key!r} is not an order line id.", field=f"lines.{key}", code="invalid"
            ) from None
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise ValidationFailed(
                "Pack a whole number of at least 1.", field=f"lines.{key}", code="min_value"
            )
        wanted[line_id] = wanted.get(line_id, 0) + quantity
    return wanted


def active_boxes() -> list[Box]:
    """The boxes in use (a handful: one statement, read once per package)."""
    return fastsql.select(Box, "t.active")


def _box(box_code: str | None, boxes) -> Box | None:
    if not box_code:
        return None
    box = next((box for box in boxes if box.code == box_code.strip()), None)
    if box is None:
        raise ValidationFailed(
            f"There is no box {box_code} in use.", field="box_code", code="unknown_box"
        )
    return box


def _package_dimensions(box: Box | None, dimensions) -> tuple[int, int, int]:
    if box:
        return box.length_mm, box.width_mm, box.height_mm
    valid = (
        isinstance(dimensions, (list, tuple))
        and len(dimensions) == 3
        and all(
            isinstance(side, int) and not isinstance(side, bool) and side > 0 for side in dimensions
        )
    )
    if not valid:
        raise ValidationFailed(
            "Choose a box, or give the package's length, width and height in mm.",
            field="box_code",
            code="required",
        )
    return tuple(dimensions)


def _check_weight(weight_grams, box: Box | None) -> None:
    if not isinstance(weight_grams, int) or isinstance(weight_grams, bool) or weight_grams < 1:
        raise ValidationFailed(
            "Weigh the package: whole grams, at least 1.", field="weight_grams", code="min_value"
        )
    if box and weight_grams > box.max_weight_grams:
        raise ValidationFailed(
            f"{weight_grams} g is more than {box.code} carries ({box.max_weight_grams} g).",
            field="weight_grams",
            code="too_heavy",
        )


def packable_quantities(order, location_id: int) -> dict[int, int]:
    """Per order line: units picked at the node and not in a package yet."""
    return {
        line_id: picked - packed
        for line_id, picked, packed in locking.picked_and_packed(order.pk, location_id)
    }


def _everything_packed(order) -> bool:
    """Nothing left to pick anywhere, and every picked unit is in a package."""
    unwaved, open_tasks, picked, packed = locking.packing_progress(order.pk)
    if unwaved or open_tasks:
        return False
    return picked == packed
