from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self):
        from erp.demo import register_demo_seeder
        from orders import queues, roles, subscribers  # noqa: F401  register with erp
        from orders.demo import seed_orders

        register_demo_seeder("orders", seed_orders)
        from erp.navigation import register_nav

        register_nav(
            "Operations", "Orders", "orders:list", "orders.view_order", order=40, current="orders"
        )
        from orders.services import evaluation  # noqa: F401  registers the split approval kind
