"""What the KPI side of insight registers at start-up: role permissions, and the digest's
"KPIs past threshold" section when the digest exists."""

from erp import roles

DASHBOARD_PERMISSIONS = {
    "warehouse": "insight.view_warehouse_dashboard",
    "cs": "insight.view_cs_dashboard",
    "manager": "insight.view_manager_dashboard",
    "finance": "insight.view_finance_dashboard",
    "buyer": "insight.view_buyer_dashboard",
}
_THRESHOLDS = {"insight.view_kpithreshold"}


def register() -> None:
    from insight.kpis import tasks  # noqa: F401  registers the refresh task with Celery

    roles.register_role_permissions(
        roles.WAREHOUSE, {DASHBOARD_PERMISSIONS["warehouse"], *_THRESHOLDS}
    )
    roles.register_role_permissions(
        roles.CUSTOMER_SERVICE, {DASHBOARD_PERMISSIONS["cs"], *_THRESHOLDS}
    )
    roles.register_role_permissions(roles.FINANCE, {DASHBOARD_PERMISSIONS["finance"], *_THRESHOLDS})
    # Buyers follow their suppliers' on-time and fill rates.
    roles.register_role_permissions(roles.BUYER, {DASHBOARD_PERMISSIONS["buyer"], *_THRESHOLDS})
    # Managers run the business from every figure and keep the thresholds; integrations
    # (BI tools) read every KPI through the API.
    roles.register_role_permissions(
        roles.MANAGER,
        {*DASHBOARD_PERMISSIONS.values(), *_THRESHOLDS, "insight.change_kpithreshold"},
    )
    roles.register_role_permissions(
        roles.INTEGRATION, {*DASHBOARD_PERMISSIONS.values(), *_THRESHOLDS}
    )
    _register_digest_section()


def _register_digest_section() -> None:
    try:
        from insight.digest import register_digest_section
    except ImportError:
        return
    from insight.kpis.thresholds import digest_lines

    register_digest_section("kpis_past_threshold", "KPIs past threshold", digest_lines)


def may_see_dashboards(user) -> bool:
    """Whether the person has any KPI dashboard (the navigation's Insight entry)."""
    return any(user.has_perm(permission) for permission in DASHBOARD_PERMISSIONS.values())


def may_read(user, kpi) -> bool:
    """A KPI is readable by whoever may see a dashboard that shows it (managers and
    integrations see every dashboard)."""
    slugs = {"manager"} | {
        slug
        for slug, role in (
            ("warehouse", roles.WAREHOUSE),
            ("cs", roles.CUSTOMER_SERVICE),
            ("finance", roles.FINANCE),
            ("buyer", roles.BUYER),
        )
        if role in kpi.roles
    }
    return any(user.has_perm(DASHBOARD_PERMISSIONS[slug]) for slug in slugs)
