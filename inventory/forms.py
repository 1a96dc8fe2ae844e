"""Back-office inventory forms: they parse what a person typed or scanned (a SKU by code
or barcode, a node by code, quantities) and nothing more.

The inventory services decide what is allowed; their errors come back onto these forms
through `erp.views.forms.add_domain_errors`, so the API and the back office refuse
exactly the same things. A form never saves.
"""

from django import forms
from django.db.models import Case, Q, Value, When
from django.urls import reverse_lazy

from erp.forms import Form, ParsingModelForm
from erp.input_bounds import change_reason_max_length
from erp.models import Location, Sku
from inventory.models import (
    AdjustmentReason,
    AllocationRule,
    CycleCount,
    InventoryAdjustment,
    Lot,
    StockStatus,
    Transfer,
)
from inventory.models.documents import WRITE_OFF

HELD_OR_SELLABLE = [
    (status.value, status.label) for status in StockStatus if status != StockStatus.IN_TRANSIT
]


def sku_by_code_or_barcode(typed: str) -> Sku | None:
    """What a scanner or a person typed: the SKU code, or failing that its barcode."""
    typed = (typed or "").strip()
    if not typed:
        return None
    exact_code_first = Case(When(code=typed, then=Value(0)), default=Value(1))
    return Sku.objects.filter(Q(code=typed) | Q(barcode=typed)).order_by(exact_code_first).first()


class SkuField(forms.CharField):
    """A SKU typed by code or scanned by barcode, with suggestions as one types."""

    default_error_messages = {"unknown": "No SKU has this code or barcode."}

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "SKU")
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={
                    "list": "sku-options",
                    "autocomplete": "off",
                    "spellcheck": "false",
                    "hx-get": reverse_lazy("sku-options"),
                    "hx-trigger": "input changed delay:200ms",
                    "hx-target": "#sku-options",
                    "hx-swap": "innerHTML",
                    "hx-sync": "this:replace",
                }
            ),
        )
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return value.code if isinstance(value, Sku) else value

    def clean(self, value):
        typed = super().clean(value).strip()
        if not typed:
            return None
        sku = sku_by_code_or_barcode(typed)
        if sku is None:
            raise forms.ValidationError(self.error_messages["unknown"], code="unknown")
        return sku


class NodeField(forms.ModelChoiceField):
    """A stock node chosen by code (so links can prefill it: `?location=WH-EAST`)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Node")
        kwargs.setdefault("empty_label", "Choose a node…")
        super().__init__(
            queryset=Location.objects.filter(active=True).order_by("priority", "code"),
            to_field_name="code",
            **kwargs,
        )

    def label_from_instance(self, obj):
        return f"{obj.code} · {obj.name}"


class TrackedSkuForm(Form):
    """A form about one SKU whose lot/serial fields depend on how that SKU is tracked.

    The SKU is read from the bound data or, for an unbound form, from its initial values
    (a link such as `?sku=TEE-01`, or the form re-rendered when the SKU input changes).
    """

    sku = SkuField()
    main_fields: tuple[str, ...] = ()
    note_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        typed = self.data.get("sku") if self.is_bound else self.initial.get("sku")
        self.tracked_sku = sku_by_code_or_barcode(typed)
        if "lot" in self.fields and isinstance(self.fields["lot"], forms.ModelChoiceField):
            sku_id = self.tracked_sku.pk if self.tracked_sku else None
            self.fields["lot"].queryset = Lot.objects.filter(sku_id=sku_id).order_by(
                "expires_on", "code"
            )

    def main(self):
        return [self[name] for name in self.main_fields]

    def tracking(self):
        """Only the lot, expiry and serial fields this SKU's tracking asks for."""
        wanted = {
            "lot": self.lot_tracked,
            "expires_on": self.expiry_tracked,
            "serials": self.serial_tracked,
        }
        return [self[name] for name, shown in wanted.items() if shown and name in self.fields]

    def notes(self):
        return [self[name] for name in self.note_fields]

    def unshown_errors(self) -> list[str]:
        """Errors on fields this SKU's tracking hides, so none goes unseen."""
        shown = {field.name for field in (*self.main(), *self.tracking(), *self.notes())}
        return [
            message
            for name, messages in self.errors.items()
            if name != "__all__" and name not in shown
            for message in messages
        ]

    @property
    def lot_tracked(self) -> bool:
        return bool(self.tracked_sku and self.tracked_sku.lot_tracked)

    @property
    def expiry_tracked(self) -> bool:
        return bool(self.tracked_sku and self.tracked_sku.expiry_tracked)

    @property
    def serial_tracked(self) -> bool:
        return bool(self.tracked_sku and self.tracked_sku.serial_tracked)


