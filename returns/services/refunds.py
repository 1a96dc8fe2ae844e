"""Refunds: requested when the policy's timing allows, approved above the threshold through
the shared approvals (kind "refund"), posted to the channel through the outbox.

A posted refund publishes `returns.refund_posted` in the posting transaction (finance
subscribes) and, when the channel-wide return policy names a refund endpoint, writes one
outbox message per refund in the channel's format (services/refund_notice.py). A refund
the channel made itself is recorded as posted on the channel: the event is published,
nothing is sent back.

Money: `amount` and its parts are the shop's money (the order's currency), what settles,
posts and is approved. An order the buyer paid in another currency (Shopify presentment)
also gets `presentment_*` amounts, quoted from the buyer's prices: the channel is told and
the customer gets back those. An amount agreed or reported in one currency is carried to the
other in the proportion of the quote (what is left of the order in one is what is left in
the other), and never above what the buyer or the shop was paid minus earlier refunds.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from erp import events
from erp.errors import Conflict, ValidationFailed
from erp.models import ApprovalRequest
from erp.roles import require_permission
from erp.services import approvals
from erp.services.outbox import enqueue_message
from returns.models import Refund, RefundLine, RefundState, Rma, RmaState
from returns.services.locking import lock_order, lock_refund, lock_rma, order_id_of_rma
from returns.services.policies import refund_endpoint_for
from returns.services.refund_amounts import ZERO, RefundQuote, money, quote_refund
from returns.services.refund_notice import refund_message

REFUND_KIND = "refund"
REFUND_POSTED = "returns.refund_posted"


@transaction.atomic(durable=True)
def request_refund(*, rma_id: int, actor, amount: Decimal | None = None, note: str = "") -> Refund:
    """Refund the units of an RMA that the policy's timing makes due and no earlier refund
    covered. The amount is computed from the order (see refund_amounts) and cut to what
    the order paid minus earlier refunds; an agreed `amount` may replace it, never above
    what is left. Above the refund threshold it waits for an approver who is not the
    requester; otherwise it posts now.
    """
    require_permission(actor, "returns.add_refund", action="request refunds")
    lock_order(order_id_of_rma(rma_id))
    rma = lock_rma(rma_id)
    if rma.state == RmaState.CANCELLED:
        raise Conflict(f"{rma.number} is cancelled.", field="state", code="cancelled")
    quote = quote_refund(rma)
    if not quote.lines:
        raise ValidationFailed(
            " ".join(quote.not_due) or f"Every unit of {rma.number} is already refunded.",
            field="rma",
            code="refund_not_due",
        )
    final = _final_amount(quote, amount, field="amount", currency=rma.order.currency)
    refund = _create(rma, quote, final, state=RefundState.PENDING_APPROVAL, note=note, actor=actor)
    if approvals.needs_approval(kind=REFUND_KIND, amount=final.amount):
        approvals.request_approval(
            kind=REFUND_KIND,
            subject=refund,
            amount=final.amount,
            currency=refund.currency,
            requested_by=actor,
            note=note,
            summary=approval_summary(refund, quote),
        )
        return refund
    _post(refund, actor=actor)
    return refund


@dataclass(frozen=True)
class FinalAmount:
    amount: Decimal  # the shop's money
    capped: bool
    presentment: Decimal | None = None  # the buyer's money, when the order has it


def _final_amount(quote: RefundQuote, amount, *, field: str, currency: str) -> FinalAmount:
    """What the refund pays back, in both currencies: the quote's amount, or `amount`
    given in `currency` (the shop's, or the buyer's presentment currency). More than was
    paid minus earlier refunds, in either currency, is refused."""
    seen = quote.presentment
    remaining = quote.remaining_paid
    if remaining <= 0 or (seen is not None and seen.remaining_paid <= 0):
        raise ValidationFailed(
            f"The order paid {quote.paid} and {quote.refunded} is already refunded.",
            field=field,
            code="exceeds_paid",
        )
    if amount is None:
        if quote.amount <= 0:
            raise ValidationFailed(
                "Nothing is left to refund for these units.", field=field, code="min_value"
            )
        buyer = None if seen is None else min(seen.computed_amount, seen.remaining_paid)
        return FinalAmount(quote.amount, quote.capped, buyer)
    try:
        amount = money(amount)
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationFailed(
            "Give the amount as a number.", field=field, code="invalid"
        ) from None
    if amount <= 0:
        raise ValidationFailed("A refund is above zero.", field=field, code="min_value")
    if seen is not None and currency == seen.currency:
        if amount > seen.remaining_paid:
            raise ValidationFailed(
                f"The buyer paid {seen.paid} {seen.currency} and {seen.refunded} "
                f"{seen.currency} is already refunded: at most {seen.remaining_paid} "
                f"{seen.currency} can go back.",
                field=field,
                code="exceeds_paid",
            )
        if amount == seen.remaining_paid:
            return FinalAmount(remaining, False, amount)
        shop = _convert(amount, seen.computed_amount, quote.computed_amount, seen.paid, quote.paid)
        return FinalAmount(min(shop, remaining), False, amount)
    if amount > remaining:
        raise ValidationFailed(
            f"The order paid {quote.paid} and {quote.refunded} is already refunded: at most "
            f"{remaining} can go back.",
            field=field,
            code="exceeds_paid",
        )
    if seen is None:
        return FinalAmount(amount, False)
    if amount == remaining:
        return FinalAmount(amount, False, seen.remaining_paid)
    buyer = _convert(amount, quote.computed_amount, seen.computed_amount, quote.paid, seen.paid)
    return FinalAmount(amount, False, min(buyer, seen.remaining_paid))


def _convert(amount, quoted_from, quoted_to, paid_from, paid_to) -> Decimal:
    """`amount` in the other currency: in the proportion of this refund's own quote, or
    of the order's totals when nothing was quoted (a 100 % fee)."""
    if quoted_from > 0:
        return money(amount * quoted_to / quoted_from)
    return money(amount * paid_to / paid_from) if paid_from > 0 else ZERO


