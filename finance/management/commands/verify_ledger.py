"""Check the books: the trial balance balances in every currency and the inventory account
equals the valuation of stock on hand. Exit status 1 on a difference, with the figures."""

import sys

from django.core.management.base import BaseCommand

from finance.services.verification import ledger_differences


class Command(BaseCommand):
    help = "Verify the trial balance and the inventory account against the stock valuation."

    def handle(self, *args, **options):
        check = ledger_differences()
        for line in check.lines():
            self.stdout.write(line)
        if not check.clean:
            self.stderr.write("verify_ledger: the books do not agree (figures above)")
            sys.exit(1)
        self.stdout.write("verify_ledger: ok")
