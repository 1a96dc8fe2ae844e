"""Every settings screen refuses bad input inline and writes nothing, asks for a reason,
is read-only for roles that do not manage it, exports its list and lists in a fixed
number of queries."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.urls import reverse
from openpyxl import load_workbook

from erp.errors import ValidationFailed
from erp.models import ApprovalPolicy, Channel
from erp.services.approvals import policy_for, update_approval_policy
from erp.views.settings_screens import APPROVAL_POLICIES
from orders.models import (
    ChannelOrderPolicy,
    DropshipSource,
    ShippingRate,
    ShippingZone,
    SubstitutionRule,
)
from orders.services import settings as order_settings
from orders.services.routing import RATE_TABLE_KEY, _rate_table
from orders.views.settings import SCREENS as ORDER_SCREENS
from returns.models import ReturnPolicy, ReturnReason
from returns.views.settings import SCREENS as RETURN_SCREENS
from tests.factories import ChannelFactory, LocationFactory, SkuFactory
from tests.factories.returns import ReturnPolicyFactory, ReturnReasonFactory

pytestmark = pytest.mark.django_db
SETTINGS_SCREENS = [*ORDER_SCREENS, *RETURN_SCREENS, APPROVAL_POLICIES]
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def rules(db):
    """One row of every setting, as the demo seeders make them."""
    east = LocationFactory(code="EAST", region="us-east")
    supplier = LocationFactory(code="SUPPLIER", region="us-east", kind="dropship")
    web = ChannelFactory(code="WEB", eligible_locations=[east])
    tee = SkuFactory(code="TEE", product_family="apparel")
    return {
        "east": east,
        "web": web,
        "tee": tee,
        "order_policy": ChannelOrderPolicy.objects.create(channel=web),
        "rate": ShippingRate.objects.create(
            origin_region="us-east", zone="mid", cost=Decimal("6.00"), transit_days=3
        ),
        "zone": ShippingZone.objects.create(country="US", postal_prefix="4", zone="mid"),
        "source": DropshipSource.objects.create(sku=tee, location=supplier, cost=Decimal("3")),
        "substitution": SubstitutionRule.objects.create(product_family="apparel"),
        "return_policy": ReturnPolicyFactory(channel=web, window_days=30),
        "return_reason": ReturnReasonFactory(code="too_small", label="Too small"),
        "approval": policy_for("inventory_write_off"),
    }


def _snapshot():
    """Every settings row and history row: a refused save changes neither."""
    models = [
        ChannelOrderPolicy,
        ShippingRate,
        ShippingZone,
        DropshipSource,
        SubstitutionRule,
        ReturnPolicy,
        ReturnReason,
        ApprovalPolicy,
    ]
    return [
        (list(model.objects.order_by("pk").values()), model.history.count()) for model in models
    ]


# (url name, record key or None for create, posted data, field refused, words of the error)
BAD_INPUT = [
    (
        "orders:order-policy-edit",
        "order_policy",
        {"priority": 10, "risk_threshold": "101"},
        "risk_threshold",
        "less than or equal to 100",
    ),
    (
        "orders:shipping-zone-create",
        None,
        {"country": "U1", "postal_prefix": "9", "zone": "mid"},
        "country",
        "two-letter",
    ),
    (
        "orders:shipping-zone-create",
        None,
        {"country": "US", "postal_prefix": "9", "zone": "remote"},
        "zone",
        "No shipping rate reaches zone remote",
    ),
    (
        "orders:shipping-rate-edit",
        "rate",
        {"origin_region": "us-east", "zone": "mid", "cost": "-1", "transit_days": 3},
        "cost",
        "zero or more",
    ),
    (
        "orders:shipping-rate-create",
        None,
        {"origin_region": "mars", "zone": "mid", "cost": "5", "transit_days": 3},
        "origin_region",
        "No active shipping node is in region mars",
    ),
    (
        "orders:dropship-source-create",
        None,
        {"sku": "TEE", "location": "EAST", "cost": "2", "transit_days": 4},
        "location",
        "EAST is not a drop-ship supplier node",
    ),
    (
        "orders:substitution-rule-create",
        None,
        {"product_family": "spaceships", "allowed": "on"},
        "product_family",
        "No SKU is in the product family",
    ),
    (
        "returns:return-policy-edit",
        "return_policy",
        {
            "window_days": 30,
            "receipt_expected_days": 14,
            "return_shipping_paid_by": "buyer",
            "restocking_fee_percent": "120",
        },
        "restocking_fee_percent",
        "less than or equal to 100",
    ),
    (
        "returns:return-policy-create",
        None,
        {
            "channel": "web",
            "receipt_expected_days": 14,
            "return_shipping_paid_by": "buyer",
            "restocking_fee_percent": "0",
        },
        "product_family",
        "already has a channel-wide policy",
    ),
    (
        "returns:return-reason-create",
        None,
        {"code": "too_small", "label": "Again"},
        "code",
        "exists",
    ),
    (
        "returns:return-reason-edit",
        "return_reason",
        {"label": ""},
        "label",
        "required",
    ),
    (
        "approval-policy-edit",
        "approval",
        {"label": "Write-off", "threshold": "-1", "active": "on"},
        "threshold",
        "greater than or equal to 0",
    ),
]


@pytest.mark.parametrize(("url_name", "record", "data", "field", "words"), BAD_INPUT)
def test_bad_input_is_refused_under_its_field_and_nothing_is_written(
    client, manager, rules, url_name, record, data, field, words
):
    client.force_login(manager)
    if data.get("channel") == "web":
        data = {**data, "channel": rules["web"].pk}
    args = [rules[record].pk] if record else []
    before = _snapshot()

    response = client.post(reverse(url_name, args=args), {**data, "reason": "trying"}, **HTMX)

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert words in " ".join(errors[field])
    assert "Nothing was saved" in response.content.decode()
    assert _snapshot() == before


def test_a_channel_left_without_an_eligible_node_is_refused(client, manager, rules):
    web = rules["web"]
    client.force_login(manager)

    response = client.post(
        reverse("channel-edit", args=[web.pk]),
        {
            "code": "WEB",
            "name": web.name,
            "kind": web.kind,
            "currency": "USD",
            "ship_by_sla_hours": 48,
            "fee_rate": "0.1",
            "return_window_days": 30,
            "refund_timing": web.refund_timing,
            "active": "on",
            "reason": "closing east",
        },
        **HTMX,
    )

    assert response.context["form"].errors["eligible_locations"]
    assert list(Channel.objects.get(pk=web.pk).eligible_locations.all()) == [rules["east"]]


def test_a_save_without_a_reason_is_refused_and_nothing_is_written(client, manager, rules):
    client.force_login(manager)
    before = _snapshot()

    response = client.post(
        reverse("approval-policy-edit", args=[rules["approval"].pk]),
        {"label": "Write-off", "threshold": "10", "active": "on", "reason": "  "},
        **HTMX,
    )

    assert response.context["form"].errors["reason"] == ["This field is required."]
    assert _snapshot() == before


def test_the_services_refuse_a_blank_reason_too(manager, rules):
    with pytest.raises(ValidationFailed) as refused:
        update_approval_policy(
            policy=rules["approval"], actor=manager, data={"threshold": 5}, reason=""
        )
    assert refused.value.errors[0].field == "reason"
    with pytest.raises(ValidationFailed):
        order_settings.update_shipping_rate(
            rate=rules["rate"], actor=manager, data={"cost": Decimal("1")}, reason=" "
        )
    assert ApprovalPolicy.objects.get(pk=rules["approval"].pk).threshold == Decimal("250.00")


def test_the_approval_permission_cannot_be_changed_through_the_threshold(manager, rules):
    with pytest.raises(ValidationFailed) as refused:
        update_approval_policy(
            policy=rules["approval"],
            actor=manager,
            data={"permission": "auth.add_user"},
            reason="sneaky",
        )
    assert refused.value.errors[0].field == "permission"


@pytest.mark.parametrize(
    "screen",
    SETTINGS_SCREENS,
    ids=lambda screen: screen.key,
)
def test_other_roles_read_settings_but_cannot_change_them(client, cs_user, rules, screen):
    client.force_login(cs_user)
    record = screen.queryset().first()
    assert record is not None, f"{screen.key} has no row to show"

    listing = client.get(screen.url("list"))
    detail = client.get(screen.url("detail", record.pk))

    assert listing.status_code == detail.status_code == 200
    edit_url = screen.url("edit", record.pk)
    assert edit_url not in listing.content.decode() + detail.content.decode()
    assert client.get(edit_url).status_code == 403
    before = _snapshot()
    assert client.post(edit_url, {"reason": "x"}).status_code == 403
    assert client.post(screen.url("preview", record.pk)).status_code == 403
    assert _snapshot() == before


@pytest.mark.parametrize("screen", SETTINGS_SCREENS, ids=lambda screen: screen.key)
def test_each_edit_form_asks_for_a_reason_and_loads_its_preview(client, manager, rules, screen):
    client.force_login(manager)
    record = screen.queryset().first()

    page = client.get(screen.url("edit", record.pk)).content.decode()
    preview = client.post(screen.url("preview", record.pk), {}, **HTMX)

    assert 'name="reason"' in page
    assert f'hx-post="{screen.url("preview", record.pk)}"' in page
    assert preview.status_code == 200
    assert "Before you save" in preview.content.decode()


def test_a_saved_setting_keeps_who_and_why_and_clears_the_rate_cache(
    client, manager, rules, django_capture_on_commit_callbacks
):
    _rate_table()
    assert cache.get(RATE_TABLE_KEY) is not None
    client.force_login(manager)
    zone = rules["zone"]

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("orders:shipping-zone-edit", args=[zone.pk]),
            {"country": "us", "postal_prefix": "43", "zone": "MID", "reason": "Ohio split"},
        )

    assert response.status_code == 302
    assert cache.get(RATE_TABLE_KEY) is None
    zone.refresh_from_db()
    assert (zone.country, zone.postal_prefix, zone.zone) == ("US", "43", "mid")
    entry = zone.history.first()
    assert (entry.history_user, entry.history_change_reason) == (manager, "Ohio split")
    history = client.get(reverse("orders:shipping-zone-history", args=[zone.pk])).content.decode()
    assert "Ohio split" in history and manager.username in history


def test_the_settings_index_lists_what_the_role_may_see(client, cs_user, manager, rules):
    client.force_login(cs_user)
    page = client.get(reverse("settings")).content.decode()
    for title in ("Approval thresholds", "Shipping rates", "Return policies", "SKUs"):
        assert title in page


def test_a_settings_list_exports_its_filtered_rows_as_csv(client, manager, rules):
    ShippingRate.objects.create(
        origin_region="us-west", zone="pacific", cost=Decimal("5"), transit_days=2
    )
    client.force_login(manager)

    response = client.get(reverse("orders:shipping-rate-export"), {"q": "pacific"})

    assert response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [
        ["origin region", "zone", "cost", "transit days"],
        ["us-west", "pacific", "5.00", "2"],
    ]
    book = client.get(reverse("orders:shipping-rate-export"), {"q": "pacific", "export": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(book.streaming_content))).active
    assert [[cell.value for cell in row] for row in sheet.iter_rows()][1] == [
        "us-west",
        "pacific",
        5,  # numbers stay numbers in the sheet
        2,
    ]


@pytest.mark.parametrize(
    "screen",
    SETTINGS_SCREENS,
    ids=lambda screen: screen.key,
)
def test_a_settings_list_runs_the_same_queries_for_one_row_and_many(client, manager, rules, screen):
    client.force_login(manager)
    url = screen.url("list")
    client.get(url)
    one_row = _queries_of(client, url)
    _add_rows(rules)
    client.get(url)
    many_rows = _queries_of(client, url)
    assert screen.queryset().count() > 1
    assert many_rows == one_row


def _queries_of(client, url) -> int:
    """Queries one GET runs (counted by a wrapper: the request resets the query log)."""
    count = 0

    def counting(execute, sql, params, many, context):
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counting):
        assert client.get(url).status_code == 200
    return count


def _add_rows(rules):
    """More rows of every setting (the approval kinds are fixed, the others grow)."""
    for number in range(3):
        node = LocationFactory(region=f"region-{number}")
        channel = ChannelFactory(eligible_locations=[node])
        ChannelOrderPolicy.objects.create(channel=channel)
        ShippingRate.objects.create(
            origin_region=node.region, zone="mid", cost=Decimal("4"), transit_days=2
        )
        ShippingZone.objects.create(country="US", postal_prefix=f"{number}0", zone="mid")
        supplier = LocationFactory(kind="dropship")
        DropshipSource.objects.create(sku=SkuFactory(), location=supplier, cost=Decimal("2"))
        SubstitutionRule.objects.create(product_family=f"family-{number}")
        ReturnPolicyFactory(channel=channel)
        ReturnReasonFactory()
    for kind in ("inventory_adjustment", "order_split"):
        policy_for(kind)
