"""Replenishment: demand from the ledger's shipments, reorder points and proposals.

Set-based: one aggregate query reads every SKU × node's shipments over the window in
weekly buckets, three more read positions (balances, open POs) and supplier terms for
all of them; the rest is arithmetic over those rows in Python. Per SKU × node:

- velocity v = weighted mean of the bucket totals ÷ bucket days (recent buckets weigh
  more: weights rise linearly from 1 for the oldest to `recent_weight` for the newest);
- σ = sample standard deviation of the bucket totals ÷ √bucket days (daily σ);
- lead time L from the SKU's supplier item (the preferred one, else the quickest);
- safety stock = ⌈z × σ × √L⌉, reorder point = ⌈v × L + safety stock⌉,
  order-up-to = ⌈v × (L + review period) + safety stock⌉;
- position = sellable on hand − reserved + open PO units not yet received + in transit;
- at or below the reorder point: order order-up-to − position, raised to the MOQ and
  rounded up to the pack multiple.

Each run supersedes the open proposals of the one before; the planner edits, drops or
accepts lines, and accepting creates a draft PO through the purchase-order service (all
of its validation applies).
"""

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import ExpressionWrapper, F, FloatField, Q, Sum, Value
from django.db.models.functions import Cast, Greatest, Sqrt
from django.utils import timezone

from erp import fastsql
from erp.errors import Conflict, NotFound, ValidationFailed
from erp.models import Location
from erp.roles import require_permission
from inventory.models import MovementKind, StockBalance, StockLedgerEntry, StockStatus
from purchasing.locking import lock_proposal, lock_replenishment_settings
from purchasing.models import (
    Proposal,
    ProposalLine,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderState,
    ReplenishmentRun,
    ReplenishmentSettings,
    SupplierItem,
)
from purchasing.services import purchase_orders

# POs whose units are still to come (a draft counts: it is what the planner accepted).
ON_ORDER_STATES = (
    PurchaseOrderState.DRAFT,
    PurchaseOrderState.SUBMITTED,
    PurchaseOrderState.APPROVED,
    PurchaseOrderState.SENT,
    PurchaseOrderState.PARTIALLY_RECEIVED,
)


@dataclass(frozen=True)
class Parameters:
    window_days: int
    service_level_z: float
    review_period_days: int
    recent_weight: float

    @classmethod
    def of(cls, settings: ReplenishmentSettings) -> "Parameters":
        return cls(
            window_days=settings.window_days,
            service_level_z=float(settings.service_level_z),
            review_period_days=settings.review_period_days,
            recent_weight=float(settings.recent_weight),
        )


@dataclass(frozen=True)
class Demand:
    velocity: float  # units per day, weighted
    sigma: float  # σ of daily demand


@dataclass(frozen=True)
class Plan:
    """One SKU × node's figures and, when it should order, the quantity."""

    sku_id: int
    location_id: int
    velocity: float
    sigma: float
    lead_time_days: int
    review_period_days: int
    on_hand: int
    on_order: int
    in_transit: int
    safety_stock: int
    reorder_point: int
    order_up_to: int
    raw_quantity: int
    quantity: int
    reason: str

    @property
    def position(self) -> int:
        return self.on_hand + self.on_order + self.in_transit

    @property
    def cover_days(self) -> float:
        return self.position / self.velocity if self.velocity > 0 else 0.0


# --- reads (a handful of aggregate queries for every SKU × node) --------------------------


def _buckets(params: Parameters) -> int:
    return max(1, round(params.window_days / 7))


def _weights(count: int, params: Parameters) -> list[float]:
    """Linear weights, oldest bucket 1, newest `recent_weight`."""
    if count == 1:
        return [1.0]
    step = (params.recent_weight - 1) / (count - 1)
    return [1 + step * index for index in range(count)]


