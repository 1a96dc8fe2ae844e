"""POST /api/v1/channels/{code}/returns/: each channel's own return body (Shopify webhook,
eBay return) or report (Amazon, as the body or an uploaded file), with the integration
role's permissions; delivering it again changes nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from returns.models import Refund, Rma, UnmatchedChannelReturn
from tests.channel_samples import CHANNEL_FIXTURES
from tests.conftest import token_client
from tests.returns.channel_orders import (
    amazon_refunded_order,
    amazon_sample_order,
    shopify_refunded_order,
)

pytestmark = pytest.mark.django_db


def body(name: str) -> bytes:
    return (CHANNEL_FIXTURES / "returns" / name).read_bytes()


def url(channel) -> str:
    return f"/api/v1/channels/{channel.code}/returns/"


def test_the_shopify_webhook_creates_the_rma_once_and_answers_a_redelivery_unchanged(
    api, shopify, node, soap, tee
):
    shopify_refunded_order(shopify, node, soap, tee)
    payload = body("shopify_refund_webhook.json")

    first = api.post(url(shopify), payload, content_type="application/json")
    again = api.post(url(shopify), payload, content_type="application/json")

    assert first.status_code == 201, first.json()
    data = first.json()
    rma = Rma.objects.get()
    assert (data["outcome"], data["rma"], data["return_id"], data["errors"]) == (
        "created",
        rma.number,
        "930112233401",
        [],
    )
    assert data["refund"] == Refund.objects.get().number
    assert (again.status_code, again.json()["outcome"]) == (200, "unchanged")
    assert (Rma.objects.count(), Refund.objects.count()) == (1, 1)


def test_a_refund_for_an_unknown_order_is_answered_400_naming_the_field_and_kept(api, shopify):
    response = api.post(
        url(shopify), body("shopify_refund_webhook.json"), content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "order_id"
    assert response.json()["errors"][0]["code"] == "unknown_order"
    assert UnmatchedChannelReturn.objects.get().payload.startswith("{")


def test_a_malformed_body_is_refused_and_nothing_is_kept(api, shopify):
    response = api.post(url(shopify), b'{"id": 1,', content_type="application/json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "parse_error"
    assert not UnmatchedChannelReturn.objects.exists()


def test_the_amazon_report_posted_as_tab_separated_text_answers_per_return(
    api, amazon, node, tee, soap
):
    amazon_refunded_order(amazon, node, tee)
    amazon_sample_order(amazon, node, tee, soap)

    response = api.post(
        url(amazon), body("amazon_returns_mfn.tsv"), content_type="text/tab-separated-values"
    )

    assert response.status_code == 200, response.json()
    data = response.json()
    assert (data["report"], data["rows"], data["created"], data["refused"]) == (
        "amazon_mfn_returns",
        2,
        2,
        0,
    )
    assert [(r["lines"], r["return_id"]) for r in data["results"]] == [
        ([2], "DcXq9v2RRMA"),
        ([3], "DkP4w8ZRRMA"),
    ]


def test_the_fba_report_uploaded_as_a_file_reports_its_refused_rows_with_reasons(api, amazon):
    upload = SimpleUploadedFile("returns.tsv", body("amazon_returns_fba.tsv"))

    response = api.post(url(amazon), {"file": upload}, format="multipart")

    assert response.status_code == 200, response.json()
    data = response.json()
    assert (data["report"], data["refused"]) == ("amazon_fba_returns", 3)
    assert data["results"][0]["errors"][0]["field"] == "rows[2].order-id"
    assert UnmatchedChannelReturn.objects.count() == 3


def test_a_report_missing_its_columns_is_refused_whole(api, amazon):
    content = body("amazon_returns_mfn.tsv").replace(b"Amazon RMA ID", b"RMA")

    response = api.post(url(amazon), content, content_type="text/tab-separated-values")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "header"
    assert not UnmatchedChannelReturn.objects.exists()


def test_a_role_that_may_not_authorize_returns_is_refused(warehouse_user, shopify):
    response = token_client(warehouse_user).post(
        url(shopify), body("shopify_refund_webhook.json"), content_type="application/json"
    )

    assert response.status_code == 403
    assert not UnmatchedChannelReturn.objects.exists()


def test_another_shopify_topic_is_refused_before_anything_is_read(api, shopify, node, soap, tee):
    shopify_refunded_order(shopify, node, soap, tee)

    response = api.post(
        url(shopify),
        body("shopify_refund_webhook.json"),
        content_type="application/json",
        HTTP_X_SHOPIFY_TOPIC="orders/updated",
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "X-Shopify-Topic"
    assert not Rma.objects.exists() and not UnmatchedChannelReturn.objects.exists()


def test_a_shopify_refund_above_what_the_order_paid_is_refused_naming_the_transaction(
    api, shopify, node, soap, tee
):
    shopify_refunded_order(shopify, node, soap, tee)  # paid 8.56 + 26.74
    payload = body("shopify_refund_webhook.json").replace(b'"8.56"', b'"50.00"')

    response = api.post(url(shopify), payload, content_type="application/json")

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert (error["field"], error["code"]) == ("transactions[0].amount", "exceeds_paid")
    assert not Rma.objects.exists() and not Refund.objects.exists()
    assert UnmatchedChannelReturn.objects.get().errors[0]["code"] == "exceeds_paid"
