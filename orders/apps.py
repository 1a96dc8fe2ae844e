from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self):
        from erp.demo import register_demo_seeder
        from orders import queues, roles, subscribers  # noqa: F401  register with erp
        from orders.demo import seed_orders
        from orders.demo_manual import seed_manual_orders

        register_demo_seeder("orders", seed_orders)
        register_demo_seeder("orders-manual-and-claims", seed_manual_orders)
        from orders.services import evaluation  # noqa: F401  registers the split approval kind
