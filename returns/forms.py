"""Returns back-office forms: they parse what customer service typed or the dock scanned
(an order number, quantities, serials, a grade) and nothing more.

Whether a unit may come back, arrive or be restocked is decided by the returns services;
their refusals name fields the way the API does (`lines[0].quantity`,
`results[0].disposition`), and each form here says which of its inputs such a name is
(`field_for`), so the error lands under the input that caused it.
"""

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from erp.forms import Form, ParsingModelForm, RecordFilterForm
from erp.input_bounds import change_reason_max_length
from erp.models import Channel, Endpoint, Location
from orders.models import Order, OrderLine
from returns.models import (
    OPEN_RMA_STATES,
    POSTED_REFUND_STATES,
    Disposition,
    Grade,
    ReceivedItem,
    Refund,
    ReturnPolicy,
    ReturnReason,
    Rma,
    RmaLine,
    RmaState,
)

NOTE_MAX = 500
# A service's field name for one entry of a list it was given: `lines[2].quantity`.
LIST_FIELD = re.compile(r"^(?P<list>\w+)\[(?P<index>\d+)\]\.(?P<name>\w+)$")


def _scan_input(**attrs):
    return forms.TextInput(
        attrs={
            "class": "scan-step",
            "autocomplete": "off",
            "spellcheck": "false",
            "autocapitalize": "off",
            **attrs,
        }
    )


def _serials_input(**attrs):
    return forms.Textarea(
        attrs={
            "rows": 2,
            "class": "scan-step",
            "data-multi-scan": "",
            "spellcheck": "false",
            "placeholder": "one serial per line",
            **attrs,
        }
    )


def serial_lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _listed_field(
    service_field: str | None, names: dict[str, list[str]], aliases: dict[str, str]
) -> str | None:
    """The form field a service's `list[index].name` error is about, or None. `names`:
    the form prefix of each entry sent, per list; `aliases`: a service name shown under
    another input (the line's id under its quantity)."""
    match = LIST_FIELD.match(service_field or "")
    if not match:
        return None
    entries = names.get(match["list"], [])
    index = int(match["index"])
    if index >= len(entries):
        return None
    return f"{entries[index]}_{aliases.get(match['name'], match['name'])}"


# --- the RMA list ------------------------------------------------------------------------------


def _date_field(label: str) -> forms.DateField:
    return forms.DateField(
        required=False,
        label=label,
        widget=forms.DateInput(attrs={"type": "date", "aria-label": label}),
    )


class RmaFilterForm(Form):
    """Search and filters of the RMA list, from the query string; a value that does not
    parse filters nothing."""

    q = forms.CharField(required=False, max_length=100, label="Search")
    state = forms.ChoiceField(required=False, choices=[("", "All states"), *RmaState.choices])
    channel = forms.ModelChoiceField(
        required=False,
        queryset=Channel.objects.order_by("code"),
        to_field_name="code",
        empty_label="All channels",
    )
    overdue = forms.BooleanField(required=False, label="Overdue only")
    # The KPIs' drill-downs: RMAs of orders placed in a period (return cycle time), RMAs
    # with a refund posted in a period (refund total).
    placed_from = _date_field("Order placed from")
    placed_to = _date_field("Order placed to")
    refunded_from = _date_field("Refunded from")
    refunded_to = _date_field("Refunded to")

    def results(self, queryset: QuerySet) -> QuerySet:
        self.is_valid()
        data = self.cleaned_data
        if data.get("placed_from"):
            queryset = queryset.filter(order__placed_at__date__gte=data["placed_from"])
        if data.get("placed_to"):
            queryset = queryset.filter(order__placed_at__date__lte=data["placed_to"])
        if data.get("refunded_from") or data.get("refunded_to"):
            refunds = Refund.objects.filter(rma=OuterRef("pk"), state__in=POSTED_REFUND_STATES)
            if data.get("refunded_from"):
                refunds = refunds.filter(posted_at__date__gte=data["refunded_from"])
            if data.get("refunded_to"):
                refunds = refunds.filter(posted_at__date__lte=data["refunded_to"])
            queryset = queryset.filter(Exists(refunds))
        search = data.get("q", "").strip()
        if search:
            queryset = queryset.filter(
                Q(number__icontains=search)
                | Q(order__external_id__icontains=search)
                | Q(order__order_number__icontains=search)
                | Q(return_label_reference__icontains=search)
                | Q(external_reference__icontains=search)
            )
        if data.get("state"):
            queryset = queryset.filter(state=data["state"])
        if data.get("channel"):
            queryset = queryset.filter(channel=data["channel"])
        if data.get("overdue"):
            queryset = queryset.filter(state__in=OPEN_RMA_STATES, expected_by__lt=timezone.now())
        return queryset

    def is_filtered(self) -> bool:
        return any(self.cleaned_data.get(name) for name in self.fields)


