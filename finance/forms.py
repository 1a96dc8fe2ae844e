from django import forms

from erp.models import Channel
from finance.models import Account
from finance.selectors import MARGIN_GROUPS


class JournalFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=64)
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    account = forms.ModelChoiceField(
        queryset=Account.objects.order_by("code"), required=False, empty_label="All accounts"
    )
    source_kind = forms.ChoiceField(required=False)

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source_kind"].choices = [("", "All documents"), *kinds]

    def values(self) -> dict:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "search": data.get("q") or "",
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
            "account_id": data["account"].pk if data.get("account") else None,
            "source_kind": data.get("source_kind") or "",
        }


class MarginFilterForm(forms.Form):
    by = forms.ChoiceField(
        choices=[(group, group.capitalize()) for group in MARGIN_GROUPS], required=False
    )
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    channel = forms.ModelChoiceField(
        queryset=Channel.objects.order_by("code"),
        to_field_name="code",
        required=False,
        empty_label="All channels",
    )

    def values(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "group": data.get("by") or "channel",
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
            "channel_id": data["channel"].pk if data.get("channel") else None,
        }


class PeriodActionForm(forms.Form):
    year = forms.IntegerField(min_value=2000, max_value=2999)
    month = forms.IntegerField(min_value=1, max_value=12)
