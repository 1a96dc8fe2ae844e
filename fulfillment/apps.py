from django.apps import AppConfig


class FulfillmentConfig(AppConfig):
    name = "fulfillment"
    verbose_name = "Fulfillment"

    def ready(self):
        from erp.demo import register_demo_seeder
        from fulfillment import queues, roles, subscribers  # noqa: F401  register with erp
        from fulfillment.demo import seed_fulfillment
        from fulfillment.off_shelf import units_picked_not_shipped
        from inventory.services.counts import register_off_shelf_source

        register_demo_seeder("fulfillment", seed_fulfillment)
        from erp.navigation import register_nav

        register_nav(
            "Warehouse",
            "Fulfillment",
            "fulfillment:dashboard",
            "fulfillment.view_wave",
            order=10,
            current="fulfillment",
        )
        register_off_shelf_source(units_picked_not_shipped)
        _schedule_escalation()


def _schedule_escalation() -> None:
    """Celery beat runs the SLA escalation every five minutes."""
    from erp.celery import app
    from fulfillment.tasks import ESCALATE_EVERY_SECONDS

    app.add_periodic_task(
        ESCALATE_EVERY_SECONDS,
        app.signature("fulfillment.tasks.escalate_unconfirmed"),
        name="fulfillment-escalate-unconfirmed",
    )
