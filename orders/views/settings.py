"""The rules routing and validation read, on the back-office kit (erp.views.records):
channel order policies, shipping zones and rates, drop-ship sources and substitution
rules. Managers edit them (with a reason and a preview of what the change reaches now);
the other roles read them."""

from erp.views.records import Screen, register_screens
from orders import forms, selectors
from orders.models import (
    ChannelOrderPolicy,
    DropshipSource,
    ShippingRate,
    ShippingZone,
    SubstitutionRule,
)
from orders.services import settings as services

GROUP = "Routing and shipping"


def _screen(*, key, queryset, **values) -> Screen:
    return Screen(
        key=key,
        queryset=queryset,
        rows=lambda filters: filters.results(queryset()),
        namespace="orders",
        section="settings",
        group=GROUP,
        crumbs=(("Settings", "settings"),),
        **values,
    )


def _policy_preview(policy, data):
    channel = policy.channel if policy else data.get("channel")
    return selectors.order_policy_effect(
        policy, channel=channel, risk_threshold=data["risk_threshold"]
    )


ORDER_POLICIES = _screen(
    key="order-policy",
    path="settings/order-policies",
    title="Channel order policies",
    noun="Order policy",
    model=ChannelOrderPolicy,
    form_class=forms.OrderPolicyForm,
    edit_form_class=forms.OrderPolicyEditForm,
    filter_form_class=forms.OrderPolicyFilterForm,
    queryset=lambda: ChannelOrderPolicy.objects.select_related("channel").order_by("channel__code"),
    create=services.create_order_policy,
    update=services.update_order_policy,
    update_argument="policy",
    describe=lambda policy: f"{policy.channel.code} order policy",
    export_columns=(
        ("channel", lambda p: p.channel.code),
        ("hold above risk", lambda p: p.risk_threshold),
        ("require captured payment", lambda p: p.require_captured_payment),
        ("allow substitution", lambda p: p.allow_substitution),
        ("wave priority", lambda p: p.priority),
    ),
    preview=_policy_preview,
)

SHIPPING_ZONES = _screen(
    key="shipping-zone",
    path="settings/shipping-zones",
    title="Shipping zones",
    noun="Shipping zone",
    model=ShippingZone,
    form_class=forms.ShippingZoneForm,
    filter_form_class=forms.ShippingZoneFilterForm,
    queryset=lambda: ShippingZone.objects.order_by("country", "postal_prefix"),
    create=services.create_shipping_zone,
    update=services.update_shipping_zone,
    update_argument="zone",
    describe=lambda zone: f"{zone.country} {zone.postal_prefix or '(all)'} → {zone.zone}",
    export_columns=(
        ("country", lambda z: z.country),
        ("postal prefix", lambda z: z.postal_prefix),
        ("zone", lambda z: z.zone),
    ),
    preview=lambda zone, data: selectors.shipping_zone_effect(
        zone,
        country=data["country"],
        postal_prefix=data.get("postal_prefix", ""),
        zone_code=data["zone"],
    ),
)

SHIPPING_RATES = _screen(
    key="shipping-rate",
    path="settings/shipping-rates",
    title="Shipping rates",
    noun="Shipping rate",
    model=ShippingRate,
    form_class=forms.ShippingRateForm,
    filter_form_class=forms.ShippingRateFilterForm,
    queryset=lambda: ShippingRate.objects.order_by("origin_region", "zone"),
    create=services.create_shipping_rate,
    update=services.update_shipping_rate,
    update_argument="rate",
    describe=lambda rate: f"{rate.origin_region} → {rate.zone}",
    export_columns=(
        ("origin region", lambda r: r.origin_region),
        ("zone", lambda r: r.zone),
        ("cost", lambda r: r.cost),
        ("transit days", lambda r: r.transit_days),
    ),
    preview=lambda rate, data: selectors.shipping_rate_effect(
        rate,
        origin_region=data["origin_region"].strip(),
        zone_code=data["zone"].strip().lower(),
        cost=data["cost"],
        transit_days=data["transit_days"],
    ),
)

DROPSHIP_SOURCES = _screen(
    key="dropship-source",
    path="settings/drop-ship-sources",
    title="Drop-ship sources",
    noun="Drop-ship source",
    model=DropshipSource,
    form_class=forms.DropshipSourceForm,
    filter_form_class=forms.DropshipSourceFilterForm,
    queryset=lambda: DropshipSource.objects.select_related("sku", "location").order_by(
        "sku__code", "location__code"
    ),
    create=services.create_dropship_source,
    update=services.update_dropship_source,
    update_argument="source",
    sku_input=True,
    describe=lambda source: f"{source.sku.code} via {source.location.code}",
    export_columns=(
        ("sku", lambda s: s.sku.code),
        ("supplier node", lambda s: s.location.code),
        ("cost", lambda s: s.cost),
        ("transit days", lambda s: s.transit_days),
    ),
    preview=lambda source, data: selectors.backordered_lines_effect(
        sku_ids=[data["sku"].pk] if data.get("sku") else [],
        verb="wait for this SKU; the next routing pass may drop-ship them",
    ),
)

SUBSTITUTION_RULES = _screen(
    key="substitution-rule",
    path="settings/substitution-rules",
    title="Substitution rules",
    noun="Substitution rule",
    model=SubstitutionRule,
    form_class=forms.SubstitutionRuleForm,
    filter_form_class=forms.SubstitutionRuleFilterForm,
    queryset=lambda: SubstitutionRule.objects.order_by("product_family"),
    create=services.create_substitution_rule,
    update=services.update_substitution_rule,
    update_argument="rule",
    export_columns=(
        ("product family", lambda r: r.product_family),
        ("substitutes allowed", lambda r: r.allowed),
    ),
    preview=lambda rule, data: selectors.backordered_lines_effect(
        family=data["product_family"].strip(),
        verb="of this family wait for stock; with substitutes allowed (and the channel's "
        "policy allowing them) routing may ship a listed substitute",
    ),
)

SCREENS = (ORDER_POLICIES, SHIPPING_ZONES, SHIPPING_RATES, DROPSHIP_SOURCES, SUBSTITUTION_RULES)
register_screens(*SCREENS)
