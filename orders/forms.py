"""Order back-office forms: they parse what a person typed, and nothing more.

Whether a note is needed, how many units a line may lose or whether an order may still
change are the services' rules (orders.services: holds, cancellation, ship_to); their refusals are put back on
these forms by `erp.views.forms.add_domain_errors`.
"""

from django import forms
from django.core.validators import RegexValidator
from django.db.models import QuerySet

from erp.forms import Form, ParsingModelForm, RecordFilterForm
from erp.models import Channel
from inventory.forms import NodeField, SkuField
from orders import selectors
from orders.models import (
    ChannelOrderPolicy,
    DropshipSource,
    HoldReason,
    Order,
    OrderState,
    ShippingRate,
    ShippingZone,
    SubstitutionRule,
)
from orders.services.validation import ADDRESS_FIELDS

NOTE_MAX = 500


class OrderFilterForm(Form):
    """The order list's search box and filters, bound to the query string.

    A value that does not parse (a stale bookmark, a hand-edited URL) filters nothing
    instead of showing an error on a search bar.
    """

    q = forms.CharField(required=False, label="Search", max_length=100)
    channel = forms.ModelChoiceField(
        required=False,
        queryset=Channel.objects.order_by("code"),
        to_field_name="code",
        empty_label="All channels",
    )
    state = forms.ChoiceField(
        required=False, choices=[("", "All states"), *OrderState.choices], label="State"
    )
    hold = forms.ChoiceField(
        required=False, choices=[("", "Any hold"), *HoldReason.choices], label="Hold"
    )
    placed_from = forms.DateField(
        required=False,
        label="Placed from",
        widget=forms.DateInput(attrs={"type": "date", "aria-label": "Placed from"}),
    )
    placed_to = forms.DateField(
        required=False,
        label="Placed to",
        widget=forms.DateInput(attrs={"type": "date", "aria-label": "Placed to"}),
    )

    def results(self) -> QuerySet[Order]:
        self.is_valid()
        data = self.cleaned_data
        return selectors.order_list(
            search=data.get("q", "").strip(),
            channel=data.get("channel"),
            state=data.get("state", ""),
            hold_reason=data.get("hold", ""),
            placed_from=data.get("placed_from"),
            placed_to=data.get("placed_to"),
        )

    def is_filtered(self) -> bool:
        return any(self.cleaned_data.get(name) for name in self.fields)


def _note_field(label: str, placeholder: str) -> forms.CharField:
    return forms.CharField(
        required=False,
        max_length=NOTE_MAX,
        label=label,
        widget=forms.TextInput(attrs={"placeholder": placeholder, "autocomplete": "off"}),
    )


class ReleaseForm(Form):
    note = _note_field("Note", "Why release? (needed for risk or payment holds)")


class HoldForm(Form):
    note = _note_field("Why hold?", "e.g. customer asked to wait")


class CancelOrderForm(Form):
    reason = _note_field("Cancellation reason", "e.g. customer changed their mind")


class RerouteForm(Form):
    """No input: it carries the service's refusal back to the re-route button."""


class CancelLineForm(Form):
    quantity = forms.IntegerField(label="Units", widget=forms.NumberInput(attrs={"min": 1}))
    reason = forms.CharField(
        max_length=NOTE_MAX,
        label="Reason",
        error_messages={"required": "Give the cancellation reason."},
        widget=forms.TextInput(attrs={"placeholder": "Why?", "autocomplete": "off"}),
    )


