from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    name = "returns"
    verbose_name = "Returns"

    def ready(self):
        from erp.demo import register_demo_seeder
        from erp.navigation import register_nav
        from orders.page_actions import register_order_action
        from returns.demo import seed_returns

        register_demo_seeder("returns", seed_returns)
        from returns import queues, roles  # noqa: F401  register with erp
        from returns.services import refunds  # noqa: F401  registers the refund approval kind

        register_nav(
            "Operations", "Returns", "returns:list", "returns.view_rma", order=50, current="returns"
        )
        register_nav(
            "Settings",
            "Return policies",
            "returns:return-policy-list",
            "returns.view_returnpolicy",
            order=60,
            current="settings",
        )
        register_nav(
            "Settings",
            "Return reasons",
            "returns:return-reason-list",
            "returns.view_returnreason",
            order=61,
            current="settings",
        )
        register_order_action(
            "create-rma",
            "Create RMA",
            "returns:create",
            permission="returns.add_rma",
            states={"shipped", "partially_shipped", "closed"},
        )
