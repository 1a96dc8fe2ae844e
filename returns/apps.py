from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    name = "returns"
    verbose_name = "Returns"

    def ready(self):
        from returns import queues, roles  # noqa: F401  register with erp
        from returns.services import refunds  # noqa: F401  registers the refund approval kind
