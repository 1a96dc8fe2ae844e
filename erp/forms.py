"""Back-office forms: they parse what a person typed, and nothing more.

Record forms never save and skip the model's own validation: the master-data services
validate the whole record (field rules, constraints, cross-record rules) and their
errors are put back on the form by `erp.views.forms.add_domain_errors`, so the API and
the back office refuse exactly the same things. List filter forms turn query
parameters into queryset filters.
"""

from django import forms
from django.core import validators
from django.db.models import Q, QuerySet
from django.urls import reverse_lazy

from erp.input_bounds import INTEGER_MAX, INTEGER_MIN
from erp.models import ApprovalPolicy, Channel, ChannelListing, Location, Sku

Fieldsets = tuple[tuple[str, tuple[str, ...]], ...]


def _field_names(fieldsets: Fieldsets) -> list[str]:
    return [name for _, names in fieldsets for name in names]


def bound_to_columns(field: forms.Field) -> None:
    """An integer field that does not name its bounds gets those of the narrowest integer
    column (`erp.input_bounds`): a number PostgreSQL cannot hold is an inline error on
    the field, never an overflow in a service."""
    if not isinstance(field, forms.IntegerField) or isinstance(
        field, forms.DecimalField | forms.FloatField
    ):
        return
    if field.max_value is None:
        field.max_value = INTEGER_MAX
        field.validators.append(validators.MaxValueValidator(INTEGER_MAX))
    if field.min_value is None:
        field.min_value = INTEGER_MIN
        field.validators.append(validators.MinValueValidator(INTEGER_MIN))


class BoundedFieldsMixin:
    """The base of every back-office form (`Form`, `ParsingModelForm`): its integer
    fields, including those added in `__init__`, are bounded before it is cleaned."""

    def full_clean(self):
        for field in self.fields.values():
            bound_to_columns(field)
        super().full_clean()


class Form(BoundedFieldsMixin, forms.Form):
    pass


class ParsingModelForm(BoundedFieldsMixin, forms.ModelForm):
    """A ModelForm used for its fields and widgets only; the service validates and saves."""

    fieldsets: Fieldsets = ()

    def _post_clean(self):
        # ModelForm would copy the input onto the instance and run full_clean here; the
        # service does both, and a refused edit must leave the loaded record untouched.
        pass

    def save(self, commit=True):
        raise TypeError("Back-office forms do not save; call the master-data service.")

    def grouped_fields(self):
        """(legend, bound fields) per fieldset, for templates that lay out sections."""
        return [(legend, [self[name] for name in names]) for legend, names in self.fieldsets]


# --- record forms --------------------------------------------------------------------------

SKU_FIELDSETS: Fieldsets = (
    ("Identity", ("code", "name", "barcode", "product_family")),
    (
        "Units, dimensions and cost",
        (
            "unit_of_measure",
            "pack_quantity",
            "unit_cost",
            "weight_grams",
            "length_mm",
            "width_mm",
            "height_mm",
        ),
    ),
    ("Tracking and status", ("lot_tracked", "serial_tracked", "expiry_tracked", "active")),
    ("Substitutes", ("substitutes",)),
)


