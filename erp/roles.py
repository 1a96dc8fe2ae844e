"""Roles are Django groups; services check permissions through `require_permission`.

The API and the back office call the same services, so both enforce the same rules.
"""

from django.contrib.auth.models import Group, Permission

from erp.errors import NotPermitted

WAREHOUSE = "warehouse"
CUSTOMER_SERVICE = "customer_service"
MANAGER = "manager"
FINANCE = "finance"
INTEGRATION = "integration"
BUYER = "buyer"
ALL_ROLES = [WAREHOUSE, CUSTOMER_SERVICE, MANAGER, FINANCE, INTEGRATION, BUYER]

_MASTER_DATA = ["sku", "location", "channel", "channellisting"]
_VIEW_MASTER_DATA = [f"erp.view_{model}" for model in _MASTER_DATA]
_EDIT_MASTER_DATA = [
    f"erp.{action}_{model}" for model in _MASTER_DATA for action in ("add", "change")
]
# Approval thresholds: managers change them, the other back-office roles read them.
_VIEW_SETTINGS = {"erp.view_approvalpolicy"}
_EDIT_SETTINGS = {"erp.change_approvalpolicy"}

# Other apps extend this mapping with their own permissions (see register_role_permissions).
# People who work exception queues claim and release their items; managers also assign
# them to others and set each queue's SLA.
_WORK_QUEUES = {"erp.add_queueclaim", "erp.view_queuesla"}
ROLE_PERMISSIONS: dict[str, set[str]] = {
    WAREHOUSE: {*_VIEW_MASTER_DATA, *_WORK_QUEUES, *_VIEW_SETTINGS},
    CUSTOMER_SERVICE: {*_VIEW_MASTER_DATA, *_WORK_QUEUES, *_VIEW_SETTINGS},
    MANAGER: {
        *_VIEW_MASTER_DATA,
        *_EDIT_MASTER_DATA,
        *_WORK_QUEUES,
        *_VIEW_SETTINGS,
        *_EDIT_SETTINGS,
        "erp.assign_queueclaim",
        "erp.change_queuesla",
        "erp.view_outboxmessage",
        "erp.change_outboxmessage",
        "erp.view_apitoken",
        "erp.add_apitoken",
        "erp.change_apitoken",
    },
    FINANCE: {*_VIEW_MASTER_DATA, *_WORK_QUEUES, *_VIEW_SETTINGS, "erp.view_outboxmessage"},
    INTEGRATION: {*_VIEW_MASTER_DATA, *_EDIT_MASTER_DATA},
    BUYER: {*_VIEW_MASTER_DATA, *_WORK_QUEUES, *_VIEW_SETTINGS},
}


def register_role_permissions(role: str, permissions: set[str]) -> None:
    ROLE_PERMISSIONS[role] |= set(permissions)


def sync_role_groups() -> None:
    """Create the role groups and give each exactly its permissions (idempotent)."""
    wanted = {perm for perms in ROLE_PERMISSIONS.values() for perm in perms}
    by_name = {
        f"{perm.content_type.app_label}.{perm.codename}": perm
        for perm in Permission.objects.select_related("content_type").filter(
            codename__in={name.split(".", 1)[1] for name in wanted}
        )
    }
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set([by_name[name] for name in perms if name in by_name])


def user_roles(user) -> set[str]:
    if not user or not user.is_authenticated:
        return set()
    cached = getattr(user, "_erp_roles", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._erp_roles = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles)) or bool(user and user.is_superuser)


def require_permission(actor, permission: str, *, action: str = "do this") -> None:
    """Raise NotPermitted unless `actor` holds `permission` (app_label.codename)."""
    if actor is None or not actor.is_authenticated or not actor.is_active:
        raise NotPermitted(f"You must be signed in to {action}.")
    if not actor.has_perm(permission):
        raise NotPermitted(f"Your role may not {action}.", code="permission_denied")


SYSTEM_USERNAME = "system"


def system_actor():
    """The account scheduled jobs act as, so every ledger entry and timeline row names an
    actor. It holds every permission and can never sign in (no usable password)."""
    from django.contrib.auth import get_user_model

    user, created = get_user_model().objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={"first_name": "System", "is_superuser": True, "is_active": True},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user
