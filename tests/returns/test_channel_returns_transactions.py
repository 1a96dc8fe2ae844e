"""A channel return applies its RMA and the channel's refund inside one transaction of its
own, through the services' inner variants (`create_rma_within`,
`record_channel_refund_within`): the durable entry points are never nested. Real
transactions: TestCase would hide a nested durable block."""

import json
from decimal import Decimal

import pytest

from returns.models import Refund, RefundState
from returns.services.channel_returns import import_channel_return
from tests.channel_samples import CHANNEL_FIXTURES
from tests.returns.channel_orders import shopify_refunded_order

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_channel_return_and_its_refund_apply_in_one_transaction(
    shopify, node, soap, tee, integration_user
):
    shopify_refunded_order(shopify, node, soap, tee)
    payload = json.loads(
        (CHANNEL_FIXTURES / "returns" / "shopify_refund_webhook.json").read_text(),
        parse_float=Decimal,
    )

    result = import_channel_return(channel=shopify, payload=payload, actor=integration_user)
    again = import_channel_return(channel=shopify, payload=payload, actor=integration_user)

    assert (result.outcome, again.outcome) == ("created", "unchanged")
    refund = Refund.objects.get()
    assert (refund.state, refund.amount) == (RefundState.POSTED_ON_CHANNEL, Decimal("8.56"))
