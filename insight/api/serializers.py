from rest_framework import serializers

from insight.kpis import BREAKDOWNS


class KpiDefinitionSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    unit = serializers.ChoiceField(
        choices=["percent", "hours", "amount", "units", "turns", "days"],
        help_text="An amount is in the shop's money.",
    )
    formula = serializers.CharField()
    breakdowns = serializers.ListField(child=serializers.ChoiceField(choices=BREAKDOWNS))
    good = serializers.ChoiceField(choices=["high", "low"], help_text="Which way is better.")


def _figure(**kwargs):
    """A figure as the KPI gives it: a count or seconds, a rate or hours to 0.1, an amount to
    the cent (never rounded here)."""
    return serializers.DecimalField(max_digits=None, decimal_places=None, **kwargs)


class KpiRowSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The day, week start, channel, node, family or supplier.")
    numerator = _figure()
    denominator = _figure()
    value = _figure(allow_null=True)


class KpiFiltersSerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    channel = serializers.CharField()
    node = serializers.CharField()
    family = serializers.CharField()


class KpiFiguresSerializer(KpiDefinitionSerializer):
    filters = KpiFiltersSerializer()
    value = _figure(allow_null=True, help_text="Over the whole selection.")
    by = serializers.CharField(allow_null=True)
    rows = KpiRowSerializer(many=True)


class ThresholdSerializer(serializers.Serializer):
    key = serializers.CharField()
    value = serializers.DecimalField(max_digits=14, decimal_places=2)
    direction = serializers.ChoiceField(choices=["above", "below"])
    active = serializers.BooleanField()
