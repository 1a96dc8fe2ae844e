"""The KPI API: the dashboards' figures with the same filters, for BI tools."""

import pytest
from django.urls import reverse

from tests.conftest import token_client
from tests.insight.conftest import WEEKS_QUERY

pytestmark = pytest.mark.django_db


def test_an_integration_lists_every_kpi_with_its_formula(api):
    body = api.get(reverse("insight-kpis")).json()
    keys = {row["key"] for row in body}
    assert {"release_time", "fill_rate", "return_rate", "oversell_rate"} <= keys
    fill = next(row for row in body if row["key"] == "fill_rate")
    assert fill["formula"].startswith("Units shipped ÷ units ordered")
    assert "family" in fill["breakdowns"]


def test_a_kpi_with_filters_and_a_breakdown(api, world):
    url = f"{reverse('insight-kpi', args=['cancellation_rate'])}?{WEEKS_QUERY}&by=channel"
    body = api.get(url).json()
    assert body["value"] == "20.0"
    assert body["rows"] == [
        {"key": "AMZ", "numerator": "1", "denominator": "3", "value": "33.3"},
        {"key": "SHOP", "numerator": "0", "denominator": "2", "value": "0.0"},
    ]
    on_node = api.get(
        f"{reverse('insight-kpi', args=['cancellation_rate'])}?{WEEKS_QUERY}&node=WH2"
    ).json()
    assert on_node["value"] == "50.0" and on_node["filters"]["node"] == "WH2"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("date_from=yesterday", "date_from"),
        ("date_from=2026-11-10&date_to=2026-11-01", "date_to"),
        ("channel=NOPE", "channel"),
        ("by=family", "by"),
    ],
)
def test_bad_filters_are_refused_field_by_field(api, world, query, field):
    response = api.get(f"{reverse('insight-kpi', args=['cancellation_rate'])}?{query}")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field


def test_an_unknown_kpi_is_not_found(api):
    assert api.get(reverse("insight-kpi", args=["nope"])).status_code == 404


def test_a_role_reads_only_the_kpis_of_its_dashboards(warehouse_user, world):
    client = token_client(warehouse_user)
    assert client.get(reverse("insight-kpi", args=["fill_rate"])).status_code == 200
    assert client.get(reverse("insight-kpi", args=["cancellation_rate"])).status_code == 403
    keys = {row["key"] for row in client.get(reverse("insight-kpis")).json()}
    assert "fill_rate" in keys and "cancellation_rate" not in keys


def test_the_schema_describes_the_kpi_endpoints(api):
    schema = api.get(reverse("api-schema"), {"format": "json"}).json()
    assert "/api/v1/insight/kpis/{key}/" in schema["paths"]
    parameters = {
        p["name"] for p in schema["paths"]["/api/v1/insight/kpis/{key}/"]["get"]["parameters"]
    }
    assert {"date_from", "date_to", "channel", "node", "family", "by"} <= parameters