def demand(*, as_of: datetime, params: Parameters) -> list[tuple[int, int, float, float]]:
    """(sku, node, velocity, σ) for every SKU × node that shipped in the window, in one
    aggregate query: the window's shipments summed into buckets (FILTER), then the
    weighted velocity and the daily σ of the bucket totals computed over those sums.

    velocity = Σ wᵢ·bᵢ ÷ Σ wᵢ ÷ bucket days; σ = √(Σ (bᵢ − mean)² ÷ (n − 1)) ÷ √bucket days.
    """
    count = _buckets(params)
    days = params.window_days / count
    span = timedelta(days=days)
    start = as_of - span * count
    edges = [start + span * index for index in range(count + 1)]
    # Shipments leave stock: their quantities are negative.
    sums = {
        f"b{index}": Cast(
            -Sum(
                "quantity",
                filter=Q(occurred_at__gte=edges[index], occurred_at__lt=edges[index + 1]),
                default=0,
            ),
            FloatField(),
        )
        for index in range(count)
    }
    weights = _weights(count, params)
    weighted = sum(
        (Value(weight) * F(name) for weight, name in zip(weights, sums, strict=True)), Value(0.0)
    )
    velocity = ExpressionWrapper(weighted / Value(sum(weights) * days), output_field=FloatField())
    if count == 1:
        sigma = Value(0.0, output_field=FloatField())
    else:
        mean = sum((F(name) for name in sums), Value(0.0)) / Value(float(count))
        squares = sum(((F(name) - mean) * (F(name) - mean) for name in sums), Value(0.0))
        sigma = ExpressionWrapper(
            Sqrt(Greatest(squares / Value(float(count - 1)), Value(0.0))) / Value(math.sqrt(days)),
            output_field=FloatField(),
        )
    return list(
        StockLedgerEntry.objects.filter(
            kind=MovementKind.SHIPMENT, occurred_at__gte=start, occurred_at__lt=as_of
        )
        .values("sku_id", "location_id")
        .annotate(**sums)
        .annotate(velocity=velocity, sigma=sigma)
        .values_list("sku_id", "location_id", "velocity", "sigma")
        .order_by()
    )


def stock_positions(location_ids) -> tuple[dict, dict]:
    """(free sellable units, in-transit units) per (sku, node) (one query)."""
    free, transit = {}, {}
    rows = StockBalance.objects.filter(
        location_id__in=location_ids,
        status__in=(StockStatus.SELLABLE, StockStatus.IN_TRANSIT),
    ).values_list("sku_id", "location_id", "status", "on_hand", "reserved")
    for sku_id, location_id, status, on_hand, reserved in rows:
        if status == StockStatus.SELLABLE:
            free[(sku_id, location_id)] = on_hand - reserved
        else:
            transit[(sku_id, location_id)] = on_hand
    return free, transit


def open_po_units() -> dict[tuple[int, int], int]:
    """Units ordered and not yet received per (sku, destination) on open standard POs."""
    rows = (
        PurchaseOrderLine.objects.filter(
            purchase_order__state__in=ON_ORDER_STATES,
            purchase_order__kind=PurchaseOrder.Kind.STANDARD,
        )
        .values("sku_id", "purchase_order__destination_id")
        .annotate(open=Sum(Greatest(F("quantity_ordered") - F("quantity_received"), Value(0))))
        .values_list("sku_id", "purchase_order__destination_id", "open")
        .order_by()
    )
    return {(sku_id, location_id): units for sku_id, location_id, units in rows}


def supplier_terms() -> dict[int, tuple]:
    """Per SKU the supplier item it is bought through: the preferred active one, else the
    quickest (then cheapest). Values: (item id, supplier id, lead time, moq, pack)."""
    rows = (
        SupplierItem.objects.filter(active=True, supplier__active=True, sku__active=True)
        .order_by("sku_id", "-preferred", "lead_time_days", "unit_cost", "id")
        .values_list("sku_id", "pk", "supplier_id", "lead_time_days", "moq", "pack_multiple")
    )
    terms = {}
    for sku_id, *rest in rows:
        terms.setdefault(sku_id, tuple(rest))
    return terms


def stocking_node_ids() -> list[int]:
    """Nodes we hold stock at (drop-ship suppliers' nodes are not replenished)."""
    return list(
        Location.objects.filter(active=True)
        .exclude(kind=Location.Kind.DROPSHIP)
        .values_list("pk", flat=True)
    )


# --- arithmetic ------------------------------------------------------------------------------


