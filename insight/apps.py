from django.apps import AppConfig


class InsightConfig(AppConfig):
    """KPIs, dashboards, channel sync health and digests. Like finance, insight may import
    any app and no app imports insight: it reads their rows and hears their events."""

    name = "insight"
    verbose_name = "Insight"

    def ready(self):
        from erp.demo import register_demo_seeder
        from erp.navigation import register_nav
        from insight import digest, roles  # noqa: F401  registers digest sections and roles
        from insight.demo import seed_insight
        from insight.kpis import wiring
        from insight.sync_demo import seed_sync_health

        wiring.register()
        register_nav(
            "Insight",
            "Dashboards",
            "insight:home",
            wiring.may_see_dashboards,
            order=10,
            current="insight",
        )
        register_nav(
            "Insight",
            "KPI thresholds",
            "insight:thresholds",
            "insight.view_kpithreshold",
            order=20,
            current="insight",
        )
        register_nav(
            "Insight",
            "Sync health",
            "insight:sync-health",
            "erp.view_outboxmessage",
            order=30,
            current="insight",
        )
        register_demo_seeder("insight", seed_insight)
        register_demo_seeder("insight-sync-health", seed_sync_health)
