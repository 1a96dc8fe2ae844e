"""Fulfillment back-office forms: they parse what a person typed or a scanner sent (a
slot, a barcode, a quantity, an order number, a weight) and nothing more.

Whether a pick matches its task, which box fits or whether a label may be printed are
the services' rules (fulfillment.services); their refusals come back onto these forms
through `erp.views.forms.add_domain_errors`, so the API and the back office refuse
exactly the same things. A form never saves.
"""

from django import forms
from django.db.models import Q, QuerySet

from erp.forms import ParsingModelForm
from erp.models import Channel, Endpoint, Location
from fulfillment.models import (
    Box,
    Carrier,
    CarrierService,
    ChannelFulfillmentPolicy,
    RateCard,
    ServiceLevel,
    Shipment,
    Slot,
)
from inventory.forms import NodeField, SkuField

NOTE_MAX = 500

# --- master-data record forms ------------------------------------------------------------------


class CarrierForm(ParsingModelForm):
    fieldsets = (
        ("Carrier", ("code", "name", "active")),
        ("Tracking", ("tracking_url_template", "tracking_pattern")),
    )

    class Meta:
        model = Carrier
        fields = ["code", "name", "active", "tracking_url_template", "tracking_pattern"]
        labels = {"tracking_url_template": "Tracking page", "tracking_pattern": "Tracking format"}


