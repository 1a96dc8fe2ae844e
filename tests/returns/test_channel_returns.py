"""Marketplace-initiated returns through the service: each channel's own return opens the
RMA on the right order lines, records the channel's refund exactly once, matches the echo
of a refund we posted, and refuses (and queues) what it cannot tie to an order or its
money, writing nothing half."""

import json
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from erp.errors import ValidationFailed
from erp.queues import get_queue
from fulfillment.models import Shipment
from returns.models import Refund, RefundState, Rma, RmaLine, UnmatchedChannelReturn
from returns.services.channel_returns import import_channel_return, import_returns_report
from returns.services.refunds import request_refund
from tests.channel_samples import CHANNEL_FIXTURES, sample
from tests.returns.channel_orders import (
    amazon_refunded_order,
    amazon_sample_order,
    ebay_returned_order,
    shipped_channel_order,
    shopify_refunded_order,
)

pytestmark = pytest.mark.django_db


def fixture_text(name: str) -> str:
    return (CHANNEL_FIXTURES / "returns" / name).read_text()


def fixture_json(name: str) -> dict:
    return json.loads(fixture_text(name), parse_float=Decimal)


def mfn_report(*rows: dict) -> str:
    """The MFN sample's header with rows built from its first row, some cells changed."""
    header, first, _ = fixture_text("amazon_returns_mfn.tsv").split("\n", 2)
    names = header.split("\t")
    base = dict(zip(names, first.split("\t"), strict=True))
    return "\n".join([header, *("\t".join({**base, **row}[n] for n in names) for row in rows)])


def test_a_shopify_refund_opens_an_rma_on_the_refunded_line_and_records_the_refund(
    shopify, node, soap, tee, integration_user
):
    order = shopify_refunded_order(shopify, node, soap, tee)

    result = import_channel_return(
        channel=shopify, payload=fixture_json("shopify_refund_webhook.json"), actor=integration_user
    )

    assert result.outcome == "created"
    rma = result.rma
    assert (rma.order_id, rma.source, rma.external_reference) == (
        order.pk,
        Rma.Source.MARKETPLACE_INITIATED,
        "930112233401",
    )
    line = rma.lines.get()
    assert (line.order_line.external_line_id, line.sku, line.quantity, line.reason.code) == (
        "14209990007",
        soap,
        1,
        "damaged_in_transit",
    )
    refund = Refund.objects.get(rma=rma)
    assert (refund.state, refund.amount, refund.external_reference, refund.currency) == (
        RefundState.POSTED_ON_CHANNEL,
        Decimal("8.56"),
        "930112233401",
        "USD",
    )
    # The webhook's -05:00 time is kept in UTC.
    assert refund.posted_at.isoformat() == "2026-11-21T19:29:58+00:00"
    assert refund.outbox_message is None  # the channel refunded: nothing goes back


def test_the_same_shopify_webhook_delivered_twice_changes_nothing(
    shopify, node, soap, tee, integration_user
):
    shopify_refunded_order(shopify, node, soap, tee)
    payload = fixture_json("shopify_refund_webhook.json")
    first = import_channel_return(channel=shopify, payload=payload, actor=integration_user)

    again = import_channel_return(channel=shopify, payload=payload, actor=integration_user)

    assert again.outcome == "unchanged"
    assert (again.rma, again.refund) == (first.rma, first.refund)
    assert (Rma.objects.count(), Refund.objects.count(), RmaLine.objects.count()) == (1, 1, 1)


def test_a_refund_we_posted_and_shopify_echoes_is_matched_to_ours_not_added(
    shopify, node, soap, tee, authorize, defective, cs_user, integration_user
):
    order = shopify_refunded_order(shopify, node, soap, tee)
    rma = authorize(order, [(soap, 1, defective)])
    ours = request_refund(rma_id=rma.pk, actor=cs_user)
    assert (ours.state, ours.amount) == (RefundState.POSTED, Decimal("8.56"))

    result = import_channel_return(
        channel=shopify, payload=fixture_json("shopify_refund_webhook.json"), actor=integration_user
    )
    again = import_channel_return(
        channel=shopify, payload=fixture_json("shopify_refund_webhook.json"), actor=integration_user
    )

    assert (result.outcome, result.refund, result.rma) == ("matched", ours, rma)
    assert again.outcome == "unchanged"
    ours.refresh_from_db()
    assert ours.external_reference == "930112233401"
    assert (Rma.objects.count(), Refund.objects.count()) == (1, 1)


