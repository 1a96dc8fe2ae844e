"""Settlements over HTTP: the API (upload, re-upload, bad file, lines, variances accept and
dispute, query counts) and the back office (upload → import job → detail, the queue's
accept/dispute row actions, permissions)."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from finance.models import (
    ImportState,
    Settlement,
    SettlementImport,
    SettlementVariance,
    VarianceKind,
    VarianceState,
)
from tests.conftest import token_client
from tests.factories.erp import ChannelFactory
from tests.factories.settlements import booked_order, fixture

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db):
    return ChannelFactory(code="SHOP", kind="shopify", fee_rate=D("0.0320"))


@pytest.fixture
def amazon(db):
    return ChannelFactory(code="AMZ", kind="amazon", fee_rate=D("0.15"))


@pytest.fixture
def finance_api(finance_user):
    return token_client(finance_user)


def _upload(client, channel, name, data=None):
    return client.post(
        "/api/v1/finance/settlements/",
        {"channel": channel.code, "file": SimpleUploadedFile(name, data or fixture(name))},
        format="multipart",
    )


def test_api_upload_then_again_then_lines(finance_api, shop):
    booked_order(shop, "5841237409851", sale="102.14", fee="3.26")
    first = _upload(finance_api, shop, "shopify_balance_transactions.json")
    assert first.status_code == 201, first.content
    body = first.json()
    assert (body["external_id"], body["total_amount"], body["currency"]) == (
        "623721858",
        "143.52",
        "USD",
    )
    again = _upload(finance_api, shop, "shopify_balance_transactions.json")
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert Settlement.objects.count() == 1
    lines = finance_api.get(f"/api/v1/finance/settlements/{body['id']}/lines/?type=fee")
    assert lines.status_code == 200
    assert [(row["type"], row["amount"]) for row in lines.json()["results"]] == [
        ("fee", "-3.26"),
        ("fee", "-1.90"),
    ]
    listed = finance_api.get("/api/v1/finance/settlements/?channel=SHOP")
    assert [row["id"] for row in listed.json()["results"]] == [body["id"]]


def test_api_bad_file_is_a_400_naming_the_line(finance_api, amazon):
    data = fixture("amazon_settlement_v2.tsv").replace(b"\t-3.00\t", b"\t-3,00\t")
    response = _upload(finance_api, amazon, "amazon.tsv", data)
    assert response.status_code == 400
    assert "Line 14: amount '-3,00' has a decimal comma" in response.content.decode()
    assert not Settlement.objects.exists()


def test_api_variances_accept_and_dispute(finance_api, shop, integration_user):
    _upload(finance_api, shop, "shopify_balance_transactions.json")
    listed = finance_api.get("/api/v1/finance/settlement-variances/?state=open")
    assert listed.status_code == 200
    rows = listed.json()["results"]
    assert {row["kind"] for row in rows} == {VarianceKind.UNMATCHED_ORDER}
    first, second, third = (row["id"] for row in rows)
    refused = finance_api.post(f"/api/v1/finance/settlement-variances/{first}/accept/", {})
    assert refused.status_code == 400
    accepted = finance_api.post(
        f"/api/v1/finance/settlement-variances/{first}/accept/", {"note": "written off"}
    )
    assert accepted.status_code == 200 and accepted.json()["state"] == "accepted"
    assert accepted.json()["journal_entry"]
    disputed = finance_api.post(
        f"/api/v1/finance/settlement-variances/{second}/dispute/",
        {"note": "claim"},
        HTTP_IDEMPOTENCY_KEY="dispute-1",
    )
    replay = finance_api.post(
        f"/api/v1/finance/settlement-variances/{second}/dispute/",
        {"note": "claim"},
        HTTP_IDEMPOTENCY_KEY="dispute-1",
    )
    assert disputed.status_code == replay.status_code == 200
    assert replay["Idempotent-Replayed"] == "true"
    # An integration may upload but not decide.
    integration = token_client(integration_user)
    assert (
        integration.post(
            f"/api/v1/finance/settlement-variances/{third}/accept/", {"note": "x"}
        ).status_code
        == 403
    )
    assert (
        finance_api.post(
            "/api/v1/finance/settlement-variances/999999/accept/", {"note": "x"}
        ).status_code
        == 404
    )


def test_api_lists_do_not_grow_in_queries(finance_api, shop, amazon, django_assert_max_num_queries):
    _upload(finance_api, shop, "shopify_balance_transactions.json")
    _upload(finance_api, amazon, "amazon_settlement_v2.tsv")
    with django_assert_max_num_queries(6):
        assert finance_api.get("/api/v1/finance/settlements/").status_code == 200
    with django_assert_max_num_queries(6):
        assert finance_api.get("/api/v1/finance/settlement-variances/").status_code == 200
    settlement = Settlement.objects.get(channel=amazon)
    with django_assert_max_num_queries(6):
        assert (
            finance_api.get(f"/api/v1/finance/settlements/{settlement.pk}/lines/").status_code
            == 200
        )


def test_back_office_upload_runs_the_import_and_shows_the_settlement(client, finance_user, amazon):
    client.force_login(finance_user)
    page = client.get(reverse("settlements:list"))
    assert page.status_code == 200 and b"Upload a settlement" in page.content
    with pytest.MonkeyPatch.context():
        response = client.post(
            reverse("settlements:upload"),
            {
                "channel": amazon.pk,
                "file": SimpleUploadedFile("amazon.tsv", fixture("amazon_settlement_v2.tsv")),
            },
        )
    job = SettlementImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("settlements:import", args=[job.pk])
    # The test transaction never commits: run what on_commit would have queued.
    from finance.services.settlements import run_import

    job = run_import(job.pk)
    assert job.state == ImportState.DONE and job.percent == 100
    progress = client.get(reverse("settlements:import", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert progress["HX-Redirect"] == reverse("settlements:detail", args=[job.settlement_id])
    detail = client.get(reverse("settlements:detail", args=[job.settlement_id]))
    assert detail.status_code == 200
    assert b"REVERSAL_REIMBURSEMENT" in detail.content and b"Orders matched" in detail.content


def test_back_office_failed_import_shows_the_error(client, finance_user, amazon):
    client.force_login(finance_user)
    client.post(
        reverse("settlements:upload"),
        {
            "channel": amazon.pk,
            "file": SimpleUploadedFile(
                "amazon.tsv", fixture("amazon_settlement_v2.tsv").replace(b"\tUSD\t", b"\tXYZ\t")
            ),
        },
    )
    from finance.services.settlements import run_import

    job = run_import(SettlementImport.objects.get().pk)
    assert job.state == ImportState.FAILED
    page = client.get(reverse("settlements:import", args=[job.pk]))
    assert b"Line 2: unknown currency" in page.content
    assert not Settlement.objects.exists()


def test_queue_row_actions(client, finance_user, shop, warehouse_user):
    from finance.services.settlements import import_settlement

    import_settlement(
        channel=shop,
        source="",
        data=fixture("shopify_balance_transactions.json"),
        actor=finance_user,
    )
    first, second, _ = SettlementVariance.objects.order_by("pk")
    client.force_login(finance_user)
    queue = client.get(reverse("exception-queue", args=["settlement-variances"]))
    assert queue.status_code == 200 and b"Order not found" in queue.content
    row = client.post(
        reverse("settlements:variance-accept", args=[first.pk]),
        {"note": "small"},
        HTTP_HX_REQUEST="true",
    )
    assert row.status_code == 200 and b"Accepted" in row.content
    missing_note = client.post(
        reverse("settlements:variance-dispute", args=[second.pk]), {}, HTTP_HX_REQUEST="true"
    )
    assert b"Say what is disputed" in missing_note.content
    client.post(reverse("settlements:variance-dispute", args=[second.pk]), {"note": "claim"})
    second.refresh_from_db()
    assert second.state == VarianceState.DISPUTED
    client.force_login(warehouse_user)
    assert client.get(reverse("settlements:list")).status_code == 403
    assert (
        client.post(
            reverse("settlements:variance-accept", args=[second.pk]), {"note": "x"}
        ).status_code
        == 403
    )


def test_list_and_detail_queries(client, finance_user, shop, amazon, django_assert_max_num_queries):
    from finance.services.settlements import import_settlement

    for channel, name in (
        (shop, "shopify_balance_transactions.json"),
        (amazon, "amazon_settlement_v2.tsv"),
    ):
        import_settlement(channel=channel, source="", data=fixture(name), actor=finance_user)
    client.force_login(finance_user)
    with django_assert_max_num_queries(14):
        assert client.get(reverse("settlements:list")).status_code == 200
    settlement = Settlement.objects.get(channel=amazon)
    with django_assert_max_num_queries(16):
        assert client.get(reverse("settlements:detail", args=[settlement.pk])).status_code == 200