class LotChoiceField(forms.ModelChoiceField):
    def __init__(self, **kwargs):
        super().__init__(
            queryset=Lot.objects.none(),
            to_field_name="code",
            required=False,
            empty_label="Choose the lot…",
            error_messages={"invalid_choice": "This SKU has no such lot."},
            **kwargs,
        )

    def label_from_instance(self, obj):
        return f"{obj.code} · expires {obj.expires_on}" if obj.expires_on else obj.code


class ReceiveForm(TrackedSkuForm):
    main_fields = ("sku", "location", "status", "quantity")
    note_fields = ("reference", "reason")
    location = NodeField()
    status = forms.ChoiceField(
        choices=HELD_OR_SELLABLE, initial=StockStatus.SELLABLE, label="Receive into"
    )
    quantity = forms.IntegerField()
    lot = forms.CharField(
        required=False, max_length=64, label="Lot", help_text="New or existing lot code."
    )
    expires_on = forms.DateField(
        required=False, label="Expires on", widget=forms.DateInput(attrs={"type": "date"})
    )
    serials = forms.CharField(
        required=False,
        label="Serial numbers",
        help_text="One per line (or scan them one after another); one per unit.",
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false"}),
    )
    reference = forms.CharField(required=False, max_length=128, help_text="3PL receipt, ASN…")
    reason = forms.CharField(required=False, max_length=255, initial="receipt")

    def clean_serials(self):
        return [line.strip() for line in self.cleaned_data["serials"].splitlines() if line.strip()]


class StatusChangeForm(TrackedSkuForm):
    main_fields = ("sku", "location", "quantity", "from_status", "to_status")
    note_fields = ("reason", "reference")
    location = NodeField()
    quantity = forms.IntegerField()
    from_status = forms.ChoiceField(
        choices=HELD_OR_SELLABLE, initial=StockStatus.SELLABLE, label="From"
    )
    to_status = forms.ChoiceField(
        choices=HELD_OR_SELLABLE, initial=StockStatus.QUARANTINE, label="To"
    )
    lot = LotChoiceField()
    reason = forms.CharField(required=False, max_length=255)
    reference = forms.CharField(required=False, max_length=128)


class AdjustmentForm(TrackedSkuForm):
    main_fields = ("sku", "location", "status", "quantity", "reason_code")
    note_fields = ("note",)
    location = NodeField()
    status = forms.ChoiceField(choices=HELD_OR_SELLABLE, initial=StockStatus.SELLABLE)
    lot = LotChoiceField()
    quantity = forms.IntegerField(help_text="Signed: −3 removes three units, 2 adds two.")
    reason_code = forms.ChoiceField(
        choices=[("", "Choose a reason…"), *AdjustmentReason.choices],
        required=False,
        label="Reason",
    )
    note = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="What happened."
    )


class NoteForm(Form):
    """A note the service may require: why a request is rejected, what went missing."""

    # Closing a transfer or deciding an adjustment records it as the change reason.
    note = forms.CharField(
        required=False,
        max_length=min(
            change_reason_max_length(Transfer), change_reason_max_length(InventoryAdjustment)
        ),
    )


