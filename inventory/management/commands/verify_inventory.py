from django.core.management.base import BaseCommand

from inventory.services.verification import find_balance_differences


class Command(BaseCommand):
    help = "Rebuild balances from the ledger and list every difference (exit code 1 if any)."

    def handle(self, *args, **options):
        differences = find_balance_differences()
        for diff in differences:
            self.stdout.write(
                f"{diff.kind} sku={diff.sku_id} location={diff.location_id} status={diff.status}"
                f"{'' if diff.lot_id is None else f' lot={diff.lot_id}'}: "
                f"balance {diff.balance} ≠ ledger {diff.ledger}"
            )
        self.stdout.write(f"differences: {len(differences)}")
        if differences:
            raise SystemExit(1)
