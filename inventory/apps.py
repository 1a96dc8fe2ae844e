from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = "Inventory"

    def ready(self):
        from erp.demo import register_demo_seeder
        from inventory import approvals, queues, roles  # noqa: F401  register with erp
        from inventory.demo import seed_inventory

        register_demo_seeder("inventory", seed_inventory)
