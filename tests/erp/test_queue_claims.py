"""Queue ownership: claiming, assigning and releasing queue items, the owner views of a
queue page, bulk actions through the single-row services, CSV export and queue SLAs."""

import csv
import io
import json
import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from erp.errors import Conflict, NotFound, NotPermitted, ValidationFailed
from erp.models import OutboxMessage, QueueClaim, QueueSla
from erp.queues import get_queue
from erp.services import queue_claims
from tests.conftest import token_client
from tests.factories import EndpointFactory, UserFactory

pytestmark = pytest.mark.django_db

QUEUE = "integration-failures"
HTMX = {"HTTP_HX_REQUEST": "true"}


def failed_message(**fields) -> OutboxMessage:
    defaults = {
        "topic": "availability.changed",
        "endpoint": EndpointFactory(),
        "payload": {"sku": "TEE-01"},
        "dedupe_key": f"claims:{OutboxMessage.objects.count()}",
        "state": OutboxMessage.State.FAILED,
        "attempts": 8,
        "last_error": "HTTP 503",
        "failed_at": timezone.now() - timedelta(hours=1),
    }
    return OutboxMessage.objects.create(**{**defaults, **fields})


@pytest.fixture
def second_cs(role_groups):
    return UserFactory(
        username="cs-two", first_name="Bea", last_name="Second", roles=["customer_service"]
    )


@pytest.fixture
def manager_b(role_groups):
    return UserFactory(username="mgr-b", first_name="Mia", last_name="Manager", roles=["manager"])


# --- services -----------------------------------------------------------------------------


def test_a_claimed_item_refuses_a_second_claimant_and_names_the_owner(manager, manager_b):
    message = failed_message()

    queue_claims.claim_item(queue_key=QUEUE, object_id=message.pk, actor=manager_b)
    with pytest.raises(Conflict) as refused:
        queue_claims.claim_item(queue_key=QUEUE, object_id=message.pk, actor=manager)

    assert "Mia Manager already has this item" in refused.value.message
    assert refused.value.errors[0].code == "already_claimed"
    assert list(QueueClaim.objects.values_list("owner__username", flat=True)) == ["mgr-b"]


def test_claiming_what_one_already_holds_changes_nothing(manager):
    message = failed_message()
    first = queue_claims.claim_item(queue_key=QUEUE, object_id=message.pk, actor=manager)

    again = queue_claims.claim_item(queue_key=QUEUE, object_id=message.pk, actor=manager)

    assert again.pk == first.pk and again.claimed_at == first.claimed_at
    assert QueueClaim.objects.count() == 1


def test_an_item_not_in_the_queue_cannot_be_claimed(manager):
    delivered = failed_message(state=OutboxMessage.State.DELIVERED)

    with pytest.raises(NotFound):
        queue_claims.claim_item(queue_key=QUEUE, object_id=delivered.pk, actor=manager)
    with pytest.raises(NotFound):
        queue_claims.claim_item(queue_key="no-such-queue", object_id=1, actor=manager)
    assert not QueueClaim.objects.exists()


def test_only_the_owner_or_a_manager_releases_a_claim(cs_user, second_cs, manager):
    order_queue = "orders-on-hold"
    from orders.models import HoldReason, OrderHold, OrderState
    from tests.factories import OrderFactory

    order = OrderFactory(state=OrderState.ON_HOLD)
    OrderHold.objects.create(order=order, reason=HoldReason.MANUAL, detail="check")
    queue_claims.claim_item(queue_key=order_queue, object_id=order.pk, actor=cs_user)

    with pytest.raises(NotPermitted):
        queue_claims.release_item(queue_key=order_queue, object_id=order.pk, actor=second_cs)
    assert QueueClaim.objects.filter(owner=cs_user).exists()

    queue_claims.release_item(queue_key=order_queue, object_id=order.pk, actor=manager)
    assert not QueueClaim.objects.exists()
    with pytest.raises(Conflict):
        queue_claims.release_item(queue_key=order_queue, object_id=order.pk, actor=manager)


def test_a_manager_assigns_an_item_and_others_may_not(
    manager, manager_b, cs_user, integration_user
):
    message = failed_message()
    queue_claims.claim_item(queue_key=QUEUE, object_id=message.pk, actor=manager)

    claim = queue_claims.assign_item(
        queue_key=QUEUE, object_id=message.pk, assignee_id=manager_b.pk, actor=manager
    )

    assert claim.owner == manager_b and claim.assigned_by == manager
    with pytest.raises(NotPermitted):
        queue_claims.assign_item(
            queue_key=QUEUE, object_id=message.pk, assignee_id=cs_user.pk, actor=cs_user
        )
    with pytest.raises(ValidationFailed) as refused:
        queue_claims.assign_item(
            queue_key=QUEUE, object_id=message.pk, assignee_id=integration_user.pk, actor=manager
        )
    assert refused.value.errors[0].field == "assignee"
    assert QueueClaim.objects.get().owner == manager_b


