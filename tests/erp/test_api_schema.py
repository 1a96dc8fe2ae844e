"""The OpenAPI schema is the contract: valid, and it names every answer the API can give."""

import json
import re

import pytest
from django.core.management import call_command

from tests.factories.fulfillment import CarrierServiceFactory

pytestmark = pytest.mark.django_db

ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}


@pytest.fixture
def schema(api) -> dict:
    return api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


def _operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_the_schema_generates_without_errors_or_warnings(tmp_path):
    target = tmp_path / "schema.json"

    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", "--file", target
    )

    assert json.loads(target.read_text())["paths"]


def test_every_operation_documents_its_error_answers_with_the_shared_error_body(schema):
    missing = []
    for path, method, operation in _operations(schema):
        expected = {"401", "403", "429"}
        if operation.get("parameters") or "requestBody" in operation:
            expected.add("400")
        if "{" in path:
            expected.add("404")
        if method == "post":
            expected |= {"404", "409"}
        if "requestBody" in operation:
            expected.add("415")
        for code in expected:
            response = operation["responses"].get(code)
            body = (response or {}).get("content", {}).get("application/json", {}).get("schema")
            if body != ERROR_REF:
                missing.append(f"{method.upper()} {path} {code}")

    assert missing == []


def test_a_local_time_is_described_without_an_offset_as_it_is_answered(schema, api):
    cutoff = schema["components"]["schemas"]["CarrierService"]["properties"]["cutoff_time"]
    service = CarrierServiceFactory(cutoff_time="14:30")

    answered = api.get(f"/api/v1/carrier-services/{service.pk}/").json()["cutoff_time"]

    assert "format" not in cutoff
    assert answered == "14:30:00"
    assert re.fullmatch(cutoff["pattern"].strip("^$"), answered)


def test_channel_availability_is_described_as_the_page_it_answers(schema):
    operation = schema["paths"]["/api/v1/channels/{code}/availability/"]["get"]
    page = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][page.rsplit("/", 1)[1]]

    assert set(component["properties"]) == {"next", "previous", "results"}
    assert {parameter["name"] for parameter in operation["parameters"]} >= {"cursor", "page_size"}


def test_a_blank_barcode_matches_the_schema_once(schema):
    barcode = schema["components"]["schemas"]["Sku"]["properties"]["barcode"]

    assert "oneOf" not in barcode
    assert {"type": "string", "maxLength": 0} in barcode["anyOf"]


def test_a_shipment_reported_without_a_service_is_described_as_it_is_answered(schema):
    service = schema["components"]["schemas"]["Shipment"]["properties"]["service"]

    assert service["nullable"] is True
