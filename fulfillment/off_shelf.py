"""Units that are still sellable on hand but no longer on the shelf: picked into a tote or
packed, waiting for the carrier. Cycle counts subtract them from what the shelf should hold
(inventory.services.counts.register_off_shelf_source)."""

from django.db.models import Sum
from django.db.models.functions import Least

from fulfillment.models import PickTask


def units_picked_not_shipped(location_id: int, sku_ids: list[int]) -> dict[int, int]:
    """Per SKU at `location_id`: units picked whose allocation has not shipped yet (an
    allocation shrinks by what ships, so a part-shipped pick counts only what is left)."""
    rows = (
        PickTask.objects.filter(
            location_id=location_id,
            sku_id__in=sku_ids,
            quantity_picked__gt=0,
            allocation__active=True,
        )
        .exclude(state=PickTask.State.CANCELLED)
        .values("sku_id")
        .annotate(units=Sum(Least("quantity_picked", "allocation__quantity")))
        .order_by()
    )
    return {row["sku_id"]: row["units"] or 0 for row in rows}
