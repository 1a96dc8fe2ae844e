from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_chart(sender, **kwargs):
    from finance.services.chart import ensure_chart_of_accounts

    ensure_chart_of_accounts()


class FinanceConfig(AppConfig):
    name = "finance"
    verbose_name = "Finance"

    def ready(self):
        # A fresh database posts correctly: the accounts the rules need exist after migrate.
        post_migrate.connect(_ensure_chart, sender=self, dispatch_uid="finance-chart")
