"""The project's own order format, for B2B-portal and manual orders (channel kinds b2b, manual).

It mirrors NormalizedOrder, so it says exactly what the ERP will store. A JSON object:

    {
      "external_id": "PO-2026-0042",            required; unique per channel
      "order_number": "B2B-0042",               optional, human-facing
      "placed_at": "2026-11-20T09:30:00+01:00", required; ISO 8601 with Z or an offset
      "updated_at": "…", "ship_by": "…",        optional; same format (updated_at orders
                                                redeliveries: an older one is ignored)
      "currency": "EUR",                        required; ISO 4217
      "payment_status": "authorized",           required: captured | authorized | pending |
                                                refunded | partially_refunded | voided
                                                (invoice terms: "authorized")
      "channel_status": "open",                 optional: open | cancelled | shipped
      "service_level": "standard",              optional: standard | expedited | next_day |
                                                same_day | economy
      "risk_score": null,                       optional, 0–100
      "customer_email": "buyer@example.com",    optional
      "ship_to": {"name", "company", "line1", "line2", "city", "region",
                  "postal_code", "country", "phone", "email"},
                                                optional object of strings; country ISO
                                                3166-1 alpha-2 (alpha-3 accepted)
      "lines": [                                required, at least one
        {"line_id": "1",                        optional (default: position from 1), unique
         "sku": "TEE-BLK-M",                    required: our channel listing's SKU
         "quantity": 2,                         required, whole number ≥ 1 (or its text)
         "unit_price": "24.99",                 required, per unit before discount
         "tax": "4.75", "discount": "5.00",     optional line totals (discount positive)
         "title": "Organic Tee",                optional
         "item_id": ""}                         optional external item id
      ],
      "shipping_total": "6.90", "tax_total": "…", "discount_total": "…",
                                                optional; tax and discount default to the
                                                sum over lines, shipping to 0
      "total": "…",                             optional; default: lines − discounts +
                                                shipping (+ tax unless taxes_included)
      "taxes_included": false,                  optional
      "tax_data_complete": true,                optional
      "extra": {}                               optional object, stored as sent (a
                                                number parsed as Decimal is kept as text)
    }

Money is text or a JSON number (exact: parsed as Decimal, never float), rounded to the
currency's minor unit. Unknown status words are refused rather than guessed: this format is
ours, so a typo is a bug on the sending side.
"""

from decimal import Decimal

from orders.adapters.base import (
    AdapterError,
    ChannelStatus,
    NormalizedAddress,
    NormalizedLine,
    NormalizedOrder,
    PaymentStatus,
    ServiceLevel,
)
from orders.adapters.parsing import (
    check_shape,
    country_code,
    currency_code,
    decimal_value,
    identifier,
    items,
    money,
    obj,
    optional_money,
    optional_utc_datetime,
    path,
    quantity,
    required,
    text,
    utc_datetime,
)


def _choices(holder) -> frozenset[str]:
    return frozenset(value for name, value in vars(holder).items() if name.isupper())


PAYMENT_STATUSES = _choices(PaymentStatus)
CHANNEL_STATUSES = _choices(ChannelStatus)
SERVICE_LEVELS = _choices(ServiceLevel)
ADDRESS_FIELDS = ("name", "company", "line1", "line2", "city", "region", "postal_code", "phone")


