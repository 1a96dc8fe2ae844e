"""Demo settlements: one per channel kind that settles (Amazon, Shopify, eBay), imported
by the finance user against orders on the books, leaving one variance of each kind in the
settlement variances queue:

- Amazon (AMZ-US, 15 %): everything matches, including a refund whose sale an earlier
  settlement paid; the FBA reimbursement is an *adjustment* to review;
- Shopify (WEB, 2.9 %): Shopify's 30 ¢ per charge is a *fee mismatch*; a refund the books
  never recorded is an *amount mismatch*;
- eBay (EBAY-US, 13.25 %): a refund for an order that is not ours is an *unmatched order*;
  a transaction type nobody knows is an *unknown line type*.

The demo orders' shipments predate the books: their receivable and expected fee are
brought forward against opening balance equity. Idempotent (importing again is a no-op).
"""

from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from erp import roles
from erp.models import Channel
from finance.models import JournalLine
from finance.services.chart import accounts_for
from finance.services.posting import credit, debit, money, post_entry
from finance.services.settlements import import_settlement
from orders.models import Order

DATA = Path(__file__).resolve().parent / "demo_data"

# channel code → (files in import order, orders on the books: ref → (sale, tax, refunded))
DEMO = {
    "AMZ-US": (
        ["amazon_settlement_v2_previous.tsv", "amazon_settlement_v2.tsv"],
        {
            "112-4829304-5566021": ("58.47", "5.00", None),
            "114-7730021-3349812": ("19.99", "1.65", None),
            "113-1029384-7712093": ("24.99", "2.06", "27.05"),
        },
    ),
    "WEB": (
        ["shopify_balance_transactions.json"],
        {
            "5841237409851": ("102.14", "0", None),
            "5841237409877": ("55.10", "0", None),
            "5841237402233": ("8.56", "0", None),  # refunded at Shopify, not on our books
        },
    ),
    "EBAY-US": (
        ["ebay_finances_transactions.json"],
        {"27-11842-90315": ("65.48", "6.14", None)},
    ),
}


def _order(channel: Channel, ref: str, sale: Decimal, tax: Decimal) -> Order:
    order = Order.objects.filter(channel=channel, external_id=ref).first()
    if order is not None:
        return order
    now = timezone.now()
    return Order.objects.create(
        channel=channel,
        external_id=ref,
        order_number=ref,
        state="shipped",
        placed_at=now,
        shipped_at=now,
        currency=channel.currency,
        payment_status="captured",
        ship_name="Demo Buyer",
        ship_country="US",
        total=sale + tax,
        tax_total=tax,
        raw_payload={},
        payload_hash="demo-settlement",
    )


def _bring_forward(order: Order, sale: Decimal, tax: Decimal, rate, actor) -> None:
    acc = accounts_for(
        {"receivable", "marketplace_fees", "opening_balance"},
        channel_id=order.channel_id,
    )
    if JournalLine.objects.filter(order=order, account_id=acc["receivable"]).exists():
        return
    dims = {"currency": order.currency, "channel_id": order.channel_id, "order_id": order.pk}
    fee = money(sale * rate)
    lines = [
        debit(acc["receivable"], sale + tax, **dims),
        credit(acc["opening_balance"], sale + tax, **dims),
        debit(acc["marketplace_fees"], fee, memo="expected marketplace fee", **dims),
        credit(acc["receivable"], fee, memo="expected marketplace fee", **dims),
    ]
    post_entry(
        lines=lines,
        memo=f"Demo: receivable of {order.external_id} brought forward",
        source_kind="opening_balance",
        source_id=order.pk,
        source_ref=order.external_id,
        event="finance.demo_brought_forward",
        actor=actor,
    )


def seed_settlements(users) -> str:
    actor = users.get(roles.FINANCE) if isinstance(users, dict) else None
    if actor is None:
        return "no finance user"
    imported = 0
    for code, (files, orders) in DEMO.items():
        channel = Channel.objects.filter(code=code).first()
        if channel is None:
            continue
        with transaction.atomic():
            for ref, (sale, tax, _refunded) in orders.items():
                sale, tax = Decimal(sale), Decimal(tax)
                order = _order(channel, ref, sale, tax)
                # The refund posts after the earlier settlement paid the sale.
                _bring_forward(order, sale, tax, channel.fee_rate, actor)
            for index, name in enumerate(files):
                if index == len(files) - 1:
                    for ref, (_, _, refunded) in orders.items():
                        if refunded:
                            order = Order.objects.get(channel=channel, external_id=ref)
                            _bring_forward_refund(order, refunded, actor)
                result = import_settlement(
                    channel=channel,
                    source="",
                    data=(DATA / name).read_bytes(),
                    actor=actor,
                    file_name=name,
                )
                imported += int(result.created)
    return f"{imported} settlements imported"


def _bring_forward_refund(order: Order, amount, actor) -> None:
    acc = accounts_for({"receivable", "refunds"}, channel_id=order.channel_id)
    dims = {"currency": order.currency, "channel_id": order.channel_id, "order_id": order.pk}
    post_entry(
        lines=[
            debit(acc["refunds"], Decimal(amount), **dims),
            credit(acc["receivable"], Decimal(amount), **dims),
        ],
        memo=f"Demo: refund of {order.external_id}",
        source_kind="opening_balance",
        source_id=order.pk,
        source_ref=order.external_id,
        event="finance.demo_refund",
        actor=actor,
    )
