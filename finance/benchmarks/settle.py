"""`bench settle`: import and reconcile one Amazon settlement of 100,000 lines against
30,000 orders whose shipments are on the books, through `import_settlement` (parse,
resolve orders, read the receivable and expected fees, write lines, order figures and
variances, post). Set-based: the query count does not grow with the lines."""

import time
from datetime import date
from decimal import Decimal

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from erp.benchmarks import register_benchmark
from erp.benchmarks.support import analyze, database_label
from erp.models import Channel
from erp.roles import system_actor
from finance.models import (
    JournalEntry,
    JournalLine,
    Settlement,
    SettlementLine,
    SettlementOrder,
    SettlementVariance,
)
from finance.services.chart import accounts_for
from finance.services.posting import ZERO, money, period_for
from finance.services.settlements import import_settlement
from finance.services.verification import ledger_differences
from orders.models import Order

ORDERS = 30_000
LINES = 100_000
RATE = Decimal("0.15")
HEADER = (
    "settlement-id\tsettlement-start-date\tsettlement-end-date\tdeposit-date\ttotal-amount\t"
    "currency\ttransaction-type\torder-id\tmerchant-order-id\tadjustment-id\tshipment-id\t"
    "marketplace-name\tamount-type\tamount-description\tamount\tfulfillment-id\tposted-date\t"
    "posted-date-time\torder-item-code\tmerchant-order-item-id\tmerchant-adjustment-item-id\t"
    "sku\tquantity-purchased\tpromotion-id"
)


def _order_figures(n: int):
    principal = Decimal(20 + n % 50) + Decimal("0.99")
    shipping = Decimal("4.99") if n % 6 == 0 else ZERO
    fee = money(principal * RATE) + money(shipping * RATE)
    return principal, Decimal("1.60"), shipping, fee


def _seed(stamp: str):
    channel = Channel.objects.create(
        code=f"BS{stamp}"[:32], name="settle bench", kind="amazon", fee_rate=RATE
    )
    now = timezone.now()
    orders = Order.objects.bulk_create(
        [
            Order(
                channel=channel,
                external_id=f"{stamp}-{n:06d}",
                order_number=f"{stamp}-{n:06d}",
                state="shipped",
                placed_at=now,
                currency="USD",
                payment_status="captured",
                raw_payload={},
                payload_hash="bench",
            )
            for n in range(ORDERS)
        ],
        batch_size=5000,
    )
    # Each shipment as the shipment rule posts it (receivable net of the expected fee,
    # revenue, tax, the expected fee), one small entry per order: the database checks each
    # entry's balance per line at commit.
    acc = accounts_for(
        {"receivable", "revenue", "sales_tax", "shipping_income", "marketplace_fees"},
        channel_id=channel.pk,
    )
    period = period_for(timezone.localdate())
    with transaction.atomic():
        entries = JournalEntry.objects.bulk_create(
            [
                JournalEntry(
                    date=timezone.localdate(),
                    period=period,
                    memo="bench shipment",
                    source_kind="shipment",
                    source_id=order.pk,
                    event="bench.shipment",
                )
                for order in orders
            ],
            batch_size=5000,
        )
        lines = []
        for n, (order, entry) in enumerate(zip(orders, entries, strict=True)):
            principal, tax, shipping, fee = _order_figures(n)
            dims = {"entry": entry, "currency": "USD", "channel": channel, "order": order}
            lines += [
                JournalLine(
                    account_id=acc["receivable"], debit=principal + tax + shipping - fee, **dims
                ),
                JournalLine(account_id=acc["marketplace_fees"], debit=fee, **dims),
                JournalLine(account_id=acc["revenue"], credit=principal, **dims),
                JournalLine(account_id=acc["sales_tax"], credit=tax, **dims),
            ]
            if shipping:
                lines.append(
                    JournalLine(account_id=acc["shipping_income"], credit=shipping, **dims)
                )
        JournalLine.objects.bulk_create(lines, batch_size=5000)
    analyze(Order, JournalEntry, JournalLine, Settlement, SettlementLine, SettlementOrder)
    return channel


def _settlement_file(stamp: str) -> bytes:
    """30,000 orders × (principal, tax, commission) + shipping on 5,000 + withheld tax on
    5,000 = 100,000 lines. Every 1,000th order is charged 0.50 more commission (a fee
    mismatch) and every 997th names an order we do not have (unmatched)."""
    sid = f"9{stamp}"
    rows, total = [], ZERO

    def line(order_ref, kind, description, amount):
        nonlocal total
        total += amount
        rows.append(
            f"{sid}\t\t\t\t\t\tOrder\t{order_ref}\t\t\t\tAmazon.com\t{kind}\t{description}\t"
            f"{amount}\tMFN\t2026-11-21\t2026-11-21 09:12:44 UTC\t\t\t\tBENCH-SKU\t1\t"
        )

    for n in range(ORDERS):
        principal, tax, shipping, fee = _order_figures(n)
        ref = f"{stamp}-{n:06d}" if n % 997 else f"{stamp}-X{n:06d}"
        line(ref, "ItemPrice", "Principal", principal)
        line(ref, "ItemPrice", "Tax", tax)
        if shipping:
            line(ref, "ItemPrice", "Shipping", shipping)
        elif n % 6 == 1:
            line(ref, "ItemWithheldTax", "MarketplaceFacilitatorTax-Principal", -tax)
        charged = fee + (Decimal("0.50") if n % 1000 == 999 else ZERO)
        line(ref, "ItemFees", "Commission", -charged)
    assert len(rows) == LINES, len(rows)
    summary = (
        f"{sid}\t2026-11-08 00:00:00 UTC\t2026-11-22 00:00:00 UTC\t2026-11-24 00:00:00 UTC\t"
        f"{total}\tUSD" + "\t" * 18
    )
    return "\n".join([HEADER, summary, *rows]).encode()


@register_benchmark("settle", "import + reconcile a 100,000-line settlement against 30,000 orders")
def run(out, **options):
    stamp = f"{int(time.time()) % 10_000_000:07d}"
    started = time.perf_counter()
    channel = _seed(stamp)
    data = _settlement_file(stamp)
    out.write(
        f"database: {database_label()}\n"
        f"seeded {ORDERS:,} orders with their shipment postings and a {len(data) / 1e6:.1f} MB "
        f"settlement file of {LINES:,} lines in {time.perf_counter() - started:.1f} s"
    )
    actor = system_actor()
    with CaptureQueriesContext(connection) as queries:
        began = time.perf_counter()
        result = import_settlement(
            channel=channel, source="", data=data, actor=actor, file_name=f"bench-{date.today()}"
        )
        elapsed = time.perf_counter() - began
    settlement = result.settlement
    variances = SettlementVariance.objects.filter(settlement=settlement)
    out.write(
        f"settlement {settlement.external_id}: {settlement.line_count:,} lines, "
        f"{settlement.matched_orders:,} of {settlement.order_count:,} orders matched, "
        f"{variances.filter(kind='fee_mismatch').count()} fee and "
        f"{variances.filter(kind='unmatched_order').count()} unmatched-order variances; "
        f"payout {settlement.total_amount} USD"
    )
    out.write(f"import + match + post: {elapsed:.2f} s in {len(queries)} queries")
    slowest = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:5]
    for query in slowest:
        out.write(f"  {float(query['time']):6.2f} s  {query['sql'][:110]}")
    check = ledger_differences()
    out.write(f"trial balance: {'balances' if not check.unbalanced else check.lines()}")
    return f"{LINES / elapsed:,.0f}".replace(",", ""), "lines/s"
