"""Fulfillment back-office forms: they parse what a person typed or a scanner sent (a
slot, a barcode, a quantity, an order number, a weight) and nothing more.

Whether a pick matches its task, which box fits or whether a label may be printed are
the services' rules (fulfillment.services); their refusals come back onto these forms
through `erp.views.forms.add_domain_errors`, so the API and the back office refuse
exactly the same things. A form never saves.
"""

from django import forms
from django.db.models import Q, QuerySet

from erp.forms import ACTIVE_CHOICES, Form, ParsingModelForm, RecordFilterForm
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


class SlotCodeMixin:
    """The service reads the slot code (a-1-3 is A-1-3) and says what is wrong with it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].validators = []


class SlotForm(SlotCodeMixin, ParsingModelForm):
    """A SKU's slot at a node; the SKU is typed or scanned, the node chosen by code.
    Assigning a slot to a SKU that has one at that node moves it there."""

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


class SlotMoveForm(SlotCodeMixin, ParsingModelForm):
    """A slotted SKU moves to another slot at the same node."""

    fieldsets = (("Move to", ("code",)),)

    class Meta:
        model = Slot
        fields = ["code"]
        labels = {"code": "Slot (aisle-bay-level)"}
        widgets = SlotForm.Meta.widgets


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


# --- the warehouse floor -----------------------------------------------------------------------


def picking_nodes() -> QuerySet[Location]:
    """Nodes with a floor to pick from: active, and not a drop-ship supplier."""
    return (
        Location.objects.filter(active=True)
        .exclude(kind=Location.Kind.DROPSHIP)
        .order_by("priority", "code")
    )


def node_choice(query) -> tuple[list[Location], Location | None]:
    """The picking nodes and the one `?node=WH-EAST` names; without one (or with a node
    that is not picked from) the first. One query: the switch lists the same nodes."""
    nodes = list(picking_nodes())
    wanted = (query.get("node") or "").strip()
    chosen = next((node for node in nodes if node.code == wanted), None)
    return nodes, chosen or (nodes[0] if nodes else None)


class BuildWavesForm(Form):
    node = forms.CharField(widget=forms.HiddenInput, max_length=32)
    max_orders = forms.IntegerField(
        required=False,
        label="At most",
        help_text="orders (empty: every waiting order)",
        widget=forms.NumberInput(attrs={"placeholder": "all", "min": 1}),
    )

    def clean_node(self) -> Location:
        node = picking_nodes().filter(code=self.cleaned_data["node"]).first()
        if node is None:
            raise forms.ValidationError("Choose a node we pick from.", code="invalid_choice")
        return node


def _scan_input(label_attrs: dict | None = None, **attrs):
    return forms.TextInput(
        attrs={
            "class": "scan-step",
            "autocomplete": "off",
            "spellcheck": "false",
            "autocapitalize": "off",
            **(label_attrs or {}),
            **attrs,
        }
    )


def _serial_lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class TrackingInputs(Form):
    """Lot and serial inputs, shown only when the task's SKU is tracked that way."""

    lot_code = forms.CharField(
        required=False,
        max_length=64,
        label="Lot",
        help_text="Scan the lot, or Enter for the suggested one.",
        widget=_scan_input(**{"data-may-be-empty": ""}),
    )
    serials = forms.CharField(
        required=False,
        label="Serial numbers",
        help_text="One scan per unit; Enter on an empty line goes on.",
        widget=forms.Textarea(
            attrs={
                "class": "scan-step",
                "rows": 3,
                "spellcheck": "false",
                "data-multi-scan": "",
            }
        ),
    )

    def __init__(self, *args, sku=None, **kwargs):
        super().__init__(*args, **kwargs)
        if not (sku and sku.lot_tracked):
            del self.fields["lot_code"]
        if not (sku and sku.serial_tracked):
            del self.fields["serials"]

    def clean_serials(self) -> list[str]:
        return _serial_lines(self.cleaned_data.get("serials", ""))

    def tracking(self) -> dict:
        return {
            "lot_code": self.cleaned_data.get("lot_code") or None,
            "serials": self.cleaned_data.get("serials") or [],
        }


class PickScanForm(TrackingInputs):
    """What the scanner types for one pick task: slot, item, (lot,) quantity, (serials)."""

    slot_code = forms.CharField(
        max_length=16,
        label="Slot",
        error_messages={"required": "Scan the slot first."},
        widget=_scan_input(),
    )
    barcode = forms.CharField(
        max_length=128,
        label="Item barcode",
        error_messages={"required": "Scan the item."},
        widget=_scan_input(),
    )
    quantity = forms.IntegerField(
        label="Quantity",
        error_messages={"required": "How many did you take?"},
        widget=forms.NumberInput(attrs={"class": "scan-step", "min": 1, "inputmode": "numeric"}),
    )
    field_order = ["slot_code", "barcode", "lot_code", "quantity", "serials"]

    def __init__(self, *args, task=None, **kwargs):
        super().__init__(*args, sku=task.sku if task else None, **kwargs)
        self.task = task
        if task is not None and not task.slot_code:
            self.fields["slot_code"].required = False
            self.fields["slot_code"].help_text = "This SKU has no slot here: Enter to go on."
            self.fields["slot_code"].widget.attrs["data-may-be-empty"] = ""
        if task is not None and not self.is_bound:
            self.initial["quantity"] = task.remaining
        self.order_fields(self.field_order)