def test_a_channel_refund_for_units_already_refunded_otherwise_is_refused_not_counted_twice(
    shopify, node, soap, tee, authorize, defective, cs_user, integration_user
):
    order = shopify_refunded_order(shopify, node, soap, tee)
    rma = authorize(order, [(soap, 1, defective)])
    request_refund(rma_id=rma.pk, actor=cs_user, amount=Decimal("8.00"))  # not the echo's 8.56

    result = import_channel_return(
        channel=shopify, payload=fixture_json("shopify_refund_webhook.json"), actor=integration_user
    )

    assert result.outcome == "refused"
    assert {(e.field, e.code) for e in result.errors} == {
        ("refund_line_items[0].quantity", "more_than_shipped")
    }
    assert (Rma.objects.count(), Refund.objects.count()) == (1, 1)


def test_the_amazon_mfn_report_opens_each_return_and_records_the_refunded_one(
    amazon, node, tee, soap, integration_user
):
    refunded = amazon_refunded_order(amazon, node, tee)
    sample_order = amazon_sample_order(amazon, node, tee, soap)

    report = import_returns_report(
        channel=amazon, content=fixture_text("amazon_returns_mfn.tsv"), actor=integration_user
    )

    assert (report.source_format, report.rows) == ("amazon_mfn_returns", 2)
    first, second = report.results
    assert (first.outcome, first.line_numbers, first.rma.order_id) == ("created", (2,), refunded.pk)
    assert (first.rma.external_reference, first.rma.return_label_reference) == (
        "DcXq9v2RRMA",
        "1Z999AA10198765432",
    )
    assert first.rma.lines.get().reason.code == "wrong_size"  # AMZ-PG-APP-TOO-SMALL
    assert (first.refund.amount, first.refund.external_reference, first.refund.state) == (
        Decimal("27.05"),
        "DcXq9v2RRMA",
        RefundState.POSTED_ON_CHANNEL,
    )
    # Row 3 is the Amazon order sample's soap: authorized, not refunded yet.
    assert (second.outcome, second.refund, second.rma.order_id) == (
        "created",
        None,
        sample_order.pk,
    )
    line = second.rma.lines.get()
    assert (line.order_line.channel_sku, line.order_line.external_line_id, line.quantity) == (
        "AMZ-SOAP-LAV",
        "49381726354013",
        1,
    )


def test_importing_the_same_report_again_changes_nothing(amazon, node, tee, soap, integration_user):
    amazon_refunded_order(amazon, node, tee)
    amazon_sample_order(amazon, node, tee, soap)
    content = fixture_text("amazon_returns_mfn.tsv")
    import_returns_report(channel=amazon, content=content, actor=integration_user)

    again = import_returns_report(channel=amazon, content=content, actor=integration_user)

    assert [r.outcome for r in again.results] == ["unchanged", "unchanged"]
    assert (Rma.objects.count(), Refund.objects.count()) == (2, 1)


def test_a_return_refunded_in_a_later_report_gets_its_refund_on_the_rma_opened_before(
    amazon, node, tee, soap, integration_user
):
    amazon_sample_order(amazon, node, tee, soap)
    row = {"Order ID": "112-4829304-5566021", "Amazon RMA ID": "DkP4w8ZRRMA"}
    row |= {"Merchant SKU": "AMZ-SOAP-LAV", "Refunded Amount": ""}
    opened = import_returns_report(channel=amazon, content=mfn_report(row), actor=integration_user)

    later = import_returns_report(
        channel=amazon,
        content=mfn_report({**row, "Refunded Amount": "9.37"}),
        actor=integration_user,
    )

    assert opened.results[0].refund is None
    assert later.results[0].outcome == "refund_recorded"
    assert later.results[0].rma == opened.results[0].rma
    assert later.results[0].refund.amount == Decimal("9.37")
    assert Rma.objects.count() == 1


