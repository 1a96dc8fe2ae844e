"""Token authentication is cached between requests, and revoking access applies at once."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

URL = "/api/v1/skus/"


def test_a_cached_token_authenticates_without_a_query(api):
    assert api.get(URL).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert api.get(URL).status_code == 200
    assert not any("authtoken_token" in q["sql"] for q in queries.captured_queries)


def test_a_deleted_token_is_refused_on_the_next_request(api, integration_user):
    assert api.get(URL).status_code == 200
    Token.objects.filter(user=integration_user).delete()
    assert api.get(URL).status_code == 401


def test_a_deactivated_user_is_refused_on_the_next_request(api, integration_user):
    assert api.get(URL).status_code == 200
    integration_user.is_active = False
    integration_user.save()
    assert api.get(URL).status_code == 401


def test_an_unknown_token_is_refused():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get(URL).status_code == 401
