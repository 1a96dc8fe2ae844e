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


class ReplayIngestionErrorForm(Form):
    """The payload to replay, as received or corrected; whether it is valid JSON and a
    valid order is the replay service's answer (orders.services.ingestion_errors)."""

    body = forms.CharField(
        required=False,
        label="Payload (JSON)",
        strip=False,
        max_length=64 * 1024,
        widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "false", "class": "json-input"}),
    )


MANUAL_LINE_ROWS = 6
_SHIP_TO = [
    ("name", "Name", True),
    ("company", "Company", False),
    ("line1", "Address line 1", True),
    ("line2", "Address line 2", False),
    ("city", "City", True),
    ("region", "Region / state", False),
    ("postal_code", "Postal code", True),
    ("country", "Country (2 letters)", True),
    ("phone", "Phone", False),
]


class ManualOrderForm(Form):
    """A keyed-in order: the fields are named as the manual-order service names its
    errors (`ship_to.city`, `lines[0].quantity`), so each refusal lands under its field."""

    channel = forms.ChoiceField(label="Channel")
    kind = forms.ChoiceField(
        label="Kind",
        choices=[
            ("phone", "Phone order"),
            ("b2b", "B2B order"),
            ("replacement", "Replacement (no charge)"),
        ],
        widget=forms.RadioSelect,
    )
    replaces_rma = forms.CharField(
        required=False, max_length=64, label="Replaces RMA", help_text="Replacements only."
    )
    payment_status = forms.ChoiceField(
        required=False,
        label="Payment",
        choices=[
            ("", "Default (phone: captured · B2B: invoice terms)"),
            ("captured", "Captured (paid)"),
            ("authorized", "Authorized"),
            ("pending", "Pending"),
        ],
    )
    customer_email = forms.CharField(required=False, max_length=254, label="Customer email")
    note = forms.CharField(required=False, max_length=500, label="Note")
    reference = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, channels=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = [(c.code, f"{c.code} · {c.name}") for c in channels]
        for name, label, required in _SHIP_TO:
            self.fields[f"ship_to.{name}"] = forms.CharField(
                required=False, max_length=255, label=label
            )
            if required:
                self.fields[f"ship_to.{name}"].widget.attrs["data-required"] = "true"
        for index in range(MANUAL_LINE_ROWS):
            where = f"lines[{index}]"
            self.fields[f"{where}.sku"] = forms.CharField(
                required=False, max_length=128, label=f"Line {index + 1} SKU"
            )
            self.fields[f"{where}.quantity"] = forms.CharField(
                required=False, max_length=12, label=f"Line {index + 1} quantity"
            )
            self.fields[f"{where}.unit_price"] = forms.CharField(
                required=False, max_length=20, label=f"Line {index + 1} unit price"
            )

    def ship_to_fields(self):
        return [self[f"ship_to.{name}"] for name, _, _ in _SHIP_TO]

    def line_rows(self):
        return [
            (
                index,
                self[f"lines[{index}].sku"],
                self[f"lines[{index}].quantity"],
                self[f"lines[{index}].unit_price"],
            )
            for index in range(MANUAL_LINE_ROWS)
        ]

    def ship_to(self) -> dict:
        return {name: self.cleaned_data.get(f"ship_to.{name}", "") for name, _, _ in _SHIP_TO}

    def lines(self) -> list[tuple[int, tuple[str, str, str]]]:
        """The rows filled in, with their row number (a row left blank is no line)."""
        rows = []
        for index in range(MANUAL_LINE_ROWS):
            values = tuple(
                self.cleaned_data.get(f"lines[{index}].{part}", "")
                for part in ("sku", "quantity", "unit_price")
            )
            if any(value.strip() for value in values):
                rows.append((index, values))
        return rows


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
