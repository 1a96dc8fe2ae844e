"""Ownership of exception-queue items: claim, assign, release; and each queue's SLA.

A claim is a row under a unique (queue, item) constraint. Claiming inserts and lets the
database arbitrate: of two people claiming the same item a second apart, one insert wins
and the other is told who holds it. No read-then-insert window exists to race through.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.timesince import timesince

from erp.errors import (
    Conflict,
    DomainError,
    FieldError,
    NotFound,
    NotPermitted,
    ValidationFailed,
)
from erp.input_bounds import ID_MAX, ID_MIN, change_reason_max_length
from erp.models import QueueClaim, QueueSla
from erp.models.queue_work import MAX_SLA_HOURS
from erp.queues import ExceptionQueue, get_queue
from erp.roles import require_permission

CLAIM = "erp.add_queueclaim"
ASSIGN = "erp.assign_queueclaim"
CHANGE_SLA = "erp.change_queuesla"
MAX_BULK_ROWS = 200


def person(user) -> str:
    return user.get_full_name() or user.get_username()


def _queue(queue_key: str) -> ExceptionQueue:
    queue = get_queue(queue_key)
    if queue is None:
        raise NotFound(f"No exception queue {queue_key!r}.", field="queue", code="unknown_queue")
    return queue


def _in_queue(queue: ExceptionQueue, object_id: int) -> None:
    if not ID_MIN <= object_id <= ID_MAX:
        raise NotFound(f"No item #{object_id} in {queue.name}.", field="item", code="not_in_queue")
    if not queue.selector().filter(pk=object_id).exists():
        # A claim left over from an earlier stay in the queue must not come back with it.
        QueueClaim.objects.filter(queue_key=queue.key, object_id=object_id).delete()
        raise NotFound(
            f"Item #{object_id} is no longer in {queue.name}.", field="item", code="not_in_queue"
        )


def _taken(claim: QueueClaim) -> Conflict:
    age = timesince(claim.claimed_at, timezone.now())
    return Conflict(
        f"{person(claim.owner)} already has this item (claimed {age} ago).",
        field="owner",
        code="already_claimed",
    )


def claim_item(*, queue_key: str, object_id: int, actor) -> QueueClaim:
    """Take an item of a queue for oneself. Claiming what one already holds is a no-op;
    claiming what someone else holds is refused with their name."""
    require_permission(actor, CLAIM, action="claim queue items")
    queue = _queue(queue_key)
    _in_queue(queue, object_id)
    try:
        with transaction.atomic():
            return QueueClaim.objects.create(
                queue_key=queue.key, object_id=object_id, owner=actor, claimed_at=timezone.now()
            )
    except IntegrityError:
        pass
    claim = (
        QueueClaim.objects.select_related("owner")
        .filter(queue_key=queue.key, object_id=object_id)
        .first()
    )
    if claim is None:  # released between our insert and this read: the item is free again
        raise Conflict("The item changed hands just now; try again.", code="conflict")
    if claim.owner_id == actor.pk:
        return claim
    raise _taken(claim)


@transaction.atomic
def assign_item(*, queue_key: str, object_id: int, assignee_id: int, actor) -> QueueClaim:
    """A manager gives an item to someone who may claim queue items (taking it from its
    current owner, if any)."""
    require_permission(actor, ASSIGN, action="assign queue items")
    queue = _queue(queue_key)
    assignee = get_user_model().objects.filter(pk=assignee_id, is_active=True).first()
    if assignee is None or not assignee.has_perm(CLAIM):
        raise ValidationFailed(
            "Assign to an active person whose role works queues.",
            field="assignee",
            code="invalid_assignee",
        )
    _in_queue(queue, object_id)
    claim, _ = QueueClaim.objects.update_or_create(
        queue_key=queue.key,
        object_id=object_id,
        defaults={"owner": assignee, "claimed_at": timezone.now(), "assigned_by": actor},
    )
    return claim


@transaction.atomic
def release_item(*, queue_key: str, object_id: int, actor) -> None:
    """Give an item back to the queue. Its owner may; anyone else needs to be able to
    assign (a manager)."""
    require_permission(actor, CLAIM, action="release queue items")
    queue = _queue(queue_key)
    claim = (
        QueueClaim.objects.select_for_update(of=("self",))
        .select_related("owner")
        .filter(queue_key=queue.key, object_id=object_id)
        .first()
    )
    if claim is None:
        raise Conflict("Nobody has claimed this item.", field="owner", code="not_claimed")
    if claim.owner_id != actor.pk and not actor.has_perm(ASSIGN):
        raise NotPermitted(
            f"{person(claim.owner)} has this item; only they or a manager can release it.",
            code="not_owner",
        )
    claim.delete()


def release_stale_claims() -> int:
    """Drop the claims of items that have left their queue (released, cancelled,
    resolved): ownership lasts as long as the item needs attention."""
    released = 0
    claimed: dict[str, list[int]] = {}
    for key, object_id in QueueClaim.objects.values_list("queue_key", "object_id"):
        claimed.setdefault(key, []).append(object_id)
    for key, ids in claimed.items():
        queue = get_queue(key)
        still = (
            set(queue.selector().filter(pk__in=ids).values_list("pk", flat=True))
            if queue
            else set()
        )
        gone = [object_id for object_id in ids if object_id not in still]
        if gone:
            released += QueueClaim.objects.filter(queue_key=key, object_id__in=gone).delete()[0]
    return released


@dataclass(frozen=True)
class RowOutcome:
    object_id: int
    ok: bool
    message: str


def run_on_rows(
    *,
    queue_key: str,
    action: str,
    object_ids: list[int],
    actor,
    note: str = "",
    assignee_id: int | None = None,
) -> list[RowOutcome]:
    """Run one row action on each selected row, each through the single-row service and
    in its own transaction: a row refused (moved on, claimed by someone else) is reported
    with its reason and does not undo the others."""
    queue = _queue(queue_key)
    ids = list(dict.fromkeys(object_ids))
    if not ids:
        raise ValidationFailed("Select at least one row.", field="ids", code="required")
    if len(ids) > MAX_BULK_ROWS:
        raise ValidationFailed(
            f"At most {MAX_BULK_ROWS} rows at once.", field="ids", code="too_many"
        )
    run = _bulk_runner(queue, action, note=note, assignee_id=assignee_id, actor=actor)
    outcomes = []
    for object_id in ids:
        try:
            run(object_id)
        except NotPermitted:
            raise
        except DomainError as error:
            outcomes.append(RowOutcome(object_id, False, error.message))
        else:
            outcomes.append(RowOutcome(object_id, True, ""))
    return outcomes


def _bulk_runner(queue: ExceptionQueue, action: str, *, note: str, assignee_id, actor):
    if action == "claim":
        return lambda object_id: claim_item(queue_key=queue.key, object_id=object_id, actor=actor)
    if action == "release":
        return lambda object_id: release_item(queue_key=queue.key, object_id=object_id, actor=actor)
    if action == "assign":
        if not assignee_id:
            raise ValidationFailed("Choose whom to assign to.", field="assignee", code="required")
        return lambda object_id: assign_item(
            queue_key=queue.key, object_id=object_id, assignee_id=assignee_id, actor=actor
        )
    row_action = queue.row_action(action)
    if row_action is None:
        raise ValidationFailed(
            f"{queue.name} has no action {action!r}.", field="action", code="unknown_action"
        )
    require_permission(actor, row_action.permission, action=row_action.label.lower())
    note = note.strip()
    if row_action.needs_note and not note:
        raise ValidationFailed(
            f"Say why ({row_action.label.lower()} needs a reason).", field="note", code="required"
        )
    return lambda object_id: row_action.run(object_id=object_id, actor=actor, note=note)


SLA_REASON_MAX = change_reason_max_length(QueueSla) or 100


@transaction.atomic
def set_queue_sla(*, queue_key: str, sla_hours, actor, reason: str) -> QueueSla:
    """A manager sets how long a queue's oldest item may wait before the queue is in
    breach; the change keeps who, when and why."""
    require_permission(actor, CHANGE_SLA, action="change queue SLAs")
    queue = _queue(queue_key)
    errors = []
    try:
        hours = int(sla_hours)
    except (TypeError, ValueError):
        hours = None
    if hours is None or not 1 <= hours <= MAX_SLA_HOURS:
        errors.append(
            ("sla_hours", f"The SLA is a whole number of hours from 1 to {MAX_SLA_HOURS}.")
        )
    reason = (reason or "").strip()
    if not reason:
        errors.append(("reason", "Say why the SLA changes."))
    elif len(reason) > SLA_REASON_MAX:
        errors.append(("reason", f"At most {SLA_REASON_MAX} characters."))
    if errors:
        raise ValidationFailed.from_errors(
            [FieldError(field, "invalid", message) for field, message in errors]
        )
    sla = QueueSla.objects.select_for_update().filter(queue_key=queue.key).first()
    sla = sla or QueueSla(queue_key=queue.key)
    sla.sla_hours = hours
    sla._history_user, sla._change_reason = actor, reason
    sla.save()
    return sla