def _create(rma, quote: RefundQuote, final: FinalAmount, *, state, note, actor, **extra) -> Refund:
    now = timezone.now()
    seen = quote.presentment
    refund = Refund(
        number=uuid.uuid4().hex[:32],
        rma=rma,
        order=rma.order,
        channel=rma.channel,
        state=state,
        currency=rma.order.currency,
        items_amount=quote.items_amount,
        tax_amount=quote.tax_amount,
        shipping_amount=quote.shipping_amount,
        restocking_fee=quote.restocking_fee,
        computed_amount=quote.computed_amount,
        amount=final.amount,
        capped=final.capped,
        presentment_currency=seen.currency if seen else "",
        presentment_shipping_amount=seen.shipping_amount if seen else None,
        presentment_computed_amount=seen.computed_amount if seen else None,
        presentment_amount=final.presentment if seen else None,
        note=note,
        requested_by=actor,
        requested_at=now,
        **extra,
    )
    refund._history_user = actor
    refund.save()
    # The number comes from the primary key, which concurrent requesters never share.
    refund.number = f"RF-{refund.pk:06d}"
    refund._history_user = actor
    refund.save(update_fields=["number"])
    RefundLine.objects.bulk_create(
        [
            RefundLine(
                refund=refund,
                rma_line=line.rma_line,
                quantity=line.quantity,
                items_amount=line.items_amount,
                discount_amount=line.discount_amount,
                tax_amount=line.tax_amount,
                restocking_fee=line.restocking_fee,
                presentment_items_amount=line.presentment and line.presentment.items_amount,
                presentment_tax_amount=line.presentment and line.presentment.tax_amount,
                presentment_restocking_fee=line.presentment and line.presentment.restocking_fee,
            )
            for line in quote.lines
        ]
    )
    return refund


def approval_summary(refund: Refund, quote: RefundQuote) -> str:
    """One line in the approvals inbox: which refund, for what, and why."""
    order = refund.order
    reasons = sorted({line.rma_line.reason.label for line in quote.lines})
    units = quote.units
    text = (
        f"Refund {refund.number} · {refund.rma.number} · {refund.channel.code} order "
        f"{order.order_number or order.external_id} · {units} unit{'s' if units != 1 else ''}"
        f" ({', '.join(reasons)})"
    )
    if refund.capped:
        text += " · cut to what the order paid"
    return text[:255]


