"""Demo purchasing: three suppliers with price lists, POs in every open state, one overdue.

Runs after inventory (stock exists) so the partial receipt books through the services.
"""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from erp import roles
from erp.models import Endpoint, Location, Sku
from purchasing.demo_planning import seed_replenishment
from purchasing.models import PaymentTerms, PurchaseOrder, Supplier, SupplierContact
from purchasing.services import escalation, purchase_orders, receiving, suppliers

SUPPLIERS = [
    dict(
        code="SUP-NORTHWIND",
        name="Northwind Traders",
        currency="USD",
        payment_terms=PaymentTerms.NET_30,
        order_email="orders@northwind.example.com",
        over_receipt_tolerance_percent=Decimal("5"),
    ),
    dict(
        code="SUP-RHEIN",
        name="Rhein Industriebedarf GmbH",
        currency="EUR",
        payment_terms=PaymentTerms.NET_45,
        order_email="bestellung@rhein.example.de",
        qa_hold=True,
    ),
    dict(
        code="SUP-PACIFIC",
        name="Pacific Components",
        currency="USD",
        payment_terms=PaymentTerms.NET_60,
    ),
]
CONTACTS = {
    "SUP-NORTHWIND": ("Dana Whitfield", "Sales", "dana@northwind.example.com", "+1 555 0101"),
    "SUP-RHEIN": ("Jonas Keller", "Vertrieb", "j.keller@rhein.example.de", "+49 30 555 0102"),
    "SUP-PACIFIC": ("Mei Tanaka", "Accounts", "mei@pacific.example.com", "+1 555 0103"),
}


def _pick(skus: list[Sku], start: int, count: int) -> list[Sku]:
    """`count` SKUs from `start`, wrapping round a small catalogue (`seed_demo --skus 20`)."""
    if not skus:
        return []
    return [skus[(start + n) % len(skus)] for n in range(min(count, len(skus)))]


def seed_purchasing(users) -> str:
    if Supplier.objects.exists():
        return "already seeded"
    buyer, manager, warehouse = users[roles.BUYER], users[roles.MANAGER], users[roles.WAREHOUSE]
    Endpoint.objects.get_or_create(
        code="supplier-mail",
        defaults={
            "name": "Purchase orders e-mailed to suppliers",
            "url": "https://mailer.example.com/hooks/purchase-orders",
        },
    )
    made = {}
    for spec in SUPPLIERS:
        supplier = suppliers.save_supplier(actor=buyer, **spec)
        name, role, email, phone = CONTACTS[supplier.code]
        SupplierContact.objects.create(
            supplier=supplier, name=name, role=role, email=email, phone=phone
        )
        made[supplier.code] = supplier
    dropship = Location.objects.filter(kind=Location.Kind.DROPSHIP).order_by("code").first()
    if dropship:
        made["SUP-ACME"] = suppliers.save_supplier(
            actor=buyer,
            code="SUP-ACME",
            name="Acme Drop-ship",
            currency="USD",
            order_email="dropship@acme.example.com",
            dropship_location=dropship,
        )
    plain = list(
        Sku.objects.filter(active=True, lot_tracked=False, serial_tracked=False).order_by("code")[
            :90
        ]
    )
    if len(plain) < 4:
        return "too few SKUs for purchasing demo data"
    # Northwind and Pacific are preferred for disjoint SKUs; Rhein quotes some of both.
    catalogue = {
        "SUP-NORTHWIND": plain[0::2][:40],
        "SUP-RHEIN": plain[0::3][:20],
        "SUP-PACIFIC": plain[1::2][:30],
    }
    for code, skus in catalogue.items():
        for index, sku in enumerate(skus):
            suppliers.save_supplier_item(
                actor=buyer,
                supplier=made[code],
                sku=sku,
                supplier_sku=f"{code[4:7]}-{sku.code[-5:]}",
                unit_cost=(sku.unit_cost * Decimal("0.6")).quantize(Decimal("0.01"))
                or Decimal("1.00"),
                lead_time_days=7 + (index % 3) * 7,
                moq=[1, 6, 12][index % 3],
                pack_multiple=[1, 6, 12][index % 3],
                preferred=code != "SUP-RHEIN",
            )
    east = Location.objects.get(code="WH-EAST")
    west = Location.objects.get(code="WH-WEST")

    def order(code, skus, destination, rate=None, multiplier=1):
        items = {item.sku_id: item for item in made[code].items.all()}
        return purchase_orders.create_purchase_order(
            supplier=made[code],
            destination=destination,
            exchange_rate=rate,
            actor=buyer,
            lines=[
                {
                    "sku": sku,
                    "quantity": max(items[sku.pk].moq, items[sku.pk].pack_multiple) * multiplier,
                }
                for sku in skus
            ],
        )

    def send(purchase_order, submitter=buyer):
        """Submit; above the threshold the manager approves it (never the submitter)."""
        purchase_orders.submit_purchase_order(purchase_order=purchase_order, actor=submitter)
        purchase_order.refresh_from_db()
        if purchase_order.state == "submitted":
            purchase_orders.decide_purchase_order(
                purchase_order=purchase_order, actor=manager, approve=True, note="Demo approval"
            )

    north, pacific = catalogue["SUP-NORTHWIND"], catalogue["SUP-PACIFIC"]
    order("SUP-NORTHWIND", _pick(north, 0, 4), east)  # a draft the buyer is still working on
    large = order("SUP-PACIFIC", _pick(pacific, 0, 6), west, multiplier=60)
    purchase_orders.submit_purchase_order(purchase_order=large, actor=buyer)  # waits for a manager
    sent = order("SUP-NORTHWIND", _pick(north, 4, 6), east)
    send(sent)
    partial = order("SUP-NORTHWIND", _pick(north, 10, 4), west, multiplier=2)
    send(partial)
    first = partial.lines.order_by("line_number").first()
    receiving.receive_goods(
        purchase_order=partial,
        actor=warehouse,
        lines=[{"line_id": first.pk, "quantity": first.quantity_ordered // 2 or 1}],
    )
    rhein = order("SUP-RHEIN", _pick(catalogue["SUP-RHEIN"], 0, 3), east, rate=Decimal("1.08"))
    send(rhein)
    late = order("SUP-PACIFIC", _pick(pacific, 6, 3), east)
    send(late)
    overdue = timezone.localdate() - timedelta(days=4)
    PurchaseOrder.objects.filter(pk=late.pk).update(expected_date=overdue)
    late.lines.update(expected_date=overdue)
    escalated = escalation.escalate_overdue_purchase_orders()
    cancelled = order("SUP-PACIFIC", _pick(pacific, 9, 2), west)
    purchase_orders.cancel_purchase_order(
        purchase_order=cancelled, actor=buyer, reason="Duplicate of a PO raised by phone."
    )
    planned = seed_replenishment(users)  # after the POs: open POs count against proposals
    return (
        f"{len(made)} suppliers, {PurchaseOrder.objects.count()} POs, {escalated} overdue; "
        f"{planned}"
    )