def test_a_row_for_an_unknown_sku_is_refused_and_queued_naming_its_line_and_column(
    amazon, node, tee, soap, integration_user
):
    amazon_refunded_order(amazon, node, tee)
    content = mfn_report({}, {"Merchant SKU": "AMZ-NOT-SOLD", "Amazon RMA ID": "DzzOTHER"})

    report = import_returns_report(channel=amazon, content=content, actor=integration_user)

    good, bad = report.results
    assert good.outcome == "created"
    assert (bad.outcome, bad.line_numbers) == ("refused", (3,))
    assert [(e.field, e.code) for e in bad.errors] == [("rows[3].Merchant SKU", "not_on_order")]
    queued = UnmatchedChannelReturn.objects.get()
    assert (queued.reference, queued.order_external_id, queued.line_numbers) == (
        "DzzOTHER",
        "113-1029384-7712093",
        [3],
    )
    assert "AMZ-NOT-SOLD" in queued.payload and queued.payload.startswith("Order ID\t")
    assert Rma.objects.count() == 1


def test_a_row_for_an_unknown_order_is_refused_and_queued(amazon, node, integration_user):
    report = import_returns_report(
        channel=amazon, content=fixture_text("amazon_returns_fba.tsv"), actor=integration_user
    )

    assert [r.outcome for r in report.results] == ["refused"] * 3
    assert [(e.field, e.code) for e in report.results[2].errors] == [
        ("rows[4].order-id", "unknown_order")
    ]
    assert UnmatchedChannelReturn.objects.filter(resolved_at__isnull=True).count() == 3
    assert not Rma.objects.exists()


def test_a_queued_return_is_settled_when_the_channel_delivers_it_after_the_order_arrived(
    amazon, node, tee, integration_user
):
    content = mfn_report({})
    import_returns_report(channel=amazon, content=content, actor=integration_user)
    amazon_refunded_order(amazon, node, tee)

    report = import_returns_report(channel=amazon, content=content, actor=integration_user)

    assert report.results[0].outcome == "created"
    queued = UnmatchedChannelReturn.objects.get()
    assert queued.resolved_at is not None and queued.resolved_by == integration_user
    rma, refund = report.results[0].rma, report.results[0].refund
    assert queued.resolution == f"Imported: {rma.number} (created, refund {refund.number})"


def test_a_refund_above_what_the_order_paid_is_refused_and_writes_no_rma(
    amazon, node, tee, integration_user
):
    amazon_refunded_order(amazon, node, tee)

    report = import_returns_report(
        channel=amazon,
        content=mfn_report({"Refunded Amount": "99.00"}),
        actor=integration_user,
    )

    (result,) = report.results
    assert result.outcome == "refused"
    assert [(e.field, e.code) for e in result.errors] == [
        ("rows[2].Refunded Amount", "exceeds_paid")
    ]
    assert not Rma.objects.exists() and not Refund.objects.exists()


def test_the_fba_report_opens_an_rma_per_licence_plate_with_the_centres_disposition(
    amazon, node, mug, tee, integration_user
):
    def fba_order(external_id, sku, channel_sku, quantity):
        return shipped_channel_order(
            amazon,
            node,
            external_id,
            [(sku, f"{external_id}-1", channel_sku, quantity, Decimal("19.99"), Decimal("0"), "")],
        )

    fba_order("114-7730021-3349812", mug, "AMZ-MUG-CER-12-FBA", 1)
    fba_order("111-3300457-8812004", mug, "AMZ-MUG-CER-12-FBA", 1)
    fba_order("114-5512009-2210457", tee, "AMZ-TEE-BLK-M-FBA", 2)

    report = import_returns_report(
        channel=amazon, content=fixture_text("amazon_returns_fba.tsv"), actor=integration_user
    )

    assert [r.outcome for r in report.results] == ["created"] * 3
    rmas = {r.rma.external_reference: r.rma for r in report.results}
    assert set(rmas) == {"LPNRR8812345678", "LPNRR8812345679", "LPNRR8812345680"}
    damaged = rmas["LPNRR8812345679"].lines.get()
    assert damaged.reason.code == "damaged_in_transit"  # DAMAGED_BY_CARRIER
    assert "CUSTOMER_DAMAGED" in damaged.note and "ONT8" in damaged.note
    assert rmas["LPNRR8812345680"].lines.get().quantity == 2
    assert rmas["LPNRR8812345678"].channel_returns_centre == "Amazon FBA PHX7"
    assert not Refund.objects.exists()  # the FBA report carries no refund
    # The units went back to Amazon's fulfilment centres: no dock of ours awaits them.
    assert not get_queue("returns-awaiting-receipt").selector().exists()