class ShortPickForm(TrackingInputs):
    """The slot holds less than the task: how many were found (they are picked)."""

    quantity_found = forms.IntegerField(
        label="Units found",
        error_messages={"required": "How many units are in the slot?"},
        widget=forms.NumberInput(attrs={"class": "scan-step", "min": 0, "inputmode": "numeric"}),
    )
    note = forms.CharField(
        required=False,
        max_length=NOTE_MAX,
        label="Note",
        widget=forms.TextInput(attrs={"placeholder": "e.g. slot empty, damaged units"}),
    )
    field_order = ["quantity_found", "lot_code", "serials", "note"]

    def __init__(self, *args, task=None, **kwargs):
        super().__init__(*args, sku=task.sku if task else None, prefix="short", **kwargs)
        self.task = task
        self.order_fields(self.field_order)


class ResolveShortPickForm(Form):
    resolution = forms.CharField(
        required=False,
        max_length=NOTE_MAX,
        label="Resolution",
        widget=forms.TextInput(attrs={"placeholder": "e.g. count closed, 2 found in B-04-1"}),
    )


class OrderScanForm(Form):
    order = forms.CharField(
        max_length=128,
        label="Scan the order",
        error_messages={"required": "Scan the order number on the pick list or tote."},
        widget=_scan_input(autofocus=True),
    )


class PackForm(Form):
    """Units per packable line, the box (or the outer size of the item's own carton) and
    the weight from the scale."""

    box = forms.ChoiceField(required=False, label="Box")
    length_mm = forms.IntegerField(required=False, label="Length (mm)")
    width_mm = forms.IntegerField(required=False, label="Width (mm)")
    height_mm = forms.IntegerField(required=False, label="Height (mm)")
    weight_grams = forms.IntegerField(
        label="Weight (g)",
        error_messages={"required": "Weigh the package."},
        widget=forms.NumberInput(attrs={"class": "scan-step", "min": 1, "inputmode": "numeric"}),
    )

    def __init__(self, *args, lines=(), boxes=(), suggested=None, **kwargs):
        """`lines`: (order line, units packable) pairs; `boxes`: the boxes in use."""
        super().__init__(*args, **kwargs)
        self.line_fields = []
        for line, packable in lines:
            name = f"line_{line.pk}"
            self.fields[name] = forms.IntegerField(
                required=False,
                min_value=0,
                initial=packable,
                label=f"Units of line {line.line_number}",
                widget=forms.NumberInput(attrs={"min": 0, "max": packable}),
            )
            self.line_fields.append((line, packable, name))
        self.fields["box"].choices = [
            *((box.code, f"{box} · max {box.max_weight_grams} g") for box in boxes),
            ("", "No box: the item's own carton (enter its size)"),
        ]
        if suggested is not None and not self.is_bound:
            self.initial["box"] = suggested.code

    def rows(self):
        return [(line, packable, self[name]) for line, packable, name in self.line_fields]

    def packed_lines(self) -> dict[int, int]:
        return {
            line.pk: self.cleaned_data[name]
            for line, _, name in self.line_fields
            if self.cleaned_data.get(name)
        }

    def dimensions(self) -> tuple[int, int, int] | None:
        sides = [self.cleaned_data.get(name) for name in ("length_mm", "width_mm", "height_mm")]
        return tuple(sides) if all(sides) else None


class LabelForm(Form):
    service = forms.ChoiceField(required=False, label="Carrier service")

    def __init__(self, *args, options=(), **kwargs):
        """`options`: the services quoted for the package, the recommended one first."""
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = [
            ("", "Recommended: cheapest that meets the promise"),
            *(
                (option.key, f"{option.key} · {option.price} · {option.transit_days} d")
                for option in options
            ),
        ]


class VoidLabelForm(Form):
    reason = forms.CharField(
        required=False,
        max_length=NOTE_MAX,
        label="Why void it?",
        widget=forms.TextInput(attrs={"placeholder": "e.g. wrong box, re-packing"}),
    )


def order_by_reference(typed: str, orders: QuerySet) -> list:
    """What a packer scanned: the channel's order number, its external id, or our own
    reference ORD-<id>. Several channels may share a number; all matches are returned."""
    typed = (typed or "").strip()
    if not typed:
        return []
    condition = Q(order_number__iexact=typed) | Q(external_id__iexact=typed)
    own = typed.upper().removeprefix("ORD-")
    if own.isdigit():
        condition |= Q(pk=int(own))
    return list(orders.filter(condition).select_related("channel")[:10])
