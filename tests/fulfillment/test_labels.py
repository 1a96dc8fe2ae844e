"""Labels: creating and voiding them, tracking numbers, and the printed label and slip."""

import re
import threading
from decimal import Decimal
from io import BytesIO

import pytest
from django.contrib.auth.models import Permission
from django.db import connections
from pypdf import PdfReader
from reportlab.graphics.barcode import code128

from erp.errors import Conflict, NotFound, NotPermitted, ValidationFailed
from fulfillment.models import Carrier, Package, PackageLine, Shipment
from fulfillment.pdf import BARCODE_HEIGHT
from fulfillment.services.labels import (
    create_label,
    render_label_pdf,
    render_packing_slip_pdf,
    tracking_number_for,
    void_label,
)
from orders.models import OrderEvent, OrderState
from tests.factories import (
    ChannelFactory,
    LocationFactory,
    OrderFactory,
    OrderLineFactory,
    SkuFactory,
    UserFactory,
)
from tests.fulfillment.test_rates import carrier_service, east_zones

pytestmark = pytest.mark.django_db
# With the actor's permissions already resolved: savepoint, lock the package's order,
# package (with whether it holds lines), earlier labels, quote (2), next id, number taken,
# insert + history (2), timeline row, release.
LABEL_QUERIES = 12


def packer_with(*codenames, username="packer", role="customer_service"):
    """A user of `role` given the fulfillment permissions named, whatever the role holds."""
    user = UserFactory(username=username, roles=[role])
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="fulfillment", codename__in=codenames)
    )
    return type(user).objects.get(pk=user.pk)  # no cached permissions


@pytest.fixture
def packer(role_groups):
    return packer_with("add_shipment", "change_shipment", role="warehouse")


@pytest.fixture
def node():
    east_zones()
    carrier_service("POST", "GROUND", base_price="4.10", transit_days=4)
    carrier_service("UPSX", "GROUND", base_price="5.20", transit_days=3)
    carrier_service("UPSX", "NDA", level="priority", base_price="21.00", transit_days=1)
    Carrier.objects.filter(code="POST").update(tracking_pattern=r"^94[0-9]{20}$")
    return LocationFactory(code="WH-NJ", name="Newark warehouse", region="us-east")


def packed_order(node, packer, *, lines=2, state=OrderState.PACKED, weight_grams=1200):
    channel = ChannelFactory(code="AMZ-US", kind="amazon", eligible_locations=[node])
    order = OrderFactory(
        channel=channel,
        external_id=f"112-{OrderFactory._meta.model.objects.count():07d}-1",
        order_number="112-4455667-1",
        state=state,
        ship_name="Grace Hopper",
        ship_line1="350 Fifth Avenue",
        ship_city="New York",
        ship_region="NY",
        ship_postal_code="10118",
    )
    package = Package.objects.create(
        order=order,
        location=node,
        length_mm=300,
        width_mm=200,
        height_mm=100,
        weight_grams=weight_grams,
        packed_by=packer,
    )
    for n in range(lines):
        sku = SkuFactory(code=f"SKU-{order.pk:04d}-{n:03d}", name=f"Widget {n}")
        line = OrderLineFactory(order=order, sku=sku, title=f"Blue widget no. {n}", quantity=2)
        PackageLine.objects.create(package=package, line=line, quantity=2)
    return package


def test_a_label_takes_the_cheapest_service_that_meets_the_promise_and_keeps_why(node, packer):
    package = packed_order(node, packer)

    shipment = create_label(package_id=package.pk, actor=packer)

    shipment.refresh_from_db()
    assert shipment.state == Shipment.State.LABEL_CREATED
    assert (shipment.carrier.code, shipment.service.code) == ("POST", "GROUND")
    assert shipment.package == package
    assert shipment.location == node
    assert shipment.cost == Decimal("6.10")  # 1–2 kg band (billable 1,200 g)
    assert shipment.transit_days == 4
    assert shipment.tracking_number == f"94{shipment.pk:020d}"
    explanation = shipment.rate_explanation
    assert explanation["chosen"] == explanation["selected"] == "POST:GROUND"
    assert explanation["overridden"] is False
    assert explanation["package"] == package.number
    assert explanation["billable_weight_grams"] == 1200
    assert [option["key"] for option in explanation["options"]] == [
        "POST:GROUND",
        "UPSX:GROUND",
        "UPSX:NDA",
    ]
    delivery = explanation["options"][0]["delivery_date"]
    assert shipment.promised_by.date().isoformat() == delivery
    assert [(h.history_type, h.history_user) for h in shipment.history.all()] == [("+", packer)]
    assert OrderEvent.objects.filter(order=package.order, kind="label").count() == 1


