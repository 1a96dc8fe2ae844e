"""Return policies per channel and product family, and the managed list of reasons."""

from decimal import Decimal

import pytest

from erp.errors import NotPermitted, ValidationFailed
from returns.models import ReturnPolicy, ReturnReason
from returns.services.policies import (
    policy_for,
    refund_endpoint_for,
    save_return_policy,
    save_return_reason,
)
from tests.factories import ChannelFactory, EndpointFactory, SkuFactory
from tests.factories.returns import ReturnPolicyFactory

pytestmark = pytest.mark.django_db


def test_without_a_policy_row_the_channels_window_and_timing_apply(tee):
    channel = ChannelFactory(return_window_days=14, refund_timing="on_receipt")

    policy = policy_for(channel, tee)

    assert (policy.window_days, policy.refund_timing, policy.source) == (
        14,
        "on_receipt",
        "channel defaults",
    )
    assert (policy.return_shipping_paid_by, policy.restocking_fee_percent) == ("buyer", 0)
    assert not policy.never_restock and not policy.always_inspect_serials


def test_a_product_family_policy_overrides_the_channel_policy(shop, tee, soap):
    ReturnPolicyFactory(channel=shop, window_days=30, refund_timing="after_inspection")
    ReturnPolicyFactory(
        channel=shop,
        product_family="hygiene",
        window_days=0,
        never_restock=True,
        restocking_fee_percent=Decimal("15"),
    )

    assert (policy_for(shop, tee).window_days, policy_for(shop, tee).source) == (30, "channel")
    soap_policy = policy_for(shop, soap)
    assert (soap_policy.window_days, soap_policy.never_restock, soap_policy.source) == (
        0,
        True,
        "family",
    )
    assert soap_policy.restocking_fee_percent == Decimal("15")


def test_a_manager_saves_a_policy_that_takes_the_channels_window_and_timing(manager):
    channel = ChannelFactory(return_window_days=45, refund_timing="on_authorization")

    policy = save_return_policy(
        channel=channel, actor=manager, return_shipping_paid_by="seller", restocking_fee_percent=5
    )

    assert (policy.window_days, policy.refund_timing) == (None, "")  # inherited, not copied
    effective = policy_for(channel, SkuFactory(product_family=""))
    assert (effective.window_days, effective.refund_timing, effective.return_shipping_paid_by) == (
        45,
        "on_authorization",
        "seller",
    )
    save_return_policy(
        channel=channel, actor=manager, product_family="electronics", always_inspect_serials=True
    )
    assert ReturnPolicy.objects.filter(channel=channel).count() == 2
    assert policy.history.first().history_user == manager


def test_a_restocking_fee_above_100_percent_is_refused(manager, shop):
    with pytest.raises(ValidationFailed) as refused:
        save_return_policy(channel=shop, actor=manager, restocking_fee_percent=Decimal("120"))
    assert refused.value.errors[0].field == "restocking_fee_percent"
    assert not ReturnPolicy.objects.exists()


def test_refund_confirmations_are_set_on_the_channel_wide_policy(manager, shop):
    endpoint = EndpointFactory()
    with pytest.raises(ValidationFailed) as refused:
        save_return_policy(
            channel=shop, actor=manager, product_family="apparel", refund_endpoint=endpoint
        )
    assert refused.value.errors[0].code == "channel_wide_only"

    save_return_policy(channel=shop, actor=manager, refund_endpoint=endpoint)
    assert refund_endpoint_for(shop) == endpoint


def test_customer_service_cannot_change_policies(cs_user, shop):
    with pytest.raises(NotPermitted):
        save_return_policy(channel=shop, actor=cs_user, window_days=60)


def test_reasons_are_a_managed_list(manager):
    reason = save_return_reason(
        code="too_small", label="Too small", actor=manager, counts_as_damage=False
    )
    assert ReturnReason.objects.get(code="too_small") == reason

    save_return_reason(code="too_small", actor=manager, active=False)
    reason.refresh_from_db()
    assert not reason.active and reason.label == "Too small"

    with pytest.raises(ValidationFailed):
        save_return_reason(code="new_code", actor=manager)


def test_the_default_reasons_say_which_are_our_fault_and_which_are_damage(db):
    flags = dict(
        ReturnReason.objects.filter(
            code__in=["changed_mind", "damaged_in_transit", "wrong_item_sent"]
        ).values_list("code", "our_fault")
    )
    assert flags == {"changed_mind": False, "damaged_in_transit": True, "wrong_item_sent": True}
    assert ReturnReason.objects.get(code="damaged_in_transit").counts_as_damage


def test_policy_for_a_sku_without_a_family_is_the_channel_policy(shop):
    ReturnPolicyFactory(channel=shop, window_days=21)
    assert policy_for(shop, SkuFactory(product_family="")).window_days == 21


# --- one home for the return window and refund timing ------------------------------------


def test_a_policy_without_its_own_window_follows_the_channels_window_when_it_changes(manager):
    from erp.services.master_data import update_channel
    from returns.services.policies import policy_for, save_return_policy
    from tests.factories import ChannelFactory, SkuFactory

    channel = ChannelFactory(code="RW1", return_window_days=30, refund_timing="on_receipt")
    sku = SkuFactory(product_family="apparel")
    save_return_policy(channel=channel, actor=manager, restocking_fee_percent=Decimal("10"))

    update_channel(channel=channel, actor=manager, data={"return_window_days": 45})
    channel.refresh_from_db()
    policy = policy_for(channel, sku)

    assert (policy.window_days, policy.refund_timing, policy.source) == (
        45,
        "on_receipt",
        "channel",
    )
    assert policy.restocking_fee_percent == Decimal("10")


def test_a_family_policy_inherits_what_it_leaves_blank_from_the_channel_wide_policy(manager):
    from returns.services.policies import policy_for, save_return_policy
    from tests.factories import ChannelFactory, SkuFactory

    channel = ChannelFactory(code="RW2", return_window_days=30, refund_timing="on_receipt")
    save_return_policy(channel=channel, actor=manager, window_days=60)
    save_return_policy(
        channel=channel,
        actor=manager,
        product_family="electronics",
        refund_timing="after_inspection",
    )

    gadget = policy_for(channel, SkuFactory(product_family="electronics"))
    tee = policy_for(channel, SkuFactory(product_family="apparel"))

    assert (gadget.window_days, gadget.refund_timing) == (60, "after_inspection")
    assert (tee.window_days, tee.refund_timing) == (60, "on_receipt")
