"""Settlement fixtures and orders whose shipment is on the books (receivable and the
expected fee posted as the shipment rule posts them)."""

from decimal import Decimal
from pathlib import Path

from finance.services.chart import accounts_for
from finance.services.posting import credit, debit, money, post_entry
from tests.factories.orders import OrderFactory

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "settlements"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def booked_order(channel, external_id: str, *, sale, tax="0", fee=None, **fields):
    """An order whose shipment posted: Dr receivable / Cr revenue and sales tax, and the
    expected fee (Dr fees / Cr receivable) at the channel's fee rate unless `fee` says."""
    sale, tax = Decimal(sale), Decimal(tax)
    order = OrderFactory(
        channel=channel, external_id=external_id, total=sale + tax, tax_total=tax, **fields
    )
    fee = money(sale * channel.fee_rate) if fee is None else Decimal(fee)
    acc = accounts_for(
        {"receivable", "revenue", "sales_tax", "marketplace_fees"}, channel_id=channel.pk
    )
    dims = {"currency": order.currency, "channel_id": channel.pk, "order_id": order.pk}
    post_entry(
        lines=[
            debit(acc["receivable"], sale + tax, **dims),
            credit(acc["revenue"], sale, **dims),
            credit(acc["sales_tax"], tax, **dims),
            debit(acc["marketplace_fees"], fee, memo="expected marketplace fee", **dims),
            credit(acc["receivable"], fee, memo="expected marketplace fee", **dims),
        ],
        memo=f"Shipment of {external_id}",
        source_kind="shipment",
        source_id=order.pk,
        event="test.shipment",
    )
    return order


def booked_refund(order, amount) -> None:
    acc = accounts_for({"receivable", "refunds"}, channel_id=order.channel_id)
    dims = {"currency": order.currency, "channel_id": order.channel_id, "order_id": order.pk}
    post_entry(
        lines=[
            debit(acc["refunds"], Decimal(amount), **dims),
            credit(acc["receivable"], Decimal(amount), **dims),
        ],
        memo=f"Refund of {order.external_id}",
        source_kind="refund",
        source_id=order.pk,
        event="test.refund",
    )