def test_the_packer_may_choose_another_quoted_service(node, packer):
    package = packed_order(node, packer)

    shipment = create_label(package_id=package.pk, actor=packer, service_code="NDA")

    assert (shipment.carrier.code, shipment.service.code) == ("UPSX", "NDA")
    assert shipment.cost == Decimal("23.00")
    assert re.fullmatch(r"UPSX[0-9]{12}", shipment.tracking_number)
    assert shipment.rate_explanation["chosen"] == "POST:GROUND"
    assert shipment.rate_explanation["selected"] == "UPSX:NDA"
    assert shipment.rate_explanation["overridden"] is True


def test_a_service_that_was_not_quoted_or_is_ambiguous_is_refused(node, packer):
    package = packed_order(node, packer)

    with pytest.raises(ValidationFailed) as unknown:
        create_label(package_id=package.pk, actor=packer, service_code="FEDEX:GROUND")
    with pytest.raises(ValidationFailed) as ambiguous:
        create_label(package_id=package.pk, actor=packer, service_code="GROUND")

    assert unknown.value.errors[0].field == "service_code"
    assert unknown.value.errors[0].code == "service_not_quoted"
    assert ambiguous.value.errors[0].code == "service_ambiguous"
    assert not Shipment.objects.exists()


def test_a_package_of_a_cancelled_order_gets_no_label(node, packer):
    package = packed_order(node, packer, state=OrderState.CANCELLED)

    with pytest.raises(Conflict) as error:
        create_label(package_id=package.pk, actor=packer)

    assert error.value.errors[0].code == "order_cancelled"
    assert not Shipment.objects.exists()


def test_an_empty_package_is_not_packed_and_gets_no_label(node, packer):
    package = packed_order(node, packer, lines=0, state=OrderState.PICKING)

    with pytest.raises(ValidationFailed) as error:
        create_label(package_id=package.pk, actor=packer)

    assert error.value.errors[0].field == "package_id"
    assert error.value.errors[0].code == "not_packed"
    assert not Shipment.objects.exists()


def test_a_missing_package_is_not_found(node, packer):
    with pytest.raises(NotFound) as error:
        create_label(package_id=987654, actor=packer)

    assert error.value.errors[0].field == "package_id"


def test_a_package_with_a_live_label_is_refused_until_the_label_is_voided(node, packer):
    package = packed_order(node, packer)
    first = create_label(package_id=package.pk, actor=packer)

    with pytest.raises(Conflict) as error:
        create_label(package_id=package.pk, actor=packer)
    assert error.value.errors[0].code == "label_exists"
    assert first.tracking_number in error.value.message

    void_label(shipment_id=first.pk, actor=packer, reason="printer jammed")
    second = create_label(package_id=package.pk, actor=packer)

    first.refresh_from_db()
    assert first.state == Shipment.State.VOIDED
    assert first.package is None
    assert first.history.earliest().package_id == package.pk
    assert second.package == package
    assert second.tracking_number != first.tracking_number
    assert Shipment.objects.filter(package=package, state="label_created").count() == 1


def test_voiding_records_the_reason_and_only_unshipped_labels_can_be_voided(node, packer):
    shipment = create_label(package_id=packed_order(node, packer).pk, actor=packer)

    with pytest.raises(ValidationFailed) as no_reason:
        void_label(shipment_id=shipment.pk, actor=packer, reason="  ")
    voided = void_label(shipment_id=shipment.pk, actor=packer, reason="wrong box")
    with pytest.raises(Conflict) as twice:
        void_label(shipment_id=shipment.pk, actor=packer, reason="again")

    assert no_reason.value.errors[0].field == "reason"
    assert twice.value.errors[0].code == "not_voidable"
    assert voided.voided_at is not None
    latest = shipment.history.latest()
    assert (latest.state, latest.history_change_reason, latest.history_user) == (
        "voided",
        "wrong box",
        packer,
    )
    assert OrderEvent.objects.filter(kind="label_voided", message__contains="wrong box").exists()


