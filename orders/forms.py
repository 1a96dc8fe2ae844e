"""Order back-office forms: they parse what a person typed, and nothing more.

Whether a note is needed, how many units a line may lose or whether an order may still
change are the services' rules (orders.services: holds, cancellation, ship_to); their refusals are put back on
these forms by `erp.views.forms.add_domain_errors`.
"""

from django import forms
from django.core.validators import RegexValidator
from django.db.models import QuerySet

from erp.forms import Form, ParsingModelForm
from erp.models import Channel
from orders import selectors
from orders.models import HoldReason, Order, OrderState
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
