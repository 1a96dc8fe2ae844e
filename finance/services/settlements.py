"""Settlement import and reconciliation: the one home of both.

`import_settlement` parses a file (finance.services.settlement_formats), refuses it whole
on bad input, returns the settlement already imported when the same file or the same
settlement comes again, and otherwise writes the settlement, reconciles it and posts it
in one transaction.

Reconciliation is set-based: the orders, their receivable and expected fee in the
ledger and what earlier settlements cleared are read with one query each for the whole
settlement, never per line. Per order (channel + order external id, else order number):

- the order money lines (principal, tax, shipping, refunds) are compared with what the
  receivable still expects (receivable balance + expected fee still on it);
- the commission lines with the expected fee (the fee posted at shipment at the channel's
  `fee_rate`, less the reversal a refund earns where the channel reverses its fee);
- differences within the tolerance (settings.SETTLEMENT_AMOUNT_TOLERANCE /
  SETTLEMENT_FEE_TOLERANCE) are trued up (fees) or posted to the settlement variance
  account (amounts); larger ones, orders not found, unknown line types and adjustments
  become `SettlementVariance`s, their amount held in the channel's clearing account until
  finance accepts (→ variance account) or disputes them.

Postings: Dr bank for the payout; Cr receivable for what the settlement cleared; Dr sales
tax for tax the marketplace collected and remits; Dr marketplace fees / shipping expense for
fees that were never expected; clearing for variances and reserves. The fee true-up per
order posts in entries of at most `TRUE_UP_CHUNK` lines (margin per order reads them).
"""

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from erp import fastsql
from erp.errors import Conflict, NotFound, ValidationFailed
from erp.models import Channel
from erp.roles import require_permission
from finance.models import (
    ImportState,
    JournalLine,
    LineCategory,
    LineType,
    MatchStatus,
    Settlement,
    SettlementImport,
    SettlementLine,
    SettlementOrder,
    SettlementState,
    SettlementVariance,
    VarianceKind,
    VarianceState,
)
from finance.services.chart import accounts_for
from finance.services.posting import credit, debit, post_entry
from finance.services.settlement_formats import (
    SOURCE_FOR_CHANNEL_KIND,
    ParsedSettlement,
    parse_settlement,
)
from orders.models import Order

ZERO = Decimal("0")
CENT = Decimal("0.01")
SETTLEMENT_POSTED = "finance.settlement_posted"
VARIANCE_ACCEPTED = "finance.settlement_variance_accepted"
SOURCE_KIND = "settlement"
TRUE_UP_CHUNK = 500
INSERT_CHUNK = 4000
UPLOAD_PERMISSION = "finance.upload_settlement"
DECIDE_PERMISSION = "finance.decide_settlementvariance"

C = LineCategory
ORDER_CATEGORIES = {C.SALE, C.COMMISSION, C.WITHHELD_TAX}
LINE_FIELDS = (
    "settlement",
    "line_no",
    "type",
    "category",
    "raw_type",
    "description",
    "order_ref",
    "order",
    "reference",
    "sku_ref",
    "amount",
    "posted_on",
    "status",
)
ORDER_FIELDS = (
    "settlement",
    "order",
    "order_ref",
    "currency",
    "expected_gross",
    "actual_gross",
    "expected_fee",
    "actual_fee",
    "receivable_cleared",
    "fee_cleared",
    "matched",
)


def amount_tolerance() -> Decimal:
    return Decimal(str(getattr(settings, "SETTLEMENT_AMOUNT_TOLERANCE", "0.05")))


def fee_tolerance() -> Decimal:
    return Decimal(str(getattr(settings, "SETTLEMENT_FEE_TOLERANCE", "0.05")))