def test_a_shipped_label_cannot_be_voided(node, packer):
    shipment = create_label(package_id=packed_order(node, packer).pk, actor=packer)
    Shipment.objects.filter(pk=shipment.pk).update(state=Shipment.State.SHIPPED)

    with pytest.raises(Conflict) as error:
        void_label(shipment_id=shipment.pk, actor=packer, reason="too late")

    assert error.value.errors[0].code == "not_voidable"
    assert Shipment.objects.get(pk=shipment.pk).state == "shipped"


def test_labels_need_the_shipment_permissions(node, packer, role_groups):
    package = packed_order(node, packer)
    viewer = packer_with(username="viewer")
    labeller = packer_with("add_shipment", username="labeller")

    with pytest.raises(NotPermitted):
        create_label(package_id=package.pk, actor=viewer)
    shipment = create_label(package_id=package.pk, actor=labeller)
    with pytest.raises(NotPermitted):
        void_label(shipment_id=shipment.pk, actor=labeller, reason="no")

    assert Shipment.objects.get().state == "label_created"


def test_tracking_numbers_follow_the_carriers_pattern():
    usps = Carrier(code="POST", tracking_pattern=r"^94[0-9]{20}$")
    international = Carrier(code="POSTI", tracking_pattern=r"^EA\d{9}US$")
    courier = Carrier(code="SWFT", tracking_pattern=r"^SW[0-9A-Z]{10}$")
    plain = Carrier(code="LOCAL", tracking_pattern="")

    assert tracking_number_for(usps, 42) == "9400000000000000000042"
    assert tracking_number_for(international, 42) == "EA000000042US"
    assert tracking_number_for(courier, 123456) == "SW0000123456"
    assert tracking_number_for(plain, 7) == "LOCAL000000000007"


@pytest.mark.parametrize(
    "pattern, sequence, code",
    [
        (r"^[A-Z]{2}[0-9]{9}US$", 1, "tracking_pattern_unsupported"),
        (r"^1Z[0-9]{3}$", 1000, "tracking_numbers_exhausted"),
    ],
)
def test_a_pattern_numbers_cannot_be_issued_for_is_refused(pattern, sequence, code):
    with pytest.raises(ValidationFailed) as error:
        tracking_number_for(Carrier(code="ODD", tracking_pattern=pattern), sequence)

    assert error.value.errors[0].field == "carrier"
    assert error.value.errors[0].code == code


def test_many_labels_get_distinct_numbers_that_match_the_pattern(node, packer):
    numbers = [
        create_label(package_id=packed_order(node, packer, lines=1).pk, actor=packer)
        for _ in range(5)
    ]

    tracking = [shipment.tracking_number for shipment in numbers]
    assert len(set(tracking)) == 5
    assert all(re.fullmatch(r"94[0-9]{20}", number) for number in tracking)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_packers_labelling_the_same_package_at_once_make_one_label(node, role_groups):
    packer = packer_with("add_shipment", "change_shipment")
    package = packed_order(node, packer)
    barrier, outcomes = threading.Barrier(4), []

    def label():
        try:
            barrier.wait()
            outcomes.append(create_label(package_id=package.pk, actor=packer).tracking_number)
        except Conflict as error:
            outcomes.append(error.errors[0].code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=label) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(outcomes) == 4
    assert outcomes.count("label_exists") == 3
    (label,) = Shipment.objects.filter(package=package)
    assert label.tracking_number in outcomes