def _post(refund: Refund, *, actor) -> None:
    """Post a refund we pay: confirm it to the channel (outbox) and tell subscribers."""
    refund.state, refund.posted_at = RefundState.POSTED, timezone.now()
    endpoint = refund_endpoint_for(refund.channel)
    if endpoint is not None:
        lines = refund.lines.select_related("rma_line__order_line", "rma_line__reason")
        refund.outbox_message = enqueue_message(endpoint=endpoint, **refund_message(refund, lines))
    refund._history_user = actor
    refund._change_reason = "posted"
    refund.save(update_fields=["state", "posted_at", "outbox_message"])
    _announce(refund, actor=actor, source="erp")


def _announce(refund: Refund, *, actor, source: str) -> None:
    events.publish(
        events.DomainEvent(
            REFUND_POSTED,
            {
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
                # What the buyer got back in the currency they paid in (blank / null when
                # it is the order's currency); the amounts above are what settles.
                "presentment_currency": refund.presentment_currency,
                "presentment_amount": None
                if refund.presentment_amount is None
                else str(refund.presentment_amount),
                "posted_at": refund.posted_at.isoformat(),
                "source": source,  # "erp": we pay it; "channel": the channel already did
            },
            actor_id=getattr(actor, "pk", None),
        )
    )


def post_channel_refund(
    *,
    rma: Rma,
    actor,
    amount,
    reference: str = "",
    refunded_at: datetime | None = None,
    note: str = "",
    currency: str = "",
    field_prefix: str = "",
) -> Refund:
    """Record a refund the channel already made for this (locked) RMA: every authorized
    unit not refunded yet, for the amount the channel paid in `currency` (the order's by
    default, or the buyer's presentment currency; never above what is left of what was
    paid). Nothing goes back to the channel."""
    reference = str(reference or "").strip()
    if (
        reference
        and Refund.objects.filter(channel=rma.channel, external_reference=reference).exists()
    ):
        raise Conflict(
            f"The channel's refund {reference} is already recorded.",
            field=f"{field_prefix}reference",
            code="already_exists",
        )
    quote = quote_refund(rma, whole_rma=True)
    amount_field = f"{field_prefix}amount"
    if not quote.lines:
        # Every unit is refunded already: another refund would count the money twice.
        raise Conflict(
            f"Every unit of {rma.number} is already refunded; this channel refund is not "
            "added again.",
            field=amount_field,
            code="already_refunded",
        )
    if amount is None:
        raise ValidationFailed(
            "Give the amount the channel refunded.", field=amount_field, code="required"
        )
    order = rma.order
    currency = currency or order.currency
    if currency not in {order.currency, order.presentment_currency}:
        raise ValidationFailed(
            f"The channel refunded in {currency}; the order is in {order.currency}"
            + (
                f" (the buyer paid in {order.presentment_currency})."
                if order.presentment_currency
                else "."
            ),
            field=f"{field_prefix}currency",
            code="currency_mismatch",
        )
    final = _final_amount(quote, amount, field=amount_field, currency=currency)
    refund = _create(
        rma,
        quote,
        final,
        state=RefundState.POSTED_ON_CHANNEL,
        note=note or "refunded by the channel",
        actor=actor,
        external_reference=reference,
        posted_at=refunded_at or timezone.now(),
    )
    _announce(refund, actor=actor, source="channel")
    return refund


@transaction.atomic(durable=True)
def record_channel_refund(**values) -> Refund:
    """A channel reports a refund it made on an RMA we already know (eBay, Amazon): the
    API's entry point, its own transaction (see record_channel_refund_within)."""
    return record_channel_refund_within(**values)


