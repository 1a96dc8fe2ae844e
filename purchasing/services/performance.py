"""Supplier performance, from purchase orders, receipts and the defects returns reported.

Over standard POs that were sent (drop-ship POs have no dock receipts), per supplier:
- on-time delivery: of the PO lines that are due (fully received, or past their expected
  date), the share fully received by their expected date;
- lead-time adherence: per fully received line, actual days (sent → last receipt) against
  promised days (sent → expected date): the mean of each, the mean delay and the share
  that arrived within the promise;
- fill rate: units received (up to the ordered quantity) ÷ units ordered, over POs whose
  receiving is over or due (partially received, received, closed, or past expected);
- defect rate: units returned to the supplier as defective ÷ units received from it.
Three aggregate queries for any number of suppliers; arithmetic in Python.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Max, Q, Sum
from django.utils import timezone

from erp.models import Location, Sku
from purchasing.models import (
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderState,
    Supplier,
    SupplierDefect,
)

S = PurchaseOrderState
SUPPLIER_CLAIM_OPENED = "returns.supplier_claim_opened"
SENT_STATES = (S.SENT, S.PARTIALLY_RECEIVED, S.RECEIVED, S.CLOSED)


@dataclass
class Performance:
    lines_due: int = 0
    lines_on_time: int = 0
    lines_completed: int = 0
    promised_days: list[int] = field(default_factory=list)
    actual_days: list[int] = field(default_factory=list)
    units_ordered: int = 0
    units_filled: int = 0
    units_received: int = 0
    units_defective: int = 0

    @staticmethod
    def _share(part, whole) -> float | None:
        return round(100 * part / whole, 1) if whole else None

    @property
    def on_time_percent(self) -> float | None:
        return self._share(self.lines_on_time, self.lines_due)

    @property
    def fill_rate_percent(self) -> float | None:
        return self._share(self.units_filled, self.units_ordered)

    @property
    def defect_rate_percent(self) -> float | None:
        return self._share(self.units_defective, self.units_received)

    @property
    def mean_promised_days(self) -> float | None:
        return (
            round(sum(self.promised_days) / len(self.promised_days), 1)
            if self.promised_days
            else None
        )

    @property
    def mean_actual_days(self) -> float | None:
        return round(sum(self.actual_days) / len(self.actual_days), 1) if self.actual_days else None

    @property
    def mean_delay_days(self) -> float | None:
        if not self.actual_days:
            return None
        delays = [a - p for a, p in zip(self.actual_days, self.promised_days, strict=True)]
        return round(sum(delays) / len(delays), 1)

    @property
    def within_lead_time_percent(self) -> float | None:
        within = sum(a <= p for a, p in zip(self.actual_days, self.promised_days, strict=True))
        return self._share(within, len(self.actual_days))


def supplier_performance(
    supplier_ids=None, *, since: date | None = None, today: date | None = None
) -> dict[int, Performance]:
    """Performance per supplier id (all suppliers with sent POs when `supplier_ids` is None);
    `since` limits it to POs sent on or after that day."""
    today = today or timezone.localdate()
    lines = PurchaseOrderLine.objects.filter(
        purchase_order__kind=PurchaseOrder.Kind.STANDARD,
        purchase_order__state__in=SENT_STATES,
    )
    defects = SupplierDefect.objects.filter(supplier__isnull=False)
    if supplier_ids is not None:
        lines = lines.filter(purchase_order__supplier_id__in=list(supplier_ids))
        defects = defects.filter(supplier_id__in=list(supplier_ids))
    if since is not None:
        lines = lines.filter(purchase_order__sent_at__date__gte=since)
        defects = defects.filter(reported_at__date__gte=since)
    figures: dict[int, Performance] = defaultdict(Performance)
    rows = lines.annotate(last_receipt=Max("receipt_lines__receipt__received_at")).values_list(
        "purchase_order__supplier_id",
        "purchase_order__state",
        "purchase_order__sent_at",
        "expected_date",
        "quantity_ordered",
        "quantity_received",
        "last_receipt",
    )
    for supplier_id, state, sent_at, expected, ordered, received, last_receipt in rows:
        perf = figures[supplier_id]
        perf.units_received += received
        complete = received >= ordered
        due = complete or (expected is not None and expected < today)
        if due or state in (S.PARTIALLY_RECEIVED, S.RECEIVED, S.CLOSED):
            perf.units_ordered += ordered
            perf.units_filled += min(received, ordered)
        if not due:
            continue
        perf.lines_due += 1
        if complete and last_receipt is not None:
            arrived = timezone.localdate(last_receipt)
            if expected is None or arrived <= expected:
                perf.lines_on_time += 1
            if sent_at is not None and expected is not None:
                sent = timezone.localdate(sent_at)
                perf.promised_days.append((expected - sent).days)
                perf.actual_days.append((arrived - sent).days)
    for supplier_id, units in (
        defects.values("supplier_id")
        .annotate(units=Sum("quantity"))
        .values_list("supplier_id", "units")
    ):
        figures[supplier_id].units_defective += units
    return dict(figures)


def for_supplier(supplier: Supplier) -> Performance:
    return supplier_performance([supplier.pk]).get(supplier.pk, Performance())


def _match_supplier(name: str) -> Supplier | None:
    name = (name or "").strip()
    if not name:
        return None
    return (
        Supplier.objects.filter(Q(code__iexact=name) | Q(name__iexact=name))
        .order_by("-active", "pk")
        .first()
    )


def record_defect(payload: dict) -> SupplierDefect | None:
    """Store a returns supplier claim (once per claim) against the supplier it names."""
    if SupplierDefect.objects.filter(claim_id=payload["claim_id"]).exists():
        return None
    if (
        not Sku.objects.filter(pk=payload["sku_id"]).exists()
        or not Location.objects.filter(pk=payload["location_id"]).exists()
    ):
        return None
    occurred = payload.get("occurred_at")
    return SupplierDefect.objects.create(
        claim_id=payload["claim_id"],
        supplier=_match_supplier(payload.get("supplier", "")),
        supplier_name=str(payload.get("supplier", ""))[:128],
        sku_id=payload["sku_id"],
        location_id=payload["location_id"],
        quantity=int(payload["quantity"]),
        unit_cost=payload.get("unit_cost") or 0,
        amount=payload.get("amount") or 0,
        reason=str(payload.get("reason", ""))[:48],
        reported_at=(datetime.fromisoformat(occurred) if occurred else timezone.now()),
    )