# --- creating an RMA ---------------------------------------------------------------------------


def orders_by_reference(typed: str) -> list[Order]:
    """What customer service typed: the channel's order number, its external id, or our
    own ORD-<id>. Several channels may share a number, so every match comes back."""
    typed = (typed or "").strip()
    if not typed:
        return []
    condition = Q(order_number__iexact=typed) | Q(external_id__iexact=typed)
    own = typed.upper().removeprefix("ORD-")
    if own.isdigit():
        condition |= Q(pk=int(own))
    return list(
        Order.objects.filter(condition).select_related("channel").order_by("-placed_at")[:10]
    )


class OrderLookupForm(Form):
    q = forms.CharField(
        max_length=128,
        label="Order",
        error_messages={"required": "Type the order number or id."},
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "autocomplete": "off",
                "spellcheck": "false",
                "placeholder": "order number, external id or ORD-…",
            }
        ),
    )


@dataclass
class ReturnableLine:
    """One order line as the create screen shows it."""

    line: OrderLine
    returned: int
    shipped_on: datetime | None
    window_days: int

    @property
    def returnable(self) -> int:
        return max(self.line.quantity_shipped - self.returned, 0)

    @property
    def days_since_shipment(self) -> int | None:
        if self.shipped_on is None:
            return None
        return (timezone.localdate() - timezone.localdate(self.shipped_on)).days

    @property
    def outside_window(self) -> bool:
        days = self.days_since_shipment
        return days is not None and days > self.window_days


