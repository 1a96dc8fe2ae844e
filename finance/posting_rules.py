"""Posting rules: ONE function per event kind, each subscribed to its domain event and
running in the event's transaction (an operation and its posting commit or roll back
together). Each posts through `post_entry`, once per (event, document).

Inventory is valued at `inventory.services.costing.unit_costs` at the moment of posting,
so the inventory account follows the valuation of stock on hand (`verify_ledger`).
Transfers post nothing: the value stays in inventory.
"""

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils import timezone

from erp import events
from finance.services.chart import accounts_for
from finance.services.posting import (
    CENT,
    ZERO,
    credit,
    debit,
    money,
    post_entry,
)
from fulfillment.services.shipping.messages import SHIPMENT_CONFIRMED
from inventory.services import costing
from inventory.services.adjustments import ADJUSTMENT_POSTED
from inventory.services.movements import STOCK_RECEIVED
from orders.models import Order, OrderLine
from returns.models import RefundLine, Rma
from returns.services.refunds import REFUND_POSTED

# Purchasing's events (CONTRACTS.md): subscribed by name, finance never imports purchasing.
GOODS_RECEIVED = "purchasing.goods_received"
LANDED_COST_APPLIED = "purchasing.landed_cost_applied"
RTV_SHIPPED = "purchasing.rtv_shipped"
SUPPLIER_CREDIT_RECORDED = "purchasing.supplier_credit_recorded"

RETURN_RECEIPT = "return_receipt"


def _value(quantity: int, unit_cost: Decimal) -> Decimal:
    return (quantity * unit_cost).quantize(CENT, rounding=ROUND_HALF_UP)


def _costs(pairs) -> dict[tuple[int, int], Decimal]:
    """Valuation cost per (sku, location): one costing call per node touched."""
    by_location = defaultdict(set)
    for sku_id, location_id in pairs:
        by_location[location_id].add(sku_id)
    costs = {}
    for location_id, sku_ids in by_location.items():
        for sku_id, cost in costing.unit_costs(sku_ids, location_id=location_id).items():
            costs[(sku_id, location_id)] = cost
    return costs


def _share(total, part: int, whole: int) -> Decimal:
    if not total or not whole:
        return ZERO
    return (Decimal(total) * part / whole).quantize(CENT, rounding=ROUND_HALF_UP)


