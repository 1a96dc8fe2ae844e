"""Back-office forms: they parse input; the services validate and write."""

from django import forms
from django.db.models.functions import Coalesce

from erp.forms import Form
from erp.models import Endpoint, Location
from inventory.forms import NodeField, SkuField, StateFilterForm
from purchasing.models import (
    LandedCharge,
    PaymentTerms,
    PurchaseOrder,
    PurchaseOrderState,
    Supplier,
)


class SupplierForm(Form):
    code = forms.CharField(max_length=32)
    name = forms.CharField(max_length=255)
    currency = forms.CharField(max_length=3, initial="USD")
    payment_terms = forms.ChoiceField(choices=PaymentTerms.choices, initial=PaymentTerms.NET_30)
    order_email = forms.EmailField(required=False, label="Order e-mail")
    order_endpoint = forms.ModelChoiceField(
        queryset=Endpoint.objects.filter(active=True),
        to_field_name="code",
        required=False,
        label="Order webhook",
    )
    dropship_location = forms.ModelChoiceField(
        queryset=Location.objects.filter(kind=Location.Kind.DROPSHIP),
        to_field_name="code",
        required=False,
        label="Drop-ship node",
    )
    qa_hold = forms.BooleanField(required=False, label="QA hold: receipts go to inspection")
    over_receipt_tolerance_percent = forms.DecimalField(
        max_digits=5, decimal_places=2, initial=0, label="Over-receipt tolerance (%)"
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    active = forms.BooleanField(required=False, initial=True)


class SupplierItemForm(Form):
    sku = SkuField()
    supplier_sku = forms.CharField(required=False, max_length=64, label="Supplier SKU")
    unit_cost = forms.DecimalField(max_digits=12, decimal_places=4)
    lead_time_days = forms.IntegerField(min_value=0, initial=7, label="Lead time (days)")
    moq = forms.IntegerField(min_value=1, initial=1, label="MOQ")
    pack_multiple = forms.IntegerField(min_value=1, initial=1)
    preferred = forms.BooleanField(required=False)
    qa_hold = forms.BooleanField(required=False, label="QA hold")


class PriceListForm(Form):
    file = forms.FileField(label="Price list (CSV)")


class PurchaseOrderFilterForm(StateFilterForm):
    state_choices = PurchaseOrderState.choices
    supplier = forms.ModelChoiceField(
        queryset=Supplier.objects.order_by("code"),
        to_field_name="code",
        required=False,
        empty_label="All suppliers",
    )
    overdue = forms.BooleanField(required=False, label="Overdue only")
    # The supplier KPIs' drill-down: POs whose receiving ended (received, else closed) then.
    received_from = forms.DateField(
        required=False,
        label="Receiving ended from",
        widget=forms.DateInput(attrs={"type": "date", "aria-label": "Receiving ended from"}),
    )
    received_to = forms.DateField(
        required=False,
        label="Receiving ended to",
        widget=forms.DateInput(attrs={"type": "date", "aria-label": "Receiving ended to"}),
    )

    def received_between(self, rows):
        """Standard POs wholly received or closed on the days chosen."""
        data = self.cleaned_data if self.is_valid() else {}
        if not (data.get("received_from") or data.get("received_to")):
            return rows
        rows = rows.filter(
            kind=PurchaseOrder.Kind.STANDARD,
            state__in=[PurchaseOrderState.RECEIVED, PurchaseOrderState.CLOSED],
        ).alias(receiving_ended=Coalesce("received_at", "closed_at"))
        if data.get("received_from"):
            rows = rows.filter(receiving_ended__date__gte=data["received_from"])
        if data.get("received_to"):
            rows = rows.filter(receiving_ended__date__lte=data["received_to"])
        return rows

    def supplier_value(self):
        return self.cleaned_data.get("supplier") if self.is_valid() else None

    def overdue_value(self) -> bool:
        return bool(self.cleaned_data.get("overdue")) if self.is_valid() else False


class PurchaseOrderForm(Form):
    supplier = forms.ModelChoiceField(
        queryset=Supplier.objects.filter(active=True).order_by("code"),
        to_field_name="code",
        empty_label="Choose a supplier…",
    )
    destination = NodeField(label="Ship to")
    exchange_rate = forms.DecimalField(
        max_digits=12,
        decimal_places=6,
        required=False,
        help_text="Only for suppliers invoicing in another currency: base currency per unit.",
    )
    note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class PurchaseOrderLineForm(Form):
    sku = SkuField()
    quantity = forms.IntegerField()
    unit_cost = forms.DecimalField(
        max_digits=12, decimal_places=4, required=False, help_text="Blank: the supplier's price."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in (
            ("sku", "Line SKU"),
            ("quantity", "Line quantity"),
            ("unit_cost", "Line cost"),
        ):
            self.fields[name].widget.attrs["aria-label"] = label


class BasePurchaseOrderLineFormSet(forms.BaseFormSet):
    def filled_forms(self):
        return [form for form in self.forms if form.has_changed()]

    def filled_lines(self) -> list[dict]:
        return [
            {
                "sku": form.cleaned_data["sku"],
                "quantity": form.cleaned_data["quantity"],
                "unit_cost": form.cleaned_data.get("unit_cost"),
            }
            for form in self.filled_forms()
        ]


PurchaseOrderLineFormSet = forms.formset_factory(
    PurchaseOrderLineForm,
    formset=BasePurchaseOrderLineFormSet,
    extra=3,
    max_num=500,
    absolute_max=500,
)


class ReasonForm(Form):
    reason = forms.CharField(required=False, max_length=1000)


class DecisionForm(Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    note = forms.CharField(required=False, max_length=1000)


class LandedChargeForm(Form):
    kind = forms.ChoiceField(choices=LandedCharge.Kind.choices)
    amount = forms.DecimalField(max_digits=14, decimal_places=2)
    basis = forms.ChoiceField(choices=LandedCharge.Basis.choices, label="Allocate")
    description = forms.CharField(required=False, max_length=255)


class ScanForm(Form):
    """The scanner's one field: a PO number, then SKU barcodes."""

    code = forms.CharField(max_length=128, label="Scan")


class ReceiveLineForm(Form):
    """One scanned SKU on the open PO: quantity, and lot/expiry/serials when tracked."""

    line = forms.IntegerField(widget=forms.HiddenInput)
    scanned_code = forms.CharField(required=False, max_length=128, widget=forms.HiddenInput)
    quantity = forms.IntegerField(min_value=1, initial=1)
    lot_code = forms.CharField(required=False, max_length=64, label="Lot")
    expires_on = forms.DateField(
        required=False, label="Expires", widget=forms.DateInput(attrs={"type": "date"})
    )
    serials = forms.CharField(
        required=False,
        label="Serials",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line (scan each unit).",
    )
    to_inspection = forms.BooleanField(required=False, label="Send to inspection")

    def serial_list(self) -> list[str]:
        return [
            serial.strip()
            for serial in self.cleaned_data.get("serials", "").splitlines()
            if serial.strip()
        ]


class ProposalLineForm(Form):
    quantity = forms.IntegerField(min_value=1, max_value=10_000_000)


class ReplenishmentSettingsForm(Form):
    window_days = forms.IntegerField(
        label="Window (days)", min_value=7, max_value=364, help_text="Shipments read."
    )
    service_level_z = forms.DecimalField(
        label="Service level z", min_value=0, max_value=4, decimal_places=2, max_digits=4
    )
    review_period_days = forms.IntegerField(label="Review period (days)", min_value=1, max_value=90)
    recent_weight = forms.DecimalField(
        label="Recent-week weight", min_value=1, max_value=10, decimal_places=2, max_digits=4
    )
