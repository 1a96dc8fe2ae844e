from django.apps import AppConfig


class PurchasingConfig(AppConfig):
    name = "purchasing"
    verbose_name = "Purchasing"

    def ready(self):
        from erp.demo import register_demo_seeder
        from purchasing import queues, roles, subscribers  # noqa: F401  register with erp
        from purchasing.demo import seed_purchasing
        from purchasing.services import purchase_orders, receiving  # noqa: F401  approval kinds

        register_demo_seeder("purchasing", seed_purchasing)
        from erp.navigation import register_nav

        register_nav(
            "Purchasing",
            "Purchase orders",
            "purchasing:po-list",
            "purchasing.view_purchaseorder",
            order=10,
            current="purchasing",
        )
        register_nav(
            "Purchasing",
            "Replenishment",
            "purchasing:proposal-queue",
            "purchasing.view_proposal",
            order=20,
            current="replenishment",
        )