def reorder_figures(
    velocity: float,
    sigma: float,
    lead_time_days: int,
    moq: int,
    pack_multiple: int,
    position: int,
    z: float,
    review_period_days: int,
) -> tuple[int, int, int, int, int]:
    """(safety stock, reorder point, order-up-to, raw quantity, quantity to order) for one
    SKU × node: the rule, as plain arithmetic (it runs for every row of a run)."""
    safety = math.ceil(z * sigma * math.sqrt(lead_time_days) - 1e-9)
    reorder_point = math.ceil(velocity * lead_time_days + safety - 1e-9)
    order_up_to = math.ceil(velocity * (lead_time_days + review_period_days) + safety - 1e-9)
    raw = order_up_to - position
    if velocity <= 0 or position > reorder_point or raw <= 0:
        return safety, reorder_point, order_up_to, raw, 0
    quantity = raw if raw > moq else moq
    return safety, reorder_point, order_up_to, raw, -(-quantity // pack_multiple) * pack_multiple


def _reason(plan: "Plan", moq: int, pack_multiple: int) -> str:
    reason = (
        f"Position {plan.position} ≤ reorder point {plan.reorder_point} "
        f"({plan.velocity:.2f}/day × {plan.lead_time_days} days + safety {plan.safety_stock}): "
        f"order up to {plan.order_up_to} ({plan.lead_time_days}+{plan.review_period_days} "
        f"days) → {plan.raw_quantity}"
    )
    if plan.raw_quantity < moq:
        reason += f", raised to the MOQ {moq}"
    if plan.quantity != max(plan.raw_quantity, moq):
        reason += f", rounded up to packs of {pack_multiple}"
    return reason + f" = {plan.quantity}."


def plan_quantity(
    *,
    demand: Demand,
    lead_time_days: int,
    moq: int,
    pack_multiple: int,
    on_hand: int,
    on_order: int,
    in_transit: int,
    params: Parameters,
    sku_id: int = 0,
    location_id: int = 0,
) -> Plan:
    """The reorder figures for one SKU × node, explained (quantity 0: no order)."""
    safety, reorder_point, order_up_to, raw, quantity = reorder_figures(
        demand.velocity,
        demand.sigma,
        lead_time_days,
        moq,
        pack_multiple,
        on_hand + on_order + in_transit,
        params.service_level_z,
        params.review_period_days,
    )
    plan = Plan(
        sku_id=sku_id,
        location_id=location_id,
        velocity=demand.velocity,
        sigma=demand.sigma,
        lead_time_days=lead_time_days,
        review_period_days=params.review_period_days,
        on_hand=on_hand,
        on_order=on_order,
        in_transit=in_transit,
        safety_stock=safety,
        reorder_point=reorder_point,
        order_up_to=order_up_to,
        raw_quantity=raw,
        quantity=quantity,
        reason="",
    )
    if quantity:
        object.__setattr__(plan, "reason", _reason(plan, moq, pack_multiple))
    return plan


@dataclass
class Computation:
    plans: list[Plan]
    pairs: int
    without_supplier: int
    terms: dict


def compute(*, as_of: datetime, params: Parameters) -> Computation:
    """Every SKU × node that shipped in the window, planned; only those that should order
    are returned in `plans` (the loop is plain arithmetic over the rows read)."""
    nodes = set(stocking_node_ids())
    rows = demand(as_of=as_of, params=params)
    free, transit = stock_positions(nodes)
    on_order = open_po_units()
    terms = supplier_terms()
    z, review = params.service_level_z, params.review_period_days
    free_get, transit_get, order_get, terms_get = free.get, transit.get, on_order.get, terms.get
    plans, pairs, without_supplier = [], 0, 0
    for sku_id, location_id, velocity, sigma in rows:
        if location_id not in nodes:
            continue
        pairs += 1
        if velocity <= 0:
            continue
        key = (sku_id, location_id)
        on_hand, ordered, moving = free_get(key, 0), order_get(key, 0), transit_get(key, 0)
        term = terms_get(sku_id)
        if term is None:
            # Would it order (with a week's lead time)? Then the planner must find a supplier.
            if reorder_figures(velocity, sigma, 7, 1, 1, on_hand + ordered + moving, z, review)[4]:
                without_supplier += 1
            continue
        safety, reorder_point, order_up_to, raw, quantity = reorder_figures(
            velocity, sigma, term[2], term[3], term[4], on_hand + ordered + moving, z, review
        )
        if quantity:
            plans.append(
                plan_quantity(
                    demand=Demand(velocity, sigma),
                    lead_time_days=term[2],
                    moq=term[3],
                    pack_multiple=term[4],
                    on_hand=on_hand,
                    on_order=ordered,
                    in_transit=moving,
                    params=params,
                    sku_id=sku_id,
                    location_id=location_id,
                )
            )
    return Computation(plans=plans, pairs=pairs, without_supplier=without_supplier, terms=terms)


LINE_FIELDS = (
    "proposal_id",
    "sku_id",
    "supplier_item_id",
    "state",
    "velocity",
    "sigma",
    "lead_time_days",
    "review_period_days",
    "on_hand",
    "on_order",
    "in_transit",
    "position",
    "safety_stock",
    "reorder_point",
    "order_up_to",
    "cover_days",
    "raw_quantity",
    "suggested_quantity",
    "quantity",
    "reason",
)


def _dec(value: float, places: str) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal(places))


