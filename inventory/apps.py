from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = "Inventory"

    def ready(self):
        from erp.demo import register_demo_seeder
        from inventory import approvals, queues, roles  # noqa: F401  register with erp
        from inventory.demo import seed_inventory

        register_demo_seeder("inventory", seed_inventory)
        from erp.navigation import register_nav

        register_nav(
            "Warehouse",
            "Stock",
            "stock-search",
            "inventory.view_stockbalance",
            order=20,
            current="stock",
        )
        register_nav(
            "Warehouse",
            "Counts",
            "count-list",
            "inventory.view_cyclecount",
            order=30,
            current="counts",
        )
        register_nav(
            "Warehouse",
            "Transfers",
            "transfer-list",
            "inventory.view_transfer",
            order=40,
            current="transfers",
        )
        register_nav(
            "Operations",
            "Availability",
            "availability-index",
            "inventory.view_channelavailability",
            order=60,
            current="availability",
        )
