"""The KPI filters, bound to the query string so a view can be shared. A value that does
not parse filters nothing and says so on the form (never a 500)."""

from datetime import timedelta

from django import forms

from erp.forms import Form
from erp.models import Channel, Location
from insight.kpis import DEFAULT_DAYS, Filters
from insight.models import KpiThreshold

MAX_DAYS = 731


class KpiFilterForm(Form):
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    channel = forms.ModelChoiceField(
        required=False,
        queryset=Channel.objects.order_by("code"),
        to_field_name="code",
        empty_label="All channels",
    )
    node = forms.ModelChoiceField(
        required=False,
        queryset=Location.objects.order_by("code"),
        to_field_name="code",
        empty_label="All nodes",
    )
    family = forms.CharField(required=False, max_length=64, label="SKU family")
    bucket = forms.ChoiceField(
        required=False, choices=[("day", "By day"), ("week", "By week")], label="Buckets"
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The period ends before it starts.")
        elif start and end and (end - start).days >= MAX_DAYS:
            self.add_error("date_to", f"Show at most {MAX_DAYS} days at a time.")
        return data

    def filters(self, today) -> Filters:
        """The filters to apply: the valid fields, the default period for the rest."""
        self.is_valid()
        data = {name: value for name, value in self.cleaned_data.items() if name not in self.errors}
        default = Filters.default(today)
        end = data.get("date_to") or default.date_to
        start = data.get("date_from") or end - timedelta(days=DEFAULT_DAYS - 1)
        if start > end or (end - start).days >= MAX_DAYS:
            start, end = default.date_from, default.date_to
        return Filters(
            date_from=start,
            date_to=end,
            channel=data["channel"].code if data.get("channel") else "",
            node=data["node"].code if data.get("node") else "",
            family=(data.get("family") or "").strip(),
        )

    def chosen_bucket(self) -> str:
        self.is_valid()
        return self.cleaned_data.get("bucket") or "day"


class ThresholdForm(Form):
    value = forms.DecimalField(max_digits=14, decimal_places=2)
    direction = forms.ChoiceField(choices=KpiThreshold.Direction.choices)
    active = forms.BooleanField(required=False, initial=True)
    reason = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"size": 40}))
