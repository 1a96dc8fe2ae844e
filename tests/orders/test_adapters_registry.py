"""The adapter registry: one adapter per channel kind, each refusing other channels' orders."""

import json

import pytest

from erp.models import Channel
from orders.adapters import ADAPTERS, parse_order
from orders.adapters.base import AdapterError, NormalizedOrder
from tests.channel_samples import CHANNEL_FIXTURES

SAMPLES = CHANNEL_FIXTURES / "orders"
CHANNEL_SAMPLES = ("shopify", "amazon", "ebay", "walmart", "woocommerce")


def sample(kind: str) -> dict:
    return json.loads((SAMPLES / f"{kind}_order.json").read_text())


def test_every_channel_kind_has_an_adapter():
    assert set(ADAPTERS) == set(Channel.Kind.values)


@pytest.mark.parametrize("kind", CHANNEL_SAMPLES)
def test_each_channel_sample_parses_through_the_registry(kind):
    order = parse_order(kind, sample(kind))
    assert isinstance(order, NormalizedOrder)
    assert order.channel_kind == kind
    assert order.lines


@pytest.mark.parametrize(
    "kind, other",
    [(kind, other) for kind in sorted(ADAPTERS) for other in CHANNEL_SAMPLES if kind != other],
)
def test_each_adapter_refuses_every_other_channels_sample(kind, other):
    with pytest.raises(AdapterError) as caught:
        parse_order(kind, sample(other))
    assert caught.value.code == "wrong_shape"
    assert "missing" in caught.value.message


@pytest.mark.parametrize("kind", sorted(ADAPTERS))
@pytest.mark.parametrize("payload", [[], "order", None, {}])
def test_each_adapter_refuses_what_is_not_an_order_object(kind, payload):
    with pytest.raises(AdapterError) as caught:
        parse_order(kind, payload)
    assert caught.value.code == "wrong_shape"


def test_an_unknown_channel_kind_is_refused():
    with pytest.raises(AdapterError) as caught:
        parse_order("etsy", sample("shopify"))
    assert (caught.value.code, caught.value.field) == ("unknown_channel_kind", "kind")
