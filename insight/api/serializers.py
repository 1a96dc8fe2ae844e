from rest_framework import serializers

from insight.kpis import BREAKDOWNS


class KpiDefinitionSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    unit = serializers.ChoiceField(choices=["percent", "hours", "amount", "units", "turns", "days"])
    formula = serializers.CharField()
    breakdowns = serializers.ListField(child=serializers.ChoiceField(choices=BREAKDOWNS))
    good = serializers.ChoiceField(choices=["high", "low"], help_text="Which way is better.")


class KpiRowSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The day, week start, channel, node or family.")
    # As the KPI computed them (a count, or units and averages with their own precision).
    numerator = serializers.DecimalField(max_digits=None, decimal_places=None)
    denominator = serializers.DecimalField(max_digits=None, decimal_places=None)
    value = serializers.DecimalField(max_digits=None, decimal_places=None, allow_null=True)


class KpiFiltersSerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    channel = serializers.CharField()
    node = serializers.CharField()
    family = serializers.CharField()


class KpiFiguresSerializer(KpiDefinitionSerializer):
    filters = KpiFiltersSerializer()
    value = serializers.DecimalField(
        max_digits=None, decimal_places=None, allow_null=True, help_text="Over the whole selection."
    )
    by = serializers.CharField(allow_null=True)
    rows = KpiRowSerializer(many=True)


class ThresholdSerializer(serializers.Serializer):
    key = serializers.CharField()
    value = serializers.DecimalField(max_digits=14, decimal_places=2)
    direction = serializers.ChoiceField(choices=["above", "below"])
    active = serializers.BooleanField()
