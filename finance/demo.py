"""Finance demo data: the books show figures on finance's first sign-in.

Runs after the other apps' demo data (INSTALLED_APPS order). Anything they did before
finance listened is replayed through the posting rules; then a few orders per marketplace
ship (reported by the node, the 3PL path), one comes back and is refunded, one unit is
written off, and last month is closed. Idempotent: the sales run once.
"""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from erp import roles
from erp.errors import DomainError
from erp.models import Channel, ChannelListing
from finance.models import JournalEntry, Period, PeriodStatus
from finance.services.backfill import replay_unposted
from finance.services.chart import ensure_chart_of_accounts
from finance.services.periods import close_period
from fulfillment.models import Carrier, CarrierService
from fulfillment.services.shipping import confirm_external_shipment
from inventory.models import StockBalance
from inventory.services.adjustments import request_adjustment
from orders.models import Allocation, Order
from orders.services.flow import evaluate_order
from returns.services.receiving import receive_return
from returns.services.refunds import request_refund
from returns.services.rmas import create_rma

DEMO_CHANNELS = ["WEB", "AMZ-US", "EBAY-US", "WMT"]
ORDERS_PER_CHANNEL = 3


def seed_finance(users) -> str:
    ensure_chart_of_accounts()
    replayed = replay_unposted()
    sold = 0
    if not Order.objects.filter(order_number__startswith="FIN-DEMO").exists():
        sold = _demo_sales(users)
    _close_last_month(users[roles.FINANCE])
    return (
        f"{JournalEntry.objects.count()} journal entries "
        f"({sum(replayed.values())} replayed, {sold} demo shipments)"
    )


def _stocked_listings(channel: Channel, count: int) -> list:
    """Listings of SKUs with free sellable stock at a node the channel sells from."""
    nodes = list(channel.eligible_locations.values_list("pk", flat=True))
    listings = (
        ChannelListing.objects.filter(
            channel=channel, active=True, sku__lot_tracked=False, sku__serial_tracked=False
        )
        .select_related("sku")
        .order_by("sku__code")
    )
    chosen = []
    for listing in listings:
        free = StockBalance.objects.filter(
            sku=listing.sku, location_id__in=nodes, status="sellable", on_hand__gte=10
        ).exists()
        if free:
            chosen.append(listing)
        if len(chosen) == count:
            break
    return chosen


def _demo_sales(users) -> int:
    from tests.factories.orders import OrderFactory, OrderLineFactory

    manager, integration = users[roles.MANAGER], users[roles.INTEGRATION]
    carrier = Carrier.objects.filter(code="UPSX").first()
    service = CarrierService.objects.filter(carrier=carrier, code="GROUND").first()
    if carrier is None or service is None:
        return 0
    shipped = []
    for channel in Channel.objects.filter(code__in=DEMO_CHANNELS).order_by("code"):
        listings = _stocked_listings(channel, ORDERS_PER_CHANNEL * 2)
        for index in range(min(ORDERS_PER_CHANNEL, len(listings) // 2)):
            number = f"FIN-DEMO-{channel.code}-{index + 1}"
            order = OrderFactory(
                channel=channel,
                external_id=f"{9100000 + index}",
                order_number=number,
                extra={"marketplace_id": "ATVPDKIKX0DER"} if channel.kind == "amazon" else {},
                currency=channel.currency,
                shipping_total=Decimal("4.99"),
                tax_total=Decimal("0"),
                customer_email="buyer@example.com",
            )
            for n, listing in enumerate(listings[index * 2 : index * 2 + 2]):
                price = (listing.sku.unit_cost * Decimal("2.2")).quantize(Decimal("0.01"))
                OrderLineFactory(
                    order=order,
                    line_number=n + 1,
                    external_line_id=str(n + 1),
                    external_item_id=f"{9200000 + index * 10 + n}",
                    sku=listing.sku,
                    channel_sku=listing.channel_sku,
                    quantity=1 + n,
                    unit_price=max(price, Decimal("9.99")),
                    title=listing.sku.name[:255],
                )
            evaluate_order(order=order, actor=manager)
            try:
                with transaction.atomic():
                    if _ship(order, carrier, service, integration):
                        shipped.append(order)
            except DomainError:
                continue  # the channel's upload format wants more than this demo order has
    if shipped:
        try:
            with transaction.atomic():
                _refund_one(shipped[0], users)
        except DomainError:
            pass  # the channel's return policy does not allow it in the demo
        _write_off_one(shipped[-1], manager)
    return len(shipped)


def _ship(order: Order, carrier, service, actor) -> bool:
    allocations = list(
        Allocation.objects.filter(line__order=order, active=True).select_related("location")
    )
    if not allocations or len({a.location_id for a in allocations}) != 1:
        return False
    order.refresh_from_db()
    if order.state != "released":
        return False
    confirm_external_shipment(
        order_id=order.pk,
        location_code=allocations[0].location.code,
        carrier_code=carrier.code,
        service_code=service.code,
        tracking_number=f"1Z{order.pk:016d}",
        lines=[{"line_id": a.line_id, "quantity": a.quantity} for a in allocations],
        actor=actor,
    )
    return True


def _refund_one(order: Order, users) -> None:
    line = order.lines.order_by("line_number").first()
    rma = create_rma(
        order_id=order.pk,
        lines=[{"order_line_id": line.pk, "quantity": 1, "reason": "defective"}],
        actor=users[roles.CUSTOMER_SERVICE],
    )
    node = order.shipments.first().location
    receive_return(
        rma_id=rma.pk,
        location=node,
        lines=[{"rma_line_id": rma_line.pk, "quantity": 1} for rma_line in rma.lines.all()],
        actor=users[roles.WAREHOUSE],
    )
    request_refund(rma_id=rma.pk, actor=users[roles.CUSTOMER_SERVICE])


def _write_off_one(order: Order, actor) -> None:
    line = order.lines.order_by("line_number").first()
    node = order.shipments.first().location
    request_adjustment(
        sku=line.sku,
        location=node,
        quantity=-1,
        reason_code="damage",
        actor=actor,
        note="dropped while restocking (finance demo)",
    )


def _close_last_month(actor) -> None:
    today = timezone.localdate()
    last = today.replace(day=1) - timezone.timedelta(days=1)
    period, _ = Period.objects.get_or_create(year=last.year, month=last.month)
    if period.status == PeriodStatus.OPEN:
        close_period(year=last.year, month=last.month, actor=actor)
