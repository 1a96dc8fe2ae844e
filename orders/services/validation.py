"""Checks that decide whether an order may route now or waits in a hold queue.

The address check is pluggable: ORDERS_ADDRESS_VALIDATOR names a callable
`(order) -> str | None` returning a problem, or None when the address is good. A real
validator may call out (an address service): entry points run it with `check_address`
before they open their transaction and hand the result in, which applies only while the
order's address is still the one checked.
"""

import re
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

from orders.models import ChannelOrderPolicy, HoldReason, LineState, Order, OrderLine

POSTAL_PATTERNS = {
    "US": r"^\d{5}(-\d{4})?$",
    "CA": r"^[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d$",
    "GB": r"^[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}$",
    "DE": r"^\d{5}$",
    "FR": r"^\d{5}$",
}
CAPTURED = {"captured", "partially_refunded"}
PAYABLE_ON_SHIP = {"authorized"}


def address_completeness(order: Order) -> str | None:
    """Default validator: the fields a carrier needs, and a postal code of the country's shape."""
    missing = [
        name
        for name, value in [
            ("street", order.ship_line1),
            ("city", order.ship_city),
            ("postal code", order.ship_postal_code),
            ("country", order.ship_country),
            ("recipient", order.ship_name),
        ]
        if not value.strip()
    ]
    if missing:
        return f"Missing {', '.join(missing)}."
    pattern = POSTAL_PATTERNS.get(order.ship_country.upper())
    if pattern and not re.match(pattern, order.ship_postal_code.strip()):
        return f"Postal code {order.ship_postal_code} is not valid for {order.ship_country}."
    return None


ADDRESS_FIELDS = (
    "ship_name",
    "ship_company",
    "ship_line1",
    "ship_line2",
    "ship_city",
    "ship_region",
    "ship_postal_code",
    "ship_country",
    "ship_phone",
)


@dataclass(frozen=True)
class AddressCheck:
    """The validator's answer for one address, taken outside any transaction."""

    address: tuple
    problem: str | None


def address_of(order: Order) -> tuple:
    return tuple(getattr(order, name) for name in ADDRESS_FIELDS)


def check_address(order: Order) -> AddressCheck:
    """Run the (possibly slow) address validator on `order`'s ship-to: call it before the
    transaction and pass the check to `evaluate_order` / `find_problems`."""
    return AddressCheck(address_of(order), _address_validator()(order))


def _address_validator():
    path = getattr(
        settings, "ORDERS_ADDRESS_VALIDATOR", "orders.services.validation.address_completeness"
    )
    return import_string(path)


def policy_for(channel) -> ChannelOrderPolicy:
    from orders.services.channel_config import config_for

    return config_for(channel).policy


AWAITING_PRICES = (
    "The channel has not confirmed this order yet (Amazon Pending): no prices, tax or "
    "address until the buyer's payment is authorised. It routes by itself when the "
    "channel sends them; nothing to do until then."
)


def find_problems(
    order: Order, lines: list[OrderLine], *, address_check: AddressCheck | None = None
) -> list[tuple[str, str]]:
    """Every reason this order cannot route now, as (hold reason, detail). `address_check`
    (taken before the transaction) stands for the validator while the address is the same.

    An order whose prices the channel withholds is held for that one reason (besides
    unmapped SKUs, which CS can fix meanwhile): its missing address and tax are the
    channel's to send, not CS's to correct, and nothing is reserved for it."""
    if not order.prices_known:
        return [(HoldReason.AWAITING_CHANNEL, AWAITING_PRICES), *_unmapped(lines)]
    policy = policy_for(order.channel)
    problems = []
    if address_check is not None and address_check.address == address_of(order):
        address_problem = address_check.problem
    else:
        address_problem = _address_validator()(order)
    if address_problem:
        problems.append((HoldReason.ADDRESS_INVALID, address_problem))
    paid = order.payment_status in CAPTURED or (
        not policy.require_captured_payment and order.payment_status in PAYABLE_ON_SHIP
    )
    if not paid:
        problems.append((HoldReason.PAYMENT_NOT_CAPTURED, f"Payment is {order.payment_status}."))
    if order.risk_score is not None and order.risk_score > policy.risk_threshold:
        problems.append(
            (
                HoldReason.RISK_ABOVE_THRESHOLD,
                f"Risk {order.risk_score} is above {policy.risk_threshold}.",
            )
        )
    if not order.tax_data_complete:
        problems.append((HoldReason.TAX_DATA_MISSING, "The channel has not sent tax data yet."))
    return problems + _unmapped(lines)


def _unmapped(lines: list[OrderLine]) -> list[tuple[str, str]]:
    unmapped = [
        line.channel_sku or line.external_item_id
        for line in lines
        if line.sku_id is None and line.state != LineState.CANCELLED
    ]
    if not unmapped:
        return []
    return [(HoldReason.SKU_NOT_MAPPED, f"No listing for {', '.join(unmapped)}.")]
