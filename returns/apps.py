from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    name = "returns"
    verbose_name = "Returns"

    def ready(self):
        from erp.navigation import register_nav
        from orders.page_actions import register_order_action
        from returns import queues, roles  # noqa: F401  register with erp
        from returns.services import refunds  # noqa: F401  registers the refund approval kind

        register_nav(
            "Operations", "Returns", "returns:list", "returns.view_rma", order=50, current="returns"
        )
        register_order_action(
            "create-rma",
            "Create RMA",
            "returns:create",
            permission="returns.add_rma",
            states={"shipped", "partially_shipped", "closed"},
        )
