"""Authorizing returns: an RMA tied to the order lines that shipped, under the channel's
policy; and the two ways an RMA ends without every unit (close, cancel).
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Case, F, IntegerField, Sum, When
from django.utils import timezone

from erp.errors import Conflict, ValidationFailed
from erp.roles import require_permission
from erp.token_scope import require_channel_scope
from inventory.models import Lot
from orders.models import OrderLine
from returns import selectors
from returns.models import (
    LIVE_REFUND_STATES,
    ReturnReason,
    Rma,
    RmaLine,
    RmaState,
)
from returns.services import states
from returns.services.locking import lock_order, lock_rma, order_id_of_rma
from returns.services.policies import EffectivePolicy, policies_for


@dataclass
class _RequestedLine:
    index: int
    order_line: OrderLine
    quantity: int
    reason: ReturnReason
    lot: Lot | None
    serials: list[str]
    note: str

    def field(self, name: str) -> str:
        return f"lines[{self.index}].{name}"


@transaction.atomic(durable=True)
def create_rma(**values) -> Rma:
    """Authorize a return (back office, API): its own transaction; see create_rma_within."""
    return create_rma_within(**values)


# A savepoint on purpose: a channel return retries after an `outside_window` refusal.
@transaction.atomic
def create_rma_within(
    *,
    order_id: int,
    lines: list[dict],
    actor,
    source: str = Rma.Source.BACK_OFFICE,
    expected_by: date | datetime | None = None,
    return_label_reference: str = "",
    channel_returns_centre: str = "",
    external_reference: str = "",
    override_reason: str = "",
    note: str = "",
    external_refund: dict | None = None,
) -> Rma:
    """Authorize the return of shipped units of one order.

    Each line names an order line (`order_line_id`, or the channel's `external_line_id`),
    a `quantity`, a `reason` code, and optionally the `lot` and `serials` expected back.
    A line may return at most what shipped minus what other live RMAs already return;
    serials must have shipped on that order line; a return after the policy's window
    needs an override reason. The order row is locked, so two RMAs racing for the last
    returnable unit cannot both win.

    `channel_returns_centre` names the channel's own returns centre when the units went
    back there (Amazon FBA), not to our dock: such an RMA is not awaited at receipt.

    `external_refund` ({amount, reference, refunded_at}) records a refund the channel
    already made (marketplace-initiated returns): it is posted on the channel, nothing is
    sent back.
    """
    require_permission(actor, "returns.add_rma", action="authorize returns")
    if source not in Rma.Source.values:
        raise ValidationFailed(f"Unknown source {source!r}.", field="source", code="invalid_choice")
    if not lines:
        raise ValidationFailed("Name at least one order line.", field="lines", code="required")
    order = lock_order(order_id)
    require_channel_scope(actor, order.channel_id)
    external_reference = external_reference.strip()
    if (
        external_reference
        and Rma.objects.filter(
            channel=order.channel, external_reference=external_reference
        ).exists()
    ):
        raise Conflict(
            f"The channel's return {external_reference} is already recorded.",
            field="external_reference",
            code="already_exists",
        )
    requested = _requested_lines(order, lines)
    policies = policies_for(order.channel, {r.order_line.sku.product_family for r in requested})
    _check_quantities(requested)
    _check_serials_and_lots(requested)
    _check_window(order, requested, policies, override_reason)
    now = timezone.now()
    rma = Rma(
        number=uuid.uuid4().hex[:32],
        channel=order.channel,
        order=order,
        source=source,
        external_reference=external_reference,
        return_label_reference=return_label_reference.strip(),
        channel_returns_centre=channel_returns_centre.strip()[:64],
        expected_by=_expected_by(expected_by, now, requested, policies),
        override_reason=override_reason.strip(),
        note=note,
        created_by=actor,
        authorized_at=now,
        state_changed_at=now,
    )
    rma._history_user = actor
    rma.save()
    # The number comes from the primary key, which concurrent creators never share.
    rma.number = f"RMA-{rma.pk:06d}"
    rma._history_user = actor
    rma._change_reason = "authorized"
    rma.save(update_fields=["number"])
    RmaLine.objects.bulk_create(
        [
            RmaLine(
                rma=rma,
                order_line=r.order_line,
                sku=r.order_line.sku,
                quantity=r.quantity,
                lot=r.lot,
                serials=r.serials,
                reason=r.reason,
                note=r.note,
            )
            for r in requested
        ]
    )
    if external_refund is not None:
        from returns.services.refunds import post_channel_refund

        post_channel_refund(
            rma=rma, actor=actor, field_prefix="external_refund.", **external_refund
        )
    return rma


def _requested_lines(order, lines: list[dict]) -> list[_RequestedLine]:
    order_lines = list(OrderLine.objects.filter(order=order).select_related("sku"))
    by_id = {line.pk: line for line in order_lines}
    by_external = {line.external_line_id: line for line in order_lines}
    reasons = {
        reason.code: reason
        for reason in ReturnReason.objects.filter(
            code__in=[str(line.get("reason", "")) for line in lines]
        )
    }
    lot_codes = {str(line["lot"]) for line in lines if line.get("lot")}
    lots = {(lot.sku_id, lot.code): lot for lot in Lot.objects.filter(code__in=lot_codes)}
    requested, seen = [], set()
    for index, data in enumerate(lines):
        order_line = _order_line(data, index, by_id, by_external)
        if order_line.pk in seen:
            raise ValidationFailed(
                "Each order line appears once on an RMA.",
                field=f"lines[{index}].order_line_id",
                code="duplicate",
            )
        seen.add(order_line.pk)
        quantity = data.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            raise ValidationFailed(
                "Quantity must be a whole number above zero.",
                field=f"lines[{index}].quantity",
                code="min_value",
            )
        requested.append(
            _RequestedLine(
                index=index,
                order_line=order_line,
                quantity=quantity,
                reason=_reason(reasons, data.get("reason"), index),
                lot=_lot(lots, order_line, data.get("lot"), index),
                serials=_serials(order_line, data.get("serials") or [], quantity, index),
                note=str(data.get("note", ""))[:500],
            )
        )
    return requested


def _order_line(data: dict, index: int, by_id: dict, by_external: dict) -> OrderLine:
    if data.get("order_line_id") is not None:
        line = by_id.get(data["order_line_id"])
        field = "order_line_id"
    else:
        line = by_external.get(str(data.get("external_line_id", "")))
        field = "external_line_id"
    if line is None:
        raise ValidationFailed(
            "No such line on this order.", field=f"lines[{index}].{field}", code="not_on_order"
        )
    if line.sku_id is None:
        raise ValidationFailed(
            f"Line {line.line_number} has no SKU mapped; it cannot come back into stock.",
            field=f"lines[{index}].{field}",
            code="sku_not_mapped",
        )
    return line


def _reason(reasons: dict, code, index: int) -> ReturnReason:
    reason = reasons.get(str(code or ""))
    field = f"lines[{index}].reason"
    if reason is None:
        raise ValidationFailed("Choose a return reason.", field=field, code="does_not_exist")
    if not reason.active:
        raise ValidationFailed(
            f"Reason {reason.code} is no longer used.", field=field, code="inactive"
        )
    return reason


def _lot(lots: dict, order_line: OrderLine, code, index: int) -> Lot | None:
    if not code:
        return None
    sku = order_line.sku
    if not sku.lot_tracked:
        raise ValidationFailed(
            f"{sku.code} is not lot-tracked.", field=f"lines[{index}].lot", code="not_tracked"
        )
    lot = lots.get((sku.pk, str(code)))
    if lot is None:
        raise ValidationFailed(
            f"No lot {code} for {sku.code}.", field=f"lines[{index}].lot", code="does_not_exist"
        )
    return lot


def _serials(order_line: OrderLine, serials, quantity: int, index: int) -> list[str]:
    field = f"lines[{index}].serials"
    if not isinstance(serials, list | tuple):
        raise ValidationFailed("Serials are a list.", field=field, code="invalid")
    serials = [str(serial).strip() for serial in serials if str(serial).strip()]
    if serials and not order_line.sku.serial_tracked:
        raise ValidationFailed(
            f"{order_line.sku.code} is not serial-tracked.", field=field, code="not_tracked"
        )
    if len(set(serials)) != len(serials) or len(serials) > quantity:
        raise ValidationFailed(
            f"Give at most {quantity} distinct serials.", field=field, code="count"
        )
    return serials


def returned_units(order_line_ids: list[int]) -> dict[int, int]:
    """Units of these order lines that live RMAs already return (a closed RMA returns only
    what arrived; a cancelled one nothing): what a new RMA may not take again."""
    return dict(
        RmaLine.objects.filter(order_line_id__in=list(order_line_ids))
        .exclude(rma__state=RmaState.CANCELLED)
        .values("order_line")
        .annotate(
            units=Sum(
                Case(
                    When(rma__state=RmaState.CLOSED, then=F("quantity_received")),
                    default=F("quantity"),
                    output_field=IntegerField(),
                )
            )
        )
        .values_list("order_line", "units")
    )


def _check_quantities(requested: list[_RequestedLine]) -> None:
    """At most shipped minus what other live RMAs return."""
    returned = returned_units([r.order_line.pk for r in requested])
    for r in requested:
        line = r.order_line
        returnable = line.quantity_shipped - (returned.get(line.pk) or 0)
        if r.quantity > returnable:
            raise ValidationFailed(
                f"Line {line.line_number} ({line.sku.code}): {line.quantity_shipped} shipped, "
                f"{returned.get(line.pk) or 0} already returned; at most {max(returnable, 0)} "
                "can come back.",
                field=r.field("quantity"),
                code="more_than_shipped",
            )


def _check_serials_and_lots(requested: list[_RequestedLine]) -> None:
    shipped = selectors.shipped_units([r.order_line.pk for r in requested])
    live_serials = selectors.serials_on_live_rmas([r.order_line.pk for r in requested])
    for r in requested:
        units = shipped.get(r.order_line.pk)
        for serial in r.serials:
            if units is None or serial not in units.serials:
                raise ValidationFailed(
                    f"Serial {serial} was never shipped on this order line.",
                    field=r.field("serials"),
                    code="serial_not_shipped",
                )
            if serial in live_serials.get(r.order_line.pk, set()):
                raise ValidationFailed(
                    f"Serial {serial} is already on another open RMA.",
                    field=r.field("serials"),
                    code="serial_already_returned",
                )
        if r.lot and units is not None and units.lot_ids and r.lot.pk not in units.lot_ids:
            raise ValidationFailed(
                f"Lot {r.lot.code} was not shipped on this order line.",
                field=r.field("lot"),
                code="lot_not_shipped",
            )


def _check_window(order, requested, policies: dict[str, EffectivePolicy], override_reason) -> None:
    if override_reason.strip():
        return
    shipped_on = selectors.shipped_dates([r.order_line.pk for r in requested])
    today = timezone.localdate()
    fallback = order.shipped_at or order.placed_at
    for r in requested:
        policy = policies[r.order_line.sku.product_family or ""]
        shipped = shipped_on.get(r.order_line.pk) or fallback
        days = (today - timezone.localdate(shipped)).days
        if days > policy.window_days:
            raise ValidationFailed(
                f"Line {r.order_line.line_number} shipped {days} days ago; the return window "
                f"is {policy.window_days} days. Give an override reason to accept it anyway.",
                field="override_reason",
                code="outside_window",
            )


def _expected_by(value, now, requested, policies) -> datetime:
    if value is None:
        days = max(
            policies[r.order_line.sku.product_family or ""].receipt_expected_days for r in requested
        )
        return now + timedelta(days=days)
    if not isinstance(value, datetime):
        # A date means the end of that day where the warehouse works.
        value = timezone.make_aware(datetime.combine(value, time(23, 59, 59)))
    if value < now:
        raise ValidationFailed(
            "The expected receipt date is in the past.", field="expected_by", code="in_the_past"
        )
    return value


@transaction.atomic
def close_rma(*, rma_id: int, actor, note: str = "") -> Rma:
    """Close an RMA: every received unit has a disposition. Closing one whose units did
    not all arrive (the buyer kept them) says why; those units become returnable again."""
    require_permission(actor, "returns.change_rma", action="close RMAs")
    lock_order(order_id_of_rma(rma_id))
    rma = lock_rma(rma_id)
    if selectors.units_awaiting_inspection(rma.pk):
        raise Conflict(
            f"{rma.number} has units waiting for inspection.", field="state", code="not_inspected"
        )
    if rma.state != RmaState.INSPECTED and not note.strip():
        raise ValidationFailed(
            "Say why the RMA closes before every unit arrived.", field="note", code="required"
        )
    states.set_state(rma, RmaState.CLOSED, actor=actor, reason=note.strip() or "closed")
    return rma


@transaction.atomic
def cancel_rma(*, rma_id: int, actor, reason: str) -> Rma:
    """Cancel an RMA nothing has arrived for and nothing was refunded on."""
    require_permission(actor, "returns.change_rma", action="cancel RMAs")
    if not reason.strip():
        raise ValidationFailed("Say why the RMA is cancelled.", field="reason", code="required")
    lock_order(order_id_of_rma(rma_id))
    rma = lock_rma(rma_id)
    if rma.state != RmaState.AUTHORIZED:
        raise Conflict(
            f"{rma.number} is {rma.get_state_display().lower()}; units arrived, so close it instead.",
            field="state",
            code="invalid_transition",
        )
    if rma.refunds.filter(state__in=LIVE_REFUND_STATES).exists():
        raise Conflict(
            f"{rma.number} has a refund; withdraw or reject it first.",
            field="state",
            code="refunded",
        )
    states.set_state(rma, RmaState.CANCELLED, actor=actor, reason=reason.strip())
    return rma
