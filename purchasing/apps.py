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
