from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender, **kwargs):
    from erp.roles import sync_role_groups

    sync_role_groups()


class ErpConfig(AppConfig):
    name = "erp"
    verbose_name = "ERP core"

    def ready(self):
        from erp import auth_backends, exception_queues  # noqa: F401  signals, core queues

        # Infrastructure, not business logic: keep role groups in step with the code.
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="erp-sync-roles")