@events.subscribe(SHIPMENT_CONFIRMED)
def post_shipment(event: events.DomainEvent) -> None:
    """Shipment confirmed: Dr receivable(channel) / Cr revenue(channel), sales tax and (with
    the order's first shipment) shipping income; Dr marketplace fees / Cr receivable at the
    channel's fee rate (the expected fee, trued up at settlement); Dr COGS / Cr inventory at
    valuation (drop-ship units: Cr purchase accrual, they were never our stock); Dr shipping
    expense / Cr carrier accrual for the label's cost."""
    p = event.payload
    order = (
        Order.objects.select_related("channel")
        .only(
            "currency",
            "shipping_total",
            "gift_wrap_total",
            "taxes_included",
            "channel__fee_rate",
            "order_number",
            "external_id",
        )
        .get(pk=p["order_id"])
    )
    channel_id, order_id, currency = p["channel_id"], order.pk, p.get("currency") or order.currency
    roles = {
        "receivable",
        "revenue",
        "sales_tax",
        "shipping_income",
        "marketplace_fees",
        "cogs",
        "inventory",
        "purchase_accrual",
        "shipping_expense",
        "carrier_accrual",
    }
    acc = accounts_for(roles, channel_id=channel_id)
    sale = {"currency": currency, "channel_id": channel_id, "order_id": order_id}
    base = {"currency": settings.BASE_CURRENCY, "channel_id": channel_id, "order_id": order_id}
    ordered = {
        row["pk"]: row
        for row in OrderLine.objects.filter(pk__in=[line["line_id"] for line in p["lines"]]).values(
            "pk", "quantity", "tax", "discount"
        )
    }
    costs = _costs({(line["sku_id"], p["location_id"]) for line in p["lines"]})
    # The expected fee per SKU (and on shipping) so margin by SKU carries its own fee.
    lines, receivable, fee_bases = [], ZERO, []
    for line in p["lines"]:
        sku_id, quantity = line["sku_id"], line["quantity"]
        ordered_line = ordered.get(line["line_id"], {})
        whole = ordered_line.get("quantity") or quantity
        tax = _share(ordered_line.get("tax"), quantity, whole)
        if line.get("unit_price") not in (None, "None"):
            gross = money(Decimal(line["unit_price"]) * quantity)
            revenue = gross - _share(ordered_line.get("discount"), quantity, whole)
            if order.taxes_included:
                revenue -= tax
            lines.append(credit(acc["revenue"], revenue, sku_id=sku_id, **sale))
            lines.append(credit(acc["sales_tax"], tax, sku_id=sku_id, **sale))
            receivable += revenue + tax
            fee_bases.append((sku_id, revenue))
        cost = _value(quantity, costs[(sku_id, p["location_id"])])
        dims = {"sku_id": sku_id, "location_id": p["location_id"], **base}
        lines.append(debit(acc["cogs"], cost, **dims))
        stock_account = acc["purchase_accrual"] if line.get("dropship") else acc["inventory"]
        lines.append(credit(stock_account, cost, **dims))
    shipping = (order.shipping_total or ZERO) + (order.gift_wrap_total or ZERO)
    if shipping and not _shipping_already_posted(acc["shipping_income"], order_id):
        lines.append(credit(acc["shipping_income"], shipping, **sale))
        receivable += shipping
        fee_bases.append((None, shipping))
    lines.append(debit(acc["receivable"], receivable, **sale))
    for sku_id, fee_base in fee_bases:
        fee = money(fee_base * order.channel.fee_rate)
        fee_dims = {"sku_id": sku_id, "memo": "expected marketplace fee", **sale}
        lines += [
            debit(acc["marketplace_fees"], fee, **fee_dims),
            credit(acc["receivable"], fee, **fee_dims),
        ]
    if p.get("cost"):
        lines += [
            debit(acc["shipping_expense"], p["cost"], memo=p.get("carrier", ""), **base),
            credit(acc["carrier_accrual"], p["cost"], memo=p.get("carrier", ""), **base),
        ]
    post_entry(
        lines=lines,
        memo=f"Shipment {p['shipment']} of order {order.order_number or order.external_id}",
        date=_day(event),
        late=True,
        source_kind="shipment",
        source_id=p["shipment_id"],
        source_ref=p["shipment"],
        event=event.name,
        actor=_actor(event),
    )


def _shipping_already_posted(account_id: int, order_id: int) -> bool:
    from finance.models import JournalLine

    return JournalLine.objects.filter(order_id=order_id, account_id=account_id).exists()


@events.subscribe(REFUND_POSTED)
def post_refund(event: events.DomainEvent) -> None:
    """Refund posted (by us or by the channel): Dr refunds per SKU, sales tax and shipping
    refunded / Cr restocking fees kept, Cr receivable(channel) for the amount paid back.
    A refund cut below the computed figure posts its whole amount to refunds."""
    p = event.payload
    channel_id = Order.objects.values_list("channel_id", flat=True).get(pk=p["order_id"])
    acc = accounts_for(
        {"refunds", "sales_tax", "restocking_fees", "receivable"}, channel_id=channel_id
    )
    dims = {"currency": p["currency"], "channel_id": channel_id, "order_id": p["order_id"]}
    amount = money(p["amount"])
    items, tax = money(p["items_amount"]), money(p["tax_amount"])
    shipping, fee = money(p["shipping_amount"]), money(p["restocking_fee"])
    lines = [credit(acc["receivable"], amount, **dims)]
    if items + tax + shipping - fee == amount:
        per_sku = defaultdict(lambda: ZERO)
        for sku_id, value in RefundLine.objects.filter(refund_id=p["refund_id"]).values_list(
            "rma_line__order_line__sku_id", "items_amount"
        ):
            per_sku[sku_id] += value
        spread = sum(per_sku.values(), ZERO)
        for sku_id, value in per_sku.items():
            lines.append(debit(acc["refunds"], value, sku_id=sku_id, **dims))
        lines.append(debit(acc["refunds"], items - spread, **dims))
        lines.append(debit(acc["sales_tax"], tax, **dims))
        lines.append(debit(acc["refunds"], shipping, memo="shipping refunded", **dims))
        lines.append(credit(acc["restocking_fees"], fee, **dims))
    else:
        lines.append(debit(acc["refunds"], amount, **dims))
    post_entry(
        lines=lines,
        memo=f"Refund {p['refund_number']} for {p.get('rma_number', '')}".strip(),
        date=_day(event),
        late=True,
        source_kind="refund",
        source_id=p["refund_id"],
        source_ref=p["refund_number"],
        event=event.name,
        actor=_actor(event),
    )