class RmaCreateForm(Form):
    """Units per order line with their reason (and serials or lot when tracked), and the
    RMA's own fields. A line left at 0 does not come back."""

    expected_by = forms.DateField(
        required=False,
        label="Expected by",
        help_text="Empty: the policy's days for the parcel to arrive.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    return_label_reference = forms.CharField(
        required=False, max_length=128, label="Return label", help_text="Tracking number or id"
    )
    override_reason = forms.CharField(
        required=False,
        max_length=2000,
        label="Override reason",
        help_text="Only when a line is outside the return window: why it is accepted anyway.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, data=None, *, lines: list[ReturnableLine], reasons, **kwargs):
        super().__init__(data, **kwargs)
        self.lines = lines
        reason_choices = [("", "Choose a reason…"), *((r.code, r.label) for r in reasons)]
        for row in lines:
            line, name = row.line, self.prefix_of(row.line)
            self.fields[f"{name}_quantity"] = forms.IntegerField(
                required=False,
                min_value=0,
                label=f"Units of line {line.line_number}",
                widget=forms.NumberInput(
                    attrs={"min": 0, "max": row.returnable, "inputmode": "numeric"}
                ),
            )
            self.fields[f"{name}_reason"] = forms.ChoiceField(
                required=False, choices=reason_choices, label=f"Reason for line {line.line_number}"
            )
            if line.sku.serial_tracked:
                self.fields[f"{name}_serials"] = forms.CharField(
                    required=False,
                    label=f"Serials of line {line.line_number}",
                    widget=forms.Textarea(attrs={"rows": 2, "placeholder": "one per line"}),
                )
            if line.sku.lot_tracked:
                self.fields[f"{name}_lot"] = forms.CharField(
                    required=False, max_length=64, label=f"Lot of line {line.line_number}"
                )
        self._sent: list[str] = []

    @staticmethod
    def prefix_of(line: OrderLine) -> str:
        return f"line_{line.pk}"

    def rows(self):
        """(returnable line, its bound fields by name) in line order, for the template."""
        for row in self.lines:
            name = self.prefix_of(row.line)
            yield (
                row,
                {
                    part: self[f"{name}_{part}"]
                    for part in ("quantity", "reason", "serials", "lot")
                    if f"{name}_{part}" in self.fields
                },
            )

    def rma_lines(self) -> list[dict]:
        """The lines to authorize, as create_rma takes them (only lines given units)."""
        data, lines, self._sent = self.cleaned_data, [], []
        for row in self.lines:
            name = self.prefix_of(row.line)
            if not data.get(f"{name}_quantity"):
                continue
            entry = {
                "order_line_id": row.line.pk,
                "quantity": data[f"{name}_quantity"],
                "reason": data.get(f"{name}_reason", ""),
            }
            if f"{name}_serials" in data:
                entry["serials"] = serial_lines(data[f"{name}_serials"])
            if data.get(f"{name}_lot"):
                entry["lot"] = data[f"{name}_lot"].strip()
            lines.append(entry)
            self._sent.append(name)
        return lines

    def field_for(self, service_field: str | None) -> str | None:
        aliases = {"order_line_id": "quantity", "external_line_id": "quantity"}
        return _listed_field(service_field, {"lines": self._sent}, aliases) or service_field


# --- the dock ----------------------------------------------------------------------------------


def receiving_nodes() -> QuerySet[Location]:
    """Nodes with a dock: active, and not a drop-ship supplier."""
    return (
        Location.objects.filter(active=True)
        .exclude(kind=Location.Kind.DROPSHIP)
        .order_by("priority", "code")
    )


def node_choice(query) -> tuple[list[Location], Location | None]:
    """The receiving nodes and the one `?node=RET-A` names (else the first), in one query."""
    nodes = list(receiving_nodes())
    wanted = (query.get("node") or "").strip()
    chosen = next((node for node in nodes if node.code == wanted), None)
    return nodes, chosen or (nodes[0] if nodes else None)


class DockScanForm(Form):
    scan = forms.CharField(
        max_length=128,
        label="Scan the RMA or the order",
        error_messages={"required": "Scan the RMA number on the parcel, or the order number."},
        widget=_scan_input(autofocus=True, placeholder="RMA-…, order number, return label"),
    )


UNEXPECTED_ROWS = 2


class ReceiptForm(Form):
    """Units scanned in per expected RMA line (serials and lot when tracked), and items
    that were not on the RMA at all."""

    note = forms.CharField(required=False, max_length=NOTE_MAX, label="Receipt note")

    def __init__(self, data=None, *, rma_lines: list[RmaLine], **kwargs):
        super().__init__(data, **kwargs)
        self.rma_lines = [line for line in rma_lines if line.outstanding > 0]
        for line in self.rma_lines:
            name = f"line_{line.pk}"
            self.fields[f"{name}_quantity"] = forms.IntegerField(
                required=False,
                min_value=0,
                label=f"Units of {line.sku.code} received",
                widget=forms.NumberInput(
                    attrs={"class": "scan-step", "min": 0, "inputmode": "numeric"}
                ),
            )
            if line.sku.serial_tracked:
                self.fields[f"{name}_serials"] = forms.CharField(
                    required=False,
                    label=f"Serials of {line.sku.code}",
                    widget=_serials_input(),
                )
            if line.sku.lot_tracked:
                self.fields[f"{name}_lot"] = forms.CharField(
                    required=False,
                    max_length=64,
                    label=f"Lot of {line.sku.code}",
                    initial=line.lot.code if line.lot else "",
                    widget=_scan_input(),
                )
        for index in range(UNEXPECTED_ROWS):
            name = f"unexpected_{index}"
            self.fields[f"{name}_sku"] = forms.CharField(
                required=False, max_length=64, label="SKU", widget=forms.TextInput()
            )
            self.fields[f"{name}_quantity"] = forms.IntegerField(
                required=False, min_value=0, label="Units", widget=forms.NumberInput({"min": 0})
            )
            self.fields[f"{name}_serials"] = forms.CharField(
                required=False, label="Serials", widget=forms.Textarea({"rows": 1})
            )
            self.fields[f"{name}_lot"] = forms.CharField(required=False, max_length=64, label="Lot")
            self.fields[f"{name}_note"] = forms.CharField(
                required=False, max_length=NOTE_MAX, label="What is it?"
            )
        self._sent: dict[str, list[str]] = {"lines": [], "unexpected": []}

    def rows(self):
        for line in self.rma_lines:
            name = f"line_{line.pk}"
            yield (
                line,
                {
                    part: self[f"{name}_{part}"]
                    for part in ("quantity", "serials", "lot")
                    if f"{name}_{part}" in self.fields
                },
            )

    def unexpected_rows(self):
        for index in range(UNEXPECTED_ROWS):
            name = f"unexpected_{index}"
            yield [self[f"{name}_{part}"] for part in ("sku", "quantity", "serials", "lot", "note")]

    def has_unexpected_input(self) -> bool:
        return any(
            self[f"unexpected_{index}_sku"].value() for index in range(UNEXPECTED_ROWS)
        ) or any(self.errors.get(name) for name in self.fields if name.startswith("unexpected"))

    def receipt_lines(self) -> list[dict]:
        data, lines = self.cleaned_data, []
        self._sent["lines"] = []
        for line in self.rma_lines:
            name = f"line_{line.pk}"
            if not data.get(f"{name}_quantity"):
                continue
            entry = {"rma_line_id": line.pk, "quantity": data[f"{name}_quantity"]}
            if f"{name}_serials" in data:
                entry["serials"] = serial_lines(data[f"{name}_serials"])
            if data.get(f"{name}_lot"):
                entry["lot"] = data[f"{name}_lot"].strip()
            lines.append(entry)
            self._sent["lines"].append(name)
        return lines

    def unexpected_items(self) -> list[dict]:
        data, items = self.cleaned_data, []
        self._sent["unexpected"] = []
        for index in range(UNEXPECTED_ROWS):
            name = f"unexpected_{index}"
            sku = (data.get(f"{name}_sku") or "").strip()
            if not sku:
                continue
            items.append(
                {
                    "sku": sku,
                    # No number typed: one unit (the service refuses zero).
                    "quantity": 1
                    if data.get(f"{name}_quantity") is None
                    else data[f"{name}_quantity"],
                    "serials": serial_lines(data.get(f"{name}_serials", "")),
                    "lot": (data.get(f"{name}_lot") or "").strip(),
                    "note": data.get(f"{name}_note", ""),
                }
            )
            self._sent["unexpected"].append(name)
        return items

    def field_for(self, service_field: str | None) -> str | None:
        aliases = {"rma_line_id": "quantity"}
        return _listed_field(service_field, self._sent, aliases) or service_field


# --- inspection --------------------------------------------------------------------------------


class InspectionForm(Form):
    """Condition and disposition of units of one received item (prefix: the item)."""

    quantity = forms.IntegerField(
        required=False,
        min_value=1,
        label="Units",
        widget=forms.NumberInput(attrs={"min": 1, "inputmode": "numeric"}),
    )
    grade = forms.ChoiceField(
        required=False, choices=[("", "Choose…"), *Grade.choices], label="Condition"
    )
    disposition = forms.ChoiceField(
        required=False, choices=[("", "Choose…"), *Disposition.choices], label="Disposition"
    )
    supplier = forms.CharField(
        required=False,
        max_length=128,
        label="Supplier",
        widget=forms.TextInput(attrs={"placeholder": "return to vendor: who takes them"}),
    )
    note = forms.CharField(required=False, max_length=NOTE_MAX, label="Note")

    def __init__(self, data=None, *, item: ReceivedItem, waiting: int, **kwargs):
        kwargs.setdefault("prefix", f"item-{item.pk}")
        kwargs.setdefault("initial", {"quantity": waiting})
        super().__init__(data, **kwargs)
        self.item, self.waiting = item, waiting
        self.fields["quantity"].widget.attrs["max"] = waiting
        if item.serial:
            self.fields["quantity"].widget = forms.HiddenInput()

    def result(self) -> dict:
        data = self.cleaned_data
        result = {
            "received_item_id": self.item.pk,
            "quantity": 1 if self.item.serial else data.get("quantity"),
            "grade": data.get("grade", ""),
            "disposition": data.get("disposition", ""),
            "note": data.get("note", ""),
            "supplier": data.get("supplier", ""),
        }
        if self.item.serial:
            result["serial"] = self.item.serial
        return result

    def field_for(self, service_field: str | None) -> str | None:
        match = LIST_FIELD.match(service_field or "")
        if not match:
            return service_field
        name = match["name"]
        return "quantity" if name in ("received_item_id", "rma_line_id", "serial") else name


# --- refunds and the RMA's own decisions -------------------------------------------------------


class RefundRequestForm(Form):
    amount = forms.DecimalField(
        required=False,
        max_digits=12,
        decimal_places=2,
        label="Agreed amount",
        help_text="Empty: the computed amount.",
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0.01", "inputmode": "decimal"}),
    )
    note = forms.CharField(required=False, max_length=2000, label="Note")


# Closing or cancelling an RMA and withdrawing a refund record the text as the change reason.
CHANGE_REASON_MAX = min(change_reason_max_length(Rma), change_reason_max_length(Refund))


class CloseRmaForm(Form):
    note = forms.CharField(
        required=False,
        max_length=CHANGE_REASON_MAX,
        label="Note",
        help_text="Required when units never arrived (the buyer kept them).",
    )


class CancelRmaForm(Form):
    reason = forms.CharField(required=False, max_length=CHANGE_REASON_MAX, label="Reason")


class WithdrawRefundForm(Form):
    note = forms.CharField(required=False, max_length=CHANGE_REASON_MAX, label="Why?")


# --- queue row actions -------------------------------------------------------------------------


class ResolveDiscrepancyForm(Form):
    resolution = forms.CharField(required=False, max_length=NOTE_MAX, label="Resolution")


class DismissChannelReturnForm(Form):
    note = forms.CharField(required=False, max_length=NOTE_MAX, label="How it was settled")


class CompleteRepairForm(Form):
    outcome = forms.ChoiceField(
        choices=[("restock", "Repaired: restock"), ("dispose", "Beyond repair: dispose")]
    )
    note = forms.CharField(required=False, max_length=NOTE_MAX, label="Note")


# --- figures -----------------------------------------------------------------------------------

DEFAULT_PERIOD_DAYS = 90


class FiguresFilterForm(Form):
    """The period (placed or authorized between two days, both included) and a channel."""

    since = forms.DateField(required=False, label="From", widget=forms.DateInput({"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput({"type": "date"}))
    channel = forms.ModelChoiceField(
        required=False,
        queryset=Channel.objects.order_by("code"),
        to_field_name="code",
        empty_label="All channels",
    )

    def __init__(self, data=None, **kwargs):
        """Without a period in the query, the last 90 days; both dates left empty on
        purpose: all time."""
        today = timezone.localdate()
        data = data.copy() if data is not None else {}
        if "since" not in data and "until" not in data:
            data["since"] = (today - timedelta(days=DEFAULT_PERIOD_DAYS - 1)).isoformat()
            data["until"] = today.isoformat()
        super().__init__(data, **kwargs)

    def period(self) -> dict:
        """since/until as the selectors take them (until exclusive) and the channel code."""
        self.is_valid()
        data = self.cleaned_data
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", "The period ends before it starts.")
            until = None
        return {
            "since": _start_of(since) if since else None,
            "until": _start_of(until + timedelta(days=1)) if until else None,
            "channel_code": data["channel"].code if data.get("channel") else None,
        }


def _start_of(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


# --- return rules (settings screens) ------------------------------------------------------------

POLICY_FIELDS = [
    "window_days",
    "receipt_expected_days",
    "return_shipping_paid_by",
    "restocking_fee_percent",
    "refund_timing",
    "never_restock",
    "always_inspect_serials",
    "refund_endpoint",
]


class ReturnPolicyForm(ParsingModelForm):
    fieldsets = (
        ("Applies to", ("channel", "product_family")),
        (
            "Window and shipping",
            ("window_days", "receipt_expected_days", "return_shipping_paid_by"),
        ),
        ("Refund", ("restocking_fee_percent", "refund_timing", "refund_endpoint")),
        ("Restocking", ("never_restock", "always_inspect_serials")),
    )

    class Meta:
        model = ReturnPolicy
        fields = ["channel", "product_family", *POLICY_FIELDS]
        labels = {"restocking_fee_percent": "Restocking fee (%)"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "channel" in self.fields:
            self.fields["channel"].queryset = Channel.objects.order_by("code")
        self.fields["refund_endpoint"].queryset = Endpoint.objects.order_by("code")


class ReturnPolicyEditForm(ReturnPolicyForm):
    """A policy's channel and family are what it is; the rules change."""

    fieldsets = ReturnPolicyForm.fieldsets[1:]

    class Meta(ReturnPolicyForm.Meta):
        fields = POLICY_FIELDS


class ReturnReasonForm(ParsingModelForm):
    fieldsets = (("Reason", ("code", "label", "active", "counts_as_damage", "our_fault")),)

    class Meta:
        model = ReturnReason
        fields = ["code", "label", "active", "counts_as_damage", "our_fault"]


class ReturnReasonEditForm(ReturnReasonForm):
    fieldsets = (("Reason", ("label", "active", "counts_as_damage", "our_fault")),)

    class Meta(ReturnReasonForm.Meta):
        fields = ["label", "active", "counts_as_damage", "our_fault"]


class ReturnPolicyFilterForm(RecordFilterForm):
    search_fields = ("channel__code", "product_family")


class ReturnReasonFilterForm(RecordFilterForm):
    search_fields = ("code", "label")