def test_an_ebay_return_opens_the_rma_and_its_refund_is_recorded_once_ebay_issues_it(
    ebay, node, headphones, integration_user
):
    order = ebay_returned_order(ebay, node, headphones)
    payload = fixture_json("ebay_return.json")

    opened = import_channel_return(channel=ebay, payload=payload, actor=integration_user)
    payload["summary"]["state"] = "REFUND_ISSUED"
    payload["summary"]["buyerTotalRefund"]["actualRefundAmount"] = {
        "value": Decimal("59.98"),
        "currency": "USD",
    }
    refunded = import_channel_return(channel=ebay, payload=payload, actor=integration_user)
    again = import_channel_return(channel=ebay, payload=payload, actor=integration_user)

    assert (opened.outcome, opened.refund) == ("created", None)
    line = opened.rma.lines.get()
    assert (line.order_line.order_id, line.order_line.external_item_id, line.reason.code) == (
        order.pk,
        "386120456789:655001234567",
        "changed_mind",
    )
    assert (refunded.outcome, refunded.refund.amount, refunded.refund.external_reference) == (
        "refund_recorded",
        Decimal("59.98"),
        "5318877221",
    )
    assert again.outcome == "unchanged"
    assert Refund.objects.count() == 1


def test_a_shopify_refund_for_an_order_we_do_not_know_is_refused_and_queued(
    shopify, integration_user
):
    result = import_channel_return(
        channel=shopify, payload=fixture_json("shopify_refund_webhook.json"), actor=integration_user
    )

    assert (result.outcome, result.status_code) == ("refused", 400)
    assert [(e.field, e.code) for e in result.errors] == [("order_id", "unknown_order")]
    assert UnmatchedChannelReturn.objects.get().reference == "930112233401"


def test_a_payload_that_is_not_the_channels_return_is_refused_and_writes_nothing(
    shopify, integration_user
):
    with pytest.raises(ValidationFailed) as refused:
        import_channel_return(
            channel=shopify, payload=sample("shopify_order.json", "orders"), actor=integration_user
        )

    assert refused.value.errors[0].code == "wrong_shape"
    assert not UnmatchedChannelReturn.objects.exists()


def test_a_report_without_its_required_columns_is_refused_whole(amazon, integration_user):
    header, rest = fixture_text("amazon_returns_mfn.tsv").split("\n", 1)
    content = "\n".join([header.replace("Merchant SKU", "Seller SKU"), rest])

    with pytest.raises(ValidationFailed) as refused:
        import_returns_report(channel=amazon, content=content, actor=integration_user)

    error = refused.value.errors[0]
    assert (error.field, error.code) == ("header", "missing_columns")
    assert "Merchant SKU" in error.message
    assert not UnmatchedChannelReturn.objects.exists() and not Rma.objects.exists()


def test_the_queries_of_a_report_grow_by_the_same_count_per_return(
    amazon, node, tee, integration_user
):
    orders = [
        shipped_channel_order(
            amazon,
            node,
            f"113-0000000-{n:07d}",
            [(tee, f"L{n}", "AMZ-TEE-BLK-M", 1, Decimal("24.99"), Decimal("2.06"), "")],
        )
        for n in range(4)
    ]

    def queries(batch) -> int:
        rows = [{"Order ID": order.external_id, "Amazon RMA ID": f"R{order.pk}"} for order in batch]
        with CaptureQueriesContext(connection) as captured:
            report = import_returns_report(
                channel=amazon, content=mfn_report(*rows), actor=integration_user
            )
        assert {r.outcome for r in report.results} == {"created"}
        return len(captured)

    queries(orders[:1])  # the first import also fills the caches (permissions, policies)
    one, two = queries(orders[1:2]), queries(orders[2:4])
    assert two - one == one  # every query is the return's own: nothing per file, no N+1