class ShipToForm(ParsingModelForm):
    """The ship-to address; the service saves it and validates the order again."""

    ship_country = forms.CharField(
        label="Country",
        min_length=2,
        max_length=2,
        validators=[
            RegexValidator(
                r"^[A-Za-z]{2}$",
                message="Use the two-letter country code (US, DE, GB…).",
                code="country_code",
            )
        ],
        error_messages={
            "min_length": "Use the two-letter country code (US, DE, GB…).",
            "max_length": "Use the two-letter country code (US, DE, GB…).",
        },
        widget=forms.TextInput(attrs={"size": 2, "autocomplete": "off"}),
    )

    class Meta:
        model = Order
        fields = ADDRESS_FIELDS
        labels = {
            "ship_name": "Recipient",
            "ship_company": "Company",
            "ship_line1": "Street",
            "ship_line2": "Street (2)",
            "ship_city": "City",
            "ship_region": "Region",
            "ship_postal_code": "Postal code",
            "ship_phone": "Phone",
        }

    def clean_ship_country(self) -> str:
        return self.cleaned_data["ship_country"].upper()

    def address(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in ADDRESS_FIELDS}


class ResolveIngestionErrorForm(Form):
    note = _note_field("How was it resolved?", "e.g. channel re-sent the order")


# --- routing rules (settings screens) ---------------------------------------------------------


class OrderPolicyForm(ParsingModelForm):
    fieldsets = (
        ("Channel", ("channel", "priority")),
        ("Holds", ("risk_threshold", "require_captured_payment", "allow_substitution")),
    )

    class Meta:
        model = ChannelOrderPolicy
        fields = [
            "channel",
            "priority",
            "risk_threshold",
            "require_captured_payment",
            "allow_substitution",
        ]
        labels = {"risk_threshold": "Hold orders scoring above (0–100)"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = Channel.objects.order_by("code")


class OrderPolicyEditForm(OrderPolicyForm):
    """The channel of a policy is what it is; the rest changes."""

    fieldsets = (
        ("Channel", ("priority",)),
        ("Holds", ("risk_threshold", "require_captured_payment", "allow_substitution")),
    )

    class Meta(OrderPolicyForm.Meta):
        fields = ["priority", "risk_threshold", "require_captured_payment", "allow_substitution"]

    def __init__(self, *args, **kwargs):
        ParsingModelForm.__init__(self, *args, **kwargs)


class ShippingZoneForm(ParsingModelForm):
    fieldsets = (("Destination", ("country", "postal_prefix", "zone")),)

    class Meta:
        model = ShippingZone
        fields = ["country", "postal_prefix", "zone"]
        help_texts = {
            "postal_prefix": "Blank: the whole country. The longest matching prefix wins.",
            "zone": "The zone rates are priced to (e.g. east, west, remote).",
        }


class ShippingRateForm(ParsingModelForm):
    fieldsets = (("Lane", ("origin_region", "zone", "cost", "transit_days")),)

    class Meta:
        model = ShippingRate
        fields = ["origin_region", "zone", "cost", "transit_days"]
        help_texts = {"origin_region": "The region of the shipping nodes (e.g. us-east)."}


class DropshipSourceForm(ParsingModelForm):
    fieldsets = (("Source", ("sku", "location", "cost", "transit_days")),)

    sku = SkuField()
    location = NodeField(label="Drop-ship supplier node")

    class Meta:
        model = DropshipSource
        fields = ["sku", "location", "cost", "transit_days"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["sku"] = self.instance.sku.code
            self.initial["location"] = self.instance.location.code


class SubstitutionRuleForm(ParsingModelForm):
    fieldsets = (("Product family", ("product_family", "allowed")),)

    class Meta:
        model = SubstitutionRule
        fields = ["product_family", "allowed"]
        labels = {"allowed": "Substitutes allowed"}


class OrderPolicyFilterForm(RecordFilterForm):
    search_fields = ("channel__code", "channel__name")


class ShippingZoneFilterForm(RecordFilterForm):
    search_fields = ("country", "postal_prefix", "zone")


class ShippingRateFilterForm(RecordFilterForm):
    search_fields = ("origin_region", "zone")


class DropshipSourceFilterForm(RecordFilterForm):
    search_fields = ("sku__code", "location__code")


class SubstitutionRuleFilterForm(RecordFilterForm):
    search_fields = ("product_family",)