def pdf_text(data: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(BytesIO(data))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def barcode_value(data: bytes) -> str:
    """Decode the Code128 bars drawn on the page back to text (checksum verified)."""
    stream = PdfReader(BytesIO(data)).pages[0].get_contents().get_data().decode("latin-1")
    bars = [
        (float(x), float(w))
        for x, _y, w, h in re.findall(r"([\d.]+) ([\d.-]+) ([\d.]+) ([\d.]+) re f", stream)
        if float(h) == BARCODE_HEIGHT
    ]
    bars.sort()
    module = min(w for _, w in bars)
    elements = []
    for index, (x, w) in enumerate(bars):
        if index:
            previous_x, previous_w = bars[index - 1]
            elements.append(round((x - previous_x - previous_w) / module))
        elements.append(round(w / module))
    letters = "".join(
        chr((ord("A") if n % 2 == 0 else ord("a")) + width - 1) for n, width in enumerate(elements)
    )
    by_pattern = {pattern: value for value, pattern in code128._patterns.items()}
    symbols = [by_pattern[letters[i : i + 6]] for i in range(0, len(letters) - 7, 6)]
    assert by_pattern[letters[-7:]] == code128.stop
    start, *data, check = symbols
    assert check == (start + sum(i * v for i, v in enumerate(data, 1))) % 103
    text, code_set = "", {code128.startb: "B", code128.startc: "C"}[start]
    for value in data:
        if code_set == "C" and value < 100:
            text += f"{value:02d}"
        elif code_set == "B" and value < 95:
            text += chr(value + 32)
        else:
            code_set = {99: "C", 100: "B"}[value]
    return text


def test_the_label_is_4_by_6_inches_with_addresses_service_tracking_and_order(node, packer):
    shipment = create_label(package_id=packed_order(node, packer).pk, actor=packer)

    reader, text = pdf_text(render_label_pdf(shipment))

    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == (288.0, 432.0)
    for expected in [
        "Newark warehouse",
        "WH-NJ · us-east",
        "Grace Hopper",
        "350 Fifth Avenue",
        "New York NY 10118",
        "POST parcels · Ground",
        shipment.tracking_number,
        "Order AMZ-US 112-4455667-1",
        f"Package {shipment.package.number} · 1.20 kg",
    ]:
        assert expected in text


def test_the_label_barcode_encodes_the_tracking_number(node, packer):
    package = packed_order(node, packer)
    ups = create_label(package_id=package.pk, actor=packer, service_code="UPSX:GROUND")
    post = create_label(package_id=packed_order(node, packer).pk, actor=packer)

    assert barcode_value(render_label_pdf(ups)) == ups.tracking_number
    assert barcode_value(render_label_pdf(post)) == post.tracking_number
    assert ups.tracking_number.startswith("UPSX") and post.tracking_number.startswith("94")


def test_the_packing_slip_lists_only_this_packages_lines(node, packer):
    package = packed_order(node, packer, lines=3)
    other = Package.objects.create(
        order=package.order,
        location=node,
        length_mm=100,
        width_mm=100,
        height_mm=100,
        weight_grams=300,
        packed_by=packer,
    )
    extra = OrderLineFactory(
        order=package.order, sku=SkuFactory(code="SKU-ELSEWHERE"), title="Red gadget"
    )
    PackageLine.objects.create(package=other, line=extra, quantity=1)

    reader, text = pdf_text(render_packing_slip_pdf(package))

    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == (612.0, 792.0)
    assert "Packing slip" in text
    assert "Order AMZ-US 112-4455667-1" in text
    assert "350 Fifth Avenue" in text
    for line in package.lines.select_related("line__sku"):
        row = rf"{line.line.sku.code}\s+{line.line.title}\s+2\s"
        assert re.search(row, text), row
    assert "SKU-ELSEWHERE" not in text and "Red gadget" not in text
    assert "Units in this package: 6" in text


def test_a_long_packing_slip_continues_on_more_pages(node, packer):
    package = packed_order(node, packer, lines=70)

    reader, text = pdf_text(render_packing_slip_pdf(package))

    assert len(reader.pages) >= 2
    assert "page 2" in reader.pages[1].extract_text()
    assert all(f"SKU-{package.order.pk:04d}-{n:03d}" in text for n in range(70))
    assert "Units in this package: 140" in text


def test_creating_a_label_takes_the_same_queries_for_one_line_or_many(
    node, packer, django_assert_num_queries
):
    small, large = packed_order(node, packer, lines=1), packed_order(node, packer, lines=20)
    for n in range(6):
        carrier_service(f"EXTRA{n}", "GROUND", base_price=f"{9 + n}.00")
    create_label(package_id=packed_order(node, packer).pk, actor=packer)  # permissions resolved

    with django_assert_num_queries(LABEL_QUERIES):
        create_label(package_id=small.pk, actor=packer)
    with django_assert_num_queries(LABEL_QUERIES):
        create_label(package_id=large.pk, actor=packer)


def test_cancelling_an_order_voids_its_unshipped_labels(node, packer, cs_user):
    from orders.services.cancellation import cancel_order

    package = packed_order(node, packer)
    shipment = create_label(package_id=package.pk, actor=packer)

    cancel_order(order_id=package.order_id, actor=cs_user, reason="customer changed their mind")

    shipment.refresh_from_db()
    assert shipment.state == Shipment.State.VOIDED
    assert shipment.history.first().history_change_reason == "order cancelled"
    assert shipment.history.first().history_user == cs_user
    assert OrderEvent.objects.filter(order=package.order, kind="label_voided").count() == 1