def parse_order(payload: dict, *, channel_kind: str = "b2b") -> NormalizedOrder:
    check_shape(payload, "normalized", ("external_id", "placed_at", "lines"))
    currency = currency_code(required(payload, "currency", "currency"), "currency")
    raw_lines = items(payload["lines"], "lines", required_non_empty=True)
    lines = tuple(
        _line(obj(line, path("lines", i)), i, currency) for i, line in enumerate(raw_lines)
    )
    _refuse_duplicate_ids(lines)
    taxes_included = _flag(payload, "taxes_included", default=False)
    tax_total = _total(
        payload, "tax_total", currency, sum((line.tax for line in lines), Decimal(0))
    )
    discount_total = _total(
        payload, "discount_total", currency, sum((line.discount for line in lines), Decimal(0))
    )
    shipping_total = optional_money(payload.get("shipping_total"), "shipping_total", currency)
    merchandise = sum((line.unit_price * line.quantity for line in lines), Decimal(0))
    computed = merchandise - discount_total + shipping_total + (0 if taxes_included else tax_total)
    extra = obj(payload.get("extra"), "extra")
    return NormalizedOrder(
        channel_kind=channel_kind,
        external_id=identifier(payload["external_id"], "external_id"),
        order_number=text(payload.get("order_number")),
        placed_at=utc_datetime(payload["placed_at"], "placed_at"),
        updated_at=optional_utc_datetime(payload.get("updated_at"), "updated_at"),
        ship_by=optional_utc_datetime(payload.get("ship_by"), "ship_by"),
        currency=currency,
        lines=lines,
        service_level=_choice(payload, "service_level", SERVICE_LEVELS, ServiceLevel.STANDARD),
        payment_status=_choice(payload, "payment_status", PAYMENT_STATUSES, None),
        channel_status=_choice(payload, "channel_status", CHANNEL_STATUSES, ChannelStatus.OPEN),
        risk_score=_risk(payload.get("risk_score")),
        ship_to=_address(payload.get("ship_to")),
        customer_email=text(payload.get("customer_email")),
        shipping_total=shipping_total,
        tax_total=tax_total,
        discount_total=discount_total,
        total=_total(payload, "total", currency, computed),
        taxes_included=taxes_included,
        tax_data_complete=_flag(payload, "tax_data_complete", default=True),
        extra=_json_safe(extra),
    )


def _line(line: dict, index: int, currency: str) -> NormalizedLine:
    where = path("lines", index)
    line_id = line.get("line_id")
    return NormalizedLine(
        external_line_id=str(index + 1) if line_id in (None, "") else identifier(line_id, where),
        channel_sku=text(required(line, "sku", path(where, "sku"))),
        quantity=quantity(line.get("quantity"), path(where, "quantity")),
        unit_price=money(
            required(line, "unit_price", path(where, "unit_price")),
            path(where, "unit_price"),
            currency,
        ),
        tax=optional_money(line.get("tax"), path(where, "tax"), currency),
        discount=optional_money(line.get("discount"), path(where, "discount"), currency),
        title=text(line.get("title")),
        external_item_id=text(line.get("item_id")),
    )


def _refuse_duplicate_ids(lines: tuple[NormalizedLine, ...]) -> None:
    seen = set()
    for index, line in enumerate(lines):
        if line.external_line_id in seen:
            raise AdapterError(
                f"Line id {line.external_line_id} appears twice.",
                field=f"lines[{index}].line_id",
                code="duplicate",
            )
        seen.add(line.external_line_id)


def _total(payload: dict, key: str, currency: str, default: Decimal) -> Decimal:
    if payload.get(key) in (None, ""):
        return money(default, key, currency)
    return money(payload[key], key, currency)


def _choice(payload: dict, key: str, allowed: frozenset[str], default: str | None) -> str:
    value = payload.get(key)
    if value in (None, "") and default is not None:
        return default
    value = text(required(payload, key, key))
    if value not in allowed:
        raise AdapterError(
            f"{key} must be one of {', '.join(sorted(allowed))}, not {value!r}.",
            field=key,
            code="invalid_choice",
        )
    return value


def _flag(payload: dict, key: str, *, default: bool) -> bool:
    value = payload.get(key, default)
    if not isinstance(value, bool):
        raise AdapterError(f"{key} must be true or false.", field=key, code="invalid")
    return value


def _risk(value) -> Decimal | None:
    if value in (None, ""):
        return None
    score = decimal_value(value, "risk_score")
    if not 0 <= score <= 100:
        raise AdapterError("risk_score must be between 0 and 100.", field="risk_score")
    return score.quantize(Decimal("0.01"))


def _json_safe(value):
    """extra is stored in a JSON column: numbers parsed as Decimal are kept as their text."""
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    return str(value) if isinstance(value, Decimal) else value


def _address(address) -> NormalizedAddress | None:
    if not address:
        return None
    address = obj(address, "ship_to")
    return NormalizedAddress(
        **{name: text(address.get(name)) for name in ADDRESS_FIELDS},
        country=country_code(address.get("country"), "ship_to.country"),
        email=text(address.get("email")),
    )
