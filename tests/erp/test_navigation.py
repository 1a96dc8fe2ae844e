"""The main navigation and the order page's cross-app actions come from registries: each
role sees exactly the entries its permissions allow, and neither base.html nor the
orders templates name another app's URL."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from erp import navigation
from erp.navigation import register_nav, sections_for, unregister_nav
from orders.page_actions import actions_for
from tests.factories import OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

SETTINGS = [
    "All settings",
    "SKUs",
    "Locations",
    "Channels",
    "Listings",
    "Order policies",
    "Shipping zones",
    "Shipping rates",
    "Drop-ship sources",
    "Substitution rules",
    "Return policies",
    "Return reasons",
    "Approval thresholds",
]
OPERATIONS = ["Dashboard", "Exceptions", "Approvals", "Orders", "Returns", "Availability"]
EVERYONE = {
    "Operations": OPERATIONS,
    "Warehouse": ["Fulfillment", "Stock", "Counts", "Transfers"],
    "Purchasing": ["Purchase orders", "Replenishment"],
    "Settings": SETTINGS,
}
WITH_NEW_ORDER = [*OPERATIONS[:4], "New order", *OPERATIONS[4:]]
KPIS = ["Dashboards", "KPI thresholds"]
EXPECTED = {
    "warehouse": {**EVERYONE, "Insight": KPIS},
    "customer_service": {**EVERYONE, "Operations": WITH_NEW_ORDER, "Insight": KPIS},
    "buyer": {**EVERYONE, "Insight": KPIS},  # the supplier figures
    "finance": {
        **EVERYONE,
        "Finance": ["Journal", "Settlements"],
        "Insight": [*KPIS, "Sync health"],
    },
    "manager": {
        **EVERYONE,
        "Operations": WITH_NEW_ORDER,
        "Finance": ["Journal", "Settlements"],
        "Insight": [*KPIS, "Sync health"],
        "Settings": [*SETTINGS, "API tokens", "API docs"],
    },
}


def shown(user) -> dict[str, list[str]]:
    return {section.name: [link.label for link in section.links] for section in sections_for(user)}


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_each_role_sees_exactly_the_entries_it_may_open(role_groups, role, client):
    user = UserFactory(username=f"nav-{role}", roles=[role])
    assert shown(user) == EXPECTED[role]
    assert list(shown(user)) == [s for s in navigation.SECTIONS if s in EXPECTED[role]]
    client.force_login(user)
    html = client.get(reverse("dashboard")).content.decode()
    nav = html[html.index('<nav class="mainnav"') : html.index("</nav>")]
    labels = re.findall(r'<a href="[^"]+"[^>]*>([^<]+)</a>', nav)
    in_order = [s for s in navigation.SECTIONS if s in EXPECTED[role]]
    assert labels == [label for name in in_order for label in EXPECTED[role][name]]


def test_every_entry_opens_for_those_who_see_it(manager, client):
    client.force_login(manager)
    for section in sections_for(manager):
        for link in section.links:
            assert client.get(link.url, follow=True).status_code == 200, link.url


def test_the_current_page_is_marked_in_its_section(manager, client):
    client.force_login(manager)
    html = client.get(reverse("orders:list")).content.decode()
    assert re.search(r'<a href="/orders/" aria-current="page">Orders</a>', html)
    assert html.count('aria-current="page"') == 1
    current = re.findall(r"navgroup navgroup-current[^>]*>\s*<summary[^>]*>(\w+)", html)
    assert current == ["Operations"]


def test_registering_an_entry_is_one_line(manager):
    register_nav("Insight", "Queue health", "dashboard", "erp.view_apitoken", current="sync")
    try:
        assert shown(manager)["Insight"][-1] == "Queue health"
    finally:
        unregister_nav("dashboard")
        register_nav("Operations", "Dashboard", "dashboard", order=10, current="dashboard")
    with pytest.raises(ValueError):
        register_nav("Nowhere", "X", "dashboard")


def test_a_user_rendered_navigation_is_cached(manager):
    first = navigation.render_nav(manager, "orders")
    manager = type(manager).objects.get(pk=manager.pk)  # a new request: no cached permissions
    with CaptureQueriesContext(connection) as queries:
        assert navigation.render_nav(manager, "orders") == first
    assert len(queries) == 0


def test_a_role_change_shows_in_the_navigation_at_once(role_groups):
    user = UserFactory(username="nav-promoted", roles=["warehouse"])
    assert "Finance" not in shown(user)
    assert "API tokens" not in navigation.render_nav(user, "")
    user.groups.add(*type(user.groups.first()).objects.filter(name="manager"))
    user = type(user).objects.get(pk=user.pk)
    assert "API tokens" in navigation.render_nav(user, "")


# --- templates name no other app's URLs -------------------------------------------------

URL_TAG = re.compile(r"{%\s*url\s+['\"]([^'\"]+)['\"]")


def _url_names(paths) -> dict[str, set[str]]:
    return {str(path): set(URL_TAG.findall(Path(path).read_text())) for path in paths}


def _url_apps() -> dict[str, str]:
    """Every URL name (with its namespace) → the app whose view answers it."""
    from django.urls import URLPattern, URLResolver, get_resolver

    apps = {}

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace
                walk(pattern.url_patterns, f"{namespace}{inner}:" if inner else namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                view = getattr(pattern.callback, "view_class", pattern.callback)
                apps[namespace + pattern.name] = view.__module__.split(".", 1)[0]

    walk(get_resolver().url_patterns, "")
    return apps


def _app_of(url_name: str) -> str:
    return _url_apps()[url_name]


def test_base_template_names_only_the_core_urls():
    base = Path(settings.BASE_DIR) / "templates" / "base.html"
    names = _url_names([base])[str(base)]
    assert names  # the check reads the file
    foreign = {name: _app_of(name) for name in names if _app_of(name) not in ("erp", "django")}
    assert foreign == {}
    text = base.read_text()
    for app in ("orders", "inventory", "fulfillment", "returns", "purchasing", "finance"):
        assert f"{app}:" not in text and f"perms.{app}" not in text


def test_orders_templates_name_no_url_of_an_app_above_them():
    """The orders app may link to itself and to erp (which it imports), never to
    fulfillment, returns, purchasing, finance or insight: those register their actions."""
    folder = Path(settings.BASE_DIR) / "orders" / "templates"
    paths = list(folder.rglob("*.html"))
    assert len(paths) > 10
    foreign = {}
    for path, names in _url_names(paths).items():
        for name in names:
            if _app_of(name) not in ("orders", "erp", "inventory"):
                foreign.setdefault(path, set()).add(name)
        text = Path(path).read_text()
        for app in ("fulfillment", "returns", "purchasing", "finance", "insight"):
            if f'"{app}/' in text or f"'{app}/" in text:
                foreign.setdefault(path, set()).add(f"includes {app} templates")
    assert foreign == {}


# --- the order page's registered actions ------------------------------------------------


def test_create_rma_is_offered_on_a_shipped_order_to_those_who_may(manager, cs_user, client):
    order = OrderFactory(state="shipped")
    assert [a.key for a in actions_for(manager, order)] == ["create-rma"]
    assert actions_for(manager, order)[0].url == f"{reverse('returns:create')}?order={order.pk}"
    client.force_login(cs_user if cs_user.has_perm("returns.add_rma") else manager)
    page = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert f'id="create-rma" href="/returns/new/?order={order.pk}"' in page


def test_no_rma_action_before_shipping_or_without_the_permission(manager, warehouse_user):
    assert actions_for(manager, OrderFactory(state="released")) == []
    shipped = OrderFactory(state="shipped")
    assert warehouse_user.has_perm("returns.add_rma") is bool(actions_for(warehouse_user, shipped))