# --- the run -----------------------------------------------------------------------------------


@transaction.atomic
def run_replenishment(
    *, actor=None, trigger: str = ReplenishmentRun.Trigger.MANUAL, as_of: datetime | None = None
) -> ReplenishmentRun:
    """Compute every proposal now; the previous run's open proposals are superseded.
    Runs one at a time (the settings row is locked for the run)."""
    if actor is not None:
        require_permission(actor, "purchasing.run_replenishment", action="run replenishment")
    settings_row = lock_replenishment_settings()
    params = Parameters.of(settings_row)
    now = timezone.now()
    as_of = as_of or now
    run = ReplenishmentRun.objects.create(
        trigger=trigger,
        started_by=actor,
        started_at=now,
        window_days=params.window_days,
        service_level_z=settings_row.service_level_z,
        review_period_days=params.review_period_days,
        recent_weight=settings_row.recent_weight,
    )
    result = compute(as_of=as_of, params=params)
    # A superseded proposal's lines keep their state: the proposal says it is over.
    Proposal.objects.filter(state=Proposal.State.OPEN).update(
        state=Proposal.State.SUPERSEDED, decided_at=now
    )
    groups: dict[tuple[int, int], list[Plan]] = defaultdict(list)
    for plan in result.plans:
        groups[(result.terms[plan.sku_id][1], plan.location_id)].append(plan)
    proposals = Proposal.objects.bulk_create(
        [
            Proposal(run=run, supplier_id=supplier_id, destination_id=location_id)
            for supplier_id, location_id in groups
        ],
        batch_size=2000,
    )
    rows = (
        (
            proposal.pk,
            plan.sku_id,
            result.terms[plan.sku_id][0],
            ProposalLine.State.OPEN.value,
            _dec(plan.velocity, "0.001"),
            _dec(plan.sigma, "0.001"),
            plan.lead_time_days,
            plan.review_period_days,
            plan.on_hand,
            plan.on_order,
            plan.in_transit,
            plan.position,
            plan.safety_stock,
            plan.reorder_point,
            plan.order_up_to,
            _dec(min(plan.cover_days, 999_999.0), "0.1"),
            plan.raw_quantity,
            plan.quantity,
            plan.quantity,
            plan.reason[:300],
        )
        for proposal, plans in zip(proposals, groups.values(), strict=True)
        for plan in plans
    )
    lines = fastsql.copy_rows(ProposalLine, LINE_FIELDS, rows)
    run.pairs_evaluated = result.pairs
    run.lines_proposed = lines
    run.without_supplier = result.without_supplier
    run.finished_at = timezone.now()
    run.save(update_fields=["pairs_evaluated", "lines_proposed", "without_supplier", "finished_at"])
    return run


def update_settings(*, actor, **values) -> ReplenishmentSettings:
    """Managers tune the window, service level, review period and recency weight."""
    require_permission(
        actor, "purchasing.change_replenishmentsettings", action="change replenishment settings"
    )
    with transaction.atomic():
        row = lock_replenishment_settings()
        for name, value in values.items():
            if value is not None:
                setattr(row, name, value)
        try:
            row.full_clean()
        except DjangoValidationError as error:
            raise ValidationFailed.from_django(error) from None
        row._history_user = actor
        row.save()
    return row


# --- the planner's review ------------------------------------------------------------------


def _open_proposal(proposal_id: int) -> Proposal:
    proposal = lock_proposal(proposal_id)
    if proposal is None:
        raise NotFound("No such proposal.")
    if proposal.state != Proposal.State.OPEN:
        raise Conflict(
            f"Proposal {proposal.pk} is {proposal.get_state_display().lower()}: only open "
            "proposals can be changed.",
            field="state",
            code="not_open",
        )
    return proposal