def _deliver_in_thread(channel_id, payload, username, outcomes):
    from django.contrib.auth import get_user_model

    from erp.models import Channel

    try:
        result = import_channel_return(
            channel=Channel.objects.get(pk=channel_id),
            payload=payload,
            actor=get_user_model().objects.get(username=username),
        )
        outcomes.append(result.outcome)
    finally:
        connection.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_webhook_delivered_twice_at_once_is_recorded_once(
    shopify, node, soap, tee, integration_user
):
    shopify_refunded_order(shopify, node, soap, tee)
    payload = fixture_json("shopify_refund_webhook.json")
    outcomes: list[str] = []
    threads = [
        threading.Thread(
            target=_deliver_in_thread,
            args=(shopify.pk, payload, integration_user.username, outcomes),
        )
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["created", "unchanged"]
    assert (Rma.objects.count(), Refund.objects.count()) == (1, 1)
    assert not UnmatchedChannelReturn.objects.exists()


def test_one_amazon_rma_over_two_rows_is_one_rma_with_a_line_per_item(
    amazon, node, tee, soap, integration_user
):
    order = amazon_sample_order(amazon, node, tee, soap)
    rma_row = {"Order ID": order.external_id, "Amazon RMA ID": "DkTWOITEMS", "Currency code": "USD"}
    content = mfn_report(
        {
            **rma_row,
            "Merchant SKU": "AMZ-TEE-BLK-M",
            "Return quantity": "2",
            "Refunded Amount": "54.10",
        },
        {
            **rma_row,
            "Merchant SKU": "AMZ-SOAP-LAV",
            "Return quantity": "1",
            "Refunded Amount": "9.37",
        },
    )

    (result,) = import_returns_report(
        channel=amazon, content=content, actor=integration_user
    ).results

    assert (result.outcome, result.line_numbers) == ("created", (2, 3))
    assert sorted(result.rma.lines.values_list("order_line__channel_sku", "quantity")) == [
        ("AMZ-SOAP-LAV", 1),
        ("AMZ-TEE-BLK-M", 2),
    ]
    assert result.refund.amount == Decimal("63.47")  # the whole order, nothing more


def test_a_channel_refund_in_another_currency_is_refused(amazon, node, tee, integration_user):
    amazon_refunded_order(amazon, node, tee)

    (result,) = import_returns_report(
        channel=amazon, content=mfn_report({"Currency code": "CAD"}), actor=integration_user
    ).results

    assert [(e.field, e.code) for e in result.errors] == [
        ("rows[2].Currency code", "currency_mismatch")
    ]
    assert not Rma.objects.exists()


def test_a_report_saved_with_a_byte_order_mark_and_windows_line_ends_reads_the_same(
    amazon, node, tee, integration_user
):
    amazon_refunded_order(amazon, node, tee)
    content = "\ufeff" + mfn_report({}).replace("\n", "\r\n") + "\r\n"

    report = import_returns_report(
        channel=amazon, content=content.encode("utf-8"), actor=integration_user
    )

    assert [(r.outcome, r.line_numbers) for r in report.results] == [("created", (2,))]


def test_a_return_past_our_window_is_accepted_saying_the_channel_authorized_it(
    shopify, node, soap, tee, integration_user
):
    order = shopify_refunded_order(shopify, node, soap, tee)  # shipped 3 days ago
    recent = import_channel_return(
        channel=shopify, payload=fixture_json("shopify_refund_webhook.json"), actor=integration_user
    )
    late_payload = fixture_json("shopify_refund_webhook.json")
    late_payload["id"] = 930112233499
    late_payload["refund_line_items"][0]["line_item_id"] = 14209990008  # the tee
    late_payload["transactions"][0]["amount"] = "26.74"
    Shipment.objects.filter(order=order).update(shipped_at=timezone.now() - timedelta(days=45))

    late = import_channel_return(channel=shopify, payload=late_payload, actor=integration_user)

    assert recent.rma.override_reason == ""
    assert late.outcome == "created", late.errors
    assert late.rma.override_reason.startswith("Authorized by Shopify (return 930112233499)")
