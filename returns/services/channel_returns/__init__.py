"""Marketplace-initiated returns: a channel's own return (Shopify refund webhook, Amazon
returns report, eBay Post-Order return) tied to its order and lines, opening or updating
the RMA and recording the refund the channel already made.

The rules:
- The return's order is the channel's order id (Order.external_id); its lines are found by
  the channel's line id, else the seller SKU, else the channel's item id (eBay itemId,
  with or without its variation). An unknown order or line refuses the return.
- The RMA is written only by `rmas.create_rma` and the refund only by the refunds
  service (`post_channel_refund` through create_rma's `external_refund`,
  `record_channel_refund`, `match_channel_refund`): the quantity, serial and "never more
  than was paid" rules are theirs. The channel authorized the return under its own
  policy, so a return past our window is accepted, saying so.
- Idempotency is the database's: one RMA per (channel, return id) and one refund per
  (channel, refund id). A return delivered again finds them and changes nothing; a return
  seen first without a refund and again with one (an Amazon row once refunded) gets the
  refund recorded on its RMA.
- A refund we posted to the channel comes back as the channel's own refund (Shopify sends
  `refunds/create` for it too). It is matched to ours, never added: our posted refund of
  the same order with no channel id yet, the same amount and the same lines (order line
  and units) takes the channel's id.
- One return is one transaction: it is written whole or not at all. A refused return
  (unknown order or SKU, more units than shipped, a refund above what is left of what the
  order paid, a refund in another currency) is kept in the "channel returns to match"
  queue with its errors, named by the channel's own fields (`rows[3].Merchant SKU`,
  `refund_line_items[0].line_item_id`); the channel delivering it again, once the cause
  is fixed, resolves that entry.
- A report is imported return by return (the rows of one Amazon RMA together): its good
  returns are written, its refused ones are queued and answered with their lines and
  reasons. A file without the report's columns is refused whole and writes nothing.
"""

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction

from erp.errors import DomainError, FieldError, NotPermitted, ValidationFailed
from erp.roles import require_permission
from erp.token_scope import require_channel_scope
from orders.models import Order
from returns import adapters
from returns.adapters import AdapterError, ChannelReturn, ParsedReport, ReportEntry
from returns.models import Refund, Rma, UnmatchedChannelReturn
from returns.services import refunds, rmas
from returns.services.channel_returns import matching, queue
from returns.services.channel_returns.queue import dismiss_channel_return
from returns.services.locking import lock_order

MAX_REPORT_ROWS = 5000


class Outcome:
    CREATED = "created"  # a new RMA (with the channel's refund when there was one)
    REFUND_RECORDED = "refund_recorded"  # the channel's refund added to a known RMA
    MATCHED = "matched"  # the channel echoed a refund of ours: its id kept on ours
    UNCHANGED = "unchanged"  # delivered again: already recorded
    REFUSED = "refused"  # queued in "channel returns to match"


@dataclass(frozen=True)
class ReturnResult:
    outcome: str
    return_id: str = ""
    order_external_id: str = ""
    rma: Rma | None = None
    refund: Refund | None = None
    errors: list[FieldError] = field(default_factory=list)
    status_code: int = 200
    line_numbers: tuple[int, ...] = ()
    queued: UnmatchedChannelReturn | None = None


@dataclass(frozen=True)
class ReportResult:
    source_format: str
    rows: int
    results: list[ReturnResult]

    def count(self, outcome: str) -> int:
        return sum(1 for result in self.results if result.outcome == outcome)


def import_channel_return(
    *, channel, payload, actor, raw: bytes | str = "", topic: str = ""
) -> ReturnResult:
    """One channel return in the channel's JSON (Shopify refund webhook, eBay return). A
    payload that is not the channel's return is refused (ValidationFailed) and writes
    nothing; one that cannot be tied to the order or its money is refused and queued.
    `topic`: the webhook topic the channel named (Shopify's X-Shopify-Topic), if any."""
    require_permission(actor, "returns.add_rma", action="import channel returns")
    require_channel_scope(actor, channel)
    expected = adapters.WEBHOOK_TOPICS.get(channel.kind)
    if topic and expected and topic != expected:
        raise ValidationFailed(
            f"This endpoint takes {expected} webhooks, not {topic}.",
            field="X-Shopify-Topic",
            code="wrong_topic",
        )
    try:
        parsed = adapters.parse_return(channel.kind, payload)
    except AdapterError as error:
        raise ValidationFailed(error.message, field=error.field, code=error.code) from None
    body = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return _apply_or_queue(channel, parsed, actor, payload=body or json.dumps(payload, default=str))