# --- cycle counts ----------------------------------------------------------------------------


class CountForm(Form):
    location = NodeField()
    scope = forms.ChoiceField(
        # "Chosen SKUs" counts are opened by the floor (a short pick), not from this form.
        choices=[c for c in CycleCount.Scope.choices if c[0] != CycleCount.Scope.SKUS],
        initial=CycleCount.Scope.ALL,
    )
    product_family = forms.ChoiceField(
        required=False, label="Product family", help_text="For a count of one product family."
    )
    tolerance = forms.IntegerField(
        min_value=0, initial=0, help_text="Units of variance per line still counted as accurate."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        families = (
            Sku.objects.exclude(product_family="")
            .order_by("product_family")
            .values_list("product_family", flat=True)
            .distinct()
        )
        self.fields["product_family"].choices = [("", "—"), *((f, f) for f in families)]


class CountScanForm(Form):
    """One scan at the shelf: the SKU code or barcode, then the units counted."""

    code = forms.CharField(
        max_length=64,
        label="Scan or type SKU",
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autofocus": True,
                "spellcheck": "false",
                "enterkeyhint": "next",
                "class": "scan-input",
            }
        ),
    )
    counted = forms.IntegerField(
        label="Units counted",
        error_messages={"required": "Enter the number of units counted."},
        widget=forms.NumberInput(
            attrs={"inputmode": "numeric", "enterkeyhint": "done", "class": "scan-quantity"}
        ),
    )


# --- transfers --------------------------------------------------------------------------------


class TransferForm(Form):
    from_location = NodeField(label="From")
    to_location = NodeField(label="To")
    reference = forms.CharField(required=False, max_length=128)


