"""Row locks on purchase orders and their lines, always in one order: the PO first, then
its lines by primary key, so two receivers scanning one PO queue instead of deadlocking
(and neither reads a received quantity the other is about to change)."""

from purchasing.models import PurchaseOrder, PurchaseOrderLine


def lock_purchase_order(purchase_order_id: int) -> PurchaseOrder | None:
    return (
        PurchaseOrder.objects.select_for_update(of=("self",))
        .select_related("supplier", "destination")
        .filter(pk=purchase_order_id)
        .first()
    )


def lock_purchase_order_lines(purchase_order_id: int) -> dict[int, PurchaseOrderLine]:
    """Every line of the PO, locked in pk order; by id."""
    lines = (
        PurchaseOrderLine.objects.select_for_update(of=("self",))
        .select_related("sku", "supplier_item")
        .filter(purchase_order_id=purchase_order_id)
        .order_by("pk")
    )
    return {line.pk: line for line in lines}


def lock_replenishment_settings():
    """The planning parameters' row: held for a whole replenishment run, so two runs (the
    nightly one and a planner's "run now") queue instead of superseding each other."""
    from purchasing.models import ReplenishmentSettings

    ReplenishmentSettings.objects.get_or_create(pk=1)
    return ReplenishmentSettings.objects.select_for_update().get(pk=1)


def lock_proposal(proposal_id: int):
    from purchasing.models import Proposal

    return (
        Proposal.objects.select_for_update(of=("self",))
        .select_related("supplier", "destination")
        .filter(pk=proposal_id)
        .first()
    )
