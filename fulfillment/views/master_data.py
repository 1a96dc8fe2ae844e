"""Fulfillment master data on the back-office kit (erp.views.records): carriers,
carrier services, rate cards, boxes, slots and channel fulfillment policies. A list with
instant search, filters and CSV export, a record page with its change history (where the
model keeps one), create and edit through the master-data services with a reason.
"""

from urllib.parse import urlencode

from erp.views.records import Screen, register_screens
from fulfillment import forms
from fulfillment.models import (
    Box,
    Carrier,
    CarrierService,
    ChannelFulfillmentPolicy,
    RateCard,
    Slot,
)
from fulfillment.services import master_data as services
from fulfillment.services.waves import assign_slot


def _screen(*, key, queryset, **values):
    return Screen(
        key=key,
        queryset=queryset,
        rows=lambda filters: filters.results(queryset()),
        results_template=f"fulfillment/partials/master/{key}_results.html",
        details_template=f"fulfillment/partials/master/{key}_details.html",
        namespace="fulfillment",
        section="fulfillment",
        group="Warehouse setup",
        crumbs=(("Warehouse", "fulfillment:dashboard"),),
        stylesheet="fulfillment/fulfillment.css",
        initial_from_query=True,
        **values,
    )


SCREENS = (
    _screen(
        key="carrier",
        path="carriers",
        title="Carriers",
        noun="Carrier",
        model=Carrier,
        form_class=forms.CarrierForm,
        filter_form_class=forms.CarrierFilterForm,
        queryset=lambda: Carrier.objects.all(),
        create=services.create_carrier,
        update=services.update_carrier,
        update_argument="carrier",
    ),
    _screen(
        key="carrier-service",
        path="carrier-services",
        title="Carrier services",
        noun="Carrier service",
        model=CarrierService,
        form_class=forms.CarrierServiceForm,
        filter_form_class=forms.CarrierServiceFilterForm,
        queryset=lambda: CarrierService.objects.select_related("carrier"),
        create=services.create_carrier_service,
        update=services.update_carrier_service,
        update_argument="service",
    ),
    _screen(
        key="rate-card",
        path="rate-cards",
        title="Rate cards",
        noun="Rate card",
        model=RateCard,
        form_class=forms.RateCardForm,
        filter_form_class=forms.RateCardFilterForm,
        queryset=lambda: RateCard.objects.select_related("service__carrier").order_by(
            "service__carrier__code", "service__code", "origin_region", "zone", "min_weight_grams"
        ),
        create=services.create_rate_card,
        update=services.update_rate_card,
        update_argument="rate_card",
        describe=lambda rate: (
            f"{rate.service.carrier.code} {rate.service.name} {rate.origin_region}→{rate.zone} "
            f"{rate.min_weight_grams}–{rate.max_weight_grams} g"
        ),
    ),
    _screen(
        key="box",
        path="boxes",
        title="Boxes",
        noun="Box",
        model=Box,
        form_class=forms.BoxForm,
        filter_form_class=forms.BoxFilterForm,
        queryset=lambda: Box.objects.all(),
        create=services.create_box,
        update=services.update_box,
        update_argument="box",
    ),
    _screen(
        key="slot",
        path="slots",
        title="Slots",
        noun="Slot",
        model=Slot,
        form_class=forms.SlotForm,
        filter_form_class=forms.SlotFilterForm,
        queryset=lambda: Slot.objects.select_related("location", "sku").order_by(
            "location__code", "sort_key"
        ),
        create=lambda *, actor, data, reason: assign_slot(actor=actor, reason=reason, **data),
        update=lambda *, slot, actor, data, reason: assign_slot(
            sku=slot.sku, location=slot.location, code=data["code"], actor=actor, reason=reason
        ),
        create_query=lambda filters: (
            urlencode({"location": filters.data["node"]}) if filters.data.get("node") else ""
        ),
        update_argument="slot",
        sku_input=True,
        edit_form_class=forms.SlotMoveForm,
        describe=lambda slot: f"{slot.code} · {slot.sku.code} at {slot.location.code}",
    ),
    _screen(
        key="policy",
        path="channel-policies",
        title="Channel fulfillment policies",
        noun="Channel policy",
        model=ChannelFulfillmentPolicy,
        form_class=forms.PolicyForm,
        filter_form_class=forms.PolicyFilterForm,
        queryset=lambda: ChannelFulfillmentPolicy.objects.select_related(
            "channel", "tracking_endpoint", "notification_endpoint"
        ).order_by("channel__code"),
        create=services.create_channel_policy,
        update=services.update_channel_policy,
        update_argument="policy",
        describe=lambda policy: f"{policy.channel.code} fulfillment policy",
    ),
)
register_screens(*SCREENS)