class TransferLineForm(Form):
    sku = SkuField()
    quantity = forms.IntegerField()
    lot = forms.CharField(
        required=False, max_length=64, label="Lot", help_text="Lot-tracked SKUs only."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in (
            ("sku", "Line SKU"),
            ("quantity", "Line quantity"),
            ("lot", "Line lot"),
        ):
            self.fields[name].widget.attrs["aria-label"] = label

    def clean(self):
        cleaned = super().clean()
        sku, code = cleaned.get("sku"), cleaned.get("lot", "").strip()
        cleaned["lot"] = None
        if sku and code:
            cleaned["lot"] = Lot.objects.filter(sku=sku, code=code).first()
            if cleaned["lot"] is None:
                self.add_error("lot", f"{sku.code} has no lot {code}.")
        return cleaned


class BaseTransferLineFormSet(forms.BaseFormSet):
    def filled_forms(self) -> list[TransferLineForm]:
        """The line forms a person filled in; blank extra rows are ignored."""
        return [form for form in self.forms if form.has_changed()]

    def filled_lines(self) -> list[dict]:
        """The filled lines as `create_transfer` takes them."""
        fields = ("sku", "quantity", "lot")
        return [{name: form.cleaned_data[name] for name in fields} for form in self.filled_forms()]


TransferLineFormSet = forms.formset_factory(
    TransferLineForm, formset=BaseTransferLineFormSet, extra=3, max_num=200, absolute_max=200
)


class ReceiveTransferForm(Form):
    """One quantity per outstanding line: what arrived now (partial receipts are fine)."""

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            if line.outstanding:
                self.fields[self.field_name(line.pk)] = forms.IntegerField(
                    required=False,
                    min_value=0,
                    label=f"Received now: {line.sku.code}",
                    widget=forms.NumberInput(attrs={"inputmode": "numeric", "placeholder": "0"}),
                )

    @staticmethod
    def field_name(line_id) -> str:
        return f"line_{line_id}"

    def rows(self):
        """(line, bound field or None) for the receiving table."""
        return [
            (line, self[self.field_name(line.pk)] if line.outstanding else None)
            for line in self.lines
        ]

    def received(self) -> dict[int, int]:
        return {
            line.pk: self.cleaned_data.get(self.field_name(line.pk)) or 0
            for line in self.lines
            if line.outstanding
        }


# --- availability --------------------------------------------------------------------------------


class AllocationRuleForm(ParsingModelForm):
    """A channel's rule for all SKUs (SKU left empty) or for one SKU."""

    prefix = "rule"
    sku = SkuField(required=False, help_text="Leave empty for the channel-wide rule.")

    class Meta:
        model = AllocationRule
        fields = ["sku", "protected", "buffer", "cap", "max_units", "threshold"]
        labels = {"max_units": "Max", "cap": "Cap (0–1)"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["sku"] = self.instance.sku.code if self.instance.sku_id else ""


class SafetyStockForm(Form):
    prefix = "safety"
    sku = SkuField()
    location = NodeField()
    quantity = forms.IntegerField(help_text="0 removes the setting.")

    def __init__(self, *args, nodes=None, **kwargs):
        super().__init__(*args, **kwargs)
        if nodes is not None:
            self.fields["location"].queryset = nodes


# --- list filters ------------------------------------------------------------------------------------


class SearchForm(Form):
    """A search box bound to `?q=`; a value that does not parse searches nothing."""

    q = forms.CharField(required=False, max_length=100)

    def search(self) -> str:
        return self.cleaned_data.get("q", "").strip() if self.is_valid() else ""


class StockFilterForm(SearchForm):
    """Search plus the filters the insight KPIs drill down with: `?family=` (SKU family)
    and `?out=1` (only SKUs whose sellable stock stands at zero)."""

    family = forms.CharField(required=False, max_length=64)
    out = forms.BooleanField(required=False)

    def chosen(self) -> dict:
        if not self.is_valid():
            return {"family": "", "out": False}
        return {"family": self.cleaned_data["family"].strip(), "out": self.cleaned_data["out"]}


class AvailabilityFilterForm(SearchForm):
    """Search plus `?family=` and `?mismatch=1` (only SKUs whose figure last published
    differs from the figure now: the available-to-sell accuracy drill-down)."""

    family = forms.CharField(required=False, max_length=64)
    mismatch = forms.BooleanField(required=False)

    def chosen(self) -> dict:
        if not self.is_valid():
            return {"family": "", "mismatch": False}
        return {
            "family": self.cleaned_data["family"].strip(),
            "mismatch": self.cleaned_data["mismatch"],
        }


class StateFilterForm(SearchForm):
    """Search plus a document state (`?state=`)."""

    state_choices: list[tuple[str, str]] = []
    state = forms.ChoiceField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", "All states"), *self.state_choices]

    def state_value(self) -> str:
        return self.cleaned_data.get("state", "") if self.is_valid() else ""


def _date_field(label: str) -> forms.DateField:
    return forms.DateField(
        required=False,
        label=label,
        widget=forms.DateInput(attrs={"type": "date", "aria-label": label}),
    )


class AdjustmentFilterForm(StateFilterForm):
    """State and search, plus write-offs only and the days they posted (the write-off
    total's drill-down)."""

    state_choices = InventoryAdjustment.State.choices
    kind = forms.ChoiceField(
        required=False,
        choices=[("", "All kinds"), ("write_off", "Write-offs only")],
        label="Kind",
    )
    posted_from = _date_field("Posted from")
    posted_to = _date_field("Posted to")

    def narrow(self, rows):
        if not self.is_valid():
            return rows
        data = self.cleaned_data
        if data.get("kind") == "write_off":
            rows = rows.filter(WRITE_OFF)
        if data.get("posted_from"):
            rows = rows.filter(posted_at__date__gte=data["posted_from"])
        if data.get("posted_to"):
            rows = rows.filter(posted_at__date__lte=data["posted_to"])
        return rows


class TransferFilterForm(StateFilterForm):
    state_choices = Transfer.State.choices


class CountFilterForm(StateFilterForm):
    state_choices = CycleCount.State.choices
