"""Scoped API tokens: stored hashed and shown once, scoped by area and channel, rotated
and revoked with history, counted off the hot path; legacy DRF tokens keep working."""

import hashlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from erp import token_usage
from erp.api.permissions import TokenScopePermission
from erp.errors import NotPermitted, ValidationFailed
from erp.models import ApiToken
from erp.services import api_tokens as services
from tests.factories import ChannelFactory, ChannelListingFactory, SkuFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(db):
    return ChannelFactory(code="WEB")


@pytest.fixture
def amz(db):
    return ChannelFactory(code="AMZ")


def client_for(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def issue(manager, channels, areas, **kwargs):
    return services.create_api_token(
        actor=manager, name="Web connector", areas=areas, channels=channels, **kwargs
    )


# --- creation, storage, history --------------------------------------------------------


def test_a_token_is_stored_as_the_hash_of_its_key_and_shown_once(manager, web):
    issued = issue(manager, [web], {"orders": "write"})

    token = ApiToken.objects.get()
    assert issued.key.startswith(token.prefix) and token.prefix.startswith("erp_")
    assert len(issued.key) > 40
    assert token.key_hash == hashlib.sha256(issued.key.encode()).hexdigest()
    assert issued.key not in str(ApiToken.objects.values().get())
    assert token.user.groups.filter(name="integration").exists()
    assert not token.user.has_usable_password()


def test_creating_needs_the_manager_role(cs_user, web):
    with pytest.raises(NotPermitted):
        issue(cs_user, [web], {"orders": "write"})
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    ("areas", "channels", "field"),
    [
        ({}, "web", "areas"),
        ({"orders": "none"}, "web", "areas"),
        ({"orders": "admin"}, "web", "areas.orders"),
        ({"payroll": "read"}, "web", "areas.payroll"),
        ({"orders": "write"}, None, "channels"),
    ],
)
def test_a_scope_that_grants_nothing_or_names_no_channel_is_refused(
    manager, web, areas, channels, field
):
    with pytest.raises(ValidationFailed) as refused:
        issue(manager, [web] if channels else [], areas)
    assert field in {error.field for error in refused.value.errors}
    assert not ApiToken.objects.exists()


def test_every_change_is_in_the_history_with_its_actor_and_reason(manager, web, amz):
    token = issue(manager, [web], {"orders": "write"}).token
    services.change_api_token_scope(
        token=token,
        actor=manager,
        name="Web connector",
        areas={"orders": "write", "inventory": "read"},
        channels=[web, amz],
        all_channels=False,
        reason="also reads stock",
    )
    services.rotate_api_token(token=token, actor=manager, reason="leaked in a log")
    services.revoke_api_token(token=token, actor=manager, reason="connector retired")

    history = list(token.history.order_by("history_date", "history_id"))
    reasons = [h.history_change_reason for h in history]
    assert {"created", "also reads stock", "leaked in a log", "connector retired"} <= set(reasons)
    assert {h.history_user for h in history} == {manager}
    scoped = next(h for h in history if h.history_change_reason == "also reads stock")
    assert scoped.areas == {"inventory": "read", "orders": "write"}
    assert history[-1].revoked_at is not None


def test_a_change_without_a_reason_is_refused(manager, web):
    token = issue(manager, [web], {"orders": "write"}).token
    with pytest.raises(ValidationFailed) as refused:
        services.revoke_api_token(token=token, actor=manager, reason=" ")
    assert refused.value.errors[0].field == "reason"
    token.refresh_from_db()
    assert token.revoked_at is None


# --- authentication: hashed lookup, cached, revocation at once --------------------------


def test_a_scoped_token_reads_its_area(manager, web):
    key = issue(manager, [web], {"master_data": "read"}).key
    assert client_for(key).get("/api/v1/skus/").status_code == 200


def test_a_cached_scoped_token_authenticates_without_a_query(manager, web):
    client = client_for(issue(manager, [web], {"master_data": "read"}).key)
    assert client.get("/api/v1/skus/").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/skus/").status_code == 200
    assert not any("erp_apitoken" in q["sql"] for q in queries.captured_queries)


def test_a_revoked_token_is_refused_on_the_next_request(manager, web):
    issued = issue(manager, [web], {"master_data": "read"})
    client = client_for(issued.key)
    assert client.get("/api/v1/skus/").status_code == 200
    services.revoke_api_token(token=issued.token, actor=manager, reason="retired")
    assert client.get("/api/v1/skus/").status_code == 401


def test_rotating_replaces_the_key_at_once(manager, web):
    issued = issue(manager, [web], {"master_data": "read"})
    old = client_for(issued.key)
    assert old.get("/api/v1/skus/").status_code == 200
    rotated = services.rotate_api_token(token=issued.token, actor=manager, reason="yearly")

    assert old.get("/api/v1/skus/").status_code == 401
    assert client_for(rotated.key).get("/api/v1/skus/").status_code == 200
    assert rotated.token.prefix != issued.token.prefix