class CarrierServiceForm(ParsingModelForm):
    fieldsets = (
        ("Service", ("carrier", "code", "name", "service_level", "active")),
        ("Hand-over", ("cutoff_time", "max_weight_grams")),
    )

    class Meta:
        model = CarrierService
        fields = [
            "carrier",
            "code",
            "name",
            "service_level",
            "active",
            "cutoff_time",
            "max_weight_grams",
        ]
        labels = {"cutoff_time": "Cutoff (local time)", "max_weight_grams": "Max weight (g)"}
        widgets = {"cutoff_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["carrier"].queryset = Carrier.objects.order_by("code")


class ServiceChoiceField(forms.ModelChoiceField):
    def __init__(self, **kwargs):
        kwargs.setdefault(
            "queryset", CarrierService.objects.select_related("carrier").order_by("carrier__code")
        )
        super().__init__(**kwargs)

    def label_from_instance(self, obj):
        return f"{obj.carrier.code} · {obj.name}"


class RateCardForm(ParsingModelForm):
    fieldsets = (
        ("Lane", ("service", "origin_region", "zone")),
        (
            "Weight band and price",
            ("min_weight_grams", "max_weight_grams", "price", "transit_days"),
        ),
    )
    service = ServiceChoiceField(label="Carrier service")

    class Meta:
        model = RateCard
        fields = [
            "service",
            "origin_region",
            "zone",
            "min_weight_grams",
            "max_weight_grams",
            "price",
            "transit_days",
        ]
        labels = {
            "origin_region": "Origin region",
            "zone": "Destination zone",
            "min_weight_grams": "From (g, exclusive)",
            "max_weight_grams": "Up to (g)",
            "transit_days": "Transit (working days)",
        }


class BoxForm(ParsingModelForm):
    fieldsets = (
        ("Box", ("code", "name", "active", "cost")),
        (
            "Inner size and weight",
            ("length_mm", "width_mm", "height_mm", "max_weight_grams", "tare_grams"),
        ),
    )

    class Meta:
        model = Box
        fields = [
            "code",
            "name",
            "active",
            "cost",
            "length_mm",
            "width_mm",
            "height_mm",
            "max_weight_grams",
            "tare_grams",
        ]
        labels = {
            "length_mm": "Length (mm)",
            "width_mm": "Width (mm)",
            "height_mm": "Height (mm)",
            "max_weight_grams": "Max content weight (g)",
            "tare_grams": "Empty box weighs (g)",
        }


class SlotForm(ParsingModelForm):
    """A SKU's slot at a node; the SKU is typed or scanned, the node chosen by code."""

    fieldsets = (("Slot", ("location", "sku", "code")),)
    location = NodeField()
    sku = SkuField()

    class Meta:
        model = Slot
        fields = ["location", "sku", "code"]
        labels = {"code": "Slot (aisle-bay-level)"}
        widgets = {
            "code": forms.TextInput(
                attrs={"placeholder": "A-01-3", "autocomplete": "off", "spellcheck": "false"}
            )
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["sku"] = self.instance.sku.code
            self.initial["location"] = self.instance.location.code


class PolicyForm(ParsingModelForm):
    fieldsets = (
        ("Channel", ("channel", "strict_penalties", "confirm_window_hours")),
        ("Outbound messages", ("tracking_endpoint", "notification_endpoint", "notify_customer")),
    )

    class Meta:
        model = ChannelFulfillmentPolicy
        fields = [
            "channel",
            "strict_penalties",
            "confirm_window_hours",
            "tracking_endpoint",
            "notification_endpoint",
            "notify_customer",
        ]
        labels = {
            "strict_penalties": "Strict penalties (same-day queue)",
            "confirm_window_hours": "Confirm shipped within (hours)",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = Channel.objects.order_by("code")
        endpoints = Endpoint.objects.order_by("code")
        self.fields["tracking_endpoint"].queryset = endpoints
        self.fields["notification_endpoint"].queryset = endpoints


# --- master-data list filters --------------------------------------------------------------------

ACTIVE_CHOICES = [("", "Active and inactive"), ("yes", "Active"), ("no", "Inactive")]


class RecordFilterForm(forms.Form):
    """Search box plus filters, bound to the query string.

    A value that does not parse (a stale bookmark, a hand-edited URL) filters nothing
    instead of showing an error on a search bar.
    """

    q = forms.CharField(required=False, label="Search", max_length=100)
    search_fields: tuple[str, ...] = ()

    def results(self, queryset: QuerySet) -> QuerySet:
        self.is_valid()
        search = self.cleaned_data.get("q", "").strip()
        if search and self.search_fields:
            condition = Q()
            for name in self.search_fields:
                condition |= Q(**{f"{name}__icontains": search})
            queryset = queryset.filter(condition)
        return self.filter(queryset, self.cleaned_data)

    def filter(self, queryset: QuerySet, data: dict) -> QuerySet:
        return queryset

    def is_filtered(self) -> bool:
        return any(self.cleaned_data.get(name) for name in self.fields)


class ActiveFilterForm(RecordFilterForm):
    active = forms.ChoiceField(required=False, choices=ACTIVE_CHOICES, label="Status")

    def filter(self, queryset, data):
        active = data.get("active")
        return queryset.filter(active=active == "yes") if active else queryset


class CarrierFilterForm(ActiveFilterForm):
    search_fields = ("code", "name")


class CarrierServiceFilterForm(ActiveFilterForm):
    search_fields = ("code", "name", "carrier__code")
    carrier = forms.ModelChoiceField(
        required=False,
        queryset=Carrier.objects.order_by("code"),
        to_field_name="code",
        empty_label="All carriers",
    )
    service_level = forms.ChoiceField(
        required=False, choices=[("", "All levels"), *ServiceLevel.choices], label="Level"
    )

    def filter(self, queryset, data):
        queryset = super().filter(queryset, data)
        if data.get("carrier"):
            queryset = queryset.filter(carrier=data["carrier"])
        if data.get("service_level"):
            queryset = queryset.filter(service_level=data["service_level"])
        return queryset


class RateCardFilterForm(RecordFilterForm):
    search_fields = ("origin_region", "zone", "service__code", "service__carrier__code")
    carrier = forms.ModelChoiceField(
        required=False,
        queryset=Carrier.objects.order_by("code"),
        to_field_name="code",
        empty_label="All carriers",
    )
    service = ServiceChoiceField(required=False, empty_label="All services")
    origin_region = forms.CharField(
        required=False,
        max_length=32,
        label="Origin",
        widget=forms.TextInput(attrs={"size": 9, "placeholder": "us-east"}),
    )
    zone = forms.CharField(
        required=False,
        max_length=16,
        label="Zone",
        widget=forms.TextInput(attrs={"size": 7, "placeholder": "mid"}),
    )
    weight = forms.IntegerField(
        required=False,
        min_value=1,
        label="Parcel (g)",
        widget=forms.NumberInput(attrs={"style": "width: 90px", "placeholder": "1200"}),
    )

    def filter(self, queryset, data):
        if data.get("carrier"):
            queryset = queryset.filter(service__carrier=data["carrier"])
        if data.get("service"):
            queryset = queryset.filter(service=data["service"])
        if data.get("origin_region"):
            queryset = queryset.filter(origin_region__iexact=data["origin_region"].strip())
        if data.get("zone"):
            queryset = queryset.filter(zone__iexact=data["zone"].strip())
        if data.get("weight"):
            # Bands include their upper bound (fulfillment.services.rates).
            queryset = queryset.filter(
                min_weight_grams__lt=data["weight"], max_weight_grams__gte=data["weight"]
            )
        return queryset


class BoxFilterForm(ActiveFilterForm):
    search_fields = ("code", "name")


class SlotFilterForm(RecordFilterForm):
    search_fields = ("code", "sku__code", "sku__name", "sku__barcode")
    node = forms.ModelChoiceField(
        required=False,
        queryset=Location.objects.order_by("priority", "code"),
        to_field_name="code",
        empty_label="All nodes",
        label="Node",
    )

    def filter(self, queryset, data):
        return queryset.filter(location=data["node"]) if data.get("node") else queryset


class PolicyFilterForm(RecordFilterForm):
    search_fields = ("channel__code", "channel__name")
    strict = forms.ChoiceField(
        required=False,
        choices=[("", "Any penalties"), ("yes", "Strict"), ("no", "Not strict")],
        label="Penalties",
    )

    def filter(self, queryset, data):
        strict = data.get("strict")
        return queryset.filter(strict_penalties=strict == "yes") if strict else queryset


class ShipmentFilterForm(RecordFilterForm):
    """Shipments by node, carrier, state and ship date; the search box takes a tracking
    number (or part of it), an order number or a shipment number."""

    node = forms.ModelChoiceField(
        required=False,
        queryset=Location.objects.order_by("priority", "code"),
        to_field_name="code",
        empty_label="All nodes",
        label="Node",
    )
    carrier = forms.ModelChoiceField(
        required=False,
        queryset=Carrier.objects.order_by("code"),
        to_field_name="code",
        empty_label="All carriers",
    )
    state = forms.ChoiceField(
        required=False, choices=[("", "All states"), *Shipment.State.choices], label="State"
    )
    shipped_from = forms.DateField(
        required=False,
        label="Shipped from",
        widget=forms.DateInput(attrs={"type": "date", "aria-label": "Shipped from"}),
    )
    shipped_to = forms.DateField(
        required=False,
        label="Shipped to",
        widget=forms.DateInput(attrs={"type": "date", "aria-label": "Shipped to"}),
    )

    def results(self, queryset: QuerySet) -> QuerySet:
        self.is_valid()
        search = self.cleaned_data.get("q", "").strip()
        if search:
            condition = (
                Q(tracking_number__icontains=search)
                | Q(order__order_number__iexact=search)
                | Q(order__external_id__iexact=search)
            )
            number = search.upper().removeprefix("SH")
            if number.isdigit():
                condition |= Q(pk=int(number))
            queryset = queryset.filter(condition)
        return self.filter(queryset, self.cleaned_data)

    def filter(self, queryset, data):
        if data.get("node"):
            queryset = queryset.filter(location=data["node"])
        if data.get("carrier"):
            queryset = queryset.filter(carrier=data["carrier"])
        if data.get("state"):
            queryset = queryset.filter(state=data["state"])
        if data.get("shipped_from"):
            queryset = queryset.filter(shipped_at__date__gte=data["shipped_from"])
        if data.get("shipped_to"):
            queryset = queryset.filter(shipped_at__date__lte=data["shipped_to"])
        return queryset