def import_returns_report(*, channel, content: bytes | str, actor) -> ReportResult:
    """A channel's returns report (Amazon MFN or FBA): each return written whole or
    refused and queued on its own. A file that is not the report (columns missing, mixed
    decimal separators, too many rows) is refused whole."""
    require_permission(actor, "returns.add_rma", action="import channel returns")
    require_channel_scope(actor, channel)
    try:
        report = adapters.parse_report(channel.kind, content)
    except AdapterError as error:
        raise ValidationFailed(error.message, field=error.field, code=error.code) from None
    if report.row_count > MAX_REPORT_ROWS:
        raise ValidationFailed(
            f"The report has {report.row_count} rows; import at most {MAX_REPORT_ROWS} at once.",
            field="rows",
            code="too_many_rows",
        )
    lines = adapters.amazon.decode(content).splitlines()
    header = next(line for line in lines if line.strip())
    results = [
        _report_entry(channel, report, entry, actor, header=header, lines=lines)
        for entry in report.entries
    ]
    return ReportResult(source_format=report.source_format, rows=report.row_count, results=results)


def _report_entry(channel, report: ParsedReport, entry: ReportEntry, actor, *, header, lines):
    rows = "\n".join([header, *(lines[number - 1] for number in entry.line_numbers)])
    if entry.error is not None:
        errors = [FieldError(entry.error.field, entry.error.code, entry.error.message)]
        queued = queue.keep_refused(
            channel,
            source_format=report.source_format,
            reference=f"sha256:{hashlib.sha256(rows.encode()).hexdigest()[:48]}",
            order_external_id="",
            line_numbers=entry.line_numbers,
            errors=errors,
            payload=rows,
        )
        return ReturnResult(
            Outcome.REFUSED,
            errors=errors,
            status_code=400,
            line_numbers=entry.line_numbers,
            queued=queued,
        )
    return _apply_or_queue(
        channel, entry.parsed, actor, payload=rows, line_numbers=entry.line_numbers
    )


def _apply_or_queue(channel, parsed: ChannelReturn, actor, *, payload, line_numbers=()):
    try:
        with transaction.atomic():
            result = _apply(channel, parsed, actor)
    except NotPermitted:
        raise
    except DomainError as error:
        errors = [matching.in_channel_terms(e, parsed) for e in error.errors]
        queued = queue.keep_refused(
            channel,
            source_format=parsed.source_format,
            reference=parsed.return_id,
            order_external_id=parsed.order_external_id,
            line_numbers=line_numbers,
            errors=errors,
            payload=payload,
        )
        return ReturnResult(
            Outcome.REFUSED,
            return_id=parsed.return_id,
            order_external_id=parsed.order_external_id,
            errors=errors,
            status_code=error.status_code,
            line_numbers=tuple(line_numbers),
            queued=queued,
        )
    queue.settle_queued(channel, parsed, actor, resolution=_settled_as(result))
    return ReturnResult(
        result.outcome,
        return_id=parsed.return_id,
        order_external_id=parsed.order_external_id,
        rma=result.rma,
        refund=result.refund,
        status_code=201 if result.outcome == Outcome.CREATED else 200,
        line_numbers=tuple(line_numbers),
    )


def _settled_as(result: ReturnResult) -> str:
    """What a queue entry that went through says: `Imported: RMA-000012 (created, refund
    RF-000031)`."""
    parts = [result.outcome.replace("_", " ")]
    if result.refund is not None:
        parts.append(f"refund {result.refund.number}")
    return f"Imported: {result.rma.number} ({', '.join(parts)})"  # every success has its RMA


