"""The reason codes a new installation starts with; managers add and retire their own."""

from django.db import migrations

REASONS = [
    # code, label, counts as damage, our fault
    ("changed_mind", "Changed mind / no longer needed", False, False),
    ("wrong_size", "Wrong size or fit", False, False),
    ("not_as_described", "Not as described", False, True),
    ("wrong_item_sent", "Wrong item sent", False, True),
    ("defective", "Defective / does not work", False, True),
    ("damaged_in_transit", "Damaged in transit", True, True),
    ("arrived_late", "Arrived too late", False, True),
]


def add_reasons(apps, schema_editor):
    ReturnReason = apps.get_model("returns", "ReturnReason")
    for code, label, damage, our_fault in REASONS:
        ReturnReason.objects.get_or_create(
            code=code,
            defaults={"label": label, "counts_as_damage": damage, "our_fault": our_fault},
        )


class Migration(migrations.Migration):
    dependencies = [("returns", "0001_rmas_receipts_inspections_refunds")]

    operations = [migrations.RunPython(add_reasons, migrations.RunPython.noop)]