@dataclass(frozen=True)
class ImportResult:
    settlement: Settlement
    created: bool


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def import_settlement(
    *, channel: Channel, source: str, data: bytes, actor, file_name: str = "", progress=None
) -> ImportResult:
    """Import one settlement file for `channel`; the same file or settlement again returns
    the first import (created=False) and changes nothing."""
    require_permission(actor, UPLOAD_PERMISSION, action="upload settlements")
    expected_source = SOURCE_FOR_CHANNEL_KIND.get(channel.kind)
    if expected_source is None:
        raise ValidationFailed(
            f"Channel {channel.code} ({channel.get_kind_display()}) has no settlement format.",
            field="channel",
            code="invalid",
        )
    if source and source != expected_source:
        raise ValidationFailed(
            f"Channel {channel.code} settles with {expected_source}, not {source}.",
            field="source",
            code="invalid",
        )
    digest = file_hash(data)
    existing = Settlement.objects.filter(file_hash=digest).first()
    if existing is not None:
        return ImportResult(existing, False)
    parsed = parse_settlement(expected_source, data, progress)
    existing = Settlement.objects.filter(
        source=parsed.source, external_id=parsed.external_id
    ).first()
    if existing is not None:
        return ImportResult(existing, False)
    try:
        with transaction.atomic():
            settlement = _reconcile_and_post(channel, parsed, digest, file_name, actor)
    except IntegrityError:
        # The same settlement imported concurrently: the first one wins.
        existing = Settlement.objects.filter(
            Q(file_hash=digest) | Q(source=parsed.source, external_id=parsed.external_id)
        ).first()
        if existing is None:
            raise
        return ImportResult(existing, False)
    return ImportResult(settlement, True)


