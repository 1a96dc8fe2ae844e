import os

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from erp import roles
from erp.roles import sync_role_groups
from tests.factories import UserFactory

# CI sets this: tests that need PostgreSQL or Redis then fail instead of skipping.
REQUIRE_SERVICES = os.environ.get("ERP_REQUIRE_SERVICES") == "1"


def pytest_collection_modifyitems(config, items):
    needs = {
        "postgres": connection.vendor == "postgresql",
        "redis": bool(os.environ.get("CELERY_BROKER_URL")),
    }
    for item in items:
        for marker, available in needs.items():
            if item.get_closest_marker(marker) and not available:
                if REQUIRE_SERVICES:
                    raise pytest.UsageError(
                        f"{item.nodeid} needs {marker}, which is not configured (ERP_REQUIRE_SERVICES=1)"
                    )
                else:
                    item.add_marker(
                        pytest.mark.skip(
                            reason=f"needs {marker}: set DATABASE_URL / CELERY_BROKER_URL"
                        )
                    )


@pytest.fixture
def role_groups(db):
    sync_role_groups()


def _user(role):
    return UserFactory(username=f"{role}-user", roles=[role])


@pytest.fixture
def manager(role_groups):
    return _user(roles.MANAGER)


@pytest.fixture
def other_manager(role_groups):
    return UserFactory(username="second-manager", roles=[roles.MANAGER])


@pytest.fixture
def warehouse_user(role_groups):
    return _user(roles.WAREHOUSE)


@pytest.fixture
def cs_user(role_groups):
    return _user(roles.CUSTOMER_SERVICE)


@pytest.fixture
def finance_user(role_groups):
    return _user(roles.FINANCE)


@pytest.fixture
def integration_user(role_groups):
    return _user(roles.INTEGRATION)


def token_client(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def api(integration_user) -> APIClient:
    """An integration's API client, authenticated by token."""
    return token_client(integration_user)


@pytest.fixture(autouse=True)
def tasks_run_in_process(request, settings):
    """Tasks run eagerly, as in development without a broker, so no test leaves work on a
    shared Redis. Tests marked `redis` use the real broker and a real worker."""
    if request.node.get_closest_marker("redis") is None:
        settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture(autouse=True)
def empty_cache():
    """Cached reference data (rate tables) never leaks from one test into another."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def browser_page():
    """A page in real headless Chromium (Debian's /usr/bin/chromium via Playwright)."""
    from tests.browser import open_browser_page

    yield from open_browser_page()
