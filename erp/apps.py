from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender, **kwargs):
    from erp.roles import sync_role_groups

    sync_role_groups()


def _seed_approval_policies(users) -> str:
    from erp.services.approvals import ensure_policies

    return f"{len(ensure_policies())} approval thresholds"


class ErpConfig(AppConfig):
    name = "erp"
    verbose_name = "ERP core"

    def ready(self):
        from erp import auth_backends, exception_queues  # noqa: F401  signals, core queues
        from erp.demo import register_demo_seeder
        from erp.demo_api_tokens import seed_api_tokens
        from erp.navigation import register_nav
        from erp.roles import MANAGER, has_role

        register_nav("Operations", "Dashboard", "dashboard", order=10, current="dashboard")
        register_nav("Operations", "Exceptions", "exceptions", order=20, current="exceptions")
        register_nav("Operations", "Approvals", "approval-inbox", order=30, current="approvals")
        register_nav("Settings", "SKUs", "sku-list", "erp.view_sku", order=10, current="sku")
        register_nav(
            "Settings",
            "Locations",
            "location-list",
            "erp.view_location",
            order=20,
            current="location",
        )
        register_nav(
            "Settings", "Channels", "channel-list", "erp.view_channel", order=30, current="channel"
        )
        register_nav(
            "Settings",
            "Listings",
            "listing-list",
            "erp.view_channellisting",
            order=40,
            current="listing",
        )
        register_nav(
            "Settings",
            "All settings",
            "settings",
            "erp.view_approvalpolicy",
            order=5,
            current="settings",
        )
        register_nav(
            "Settings",
            "Approval thresholds",
            "approval-policy-list",
            "erp.view_approvalpolicy",
            order=70,
            current="settings",
        )
        register_nav(
            "Settings",
            "API tokens",
            "api-token-list",
            "erp.view_apitoken",
            order=80,
            current="api_tokens",
        )
        register_nav(
            "Settings", "API docs", "api-docs", lambda user: has_role(user, MANAGER), order=90
        )

        register_demo_seeder("approval-thresholds", _seed_approval_policies)
        # Infrastructure, not business logic: keep role groups in step with the code.
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="erp-sync-roles")
        register_demo_seeder("api-tokens", seed_api_tokens)
