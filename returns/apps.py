from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    name = "returns"
    verbose_name = "Returns"

    def ready(self):
        from erp.demo import register_demo_seeder
        from returns.demo import seed_returns

        register_demo_seeder("returns", seed_returns)
        from returns import queues, roles  # noqa: F401  register with erp
        from returns.services import refunds  # noqa: F401  registers the refund approval kind
