"""The customer-service back office for orders: the list, the order page, its actions
through HTTP (HTMX and plain), the order queues and refused payloads."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from erp.errors import Conflict, ValidationFailed
from inventory.models import Reservation, StockBalance
from orders.models import IngestionError, Order, OrderEvent, OrderHold
from orders.services import cancellation, evaluation
from orders.services.ingestion import record_ingestion_error
from orders.services.ingestion_errors import resolve_ingestion_error
from tests.factories import ChannelFactory, OrderFactory, OrderLineFactory, SkuFactory, UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def page_url(order) -> str:
    return reverse("orders:detail", args=[order.pk])


def action_url(name: str, order, *args) -> str:
    return reverse(f"orders:{name}", args=[order.pk, *args])


def open_reasons(order) -> list[str]:
    return sorted(order.holds.filter(resolved_at=None).values_list("reason", flat=True))


def refused_payload(channel_code="WEB", body='{"id": 1001, "line_items": "oops"}'):
    return record_ingestion_error(
        channel_code=channel_code,
        raw_body=body.encode(),
        error=ValidationFailed(
            "Expected a list of items.", field="line_items", code="invalid_type"
        ),
    )


@pytest.fixture
def shelved(stock, east, tee, mug, rates):
    """Five of each SKU in the east warehouse, with rates to the 'mid' zone."""
    stock(tee, east, 5)
    stock(mug, east, 5)


# --- order list ---------------------------------------------------------------------------


def test_the_order_list_shows_orders_newest_first_with_their_open_holds(
    client, cs_user, place, tee, shelved
):
    older = place([(tee, 2)], placed_at=timezone.now() - timedelta(hours=3))
    held = place([(tee, 1)], ship_postal_code="ABC", ship_name="Grace Hopper")
    client.force_login(cs_user)

    response = client.get(reverse("orders:list"))

    assert response.status_code == 200
    assert [order.pk for order in response.context["page"].object_list] == [held.pk, older.pk]
    content = response.content.decode()
    assert "<html" in content
    assert "Address invalid" in content
    assert "Grace Hopper" in content
    assert page_url(held) in content


def test_searching_orders_over_htmx_matches_id_number_or_customer_and_returns_the_results_only(
    client, cs_user, web
):
    by_id = OrderFactory(channel=web, external_id="SHOP-7781", order_number="#1001")
    by_number = OrderFactory(channel=web, external_id="SHOP-1", order_number="WEB-7781")
    by_name = OrderFactory(channel=web, ship_name="Ada Lovelace")
    OrderFactory(channel=web, external_id="SHOP-2", order_number="#1002", ship_name="Alan Turing")
    client.force_login(cs_user)

    found_by_digits = client.get(reverse("orders:list"), {"q": "7781"}, **HTMX)
    found_by_name = client.get(reverse("orders:list"), {"q": "lovelace"}, **HTMX)

    content = found_by_digits.content.decode()
    assert content.lstrip().startswith('<div id="order-results"')
    assert "<html" not in content
    assert "HX-Request" in found_by_digits["Vary"]
    assert {o.pk for o in found_by_digits.context["page"].object_list} == {by_id.pk, by_number.pk}
    assert [o.pk for o in found_by_name.context["page"].object_list] == [by_name.pk]


def test_the_order_list_filters_by_channel_state_hold_reason_and_placed_dates(
    client, cs_user, place, tee, shelved
):
    market = ChannelFactory(code="MARKET")
    today = timezone.now()
    released = place([(tee, 1)])
    risky = place([(tee, 1)], risk_score=Decimal("90"))
    last_week = place([(tee, 1)], placed_at=today - timedelta(days=7))
    elsewhere = OrderFactory(channel=market)
    client.force_login(cs_user)

    def listed(**query):
        response = client.get(reverse("orders:list"), query, **HTMX)
        return {order.pk for order in response.context["page"].object_list}

    assert listed(channel="MARKET") == {elsewhere.pk}
    assert listed(state="released") == {released.pk, last_week.pk}
    assert listed(hold="risk_above_threshold") == {risky.pk}
    assert listed(hold="address_invalid") == set()
    week_ago = (today - timedelta(days=7)).date().isoformat()
    assert listed(placed_from=week_ago, placed_to=week_ago) == {last_week.pk}
    assert last_week.pk not in listed(placed_from=today.date().isoformat())
    # A hand-edited value filters nothing instead of failing.
    assert len(listed(state="no-such-state", placed_from="yesterday")) == 4


def test_the_order_list_is_paginated_by_fifty(client, cs_user, web):
    OrderFactory.create_batch(51, channel=web)
    client.force_login(cs_user)

    first = client.get(reverse("orders:list"))
    second = client.get(reverse("orders:list"), {"page": 2}, **HTMX)

    assert len(first.context["page"].object_list) == 50
    assert len(second.context["page"].object_list) == 1
    assert "Page 2 of 2" in second.content.decode()


def test_the_order_list_runs_the_same_queries_for_one_order_and_for_many(
    client, cs_user, place, tee, shelved, django_assert_num_queries
):
    place([(tee, 1)], risk_score=Decimal("90"))
    client.force_login(cs_user)
    url = reverse("orders:list")
    client.get(url)

    # session, user, roles, count, channel choices, page, open holds
    with django_assert_num_queries(7):
        client.get(url)
    for number in range(12):
        place([(tee, 1)], ship_postal_code="ABC" if number % 2 else "62701")
    with django_assert_num_queries(7):
        response = client.get(url)
    assert len(response.context["page"].object_list) == 13


def test_the_orders_link_is_shown_to_roles_that_may_see_orders(client, cs_user):
    stranger = UserFactory(username="no-role")
    client.force_login(cs_user)
    assert reverse("orders:list") in client.get(reverse("dashboard")).content.decode()

    client.force_login(stranger)
    assert reverse("orders:list") not in client.get(reverse("dashboard")).content.decode()
    assert client.get(reverse("orders:list")).status_code == 403


# --- order page ---------------------------------------------------------------------------


def test_the_order_page_shows_header_lines_allocations_routing_timeline_history_and_payload(
    client, cs_user, place, tee, mug, shelved
):
    order = place(
        [(tee, 2), (mug, 1)],
        external_id="SHOP-5501",
        order_number="#5501",
        raw_payload={"id": 5501, "note": "leave at the door"},
        risk_score=Decimal("12.50"),
        total=Decimal("48.00"),
    )
    client.force_login(cs_user)

    response = client.get(page_url(order))

    assert response.status_code == 200
    content = response.content.decode()
    for text in ("SHOP-5501", "#5501", "WEB", "Released", "captured", "12.50", "48.00 USD"):
        assert text in content
    assert "left</span>" in content  # ship-by is in two days
    lines = response.context["detail"].lines
    assert [(line.sku.code, line.active_allocations[0].location.code) for line in lines] == [
        ("TEE", "EAST"),
        ("MUG", "EAST"),
    ]
    reservation = lines[0].active_allocations[0].reservation
    assert (reservation.quantity, reservation.state) == (2, "active")
    assert f"reservation #{reservation.pk} · active" in content
    assert "EAST fills every line at 6.00" in content
    assert 'class="row-chosen"' in content
    assert "Ready → <strong>Allocated</strong>" in content
    assert cs_user.username in content
    assert "&quot;leave at the door&quot;" in content
    assert '<details id="order-payload"' in content
    assert "Order received" in content
    assert "HX-Request" in response["Vary"]


def test_a_held_order_shows_each_open_hold_with_its_detail_and_age(
    client, cs_user, place, tee, shelved
):
    order = place([(tee, 1)], ship_line1="", payment_status="pending")
    OrderHold.objects.filter(order=order).update(created_at=timezone.now() - timedelta(hours=5))
    client.force_login(cs_user)

    response = client.get(page_url(order))

    holds = response.context["detail"].open_holds
    assert [hold.reason for hold in holds] == ["address_invalid", "payment_not_captured"]
    content = response.content.decode()
    assert "Missing street." in content
    assert "Payment is pending." in content
    assert "5\xa0hours" in content
    assert "Not routed yet: the order is held." in content


def test_a_substituted_line_says_what_was_ordered_and_what_ships(client, cs_user, web, tee):
    substitute = SkuFactory(code="TEE-ALT")
    order = OrderFactory(channel=web)
    OrderLineFactory(order=order, sku=substitute, ordered_sku=tee, channel_sku="SHOP-TEE")
    client.force_login(cs_user)

    content = client.get(page_url(order)).content.decode()

    assert (
        'ordered <span class="code">TEE</span>, ships <span class="code">TEE-ALT</span>' in content
    )


def test_an_unmapped_line_shows_the_channel_sku_and_title_and_says_it_is_not_mapped(
    client, cs_user, web, tee, shelved
):
    order = OrderFactory(channel=web, order_number="#8801")
    OrderLineFactory(order=order, sku=tee, quantity=1)
    unmapped = OrderLineFactory(
        order=order, sku=None, channel_sku="SELLER-42", title="Mystery mug", quantity=2
    )
    untitled = OrderLineFactory(order=order, sku=None, channel_sku="SELLER-43", title="")
    evaluation.evaluate_order(order=order, actor=cs_user)
    client.force_login(cs_user)

    response = client.get(page_url(order))

    assert response.status_code == 200
    assert open_reasons(order) == ["sku_not_mapped"]
    content = response.content.decode()
    row = content[content.index(f'<tr id="line-{unmapped.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "Not mapped" in row
    assert 'no listing on WEB for <span class="code">SELLER-42</span>' in row
    assert "Mystery mug" in row
    assert 'no listing on WEB for <span class="code">SELLER-43</span>' in content
    assert f'<tr id="line-{untitled.pk}"' in content


def test_the_order_page_runs_the_same_queries_for_one_line_and_for_ten(
    client, cs_user, place, east, stock, rates, django_assert_num_queries
):
    skus = [SkuFactory(code=f"SKU-{number}") for number in range(10)]
    for sku in skus:
        stock(sku, east, 3)
    one = place([(skus[0], 1)])
    ten = place([(sku, 2) for sku in skus])
    assert one.state == ten.state == "released"
    client.force_login(cs_user)
    client.get(page_url(one))

    # session, user, roles, order, lines, allocations, reservations,
    # holds, events, routing decision, history count, history page
    with django_assert_num_queries(12):
        client.get(page_url(one))
    with django_assert_num_queries(12):
        response = client.get(page_url(ten))
    assert len(response.context["line_rows"]) == 10


def test_an_htmx_request_for_the_order_page_gets_the_order_body(client, cs_user, web):
    order = OrderFactory(channel=web)
    client.force_login(cs_user)

    response = client.get(page_url(order), **HTMX)

    assert response.content.decode().lstrip().startswith('<div id="order-body"')
    assert "HX-Request" in response["Vary"]


def test_an_unknown_order_is_not_found(client, cs_user):
    client.force_login(cs_user)

    assert client.get(reverse("orders:detail", args=[999999])).status_code == 404
    assert client.post(reverse("orders:release", args=[999999]), **HTMX).status_code == 404


# --- actions ------------------------------------------------------------------------------


def test_releasing_a_risk_hold_without_a_note_is_refused_inline_and_changes_nothing(
    client, cs_user, place, tee, shelved
):
    order = place([(tee, 1)], risk_score=Decimal("90"))
    events_before = order.events.count()
    client.force_login(cs_user)

    response = client.post(action_url("release", order), {"note": "  "}, **HTMX)

    assert response.status_code == 200
    assert "HX-Trigger" not in response
    content = response.content.decode()
    assert content.lstrip().startswith('<section id="order-header"')
    assert 'hx-swap-oob="true"' in content
    assert 'id="order-lines"' not in content
    assert "Say why this risk or payment hold is overridden." in content
    assert 'id="action-release" open' in content
    assert "autofocus" in content
    order.refresh_from_db()
    assert order.state == "on_hold"
    assert open_reasons(order) == ["risk_above_threshold"]
    assert order.events.count() == events_before
    assert not Reservation.objects.exists()


def test_releasing_with_a_note_routes_the_order_and_re_renders_its_panels(
    client, cs_user, place, tee, shelved
):
    order = place([(tee, 1)], risk_score=Decimal("90"))
    client.force_login(cs_user)

    response = client.post(action_url("release", order), {"note": "called the customer"}, **HTMX)

    assert response.status_code == 200
    assert "queuesChanged" in json.loads(response["HX-Trigger"])
    content = response.content.decode()
    for panel in ("header", "holds", "ship-to", "lines", "routing", "timeline", "history"):
        assert f'<section id="order-{panel}"' in content
    assert content.count('hx-swap-oob="true"') == 7
    assert "Release done — the order is released." in content
    assert f"Released by {cs_user.username}: called the customer" in content
    order.refresh_from_db()
    assert order.state == "released"
    hold = order.holds.get()
    assert (hold.resolved_by, hold.resolution) == (cs_user, "called the customer")
    assert order.lines.get().allocations.get(active=True).location.code == "EAST"


def test_holding_an_order_needs_a_note_and_then_holds_it(client, cs_user, place, tee, shelved):
    order = place([(tee, 1)])
    client.force_login(cs_user)

    refused = client.post(action_url("hold", order), {"note": ""}, **HTMX)
    assert "Say why the order is held." in refused.content.decode()
    order.refresh_from_db()
    assert order.state == "released"

    held = client.post(action_url("hold", order), {"note": "freight forwarder address"}, **HTMX)

    assert "Hold placed — the order is on hold." in held.content.decode()
    order.refresh_from_db()
    assert order.state == "on_hold"
    assert open_reasons(order) == ["manual"]
    assert StockBalance.objects.get(sku=tee, status="sellable").reserved == 1


def test_cancelling_an_order_needs_a_reason_and_then_releases_its_reservations(
    client, cs_user, place, tee, shelved
):
    order = place([(tee, 3)])
    client.force_login(cs_user)

    refused = client.post(action_url("cancel", order), {"reason": ""}, **HTMX)
    assert "Give the cancellation reason." in refused.content.decode()
    assert StockBalance.objects.get(sku=tee, status="sellable").reserved == 3

    response = client.post(
        action_url("cancel", order), {"reason": "customer changed their mind"}, **HTMX
    )

    assert "Order cancelled — the order is cancelled." in response.content.decode()
    order.refresh_from_db()
    assert order.state == "cancelled"
    assert StockBalance.objects.get(sku=tee, status="sellable").reserved == 0
    # A cancelled order offers no more actions.
    assert response.context["offers_any"] is False
    assert 'id="action-release"' not in response.content.decode()


def test_cancelling_more_units_than_a_line_has_open_is_refused_on_that_line(
    client, cs_user, place, tee, mug, shelved
):
    order = place([(tee, 2), (mug, 1)])
    line = order.lines.get(sku=tee)
    client.force_login(cs_user)

    response = client.post(
        action_url("line-cancel", order, line.pk), {"quantity": 5, "reason": "typo"}, **HTMX
    )

    content = response.content.decode()
    assert content.lstrip().startswith('<section id="order-lines"')
    assert "Cancel between 1 and 2 units." in content
    assert f'id="action-line-{line.pk}" open' in content
    line.refresh_from_db()
    assert line.quantity_cancelled == 0
    assert StockBalance.objects.get(sku=tee, status="sellable").reserved == 2

    missing_reason = client.post(
        action_url("line-cancel", order, line.pk), {"quantity": 1, "reason": ""}, **HTMX
    )
    assert "Give the cancellation reason." in missing_reason.content.decode()


def test_cancelling_part_of_a_line_keeps_the_rest_of_the_order(
    client, cs_user, place, tee, mug, shelved
):
    order = place([(tee, 2), (mug, 1)])
    line = order.lines.get(sku=tee)
    client.force_login(cs_user)

    response = client.post(
        action_url("line-cancel", order, line.pk), {"quantity": 1, "reason": "out of size"}, **HTMX
    )

    assert (
        f"Line {line.line_number}: 1 cancelled — the order is released."
        in response.content.decode()
    )
    line.refresh_from_db()
    assert line.quantity_cancelled == 1
    assert StockBalance.objects.get(sku=tee, status="sellable").reserved == 1
    assert OrderEvent.objects.filter(order=order, kind="line_cancelled").exists()


def test_a_line_of_another_order_is_not_found(client, cs_user, place, tee, shelved):
    order, other = place([(tee, 1)]), place([(tee, 1)])
    client.force_login(cs_user)

    response = client.post(
        action_url("line-cancel", order, other.lines.get().pk), {"quantity": 1, "reason": "x"}
    )

    assert response.status_code == 404


def test_a_country_that_is_not_two_letters_is_refused_inline_and_nothing_is_written(
    client, cs_user, place, tee, shelved
):
    order = place([(tee, 1)], ship_line1="")
    history_before = order.history.count()
    client.force_login(cs_user)

    response = client.post(
        action_url("ship-to", order),
        {
            "ship_name": "Ada Buyer",
            "ship_line1": "42 Elm St",
            "ship_city": "Springfield",
            "ship_region": "IL",
            "ship_postal_code": "62701",
            "ship_country": "USA",
        },
        **HTMX,
    )

    content = response.content.decode()
    assert content.lstrip().startswith('<section id="order-ship-to"')
    assert "Use the two-letter country code (US, DE, GB…)." in content
    assert 'id="action-ship-to" open' in content
    assert 'value="42 Elm St"' in content
    order.refresh_from_db()
    assert (order.ship_line1, order.ship_country, order.state) == ("", "US", "on_hold")
    assert order.history.count() == history_before


def test_fixing_the_address_releases_the_held_order(client, cs_user, place, tee, shelved):
    order = place([(tee, 1)], ship_line1="")
    client.force_login(cs_user)

    response = client.post(
        action_url("ship-to", order),
        {
            "ship_name": "Ada Buyer",
            "ship_line1": "42 Elm St",
            "ship_city": "Springfield",
            "ship_region": "IL",
            "ship_postal_code": "62701",
            "ship_country": "us",
        },
        **HTMX,
    )

    assert "Address saved — the order is released." in response.content.decode()
    assert "queuesChanged" in json.loads(response["HX-Trigger"])
    order.refresh_from_db()
    assert (order.ship_line1, order.state) == ("42 Elm St", "released")
    edit = order.history.filter(ship_line1="42 Elm St").order_by("history_id").first()
    assert (edit.history_user, edit.history_change_reason) == (cs_user, "ship-to edited")
    assert OrderEvent.objects.get(order=order, kind="address").message == (
        "Ship-to edited: line1: '' → '42 Elm St'"
    )


def test_saving_an_unchanged_address_is_refused(client, cs_user, place, tee, shelved):
    order = place([(tee, 1)])
    client.force_login(cs_user)

    response = client.post(
        action_url("ship-to", order),
        {
            "ship_name": "Ada Buyer",
            "ship_line1": "1 Main St",
            "ship_city": "Springfield",
            "ship_region": "IL",
            "ship_postal_code": "62701",
            "ship_country": "US",
        },
        **HTMX,
    )

    assert "Nothing changed" in response.content.decode()
    assert not OrderEvent.objects.filter(order=order, kind="address").exists()


def test_rerouting_moves_the_allocation_to_where_stock_is_now(
    client, cs_user, place, tee, east, west, stock, rates
):
    stock(tee, west, 5)
    order = place([(tee, 1)], ship_postal_code="62701")
    assert order.lines.get().allocations.get(active=True).location == west
    stock(tee, east, 5)
    client.force_login(cs_user)

    response = client.post(action_url("reroute", order), **HTMX)

    assert "Re-routed — the order is released." in response.content.decode()
    assert order.lines.get().allocations.get(active=True).location == east
    assert order.routing_decisions.count() == 2


def test_an_action_the_order_no_longer_allows_shows_the_services_reason(
    client, cs_user, place, tee, shelved
):
    order = place([(tee, 1)])
    cancellation.cancel_order(order_id=order.pk, actor=cs_user, reason="duplicate")
    client.force_login(cs_user)

    response = client.post(action_url("release", order), {"note": "x"}, **HTMX)

    content = response.content.decode()
    assert "A cancelled order cannot be released." in content
    # The page was stale: every panel catches up with the cancelled order.
    assert content.count('hx-swap-oob="true"') == 7
    assert 'data-state="cancelled"' in content


def test_without_javascript_an_action_redirects_to_the_order_with_a_message(
    client, cs_user, place, tee, shelved
):
    order = place([(tee, 1)], risk_score=Decimal("90"))
    client.force_login(cs_user)

    refused = client.post(action_url("release", order), {"note": ""})
    assert refused.status_code == 200
    assert "<html" in refused.content.decode()
    assert "Say why this risk or payment hold is overridden." in refused.content.decode()

    response = client.post(action_url("release", order), {"note": "known customer"}, follow=True)

    assert response.redirect_chain == [(page_url(order), 302)]
    assert "Release done — the order is released." in response.content.decode()


@pytest.mark.parametrize(
    "action, data",
    [
        ("release", {"note": "x"}),
        ("hold", {"note": "x"}),
        ("cancel", {"reason": "x"}),
        ("reroute", {}),
        ("ship-to", {"ship_line1": "2 Main St", "ship_country": "US"}),
    ],
)
def test_a_warehouse_user_may_look_but_gets_403_on_every_action(
    client, warehouse_user, place, tee, shelved, action, data
):
    order = place([(tee, 1)], risk_score=Decimal("90"))
    client.force_login(warehouse_user)

    page = client.get(page_url(order))
    response = client.post(action_url(action, order), data, **HTMX)

    assert page.status_code == 200
    assert 'id="action-' not in page.content.decode()
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.state == "on_hold"
    assert order.events.filter(actor=warehouse_user).count() == 0


def test_a_warehouse_user_cannot_cancel_a_line(client, warehouse_user, place, tee, shelved):
    order = place([(tee, 2)])
    client.force_login(warehouse_user)

    response = client.post(
        action_url("line-cancel", order, order.lines.get().pk), {"quantity": 1, "reason": "x"}
    )

    assert response.status_code == 403
    assert order.lines.get().quantity_cancelled == 0


def test_actions_take_a_post(client, cs_user, web):
    order = OrderFactory(channel=web)
    client.force_login(cs_user)

    assert client.get(action_url("release", order)).status_code == 405


# --- queues -------------------------------------------------------------------------------


def test_the_hold_queue_lists_held_orders_with_a_link_to_each(client, cs_user, place, tee, shelved):
    held = place([(tee, 1)], ship_postal_code="ABC", order_number="#7001", ship_name="Grace")
    place([(tee, 1)])
    client.force_login(cs_user)

    response = client.get(reverse("exception-queue", args=["orders-on-hold"]))

    content = response.content.decode()
    assert [order.pk for order in response.context["page"].object_list] == [held.pk]
    assert f'<tr id="order-{held.pk}"' in content
    assert page_url(held) in content
    assert "#7001" in content
    assert 'data-hold="address_invalid"' in content


def test_each_row_of_the_hold_queue_shows_its_open_holds_with_reason_detail_and_age(
    client, cs_user, place, tee, shelved
):
    held = place([(tee, 1)], ship_line1="", payment_status="pending")
    risky = place([(tee, 1)], risk_score=Decimal("90"))
    OrderHold.objects.filter(order=held).update(created_at=timezone.now() - timedelta(hours=5))
    client.force_login(cs_user)

    content = client.get(reverse("exception-queue", args=["orders-on-hold"])).content.decode()

    held_row = content[content.index(f'<tr id="order-{held.pk}"') :]
    held_row = held_row[: held_row.index("</tr>")]
    assert "Address invalid" in held_row
    assert "Missing street." in held_row
    assert "Payment not captured" in held_row
    assert "Payment is pending." in held_row
    assert "for <time" in held_row and "5\xa0hours</time>" in held_row
    risky_row = content[content.index(f'<tr id="order-{risky.pk}"') :]
    risky_row = risky_row[: risky_row.index("</tr>")]
    assert "Risk above threshold" in risky_row
    assert "Address invalid" not in risky_row


def test_the_hold_queue_runs_the_same_queries_for_one_order_and_for_many(
    client, cs_user, place, tee, shelved, django_assert_num_queries
):
    place([(tee, 1)], risk_score=Decimal("90"))
    client.force_login(cs_user)
    url = reverse("exception-queue", args=["orders-on-hold"])
    client.get(url)

    # session, user, roles, SLA overrides, summary, count, page (with channels), open holds,
    # the page's claims (with owners)
    with django_assert_num_queries(9):
        client.get(url)
    for number in range(12):
        place(
            [(tee, 1)],
            ship_postal_code="ABC",
            payment_status="pending" if number % 2 else "captured",
        )
    with django_assert_num_queries(9):
        response = client.get(url)
    assert len(response.context["page"].object_list) == 13


@pytest.mark.parametrize(
    "key", ["orders-on-hold", "orders-backordered", "orders-past-sla", "orders-split-approvals"]
)
def test_every_order_queue_renders(client, cs_user, key):
    client.force_login(cs_user)

    assert client.get(reverse("exception-queue", args=[key])).status_code == 200


# --- ingestion errors ---------------------------------------------------------------------


def test_the_ingestion_error_queue_links_to_a_page_with_the_raw_body(client, cs_user):
    error = refused_payload()
    client.force_login(cs_user)

    queue = client.get(reverse("exception-queue", args=["ingestion-errors"])).content.decode()
    assert f'<tr id="ingestion-error-{error.pk}"' in queue
    assert "Expected a list of items." in queue
    url = reverse("orders:ingestion-error", args=[error.pk])
    assert url in queue

    content = client.get(url).content.decode()

    assert '<pre class="json raw-body">{\n  &quot;id&quot;: 1001,' in content
    assert "line_items" in content
    assert "Mark resolved" in content


def test_a_body_that_is_not_json_is_shown_as_received(client, cs_user):
    error = refused_payload(body="<order><id>1</id>")
    client.force_login(cs_user)

    content = client.get(reverse("orders:ingestion-error", args=[error.pk])).content.decode()

    assert "&lt;order&gt;&lt;id&gt;1&lt;/id&gt;" in content


def test_marking_an_ingestion_error_resolved_needs_a_note_then_takes_it_off_the_queue(
    client, cs_user
):
    error = refused_payload()
    client.force_login(cs_user)
    url = reverse("orders:ingestion-error-resolve", args=[error.pk])

    refused = client.post(url, {"note": " "}, **HTMX)
    assert refused.content.decode().lstrip().startswith('<section id="ingestion-error-status"')
    assert "Say how the error was resolved." in refused.content.decode()
    error.refresh_from_db()
    assert error.resolved_at is None

    response = client.post(url, {"note": "channel re-sent the order"}, **HTMX)

    assert "queuesChanged" in json.loads(response["HX-Trigger"])
    assert "Ingestion error" in response.content.decode()
    error.refresh_from_db()
    assert error.resolved_at is not None
    assert error.resolution == f"{cs_user.username}: channel re-sent the order"
    queue = client.get(reverse("exception-queue", args=["ingestion-errors"]))
    assert list(queue.context["page"].object_list) == []


def test_resolving_an_ingestion_error_twice_is_refused(cs_user):
    error = refused_payload()
    resolve_ingestion_error(error_id=error.pk, actor=cs_user, note="re-sent")

    with pytest.raises(Conflict):
        resolve_ingestion_error(error_id=error.pk, actor=cs_user, note="again")


def test_a_warehouse_user_may_read_an_ingestion_error_but_not_resolve_it(client, warehouse_user):
    error = refused_payload()
    client.force_login(warehouse_user)

    page = client.get(reverse("orders:ingestion-error", args=[error.pk]))
    response = client.post(
        reverse("orders:ingestion-error-resolve", args=[error.pk]), {"note": "x"}, **HTMX
    )

    assert page.status_code == 200
    assert "Mark resolved" not in page.content.decode()
    assert response.status_code == 403
    assert IngestionError.objects.get(pk=error.pk).resolved_at is None


def test_orders_are_never_written_by_a_refused_request(client, cs_user, place, tee, shelved):
    """Belt and braces over the refusals above: a bad request leaves no trace."""
    order = place([(tee, 1)], risk_score=Decimal("90"))
    snapshot = Order.objects.filter(pk=order.pk).values().get()
    client.force_login(cs_user)

    client.post(action_url("release", order), {"note": ""}, **HTMX)
    client.post(action_url("hold", order), {"note": ""}, **HTMX)
    client.post(action_url("cancel", order), {"reason": ""}, **HTMX)
    client.post(action_url("ship-to", order), {"ship_country": "X"}, **HTMX)

    assert Order.objects.filter(pk=order.pk).values().get() == snapshot