@events.subscribe(STOCK_RECEIVED)
def post_stock_receipt(event: events.DomainEvent) -> None:
    """Units booked in without a purchase order: Dr inventory at valuation / Cr "stock
    received without purchase order"; a customer return's units: Cr COGS (the cost comes
    back with the goods)."""
    p = event.payload
    if p.get("valued_by"):  # a purchase receipt: purchasing.goods_received posts it
        return
    sku_id, location_id = p["sku_id"], p["location_id"]
    returned = p["kind"] == RETURN_RECEIPT
    unit_cost = costing.unit_costs([sku_id], location_id=location_id)[sku_id]
    value = _value(p["quantity"], unit_cost)
    if not value:  # units of a SKU without a cost yet: nothing to put on the books
        return
    acc = accounts_for({"inventory", "cogs" if returned else "receipt_clearing"})
    dims = {"sku_id": sku_id, "location_id": location_id, "currency": settings.BASE_CURRENCY}
    if returned:  # the cost comes back to the order and channel that sold the goods
        rma = Rma.objects.filter(number=p.get("reference", "")).values("order_id", "channel_id")
        dims.update(rma.first() or {})
    other = acc["cogs"] if returned else acc["receipt_clearing"]
    post_entry(
        lines=[debit(acc["inventory"], value, **dims), credit(other, value, **dims)],
        memo=f"{'Return receipt' if returned else 'Stock receipt'} {p.get('reference', '')}",
        date=_day(event),
        late=True,
        source_kind="stock_receipt",
        source_id=p["ledger_entry_id"],
        source_ref=p.get("reference", "")[:64],
        event=event.name,
        actor=_actor(event),
    )


@events.subscribe(ADJUSTMENT_POSTED)
def post_adjustment(event: events.DomainEvent) -> None:
    """Adjustment or write-off posted: a loss Dr shrink / Cr inventory, a gain Dr inventory
    / Cr inventory gains, at valuation."""
    p = event.payload
    sku_id, location_id, quantity = p["sku_id"], p["location_id"], p["quantity"]
    unit_cost = costing.unit_costs([sku_id], location_id=location_id)[sku_id]
    value = _value(abs(quantity), unit_cost)
    if not value:  # a SKU without a cost: the units move, no money does
        return
    acc = accounts_for({"inventory", "shrink", "inventory_gain"})
    dims = {"sku_id": sku_id, "location_id": location_id, "currency": settings.BASE_CURRENCY}
    if quantity < 0:
        lines = [debit(acc["shrink"], value, **dims), credit(acc["inventory"], value, **dims)]
    else:
        lines = [
            debit(acc["inventory"], value, **dims),
            credit(acc["inventory_gain"], value, **dims),
        ]
    post_entry(
        lines=lines,
        memo=f"{'Write-off' if p.get('write_off') else 'Adjustment'} {p['reference']} "
        f"({p.get('reason_code', '')})",
        date=_day(event),
        late=True,
        source_kind="adjustment",
        source_id=p["adjustment_id"],
        source_ref=p["reference"],
        event=event.name,
        actor=_actor(event),
    )


@events.subscribe(GOODS_RECEIVED)
def post_goods_received(event: events.DomainEvent) -> None:
    """Goods received on a purchase order: Dr inventory per line / Cr purchase accrual
    (goods received not invoiced), at the receipt's cost."""
    p = event.payload
    acc = accounts_for({"inventory", "purchase_accrual"})
    base = {"currency": p.get("currency") or settings.BASE_CURRENCY}
    lines, total = [], ZERO
    for line in p["lines"]:
        amount = money(line["amount"])
        lines.append(
            debit(
                acc["inventory"],
                amount,
                sku_id=line["sku_id"],
                location_id=line["location_id"],
                **base,
            )
        )
        total += amount
    lines.append(credit(acc["purchase_accrual"], total, **base))
    post_entry(
        lines=lines,
        memo=f"Goods received on PO {p['purchase_order_id']} (receipt {p['receipt_id']})",
        date=_day(event),
        late=True,
        source_kind="goods_receipt",
        source_id=p["receipt_id"],
        source_ref=f"PO-{p['purchase_order_id']}",
        event=event.name,
        actor=_actor(event),
    )


