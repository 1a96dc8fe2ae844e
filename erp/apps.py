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

        register_demo_seeder("approval-thresholds", _seed_approval_policies)
        # Infrastructure, not business logic: keep role groups in step with the code.
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="erp-sync-roles")
