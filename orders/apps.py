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
        from erp.navigation import register_nav

        register_nav(
            "Operations", "Orders", "orders:list", "orders.view_order", order=40, current="orders"
        )
        register_nav(
            "Operations",
            "New order",
            "orders:create",
            "orders.add_order",
            order=45,
            current="new-order",
        )
        for order, (label, url_name, permission) in enumerate(
            [
                ("Order policies", "orders:order-policy-list", "view_channelorderpolicy"),
                ("Shipping zones", "orders:shipping-zone-list", "view_shippingzone"),
                ("Shipping rates", "orders:shipping-rate-list", "view_shippingrate"),
                ("Drop-ship sources", "orders:dropship-source-list", "view_dropshipsource"),
                ("Substitution rules", "orders:substitution-rule-list", "view_substitutionrule"),
            ]
        ):
            register_nav(
                "Settings",
                label,
                url_name,
                f"orders.{permission}",
                order=50 + order,
                current="settings",
            )
        from orders.services import evaluation  # noqa: F401  registers the split approval kind