class SkuForm(ParsingModelForm):
    fieldsets = SKU_FIELDSETS

    class Meta:
        model = Sku
        fields = _field_names(SKU_FIELDSETS)
        labels = {
            "code": "SKU code",
            "weight_grams": "Weight (g)",
            "length_mm": "Length (mm)",
            "width_mm": "Width (mm)",
            "height_mm": "Height (mm)",
        }
        widgets = {"substitutes": forms.SelectMultiple(attrs={"size": 8})}
        help_texts = {"substitutes": "SKUs that may ship instead of this one (Ctrl/⌘-click)."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        substitutes = self.fields["substitutes"]
        substitutes.queryset = Sku.objects.only("id", "code", "name").order_by("code")
        if self.instance.pk:
            substitutes.queryset = substitutes.queryset.exclude(pk=self.instance.pk)


LOCATION_FIELDSETS: Fieldsets = (
    ("Identity", ("code", "name", "kind", "active")),
    ("Shipping", ("region", "postal_zone", "can_ship", "priority", "shelf_floor")),
)


class LocationForm(ParsingModelForm):
    fieldsets = LOCATION_FIELDSETS

    class Meta:
        model = Location
        fields = _field_names(LOCATION_FIELDSETS)


class LocationCheckboxes(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return str(obj) if obj.active else f"{obj} (inactive)"


CHANNEL_FIELDSETS: Fieldsets = (
    ("Identity", ("code", "name", "kind", "currency", "active")),
    (
        "Terms",
        ("ship_by_sla_hours", "fee_rate", "return_window_days", "refund_timing"),
    ),
    ("Sells from", ("eligible_locations",)),
    ("Publishing", ("availability_endpoint",)),
)


class ChannelForm(ParsingModelForm):
    fieldsets = CHANNEL_FIELDSETS

    class Meta:
        model = Channel
        fields = _field_names(CHANNEL_FIELDSETS)
        labels = {
            "ship_by_sla_hours": "Ship-by SLA (hours)",
            "return_window_days": "Return window (days)",
        }
        field_classes = {"eligible_locations": LocationCheckboxes}
        widgets = {"eligible_locations": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Inactive nodes stay listed so the service can say why they cannot be chosen.
        self.fields["eligible_locations"].queryset = Location.objects.order_by("priority", "code")


LISTING_FIELDSETS: Fieldsets = (
    ("Listing", ("channel", "sku", "channel_sku", "external_listing_id", "active")),
)


class ListingForm(ParsingModelForm):
    """The SKU is typed by code: a select of thousands of SKUs is unusable."""

    fieldsets = LISTING_FIELDSETS
    sku = forms.ModelChoiceField(
        queryset=Sku.objects.all(),
        to_field_name="code",
        label="SKU",
        help_text="Type the SKU code; suggestions appear as you type.",
        error_messages={"invalid_choice": "No SKU has this code."},
        widget=forms.TextInput(
            attrs={
                "list": "sku-options",
                "autocomplete": "off",
                "hx-get": reverse_lazy("sku-options"),
                "hx-trigger": "input changed delay:200ms",
                "hx-target": "#sku-options",
                "hx-swap": "innerHTML",
            }
        ),
    )

    class Meta:
        model = ChannelListing
        fields = _field_names(LISTING_FIELDSETS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = Channel.objects.order_by("code")
        if self.instance.pk and not self.is_bound:
            self.initial["sku"] = self.instance.sku.code


# --- list filters ----------------------------------------------------------------------------

ACTIVE_CHOICES = [("", "Active and inactive"), ("yes", "Active"), ("no", "Inactive")]


class ListFilterForm(Form):
    """Search box plus filters, bound to the query string.

    A value that does not parse (a stale bookmark, a hand-edited URL) is dropped from
    `cleaned_data` and so filters nothing, instead of showing an error on a search bar.
    """

    q = forms.CharField(required=False, label="Search", max_length=100)
    active = forms.ChoiceField(required=False, choices=ACTIVE_CHOICES, label="Status")

    def results(self, selector) -> QuerySet:
        self.is_valid()
        return self.filter(selector(search=self.cleaned_data.get("q", "").strip()))

    def filter(self, queryset: QuerySet) -> QuerySet:
        active = self.cleaned_data.get("active")
        return queryset.filter(active=active == "yes") if active else queryset

    def is_filtered(self) -> bool:
        return any(self.cleaned_data.get(name) for name in self.fields)


class SkuFilterForm(ListFilterForm):
    family = forms.ChoiceField(required=False, label="Product family")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        families = (
            Sku.objects.exclude(product_family="")
            .order_by("product_family")
            .values_list("product_family", flat=True)
            .distinct()
        )
        self.fields["family"].choices = [("", "All families"), *((f, f) for f in families)]

    def filter(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter(queryset)
        family = self.cleaned_data.get("family")
        return queryset.filter(product_family=family) if family else queryset


class KindFilterForm(ListFilterForm):
    kind_choices: list[tuple[str, str]] = []
    kind = forms.ChoiceField(required=False, label="Kind")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", "All kinds"), *self.kind_choices]

    def filter(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter(queryset)
        kind = self.cleaned_data.get("kind")
        return queryset.filter(kind=kind) if kind else queryset


class LocationFilterForm(KindFilterForm):
    kind_choices = Location.Kind.choices


class ChannelFilterForm(KindFilterForm):
    kind_choices = Channel.Kind.choices


class ListingFilterForm(ListFilterForm):
    channel = forms.ModelChoiceField(
        required=False,
        queryset=Channel.objects.order_by("code"),
        to_field_name="code",
        empty_label="All channels",
    )

    def filter(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter(queryset)
        channel = self.cleaned_data.get("channel")
        return queryset.filter(channel=channel) if channel else queryset


class RecordFilterForm(Form):
    """The back-office kit's list filter: a search box over `search_fields` plus the
    filters a subclass adds in `filter`, bound to the query string.

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


class ApprovalPolicyFilterForm(RecordFilterForm):
    search_fields = ("kind", "label")


class ApprovalPolicyForm(ParsingModelForm):
    fieldsets = (("Approval", ("label", "threshold", "active")),)

    class Meta:
        model = ApprovalPolicy
        fields = ["label", "threshold", "active"]
        labels = {"threshold": "Approval needed above"}
        help_texts = {
            "threshold": "Requests whose amount (absolute) is above this wait for an approver."
        }


class QueueFilterForm(Form):
    """Text search over a queue's `search_fields`."""

    q = forms.CharField(required=False, label="Search", max_length=100)

    def results(self, queryset: QuerySet, search_fields: tuple[str, ...]) -> QuerySet:
        search = self.cleaned_data.get("q", "").strip() if self.is_valid() else ""
        if not search or not search_fields:
            return queryset
        condition = Q()
        for name in search_fields:
            condition |= Q(**{f"{name}__icontains": search})
        return queryset.filter(condition)