def _q(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _resolve_orders(channel_id: int, refs: set[str]) -> dict[str, int]:
    """Order id per order reference: the channel's external id, else its order number."""
    if not refs:
        return {}
    found = dict(
        Order.objects.filter(channel_id=channel_id, external_id__in=list(refs)).values_list(
            "external_id", "pk"
        )
    )
    missing = refs - found.keys()
    if missing:
        for number, pk in Order.objects.filter(
            channel_id=channel_id, order_number__in=list(missing)
        ).values_list("order_number", "pk"):
            found.setdefault(number, pk)
    return found


def _balances(receivable_id, fees_id, order_ids, currency) -> tuple[dict, dict]:
    """Per order, in one query: the receivable's balance, and the fees posted outside
    settlements (the expected fee at shipment)."""
    receivable, fees = {}, {}
    rows = (
        JournalLine.objects.filter(
            account_id__in=(receivable_id, fees_id), order_id__in=order_ids, currency=currency
        )
        .values("order_id")
        .annotate(
            r=Sum("debit", filter=Q(account_id=receivable_id))
            - Sum("credit", filter=Q(account_id=receivable_id)),
            f=Sum("debit", filter=Q(account_id=fees_id) & ~Q(entry__source_kind=SOURCE_KIND))
            - Sum("credit", filter=Q(account_id=fees_id) & ~Q(entry__source_kind=SOURCE_KIND)),
        )
    )
    for row in rows:
        if row["r"] is not None:
            receivable[row["order_id"]] = row["r"]
        if row["f"] is not None:
            fees[row["order_id"]] = row["f"]
    return receivable, fees


def _reconcile_and_post(
    channel: Channel, parsed: ParsedSettlement, digest: str, file_name: str, actor
) -> Settlement:
    currency = parsed.currency
    acc = accounts_for(
        {
            "bank",
            "receivable",
            "clearing",
            "marketplace_fees",
            "shipping_expense",
            "sales_tax",
            "settlement_variance",
        },
        channel_id=channel.pk,
    )
    refs = {line.order_ref for line in parsed.lines if line.order_ref}
    order_for = _resolve_orders(channel.pk, refs)
    order_ids = sorted(set(order_for.values()))
    receivable, fees_expected = _balances(
        acc["receivable"], acc["marketplace_fees"], order_ids, currency
    )
    cleared = {
        row["order_id"]: (row["r"] or ZERO, row["f"] or ZERO)
        for row in SettlementOrder.objects.filter(order_id__in=order_ids, currency=currency)
        .values("order_id")
        .annotate(r=Sum("receivable_cleared"), f=Sum("fee_cleared"))
    }

    # Sum per order reference, in one pass over the lines.
    per_ref = defaultdict(lambda: defaultdict(lambda: ZERO))
    for line in parsed.lines:
        if line.category in ORDER_CATEGORIES:
            sums = per_ref[line.order_ref]
            sums[line.category] += line.amount
            if line.type in (LineType.PRINCIPAL, LineType.SHIPPING):
                sums["basis"] += line.amount
            if line.type == LineType.REFUND and "tax" not in line.description.lower():
                sums["refunded"] -= line.amount

    rate = channel.fee_rate
    amount_tol, fee_tol = amount_tolerance(), fee_tolerance()
    settlement = Settlement(
        channel=channel,
        source=parsed.source,
        external_id=parsed.external_id,
        period_start=parsed.period_start,
        period_end=parsed.period_end,
        deposit_date=parsed.deposit_date,
        currency=currency,
        total_amount=parsed.total_amount,
        line_count=len(parsed.lines),
        order_count=len(per_ref),
        file_name=file_name[:255],
        file_hash=digest,
        imported_by=actor if getattr(actor, "pk", None) else None,
    )
    settlement.save()

    order_rows: list[tuple] = []
    matched_orders = 0
    variances: list[SettlementVariance] = []
    sale_bad, fee_bad = set(), set()
    totals = defaultdict(lambda: ZERO)  # account role -> credit − debit, aggregated
    true_ups: list[tuple[int, Decimal]] = []
    for ref, sums in per_ref.items():
        order_id = order_for.get(ref) if ref else None
        sale, commission = sums[C.SALE], -sums[C.COMMISSION]
        withheld = sums[C.WITHHELD_TAX]
        cash = sale - commission + withheld
        totals["sales_tax"] += withheld
        if order_id is None:
            totals["clearing"] += cash - withheld
            variances.append(
                SettlementVariance(
                    settlement=settlement,
                    channel=channel,
                    kind=VarianceKind.UNMATCHED_ORDER,
                    order_ref=ref,
                    description=(
                        f"No {channel.code} order {ref}."
                        if ref
                        else "Order lines without an order id."
                    ),
                    currency=currency,
                    expected=ZERO,
                    actual=cash - withheld,
                    difference=cash - withheld,
                )
            )
            continue
        prior_r, prior_f = cleared.get(order_id, (ZERO, ZERO))
        posted = order_id in receivable
        owed = receivable.get(order_id, ZERO) - prior_r
        fee_left = fees_expected.get(order_id, ZERO) - prior_f if posted else ZERO
        expected_gross = owed + fee_left
        expected_fee = fee_left if posted else _q(sums["basis"] * rate)
        if parsed.refund_reverses_fee and sums["refunded"] > 0:
            expected_fee -= _q(sums["refunded"] * rate)
        fee_diff = expected_fee - commission  # money to the seller
        sale_diff = sale - expected_gross
        booked_fee = commission
        if abs(fee_diff) > fee_tol:
            fee_bad.add(ref)
            booked_fee = expected_fee
            totals["clearing"] += fee_diff
            variances.append(
                SettlementVariance(
                    settlement=settlement,
                    channel=channel,
                    kind=VarianceKind.FEE_MISMATCH,
                    order_id=order_id,
                    order_ref=ref,
                    description=f"Fees {commission} charged, {expected_fee} expected.",
                    currency=currency,
                    expected=-expected_fee,
                    actual=-commission,
                    difference=fee_diff,
                )
            )
        if abs(sale_diff) > amount_tol:
            sale_bad.add(ref)
            totals["clearing"] += sale_diff
            note = "" if posted else " (nothing on the receivable: not shipped or not posted)"
            variances.append(
                SettlementVariance(
                    settlement=settlement,
                    channel=channel,
                    kind=VarianceKind.AMOUNT_MISMATCH,
                    order_id=order_id,
                    order_ref=ref,
                    description=f"Paid {sale}, the receivable expects {expected_gross}{note}.",
                    currency=currency,
                    expected=expected_gross,
                    actual=sale,
                    difference=sale_diff,
                )
            )
        else:
            totals["settlement_variance"] += sale_diff
        fee_clear = fee_left
        totals["receivable"] += owed
        true_up = booked_fee - fee_clear
        if true_up:
            true_ups.append((order_id, true_up))
            totals["clearing"] -= true_up
        matched = ref not in sale_bad and ref not in fee_bad
        matched_orders += matched
        order_rows.append(
            (
                settlement.pk,
                order_id,
                ref,
                currency,
                expected_gross,
                sale,
                expected_fee,
                commission,
                owed,
                fee_clear,
                matched,
            )
        )

    # Lines a variance names are written as rows with their keys; the bulk goes in by COPY.
    reviewed: list[SettlementLine] = []
    rows = []
    sid = settlement.pk
    for parsed_line in parsed.lines:
        category, ref = parsed_line.category, parsed_line.order_ref
        order_id = order_for.get(ref) if ref else None
        if category in ORDER_CATEGORIES:
            if order_id is None:
                status = MatchStatus.VARIANCE if category != C.WITHHELD_TAX else MatchStatus.POSTED
            elif (category == C.SALE and ref in sale_bad) or (
                category == C.COMMISSION and ref in fee_bad
            ):
                status = MatchStatus.VARIANCE
            else:
                status = MatchStatus.MATCHED
        elif category == C.OTHER_FEE:
            status = MatchStatus.POSTED
            totals["marketplace_fees"] += parsed_line.amount
        elif category == C.SHIPPING_LABEL:
            status = MatchStatus.POSTED
            totals["shipping_expense"] += parsed_line.amount
        elif category == C.RESERVE:
            status = MatchStatus.PARKED
            totals["clearing"] += parsed_line.amount
        elif category == C.PAYOUT:
            status = MatchStatus.PAYOUT
        else:  # adjustments and unknown line types: finance reviews each
            totals["clearing"] += parsed_line.amount
            reviewed.append(
                SettlementLine(
                    settlement=settlement,
                    line_no=parsed_line.line_no,
                    type=parsed_line.type,
                    category=category,
                    raw_type=parsed_line.raw_type,
                    description=parsed_line.description,
                    order_ref=ref,
                    order_id=order_id,
                    reference=parsed_line.reference,
                    sku_ref=parsed_line.sku_ref,
                    amount=parsed_line.amount,
                    posted_on=parsed_line.posted_on,
                    status=MatchStatus.VARIANCE,
                )
            )
            continue
        rows.append(
            (
                sid,
                parsed_line.line_no,
                str(parsed_line.type),
                str(category),
                parsed_line.raw_type,
                parsed_line.description,
                ref,
                order_id,
                parsed_line.reference,
                parsed_line.sku_ref,
                parsed_line.amount,
                parsed_line.posted_on,
                str(status),
            )
        )
    for start in range(0, len(reviewed), INSERT_CHUNK):
        fastsql.insert(reviewed[start : start + INSERT_CHUNK])
    fastsql.copy_rows(SettlementLine, LINE_FIELDS, rows)
    for line in reviewed:
        unknown = line.category == C.UNKNOWN
        variances.append(
            SettlementVariance(
                settlement=settlement,
                channel=channel,
                kind=VarianceKind.UNKNOWN_TYPE if unknown else VarianceKind.ADJUSTMENT,
                order_id=line.order_id,
                order_ref=line.order_ref,
                line=line,
                description=(
                    f"Unknown line type {line.raw_type} {line.description}".strip()
                    if unknown
                    else line.description or line.raw_type
                )[:255],
                currency=currency,
                expected=ZERO,
                actual=line.amount,
                difference=line.amount,
            )
        )
    fastsql.copy_rows(SettlementOrder, ORDER_FIELDS, order_rows)
    SettlementVariance.objects.bulk_create(variances, batch_size=2000)

    # Figures for the list page.
    for line in parsed.lines:
        if line.type == LineType.PAYOUT:
            continue
        if line.type == LineType.REFUND:
            settlement.refunds_amount += line.amount
        elif line.category == C.SALE:
            settlement.sales_amount += line.amount
        elif line.type == LineType.FEE:
            settlement.fees_amount += line.amount
        else:
            settlement.other_amount += line.amount
    settlement.matched_orders = matched_orders
    settlement.state = SettlementState.VARIANCES if variances else SettlementState.RECONCILED

    # On the deposit date; a deposit in a closed month posts late, in the open period.
    today = timezone.localdate()
    day = min(parsed.deposit_date or parsed.period_end or today, today)
    dims = {"currency": currency, "channel_id": channel.pk}
    entry_lines = [debit(acc["bank"], parsed.total_amount, memo="payout", **dims)]
    memos = {
        "receivable": "receivable cleared",
        "sales_tax": "tax collected and remitted by the marketplace",
        "marketplace_fees": "fees not expected per order",
        "shipping_expense": "shipping labels bought through the marketplace",
        "clearing": "variances, reserves and fee true-ups",
        "settlement_variance": "differences within tolerance",
    }
    for role, amount in totals.items():
        if amount:
            entry_lines.append(credit(acc[role], amount, memo=memos[role], **dims))
    entry = post_entry(
        lines=entry_lines,
        memo=f"Settlement {settlement} ({channel.code}), {len(parsed.lines)} lines",
        date=day,
        source_kind=SOURCE_KIND,
        source_id=settlement.pk,
        source_ref=parsed.external_id,
        event=SETTLEMENT_POSTED,
        actor=actor,
        late=True,
    )
    for start in range(0, len(true_ups), TRUE_UP_CHUNK):
        chunk = true_ups[start : start + TRUE_UP_CHUNK]
        chunk_lines = [
            debit(acc["marketplace_fees"], amount, order_id=order_id, memo="fee true-up", **dims)
            for order_id, amount in chunk
        ]
        chunk_lines.append(
            credit(acc["clearing"], sum((a for _, a in chunk), ZERO), memo="fee true-up", **dims)
        )
        post_entry(
            lines=chunk_lines,
            memo=f"Settlement {settlement}: fee true-up per order",
            date=day,
            source_kind=SOURCE_KIND,
            source_id=settlement.pk,
            source_ref=parsed.external_id,
            actor=actor,
            late=True,
        )
    settlement.journal_entry = entry
    settlement.save(
        update_fields=[
            "sales_amount",
            "fees_amount",
            "refunds_amount",
            "other_amount",
            "matched_orders",
            "state",
            "journal_entry",
        ]
    )
    return settlement


# --- Variances ----------------------------------------------------------------------


def _locked_variance(variance_id: int) -> SettlementVariance:
    variance = (
        SettlementVariance.objects.select_for_update()
        .select_related("settlement")
        .filter(pk=variance_id)
        .first()
    )
    if variance is None:
        raise NotFound(f"No settlement variance #{variance_id}.", field="variance")
    return variance


def _settle_state(settlement_id: int) -> None:
    still_open = SettlementVariance.objects.filter(
        settlement_id=settlement_id, state=VarianceState.OPEN
    ).exists()
    Settlement.objects.filter(pk=settlement_id).update(
        state=SettlementState.VARIANCES if still_open else SettlementState.RECONCILED
    )


@transaction.atomic
def accept_variance(*, variance_id: int, actor, note: str) -> SettlementVariance:
    """Accept the difference: Dr clearing / Cr settlement variance (a shortfall the other
    way round), with the note. Open and disputed variances may be accepted."""
    require_permission(actor, DECIDE_PERMISSION, action="accept settlement variances")
    note = (note or "").strip()
    if not note:
        raise ValidationFailed("Say why the variance is accepted.", field="note", code="required")
    variance = _locked_variance(variance_id)
    if variance.state == VarianceState.ACCEPTED:
        raise Conflict(f"{variance} is already accepted.", field="state", code="already_decided")
    acc = accounts_for({"clearing", "settlement_variance"}, channel_id=variance.channel_id)
    dims = {
        "currency": variance.currency,
        "channel_id": variance.channel_id,
        "order_id": variance.order_id,
        "memo": f"{variance.get_kind_display()}: {note}"[:255],
    }
    entry = post_entry(
        lines=[
            debit(acc["clearing"], variance.difference, **dims),
            credit(acc["settlement_variance"], variance.difference, **dims),
        ],
        memo=f"Settlement {variance.settlement} variance #{variance.pk} accepted: {note}",
        source_kind="settlement_variance",
        source_id=variance.pk,
        source_ref=variance.order_ref or str(variance.settlement),
        event=VARIANCE_ACCEPTED,
        actor=actor,
    )
    variance.state = VarianceState.ACCEPTED
    variance.note = note
    variance.decided_by = actor
    variance.decided_at = timezone.now()
    variance.journal_entry = entry
    variance._history_user = actor
    variance.save()
    _settle_state(variance.settlement_id)
    return variance


@transaction.atomic
def dispute_variance(*, variance_id: int, actor, note: str) -> SettlementVariance:
    """Mark for dispute with the marketplace: the amount stays in clearing (a claim)."""
    require_permission(actor, DECIDE_PERMISSION, action="dispute settlement variances")
    note = (note or "").strip()
    if not note:
        raise ValidationFailed("Say what is disputed.", field="note", code="required")
    variance = _locked_variance(variance_id)
    if variance.state != VarianceState.OPEN:
        raise Conflict(
            f"{variance} is {variance.get_state_display().lower()}.",
            field="state",
            code="already_decided",
        )
    variance.state = VarianceState.DISPUTED
    variance.note = note
    variance.decided_by = actor
    variance.decided_at = timezone.now()
    variance._history_user = actor
    variance.save()
    _settle_state(variance.settlement_id)
    return variance


# --- Uploads in the back office (a Celery task imports, the page polls) ------------------


def start_import(*, channel: Channel, data: bytes, file_name: str, actor) -> SettlementImport:
    require_permission(actor, UPLOAD_PERMISSION, action="upload settlements")
    source = SOURCE_FOR_CHANNEL_KIND.get(channel.kind)
    if source is None:
        raise ValidationFailed(
            f"Channel {channel.code} has no settlement format.", field="channel", code="invalid"
        )
    if not data:
        raise ValidationFailed("The file is empty.", field="file", code="required")
    job = SettlementImport.objects.create(
        channel=channel,
        source=source,
        file_name=file_name[:255],
        content=data,
        size=len(data),
        total=max(1, data.count(b"\n")),
        created_by=actor,
        stage="Waiting for a worker",
    )
    from finance.settlement_tasks import run_settlement_import

    transaction.on_commit(lambda: run_settlement_import.delay(job.pk))
    return job


def run_import(import_id: int) -> SettlementImport:
    """Run one queued upload (the Celery task). Progress goes to the import row as the file
    is read; the settlement itself is written in one transaction."""
    from erp.errors import DomainError

    job = SettlementImport.objects.select_related("channel", "created_by").get(pk=import_id)
    if job.state in (ImportState.DONE, ImportState.FAILED):
        return job
    SettlementImport.objects.filter(pk=job.pk).update(
        state=ImportState.RUNNING, stage="Reading the file"
    )

    def progress(done: int, total: int) -> None:
        SettlementImport.objects.filter(pk=job.pk).update(
            processed=min(done, total), total=max(total, 1), stage="Reading the file"
        )

    try:
        result = import_settlement(
            channel=job.channel,
            source=job.source,
            data=bytes(job.content),
            actor=job.created_by,
            file_name=job.file_name,
            progress=progress,
        )
    except DomainError as error:
        SettlementImport.objects.filter(pk=job.pk).update(
            state=ImportState.FAILED,
            stage="Refused",
            error=error.message,
            finished_at=timezone.now(),
        )
    else:
        SettlementImport.objects.filter(pk=job.pk).update(
            state=ImportState.DONE,
            stage="Already imported" if not result.created else "Imported and reconciled",
            settlement=result.settlement,
            duplicate=not result.created,
            processed=job.total,
            finished_at=timezone.now(),
        )
    job.refresh_from_db()
    return job
