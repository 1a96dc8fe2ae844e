from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self):
        from orders import queues, roles, subscribers  # noqa: F401  register with erp
        from orders.services import flow  # noqa: F401  registers the split approval kind