def test_a_key_of_the_right_shape_but_unknown_is_refused(manager, web):
    issued = issue(manager, [web], {"master_data": "read"})
    forged = issued.key[:-1] + ("A" if issued.key[-1] != "A" else "B")
    assert client_for(forged).get("/api/v1/skus/").status_code == 401


def test_a_legacy_token_keeps_full_scope(api, web):
    assert api.get("/api/v1/skus/").status_code == 200
    assert api.get("/api/v1/channels/WEB/").status_code == 200


# --- scope: areas, read-only, channels -------------------------------------------------


def test_an_area_outside_the_scope_is_refused(manager, web):
    client = client_for(issue(manager, [web], {"orders": "write"}).key)
    response = client.get("/api/v1/skus/")
    assert response.status_code == 403
    assert "master data" in response.json()["errors"][0]["message"]


def test_a_read_only_area_refuses_writes_and_writes_nothing(manager, web):
    client = client_for(issue(manager, [web], {"master_data": "read"}).key)
    response = client.post("/api/v1/skus/", {"code": "NEW-1", "name": "New"}, format="json")
    assert response.status_code == 403
    assert "only read" in response.json()["errors"][0]["message"]
    from erp.models import Sku

    assert not Sku.objects.filter(code="NEW-1").exists()


def test_channel_settings_of_another_channel_are_out_of_reach(manager, web, amz):
    client = client_for(issue(manager, [web], {"master_data": "write"}).key)
    assert client.get("/api/v1/channels/WEB/").status_code == 200
    assert client.get("/api/v1/channels/AMZ/").status_code == 403
    refused = client.patch("/api/v1/channels/AMZ/", {"name": "Taken"}, format="json")
    assert refused.status_code == 403
    amz.refresh_from_db()
    assert amz.name != "Taken"
    assert [c["code"] for c in client.get("/api/v1/channels/").json()["results"]] == ["WEB"]


def test_a_listing_cannot_be_created_on_another_channel(manager, web, amz):
    sku = SkuFactory(code="TEE")
    client = client_for(issue(manager, [web], {"master_data": "write"}).key)
    body = {"channel": "AMZ", "sku": "TEE", "channel_sku": "T-1"}
    response = client.post("/api/v1/listings/", body, format="json")
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "channel_out_of_scope"
    ok = client.post("/api/v1/listings/", {**body, "channel": "WEB"}, format="json")
    assert ok.status_code == 201, ok.json()
    assert list(sku.listings.values_list("channel__code", flat=True)) == ["WEB"]


def test_lists_show_only_the_token_channels_records(manager, web, amz):
    ChannelListingFactory(channel=web, channel_sku="W-1")
    ChannelListingFactory(channel=amz, channel_sku="A-1")
    client = client_for(issue(manager, [web], {"master_data": "read"}).key)
    rows = client.get("/api/v1/listings/").json()["results"]
    assert [row["channel_sku"] for row in rows] == ["W-1"]


def test_an_all_channel_token_sees_every_channel(manager, web, amz):
    key = issue(manager, [], {"master_data": "read"}, all_channels=True).key
    codes = {c["code"] for c in client_for(key).get("/api/v1/channels/").json()["results"]}
    assert codes == {"WEB", "AMZ"}


def test_every_api_view_checks_the_token_scope():
    """No API view can leave the scope check out: each permission class derives from it."""
    unchecked, checked = [], []

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
                continue
            if not isinstance(pattern, URLPattern):
                continue
            view = getattr(pattern.callback, "cls", None)
            path = prefix + str(pattern.pattern)
            if view is None or not path.startswith("api/v1/"):
                continue
            initkwargs = getattr(pattern.callback, "initkwargs", {}) or {}
            classes = initkwargs.get("permission_classes", view.permission_classes)
            for action in (getattr(pattern.callback, "actions", None) or {}).values():
                extra = getattr(getattr(view, action, None), "kwargs", {}).get("permission_classes")
                classes = list(classes) + list(extra or [])
            checked.append(path)
            if not all(issubclass(cls, TokenScopePermission) for cls in classes):
                unchecked.append(path)

    walk(get_resolver().url_patterns)
    assert unchecked == []
    assert len(checked) > 50  # the walk reached every app's API


# --- usage counts ----------------------------------------------------------------------


def test_requests_are_counted_in_the_cache_and_flushed_to_the_row(manager, web):
    issued = issue(manager, [web], {"master_data": "read"})
    client = client_for(issued.key)
    for _ in range(3):
        client.get("/api/v1/skus/")
    token = ApiToken.objects.get()
    assert (token.request_count, token.last_used_at) == (0, None)  # no write per request

    assert token_usage.flush_token_usage() == 3
    token.refresh_from_db()
    assert token.request_count == 3 and token.last_used_at is not None
    client.get("/api/v1/skus/")
    token_usage.flush_token_usage()
    token.refresh_from_db()
    assert token.request_count == 4
    assert token_usage.flush_token_usage() == 0