@transaction.atomic(savepoint=False)
def record_channel_refund_within(
    *,
    rma_id: int,
    actor,
    amount,
    reference: str = "",
    refunded_at: datetime | None = None,
    note: str = "",
    currency: str = "",
) -> Refund:
    """record_channel_refund inside the caller's transaction (a channel return being
    applied, which holds the order lock already)."""
    require_permission(actor, "returns.add_rma", action="record channel refunds")
    lock_order(order_id_of_rma(rma_id))
    rma = lock_rma(rma_id)
    if rma.state == RmaState.CANCELLED:
        raise Conflict(f"{rma.number} is cancelled.", field="state", code="cancelled")
    return post_channel_refund(
        rma=rma,
        actor=actor,
        amount=amount,
        reference=reference,
        refunded_at=refunded_at,
        note=note,
        currency=currency,
    )


def match_channel_refund(*, refund: Refund, reference: str, actor) -> Refund:
    """The channel reports a refund that is one we posted to it (its echo): keep the
    channel's id on ours, so the echo and every redelivery of it are recognised and the
    money is never counted twice. `refund` is locked by the caller (order, then refund)."""
    require_permission(actor, "returns.add_rma", action="record channel refunds")
    if refund.state != RefundState.POSTED or refund.external_reference:
        raise Conflict(
            f"{refund.number} is not a refund of ours waiting for the channel's id.",
            field="refund",
            code="not_matchable",
        )
    refund.external_reference = str(reference).strip()
    refund._history_user = actor
    refund._change_reason = "matched to the channel's refund"
    refund.save(update_fields=["external_reference"])
    return refund


def _pending_request(refund_id: int) -> ApprovalRequest:
    from django.contrib.contenttypes.models import ContentType

    request = ApprovalRequest.objects.filter(
        kind=REFUND_KIND,
        subject_type=ContentType.objects.get_for_model(Refund),
        subject_id=refund_id,
        state=ApprovalRequest.State.PENDING,
    ).first()
    if request is None:
        raise Conflict(
            "This refund is not waiting for approval.", field="state", code="not_pending"
        )
    return request


def decide_refund(*, refund_id: int, actor, approve: bool, note: str = "") -> Refund:
    """Approve (posts it) or reject a waiting refund: the shared approvals rule applies —
    the approver holds returns.approve_refund and did not request it."""
    approvals.decide_approval(
        request_id=_pending_request(refund_id).pk, actor=actor, approve=approve, note=note
    )
    return Refund.objects.get(pk=refund_id)


@transaction.atomic(durable=True)
def withdraw_refund(*, refund_id: int, actor, note: str) -> Refund:
    """The requester (or anyone who may request refunds) withdraws a waiting refund."""
    require_permission(actor, "returns.add_refund", action="withdraw refunds")
    if not note.strip():
        raise ValidationFailed("Say why the refund is withdrawn.", field="note", code="required")
    # Same lock order as a decision: the approval request, then the order, then the refund.
    request = ApprovalRequest.objects.select_for_update().get(pk=_pending_request(refund_id).pk)
    refund = lock_refund(refund_id)
    approvals.cancel_approval(request=request, actor=actor, note=note)
    _close(refund, RefundState.CANCELLED, actor=actor, reason=note)
    return refund


def _close(refund: Refund, state: str, *, actor, reason: str) -> None:
    if refund.state != RefundState.PENDING_APPROVAL:
        raise Conflict(
            f"This refund is already {refund.get_state_display().lower()}.", field="state"
        )
    refund.state, refund.closed_at = state, timezone.now()
    refund._history_user = actor
    refund._change_reason = reason
    refund.save(update_fields=["state", "closed_at"])


def _locked_pending(request) -> Refund:
    refund = lock_refund(request.subject_id)
    if refund.state != RefundState.PENDING_APPROVAL:
        raise Conflict(
            f"This refund is already {refund.get_state_display().lower()}.", field="state"
        )
    return refund


def _on_approved(*, request, actor) -> None:
    _post(_locked_pending(request), actor=actor)


def _on_rejected(*, request, actor) -> None:
    _close(
        _locked_pending(request), RefundState.REJECTED, actor=actor, reason=request.decision_note
    )


approvals.register_approval_kind(
    REFUND_KIND,
    label="Refund",
    default_threshold=Decimal("100.00"),
    permission="returns.approve_refund",
    on_approved=_on_approved,
    on_rejected=_on_rejected,
)