def test_claims_on_items_that_left_their_queue_are_dropped(manager):
    staying, leaving = failed_message(), failed_message()
    for message in (staying, leaving):
        queue_claims.claim_item(queue_key=QUEUE, object_id=message.pk, actor=manager)
    OutboxMessage.objects.filter(pk=leaving.pk).update(state=OutboxMessage.State.DISCARDED)

    assert queue_claims.release_stale_claims() == 1

    assert list(QueueClaim.objects.values_list("object_id", flat=True)) == [staying.pk]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_people_claiming_one_item_at_once_leave_exactly_one_owner(role_groups):
    message = failed_message()
    people = [UserFactory(username=f"racer-{n}", roles=["manager"]) for n in range(8)]
    won, refused, errors = [], [], []
    barrier = threading.Barrier(len(people))

    def run(user):
        try:
            barrier.wait()
            queue_claims.claim_item(queue_key=QUEUE, object_id=message.pk, actor=user)
            won.append(user.username)
        except Conflict as error:
            refused.append(error.message)
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(user,)) for user in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(won) == 1 and len(refused) == 7
    assert QueueClaim.objects.get().owner.username == won[0]
    assert all("already has this item" in text for text in refused)


def test_a_queue_sla_below_one_hour_or_without_a_reason_is_refused(manager):
    for hours, reason, field in [
        (-1, "tighter", "sla_hours"),
        (0, "x", "sla_hours"),
        ("ten", "x", "sla_hours"),
        (8, " ", "reason"),
    ]:
        with pytest.raises(ValidationFailed) as refused:
            queue_claims.set_queue_sla(
                queue_key=QUEUE, sla_hours=hours, actor=manager, reason=reason
            )
        assert refused.value.errors[0].field == field
    assert not QueueSla.objects.exists()


def test_a_queue_sla_override_changes_the_breach_and_keeps_history(manager, cs_user):
    failed_message(failed_at=timezone.now() - timedelta(hours=3))
    assert not get_queue(QUEUE).summary()["breached"]  # registered: 4 h

    queue_claims.set_queue_sla(queue_key=QUEUE, sla_hours=2, actor=manager, reason="partner SLA")

    summary = get_queue(QUEUE).summary()
    assert summary["breached"] and summary["sla_hours"] == 2
    entry = QueueSla.history.get()
    assert (entry.history_user, entry.history_change_reason) == (manager, "partner SLA")
    with pytest.raises(NotPermitted):
        queue_claims.set_queue_sla(queue_key=QUEUE, sla_hours=9, actor=cs_user, reason="mine")


# --- back office --------------------------------------------------------------------------


def test_claiming_over_htmx_answers_the_owner_cell_and_a_second_claim_is_told_who(
    client, manager, manager_b
):
    message = failed_message()
    url = reverse("exception-queue-claim", args=[QUEUE, message.pk])
    client.force_login(manager_b)
    response = client.post(url, **HTMX)
    assert response.content.decode().lstrip().startswith('<td class="owner-cell')
    assert "queuesChanged" in json.loads(response["HX-Trigger"])

    client.force_login(manager)
    response = client.post(url, **HTMX)

    content = response.content.decode()
    assert "Mia Manager already has this item" in content
    assert "HX-Trigger" not in response
    assert QueueClaim.objects.get().owner == manager_b


def test_the_queue_page_shows_mine_unassigned_and_everyone(client, manager, manager_b):
    mine, theirs, free = failed_message(), failed_message(), failed_message()
    queue_claims.claim_item(queue_key=QUEUE, object_id=mine.pk, actor=manager)
    queue_claims.claim_item(queue_key=QUEUE, object_id=theirs.pk, actor=manager_b)
    client.force_login(manager)
    url = reverse("exception-queue", args=[QUEUE])

    def shown(view):
        response = client.get(url, {"view": view})
        return [row.pk for row in response.context["page"].object_list], response

    assert shown("mine")[0] == [mine.pk]
    assert shown("unassigned")[0] == [free.pk]
    everyone, response = shown("everyone")
    assert everyone == [mine.pk, theirs.pk, free.pk]
    content = response.content.decode()
    assert "Mia Manager" in content and "You" in content and "Unassigned" in content
    assert "claimed" in content


def test_the_queue_page_runs_the_same_queries_with_claims_for_one_row_and_many(
    client, cs_user, django_assert_num_queries
):
    from orders.models import HoldReason, OrderHold, OrderState
    from tests.factories import OrderFactory

    def held():
        order = OrderFactory(state=OrderState.ON_HOLD)
        OrderHold.objects.create(order=order, reason=HoldReason.MANUAL, detail="x")
        queue_claims.claim_item(queue_key="orders-on-hold", object_id=order.pk, actor=cs_user)

    held()
    client.force_login(cs_user)
    url = reverse("exception-queue", args=["orders-on-hold"])
    client.get(url)
    # session, user, roles, SLA overrides, summary, count, page, open holds, claims+owners
    with django_assert_num_queries(9):
        client.get(url)
    for _ in range(12):
        held()
    with django_assert_num_queries(9):
        response = client.get(url, {"view": "mine"})
    assert len(response.context["page"].object_list) == 13


