"""The dashboards in the back office: who sees which, tiles and bars that lead to the
orders behind the figure, the KPI table and its CSV, filters in the URL, thresholds."""

import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from insight.models import KpiThreshold
from insight.services.facts import refresh_facts
from tests.insight.builders import at, order
from tests.insight.conftest import WEEKS_QUERY

pytestmark = pytest.mark.django_db


def dashboard(client, user, role, query=WEEKS_QUERY):
    client.force_login(user)
    return client.get(f"{reverse('insight:dashboard', args=[role])}?{query}")


@pytest.mark.parametrize(
    ("user_fixture", "allowed", "refused"),
    [
        ("warehouse_user", ["warehouse"], ["cs", "manager", "finance"]),
        ("cs_user", ["cs"], ["warehouse", "manager", "finance"]),
        ("finance_user", ["finance"], ["warehouse", "cs", "manager"]),
        ("manager", ["warehouse", "cs", "manager", "finance"], []),
    ],
)
def test_each_role_sees_its_own_dashboard(client, request, user_fixture, allowed, refused):
    user = request.getfixturevalue(user_fixture)
    for role in allowed:
        assert dashboard(client, user, role).status_code == 200
    for role in refused:
        assert dashboard(client, user, role).status_code == 403


def test_the_warehouse_dashboard_shows_warehouse_kpis_only(client, warehouse_user, world):
    page = dashboard(client, warehouse_user, "warehouse").content.decode()
    assert 'data-kpi="fill_rate"' in page and 'data-kpi="ship_cycle_time"' in page
    assert 'data-kpi="cancellation_rate"' not in page


def test_integration_accounts_do_not_open_the_back_office(client, integration_user, world):
    assert dashboard(client, integration_user, "manager").status_code == 403


def test_the_insight_home_opens_the_persons_own_dashboard(client, cs_user):
    client.force_login(cs_user)
    response = client.get(f"{reverse('insight:home')}?channel=AMZ")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('insight:dashboard', args=['cs'])}?channel=AMZ"


def test_a_tile_leads_to_the_orders_behind_the_figure(client, manager, world):
    page = dashboard(client, manager, "cs", f"{WEEKS_QUERY}&channel=AMZ").content.decode()
    tile = re.search(r'class="tile[^"]*" href="([^"]+)" data-kpi="cancellation_rate"', page)
    url = tile.group(1).replace("&amp;", "&")
    assert url == "/orders/?channel=AMZ&placed_from=2026-11-02&placed_to=2026-11-15&state=cancelled"
    orders = client.get(url).content.decode()
    assert world["cancelled"].external_id in orders
    assert world["on_time"].external_id not in orders


def test_a_bar_per_channel_links_to_that_channels_orders(client, manager, world):
    page = dashboard(client, manager, "cs").content.decode()
    bars = re.findall(r'<a href="([^"]+)" class="kpi-bar" data-channel="SHOP"', page)
    assert any("channel=SHOP" in bar and "state=cancelled" in bar for bar in bars)


def test_the_figures_follow_the_filters_in_the_url(client, manager, world):
    page = dashboard(client, manager, "manager", f"{WEEKS_QUERY}&node=WH2").content.decode()
    assert re.search(r'tile-value">50.0 %</span>\s*<span class="tile-label">Cancellation', page)


def test_a_filter_that_does_not_parse_is_said_not_a_500(client, manager, world):
    response = dashboard(client, manager, "manager", "date_from=2026-11-20&date_to=2026-11-01")
    assert response.status_code == 200
    assert "The period ends before it starts." in response.content.decode()


def test_the_dashboard_costs_the_same_queries_for_more_orders(client, manager, world):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert dashboard(client, manager, "manager").status_code == 200
        return len(captured)

    queries()  # the first request of a session also loads what it caches
    before = queries()
    for hour in range(6):
        order(world["on_time"].channel, None, placed=at(1, hour), lines=[])
    refresh_facts(full=True)
    assert queries() == before


def test_the_kpi_table_exports_as_csv_with_the_filters_on_screen(client, manager, world):
    client.force_login(manager)
    url = f"{reverse('insight:kpi-csv', args=['fill_rate'])}?{WEEKS_QUERY}&by=family"
    response = client.get(url)
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode().splitlines()
    assert body == [
        "SKU family,numerator,denominator,Fill rate (percent)",
        "hats,3,3,100.0",
        "shoes,2,7,28.6",
    ]
    book = client.get(f"{url}&export=xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(book.streaming_content))).active
    assert [[cell.value for cell in row] for row in sheet.iter_rows()] == [
        ["SKU family", "numerator", "denominator", "Fill rate (percent)"],
        ["hats", 3, 3, 100],
        ["shoes", 2, 7, 28.6],
    ]
    table = client.get(f"{reverse('insight:kpi', args=['fill_rate'])}?{WEEKS_QUERY}&by=node")
    assert table.status_code == 200 and "WH1" in table.content.decode()


def test_a_kpi_outside_the_roles_dashboards_is_refused(client, warehouse_user, world):
    client.force_login(warehouse_user)
    assert client.get(reverse("insight:kpi", args=["cancellation_rate"])).status_code == 403
    assert client.get(reverse("insight:kpi-csv", args=["cancellation_rate"])).status_code == 403
    assert client.get(reverse("insight:kpi", args=["no_such_kpi"])).status_code == 404


def test_a_manager_changes_a_threshold_with_a_reason_and_it_keeps_history(client, manager):
    client.force_login(manager)
    url = reverse("insight:thresholds")
    refused = client.post(url, {"key": "fill_rate", "value": "90", "direction": "below"})
    assert refused.status_code == 400
    assert "This field is required." in refused.content.decode()
    assert not KpiThreshold.objects.exists()

    saved = client.post(
        url,
        {"key": "fill_rate", "value": "90", "direction": "below", "active": "on", "reason": "Q4"},
    )
    assert saved.status_code == 302
    threshold = KpiThreshold.objects.get(key="fill_rate")
    record = threshold.history.get()
    assert (record.history_user, record.history_change_reason) == (manager, "Q4")
    page = client.get(url).content.decode()
    assert "Q4" in page and "Alert when below 90.00" in page


def test_customer_service_reads_thresholds_but_may_not_change_them(client, cs_user):
    client.force_login(cs_user)
    url = reverse("insight:thresholds")
    assert client.get(url).status_code == 200
    posted = client.post(
        url, {"key": "fill_rate", "value": "90", "direction": "below", "reason": "x"}
    )
    assert posted.status_code == 403
    assert not KpiThreshold.objects.exists()
