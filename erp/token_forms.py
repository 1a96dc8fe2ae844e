"""The back-office form for an API token's name and scope (the services validate)."""

from django import forms

from erp.errors import DomainError, FieldError
from erp.forms import Form
from erp.models import ApiAccess, ApiArea, Channel


class ApiTokenForm(Form):
    name = forms.CharField(max_length=100, help_text="What the token is for (Shopify sync, 3PL…).")
    all_channels = forms.BooleanField(
        required=False, label="Every channel", help_text="Including channels added later."
    )
    channels = forms.ModelMultipleChoiceField(
        queryset=Channel.objects.order_by("code"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The channels it may post and read for.",
    )
    reason = forms.CharField(max_length=100, required=False, help_text="Kept in the history.")

    def __init__(self, *args, require_reason: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = require_reason
        for area in ApiArea:
            self.fields[f"area_{area.value}"] = forms.ChoiceField(
                label=area.label, choices=ApiAccess.choices, initial=ApiAccess.NONE
            )

    @property
    def area_fields(self):
        return [self[f"area_{area.value}"] for area in ApiArea]

    def scope(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "areas": {area.value: data[f"area_{area.value}"] for area in ApiArea},
            "channels": list(data["channels"]),
            "all_channels": data["all_channels"],
        }

    @classmethod
    def initial_for(cls, token) -> dict:
        initial = {
            "name": token.name,
            "all_channels": token.all_channels,
            "channels": list(token.channels.all()),
        }
        initial.update({f"area_{area.value}": token.access(area.value) for area in ApiArea})
        return initial


def form_errors(error: DomainError) -> DomainError:
    """The service names an area's error `areas.orders`; the form's field is `area_orders`."""
    renamed = [
        FieldError(
            (e.field or "").replace("areas.", "area_", 1) if e.field != "areas" else None,
            e.code,
            e.message,
        )
        for e in error.errors
    ]
    error.errors = renamed
    return error