def _apply(channel, parsed: ChannelReturn, actor) -> ReturnResult:
    if not parsed.lines:
        raise ValidationFailed(
            "The channel's refund names no returned line items (shipping or an adjustment "
            "only): it is not a return, and a refund needs the RMA it pays back.",
            field=parsed.fields.get("lines", "lines"),
            code="no_returned_lines",
        )
    order_id = (
        Order.objects.filter(channel=channel, external_id=parsed.order_external_id)
        .values_list("pk", flat=True)
        .first()
    )
    if order_id is None:
        raise ValidationFailed(
            f"No {channel.code} order {parsed.order_external_id}.",
            field=parsed.fields.get("order", "order"),
            code="unknown_order",
        )
    order = lock_order(order_id)
    refund = parsed.refund
    if refund is not None:
        known = (
            Refund.objects.filter(channel=channel, external_reference=refund.reference)
            .select_related("rma")
            .first()
        )
        if known is not None:
            return ReturnResult(Outcome.UNCHANGED, rma=known.rma, refund=known)
        if refund.currency not in {order.currency, order.presentment_currency}:
            raise ValidationFailed(
                f"The channel refunded in {refund.currency}; the order is in {order.currency}"
                + (
                    f" (the buyer paid in {order.presentment_currency})."
                    if order.presentment_currency
                    else "."
                ),
                field=refund.fields.get("currency", "currency"),
                code="currency_mismatch",
            )
    rma = Rma.objects.filter(channel=channel, external_reference=parsed.return_id).first()
    if rma is not None and rma.order_id != order.pk:
        raise ValidationFailed(
            f"The channel's return {parsed.return_id} is already recorded on another order.",
            field=parsed.fields.get("return_id", "return_id"),
            code="return_on_another_order",
        )
    if rma is not None and refund is None:
        return ReturnResult(Outcome.UNCHANGED, rma=rma)
    lines = matching.rma_lines(order, parsed)
    if refund is not None:
        ours = matching.echoed_refund(
            order, lines, refund.amount, in_buyer_money=refund.currency != order.currency
        )
        if ours is not None:
            refunds.match_channel_refund(refund=ours, reference=refund.reference, actor=actor)
            return ReturnResult(Outcome.MATCHED, rma=ours.rma, refund=ours)
    external_refund = None
    if refund is not None:
        external_refund = {
            "amount": refund.amount,
            "currency": refund.currency,
            "reference": refund.reference,
            "refunded_at": refund.refunded_at,
            "note": f"refunded by {channel.name}",
        }
    if rma is not None:
        recorded = refunds.record_channel_refund_within(
            rma_id=rma.pk, actor=actor, **external_refund
        )
        return ReturnResult(Outcome.REFUND_RECORDED, rma=rma, refund=recorded)
    rma = _open_rma(
        order_id=order.pk,
        lines=[line for line, _ in lines],
        actor=actor,
        source=Rma.Source.MARKETPLACE_INITIATED,
        return_label_reference=parsed.label_reference[:128],
        channel_returns_centre=parsed.returns_centre,
        external_reference=parsed.return_id,
        note=_rma_note(channel, parsed),
        external_refund=external_refund,
        override=f"Authorized by {channel.name} (return {parsed.return_id}) under the "
        "channel's own return policy.",
    )
    recorded = rma.refunds.first() if refund is not None else None
    return ReturnResult(Outcome.CREATED, rma=rma, refund=recorded)


def _open_rma(*, override: str, **values) -> Rma:
    """create_rma; the channel already authorized the return under its own policy, so a
    return past our window is accepted, saying so (only then: the override is shown as
    "accepted outside the window")."""
    try:
        return rmas.create_rma_within(**values)
    except ValidationFailed as error:
        if error.errors[0].code != "outside_window":
            raise
    return rmas.create_rma_within(**values, override_reason=override)


def _rma_note(channel, parsed: ChannelReturn) -> str:
    parts = [f"{channel.name} return {parsed.return_id}", parsed.status, parsed.note]
    if parsed.requested_at:
        parts.append(f"requested {parsed.requested_at:%Y-%m-%d %H:%M} UTC")
    return " · ".join(part for part in parts if part)


REPORT_FORMATS = {adapters.amazon.MFN_FORMAT, adapters.amazon.FBA_FORMAT}


def retry_channel_return(*, entry_id: int, actor) -> ReturnResult:
    """Run a queued channel return again, as the channel sent it (once the order arrived,
    the SKU was mapped, or a refund was corrected). It goes through, settling its entry,
    or is refused again with today's reasons."""
    require_permission(actor, "returns.add_rma", action="import channel returns")
    entry = queue.open_entry(entry_id)
    if entry.source_format in REPORT_FORMATS:
        report = import_returns_report(channel=entry.channel, content=entry.payload, actor=actor)
        return report.results[0]
    try:
        payload = json.loads(entry.payload, parse_float=Decimal)
    except json.JSONDecodeError:
        raise ValidationFailed(
            "The kept body is not JSON.", field="payload", code="parse_error"
        ) from None
    return import_channel_return(channel=entry.channel, payload=payload, actor=actor)


__all__ = [
    "MAX_REPORT_ROWS",
    "Outcome",
    "ReportResult",
    "ReturnResult",
    "dismiss_channel_return",
    "import_channel_return",
    "import_returns_report",
    "retry_channel_return",
]
