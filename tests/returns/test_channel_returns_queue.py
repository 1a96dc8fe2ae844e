"""The "channel returns to match" queue: refused channel returns with their reasons, run
again once the cause is fixed, or settled by hand with a note."""

from decimal import Decimal

import pytest
from django.urls import reverse

from returns.models import Refund, Rma, UnmatchedChannelReturn
from returns.services.channel_returns import import_channel_return, import_returns_report
from tests.returns.channel_orders import amazon_refunded_order, shopify_refunded_order
from tests.returns.test_channel_returns import fixture_json, mfn_report

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
QUEUE = "channel-returns-to-match"


def refused_webhook(shopify, actor) -> UnmatchedChannelReturn:
    import_channel_return(
        channel=shopify, payload=fixture_json("shopify_refund_webhook.json"), actor=actor
    )
    return UnmatchedChannelReturn.objects.get(reference="930112233401")


def test_the_queue_shows_each_refused_return_with_its_reasons(
    client, cs_user, shopify, integration_user
):
    refused_webhook(shopify, integration_user)
    client.force_login(cs_user)

    response = client.get(reverse("exception-queue", args=[QUEUE]))

    assert response.status_code == 200
    content = response.content.decode()
    assert "930112233401" in content and "No SHOPIFY order 5841237402233." in content
    assert "Try again" in content and "Settle" in content


def test_the_queue_page_runs_the_same_queries_for_one_row_and_for_many(
    client, cs_user, amazon, integration_user, django_assert_num_queries
):
    def refuse(count):
        rows = [{"Order ID": f"999-{n}", "Amazon RMA ID": f"R-{count}-{n}"} for n in range(count)]
        import_returns_report(channel=amazon, content=mfn_report(*rows), actor=integration_user)

    refuse(1)
    client.force_login(cs_user)
    url = reverse("exception-queue", args=[QUEUE])
    client.get(url)
    # as before, plus the SLA overrides and the page's claims
    with django_assert_num_queries(8):
        client.get(url)
    refuse(12)
    with django_assert_num_queries(8):
        assert client.get(url).context["page"].paginator.count == 13


def test_trying_a_refused_return_again_after_its_order_arrived_imports_it_and_settles_it(
    client, cs_user, shopify, node, soap, tee, integration_user
):
    entry = refused_webhook(shopify, integration_user)
    shopify_refunded_order(shopify, node, soap, tee)
    client.force_login(cs_user)

    response = client.post(reverse("returns:channel-return-retry", args=[entry.pk]), **HTMX)

    assert response.status_code == 200
    assert f"930112233401: created ({Rma.objects.get().number})" in response.content.decode()
    entry.refresh_from_db()
    assert (entry.resolved_at is not None, entry.resolved_by) == (True, cs_user)
    assert (Rma.objects.count(), Refund.objects.get().amount) == (1, Decimal("8.56"))


def test_trying_a_report_row_again_runs_only_that_row(
    client, cs_user, amazon, node, tee, integration_user
):
    import_returns_report(channel=amazon, content=mfn_report({}), actor=integration_user)
    entry = UnmatchedChannelReturn.objects.get()
    amazon_refunded_order(amazon, node, tee)
    client.force_login(cs_user)

    client.post(reverse("returns:channel-return-retry", args=[entry.pk]), **HTMX)

    entry.refresh_from_db()
    assert entry.resolved_at is not None
    assert Rma.objects.get().external_reference == "DcXq9v2RRMA"


def test_trying_again_while_the_cause_remains_says_why_and_keeps_it_queued(
    client, cs_user, shopify, integration_user
):
    entry = refused_webhook(shopify, integration_user)
    client.force_login(cs_user)

    response = client.post(reverse("returns:channel-return-retry", args=[entry.pk]), **HTMX)

    assert "No SHOPIFY order 5841237402233." in response.content.decode()
    entry.refresh_from_db()
    assert (entry.resolved_at, entry.times_seen) == (None, 2)


def test_settling_by_hand_needs_a_note(client, cs_user, shopify, integration_user):
    entry = refused_webhook(shopify, integration_user)
    client.force_login(cs_user)
    url = reverse("returns:channel-return-dismiss", args=[entry.pk])

    refused = client.post(url, {"note": " "}, **HTMX)
    settled = client.post(url, {"note": "Test order on the staging shop"}, **HTMX)

    assert "Say how it was settled." in refused.content.decode()
    assert "Test order on the staging shop" in settled.content.decode()
    entry.refresh_from_db()
    assert (entry.resolved_by, entry.resolution) == (cs_user, "Test order on the staging shop")


def test_the_warehouse_may_not_settle_channel_returns(
    client, warehouse_user, shopify, integration_user
):
    entry = refused_webhook(shopify, integration_user)
    client.force_login(warehouse_user)

    response = client.post(
        reverse("returns:channel-return-dismiss", args=[entry.pk]), {"note": "x"}, **HTMX
    )

    assert response.status_code == 403
    entry.refresh_from_db()
    assert entry.resolved_at is None
