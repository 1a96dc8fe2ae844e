from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = "Inventory"

    def ready(self):
        from inventory import approvals, queues, roles  # noqa: F401  register with erp
