from decimal import Decimal

import pytest

from erp.errors import NotPermitted, ValidationFailed
from erp.models import Channel, ChannelListing, Sku
from erp.services import master_data as services
from tests.factories import ChannelFactory, LocationFactory, SkuFactory

pytestmark = pytest.mark.django_db


def _codes(errors):
    return {(error.field, error.code) for error in errors}


def test_creating_a_sku_records_who_created_it(manager):
    sku = services.create_sku(
        actor=manager, data={"code": "TEE-01", "name": "Tee", "unit_cost": Decimal("4.50")}
    )

    record = sku.history.get()
    assert record.history_type == "+"
    assert record.history_user == manager
    assert record.history_change_reason == "created"


def test_a_duplicate_sku_code_is_refused_on_the_code_field(manager):
    SkuFactory(code="TEE-01")

    with pytest.raises(ValidationFailed) as caught:
        services.create_sku(actor=manager, data={"code": "TEE-01", "name": "Another"})

    assert ("code", "unique") in _codes(caught.value.errors)
    assert Sku.objects.filter(code="TEE-01").count() == 1


def test_expiry_tracking_without_lot_tracking_is_refused(manager):
    with pytest.raises(ValidationFailed) as caught:
        services.create_sku(
            actor=manager, data={"code": "MILK", "name": "Milk", "expiry_tracked": True}
        )

    assert caught.value.errors[0].message == "Expiry tracking needs lot tracking."
    assert not Sku.objects.filter(code="MILK").exists()


def test_unknown_fields_are_refused(manager):
    with pytest.raises(ValidationFailed) as caught:
        services.create_sku(actor=manager, data={"code": "X1", "name": "X", "colour": "red"})

    assert _codes(caught.value.errors) == {("colour", "unknown_field")}


def test_a_warehouse_user_cannot_edit_skus(warehouse_user):
    sku = SkuFactory()

    with pytest.raises(NotPermitted):
        services.update_sku(sku=sku, actor=warehouse_user, data={"name": "Renamed"})

    sku.refresh_from_db()
    assert sku.name != "Renamed"


def test_a_sku_cannot_substitute_itself(manager):
    sku = SkuFactory()

    with pytest.raises(ValidationFailed) as caught:
        services.update_sku(sku=sku, actor=manager, data={"substitutes": [sku]})

    assert ("substitutes", "self_substitute") in _codes(caught.value.errors)


def test_a_channel_needs_an_eligible_location(manager):
    with pytest.raises(ValidationFailed) as caught:
        services.create_channel(
            actor=manager,
            data={"code": "AMZ", "name": "Amazon", "kind": "amazon", "eligible_locations": []},
        )

    assert _codes(caught.value.errors) == {("eligible_locations", "required")}
    assert not Channel.objects.filter(code="AMZ").exists()


def test_an_inactive_location_cannot_be_made_eligible(manager):
    closed = LocationFactory(active=False)

    with pytest.raises(ValidationFailed) as caught:
        services.create_channel(
            actor=manager,
            data={
                "code": "AMZ",
                "name": "Amazon",
                "kind": "amazon",
                "eligible_locations": [closed],
            },
        )

    assert ("eligible_locations", "inactive") in _codes(caught.value.errors)


def test_a_location_a_channel_sells_only_from_cannot_be_deactivated(manager):
    only = LocationFactory()
    ChannelFactory(code="EBAY", eligible_locations=[only])

    with pytest.raises(ValidationFailed) as caught:
        services.update_location(location=only, actor=manager, data={"active": False})

    assert ("active", "sole_location") in _codes(caught.value.errors)
    only.refresh_from_db()
    assert only.active


def test_only_stores_keep_a_shelf_floor(manager):
    with pytest.raises(ValidationFailed):
        services.create_location(
            actor=manager,
            data={
                "code": "WH9",
                "name": "W",
                "kind": "warehouse",
                "region": "eu",
                "shelf_floor": 3,
            },
        )
    store = services.create_location(
        actor=manager,
        data={"code": "ST9", "name": "S", "kind": "store", "region": "eu", "shelf_floor": 3},
    )
    assert store.shelf_floor == 3


def test_an_inactive_sku_cannot_be_listed(manager):
    channel, sku = ChannelFactory(), SkuFactory(active=False)

    with pytest.raises(ValidationFailed) as caught:
        services.create_listing(
            actor=manager, data={"channel": channel, "sku": sku, "channel_sku": "A-1"}
        )

    assert ("sku", "inactive_sku") in _codes(caught.value.errors)
    assert not ChannelListing.objects.exists()


def test_a_channel_sku_is_unique_within_its_channel(manager):
    channel = ChannelFactory()
    services.create_listing(
        actor=manager, data={"channel": channel, "sku": SkuFactory(), "channel_sku": "A-1"}
    )

    with pytest.raises(ValidationFailed):
        services.create_listing(
            actor=manager, data={"channel": channel, "sku": SkuFactory(), "channel_sku": "A-1"}
        )

    other = ChannelFactory()
    services.create_listing(
        actor=manager, data={"channel": other, "sku": SkuFactory(), "channel_sku": "A-1"}
    )
    assert ChannelListing.objects.filter(channel_sku="A-1").count() == 2


def test_bulk_upsert_creates_updates_and_leaves_equal_rows_alone(manager):
    SkuFactory(code="KEEP", name="Keep", barcode="", unit_cost=Decimal("1.00"))
    SkuFactory(code="EDIT", name="Old name", barcode="")
    rows = [
        {"code": "KEEP", "name": "Keep", "unit_cost": Decimal("1.00")},
        {"code": "EDIT", "name": "New name"},
        {"code": "NEW", "name": "Brand new", "barcode": "123"},
    ]

    result = services.bulk_upsert_skus(actor=manager, rows=rows)

    assert (result.created, result.updated, result.unchanged) == (["NEW"], ["EDIT"], ["KEEP"])
    assert Sku.objects.get(code="EDIT").name == "New name"
    assert Sku.history.filter(code="KEEP").count() == 1
    assert Sku.history.get(code="NEW").history_user == manager


def test_bulk_upsert_again_changes_nothing(manager):
    rows = [{"code": f"C{n}", "name": f"SKU {n}"} for n in range(50)]
    services.bulk_upsert_skus(actor=manager, rows=rows)
    history_before = Sku.history.count()

    result = services.bulk_upsert_skus(actor=manager, rows=rows)

    assert len(result.unchanged) == 50 and not result.created and not result.updated
    assert Sku.history.count() == history_before


def test_bulk_upsert_is_all_or_nothing(manager):
    SkuFactory(code="HOLDER", barcode="999")
    rows = [
        {"code": "FINE", "name": "Fine"},
        {"code": "CLASH", "name": "Clash", "barcode": "999"},
        {"code": "FINE", "name": "Twice"},
    ]

    with pytest.raises(ValidationFailed) as caught:
        services.bulk_upsert_skus(actor=manager, rows=rows)

    assert _codes(caught.value.errors) == {
        ("skus[1].barcode", "unique"),
        ("skus[2].code", "duplicate"),
    }
    assert not Sku.objects.filter(code__in=["FINE", "CLASH"]).exists()


def test_bulk_upsert_reports_the_row_of_an_invalid_value(manager):
    rows = [{"code": "OK", "name": "Ok"}, {"code": "BAD", "name": "Bad", "expiry_tracked": True}]

    with pytest.raises(ValidationFailed) as caught:
        services.bulk_upsert_skus(actor=manager, rows=rows)

    assert _codes(caught.value.errors) == {("skus[1].expiry_tracked", "requires_lot")}
    assert not Sku.objects.exists()
