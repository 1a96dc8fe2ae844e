"""Property-based fuzzing of the whole API against its own OpenAPI schema (schemathesis).

Every operation of `/api/schema/` is called with generated input (valid and invalid), as
the integration role and as a user without any role, in-process through the WSGI app on
the test database seeded with the demo data. Each answer must not be a server error,
must use a documented status code and must match the documented body.

Bounded so that CI stays fast: a few examples per operation and mode, derandomized so
that the same inputs are generated on every run.
"""

import logging
import re
import time
import warnings
from contextlib import contextmanager

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.urls import resolve
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from erp import roles
from erp.api.throttling import IntegrationTokenThrottle
from erp.models import Channel, Sku
from returns.services.rmas import create_rma
from tests.factories import UserFactory
from tests.factories.returns import (
    ReturnPolicyFactory,
    ReturnReasonFactory,
    ShippedLine,
    shipped_order,
)

pytestmark = [pytest.mark.django_db]

EXAMPLES_PER_OPERATION = 5
# A bound for slow CI machines; on 2 cores a user's run takes about 80 s.
BUDGET_SECONDS_PER_USER = 240
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


@pytest.fixture
def wsgi_app(settings, monkeypatch):
    """The project's WSGI app, talking to the test transaction's connection, with the
    integration throttle raised for this run (views read the rate when the class loads)."""
    from django.core.wsgi import get_wsgi_application

    monkeypatch.setattr(IntegrationTokenThrottle, "THROTTLE_RATES", {"integration": "100000/min"})
    settings.ALLOWED_HOSTS = ["*"]
    # Django closes the connection after each request; inside the test's transaction it
    # must stay open (the test client does the same).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def seeded(db, capsys, role_groups):
    """The demo data (nodes, channels, SKUs, stock, orders, waves, shipments) and an RMA,
    which the demo does not seed, so return routes meet a real record too."""
    call_command("seed_demo", skus=20)
    capsys.readouterr()
    channel = Channel.objects.order_by("pk").first()
    sku = Sku.objects.order_by("pk").first()
    ReturnPolicyFactory(channel=channel)
    reason = ReturnReasonFactory(code="defective", our_fault=True)
    order = shipped_order(channel, [ShippedLine(sku, 2)])
    create_rma(
        order_id=order.pk,
        lines=[{"order_line_id": order.lines.get().pk, "quantity": 1, "reason": reason.code}],
        actor=UserFactory(username="fuzz-seeder", roles=[roles.CUSTOMER_SERVICE]),
    )


@contextmanager
def _rolled_back():
    """Each call sees the seeded data only, and a refused statement cannot poison the
    calls after it. The block stands in for the test's own transaction (rolled back like
    it), so the durable entry points run inside it as they run in a request."""
    block = transaction.atomic()
    block._from_testcase = True  # Django's mark for TestCase blocks: durability not checked
    with block:
        yield
        transaction.set_rollback(True)


def _token(user) -> str:
    return Token.objects.get_or_create(user=user)[0].key


def _existing_record(operation) -> dict | None:
    """Path parameters naming a seeded record, so that detail routes and their actions
    run on real data too (generated ids mostly name nothing)."""
    names = re.findall(r"{(\w+)}", operation.path)
    if len(names) != 1:
        return None
    view = resolve(operation.path.replace(f"{{{names[0]}}}", "1")).func
    if not hasattr(view, "actions"):  # channels/{code}/…: a channel's code
        return {names[0]: Channel.objects.order_by("pk").values_list("code", flat=True).first()}
    viewset = view.cls(action="retrieve", kwargs={}, request=None, format_kwarg=None)
    field = getattr(viewset, "lookup_field", "pk")
    value = viewset.get_queryset().order_by("pk").values_list(field, flat=True).first()
    return None if value is None else {names[0]: value}


def _fuzz(schema, token: str, *, deadline: float) -> tuple[list[str], int, int]:
    """(failures, calls made, operations left out because the time budget ran out)."""
    failures: list[str] = []
    calls = 0
    headers = {"Authorization": f"Token {token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    for done, operation in enumerate(operations):
        if time.monotonic() > deadline:
            return failures, calls, len(operations) - done
        record = _existing_record(operation)
        runs = [(GenerationMode.POSITIVE, None), (GenerationMode.NEGATIVE, None)]
        if record:
            runs.append((GenerationMode.POSITIVE, record))
        for mode, path_parameters in runs:

            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                derandomize=True,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
                phases=[Phase.explicit, Phase.generate],
            )
            @given(
                case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)
            )
            def run(case):
                nonlocal calls
                calls += 1
                with _rolled_back():
                    response = case.call(headers=headers)
                case.validate_response(response, checks=CHECKS, headers=headers)

            try:
                run()
            except Unsatisfiable:
                pass  # nothing in this operation can be made invalid (free-text path value)
            except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - reported below
                failures.append(f"{operation.label} [{mode.value}, {path_parameters}]: {error}")
    return failures, calls, 0


def test_no_input_makes_the_api_fail_or_answer_outside_its_schema(
    wsgi_app, seeded, role_groups, caplog
):
    """As the integration role (reads and writes) and as a user without any role (every
    answer a refusal, which must be documented too)."""
    caplog.set_level(logging.CRITICAL, logger="django.request")
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)
    users = {
        "integration": UserFactory(username="fuzz-integration", roles=[roles.INTEGRATION]),
        "no role": UserFactory(username="fuzz-no-role", roles=[]),
    }
    failures = []
    for name, user in users.items():
        started = time.monotonic()
        found, calls, left_out = _fuzz(
            schema, _token(user), deadline=started + BUDGET_SECONDS_PER_USER
        )
        failures += [f"as {name}: {failure}" for failure in found]
        print(f"fuzzed as {name}: {calls} calls in {time.monotonic() - started:.1f}s")
        if left_out:
            warnings.warn(
                f"fuzzing as {name} ran out of its {BUDGET_SECONDS_PER_USER}s budget; "
                f"{left_out} operations were left out",
                stacklevel=1,
            )

    assert not failures, "\n\n".join(failures)
