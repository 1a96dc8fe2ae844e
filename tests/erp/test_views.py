"""The back office: sign-in, navigation, master-data screens and record history."""

from decimal import Decimal

import pytest
from django.urls import reverse

from erp.models import ChannelListing, Location, Sku
from erp.services import master_data as services
from tests.factories import (
    ChannelFactory,
    LocationFactory,
    SkuFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PASSWORD = "pass-for-tests-1"
HTMX = {"HTTP_HX_REQUEST": "true"}
SKU_FORM_FIELDS = [
    "code",
    "name",
    "barcode",
    "product_family",
    "active",
    "unit_of_measure",
    "pack_quantity",
    "weight_grams",
    "length_mm",
    "width_mm",
    "height_mm",
    "unit_cost",
    "lot_tracked",
    "serial_tracked",
    "expiry_tracked",
]


def sku_form_data(sku=None, **changes) -> dict:
    """What the SKU form posts: unchecked boxes are absent, as a browser sends them."""
    values = {name: getattr(sku, name) for name in SKU_FORM_FIELDS} if sku else {}
    values.update(changes)
    data = {name: value for name, value in values.items() if value is not False}
    data.setdefault("reason", "test change")
    data["substitutes"] = [s.pk for s in changes.get("substitutes", [])] or (
        [s.pk for s in sku.substitutes.all()] if sku else []
    )
    return data


# --- signing in ---------------------------------------------------------------------------


def test_a_manager_signs_in_and_lands_on_the_dashboard(client, manager):
    response = client.post(reverse("login"), {"username": manager.username, "password": PASSWORD})

    assert response.status_code == 302
    assert response.url == reverse("dashboard")
    assert client.get(reverse("dashboard")).status_code == 200


def test_an_integration_account_is_refused_at_sign_in(client, integration_user):
    response = client.post(
        reverse("login"), {"username": integration_user.username, "password": PASSWORD}
    )

    assert response.status_code == 200
    assert "integration account" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_integration_session_cannot_open_back_office_pages(client, integration_user):
    client.force_login(integration_user)

    assert client.get(reverse("dashboard")).status_code == 403
    assert client.get(reverse("sku-list")).status_code == 403


def test_back_office_pages_send_strangers_to_sign_in(client):
    response = client.get(reverse("sku-list"))

    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={reverse('sku-list')}"


def test_an_htmx_request_with_an_expired_session_redirects_the_whole_page(client):
    response = client.get(
        reverse("sku-list"), {"q": "tee"}, HTTP_HX_CURRENT_URL="http://testserver/skus/", **HTMX
    )

    assert response.status_code == 200
    assert response["HX-Redirect"] == f"{reverse('login')}?next=/skus/"


def test_signing_out_takes_a_post(client, manager):
    client.force_login(manager)

    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


# --- navigation ---------------------------------------------------------------------------


def test_navigation_offers_api_docs_to_managers_only(client, manager, warehouse_user):
    client.force_login(manager)
    assert reverse("api-docs") in client.get(reverse("dashboard")).content.decode()

    client.force_login(warehouse_user)
    assert reverse("api-docs") not in client.get(reverse("dashboard")).content.decode()


# --- lists --------------------------------------------------------------------------------


def test_sku_search_over_htmx_returns_only_the_results_partial_with_matching_rows(client, manager):
    SkuFactory(code="BOLT-1", name="Hex bolt")
    SkuFactory(code="NUT-1", name="Wing nut")
    client.force_login(manager)

    response = client.get(reverse("sku-list"), {"q": "bolt"}, **HTMX)

    content = response.content.decode()
    assert content.lstrip().startswith('<div id="results"')
    assert "<html" not in content
    assert "BOLT-1" in content
    assert "NUT-1" not in content
    assert "HX-Request" in response["Vary"]


def test_a_plain_or_boosted_request_gets_the_whole_list_page(client, manager):
    client.force_login(manager)

    plain = client.get(reverse("sku-list"))
    boosted = client.get(reverse("sku-list"), HTTP_HX_BOOSTED="true", **HTMX)

    for response in (plain, boosted):
        assert "<html" in response.content.decode()
        assert 'hx-trigger="input changed delay:250ms, search"' in response.content.decode()


def test_sku_list_filters_by_family_and_status(client, manager):
    SkuFactory(code="SHOE-1", product_family="footwear")
    SkuFactory(code="SHOE-2", product_family="footwear", active=False)
    SkuFactory(code="LAMP-1", product_family="home")
    client.force_login(manager)

    response = client.get(reverse("sku-list"), {"family": "footwear", "active": "yes"}, **HTMX)

    codes = [sku.code for sku in response.context["page"].object_list]
    assert codes == ["SHOE-1"]


def test_sku_list_is_paginated_by_fifty(client, manager):
    SkuFactory.create_batch(51)
    client.force_login(manager)

    first = client.get(reverse("sku-list"))
    second = client.get(reverse("sku-list"), {"page": 2}, **HTMX)

    assert len(first.context["page"].object_list) == 50
    assert len(second.context["page"].object_list) == 1
    assert "Page 2 of 2" in second.content.decode()


def test_listing_list_filters_by_channel(client, manager):
    amazon, ebay = ChannelFactory(code="AMZ"), ChannelFactory(code="EBAY")
    sku = SkuFactory()
    ChannelListing.objects.create(channel=amazon, sku=sku, channel_sku="A-1")
    ChannelListing.objects.create(channel=ebay, sku=sku, channel_sku="E-1")
    client.force_login(manager)

    response = client.get(reverse("listing-list"), {"channel": "EBAY"}, **HTMX)

    assert [row.channel_sku for row in response.context["page"].object_list] == ["E-1"]


def test_the_sku_list_runs_the_same_queries_for_one_sku_and_for_many(
    client, manager, django_assert_num_queries
):
    SkuFactory()
    client.force_login(manager)
    url = reverse("sku-list")
    client.get(url)

    # session, user, roles, count, page, families
    with django_assert_num_queries(6):
        client.get(url)
    SkuFactory.create_batch(40)
    with django_assert_num_queries(6):
        client.get(url)


def test_the_channel_list_runs_the_same_queries_for_one_channel_and_for_many(
    client, manager, django_assert_num_queries
):
    ChannelFactory()
    client.force_login(manager)
    url = reverse("channel-list")
    client.get(url)

    # session, user, roles, count, page, eligible locations
    with django_assert_num_queries(6):
        client.get(url)
    for _ in range(6):
        ChannelFactory(eligible_locations=[LocationFactory(), LocationFactory()])
    with django_assert_num_queries(6):
        client.get(url)


# --- create and edit ----------------------------------------------------------------------


def test_creating_a_sku_with_invalid_data_shows_inline_errors_and_writes_nothing(client, manager):
    SkuFactory(code="TEE-01")
    client.force_login(manager)
    skus_before = Sku.objects.count()
    history_before = Sku.history.count()

    response = client.post(
        reverse("sku-create"),
        sku_form_data(
            code="TEE-01",
            name="Tee",
            unit_of_measure="each",
            pack_quantity=1,
            weight_grams=100,
            length_mm=1,
            width_mm=1,
            height_mm=1,
            unit_cost="-1.00",
            active=True,
            expiry_tracked=True,
        ),
        **HTMX,
    )

    assert response.status_code == 200
    content = response.content.decode()
    assert content.lstrip().startswith('<form id="record-form"')
    form = response.context["form"]
    assert form.errors["code"] == ["Sku with this Code already exists."]
    assert form.errors["unit_cost"] == ["Ensure this value is greater than or equal to 0."]
    assert form.non_field_errors() == ["Expiry tracking needs lot tracking."]
    assert 'id="id_unit_cost_error"' in content
    assert Sku.objects.count() == skus_before
    assert Sku.history.count() == history_before


def test_a_required_field_left_empty_is_refused_without_javascript_too(client, manager):
    sku = SkuFactory()
    client.force_login(manager)

    response = client.post(reverse("sku-edit", args=[sku.pk]), sku_form_data(sku, name=""))

    assert response.status_code == 200
    assert "<html" in response.content.decode()
    assert response.context["form"].errors["name"] == ["This field is required."]
    sku.refresh_from_db()
    assert sku.name != ""


def test_creating_a_sku_redirects_to_its_page(client, manager):
    client.force_login(manager)

    response = client.post(
        reverse("sku-create"),
        sku_form_data(
            code="MUG-1",
            name="Mug",
            unit_of_measure="each",
            pack_quantity=1,
            weight_grams=300,
            length_mm=90,
            width_mm=90,
            height_mm=100,
            unit_cost="3.20",
            active=True,
        ),
    )

    sku = Sku.objects.get(code="MUG-1")
    assert response.status_code == 302
    assert response.url == reverse("sku-detail", args=[sku.pk])
    assert sku.history.get().history_user == manager


def test_a_valid_edit_saves_and_shows_up_in_the_history_tab_with_the_field_diff(client, manager):
    sku = SkuFactory(name="Plain tee", unit_cost=Decimal("4.5000"))
    substitute = SkuFactory(code="TEE-ALT", name="Alternative tee")
    client.force_login(manager)

    response = client.post(
        reverse("sku-edit", args=[sku.pk]),
        sku_form_data(sku, name="Organic tee", unit_cost="5.2500", substitutes=[substitute]),
        **HTMX,
    )

    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("sku-detail", args=[sku.pk])
    sku.refresh_from_db()
    assert sku.name == "Organic tee"
    assert list(sku.substitutes.all()) == [substitute]

    history = client.get(reverse("sku-history", args=[sku.pk]), **HTMX)

    content = history.content.decode()
    assert content.lstrip().startswith('<section id="record-tabs"')
    # simple-history records the many-to-many change as a second entry of the same edit.
    edits = [
        entry for entry in history.context["history"].entries if entry.change_type == "changed"
    ]
    assert {(entry.record.history_user, entry.record.history_change_reason) for entry in edits} == {
        (manager, "test change")
    }
    changes = {change.label: change for entry in edits for change in entry.changes}
    assert (changes["Name"].old, changes["Name"].new) == ("Plain tee", "Organic tee")
    assert (changes["Unit cost"].old, changes["Unit cost"].new) == ("4.5000", "5.2500")
    assert changes["Substitutes"].added == ["TEE-ALT · Alternative tee"]
    assert "Organic tee" in content
    assert "+ TEE-ALT · Alternative tee" in content


def test_the_history_page_works_without_javascript(client, manager):
    location = LocationFactory()
    services.update_location(location=location, actor=manager, data={"name": "Renamed"})
    client.force_login(manager)

    response = client.get(reverse("location-history", args=[location.pk]))

    content = response.content.decode()
    assert "<html" in content
    assert 'aria-selected="true">History' in content.replace("\n", "").replace("  ", "")
    assert "Renamed" in content


def test_the_history_tab_runs_the_same_queries_for_few_and_many_changes(
    client, manager, django_assert_num_queries
):
    location = LocationFactory()
    services.update_location(location=location, actor=manager, data={"region": "eu-1"})
    client.force_login(manager)
    url = reverse("location-history", args=[location.pk])
    client.get(url, **HTMX)

    # session, user, roles, location, count, records
    with django_assert_num_queries(6):
        client.get(url, **HTMX)
    for number in range(10):
        other = UserFactory(username=f"editor-{number}", roles=["manager"])
        services.update_location(location=location, actor=other, data={"priority": number})
    client.get(url, **HTMX)  # new role memberships invalidated the cached permissions
    with django_assert_num_queries(6):
        response = client.get(url, **HTMX)
    assert len(response.context["history"].entries) == 12


def test_a_warehouse_user_sees_no_edit_buttons_and_is_refused_by_the_edit_view(
    client, warehouse_user
):
    sku = SkuFactory(name="Original")
    client.force_login(warehouse_user)

    listing = client.get(reverse("sku-list")).content.decode()
    detail = client.get(reverse("sku-detail", args=[sku.pk])).content.decode()

    assert reverse("sku-edit", args=[sku.pk]) not in listing + detail
    assert reverse("sku-create") not in listing
    assert client.get(reverse("sku-edit", args=[sku.pk])).status_code == 403
    refused = client.post(reverse("sku-edit", args=[sku.pk]), sku_form_data(sku, name="Hacked"))
    assert refused.status_code == 403
    assert client.post(reverse("sku-create"), sku_form_data(sku, code="NEW-1")).status_code == 403
    sku.refresh_from_db()
    assert sku.name == "Original"


def test_a_listing_of_an_inactive_sku_is_refused_on_the_sku_field(client, manager):
    channel = ChannelFactory(code="AMZ")
    SkuFactory(code="OLD-1", active=False)
    client.force_login(manager)

    response = client.post(
        reverse("listing-create"),
        {
            "channel": channel.pk,
            "sku": "OLD-1",
            "channel_sku": "AMZ-OLD-1",
            "active": "on",
            "reason": "x",
        },
        **HTMX,
    )

    assert response.context["form"].errors["sku"] == ["SKU OLD-1 is inactive; it cannot be listed."]
    assert not ChannelListing.objects.exists()


def test_a_listing_is_created_with_the_sku_typed_by_code(client, manager):
    channel = ChannelFactory(code="AMZ")
    sku = SkuFactory(code="TEE-01")
    client.force_login(manager)

    response = client.post(
        reverse("listing-create"),
        {
            "channel": channel.pk,
            "sku": "TEE-01",
            "channel_sku": "AMZ-TEE",
            "active": "on",
            "reason": "x",
        },
        **HTMX,
    )

    listing = ChannelListing.objects.get()
    assert (listing.channel, listing.sku) == (channel, sku)
    assert response["HX-Redirect"] == reverse("listing-detail", args=[listing.pk])


def test_sku_suggestions_list_active_skus_matching_the_typed_code(client, manager):
    SkuFactory(code="TEE-01")
    SkuFactory(code="TEE-02", active=False)
    client.force_login(manager)

    response = client.get(reverse("sku-options"), {"sku": "tee"}, **HTMX)

    content = response.content.decode()
    assert 'value="TEE-01"' in content
    assert "TEE-02" not in content


def test_deactivating_a_channels_only_location_is_refused_on_the_active_box(client, manager):
    location = LocationFactory(code="WH-ONLY")
    ChannelFactory(code="WEB", eligible_locations=[location])
    client.force_login(manager)
    data = {
        "code": location.code,
        "name": location.name,
        "kind": location.kind,
        "region": location.region,
        "priority": location.priority,
        "shelf_floor": 0,
        "can_ship": "on",
        "reason": "closing the node",
    }

    response = client.post(reverse("location-edit", args=[location.pk]), data, **HTMX)

    assert "WEB" in response.context["form"].errors["active"][0]
    assert Location.objects.get(pk=location.pk).active
