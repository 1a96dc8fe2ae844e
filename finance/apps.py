from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_chart(sender, **kwargs):
    from finance.services.chart import ensure_chart_of_accounts

    ensure_chart_of_accounts()


class FinanceConfig(AppConfig):
    name = "finance"
    verbose_name = "Finance"

    def ready(self):
        from erp.benchmarks import register_after_benchmark_check, register_opening_stock_hook
        from erp.demo import register_demo_seeder
        from finance import (  # noqa: F401  subscribe to events, register roles
            posting_rules,
            roles,
            settlement_wiring,  # settlements: roles, the variances queue, the import task
        )
        from finance.demo import seed_finance
        from finance.services.verification import ledger_differences
        from finance.settlement_demo import seed_settlements

        def books_agree():
            """After every benchmark: the trial balance balances and the inventory account
            equals the valuation of stock on hand (what `verify_ledger` checks)."""
            check = ledger_differences()
            return [f"verify_ledger: {line}" for line in check.lines()], check.clean

        register_after_benchmark_check(books_agree)

        def opening_stock(actor):
            from finance.services.opening import post_opening_stock

            post_opening_stock(actor=actor, memo="Opening stock loaded by a benchmark's seed")

        register_opening_stock_hook(opening_stock)

        # Registered last (INSTALLED_APPS order): it posts what the other apps' demo did.
        register_demo_seeder("finance", seed_finance)
        register_demo_seeder("finance-settlements", seed_settlements)
        from erp.navigation import register_nav

        register_nav(
            "Finance",
            "Journal",
            "finance:journal",
            "finance.view_journalentry",
            order=10,
            current="finance",
        )
        register_nav(
            "Finance",
            "Settlements",
            "settlements:list",
            "finance.view_settlement",
            order=20,
            current="settlements",
        )

        # A fresh database posts correctly: the accounts the rules need exist after migrate
        # (and a channel created later gets its accounts on its first posting).
        post_migrate.connect(_ensure_chart, sender=self, dispatch_uid="finance-chart")
