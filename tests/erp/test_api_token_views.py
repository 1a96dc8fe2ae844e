"""The API token screens: a manager creates a token and sees its key once; scope edits,
rotation and revocation ask why; other roles are refused; bad input writes nothing."""

import re

import pytest
from django.urls import reverse

from erp.models import ApiToken
from erp.services.api_tokens import create_api_token
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db

KEY = re.compile(r'id="token-key"[^>]*value="(erp_[^"]+)"')


@pytest.fixture
def web(db):
    return ChannelFactory(code="WEB")


def form_data(channel, **overrides):
    data = {
        "name": "Shop sync",
        "channels": [channel.pk],
        "area_orders": "write",
        "area_inventory": "read",
        **{f"area_{a}": "none" for a in ("fulfillment", "returns", "purchasing", "finance")},
        "area_master_data": "none",
        "area_insight": "none",
        "reason": "",
    }
    data.update(overrides)
    return data


def test_a_manager_creates_a_token_and_sees_its_key_once(client, manager, web):
    client.force_login(manager)
    response = client.post(reverse("api-token-create"), form_data(web), follow=True)
    page = response.content.decode()
    key = KEY.search(page).group(1)
    token = ApiToken.objects.get()
    assert token.areas == {"inventory": "read", "orders": "write"}
    assert list(token.channels.all()) == [web]
    assert "not shown again" in page

    again = client.get(reverse("api-token-detail", args=[token.pk])).content.decode()
    assert key not in again and token.prefix in again
    listing = client.get(reverse("api-token-list")).content.decode()
    assert key not in listing and token.prefix in listing


def test_a_scope_granting_nothing_is_refused_inline(client, manager, web):
    client.force_login(manager)
    data = form_data(web, area_orders="none", area_inventory="none", channels=[])
    page = client.post(reverse("api-token-create"), data).content.decode()
    assert "Nothing was saved" in page
    assert "Choose its channels" in page and "Give the token access" in page
    assert not ApiToken.objects.exists()


def test_other_roles_cannot_open_or_create_tokens(client, cs_user, web):
    client.force_login(cs_user)
    assert client.get(reverse("api-token-list")).status_code == 403
    assert client.post(reverse("api-token-create"), form_data(web)).status_code == 403
    assert not ApiToken.objects.exists()


def test_editing_the_scope_needs_a_reason_and_keeps_history(client, manager, web):
    token = create_api_token(
        actor=manager, name="Shop sync", areas={"orders": "write"}, channels=[web]
    ).token
    client.force_login(manager)
    url = reverse("api-token-edit", args=[token.pk])
    refused = client.post(url, form_data(web, area_orders="read")).content.decode()
    assert "Nothing was saved" in refused
    token.refresh_from_db()
    assert token.areas == {"orders": "write"}

    client.post(url, form_data(web, area_orders="read", reason="read only now"))
    token.refresh_from_db()
    assert token.areas == {"inventory": "read", "orders": "read"}
    detail = client.get(reverse("api-token-detail", args=[token.pk])).content.decode()
    assert "read only now" in detail


def test_rotating_shows_the_new_key_once_and_revoking_ends_it(client, manager, web):
    issued = create_api_token(
        actor=manager, name="Shop sync", areas={"orders": "write"}, channels=[web]
    )
    client.force_login(manager)
    rotated = client.post(
        reverse("api-token-rotate", args=[issued.token.pk]), {"reason": "yearly"}, follow=True
    ).content.decode()
    new_key = KEY.search(rotated).group(1)
    assert new_key != issued.key

    no_reason = client.post(reverse("api-token-revoke", args=[issued.token.pk]), {"reason": ""})
    assert no_reason.status_code == 302
    assert ApiToken.objects.get().revoked_at is None
    client.post(reverse("api-token-revoke", args=[issued.token.pk]), {"reason": "retired"})
    token = ApiToken.objects.get()
    assert token.revoked_at is not None and not token.user.is_active


def test_the_list_shows_usage_and_legacy_tokens(client, manager, web, integration_user):
    from tests.conftest import token_client

    token_client(integration_user)  # a legacy token exists
    issued = create_api_token(
        actor=manager, name="Shop sync", areas={"master_data": "read"}, channels=[web]
    )
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {issued.key}")
    api.get("/api/v1/skus/")
    api.get("/api/v1/skus/")
    client.force_login(manager)
    page = client.get(reverse("api-token-list")).content.decode()
    row = re.search(rf'<tr id="api-token-{issued.token.pk}">.*?</tr>', page, re.S).group(0)
    assert '<td class="num">2</td>' in row
    assert "Legacy tokens" in page and integration_user.username in page