@events.subscribe(LANDED_COST_APPLIED)
def post_landed_cost(event: events.DomainEvent) -> None:
    """Landed cost applied: Dr inventory for what the stock's value absorbed, Dr COGS for
    what could not be capitalized / Cr landed cost accrual for the charges."""
    p = event.payload
    acc = accounts_for({"inventory", "cogs", "landed_cost_accrual"})
    base = {"currency": p.get("currency") or settings.BASE_CURRENCY}
    charge_ids = sorted(p["charge_ids"])
    post_entry(
        lines=[
            debit(acc["inventory"], p["capitalized"], memo="landed cost capitalized", **base),
            debit(acc["cogs"], p["expensed"], memo="landed cost expensed", **base),
            credit(acc["landed_cost_accrual"], p["total"], **base),
        ],
        memo=f"Landed cost on PO {p['purchase_order_id']} "
        f"(charges {', '.join(map(str, charge_ids))})",
        date=_day(event),
        late=True,
        source_kind="landed_cost",
        source_id=charge_ids[0] if charge_ids else p["purchase_order_id"],
        source_ref=f"PO-{p['purchase_order_id']}",
        event=event.name,
        actor=_actor(event),
    )


@events.subscribe(RTV_SHIPPED)
def post_rtv_shipped(event: events.DomainEvent) -> None:
    """Return to vendor shipped: Dr supplier credit receivable for what the supplier owes /
    Cr inventory at valuation; a difference between the two goes to COGS."""
    p = event.payload
    acc = accounts_for({"inventory", "supplier_credit", "cogs"})
    base = {"currency": p.get("currency") or settings.BASE_CURRENCY}
    costs = _costs({(line["sku_id"], line["location_id"]) for line in p["lines"]})
    lines, claimed, valued = [], ZERO, ZERO
    for line in p["lines"]:
        key = (line["sku_id"], line["location_id"])
        value = _value(line["quantity"], costs[key])
        dims = {"sku_id": key[0], "location_id": key[1], **base}
        lines.append(credit(acc["inventory"], value, **dims))
        valued += value
        claimed += money(line["amount"])
    lines.append(debit(acc["supplier_credit"], claimed, **base))
    lines.append(debit(acc["cogs"], valued - claimed, memo="return to vendor at cost", **base))
    post_entry(
        lines=lines,
        memo=f"Return to vendor RTV-{p['rtv_id']} shipped",
        date=_day(event),
        late=True,
        source_kind="rtv",
        source_id=p["rtv_id"],
        source_ref=f"RTV-{p['rtv_id']}",
        event=event.name,
        actor=_actor(event),
    )


@events.subscribe(SUPPLIER_CREDIT_RECORDED)
def post_supplier_credit(event: events.DomainEvent) -> None:
    """The supplier's credit note arrived: Dr accounts payable / Cr supplier credit
    receivable."""
    p = event.payload
    acc = accounts_for({"payable", "supplier_credit"})
    base = {"currency": p.get("currency") or settings.BASE_CURRENCY}
    post_entry(
        lines=[
            debit(acc["payable"], p["amount"], **base),
            credit(acc["supplier_credit"], p["amount"], **base),
        ],
        memo=f"Supplier credit {p.get('credit_note_ref', '')} for RTV-{p['rtv_id']}",
        date=_day(event),
        late=True,
        source_kind="rtv",
        source_id=p["rtv_id"],
        source_ref=str(p.get("credit_note_ref", ""))[:64],
        event=event.name,
        actor=_actor(event),
    )


def _day(event: events.DomainEvent):
    return timezone.localdate(event.occurred_at)


def _actor(event: events.DomainEvent):
    if event.actor_id is None:
        return None
    from django.contrib.auth import get_user_model

    return get_user_model()(pk=event.actor_id)


POSTING_RULES = {
    SHIPMENT_CONFIRMED: post_shipment,
    REFUND_POSTED: post_refund,
    STOCK_RECEIVED: post_stock_receipt,
    ADJUSTMENT_POSTED: post_adjustment,
    GOODS_RECEIVED: post_goods_received,
    LANDED_COST_APPLIED: post_landed_cost,
    RTV_SHIPPED: post_rtv_shipped,
    SUPPLIER_CREDIT_RECORDED: post_supplier_credit,
}