def _open_line(proposal: Proposal, line_id: int) -> ProposalLine:
    line = (
        ProposalLine.objects.select_related("sku", "supplier_item")
        .filter(pk=line_id, proposal=proposal)
        .first()
    )
    if line is None:
        raise NotFound("No such line on this proposal.")
    if line.state != ProposalLine.State.OPEN:
        raise Conflict("This line was dropped.", field="state", code="not_open")
    return line


@transaction.atomic
def set_line_quantity(*, line: ProposalLine, quantity, actor) -> ProposalLine:
    """The planner orders another quantity (checked as a PO line would be: MOQ, pack)."""
    require_permission(actor, "purchasing.accept_proposal", action="edit proposals")
    proposal = _open_proposal(line.proposal_id)
    line = _open_line(proposal, line.pk)
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
        raise ValidationFailed("Quantity must be above zero.", field="quantity", code="min_value")
    try:
        purchase_orders.check_lines(
            supplier=proposal.supplier,
            lines=[purchase_orders.LineInput(sku=line.sku, quantity=quantity)],
        )
    except ValidationFailed as error:
        raise _as_quantity_error(error) from None
    line.quantity = quantity
    line.edited_by = actor
    line.save(update_fields=["quantity", "edited_by"])
    return line


def _as_quantity_error(error: ValidationFailed) -> ValidationFailed:
    first = error.errors[0] if getattr(error, "errors", None) else None
    if first is None:
        return error
    field = "quantity" if first.field.endswith("quantity") else "sku"
    return ValidationFailed(first.message, field=field, code=first.code)


@transaction.atomic
def drop_line(*, line: ProposalLine, actor) -> ProposalLine:
    """Leave this SKU out; a proposal whose lines are all dropped is dropped."""
    require_permission(actor, "purchasing.accept_proposal", action="edit proposals")
    proposal = _open_proposal(line.proposal_id)
    line = _open_line(proposal, line.pk)
    line.state = ProposalLine.State.DROPPED
    line.edited_by = actor
    line.save(update_fields=["state", "edited_by"])
    if not proposal.lines.filter(state=ProposalLine.State.OPEN).exists():
        _decide(proposal, Proposal.State.DROPPED, actor)
    return line


@transaction.atomic
def drop_proposal(*, proposal: Proposal, actor) -> Proposal:
    require_permission(actor, "purchasing.accept_proposal", action="drop proposals")
    proposal = _open_proposal(proposal.pk)
    proposal.lines.filter(state=ProposalLine.State.OPEN).update(state=ProposalLine.State.DROPPED)
    _decide(proposal, Proposal.State.DROPPED, actor)
    return proposal


def _decide(proposal: Proposal, state: str, actor) -> None:
    proposal.state = state
    proposal.decided_by = actor
    proposal.decided_at = timezone.now()
    proposal._history_user = actor
    proposal.save(update_fields=["state", "decided_by", "decided_at", "purchase_order"])


@transaction.atomic
def accept_proposal(*, proposal: Proposal, actor, exchange_rate=None) -> PurchaseOrder:
    """The open lines become one draft PO to the supplier for the node (the PO service
    validates it: active SKUs, supplier prices, MOQ and pack)."""
    require_permission(actor, "purchasing.accept_proposal", action="accept proposals")
    proposal = _open_proposal(proposal.pk)
    lines = list(
        proposal.lines.filter(state=ProposalLine.State.OPEN)
        .select_related("sku")
        .order_by("sku__code")
    )
    if not lines:
        raise ValidationFailed(
            "Every line was dropped: nothing to order.", field="lines", code="required"
        )
    purchase_order = purchase_orders.create_purchase_order(
        supplier=proposal.supplier,
        destination=proposal.destination,
        lines=[
            purchase_orders.LineInput(
                sku=line.sku, quantity=line.quantity, reference=f"proposal {proposal.pk}"
            )
            for line in lines
        ],
        actor=actor,
        exchange_rate=exchange_rate,
        reference=f"Replenishment proposal {proposal.pk}",
    )
    po_lines = {line.sku_id: line for line in purchase_order.lines.all()}
    for line in lines:
        line.state = ProposalLine.State.ACCEPTED
        line.purchase_order_line = po_lines[line.sku_id]
    ProposalLine.objects.bulk_update(lines, ["state", "purchase_order_line"])
    proposal.purchase_order = purchase_order
    _decide(proposal, Proposal.State.ACCEPTED, actor)
    return purchase_order