def test_bulk_retry_goes_through_the_retry_service_and_reports_each_row(client, manager):
    ready, gone = failed_message(), failed_message(state=OutboxMessage.State.DISCARDED)
    client.force_login(manager)

    response = client.post(
        reverse("exception-queue-bulk", args=[QUEUE]),
        {"action": "retry", "ids": [ready.pk, gone.pk]},
        follow=True,
    )

    content = response.content.decode()
    assert "Retry: 1 of 2 rows done." in content
    assert f"Retry refused for #{gone.pk}" in content
    ready.refresh_from_db()
    assert ready.state == OutboxMessage.State.PENDING and ready.resolved_by == manager


def test_bulk_discard_without_a_reason_is_refused_and_changes_nothing(client, manager):
    message = failed_message()
    client.force_login(manager)

    response = client.post(
        reverse("exception-queue-bulk", args=[QUEUE]),
        {"action": "discard", "ids": [message.pk], "note": ""},
        follow=True,
    )

    assert "needs a reason" in response.content.decode()
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.FAILED


def test_bulk_assign_and_release(client, manager, manager_b):
    first, second = failed_message(), failed_message()
    client.force_login(manager)
    url = reverse("exception-queue-bulk", args=[QUEUE])

    client.post(url, {"action": "assign", "assignee": manager_b.pk, "ids": [first.pk, second.pk]})
    assert set(QueueClaim.objects.values_list("owner__username", flat=True)) == {"mgr-b"}

    client.post(url, {"action": "release", "ids": [first.pk]})
    assert list(QueueClaim.objects.values_list("object_id", flat=True)) == [second.pk]


def test_a_warehouse_user_cannot_bulk_retry(client, warehouse_user):
    message = failed_message()
    client.force_login(warehouse_user)

    response = client.post(
        reverse("exception-queue-bulk", args=[QUEUE]), {"action": "retry", "ids": [message.pk]}
    )

    assert response.status_code == 403
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.FAILED


def test_the_csv_export_applies_the_page_filters_and_names_owners(client, manager):
    kept = failed_message(topic="tracking.uploaded")
    failed_message(topic="availability.changed")
    queue_claims.claim_item(queue_key=QUEUE, object_id=kept.pk, actor=manager)
    client.force_login(manager)

    response = client.get(reverse("exception-queue-export", args=[QUEUE]), {"q": "tracking"})

    assert response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0] == "ID" and rows[0][-2:] == ["Owner", "Claimed at"]
    assert len(rows) == 2
    assert rows[1][0] == str(kept.pk) and rows[1][-2] == manager.username
    book = client.get(
        reverse("exception-queue-export", args=[QUEUE]), {"q": "tracking", "export": "xlsx"}
    )
    sheet = load_workbook(io.BytesIO(b"".join(book.streaming_content))).active
    cells = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert len(cells) == 2 and cells[1][-2] == manager.username


def test_the_sla_page_refuses_minus_one_inline_and_saves_a_valid_change(client, manager):
    client.force_login(manager)
    url = reverse("exception-queue-sla", args=[QUEUE])

    refused = client.post(url, {"sla_hours": "-1", "reason": "faster"})
    assert refused.status_code == 400
    assert "whole number of hours from 1" in refused.content.decode()
    assert not QueueSla.objects.exists()

    client.post(url, {"sla_hours": "2", "reason": "partner SLA"})
    page = client.get(url).content.decode()
    assert "partner SLA" in page and "2 h" in page
    summary = client.get(reverse("exceptions")).context["summaries"]
    assert next(s for s in summary if s["queue"].key == QUEUE)["sla_hours"] == 2


def test_a_cs_user_sees_the_sla_but_cannot_change_it(client, cs_user):
    client.force_login(cs_user)
    url = reverse("exception-queue-sla", args=[QUEUE])

    assert client.get(url).status_code == 200
    assert client.post(url, {"sla_hours": "8", "reason": "x"}).status_code == 403
    assert not QueueSla.objects.exists()


# --- API ----------------------------------------------------------------------------------


def test_the_api_claims_assigns_and_releases(manager, manager_b):
    message = failed_message()
    api_b, api_a = token_client(manager_b), token_client(manager)
    base = f"/api/v1/queues/{QUEUE}/items/{message.pk}"

    claimed = api_b.post(f"{base}/claim/")
    assert claimed.status_code == 200 and claimed.json()["owner"] == "mgr-b"

    taken = api_a.post(f"{base}/claim/")
    assert taken.status_code == 409
    assert "Mia Manager already has this item" in json.dumps(taken.json())

    assigned = api_a.post(f"{base}/assign/", {"assignee": manager.pk}, format="json")
    assert assigned.json()["owner"] == manager.username
    assert api_a.post(f"{base}/assign/", {"assignee": -4}, format="json").status_code == 400

    assert api_a.post(f"{base}/release/").status_code == 204
    assert not QueueClaim.objects.exists()
    assert (
        api_a.post(f"/api/v1/queues/{QUEUE}/items/99999999999999999999/claim/").status_code == 404
    )
