"""API representations for the books; input serializers only parse, services decide."""

from rest_framework import serializers

from erp.api.base import StrictFieldsMixin
from finance.documents import document_url
from finance.models import Account, JournalEntry, JournalLine, Period


class AccountSerializer(serializers.ModelSerializer):
    channel = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Account
        fields = ["id", "code", "name", "type", "role", "channel", "active"]


class JournalLineSerializer(serializers.ModelSerializer):
    account = serializers.SlugRelatedField(slug_field="code", read_only=True)
    account_name = serializers.CharField(source="account.name", read_only=True)
    channel = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    sku = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    location = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = JournalLine
        fields = [
            "id",
            "account",
            "account_name",
            "debit",
            "credit",
            "currency",
            "channel",
            "order_id",
            "sku",
            "location",
            "memo",
        ]


class JournalEntrySerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    period = serializers.CharField(read_only=True)
    posted_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    document_url = serializers.SerializerMethodField()
    lines = JournalLineSerializer(many=True, read_only=True)

    class Meta:
        model = JournalEntry
        fields = [
            "id",
            "number",
            "date",
            "period",
            "memo",
            "source_kind",
            "source_id",
            "source_ref",
            "event",
            "document_url",
            "posted_by",
            "posted_at",
            "reversal_of",
            "lines",
        ]

    def get_document_url(self, entry) -> str:
        """The back-office page of the document that posted the entry ("" if none)."""
        return document_url(entry.source_kind, entry.source_id)


class PeriodSerializer(serializers.ModelSerializer):
    closed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    locked_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Period
        fields = [
            "id",
            "year",
            "month",
            "status",
            "closed_by",
            "closed_at",
            "locked_by",
            "locked_at",
        ]


class PeriodActionSerializer(StrictFieldsMixin, serializers.Serializer):
    year = serializers.IntegerField(min_value=2000, max_value=2999)
    month = serializers.IntegerField(min_value=1, max_value=12)


class MarginRowSerializer(serializers.Serializer):
    key = serializers.IntegerField(allow_null=True, help_text="Channel, SKU or order id")
    label = serializers.CharField()
    detail = serializers.CharField()
    revenue = serializers.DecimalField(max_digits=16, decimal_places=2)
    refunds = serializers.DecimalField(max_digits=16, decimal_places=2)
    cogs = serializers.DecimalField(max_digits=16, decimal_places=2)
    fees = serializers.DecimalField(max_digits=16, decimal_places=2)
    shipping = serializers.DecimalField(max_digits=16, decimal_places=2)
    margin = serializers.DecimalField(max_digits=16, decimal_places=2)
    margin_percent = serializers.DecimalField(max_digits=8, decimal_places=1, allow_null=True)


class MarginSerializer(serializers.Serializer):
    by = serializers.ChoiceField(choices=["channel", "sku", "order"])
    rows = MarginRowSerializer(many=True)
    total = MarginRowSerializer()
    truncated = serializers.BooleanField(help_text="More rows exist than `limit` returned.")


class TrialBalanceRowSerializer(serializers.Serializer):
    account = serializers.CharField(source="account.code")
    name = serializers.CharField(source="account.name")
    type = serializers.CharField(source="account.type")
    currency = serializers.CharField()
    debits = serializers.DecimalField(max_digits=16, decimal_places=2)
    credits = serializers.DecimalField(max_digits=16, decimal_places=2)
    balance = serializers.DecimalField(max_digits=16, decimal_places=2)


class TrialBalanceTotalSerializer(serializers.Serializer):
    currency = serializers.CharField()
    debits = serializers.DecimalField(max_digits=16, decimal_places=2)
    credits = serializers.DecimalField(max_digits=16, decimal_places=2)


class TrialBalanceSerializer(serializers.Serializer):
    as_of = serializers.DateField(allow_null=True)
    balanced = serializers.BooleanField()
    rows = TrialBalanceRowSerializer(many=True)
    totals = TrialBalanceTotalSerializer(many=True)
